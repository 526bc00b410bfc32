package imds

import (
	"context"
	"testing"
	"time"

	"github.com/soundhub/swap-bootstrap/internal/imds/imdstest"
)

// These tests ask the real emulator, amazon-ec2-metadata-mock, which speaks
// IMDSv1 and IMDSv2 the way the service does.

func TestFetchFromEmulator(t *testing.T) {
	imdstest.Binary(t) // skip (or fail on CI) before spawning subtests
	cases := []struct {
		name, instanceType, arch string
	}{
		{"t3.micro, x86_64", "t3.micro", "x86_64"},
		{"t4g.small, Graviton", "t4g.small", "arm64"},
		{"r5.24xlarge, large", "r5.24xlarge", "x86_64"},
		{"zz9.mega, a type no table knows", "zz9.mega", "x86_64"},
	}
	modes := []struct {
		name       string
		v2Only     bool
		v1Disabled string
	}{
		{"IMDSv1 and v2", false, ""},
		{"IMDSv2 only", true, ""},
		{"IMDSv2 only, AWS_EC2_METADATA_V1_DISABLED", true, "true"},
	}
	for _, m := range modes {
		for _, tc := range cases {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				endpoint := imdstest.StartEmulator(t, imdstest.EmulatorConfig{InstanceType: tc.instanceType, IMDSv2Only: m.v2Only})
				env := map[string]string{envEndpoint: endpoint}
				if m.v1Disabled != "" {
					env[envV1Disabled] = m.v1Disabled
				}
				log := &logBuffer{}
				f, err := Fetch(context.Background(), Options{
					Timeout: 2 * time.Second, LookupEnv: lookupMap(env), SysRoot: t.TempDir(), Logger: log.logger(),
				})
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				want := Facts{
					InstanceType: tc.instanceType, InstanceID: imdstest.InstanceID, Region: imdstest.Region,
					AvailabilityZone: imdstest.AvailabilityZone, Architecture: tc.arch, Endpoint: endpoint,
				}
				assertFacts(t, f, want)
				if f.Hibernation != "false" { // the emulator has no hibernation item: 404
					t.Errorf("Hibernation = %q, want false", f.Hibernation)
				}
				if f.Elapsed <= 0 || f.Elapsed > 2*time.Second {
					t.Errorf("Elapsed = %v, want within the 2s budget", f.Elapsed)
				}
				// One token, the identity document and the hibernation item:
				// nothing more.
				if got := log.attr("requests"); got != "3" {
					t.Errorf("requests = %s, want 3 (token, identity document, hibernation)\n%s", got, log)
				}
			})
		}
	}
}

func TestFetchTagsFromEmulator(t *testing.T) {
	imdstest.Binary(t)
	cases := []struct {
		name     string
		tags     map[string]string
		readTags bool
		want     map[string]string
	}{
		{"size tag, tags asked", map[string]string{"swap-bootstrap:size": "3G"}, true,
			map[string]string{"swap-bootstrap:size": "3G"}},
		{"size tag, tags not asked", map[string]string{"swap-bootstrap:size": "3G"}, false, nil},
		{"two tags, only ours returned", map[string]string{"swap-bootstrap:policy": "off", "team": "audio"}, true,
			map[string]string{"swap-bootstrap:policy": "off"}},
		{"no swap-bootstrap tag", nil, true, map[string]string{}},
	}
	for _, v2 := range []bool{false, true} {
		for _, tc := range cases {
			name := tc.name
			if v2 {
				name = "IMDSv2 only/" + name
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				endpoint := imdstest.StartEmulator(t, imdstest.EmulatorConfig{InstanceType: "m5.large", IMDSv2Only: v2, Tags: tc.tags})
				log := &logBuffer{}
				f, err := Fetch(context.Background(), Options{
					Timeout: 2 * time.Second, Tags: tc.readTags, LookupEnv: lookupMap(map[string]string{envEndpoint: endpoint}),
					SysRoot: t.TempDir(), Logger: log.logger(),
				})
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				if f.InstanceType != "m5.large" {
					t.Errorf("InstanceType = %q, want m5.large", f.InstanceType)
				}
				assertTags(t, f.Tags, tc.want)
				if log.has("WARN") {
					t.Errorf("unexpected warning:\n%s", log)
				}
			})
		}
	}
}
