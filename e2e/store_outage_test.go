package e2e

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/buybutton/checkout/models"
)

// tcpProxy forwards loopback connections to one address and can refuse them
// for a while: down closes the listener (new connections are refused, as by
// a database that is restarting) and cuts every connection in flight.
type tcpProxy struct {
	mu     sync.Mutex
	addr   string // where the proxy listens; fixed, so clients reconnect to it
	target string
	ln     net.Listener
	conns  map[net.Conn]struct{}
}

// proxyURL starts the proxy in front of the database of dbURL and returns
// the same URL pointing at the proxy.
func (p *tcpProxy) proxyURL(t *testing.T, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p.target = u.Host
	p.conns = map[net.Conn]struct{}{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() { p.down() })
	u.Host = p.addr
	return u.String()
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *tcpProxy) forward(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// down refuses new connections and cuts the open ones.
func (p *tcpProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

// up listens again on the same address.
func (p *tcpProxy) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("proxy listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// The database refuses the worker's connections for 10 s from the moment
// the purchase starts, through ValidateOrder and ReserveStock: the purchase
// waits the outage out and ends authorized, with one PaymentIntent, one
// unit of stock taken, and the same Idempotency-Key answering that order.
func TestStoreOutageDuringPurchaseDelaysItWithoutFailing(t *testing.T) {
	proxy := &tcpProxy{}
	s := newStack(t, stackOptions{workerDB: proxy})
	productID := s.product(3, 1500)
	buyer := s.buyer("buyer_outage_" + randomHex(4))
	body := purchaseBody(productID, 1, "pm_card_visa")

	proxy.down()
	restored := make(chan struct{})
	go func() {
		time.Sleep(10 * time.Second)
		proxy.up(t)
		close(restored)
	}()
	first := s.purchase(buyer, "key-outage", body)
	<-restored
	// The stack's pay wait is 10 s: the buyer is answered pending (202)
	// or, should the steps finish inside the wait, authorized (201).
	if first.Status != http.StatusAccepted && first.Status != http.StatusCreated {
		t.Fatalf("first answer %d %s, want 202 or 201", first.Status, first.Raw)
	}
	orderID := first.str("order_id")

	// Validation writes the row once the database is back, on the step's
	// next durable retry.
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := s.Store.Order(context.Background(), orderID); err == nil {
			break
		} else if !errors.Is(err, models.ErrNotFound) || time.Now().After(deadline) {
			t.Fatalf("order %s: %v", orderID, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	o := s.waitSettled(orderID)
	if o.Status != models.StatusAuthorized {
		t.Fatalf("order %s (%s), want authorized", o.Status, o.FailureCode)
	}
	if got := s.Sandbox.AuthorizationsFor(orderID); got != 1 {
		t.Fatalf("authorizations = %d, want 1", got)
	}
	if got := s.stock(productID); got != 2 {
		t.Fatalf("stock = %d, want 2", got)
	}
	again := s.purchase(buyer, "key-outage", body)
	if again.Status != http.StatusCreated || again.str("order_id") != orderID || again.str("status") != string(models.StatusAuthorized) {
		t.Fatalf("same key answered %d %s, want 201 authorized for %s", again.Status, again.Raw, orderID)
	}
}

// With the API's database gone, reads and purchases answer 503 with
// Retry-After and the error shape (never a 500), and work again once it is back.
func TestStoreOutageAnswersServiceUnavailable(t *testing.T) {
	proxy := &tcpProxy{}
	s := newStack(t, stackOptions{apiDB: proxy})
	productID := s.product(3, 1500)
	buyer := s.buyer("buyer_api_outage_" + randomHex(4))

	proxy.down()
	for _, r := range []response{
		s.do("GET", "/v1/products/"+productID, "", nil, nil),
		s.purchase(buyer, "key-api-outage", purchaseBody(productID, 1, "pm_card_visa")),
	} {
		if r.Status != http.StatusServiceUnavailable || r.errorCode() != "store_unavailable" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("answer %d (Retry-After %q) %s, want 503 store_unavailable with Retry-After",
				r.Status, r.Header.Get("Retry-After"), r.Raw)
		}
	}
	proxy.up(t)
	s.purchase(buyer, "key-api-outage", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated)
}
