// Package bootstrap runs swap-bootstrap's commands in one pass, in one
// direction, like a reconciler:
//
//	config (env) -> Gather (metadata service, tags) -> swap.Observe (the machine)
//	  -> Decide (pure) -> swap.Execute -> one Report
//
// plan and apply call the same Decide, so what plan shows is what apply does.
// Everything that needs root or the network comes in through Deps, which
// cmd/bootstrap fills with the real implementations.
package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/soundhub/swap-bootstrap/internal/config"
	"github.com/soundhub/swap-bootstrap/internal/fault"
	"github.com/soundhub/swap-bootstrap/internal/swap"
)

// Deps are the outside world.
type Deps struct {
	System swap.System // the machine (swap.Kernel)
	Fetch  Fetcher     // the metadata service (imds.Fetch)
	Log    *slog.Logger
}

// Plan decides what apply would do and why; it changes nothing and works
// without root.
func Plan(ctx context.Context, c config.Config, d Deps) (Report, error) {
	start := time.Now()
	c, f := Gather(ctx, c, d.Fetch, d.Log)
	o, err := swap.Observe(d.System, paths(c))
	if err != nil {
		return newReport("plan", c, f, Decision{Policy: c.Policy, Sources: c.Sources}, nil, o, start), err
	}
	dec, p, err := Decide(c, f, o)
	return newReport("plan", c, f, dec, planOrNil(p), o, start), err
}

// Apply brings the machine to the decided state.
func Apply(ctx context.Context, c config.Config, d Deps) (Report, error) {
	start := time.Now()
	empty := func(err error) (Report, error) {
		return newReport("apply", c, Facts{}, Decision{Policy: c.Policy, Sources: c.Sources}, nil, swap.Observation{}, start), err
	}
	if err := d.System.Privileged(); err != nil {
		return empty(err)
	}
	release, err := d.System.Lock(c.LockFile, c.LockTimeout)
	if err != nil {
		return empty(err)
	}
	defer release()
	fault.At(fault.Locked)
	c, f := Gather(ctx, c, d.Fetch, d.Log)
	o, err := swap.Observe(d.System, paths(c))
	if err != nil {
		return newReport("apply", c, f, Decision{Policy: c.Policy, Sources: c.Sources}, nil, o, start), err
	}
	dec, p, err := Decide(c, f, o)
	logDecision(d.Log, c, dec, p)
	if err != nil {
		return newReport("apply", c, f, dec, planOrNil(p), o, start), err
	}
	fault.At(fault.Planned)
	err = swap.Execute(ctx, p, settings(c), d.System, d.Log)
	r := newReport("apply", c, f, dec, &p, o, start)
	r.State = state(p, o, err)
	if err == nil {
		d.Log.Info(r.Summary(), "path", c.File, "size_bytes", p.Target, "state", r.State,
			"instance_type", f.InstanceType, "memory_bytes", dec.Memory.Bytes, "memory_source", dec.Memory.Source,
			"policy", dec.Policy, "elapsed_ms", r.ElapsedMS)
	}
	return r, err
}

// Remove turns our swapfile off, deletes it and drops its fstab entry.
func Remove(ctx context.Context, c config.Config, d Deps) (Report, error) {
	start := time.Now()
	none := Decision{Policy: c.Policy, Sources: c.Sources}
	if err := d.System.Privileged(); err != nil {
		return newReport("remove", c, Facts{}, none, nil, swap.Observation{}, start), err
	}
	release, err := d.System.Lock(c.LockFile, c.LockTimeout)
	if err != nil {
		return newReport("remove", c, Facts{}, none, nil, swap.Observation{}, start), err
	}
	defer release()
	o, err := swap.Observe(d.System, paths(c))
	if err != nil {
		return newReport("remove", c, Facts{}, none, nil, o, start), err
	}
	dec, p, err := DecideRemove(c, o)
	logDecision(d.Log, c, dec, p)
	if err != nil {
		return newReport("remove", c, Facts{}, dec, planOrNil(p), o, start), err
	}
	err = swap.Execute(ctx, p, settings(c), d.System, d.Log)
	r := newReport("remove", c, Facts{}, dec, &p, o, start)
	r.State = state(p, o, err)
	if err == nil {
		d.Log.Info(fmt.Sprintf("swap-bootstrap remove: %s %s in %.2fs", c.File, r.State, r.ElapsedMS/1000), "path", c.File, "state", r.State)
	}
	return r, err
}

// Status reports the swap areas, the managed file, swappiness and the facts
// that size it.
func Status(ctx context.Context, c config.Config, d Deps) (Report, error) {
	start := time.Now()
	c, f := Gather(ctx, c, d.Fetch, d.Log)
	o, err := swap.Observe(d.System, paths(c))
	if err != nil {
		return newReport("status", c, f, Decision{Policy: c.Policy, Sources: c.Sources}, nil, o, start), err
	}
	dec := Decision{Policy: c.Policy, Sources: c.Sources, InvalidTags: f.InvalidTags, Memory: memory(f, o)}
	// Status reads; it refuses nothing, but says what apply would refuse.
	err = swap.Refuse(c.File, o, swap.IntentOff)
	var refusal *swap.RefusalError
	if errors.As(err, &refusal) {
		dec.Warnings = append(dec.Warnings, refusal.Msg)
		err = nil
	}
	r := newReport("status", c, f, dec, nil, o, start)
	r.File = fileReport(c, o)
	return r, err
}

// logDecision logs what apply and remove decided, each line once: invalid
// tags at error level, warnings, and the planner's notes.
func logDecision(log *slog.Logger, c config.Config, d Decision, p swap.Plan) {
	for _, w := range d.InvalidTags {
		log.Error(w)
	}
	for _, w := range d.Warnings {
		log.Warn(w, "path", c.File)
	}
	for _, n := range p.Notes {
		log.Info(n, "path", c.File)
	}
}

// planOrNil is the plan to report: none when deciding failed before a plan
// was made.
func planOrNil(p swap.Plan) *swap.Plan {
	if p.File == "" {
		return nil
	}
	return &p
}

// state names what happened to the swapfile, for the summary.
func state(p swap.Plan, o swap.Observation, err error) string {
	if err != nil {
		return "failed"
	}
	if p.Deferred != "" {
		return "active, resize deferred"
	}
	for _, a := range p.Actions {
		switch a.Kind {
		case swap.ActionCreate:
			return "active, created"
		case swap.ActionResize:
			return "active, resized"
		case swap.ActionReplace:
			return "active, replaced"
		case swap.ActionDelete:
			return "removed"
		case swap.ActionEnable:
			return "active, enabled"
		}
	}
	switch {
	case p.Target == 0 && !o.File.Exists():
		return "absent"
	case p.Changes():
		return "active, updated"
	case p.Target == 0:
		return "unchanged"
	}
	return "active, unchanged"
}
