package web

import (
	"bytes"
	"compress/gzip"
	"net/http/httptest"
	"strings"
	"testing"
)

func newSite(t *testing.T) *Site {
	t.Helper()
	s, err := New(Options{AllowedOrigins: []string{"https://host.example"}, StripeJSURL: "http://127.0.0.1:12111/js/v3",
		StripeAPIOrigin: "http://127.0.0.1:12111", PublishableKey: "pk_test_sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewRefusesWhatIsNotAnOrigin(t *testing.T) {
	for _, bad := range []string{"host.example", "https://host.example/", "https://host.example/path", "*", "javascript:alert(1)"} {
		if _, err := New(Options{AllowedOrigins: []string{bad}, StripeJSURL: "x", PublishableKey: "pk"}); err == nil {
			t.Errorf("%q accepted as an origin", bad)
		}
	}
}

func TestSheetCSPNamesOnlyItsHostsAndStripe(t *testing.T) {
	s := newSite(t)
	w := httptest.NewRecorder()
	w.Header().Set("X-Frame-Options", "DENY")
	if err := s.ServeSheet(w, "https://host.example", "http://checkout.test", Product{ID: "prod_1", Title: "Mug <b>", Price: 1250, Currency: "usd", MaxPerOrder: 3}); err != nil {
		t.Fatal(err)
	}
	if got := w.Header().Get("X-Frame-Options"); got != "" {
		t.Fatalf("X-Frame-Options %q would block allowed hosts", got)
	}
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self' http://127.0.0.1:12111;", "frame-ancestors 'self' https://host.example;", "default-src 'none'",
		"connect-src 'self' http://127.0.0.1:12111;"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	body := w.Body.String()
	if strings.Contains(body, "Mug <b>") || !strings.Contains(body, "Mug &lt;b&gt;") {
		t.Fatal("product title not escaped")
	}
	if !strings.Contains(body, `data-host="https://host.example"`) || !strings.Contains(body, `src="http://127.0.0.1:12111/js/v3"`) {
		t.Fatalf("sheet lacks host or Stripe.js: %s", body)
	}
}

func TestAllows(t *testing.T) {
	s := newSite(t)
	cases := map[string]bool{"https://host.example": true, "http://checkout.test": true, "https://evil.example": false, "": false,
		"https://host.example.evil": false}
	for origin, want := range cases {
		if got := s.Allows(origin, "http://checkout.test"); got != want {
			t.Errorf("Allows(%q) = %v, want %v", origin, got, want)
		}
	}
}

func TestAssetsAreContentAddressedAndCachedForAYear(t *testing.T) {
	s := newSite(t)
	name := strings.TrimPrefix(s.hashed["sheet.js"], AssetPrefix)
	if !strings.HasPrefix(name, "sheet.") || name == "sheet.js" {
		t.Fatalf("sheet.js served as %q", name)
	}
	w := httptest.NewRecorder()
	if !s.ServeAsset(w, name) {
		t.Fatal("asset not served")
	}
	if cc := w.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Fatalf("Cache-Control %q", cc)
	}
	if s.ServeAsset(httptest.NewRecorder(), "sheet.js") {
		t.Fatal("an unversioned name must not be served as immutable")
	}
	w = httptest.NewRecorder()
	s.ServeElement(w)
	if cc := w.Header().Get("Cache-Control"); cc != "public, max-age=300" {
		t.Fatalf("element Cache-Control %q", cc)
	}
}

// The budget for the element is 15 KB gzipped.
func TestElementScriptFitsItsBudget(t *testing.T) {
	s := newSite(t)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(s.element)
	_ = zw.Close()
	t.Logf("buy-button.js: %d bytes, %d gzipped", len(s.element), buf.Len())
	if buf.Len() > 15*1024 {
		t.Fatalf("buy-button.js is %d bytes gzipped, over 15 KB", buf.Len())
	}
}
