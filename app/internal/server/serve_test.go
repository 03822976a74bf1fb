package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startServe runs s.Serve on a loopback listener; cancel starts the shutdown, and done yields Serve's result.
func startServe(t *testing.T, s *Server) (base string, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() { result <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		_ = s.http.Close()
	})
	return "http://" + ln.Addr().String(), cancel, result
}

// newShutdownTestServer is the real server around a handler that blocks until release is closed, at /slow.
func newShutdownTestServer(t *testing.T, drain, timeout time.Duration) (s *Server, entered <-chan struct{}, release chan struct{}) {
	t.Helper()
	s, err := New(Options{Metrics: mustMetrics(t), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		DrainDelay: drain, ShutdownTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	in, release := make(chan struct{}, 1), make(chan struct{})
	routes := s.http.Handler
	s.http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/slow" {
			routes.ServeHTTP(w, r)
			return
		}
		in <- struct{}{}
		<-release
		_, _ = io.WriteString(w, "finished")
	})
	return s, in, release
}

func status(url string) (int, error) {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}

func TestShutdownFailsReadinessDrainsThenLetsInFlightRequestsFinish(t *testing.T) {
	const drain = 300 * time.Millisecond
	s, entered, release := newShutdownTestServer(t, drain, 5*time.Second)
	base, shutdown, done := startServe(t, s)

	// GIVEN a request in flight
	slow := make(chan string, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			slow <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		slow <- resp.Status + " " + string(b)
	}()
	<-entered

	// WHEN shutdown begins
	began := time.Now()
	shutdown()

	// THEN readiness fails at once while the listener still accepts, for the drain delay
	waitFor(t, "/readyz to answer 503", func() bool { c, _ := status(base + "/readyz"); return c == 503 })
	if c, err := status(base + "/healthz"); c != 200 {
		t.Errorf("during the drain /healthz = %d, %v; want 200 (liveness is not readiness)", c, err)
	}
	// AND the listener closes only after the drain delay
	waitFor(t, "the listener to close", func() bool { _, err := status(base + "/healthz"); return err != nil })
	if closed := time.Since(began); closed < drain {
		t.Errorf("listener closed %v after shutdown began, before the %v drain delay", closed, drain)
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned (%v) while a request was in flight", err)
	default:
	}

	// AND the request in flight completes, after which Serve returns cleanly
	close(release)
	if got := <-slow; got != "200 OK finished" {
		t.Errorf("in-flight request got %q, want 200 OK finished", got)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve() = %v, want nil after a clean shutdown", err)
	}
}

func TestShutdownGivesUpAfterTheTimeout(t *testing.T) {
	s, entered, release := newShutdownTestServer(t, 0, time.Second)
	defer close(release)
	base, shutdown, done := startServe(t, s)
	go func() { _, _ = http.Get(base + "/slow") }()
	<-entered

	shutdown()

	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "shutdown after 1s") || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Serve() = %v, want a shutdown timeout error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its 1s shutdown timeout")
	}
}

func TestHelloIsPlainTextOverTheWire(t *testing.T) {
	s, _, release := newShutdownTestServer(t, 0, time.Second)
	defer close(release)
	base, _, _ := startServe(t, s)

	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" || string(body) != "Hello, World! Counter: 1" {
		t.Errorf("GET / = %q with Content-Type %q, want \"Hello, World! Counter: 1\" as text/plain; charset=utf-8", body, ct)
	}
}

func TestOversizedHeadersAreRefused(t *testing.T) {
	s, _, release := newShutdownTestServer(t, 0, time.Second)
	defer close(release)
	base, _, _ := startServe(t, s)

	req, _ := http.NewRequest("GET", base+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 2*MaxHeaderBytes))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a %d-byte header got %d, want 431", 2*MaxHeaderBytes, resp.StatusCode)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTheTimeoutsHoldOnServedConnections(t *testing.T) {
	s, err := New(Options{Metrics: mustMetrics(t), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s.http.ReadHeaderTimeout = 300 * time.Millisecond // the production 5s, shortened for the test
	base, _, _ := startServe(t, s)
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n") // headers never finished
	_ = c.SetReadDeadline(start.Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Fatalf("a client that never finished its headers was not cut: %v", err)
	}
	if took, most := time.Since(start), s.http.ReadHeaderTimeout+DeadlineResolution+200*time.Millisecond; took > most {
		t.Errorf("cut after %v, want at most ReadHeaderTimeout + DeadlineResolution (+ slack) = %v", took, most)
	}
}
