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
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/soundhub/swap-bootstrap/internal/bootstrap"
	"github.com/soundhub/swap-bootstrap/internal/config"
	"github.com/soundhub/swap-bootstrap/internal/imds"
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

// options are the flags of all subcommands; each subcommand's flag set
// defines only its own.
type options struct {
	json, now, keepSwap bool
	root                string
}

// commands maps each subcommand to the flags it takes.
var commands = map[string]func(fs *flag.FlagSet, o *options){
	"apply":  func(*flag.FlagSet, *options) {},
	"plan":   func(fs *flag.FlagSet, o *options) { fs.BoolVar(&o.json, "json", false, "print JSON") },
	"status": func(fs *flag.FlagSet, o *options) { fs.BoolVar(&o.json, "json", false, "print JSON") },
	"remove": func(*flag.FlagSet, *options) {},
	"install": func(fs *flag.FlagSet, o *options) {
		fs.StringVar(&o.root, "root", "/", "install into this root directory")
		fs.BoolVar(&o.now, "now", false, "also run apply now")
	},
	"uninstall": func(fs *flag.FlagSet, o *options) {
		fs.StringVar(&o.root, "root", "/", "uninstall from this root directory")
		fs.BoolVar(&o.keepSwap, "keep-swap", false, "leave the swapfile in place")
	},
	"version": func(*flag.FlagSet, *options) {},
	"help":    func(*flag.FlagSet, *options) {},
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "apply"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	if cmd == "-h" || cmd == "--help" {
		cmd = "help"
	}
	define, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(stderr, "swap-bootstrap: unknown command %q; run `swap-bootstrap help`\n", cmd)
		return exitConfig
	}
	var o options
	fs := flag.NewFlagSet("swap-bootstrap "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	define(fs, &o)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitConfig // the flag package has printed what is wrong
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "swap-bootstrap %s: unexpected argument %q; run `swap-bootstrap help`\n", cmd, fs.Arg(0))
		return exitConfig
	}
	if o.now && otherRoot(o.root) {
		fmt.Fprintf(stderr, "swap-bootstrap install: --now applies to the running machine, --root %s installs into another system; "+
			"drop --now (the unit applies at that system's next boot) or run apply on that system\n", o.root)
		return exitConfig
	}
	switch cmd {
	case "help":
		return written(usage(stdout), stderr)
	case "version":
		_, err := fmt.Fprintf(stdout, "swap-bootstrap %s (%d instance types)\n", version, sizing.TableSize())
		return written(err, stderr)
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
	deps := bootstrap.Deps{System: &swap.Kernel{Logger: log}, Fetch: imds.Fetch, Log: log}

	var r bootstrap.Report
	switch cmd {
	case "plan":
		r, err = bootstrap.Plan(ctx, c, deps)
	case "status":
		r, err = bootstrap.Status(ctx, c, deps)
	case "apply":
		_, err = bootstrap.Apply(ctx, c, deps)
	case "remove":
		_, err = bootstrap.Remove(ctx, c, deps)
	case "install":
		err = doInstall(ctx, c, deps, o)
	case "uninstall":
		err = doUninstall(ctx, c, deps, o)
	}
	if cmd == "plan" || cmd == "status" {
		var werr error
		switch {
		case o.json:
			werr = r.WriteJSON(stdout)
		case err == nil || r.Plan != nil || cmd == "status":
			werr = r.WriteText(stdout)
		}
		if err == nil && werr != nil {
			return written(werr, stderr)
		}
	}
	return fail(err, stderr)
}

func doInstall(ctx context.Context, c config.Config, deps bootstrap.Deps, o options) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if _, err := install.Install(install.Options{Root: o.root, Binary: self, Env: os.Environ(), Logger: deps.Log}); err != nil {
		return err
	}
	if !o.now {
		return nil
	}
	_, err = bootstrap.Apply(ctx, c, deps)
	return err
}

func doUninstall(ctx context.Context, c config.Config, deps bootstrap.Deps, o options) error {
	if otherRoot(o.root) {
		// The swapfile belongs to the system in o.root, not to this one.
		deps.Log.Info("--root: swap is not touched, neither here nor in the root; run `swap-bootstrap remove` on that system to take its swapfile away", "root", o.root)
	} else if !o.keepSwap {
		c, notes, err := install.RemovalConfig(c, o.root, os.Environ())
		if err != nil {
			return err
		}
		for _, n := range notes {
			deps.Log.Warn(n)
		}
		if _, err := bootstrap.Remove(ctx, c, deps); err != nil {
			return err
		}
	}
	_, err := install.Uninstall(install.Options{Root: o.root, Logger: deps.Log})
	return err
}

// otherRoot reports whether --root names another system than the running one.
func otherRoot(root string) bool { return root != "" && filepath.Clean(root) != "/" }

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

// written maps the error of writing the output (a closed pipe, a full disk)
// to exit 1.
func written(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "swap-bootstrap: writing the output: %v\n", err)
	return exitFailure
}

func logger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

func usage(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, `swap-bootstrap %s: size, create and enable a swapfile at boot, before Docker.

Usage: swap-bootstrap [command] [flags]

Commands:
  apply      make the machine match the configuration (default)
  plan       show what apply would do and why; changes nothing, needs no root   [--json]
  status     swap areas, the managed file, swappiness, instance facts           [--json]
  remove     turn the managed swapfile off, delete it, drop its fstab entry
  install    copy this binary to %s and enable a boot unit that runs apply
             before Docker on every boot (where the swap-bootstrap package is
             installed: only the settings, for its unit)   [--root DIR] [--now]
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
		fmt.Fprintf(&b, "  %-20s %-38s %s\n", v.Name, def, v.Desc)
	}
	b.WriteString(`
Sizes: a bare number is MiB; K M G T and KiB MiB GiB TiB are powers of 1024,
KB MB GB TB powers of 1000; decimals allowed (1.5G).
Metadata service: AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE,
AWS_EC2_METADATA_DISABLED and AWS_EC2_METADATA_V1_DISABLED are honoured.
`)
	_, err := io.WriteString(w, b.String())
	return err
}
