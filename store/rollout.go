package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/buybutton/checkout/models"
)

// rolloutSettingsRow is one version of the rollout settings; the table is
// append-only, so it is also the audit trail (who, what, when).
type rolloutSettingsRow struct {
	Version   int64     `gorm:"primaryKey;autoIncrement:false"`
	Settings  string    `gorm:"type:text;not null"`
	Actor     string    `gorm:"size:128;not null"`
	CreatedAt time.Time `gorm:"not null"`
}

func (rolloutSettingsRow) TableName() string { return "rollout_settings" }

// CodeRolloutChanged is the conflict when settings are saved over a version
// that is no longer the latest.
const CodeRolloutChanged = "rollout_changed"

func (r rolloutSettingsRow) record() models.RolloutRecord {
	return models.RolloutRecord{Version: r.Version, Settings: []byte(r.Settings), Actor: r.Actor, CreatedAt: r.CreatedAt}
}

// RolloutSettings returns the latest stored version; models.ErrNotFound when
// none was ever saved (the environment's settings apply).
func (s *Store) RolloutSettings(ctx context.Context) (models.RolloutRecord, error) {
	var row rolloutSettingsRow
	err := s.db.WithContext(ctx).Order("version DESC").Limit(1).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.RolloutRecord{}, models.ErrNotFound
	}
	if err != nil {
		return models.RolloutRecord{}, err
	}
	return row.record(), nil
}

// SaveRolloutSettings stores settings as version base+1. If another change
// took that version first it fails with a Conflict: the caller read stale
// settings and must look again.
func (s *Store) SaveRolloutSettings(ctx context.Context, base int64, settings []byte, actor string) (models.RolloutRecord, error) {
	row := rolloutSettingsRow{Version: base + 1, Settings: string(settings), Actor: actor, CreatedAt: now()}
	err := s.db.WithContext(ctx).Create(&row).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return models.RolloutRecord{}, models.Conflict(CodeRolloutChanged,
			"the rollout settings changed since version %d; read them again", base)
	}
	if err != nil {
		return models.RolloutRecord{}, err
	}
	return row.record(), nil
}

// RolloutHistory lists the newest versions first, at most limit.
func (s *Store) RolloutHistory(ctx context.Context, limit int) ([]models.RolloutRecord, error) {
	var rows []rolloutSettingsRow
	if err := s.db.WithContext(ctx).Order("version DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]models.RolloutRecord, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.record())
	}
	return out, nil
}
