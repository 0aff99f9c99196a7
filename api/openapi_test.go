package api

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

var httpMethods = map[string]bool{"get": true, "put": true, "post": true, "delete": true,
	"patch": true, "head": true, "options": true, "trace": true}

// openAPIDoc parses the embedded document into plain maps.
func openAPIDoc(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(OpenAPI(), &doc))
	require.Equal(t, "3.1.0", doc["openapi"])
	return doc
}

type documentedOp struct {
	op            map[string]any
	pathItem      map[string]any
	outsideRouter bool
}

// documentedOps indexes the document's operations by "METHOD /path".
func documentedOps(t *testing.T, doc map[string]any) map[string]documentedOp {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	require.True(t, ok, "paths is not a map")
	ops := map[string]documentedOp{}
	for path, item := range paths {
		pathItem, ok := item.(map[string]any)
		require.True(t, ok, "path %s is not a map", path)
		for method, v := range pathItem {
			if !httpMethods[method] {
				continue
			}
			op, ok := v.(map[string]any)
			require.True(t, ok, "%s %s is not a map", method, path)
			outside, _ := op["x-outside-router"].(bool)
			ops[strings.ToUpper(method)+" "+path] = documentedOp{op: op, pathItem: pathItem, outsideRouter: outside}
		}
	}
	return ops
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

// registeredRoutes lists the gin engine's routes as "METHOD /path" with
// OpenAPI's {param} syntax.
func registeredRoutes(t *testing.T, h http.Handler) map[string]bool {
	t.Helper()
	engine, ok := h.(*gin.Engine)
	require.True(t, ok, "without a codec the handler is the gin engine")
	routes := map[string]bool{}
	for _, r := range engine.Routes() {
		routes[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	require.NotEmpty(t, routes)
	return routes
}

// TestOpenAPIDocumentsEveryRoute keeps the document and the router in step:
// every registered route (including /metrics and /openapi.yaml) is
// documented with the same method and path, and every documented operation
// is registered, except those marked x-outside-router, which must be served
// by the codec mount instead.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc := openAPIDoc(t)
	ops := documentedOps(t, doc)
	routes := registeredRoutes(t, newEnv(t).handler)

	var undocumented, unregistered []string
	for r := range routes {
		if _, ok := ops[r]; !ok {
			undocumented = append(undocumented, r)
		}
	}
	var outside []string
	for key, d := range ops {
		switch {
		case d.outsideRouter:
			require.False(t, routes[key], "%s is marked x-outside-router but is a gin route", key)
			outside = append(outside, key)
		case !routes[key]:
			unregistered = append(unregistered, key)
		}
	}
	sort.Strings(undocumented)
	sort.Strings(unregistered)
	require.Empty(t, undocumented, "routes missing from api/openapi.yaml")
	require.Empty(t, unregistered, "documented operations the router does not register")

	// The operations outside the router must really be served: with a codec
	// configured, each reaches it instead of the router's 404.
	require.NotEmpty(t, outside)
	var reached []string
	codecStub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = append(reached, r.Method+" "+r.URL.Path)
		w.WriteHeader(http.StatusOK)
	})
	e := newEnv(t, func(c *Config) { c.Codec = codecStub; c.AdminToken = "op-token" })
	for _, key := range outside {
		method, path, _ := strings.Cut(key, " ")
		reached = nil
		w := e.do(req{method: method, path: strings.ReplaceAll(path, "{token}", "op-token"), body: `{"payloads":[]}`,
			auth: "Bearer op-token"})
		require.Equal(t, http.StatusOK, w.Code, "%s: %s", key, w.Body.String())
		require.Len(t, reached, 1, "%s did not reach the codec server", key)
	}
}

