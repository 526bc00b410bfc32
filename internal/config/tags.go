package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"

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

// WithTags returns c with the instance tags applied over the matching
// variables, each recording its source, parsed by the same parsers as the
// variables. An invalid tag is returned as a problem naming the tag and is
// ignored, so the instance still gets swap from its other settings. c itself
// is not changed.
func WithTags(c Config, tags map[string]string) (Config, []string) {
	c.Sources = maps.Clone(c.Sources)
	c.Notes = slices.Clone(c.Notes)
	if c.Sources == nil {
		c.Sources = map[string]string{}
	}
	var problems []string
	invalid := func(tag, val string, err error) {
		problems = append(problems, fmt.Sprintf("instance tag %s=%q ignored: %v", tag, val, err))
	}
	value := func(tag string) (string, bool) {
		v, ok := tags[tag]
		return strings.TrimSpace(v), ok
	}

	var policy sizing.Policy
	if v, ok := value(TagPolicy); ok {
		p, err := sizing.ParsePolicy(v)
		switch {
		case err != nil:
			invalid(TagPolicy, tags[TagPolicy], err)
		case p == sizing.PolicyFixed && c.Size == 0 && tags[TagSize] == "":
			invalid(TagPolicy, tags[TagPolicy], fmt.Errorf("the fixed policy needs a size; add the tag %s or set SWAP_SIZE", TagSize))
		default:
			policy = p
		}
	}
	if v, ok := value(TagSize); ok {
		b, err := parseSwapSize(v, c.PageSize, "tag "+TagPolicy+"=off")
		switch {
		case err != nil:
			invalid(TagSize, tags[TagSize], err)
		case policy != "" && policy != sizing.PolicyFixed:
			invalid(TagSize, tags[TagSize], fmt.Errorf("conflicts with tag %s=%s, which wins", TagPolicy, policy))
		default:
			if n := decimalNote("instance tag "+TagSize, v); n != "" {
				c.Notes = append(c.Notes, n)
			}
			c.Size, c.Policy = b, sizing.PolicyFixed
			c.Sources["size"], c.Sources["policy"] = "tag "+TagSize, "tag "+TagSize
		}
	}
	if policy != "" {
		c.Policy = policy
		c.Sources["policy"] = "tag " + TagPolicy
	}
	if v, ok := value(TagRatio); ok {
		if r, err := ParseRatio(v); err != nil {
			invalid(TagRatio, tags[TagRatio], err)
		} else {
			c.Ratio = r
			c.Sources["ratio"] = "tag " + TagRatio
		}
	}
	if v, ok := value(TagMax); ok {
		b, err := parseCap(v, c.PageSize)
		switch {
		case err != nil:
			invalid(TagMax, tags[TagMax], err)
		case c.Min > b:
			invalid(TagMax, tags[TagMax], fmt.Errorf("below SWAP_MIN %s", sizing.FormatSize(c.Min)))
		default:
			if n := decimalNote("instance tag "+TagMax, v); n != "" {
				c.Notes = append(c.Notes, n)
			}
			c.Max = b
			c.Sources["max"] = "tag " + TagMax
		}
	}
	return c, problems
}
