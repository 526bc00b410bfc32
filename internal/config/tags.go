package config

import (
	"fmt"

	"github.com/soundhub/swap-bootstrap/internal/sizing"
)

// The instance tags that may override variables (SWAP_TAGS=true).
const (
	TagPolicy = "swap-bootstrap:policy"
	TagSize   = "swap-bootstrap:size"
	TagRatio  = "swap-bootstrap:ratio"
	TagMax    = "swap-bootstrap:max"
)

// TagNames lists the tags read from the metadata service.
var TagNames = []string{TagPolicy, TagSize, TagRatio, TagMax}

// ApplyTags lets instance tags override the matching variables and records
// the source. An invalid value is returned as a warning naming the tag and
// ignored, so the instance still gets swap from its other settings.
func (c *Config) ApplyTags(tags map[string]string) (warnings []string) {
	invalid := func(tag, val string, err error) {
		warnings = append(warnings, fmt.Sprintf("instance tag %s=%q ignored: %v", tag, val, err))
	}
	var policy sizing.Policy
	if v, ok := tags[TagPolicy]; ok {
		p, err := sizing.ParsePolicy(v)
		switch {
		case err != nil:
			invalid(TagPolicy, v, err)
		case p == sizing.PolicyFixed && c.Size == 0 && tags[TagSize] == "":
			invalid(TagPolicy, v, fmt.Errorf("the fixed policy needs a size; add the tag %s or set SWAP_SIZE", TagSize))
		default:
			policy = p
		}
	}
	if v, ok := tags[TagSize]; ok {
		b, err := sizing.ParseSize(v)
		switch {
		case err != nil:
			invalid(TagSize, v, err)
		case b == 0:
			invalid(TagSize, v, fmt.Errorf("must be more than 0; for no swap tag %s=off", TagPolicy))
		case policy != "" && policy != sizing.PolicyFixed:
			invalid(TagSize, v, fmt.Errorf("conflicts with tag %s=%s, which wins", TagPolicy, policy))
		default:
			c.Size, c.Policy = b, sizing.PolicyFixed
			c.Sources["size"], c.Sources["policy"] = "tag "+TagSize, "tag "+TagSize
		}
	}
	if policy != "" {
		c.Policy = policy
		c.Sources["policy"] = "tag " + TagPolicy
	}
	if v, ok := tags[TagRatio]; ok {
		if r, err := ParseRatio(v); err != nil {
			invalid(TagRatio, v, err)
		} else {
			c.Ratio = r
			c.Sources["ratio"] = "tag " + TagRatio
		}
	}
	if v, ok := tags[TagMax]; ok {
		b, err := sizing.ParseSize(v)
		switch {
		case err != nil:
			invalid(TagMax, v, err)
		case b == 0:
			invalid(TagMax, v, fmt.Errorf("must be more than 0"))
		case c.Min > b:
			invalid(TagMax, v, fmt.Errorf("below SWAP_MIN %s", sizing.FormatSize(c.Min)))
		default:
			c.Max = b
			c.Sources["max"] = "tag " + TagMax
		}
	}
	return warnings
}
