// Package imds reads the facts swap-bootstrap needs from the EC2 instance
// metadata service (IMDSv2 first): the instance type, which sizes the
// swapfile, its identity (id, region, availability zone, architecture) for the
// report, and optionally the swap-bootstrap:* instance tags.
//
// It is the only package that talks HTTP. Every call is bounded: off EC2 it
// does not wait at all, and on EC2 the whole metadata phase, retries included,
// ends within Options.Timeout with either the facts or an *Unavailable error
// that says why in one line.
package imds

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	sdkimds "github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// DefaultTimeout bounds the metadata phase when Options.Timeout is not set.
const DefaultTimeout = 3 * time.Second

// TagPrefix starts the instance tags Fetch reads when Options.Tags is set.
const TagPrefix = "swap-bootstrap:"

// Options says where and how long to ask.
type Options struct {
	// Timeout bounds the whole metadata phase, retries included
	// (SWAP_IMDS_TIMEOUT); zero means DefaultTimeout.
	Timeout time.Duration
	// Tags also reads the swap-bootstrap:* instance tags (SWAP_TAGS=true).
	Tags bool
	// LookupEnv reads the AWS_EC2_METADATA_* variables; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// SysRoot is where /sys is read to recognise an EC2 machine; "" means "/".
	SysRoot string
	// Logger receives debug lines and warnings; nil discards them.
	Logger *slog.Logger
}

// Facts is what the metadata service said about this instance.
type Facts struct {
	InstanceType, InstanceID, Region, AvailabilityZone, Architecture string
	// Tags holds the swap-bootstrap:* instance tags that exist, keyed by the
	// full tag name (e.g. "swap-bootstrap:size"), with their raw values. Nil
	// when tags were not asked for.
	Tags map[string]string
	// TagsError says why some or all tags could not be read (the service
	// was slow or failed): the tags are then unknown, not absent. "" when
	// every tag was read, or the instance exposes no tags (404).
	TagsError string
	// Hibernation is "true" when the instance was launched with hibernation
	// configured (meta-data/hibernation/configured), "false" when it was
	// not (or the item does not exist: 404), "" when the answer did not come.
	Hibernation string
	// Elapsed is how long the metadata phase took, set on error too.
	Elapsed time.Duration
	// Endpoint is the metadata service asked; "" when it was not asked.
	Endpoint string
}

// Unavailable is returned when the instance type could not be read.
type Unavailable struct {
	// Reason is a one-line explanation for the operator, e.g.
	// "no answer from http://127.0.0.1:1234 within 3s".
	Reason string
	// Skipped is true when the metadata service was never asked (not on
	// EC2, disabled, or misconfigured).
	Skipped bool
	// Err is the underlying error, if any.
	Err error
}

func (u *Unavailable) Error() string { return u.Reason }

func (u *Unavailable) Unwrap() error { return u.Err }

// Fetch reads the instance facts from the metadata service within o.Timeout.
// When the type cannot be read it returns an *Unavailable error. Facts.Elapsed
// (and Facts.Endpoint, when the service was asked) are set either way. Tag
// problems never make Fetch fail: they are logged as warnings.
func Fetch(ctx context.Context, o Options) (Facts, error) {
	start := time.Now()
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lookup := o.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}

	var f Facts
	fail := func(u *Unavailable) (Facts, error) {
		f.Elapsed = time.Since(start)
		log.Debug("instance metadata not read", "reason", u.Reason, "skipped", u.Skipped,
			"endpoint", f.Endpoint, "elapsed_ms", ms(f.Elapsed))
		return f, u
	}

	env, err := readEnv(lookup)
	if err != nil {
		return fail(&Unavailable{Reason: err.Error() + "; metadata service not asked", Skipped: true, Err: err})
	}
	if env.disabled {
		return fail(&Unavailable{Reason: envDisabled + "=true", Skipped: true})
	}
	endpoint := env.endpoint
	if endpoint == "" {
		sig, ok := ec2Signature(o.SysRoot)
		if !ok {
			return fail(&Unavailable{
				Reason:  "not on EC2 (no EC2 DMI/hypervisor signature and no " + envEndpoint + "); metadata service not asked",
				Skipped: true,
			})
		}
		log.Debug("EC2 machine recognised", "signature", sig)
		endpoint = defaultEndpoint(env.mode)
	}
	f.Endpoint = endpoint

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := newClient(endpoint, env, perAttemptTimeout(timeout), log)
	defer c.close()
	log.Debug("asking the instance metadata service", "endpoint", endpoint, "timeout_ms", ms(timeout),
		"imdsv1_fallback", !env.v1Disabled)

	source, err := c.readIdentity(ctx, &f)
	if err != nil {
		u := &Unavailable{Reason: c.explain(ctx, err, timeout, env), Err: err}
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			u.Err = errors.Join(err, cerr)
		}
		return fail(u)
	}
	f.Hibernation = c.readHibernation(ctx)
	if o.Tags {
		f.Tags, f.TagsError = c.readTags(ctx, log)
	}
	f.Elapsed = time.Since(start)
	log.Debug("instance metadata read", "instance_type", f.InstanceType, "source", source,
		"instance_id", f.InstanceID, "region", f.Region, "availability_zone", f.AvailabilityZone,
		"architecture", f.Architecture, "tags", len(f.Tags), "endpoint", endpoint,
		"requests", c.trace.requestCount(), "elapsed_ms", ms(f.Elapsed))
	return f, nil
}

// perAttemptTimeout is how long one HTTP request may take: a third of the
// budget so that a stalled first attempt still leaves room for a retry, and
// at most a second because a healthy metadata service answers in
// milliseconds.
func perAttemptTimeout(budget time.Duration) time.Duration {
	return min(max(budget/3, 100*time.Millisecond), time.Second).Truncate(10 * time.Millisecond)
}

func defaultEndpoint(mode sdkimds.EndpointModeState) string {
	if mode == sdkimds.EndpointModeStateIPv6 {
		return "http://[fd00:ec2::254]"
	}
	return "http://169.254.169.254"
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
