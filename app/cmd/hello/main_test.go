package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The tests run the real program as a child process: the test binary itself, re-executed with this variable set.
const childEnv = "HELLO_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

type process struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	logs   chan map[string]any // stdout, one JSON object per line
	exited chan error
}

// start runs the program with the given environment (on top of a clean one), as a separate process.
func start(t *testing.T, env ...string) *process {
	t.Helper()
	p := &process{logs: make(chan map[string]any, 100), exited: make(chan error, 1)}
	p.cmd = exec.Command(os.Args[0])
	p.cmd.Env = append([]string{childEnv + "=1", "PATH=" + os.Getenv("PATH")}, env...)
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var line map[string]any
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				line = map[string]any{"msg": "NOT JSON: " + sc.Text()}
			}
			p.logs <- line
		}
		close(p.logs)
		p.exited <- p.cmd.Wait()
	}()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	return p
}

// waitLog returns the first log line with the given message.
func (p *process) waitLog(t *testing.T, msg string) map[string]any {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case line, ok := <-p.logs:
			if !ok {
				t.Fatalf("the process exited before logging %q; stderr: %s", msg, p.stderr.String())
			}
			if line["msg"] == msg {
				return line
			}
		case <-timeout:
			t.Fatalf("no %q log line within 10s", msg)
		}
	}
}

func (p *process) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-p.exited:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(20 * time.Second):
		t.Fatal("the process did not exit within 20s")
		return -1
	}
}

func TestInvalidConfigurationExitsWithOneLineNamingTheProblem(t *testing.T) {
	tests := []struct {
		env  string
		want string
	}{
		{"DRAIN_DELAY=abc", `invalid DRAIN_DELAY "abc": must be a Go duration between 0s and 5m (e.g. 5s)`},
		{"PORT=http", `invalid PORT "http": must be an integer between 0 and 65535 (e.g. 8080)`},
		{"LOG_LEVEL=trace", `invalid LOG_LEVEL "trace": must be one of debug, info, warn, error`},
		{"SHUTDOWN_TIMEOUT=forever", `invalid SHUTDOWN_TIMEOUT "forever": must be a Go duration between 1s and 5m (e.g. 20s)`},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			p := start(t, tt.env)
			if code := p.wait(t); code == 0 {
				t.Errorf("exit code 0, want non-zero")
			}
			if got := p.stderr.String(); got != tt.want+"\n" {
				t.Errorf("stderr = %q, want exactly one line %q", got, tt.want)
			}
		})
	}
}

func TestSIGTERMUnderLoadFailsNoRequestAndFailsReadinessBeforeTheListenerCloses(t *testing.T) {
	const drain = time.Second

	// GIVEN the program listening on a port of its choice
	// (Shutdown waits up to 5s for a connection that never sent a request, golang/go#22682: hence 10s.)
	p := start(t, "PORT=0", "DRAIN_DELAY="+drain.String(), "SHUTDOWN_TIMEOUT=10s")
	addr, _ := p.waitLog(t, "listening")["addr"].(string)
	i := strings.LastIndex(addr, ":")
	if i < 0 || addr[i+1:] == "0" {
		t.Fatalf("the startup log line has addr %q, want the actual listen address", addr)
	}
	base := "http://127.0.0.1:" + addr[i+1:]

	// AND continuous load from keep-alive clients, which stop sending shortly after readiness fails,
	// as a load balancer does (the drain delay is the margin for that)
	var (
		ok, maxCounter atomic.Int64
		failuresMu     sync.Mutex
		failures       []string
		stopLoad       = make(chan struct{})
		load           sync.WaitGroup
	)
	for range 4 {
		load.Go(func() {
			client := &http.Client{Timeout: 5 * time.Second}
			for {
				select {
				case <-stopLoad:
					client.CloseIdleConnections() // as a balancer that dropped this backend
					return
				default:
				}
				n, err := hello(client, base)
				if err != nil {
					failuresMu.Lock()
					failures = append(failures, err.Error())
					failuresMu.Unlock()
					continue
				}
				ok.Add(1)
				for cur := maxCounter.Load(); n > cur && !maxCounter.CompareAndSwap(cur, n); cur = maxCounter.Load() {
				}
			}
		})
	}

	// AND a probe that records when readiness failed and when the listener closed
	var notReadyAt, closedAt time.Time
	probed := make(chan struct{})
	go func() {
		defer close(probed)
		probe := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			resp, err := probe.Get(base + "/readyz")
			if err != nil {
				if errors.Is(err, syscall.ECONNREFUSED) {
					closedAt = time.Now()
					return
				}
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusServiceUnavailable && notReadyAt.IsZero() {
				notReadyAt = time.Now()
				time.AfterFunc(drain/3, func() { close(stopLoad) })
			}
		}
	}()
	time.Sleep(500 * time.Millisecond)

	// WHEN the process gets SIGTERM
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-probed
	load.Wait()
	code := p.wait(t)

	// THEN no request failed, every one was counted once, and readiness failed a drain delay before the listener closed
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed during the shutdown, first: %s", len(failures), int(ok.Load())+len(failures), failures[0])
	}
	if ok.Load() < 100 {
		t.Errorf("only %d requests succeeded: the load did not run", ok.Load())
	}
	if maxCounter.Load() != ok.Load() {
		t.Errorf("the counter reached %d after %d successful requests", maxCounter.Load(), ok.Load())
	}
	switch {
	case notReadyAt.IsZero():
		t.Error("/readyz never answered 503")
	case closedAt.IsZero():
		t.Error("the listener never closed")
	case closedAt.Sub(notReadyAt) < drain-100*time.Millisecond:
		t.Errorf("the listener closed %v after /readyz turned 503, want about the %v drain delay", closedAt.Sub(notReadyAt), drain)
	}
	if code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0; stderr: %s", code, p.stderr.String())
	}
	p.waitLog(t, "shutdown complete")
}

func hello(client *http.Client, base string) (int64, error) {
	resp, err := client.Get(base + "/")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, errors.New(resp.Status)
	}
	return strconv.ParseInt(strings.TrimPrefix(string(body), "Hello, World! Counter: "), 10, 64)
}
