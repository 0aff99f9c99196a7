package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// -kill-worker: how long a worker's death holds its orders up. The product's
// worker runs as its own process (`checkout worker`, the binary built from
// this tree) instead of inside the bench; purchases run -c at a time and,
// a third of the way in, with merchants' accepts of earlier orders in
// flight, the worker is killed with SIGKILL and a new one started at once
// (what a supervisor does). Every buyer repeats its purchase with the same
// Idempotency-Key on a 202, a 5xx or a broken connection, as a client
// does, and so does every merchant's accept. It prints, for the purchases
// and the accepts in flight at the kill, the time from the kill until each
// was authorized (captured).

// killWorkerRun runs the -kill-worker measurement after the setup.
func (e *env) killWorkerRun(tmp, prefix, productID string, n, c int) error {
	bin, err := buildCheckout(tmp)
	if err != nil {
		return err
	}
	e.stopWorker() // the in-process worker leaves; only the process below polls
	logs := filepath.Join(tmp, "worker-logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return err
	}
	first, err := e.startWorkerProcess(bin, filepath.Join(logs, "first.log"))
	if err != nil {
		return err
	}
	var second *exec.Cmd
	defer func() {
		for _, p := range []*exec.Cmd{first, second} {
			if p != nil && p.Process != nil {
				_ = p.Process.Signal(syscall.SIGTERM)
				_ = p.Wait() // the killed one's second Wait only errs
			}
		}
	}()

	// Orders for the merchants to accept while the worker dies, and a
	// purchase proving the worker process polls.
	accepts := max(4, c)
	var toAccept []string
	for i := range accepts + 1 {
		key := fmt.Sprintf("%s-pre-%d", prefix, i)
		o := e.buyUntilFinal(key, productID, 30*time.Second)
		if o.status != "authorized" {
			b, _ := os.ReadFile(filepath.Join(logs, "first.log"))
			return fmt.Errorf("purchase before the kill: %q (%v); worker log:\n%s", o.status, o.err, b)
		}
		if i > 0 {
			toAccept = append(toAccept, o.orderID)
		}
	}

	var mu sync.Mutex
	var killedAt time.Time
	var buys []finalAnswer
	var acceptOuts []finalAnswer
	var acceptWG sync.WaitGroup
	killAt := n / 3
	forEach(n, c, func(i int) {
		if i == killAt {
			// Accepts go out first, so captures are in flight at the kill.
			for _, id := range toAccept {
				acceptWG.Add(1)
				go func() {
					defer acceptWG.Done()
					a := e.acceptUntilFinal(id, 2*time.Minute)
					mu.Lock()
					acceptOuts = append(acceptOuts, a)
					mu.Unlock()
				}()
			}
			time.Sleep(50 * time.Millisecond)
			mu.Lock()
			killedAt = time.Now()
			mu.Unlock()
			_ = first.Process.Kill()
			_ = first.Wait()
			var err error
			if second, err = e.startWorkerProcess(bin, filepath.Join(logs, "second.log")); err != nil {
				fmt.Fprintln(os.Stderr, "bench: start the second worker:", err)
			}
		}
		o := e.buyUntilFinal(fmt.Sprintf("%s-%d", prefix, i), productID, 3*time.Minute)
		mu.Lock()
		buys = append(buys, o)
		mu.Unlock()
	})
	acceptWG.Wait()

	victims, after, failed := recoveryTimes(buys, killedAt, "authorized")
	captured, _, acceptFailed := recoveryTimes(acceptOuts, killedAt, "accepted")
	fmt.Printf("\nkill-worker: %d purchases %d in flight, worker process killed (SIGKILL) at purchase %d with %d accepts sent 50 ms before, a new worker process started at once\n",
		n, c, killAt, len(toAccept))
	fmt.Printf("purchases in flight at the kill: %d, kill → authorized p50 %s, max %s\n", len(victims), ms(percentile(victims, 0.5)), ms(percentile(victims, 1)))
	fmt.Printf("accepts in flight at the kill:   %d, kill → captured p50 %s, max %s\n", len(captured), ms(percentile(captured, 0.5)), ms(percentile(captured, 1)))
	fmt.Printf("purchases started after the kill: %d, answer p50 %s, max %s\n", len(after), ms(percentile(after, 0.5)), ms(percentile(after, 1)))
	if failed+acceptFailed > 0 {
		fmt.Printf("not authorized or not captured in the end: %d purchases, %d accepts (worker logs in %s are removed with the run)\n", failed, acceptFailed, logs)
	}
	return nil
}

