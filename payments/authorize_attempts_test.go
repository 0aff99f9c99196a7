package payments

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/buybutton/checkout/sandbox"
)

// Authorize retried after an unknown outcome, against the sandbox that
// replays a cached 500 under its key and can forget keys as Stripe does
// after 24 hours: every way ends with exactly one authorized intent.
func TestAuthorizeAttemptsMakeOneIntent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults sandbox.Faults
		expire bool // Stripe forgets the keys between the attempts
	}{
		{"cached 500, nothing done", sandbox.Faults{FailCachedNext: 1, Only: "/v1/payment_intents"}, false},
		{"cached 500, intent made", sandbox.Faults{FailCachedAfterNext: 1, Only: "/v1/payment_intents"}, false},
		{"answer lost", sandbox.Faults{FailAfterNext: 1, Only: "/v1/payment_intents"}, false},
		{"answer lost, keys pruned", sandbox.Faults{FailAfterNext: 1, Only: "/v1/payment_intents"}, true},
		{"connection dropped", sandbox.Faults{DropNext: 1, Only: "/v1/payment_intents"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := sandbox.New(sandbox.Options{})
			srv := httptest.NewServer(sb)
			t.Cleanup(srv.Close)
			g := New(Config{SecretKey: "sk_test_123", APIBase: srv.URL, HTTPClient: srv.Client()})
			ctx := context.Background()
			sb.SetFaults(tc.faults)
			req := sandboxAuth("ord_att", "pm_card_visa")
			req.Attempt = 1
			if _, err := g.Authorize(ctx, req); err == nil {
				t.Fatal("the first attempt met no fault")
			}
			if tc.expire {
				sb.ExpireIdempotencyKeys("")
			}
			req.Attempt = 2
			in, err := g.Authorize(ctx, req)
			if err != nil {
				t.Fatalf("second attempt: %v", err)
			}
			if in.Status != IntentRequiresCapture {
				t.Fatalf("intent %+v", in)
			}
			if n := sb.AuthorizationsFor("ord_att"); n != 1 {
				t.Fatalf("authorizations = %d, want 1", n)
			}
			req.Attempt = 3
			again, err := g.Authorize(ctx, req)
			if err != nil || again.ID != in.ID {
				t.Fatalf("third attempt %q (%v), want %q", again.ID, err, in.ID)
			}
		})
	}
}
