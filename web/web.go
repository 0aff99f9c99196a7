// Package web is the buyer's face of the checkout: the <buy-button> custom
// element a host page embeds, the checkout sheet it opens in an iframe, the
// buyer's orders view inside that sheet, and the demo post page. Everything
// is embedded in the binary and served by the api under /embed/v1/ and /demo.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
)

//go:embed static/*.js static/*.css
var static embed.FS

//go:embed templates/*.html
var templates embed.FS

// Options are what the pages depend on.
type Options struct {
	// AllowedOrigins are the host origins (scheme://host[:port]) allowed to
	// frame the sheet, besides the checkout's own origin.
	AllowedOrigins []string
	// StripeJSURL is the Stripe.js the sheet loads: https://js.stripe.com/v3
	// with a real key, the sandbox's stand-in otherwise.
	StripeJSURL string
	// StripeAPIOrigin is where Stripe.js sends card data (connect-src).
	StripeAPIOrigin string
	// PublishableKey is the pk_… the sheet hands to Stripe().
	PublishableKey string
}

// Site serves the embed, the sheet and the demo page.
type Site struct {
	opts    Options
	assets  map[string]asset // by served name, e.g. "sheet.3f2a….js"
	hashed  map[string]string
	sheet   *template.Template
	demo    *template.Template
	element []byte
}

type asset struct {
	body        []byte
	contentType string
}

// ElementPath is the one URL hosts put in their script tag.
const ElementPath = "/embed/v1/buy-button.js"

// AssetPrefix is where content-addressed assets live; they never change
// under one name, so browsers may keep them for a year.
const AssetPrefix = "/embed/v1/assets/"

// SheetPath is the checkout sheet the element frames.
const SheetPath = "/embed/v1/sheet"

// New checks the options and loads the embedded files.
func New(o Options) (*Site, error) {
	for _, origin := range o.AllowedOrigins {
		if err := CheckOrigin(origin); err != nil {
			return nil, err
		}
	}
	if o.StripeJSURL == "" || o.PublishableKey == "" {
		return nil, fmt.Errorf("web: StripeJSURL and PublishableKey are required")
	}
	s := &Site{opts: o, assets: map[string]asset{}, hashed: map[string]string{}}
	entries, err := fs.ReadDir(static, "static")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		body, err := static.ReadFile("static/" + e.Name())
		if err != nil {
			return nil, err
		}
		if e.Name() == "buy-button.js" {
			s.element = body
			continue
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(e.Name())
		name := strings.TrimSuffix(e.Name(), ext) + "." + hex.EncodeToString(sum[:6]) + ext
		s.hashed[e.Name()] = AssetPrefix + name
		s.assets[name] = asset{body: body, contentType: contentType(ext)}
	}
	funcs := template.FuncMap{"asset": func(name string) string { return s.hashed[name] }}
	if s.sheet, err = template.New("sheet.html").Funcs(funcs).ParseFS(templates, "templates/sheet.html"); err != nil {
		return nil, err
	}
	if s.demo, err = template.New("demo.html").Funcs(funcs).ParseFS(templates, "templates/demo.html"); err != nil {
		return nil, err
	}
	return s, nil
}

func contentType(ext string) string {
	if ext == ".css" {
		return "text/css; charset=utf-8"
	}
	return "text/javascript; charset=utf-8"
}

// CheckOrigin accepts a bare origin: scheme, host and optional port, nothing else.
func CheckOrigin(origin string) error {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("web: %q is not an origin like https://example.com", origin)
	}
	return nil
}

// Allows reports whether origin may frame the sheet and read products
// from the page it hosts. self is the checkout's own origin.
func (s *Site) Allows(origin, self string) bool {
	return origin != "" && (origin == self || slices.Contains(s.opts.AllowedOrigins, origin))
}

// ServeElement serves the element's script. Its URL is fixed, so it is kept
// only briefly; everything it loads is content-addressed.
func (s *Site) ServeElement(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", contentType(".js"))
	h.Set("Cache-Control", "public, max-age=300")
	allowAnyOrigin(h)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(s.element)
}

// ServeAsset serves a content-addressed asset; false if there is none by that name.
func (s *Site) ServeAsset(w http.ResponseWriter, name string) bool {
	a, ok := s.assets[name]
	if !ok {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	allowAnyOrigin(h)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.body)
	return true
}

// allowAnyOrigin lets scripts load from any page: they hold no data, and the
// API's own security headers would otherwise forbid cross-origin use.
func allowAnyOrigin(h http.Header) {
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Del("Content-Security-Policy")
	h.Del("X-Frame-Options")
}

// Product is what the sheet shows before its script runs.
type Product struct {
	ID          string
	Title       string
	Price       int64
	Currency    string
	MaxPerOrder int
}

// ServeSheet renders the checkout sheet for host (an origin the caller has
// checked with Allows), under a CSP that lets only host and the checkout
// itself frame it.
func (s *Site) ServeSheet(w http.ResponseWriter, host, self string, p Product) error {
	var buf bytes.Buffer
	err := s.sheet.Execute(&buf, map[string]any{
		"Product": p, "Host": host, "StripeJS": s.opts.StripeJSURL, "PublishableKey": s.opts.PublishableKey,
	})
	if err != nil {
		return err
	}
	h := w.Header()
	h.Del("X-Frame-Options") // frame-ancestors decides, and it names the hosts
	h.Set("Content-Security-Policy", s.sheetCSP(self))
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Permissions-Policy", "payment=(self)")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(buf.Bytes())
	return err
}

func (s *Site) sheetCSP(self string) string {
	stripeJS := originOf(s.opts.StripeJSURL)
	ancestors := append([]string{"'self'"}, s.opts.AllowedOrigins...)
	frames := stripeJS
	if stripeJS == "https://js.stripe.com" {
		frames += " https://hooks.stripe.com"
	}
	connect := "'self' " + s.opts.StripeAPIOrigin
	if stripeJS != s.opts.StripeAPIOrigin {
		connect += " " + stripeJS
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self' " + stripeJS,
		"style-src 'self'",
		"img-src 'self' data:",
		"connect-src " + strings.TrimSpace(connect),
		"frame-src " + frames,
		"frame-ancestors " + strings.Join(ancestors, " "),
		"base-uri 'none'",
		"form-action 'none'",
	}, "; ")
}

func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// Demo is the demo post page's content: a product and the signed-in buyer.
type Demo struct {
	ProductID  string
	BuyerToken string
}

// ServeDemo renders a small feed with the Buy button in one post, embedded
// exactly as the README's snippet says, signed in as the demo buyer.
func (s *Site) ServeDemo(w http.ResponseWriter, d Demo) error {
	var buf bytes.Buffer
	if err := s.demo.Execute(&buf, map[string]any{"Demo": d, "Element": ElementPath}); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; base-uri 'none'")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(buf.Bytes())
	return err
}
