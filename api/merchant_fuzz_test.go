package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"

	"github.com/buybutton/checkout/models"
)

var merchantActions = []string{"accept", "reject", "ship", "deliver"}

// FuzzMerchantActions sends arbitrary bodies, Idempotency-Keys and content
// types to the merchant action endpoints: whatever arrives, the answer is a
// JSON 2xx or 4xx, never a 5xx or a panic.
func FuzzMerchantActions(f *testing.F) {
	seeds := []struct {
		action      uint8
		body, key   string
		contentType string
	}{
		{0, ``, ``, ``},
		{0, `{}`, `k1`, `application/json`},
		{0, `{"note":1}`, ``, `application/json`},
		{1, `{"reason":"out of stock"}`, `k2`, `application/json`},
		{1, `{"reason":"` + strings.Repeat("r", 5000) + `"}`, ``, `application/json`},
		{1, `{"reason":"\u0000\ud800"}`, ``, `application/json`},
		{2, `{"carrier":"UPS","tracking_number":"1Z999","tracking_url":"https://ups.example/1Z999"}`, `k3`, `application/json`},
		{2, `{"carrier":"UPS","tracking_number":"1Z","tracking_url":"javascript:alert(1)"}`, ``, `application/json`},
		{2, `{"carrier":" ","tracking_number":"x"}`, ``, `application/json`},
		{2, `{"carrier":"UPS","tracking_number":"1Z","tracking_url":"https://%zz"}`, ``, `application/json`},
		{2, `{"carrier":["a"]}`, ``, `application/json`},
		{2, `{"carrier":"a"}{"carrier":"b"}`, ``, `application/json`},
		{2, "{\"carrier\":\"\xff\"}", ``, `application/json; charset=latin1`},
		{2, `carrier=UPS`, ``, `application/x-www-form-urlencoded`},
		{3, `null`, strings.Repeat("k", 300), `application/json`},
		{3, `[]`, "bad key\n", `text/plain`},
	}
	for _, s := range seeds {
		f.Add(s.action, s.body, s.key, s.contentType)
	}
	e := newEnv(f)
	seedOrder(e, models.StatusAuthorized)
	e.temporal.On("UpdateWorkflow", mock.Anything, mock.Anything).
		Return(fakeHandle{result: models.Order{ID: orderA, Status: models.StatusAccepted}}, nil).Maybe()
	auth := bearerOf(keyA)
	f.Fuzz(func(t *testing.T, action uint8, body, key, contentType string) {
		e.t = t
		path := "/v1/merchant/orders/" + orderA + "/" + merchantActions[int(action)%len(merchantActions)]
		headers := map[string]string{"Content-Type": contentType}
		if key != "" && !strings.ContainsAny(key, "\r\n\x00") {
			headers["Idempotency-Key"] = key
		}
		w := e.do(req{method: http.MethodPost, path: path, body: body, auth: auth, headers: headers})
		if w.Code >= 500 {
			t.Fatalf("status %d for %s %q: %s", w.Code, path, body, w.Body.String())
		}
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("answer to %s %q is not JSON: %q", path, body, w.Body.String())
		}
		if w.Code >= 400 && m["error"] == nil {
			t.Fatalf("status %d without error object: %s", w.Code, w.Body.String())
		}
	})
}
