package rollout

import (
	"context"
	"time"
)

// Loader reads the latest stored settings and their version; ok is false
// when none were ever stored.
type Loader func(ctx context.Context) (s Settings, version int64, ok bool, err error)

// Refresh loads once and puts newer stored settings in force.
func Refresh(ctx context.Context, g *Gate, load Loader) error {
	s, v, ok, err := load(ctx)
	if err != nil || !ok || v <= g.Version() {
		return err
	}
	return g.UpdateVersion(s, v)
}

// Follow refreshes g every interval until ctx ends, so a change saved by any
// replica is in force here at most one interval (plus a read) later. A
// failed read keeps the settings in force and is reported to onError.
func Follow(ctx context.Context, g *Gate, load Loader, every time.Duration, onError func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(ctx, every)
			if err := Refresh(rctx, g, load); err != nil && ctx.Err() == nil {
				onError(err)
			}
			cancel()
		}
	}
}
