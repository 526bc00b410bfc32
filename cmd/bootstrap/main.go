// Command swap-bootstrap sizes, creates and enables a swapfile at EC2 boot,
// before Docker starts. It only parses the command line, wires the real
// implementations from internal/, prints and exits; run `swap-bootstrap help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/soundhub/swap-bootstrap/internal/bootstrap"
	"github.com/soundhub/swap-bootstrap/internal/config"
	"github.com/soundhub/swap-bootstrap/internal/install"
	"github.com/soundhub/swap-bootstrap/internal/sizing"
	"github.com/soundhub/swap-bootstrap/internal/swap"
)

// version is stamped by scripts/build.sh (-X main.version=…).
var version = "dev"

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitConfig  = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "apply"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("swap-bootstrap "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	jsonOut := fs.Bool("json", false, "print JSON (plan, status)")
	root := fs.String("root", "/", "install into this root directory (install, uninstall)")
	now := fs.Bool("now", false, "also run apply now (install)")
	keepSwap := fs.Bool("keep-swap", false, "leave the swapfile in place (uninstall)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "swap-bootstrap: unexpected argument %q; run `swap-bootstrap help`\n", fs.Arg(0))
		return exitConfig
	}
	switch cmd {
	case "help", "-h", "--help":
		usage(stdout)
		return exitOK
	case "version":
		fmt.Fprintf(stdout, "swap-bootstrap %s (%d instance types)\n", version, sizing.TableSize())
		return exitOK
	case "apply", "plan", "status", "remove", "install", "uninstall":
	default:
		fmt.Fprintf(stderr, "swap-bootstrap: unknown command %q; run `swap-bootstrap help`\n", cmd)
		return exitConfig
	}

	c, err := config.Load()
	log := logger(stderr, c.LogFormat)
	if err != nil {
		fmt.Fprintf(stderr, "swap-bootstrap: bad configuration, nothing was changed:\n%s\n", indent(err.Error()))
		return exitConfig
	}
	for _, name := range c.Unknown {
		log.Warn("ignoring unknown variable; run `swap-bootstrap help` for the list", "variable", name)
	}
	deps := bootstrap.Deps{Log: log}

	var r bootstrap.Report
	switch cmd {
	case "plan":
		r, err = bootstrap.Plan(ctx, c, deps)
	case "status":
		r, err = bootstrap.Status(ctx, c, deps)
	case "apply":
		r, err = bootstrap.Apply(ctx, c, deps)
	case "remove":
		r, err = bootstrap.Remove(ctx, c, deps)
	case "install":
		return doInstall(ctx, c, deps, *root, *now, stderr)
	case "uninstall":
		return doUninstall(ctx, c, deps, *root, *keepSwap, stderr)
	}
	if cmd == "plan" || cmd == "status" {
		if *jsonOut {
			r.WriteJSON(stdout)
		} else if err == nil || r.Plan != nil || r.Command == "status" {
			r.WriteText(stdout)
		}
	}
	return fail(err, stderr)
}

func doInstall(ctx context.Context, c config.Config, deps bootstrap.Deps, root string, now bool, stderr io.Writer) int {
	self, err := os.Executable()
	if err != nil {
		return fail(err, stderr)
	}
	if _, err := install.Install(install.Options{Root: root, Binary: self, Env: os.Environ(), Logger: deps.Log}); err != nil {
		return fail(err, stderr)
	}
	if !now {
		return exitOK
	}
	if systemdRunning(root) {
		if out, err := exec.CommandContext(ctx, "systemctl", "daemon-reload").CombinedOutput(); err != nil {
			deps.Log.Warn("systemctl daemon-reload failed; the unit is enabled and runs at next boot", "error", err.Error(), "output", string(out))
		}
	}
	_, err = bootstrap.Apply(ctx, c, deps)
	return fail(err, stderr)
}

func doUninstall(ctx context.Context, c config.Config, deps bootstrap.Deps, root string, keepSwap bool, stderr io.Writer) int {
	if !keepSwap {
		if _, err := bootstrap.Remove(ctx, c, deps); err != nil {
			return fail(err, stderr)
		}
	}
	if _, err := install.Uninstall(install.Options{Root: root, Logger: deps.Log}); err != nil {
		return fail(err, stderr)
	}
	if systemdRunning(root) {
		exec.CommandContext(ctx, "systemctl", "daemon-reload").Run()
	}
	return exitOK
}

func systemdRunning(root string) bool {
	if root != "/" && root != "" {
		return false
	}
	_, err := os.Stat("/run/systemd/system")
	return err == nil
}

// fail prints err and maps it to an exit code: 2 for configuration that
// cannot work (nothing was touched), 1 for everything else.
func fail(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "swap-bootstrap: %v\n", err)
	var cfg *config.Error
	var refusal *swap.RefusalError
	if errors.As(err, &cfg) || errors.As(err, &refusal) {
		return exitConfig
	}
	return exitFailure
}

func logger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func indent(s string) string {
	out := "  "
	for _, r := range s {
		out += string(r)
		if r == '\n' {
			out += "  "
		}
	}
	return out
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `swap-bootstrap %s: size, create and enable a swapfile at boot, before Docker.

Usage: swap-bootstrap [command] [flags]

Commands:
  apply      make the machine match the configuration (default)
  plan       show what apply would do and why; changes nothing, needs no root   [--json]
  status     swap areas, the managed file, swappiness, instance facts           [--json]
  remove     turn the managed swapfile off, delete it, drop its fstab entry
  install    copy this binary to %s and enable a boot unit that runs apply
             before Docker on every boot   [--root DIR] [--now]
  uninstall  reverse install (and remove the swapfile unless --keep-swap)   [--root DIR]
  version    print the version
  help       this text

Exit codes: 0 done or nothing to do, 1 runtime failure, 2 bad configuration or usage.

Configuration (environment variables):
`, version, install.BinaryPath)
	for _, v := range config.Vars() {
		def := v.Default
		if def == "" {
			def = "(unset)"
		}
		fmt.Fprintf(w, "  %-20s %-38s %s\n", v.Name, def, v.Desc)
	}
	fmt.Fprintf(w, `
Sizes: a bare number is MiB; K M G T and KiB MiB GiB TiB are powers of 1024,
KB MB GB TB powers of 1000; decimals allowed (1.5G).
Metadata service: AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE,
AWS_EC2_METADATA_DISABLED and AWS_EC2_METADATA_V1_DISABLED are honoured.
`)
}
