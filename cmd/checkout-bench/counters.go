package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"gorm.io/gorm"
)

// counts are the bench's per-purchase counters: database statements and
// transactions by the component whose context ran them, Stripe requests as
// the sandbox received them, Temporal gRPC calls by client, log lines by
// component. Keys are "<kind>\t<component>\t<what>".
type counts struct {
	mu sync.Mutex
	m  map[string]int64
}

var tally = &counts{m: map[string]int64{}}

const (
	kindDB       = "db statements"
	kindTx       = "db transactions"
	kindStripe   = "stripe requests"
	kindTemporal = "temporal calls"
	kindLog      = "log lines"
)

func (c *counts) add(kind, component, what string) {
	if component == "" {
		component = "other"
	}
	c.mu.Lock()
	c.m[kind+"\t"+component+"\t"+what]++
	c.mu.Unlock()
}

func (c *counts) snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// total is the sum of every counter of kind (any component, any what).
func (c *counts) total(kind string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for k, v := range c.m {
		if strings.HasPrefix(k, kind+"\t") {
			n += v
		}
	}
	return n
}

// printPerPurchase prints what changed between before and after, divided by
// purchases: per kind and component a total, and its parts.
func printPerPurchase(w io.Writer, before, after map[string]int64, purchases int) {
	if purchases == 0 {
		return
	}
	type part struct {
		what string
		n    int64
	}
	groups := map[string][]part{}
	var order []string
	for k, v := range after {
		d := v - before[k]
		if d == 0 {
			continue
		}
		f := strings.SplitN(k, "\t", 3)
		g := f[0] + "\t" + f[1]
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], part{f[2], d})
	}
	slices.Sort(order)
	fmt.Fprintf(w, "per purchase (%d purchases):\n", purchases)
	for _, g := range order {
		parts := groups[g]
		slices.SortFunc(parts, func(a, b part) int { return int(b.n - a.n) })
		var sum int64
		var list []string
		for _, p := range parts {
			sum += p.n
			if p.what != "" {
				list = append(list, fmt.Sprintf("%s %.2f", p.what, float64(p.n)/float64(purchases)))
			}
		}
		f := strings.SplitN(g, "\t", 2)
		line := fmt.Sprintf("  %-16s %-8s %6.2f", f[0], f[1], float64(sum)/float64(purchases))
		if len(list) > 0 {
			line += "  (" + strings.Join(list, ", ") + ")"
		}
		fmt.Fprintln(w, line)
	}
}

// countStatements counts every statement gorm runs on db by the component
// of its context, and every transaction it begins. db is the store's handle
// (store.Store.DB): the counting pool replaces its connection pool.
func countStatements(db *gorm.DB) error {
	count := func(op string) func(*gorm.DB) {
		return func(tx *gorm.DB) { tally.add(kindDB, componentOf(tx.Statement.Context), op) }
	}
	cb := db.Callback()
	for _, err := range []error{
		cb.Create().After("gorm:create").Register("bench:count", count("insert")),
		cb.Query().After("gorm:query").Register("bench:count", count("select")),
		cb.Update().After("gorm:update").Register("bench:count", count("update")),
		cb.Delete().After("gorm:delete").Register("bench:count", count("delete")),
		cb.Row().After("gorm:row").Register("bench:count", count("row")),
		cb.Raw().After("gorm:raw").Register("bench:count", count("raw")),
	} {
		if err != nil {
			return err
		}
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	pool := &countingPool{DB: sqlDB}
	db.ConnPool = pool
	db.Statement.ConnPool = pool
	return nil
}

// countingPool is the store's *sql.DB, counting the transactions begun.
type countingPool struct {
	*sql.DB
}

func (p *countingPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	tally.add(kindTx, componentOf(ctx), "")
	return p.DB.BeginTx(ctx, opts)
}

func (p *countingPool) GetDBConn() (*sql.DB, error) { return p.DB, nil }

// countStripe counts the requests the sandbox receives, by method and path
// with the ids replaced ("POST /v1/payment_intents/{id}/confirm"), and
// when each order's requests arrived (waiting_path.go).
func countStripe(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := r.Method + " " + pathShape(r.URL.Path)
		tally.add(kindStripe, componentSandbox, route)
		recordOrderRequest(r, route)
		h.ServeHTTP(w, r)
	})
}

func pathShape(p string) string {
	seg := strings.Split(p, "/")
	// "", "v1", resource, id, action, id…
	for i := 3; i < len(seg); i += 2 {
		if strings.Contains(seg[i], "_") {
			seg[i] = "{id}"
		}
	}
	return strings.Join(seg, "/")
}

// countTemporal is a gRPC interceptor counting the calls a Temporal client
// makes, by method, for component.
func countTemporal(component string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		tally.add(kindTemporal, component, method[strings.LastIndexByte(method, '/')+1:])
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// countingLogger is a JSON logger at Info (what `checkout dev` writes to
// stderr) into io.Discard, so the lines cost what they cost there, counted
// for component ("": the component of the line's context).
func countingLogger(component string) *slog.Logger {
	return slog.New(countingHandler{Handler: slog.NewJSONHandler(io.Discard, nil), component: component})
}

type countingHandler struct {
	slog.Handler
	component string
}

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	c := h.component
	if c == "" {
		c = componentOf(ctx)
	}
	tally.add(kindLog, c, "")
	return h.Handler.Handle(ctx, r)
}

func (h countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return countingHandler{Handler: h.Handler.WithAttrs(as), component: h.component}
}

func (h countingHandler) WithGroup(name string) slog.Handler {
	return countingHandler{Handler: h.Handler.WithGroup(name), component: h.component}
}
