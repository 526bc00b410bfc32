package imds

import (
	"fmt"
	"net/url"
	"strings"

	sdkimds "github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// The AWS SDK's variables for the metadata client. imds.New reads only the
// first two itself, from the process environment; Fetch reads all four
// through Options.LookupEnv and hands the SDK explicit values instead.
const (
	envEndpoint     = "AWS_EC2_METADATA_SERVICE_ENDPOINT"
	envDisabled     = "AWS_EC2_METADATA_DISABLED"
	envV1Disabled   = "AWS_EC2_METADATA_V1_DISABLED"
	envEndpointMode = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"
)

// metadataEnv is what the AWS_EC2_METADATA_* variables ask for.
type metadataEnv struct {
	endpoint   string // "" = the default endpoint of mode
	disabled   bool
	v1Disabled bool
	mode       sdkimds.EndpointModeState
}

// readEnv reads the variables the way the AWS SDKs do (true/false in any
// case; IPv4/IPv6 in any case) and names the variable at fault otherwise.
func readEnv(lookup func(string) (string, bool)) (metadataEnv, error) {
	var e metadataEnv
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }

	// The SDK's own check: only "true" disables, anything else leaves the
	// client enabled.
	e.disabled = strings.EqualFold(get(envDisabled), "true")

	switch v := get(envV1Disabled); {
	case v == "", strings.EqualFold(v, "false"):
	case strings.EqualFold(v, "true"):
		e.v1Disabled = true
	default:
		return e, fmt.Errorf("%s=%q: not true or false", envV1Disabled, v)
	}

	switch v := get(envEndpointMode); {
	case v == "", strings.EqualFold(v, "IPv4"):
		e.mode = sdkimds.EndpointModeStateIPv4
	case strings.EqualFold(v, "IPv6"):
		e.mode = sdkimds.EndpointModeStateIPv6
	default:
		return e, fmt.Errorf("%s=%q: not IPv4 or IPv6", envEndpointMode, v)
	}

	if v := get(envEndpoint); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return e, fmt.Errorf("%s=%q: not an http:// URL; unset it or use e.g. http://127.0.0.1:1338", envEndpoint, v)
		}
		e.endpoint = strings.TrimSuffix(v, "/")
	}
	return e, nil
}
