package api

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/rollout"
)

// memoryRolloutStore keeps versions as store.Store does: append-only, a
// save over a version that is not the latest refused.
type memoryRolloutStore struct {
	mu       sync.Mutex
	versions []models.RolloutRecord
}

func (m *memoryRolloutStore) RolloutSettings(context.Context) (models.RolloutRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.versions) == 0 {
		return models.RolloutRecord{}, models.ErrNotFound
	}
	return m.versions[len(m.versions)-1], nil
}

func (m *memoryRolloutStore) SaveRolloutSettings(_ context.Context, base int64, s []byte, actor string) (models.RolloutRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if int64(len(m.versions)) != base {
		return models.RolloutRecord{}, models.Conflict("rollout_changed", "changed since %d", base)
	}
	r := models.RolloutRecord{Version: base + 1, Settings: s, Actor: actor, CreatedAt: time.Now()}
	m.versions = append(m.versions, r)
	return r, nil
}

func (m *memoryRolloutStore) RolloutHistory(context.Context, int) ([]models.RolloutRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []models.RolloutRecord{}
	for i := len(m.versions) - 1; i >= 0; i-- {
		out = append(out, m.versions[i])
	}
	return out, nil
}

// TestRolloutPutIsSavedVersionedAndAudited: a PUT is saved as the next
// version with its actor; a replica still on an older version is refused
// with 409 until it has read the latest; another replica picks the change
// up with rollout.Refresh.
func TestRolloutPutIsSavedVersionedAndAudited(t *testing.T) {
	st := &memoryRolloutStore{}
	withStore := func(c *Config) { c.RolloutStore = st }
	a := newEnv(t, withRollout(rollout.Settings{}), withStore)
	b := newEnv(t, withRollout(rollout.Settings{}), withStore)
	admin := "Bearer " + operatorToken
	put := func(e *env, body, actor string) int {
		return e.do(req{method: http.MethodPut, path: "/v1/admin/rollout", body: body, auth: admin,
			headers: map[string]string{"X-Actor": actor}}).Code
	}
	require.Equal(t, http.StatusOK, put(a, `{"percent":10}`, "ops-ana"))
	require.Equal(t, http.StatusConflict, put(b, `{"percent":20}`, "ops-ben"), "b has not read version 1 yet")
	require.Equal(t, http.StatusBadRequest, put(a, `{"percent":20}`, "x"), "an actor must be an id")

	gateB := rollout.Gate{}
	load := func(ctx context.Context) (rollout.Settings, int64, bool, error) { return LoadRollout(ctx, st) }
	require.NoError(t, rollout.Refresh(context.Background(), &gateB, load))
	require.Equal(t, int64(1), gateB.Version())
	require.Equal(t, 10.0, gateB.Settings().Percent)

	w := a.do(req{method: http.MethodGet, path: "/v1/admin/rollout/history", auth: admin})
	require.Equal(t, http.StatusOK, w.Code)
	versions := decodeBody(t, w)["versions"].([]any)
	require.Len(t, versions, 1)
	v := versions[0].(map[string]any)
	require.Equal(t, "admin:ops-ana", v["actor"])
	require.Equal(t, 10.0, v["settings"].(map[string]any)["percent"])
}
