package sandbox

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// params reads Stripe's form encoding as stripe-go writes it:
// metadata[order_id]=…, payment_method_types[0]=card, expand[0]=…,
// invoice_settings[default_payment_method]=….
type params struct{ url.Values }

func (p params) str(name string) string { return strings.TrimSpace(p.Get(name)) }

func (p params) has(name string) bool { _, ok := p.Values[name]; return ok }

// int64 returns the integer at name; ok is false when it is absent.
func (p params) int64(name string) (v int64, ok bool, err *apiError) {
	if !p.has(name) {
		return 0, false, nil
	}
	v, perr := strconv.ParseInt(p.str(name), 10, 64)
	if perr != nil {
		return 0, false, invalid(name, "Invalid integer: %s", p.str(name))
	}
	return v, true, nil
}

// limit is a list's page size: 10 unless given, at most 100.
func (p params) limit() (int64, *apiError) {
	limit, given, err := p.int64("limit")
	switch {
	case err != nil:
		return 0, err
	case !given:
		return 10, nil
	case limit < 1 || limit > 100:
		return 0, invalid("limit", "This value must be between 1 and 100 (it currently is %d).", limit)
	}
	return limit, nil
}

func (p params) bool(name string) (bool, *apiError) {
	switch p.str(name) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, invalid(name, "Invalid boolean: %s", p.str(name))
}

// sub returns the keys nested one level under name, e.g. sub("metadata")
// yields {"order_id": "…"} from metadata[order_id]=….
func (p params) sub(name string) map[string]string {
	out := map[string]string{}
	prefix := name + "["
	for k, vs := range p.Values {
		if !strings.HasPrefix(k, prefix) || !strings.HasSuffix(k, "]") || len(vs) == 0 {
			continue
		}
		inner := k[len(prefix) : len(k)-1]
		if strings.Contains(inner, "[") {
			continue
		}
		out[inner] = vs[0]
	}
	return out
}

// list returns an array parameter in index order; name[]=… is accepted too.
func (p params) list(name string) []string {
	type item struct {
		i int
		v string
	}
	var items []item
	for k, vs := range p.Values {
		if k == name+"[]" {
			for _, v := range vs {
				items = append(items, item{len(items), v})
			}
			continue
		}
		if !strings.HasPrefix(k, name+"[") || !strings.HasSuffix(k, "]") || len(vs) == 0 {
			continue
		}
		i, err := strconv.Atoi(k[len(name)+1 : len(k)-1])
		if err != nil {
			continue
		}
		items = append(items, item{i, vs[0]})
	}
	sort.SliceStable(items, func(a, b int) bool { return items[a].i < items[b].i })
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.v)
	}
	return out
}

func (p params) expand() map[string]bool {
	out := map[string]bool{}
	for _, f := range p.list("expand") {
		out[f] = true
	}
	return out
}

// onlyKnown rejects parameters the endpoint does not have, as Stripe does, so
// a typo in the gateway fails here instead of being silently ignored.
func (p params) onlyKnown(known ...string) *apiError {
	allowed := map[string]bool{"expand": true}
	for _, k := range known {
		allowed[k] = true
	}
	names := make([]string, 0, len(p.Values))
	for k := range p.Values {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		top := k
		if i := strings.IndexByte(k, '['); i >= 0 {
			top = k[:i]
		}
		if !allowed[top] {
			return refusedBeforeExecution(errorf(400, typeInvalidRequest, "parameter_unknown", k, "Received unknown parameter: %s", k))
		}
	}
	return nil
}

// applyMetadata merges updates into md the Stripe way: an empty value deletes
// the key, and metadata="" clears everything.
func applyMetadata(md map[string]string, p params) map[string]string {
	if md == nil {
		md = map[string]string{}
	}
	if p.has("metadata") && p.str("metadata") == "" {
		md = map[string]string{}
	}
	for k, v := range p.sub("metadata") {
		if v == "" {
			delete(md, k)
			continue
		}
		md[k] = v
	}
	return md
}

// fingerprint identifies a request for idempotency: same endpoint, same
// parameters in any order.
func fingerprint(method, path string, v url.Values) string {
	return method + " " + path + "?" + v.Encode() // Encode sorts by key
}
