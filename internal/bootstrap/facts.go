package bootstrap

import (
	"context"
	"log/slog"
	"time"

	"github.com/soundhub/swap-bootstrap/internal/config"
	"github.com/soundhub/swap-bootstrap/internal/imds"
)

// Facts is what the run learned about the instance before deciding.
type Facts struct {
	InstanceType     string `json:"instance_type,omitempty"`
	TypeSource       string `json:"instance_type_source,omitempty"` // SWAP_INSTANCE_TYPE or "metadata service"
	InstanceID       string `json:"instance_id,omitempty"`
	Region           string `json:"region,omitempty"`
	AvailabilityZone string `json:"availability_zone,omitempty"`
	Architecture     string `json:"architecture,omitempty"`
	// MetadataMS is how long the metadata phase took.
	MetadataMS float64 `json:"metadata_ms"`
	// MetadataNote says what the metadata phase did: "asked http://…",
	// "not asked: SWAP_IMDS=off", or why it failed.
	MetadataNote string `json:"metadata_note,omitempty"`
	// MetadataFailed is set when the service was asked and gave no instance
	// type (down, slow, refused): the reason, for the warning.
	MetadataFailed string `json:"-"`
	// Hibernation is the metadata service's hibernation/configured: "true",
	// "false", or "" when it was not asked or did not answer.
	Hibernation string `json:"hibernation_configured,omitempty"`
	// TagsFailed is set when SWAP_TAGS=true and the tags could not be read:
	// they are unknown, not absent. Why, for the warning.
	TagsFailed string `json:"-"`
	// InvalidTags are swap-bootstrap:* tags that were ignored, and why.
	InvalidTags []string `json:"-"`
}

// Fetcher reads the instance facts from the metadata service (imds.Fetch).
type Fetcher func(context.Context, imds.Options) (imds.Facts, error)

// Gather learns the instance type, from SWAP_INSTANCE_TYPE or the metadata
// service (per SWAP_IMDS), and, with SWAP_TAGS=true, merges the instance tags
// into the configuration. It returns the final configuration; c is not
// changed. Every failure is a fact, never an error: what it means is the
// decision's business.
func Gather(ctx context.Context, c config.Config, fetch Fetcher, log *slog.Logger) (config.Config, Facts) {
	var f Facts
	if c.InstanceType != "" {
		f.InstanceType, f.TypeSource = c.InstanceType, "SWAP_INSTANCE_TYPE"
		if !c.Tags {
			f.MetadataNote = "not asked: SWAP_INSTANCE_TYPE is set"
			return c, f
		}
	}
	if c.IMDS == "off" {
		f.MetadataNote = "not asked: SWAP_IMDS=off"
		return c, f
	}
	ctx, cancel := context.WithTimeout(ctx, c.IMDSTimeout)
	defer cancel()
	m, err := fetch(ctx, imds.Options{Timeout: c.IMDSTimeout, Tags: c.Tags, Logger: log})
	f.MetadataMS = ms(m.Elapsed)
	if err != nil {
		f.MetadataNote, f.MetadataFailed = err.Error(), err.Error()
		return c, f
	}
	if f.InstanceType == "" {
		f.InstanceType, f.TypeSource = m.InstanceType, "metadata service"
	}
	f.InstanceID, f.Region, f.AvailabilityZone, f.Architecture = m.InstanceID, m.Region, m.AvailabilityZone, m.Architecture
	f.Hibernation = m.Hibernation
	f.MetadataNote = "asked " + m.Endpoint
	log.Info("instance facts from the metadata service", "instance_type", m.InstanceType, "instance_id", m.InstanceID,
		"region", m.Region, "availability_zone", m.AvailabilityZone, "elapsed_ms", f.MetadataMS)
	if c.Tags {
		c, f.InvalidTags = config.WithTags(c, m.Tags)
		f.TagsFailed = m.TagsError
	}
	return c, f
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
