// Package configtest gives tests a process environment that holds exactly
// the SWAP_* variables they set, whatever the developer running them has
// exported.
package configtest

import (
	"os"
	"strings"
	"testing"
)

// Env clears every SWAP_* and AWS_EC2_METADATA_* variable for the test and
// sets kv ("NAME=value"). The old environment comes back when the test ends.
// Like t.Setenv, it cannot be used in parallel tests.
func Env(t testing.TB, kv ...string) {
	t.Helper()
	for _, e := range os.Environ() {
		name, _, _ := strings.Cut(e, "=")
		if strings.HasPrefix(name, "SWAP_") || strings.HasPrefix(name, "AWS_EC2_METADATA_") {
			t.Setenv(name, "") // registers the restore
			os.Unsetenv(name)
		}
	}
	for _, p := range kv {
		name, value, ok := strings.Cut(p, "=")
		if !ok {
			t.Fatalf("configtest.Env: %q is not NAME=value", p)
		}
		t.Setenv(name, value)
	}
}
