// Package rollout decides who sees the Buy button: internal dogfooders first
// (an allowlist), then a growing percentage of buyers, with a denylist and a
// per-merchant switch as brakes. It does no I/O; the caller reads the settings
// (see FromEnv) and may swap them at run time through Gate.Update.
package rollout
