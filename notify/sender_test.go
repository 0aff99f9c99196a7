package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buybutton/checkout/models"
)

type received struct {
	header http.Header
	body   []byte
}

// merchant is a webhook endpoint answering with a fixed status, or hanging
// up when status is 0.
func merchant(t *testing.T, status int) (string, func() []received) {
	t.Helper()
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{header: r.Header.Clone(), body: body})
		mu.Unlock()
		if status == 0 {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		if status >= 300 && status < 400 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []received { mu.Lock(); defer mu.Unlock(); return append([]received(nil), got...) }
}

var testEvent = Event{ID: "evt_42", Type: "order.paid", Created: 1_700_000_000, Data: map[string]any{"order_id": "ord_1"}}

func TestSendSignsAndLabels(t *testing.T) {
	url, got := merchant(t, http.StatusNoContent)
	now := time.Unix(1_700_000_100, 0)
	s := NewLocalSender(0)
	s.Now = func() time.Time { return now }
	for i := 0; i < 2; i++ { // a retry must look the same to the merchant's dedupe
		d, err := s.Send(context.Background(), url+"/hooks", "whsec_m1", testEvent)
		if err != nil || d.StatusCode != http.StatusNoContent {
			t.Fatalf("send: %v %+v", err, d)
		}
	}
	reqs := got()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	for _, r := range reqs {
		h := r.header
		if h.Get("Content-Type") != "application/json" || h.Get("User-Agent") == "" || h.Get("Checkout-Event-Id") != "evt_42" {
			t.Errorf("headers %v", h)
		}
		if err := Verify("whsec_m1", h.Get("Checkout-Signature"), r.body, time.Minute, now); err != nil {
			t.Errorf("merchant cannot verify: %v", err)
		}
		var ev Event
		if err := json.Unmarshal(r.body, &ev); err != nil || ev.ID != "evt_42" || ev.Type != "order.paid" || ev.Created != 1_700_000_000 {
			t.Errorf("body %s", r.body)
		}
	}
}

func TestSendClassifies(t *testing.T) {
	cases := []struct {
		status int // 0: connection closed without an answer
		kind   models.Kind
		code   string
	}{
		{200, "", ""},
		{202, "", ""},
		{301, models.KindInvalid, "webhook_rejected"},
		{400, models.KindInvalid, "webhook_rejected"},
		{401, models.KindInvalid, "webhook_rejected"},
		{404, models.KindInvalid, "webhook_rejected"},
		{410, models.KindInvalid, "webhook_rejected"},
		{408, models.KindUnavailable, "webhook_failed"},
		{429, models.KindUnavailable, "webhook_failed"},
		{500, models.KindUnavailable, "webhook_failed"},
		{503, models.KindUnavailable, "webhook_failed"},
		{0, models.KindUnavailable, "webhook_failed"},
	}
	for _, tc := range cases {
		url, got := merchant(t, tc.status)
		d, err := NewLocalSender(time.Second).Send(context.Background(), url, "whsec_m1", testEvent)
		if tc.kind == "" {
			if err != nil {
				t.Errorf("status %d: %v", tc.status, err)
			}
		} else {
			var e *models.Error
			if !errors.As(err, &e) || e.Kind != tc.kind || e.Code != tc.code {
				t.Errorf("status %d: got %v, want %s/%s", tc.status, err, tc.kind, tc.code)
			}
		}
		if d.StatusCode != tc.status {
			t.Errorf("status %d: delivery reports %d", tc.status, d.StatusCode)
		}
		if n := len(got()); n != 1 {
			t.Errorf("status %d: %d requests, want exactly 1 (no redirects followed)", tc.status, n)
		}
	}
}

func TestSendTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	d, err := NewLocalSender(50*time.Millisecond).Send(context.Background(), srv.URL, "whsec_m1", testEvent)
	if models.ErrorKind(err) != models.KindUnavailable || d.Latency <= 0 {
		t.Fatalf("got %v %+v", err, d)
	}
}

func TestSendRefuses(t *testing.T) {
	url, got := merchant(t, 200)
	cases := []struct {
		name, url, secret string
		ev                Event
	}{
		{"ftp url", "ftp://example.com/hook", "whsec", testEvent},
		{"file url", "file:///etc/passwd", "whsec", testEvent},
		{"relative url", "/hook", "whsec", testEvent},
		{"empty url", "", "whsec", testEvent},
		{"no secret", url, "", testEvent},
		{"no event id", url, "whsec", Event{Type: "order.paid"}},
		{"unencodable data", url, "whsec", Event{ID: "evt_1", Data: func() {}}},
	}
	for _, tc := range cases {
		if _, err := NewLocalSender(0).Send(context.Background(), tc.url, tc.secret, tc.ev); models.ErrorKind(err) != models.KindInvalid {
			t.Errorf("%s: got %v, want invalid", tc.name, err)
		}
	}
	if n := len(got()); n != 0 {
		t.Errorf("%d requests sent for refused deliveries", n)
	}
}

// The zero Sender and NewSender are the production ones: a webhook URL that
// points into our own network is refused, not retried, and nothing is sent.
func TestSenderRefusesPrivateAddresses(t *testing.T) {
	url, got := merchant(t, 200)
	httpsURL := strings.Replace(url, "http://", "https://", 1)
	// The dial-time check alone: a sender whose URL policy lets the address
	// through still refuses it when connecting, as it would for a host
	// name resolving there.
	dialOnly := &Sender{Client: newClient(time.Second, false), URLs: URLPolicy{AllowPrivate: true, AllowHTTP: true}}
	for name, c := range map[string]struct {
		s   *Sender
		url string
	}{"zero": {&Sender{}, httpsURL}, "NewSender": {NewSender(time.Second), httpsURL}, "dial check": {dialOnly, url}} {
		d, err := c.s.Send(context.Background(), c.url, "whsec", testEvent)
		var e *models.Error
		if !errors.As(err, &e) || e.Kind != models.KindInvalid || e.Code != "webhook_address_forbidden" {
			t.Errorf("%s: err = %v, want invalid webhook_address_forbidden", name, err)
		}
		if r := FailureReason(d, err); r != "address_forbidden" {
			t.Errorf("%s: reason %q", name, r)
		}
	}
	if _, err := NewSender(time.Second).Send(context.Background(), "http://shop.example/hook", "whsec", testEvent); models.ErrorKind(err) != models.KindInvalid {
		t.Errorf("plain http delivered in production: %v", err)
	}
	if n := len(got()); n != 0 {
		t.Errorf("%d requests reached a loopback merchant", n)
	}
	if _, err := NewLocalSender(time.Second).Send(context.Background(), url, "whsec", testEvent); err != nil {
		t.Fatalf("local sender: %v", err)
	}
}

func TestPublicOnly(t *testing.T) {
	cases := map[string]bool{ // address → allowed
		"93.184.216.34:443": true, "[2606:2800:220:1:248:1893:25c8:1946]:443": true,
		"127.0.0.1:80": false, "[::1]:80": false, "10.1.2.3:80": false, "172.16.0.1:80": false,
		"192.168.1.1:80": false, "169.254.169.254:80": false, "0.0.0.0:80": false, "100.64.0.1:80": false,
		"[fd00::1]:80": false, "[fe80::1]:80": false, "224.0.0.1:80": false, "[::ffff:127.0.0.1]:80": false,
	}
	for addr, allowed := range cases {
		err := publicOnly("tcp", addr, nil)
		if (err == nil) != allowed {
			t.Errorf("%s: err = %v, want allowed=%t", addr, err, allowed)
		}
	}
}
