package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/buybutton/checkout/toolpath"
)

// hostServer is a page on its own origin embedding the Buy button, as a
// platform's post or a merchant's site would.
type hostServer struct {
	*httptest.Server
	mu    sync.Mutex
	pages map[string]string
	n     int
}

func newHostServer(t *testing.T) *hostServer {
	h := &hostServer{pages: map[string]string{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		body, ok := h.pages[r.URL.Path]
		h.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(h.Close)
	return h
}

// page publishes html and returns its URL.
func (h *hostServer) page(html string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n++
	path := fmt.Sprintf("/post-%d", h.n)
	h.pages[path] = html
	return h.URL + path
}

// postPage is a host page with the README's snippet, handing the element
// the buyer's token and recording the element's events in window.events.
func postPage(apiURL, productID, token string) string {
	return `<!doctype html><html><head><title>post</title></head><body>
<p>A post.</p>
<script src="` + apiURL + `/embed/v1/buy-button.js" async></script>
<buy-button product="` + productID + `"></buy-button>
<script>
window.events = [];
var el = document.querySelector("buy-button");
["open","close","purchase","error"].forEach(function (t) {
  el.addEventListener("buybutton:" + t, function (e) { window.events.push({type: t, detail: e.detail}); });
});
el.buyerToken = ` + jsString(token) + `;
</script></body></html>`
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// findChromium is $CHROMIUM, then chromium on PATH. Missing in CI fails.
func findChromium(t *testing.T) string {
	t.Helper()
	p, err := toolpath.Find("CHROMIUM", "chromium")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("browser tests: %v", err)
	}
	t.Skipf("browser tests skipped outside CI: %v", err)
	return ""
}

type browser struct {
	t   *testing.T
	ctx context.Context
}

// screenshotDir is where failing browser tests leave their last screen.
func screenshotDir() string {
	if d := os.Getenv("BROWSER_SCREENSHOTS"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "checkout-browser-screenshots")
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	bin := findChromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	b := &browser{t: t, ctx: ctx}
	t.Cleanup(func() {
		if t.Failed() {
			b.screenshot("final")
		}
		cancelCtx()
		cancelAlloc()
	})
	return b
}

func (b *browser) screenshot(name string) string {
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot: %v", err)
		return ""
	}
	dir := screenshotDir()
	_ = os.MkdirAll(dir, 0o755)
	path := filepath.Join(dir, strings.ReplaceAll(b.t.Name(), "/", "_")+"-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("screenshot: %v", err)
		return ""
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

func (b *browser) open(url string) { b.t.Helper(); b.run(chromedp.Navigate(url)) }

// eval runs expr in the top page.
func (b *browser) eval(expr string, out any) {
	b.t.Helper()
	if err := b.evalErr(expr, out); err != nil {
		b.t.Fatalf("browser: %s: %v", expr, err)
	}
}

func (b *browser) evalErr(expr string, out any) error {
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// waitTop waits until expr is true in the top page.
func (b *browser) waitTop(expr, what string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ok bool
		if err := b.evalErr("Boolean("+expr+")", &ok); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// frameByURL finds a frame whose URL contains part.
func (b *browser) frameByURL(part string) (cdp.FrameID, string, bool) {
	res, err := chromedp.Call(b.ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil || res.FrameTree == nil {
		return "", "", false
	}
	tree := res.FrameTree
	var walk func(t *page.FrameTree) (cdp.FrameID, string, bool)
	walk = func(t *page.FrameTree) (cdp.FrameID, string, bool) {
		for _, c := range t.ChildFrames {
			if strings.Contains(c.Frame.URL, part) {
				return c.Frame.ID, c.Frame.URL, true
			}
			if id, u, ok := walk(c); ok {
				return id, u, ok
			}
		}
		return "", "", false
	}
	return walk(tree)
}

// sheetEval runs expr inside the checkout sheet's frame (an isolated
// world: it shares the DOM, not the page's scripts).
func (b *browser) sheetEval(expr string, out any) error {
	id, _, ok := b.frameByURL("/embed/v1/sheet")
	if !ok {
		return fmt.Errorf("no sheet frame")
	}
	world, err := chromedp.Call(b.ctx, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: id, WorldName: "e2e"})
	if err != nil {
		return err
	}
	yes := true
	res, err := chromedp.Call(b.ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: expr,
		ContextID: world.ExecutionContextID, ReturnByValue: &yes, AwaitPromise: &yes})
	if err != nil {
		return err
	}
	if exc := res.ExceptionDetails; exc != nil {
		return fmt.Errorf("sheet: %s %s", exc.Text, exceptionText(exc))
	}
	if out == nil || res.Result == nil || len(res.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(res.Result.Value, out)
}

func exceptionText(exc *runtime.ExceptionDetails) string {
	if exc.Exception != nil {
		return exc.Exception.Description
	}
	return ""
}

// waitSheet waits until expr is true in the sheet.
func (b *browser) waitSheet(expr, what string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for {
		var ok bool
		if last = b.sheetEval("Boolean("+expr+")", &ok); last == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			var text string
			_ = b.sheetEval("document.body.innerText", &text)
			b.t.Fatalf("timed out waiting for %s (%v); sheet shows:\n%s", what, last, text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *browser) sheetText(selector string) string {
	b.t.Helper()
	var s string
	if err := b.sheetEval("document.querySelector("+jsString(selector)+").textContent", &s); err != nil {
		b.t.Fatal(err)
	}
	return strings.TrimSpace(s)
}

type rect struct{ X, Y, W, H float64 }

// tapSheet clicks, with a real mouse event, the centre of selector in the sheet.
func (b *browser) tapSheet(selector string) {
	b.t.Helper()
	b.waitSheet("(function(){var n=document.querySelector("+jsString(selector)+");return n&&n.offsetParent!==null&&!n.disabled})()", selector+" visible")
	// Coordinates are read once the sheet's entry animation has finished.
	b.waitTop(`document.querySelector("buy-button").shadowRoot.querySelector("iframe").getAnimations().every(a => a.playState === "finished")`,
		"the sheet to settle")
	var frame, el rect
	b.eval(`(function(){var r=document.querySelector("buy-button").shadowRoot.querySelector("iframe").getBoundingClientRect();return {X:r.x,Y:r.y,W:r.width,H:r.height}})()`, &frame)
	if err := b.sheetEval(`(function(){var n=document.querySelector(`+jsString(selector)+`);n.scrollIntoView({block:"center"});var r=n.getBoundingClientRect();return {X:r.x,Y:r.y,W:r.width,H:r.height}})()`, &el); err != nil {
		b.t.Fatal(err)
	}
	b.run(chromedp.MouseClickXY(frame.X+el.X+el.W/2, frame.Y+el.Y+el.H/2))
}

// tapBuy clicks the element's Buy button on the host page.
func (b *browser) tapBuy() {
	b.t.Helper()
	b.waitTop(`document.querySelector("buy-button") && document.querySelector("buy-button").shadowRoot.querySelector(".buy")`, "the Buy button")
	var r rect
	b.eval(`(function(){var r=document.querySelector("buy-button").shadowRoot.querySelector(".buy").getBoundingClientRect();return {X:r.x,Y:r.y,W:r.width,H:r.height}})()`, &r)
	b.run(chromedp.MouseClickXY(r.X+r.W/2, r.Y+r.H/2))
}

// typeSheet focuses selector in the sheet and types text with key events.
func (b *browser) typeSheet(selector, text string) {
	b.t.Helper()
	if err := b.sheetEval(`(function(){var n=document.querySelector(`+jsString(selector)+`);n.focus();n.select&&n.select();})()`, nil); err != nil {
		b.t.Fatal(err)
	}
	b.run(chromedp.KeyEvent(text))
}

// fillAddress types a London address into the sheet's form.
func (b *browser) fillAddress() {
	b.t.Helper()
	b.waitSheet(`!document.getElementById("view-form").hidden`, "the first-purchase form")
	for _, f := range [][2]string{{"name", "Ada Lovelace"}, {"line1", "12 St James Square"}, {"city", "London"},
		{"postal_code", "SW1Y 4JH"}, {"country", "GB"}} {
		b.typeSheet(`[name="`+f[0]+`"]`, f[1])
	}
}

// fillCard types a card into the Stripe.js card element.
func (b *browser) fillCard(number string) {
	b.t.Helper()
	b.waitSheet(`document.querySelector('[data-stripe="cardnumber"]')`, "the card element")
	b.typeSheet(`[data-stripe="cardnumber"]`, number)
	b.typeSheet(`[data-stripe="exp-date"]`, "12/34")
	b.typeSheet(`[data-stripe="cvc"]`, "123")
}