// TestOpenAPIOperationsAreComplete checks what a client generator relies on:
// ids, responses, declared path parameters, known security schemes,
// resolvable references and strict request bodies.
func TestOpenAPIOperationsAreComplete(t *testing.T) {
	doc := openAPIDoc(t)
	components := doc["components"].(map[string]any)
	schemes := components["securitySchemes"].(map[string]any)
	require.ElementsMatch(t, []string{"buyerToken", "merchantKey", "operatorToken"}, keys(schemes))

	ids := map[string]string{}
	pathParam := regexp.MustCompile(`\{([^}]+)\}`)
	for key, d := range documentedOps(t, doc) {
		id, _ := d.op["operationId"].(string)
		require.NotEmpty(t, id, "%s has no operationId", key)
		require.NotContains(t, ids, id, "operationId %s used twice", id)
		ids[id] = key

		responses, _ := d.op["responses"].(map[string]any)
		require.NotEmpty(t, responses, "%s has no responses", key)

		declared := map[string]bool{}
		for _, list := range []any{d.pathItem["parameters"], d.op["parameters"]} {
			params, _ := list.([]any)
			for _, p := range params {
				pm := resolve(t, doc, p)
				if pm["in"] == "path" {
					declared[pm["name"].(string)] = true
				}
			}
		}
		_, path, _ := strings.Cut(key, " ")
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			require.True(t, declared[m[1]], "%s does not declare path parameter %s", key, m[1])
		}

		security, _ := d.op["security"].([]any)
		for _, req := range security {
			for name := range req.(map[string]any) {
				require.Contains(t, schemes, name, "%s uses unknown security scheme %s", key, name)
			}
		}

		// This API's own request bodies refuse unknown fields; Stripe's
		// events and Temporal's codec payloads follow those protocols.
		if body, ok := d.op["requestBody"]; ok && !strings.HasPrefix(key, "POST /v1/webhooks/stripe") && !d.outsideRouter {
			content := resolve(t, doc, body)["content"].(map[string]any)
			schema := resolve(t, doc, content["application/json"].(map[string]any)["schema"])
			require.Equal(t, false, schema["additionalProperties"], "%s request body is not strict", key)
		}
	}
	requireRefsResolve(t, doc, doc)
}

// TestOpenAPIDocumentsIdempotencyKeys checks that the routes whose handlers
// call requireIdempotencyKey document the header as required.
func TestOpenAPIDocumentsIdempotencyKeys(t *testing.T) {
	doc := openAPIDoc(t)
	ops := documentedOps(t, doc)
	for _, key := range []string{"POST /v1/purchases", "POST /v1/merchant/orders/{id}/refund"} {
		var required bool
		params, _ := ops[key].op["parameters"].([]any)
		for _, p := range params {
			pm := resolve(t, doc, p)
			if pm["name"] == headerIdempotencyKey && pm["in"] == "header" && pm["required"] == true {
				required = true
			}
		}
		require.True(t, required, "%s does not document a required Idempotency-Key", key)
	}
}

func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	w := e.do(req{method: http.MethodGet, path: "/openapi.yaml"})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Equal(t, "application/yaml", w.Header().Get("Content-Type"))
	require.Equal(t, OpenAPI(), w.Body.Bytes())
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(w.Body.Bytes(), &doc))
	require.Contains(t, doc, "paths")

	// Public, and only GET.
	w = e.do(req{method: http.MethodPost, path: "/openapi.yaml"})
	requireError(t, w, http.StatusMethodNotAllowed, codeMethodNotAllowed)
}

// resolve follows a local $ref (one level is all the document uses).
func resolve(t *testing.T, doc map[string]any, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	require.True(t, ok, "expected an object, got %T", v)
	ref, ok := m["$ref"].(string)
	if !ok {
		return m
	}
	target := lookupRef(t, doc, ref)
	out, ok := target.(map[string]any)
	require.True(t, ok, "%s is not an object", ref)
	return resolve(t, doc, out)
}

func lookupRef(t *testing.T, doc map[string]any, ref string) any {
	t.Helper()
	require.True(t, strings.HasPrefix(ref, "#/"), "non-local $ref %s", ref)
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		require.True(t, ok, "$ref %s does not resolve", ref)
		cur, ok = m[part]
		require.True(t, ok, "$ref %s does not resolve", ref)
	}
	return cur
}

func requireRefsResolve(t *testing.T, doc map[string]any, v any) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			if ref, ok := child.(string); ok && k == "$ref" {
				lookupRef(t, doc, ref)
				continue
			}
			requireRefsResolve(t, doc, child)
		}
	case []any:
		for _, child := range x {
			requireRefsResolve(t, doc, child)
		}
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
