package activities

import (
	"strings"
	"testing"

	"github.com/buybutton/checkout/keyring"
	"github.com/buybutton/checkout/notify"
	"github.com/buybutton/checkout/payments"
	"github.com/buybutton/checkout/store"
)

func TestCheckNamesWhatIsMissing(t *testing.T) {
	err := (&Activities{}).Check()
	if err == nil {
		t.Fatal("an empty set of activities passed the check")
	}
	for _, want := range []string{"Store", "Payments", "Notifier"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("check error %q does not name %s", err, want)
		}
	}
	// A store that keeps orders but no refund ledger is a wiring mistake.
	env, a, _ := newEnv(t)
	_ = env
	if err := a.Check(); err == nil || !strings.Contains(err.Error(), "refund ledger") {
		t.Fatalf("check with a store lacking the ledger: %v", err)
	}
}

func TestCheckPassesWithTheRealParts(t *testing.T) {
	ring, err := keyring.Parse(mustGenerate(t))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), "sqlite://"+t.TempDir()+"/c.db", ring)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := &Activities{Store: st, Payments: payments.New(payments.Config{SecretKey: "sk_test_123", APIBase: "http://127.0.0.1:1"}),
		Notifier: notify.NewLocalSender(0)}
	if err := a.Check(); err != nil {
		t.Fatalf("the real store and gateway fail the check: %v", err)
	}
}

func mustGenerate(t *testing.T) string {
	t.Helper()
	spec, err := keyring.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return spec
}
