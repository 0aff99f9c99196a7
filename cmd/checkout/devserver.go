package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"time"

	"github.com/buybutton/checkout/cluster"
	"github.com/buybutton/checkout/toolpath"
	"github.com/buybutton/checkout/workflows"
)

// devServer is a Temporal dev server child process (with Temporal UI) that
// keeps its state in a SQLite file, so restarting `checkout dev` loses nothing.
type devServer struct {
	cmd *exec.Cmd
}

// findTemporalCLI finds the temporal CLI: $TEMPORAL_CLI (exported by the
// Makefile), then PATH.
func findTemporalCLI() (string, error) {
	return toolpath.Find("TEMPORAL_CLI", "temporal")
}

// devServerArgs are the start-dev flags: persistent state, UI, the search
// attributes the purchase workflow upserts, and eager activity execution
// (the worker that schedules the Stripe authorization gets it in the answer
// to its workflow task instead of through matching: about 50 ms less per
// purchase, measured by make bench), one task-queue partition.
func devServerArgs(dbFile, hostPort string, uiPort int, codecEndpoint string) ([]string, error) {
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return nil, fmt.Errorf("TEMPORAL_ADDRESS %q: %w", hostPort, err)
	}
	args := []string{"server", "start-dev",
		"--ip", hostOr(host, "127.0.0.1"), "--port", port,
		"--ui-port", fmt.Sprint(uiPort),
		"--db-filename", dbFile,
		"--log-level", "warn",
		"--dynamic-config-value", "system.enableActivityEagerExecution=true",
		// One task-queue partition: on a single node, tasks forwarded
		// between partitions stalled some answers about 2 s under load.
		"--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
		"--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
	}
	for _, sa := range workflows.SearchAttributes {
		args = append(args, "--search-attribute", sa.Name+"="+sa.Type)
	}
	if codecEndpoint != "" {
		args = append(args, "--ui-codec-endpoint", codecEndpoint)
	}
	return args, nil
}

func startDevServer(ctx context.Context, cli string, args []string, logFile string) (*devServer, error) {
	out, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(cli, args...)
	cmd.Stdout, cmd.Stderr = out, out
	// Own process group: Ctrl-C reaches us first and we stop it cleanly;
	// if we die without stopping it, the kernel does.
	cmd.SysProcAttr = cluster.ChildProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cli, err)
	}
	slog.Info("temporal dev server starting", "pid", cmd.Process.Pid, "log", logFile)
	return &devServer{cmd: cmd}, nil
}

func (d *devServer) Stop() {
	if d == nil || d.cmd.Process == nil {
		return
	}
	_ = d.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
	}
}

// reachable reports whether something accepts TCP connections at addr.
func reachable(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// waitReachable polls addr until it accepts connections or ctx ends.
func waitReachable(ctx context.Context, addr string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for !reachable(addr) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not reachable after %s", addr, limit)
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

func hostOr(h, def string) string {
	if h == "" || h == "localhost" {
		return def
	}
	return h
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