// recoveryTimes sorts final answers around the kill: for those sent before
// it and answered after, the time from the kill to the answer; for those
// sent after, their wait; and how many did not end in want.
func recoveryTimes(outs []finalAnswer, killedAt time.Time, want string) (victims, after []time.Duration, failed int) {
	for _, o := range outs {
		switch {
		case o.status != want:
			failed++
		case o.started.Before(killedAt) && o.answered.After(killedAt):
			victims = append(victims, o.answered.Sub(killedAt))
		case !o.started.Before(killedAt):
			after = append(after, o.answered.Sub(o.started))
		}
	}
	return victims, after, failed
}

// finalAnswer is what a client saw in the end, repeating as it should.
type finalAnswer struct {
	orderID, status   string
	started, answered time.Time
	err               error
}

// buyUntilFinal purchases and repeats with the same key until the answer is
// final (not 202, not 5xx, not a broken connection) or limit passes.
func (e *env) buyUntilFinal(key, productID string, limit time.Duration) finalAnswer {
	out := finalAnswer{started: time.Now()}
	tok := e.token("buyer-" + key)
	var body struct {
		OrderID string `json:"order_id"`
		Status  string `json:"status"`
	}
	untilAnswered(&out, limit, http.StatusCreated, http.StatusAccepted, func() (int, error) {
		code, _, err := e.send("/v1/purchases", tok, map[string]string{"Idempotency-Key": key}, purchaseBody(productID), &body)
		return code, err
	})
	if !out.answered.IsZero() {
		out.orderID, out.status = body.OrderID, body.Status
	}
	return out
}

// acceptUntilFinal accepts an order, repeating on a 5xx or a broken
// connection (an accept is idempotent), until it answers.
func (e *env) acceptUntilFinal(orderID string, limit time.Duration) finalAnswer {
	out := finalAnswer{orderID: orderID, started: time.Now()}
	var body struct {
		Status string `json:"status"`
	}
	untilAnswered(&out, limit, http.StatusOK, 0, func() (int, error) {
		return e.post("/v1/merchant/orders/"+orderID+"/accept", e.merchantKey, nil, &body)
	})
	if !out.answered.IsZero() {
		out.status = body.Status
	}
	return out
}

// untilAnswered repeats try every 200 ms, on a 5xx, a broken connection or
// the status again (0: none), until it answers or limit passes from
// out.started. An answer other than want is recorded as out.err.
func untilAnswered(out *finalAnswer, limit time.Duration, want, again int, try func() (int, error)) {
	for time.Since(out.started) < limit {
		code, err := try()
		if err == nil && code < 500 && code != again {
			out.answered, out.err = time.Now(), nil
			if code != want {
				out.err = fmt.Errorf("HTTP %d", code)
			}
			return
		}
		out.err = err
		if err == nil {
			out.err = fmt.Errorf("HTTP %d", code)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// buildCheckout builds the product's binary from this tree.
func buildCheckout(tmp string) (string, error) {
	bin := filepath.Join(tmp, "checkout")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/checkout")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build checkout (run the bench from the repository's root): %w", err)
	}
	return bin, nil
}

// startWorkerProcess starts `checkout worker` against the bench's Temporal
// server, store and sandbox, its output in logFile.
func (e *env) startWorkerProcess(bin, logFile string) (*exec.Cmd, error) {
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(context.Background(), bin, "worker")
	cmd.Env = append(os.Environ(), e.workerEnv...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	return cmd, nil
}
