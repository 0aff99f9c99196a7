package models

import "time"

// RolloutRecord is one version of the rollout settings as stored: the
// settings (JSON of rollout.Settings), who saved them and when. Versions
// only grow; the records are the audit trail.
type RolloutRecord struct {
	Version   int64     `json:"version"`
	Settings  []byte    `json:"-"`
	Actor     string    `json:"actor"`
	CreatedAt time.Time `json:"created_at"`
}
