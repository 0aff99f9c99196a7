package sandbox

import (
	"net/http"
	"sort"
	"strings"
)

// searchIntents is GET /v1/payment_intents/search. Of Stripe's query
// language it knows the one clause the checkout sends, an exact metadata
// match: metadata['key']:'value'. Anything else is refused with a 400 rather
// than answered wrongly. Intents younger than Faults.SearchLag are left out,
// as Stripe's index lags its writes.
func (s *Server) searchIntents(c *call) (int, any) {
	p := c.params
	if err := p.onlyKnown("query", "limit", "page", "expand"); err != nil {
		return result(0, nil, err)
	}
	q := p.str("query")
	if q == "" {
		return result(0, nil, missingParam("query"))
	}
	key, value, ok := parseMetadataQuery(q)
	if !ok {
		return result(0, nil, invalid("query",
			"The sandbox supports only queries of the form metadata['key']:'value'; got %q.", q))
	}
	limit, err := p.limit()
	if err != nil {
		return result(0, nil, err)
	}

	cutoff := s.now().Add(-s.faults.searchLag())
	var hits []*paymentIntent
	for _, pi := range s.intents {
		if v, ok := pi.metadata[key]; ok && v == value && !pi.created.After(cutoff) {
			hits = append(hits, pi)
		}
	}
	// Newest first, as Stripe orders search results by default.
	sort.Slice(hits, func(i, j int) bool {
		if !hits[i].created.Equal(hits[j].created) {
			return hits[i].created.After(hits[j].created)
		}
		return hits[i].id > hits[j].id
	})
	more := len(hits) > int(limit)
	if more {
		hits = hits[:limit]
	}
	data := make([]any, 0, len(hits))
	for _, pi := range hits {
		data = append(data, s.renderIntent(pi, c.expand))
	}
	// Paging is not kept: has_more says there is more, next_page stays null.
	return http.StatusOK, map[string]any{
		"object": "search_result", "data": data, "has_more": more, "next_page": nil,
		"url": "/v1/payment_intents/search",
	}
}

// parseMetadataQuery reads metadata['key']:'value', where a backslash
// escapes the next character inside the quotes.
func parseMetadataQuery(q string) (key, value string, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(q), "metadata[")
	if !found {
		return "", "", false
	}
	key, rest, ok = quoted(rest)
	if !ok || key == "" {
		return "", "", false
	}
	rest, found = strings.CutPrefix(rest, "]:")
	if !found {
		return "", "", false
	}
	value, rest, ok = quoted(rest)
	if !ok || rest != "" {
		return "", "", false
	}
	return key, value, true
}

// quoted reads a single- or double-quoted string at the start of s and
// returns it unescaped with what follows it.
func quoted(s string) (string, string, bool) {
	if s == "" || (s[0] != '\'' && s[0] != '"') {
		return "", "", false
	}
	quote := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case ch == quote:
			return b.String(), s[i+1:], true
		default:
			b.WriteByte(ch)
		}
	}
	return "", "", false
}
