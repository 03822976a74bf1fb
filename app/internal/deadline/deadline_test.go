package deadline

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// pair returns both ends of a loopback TCP connection: the server's accepted through Listener(resolution), and the
// client's.
func pair(t *testing.T, resolution time.Duration) (server net.Conn, client net.Conn) {
	t.Helper()
	return connect(t, listen(t, resolution))
}

// connect dials ln and accepts the connection; both ends close when the test ends.
func connect(t *testing.T, ln net.Listener) (server net.Conn, client net.Conn) {
	t.Helper()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Close() })
	return server, client
}

func listen(t *testing.T, resolution time.Duration) net.Listener {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Listener(raw, resolution)
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// readErr reads one byte from c and returns the error and how long the Read took. A Read still blocked after two
// seconds fails the test (and is ended by closing c) rather than hanging it.
func readErr(t *testing.T, c net.Conn) (error, time.Duration) {
	t.Helper()
	start := time.Now()
	result := make(chan error, 1)
	go func() { _, err := c.Read(make([]byte, 1)); result <- err }()
	select {
	case err := <-result:
		return err, time.Since(start)
	case <-time.After(2 * time.Second):
		_ = c.Close()
		t.Fatal("the read was still blocked after 2s: no deadline ended it")
		return nil, 0
	}
}

// writeErr writes more than the socket buffers hold to c, whose peer does not read, under the same two-second guard.
func writeErr(t *testing.T, c net.Conn) error {
	t.Helper()
	result := make(chan error, 1)
	go func() { _, err := c.Write(make([]byte, 64<<20)); result <- err }()
	select {
	case err := <-result:
		return err
	case <-time.After(2 * time.Second):
		_ = c.Close()
		t.Fatal("the write was still blocked after 2s: no deadline ended it")
		return nil
	}
}

func assertTimeout(t *testing.T, err error) {
	t.Helper()
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("got %v, want a timeout (os.ErrDeadlineExceeded), as net/http expects", err)
	}
}

func TestAFutureDeadlineIsEnforcedNoEarlierAndAtMostOneResolutionLate(t *testing.T) {
	const resolution, after = 50 * time.Millisecond, 200 * time.Millisecond
	server, _ := pair(t, resolution)
	if err := server.SetReadDeadline(time.Now().Add(after)); err != nil {
		t.Fatal(err)
	}
	err, took := readErr(t, server)
	assertTimeout(t, err)
	if took < after || took > after+resolution+50*time.Millisecond { // 50 ms of scheduling slack
		t.Errorf("the read gave up after %v, want between %v and %v", took, after, after+resolution)
	}
}

func TestAPastDeadlineInterruptsAPendingReadAtOnce(t *testing.T) {
	server, _ := pair(t, time.Hour) // the sweeper never runs: the past deadline must not wait for it
	go func() {
		time.Sleep(50 * time.Millisecond)           // let the Read block
		_ = server.SetReadDeadline(time.Unix(1, 0)) // net/http's aLongTimeAgo
	}()
	err, took := readErr(t, server)
	assertTimeout(t, err)
	if took > 150*time.Millisecond {
		t.Errorf("the pending read was interrupted after %v, want at once", took)
	}
}

func TestLiftingAnEnforcedDeadlineLetsReadsWorkAgain(t *testing.T) {
	server, client := pair(t, 20*time.Millisecond)
	if err := server.SetReadDeadline(time.Now().Add(30 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	err, _ := readErr(t, server)
	assertTimeout(t, err)

	for name, lift := range map[string]time.Time{"cleared": {}, "moved later": time.Now().Add(time.Hour)} {
		if err := server.SetReadDeadline(lift); err != nil {
			t.Fatal(err)
		}
		if _, err := client.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if err, _ := readErr(t, server); err != nil {
			t.Errorf("%s: read after lifting the deadline: %v", name, err)
		}
		if err := server.SetReadDeadline(time.Unix(1, 0)); err != nil { // enforced again for the next case
			t.Fatal(err)
		}
	}
}

func TestADeadlineMovedLaterBeforeItPassesIsNotEnforced(t *testing.T) {
	server, client := pair(t, 20*time.Millisecond)
	if err := server.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := server.SetReadDeadline(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // several sweeps past the first deadline
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err, _ := readErr(t, server); err != nil {
		t.Errorf("read: %v; the earlier deadline was replaced and must not fire", err)
	}
}

func TestRacingTheSweeperNeverLeavesAPassedDeadlineEnforced(t *testing.T) {
	server, client := pair(t, time.Millisecond) // a sweep every millisecond, racing the setter below
	deadline := time.Now().Add(500 * time.Millisecond)
	for i := 0; time.Now().Before(deadline); i++ {
		// deadlines that pass while being replaced: the sweeper and the setter race for each one
		_ = server.SetReadDeadline(time.Now().Add(time.Duration(i%3) * time.Millisecond))
		_ = server.SetWriteDeadline(time.Now().Add(time.Duration(i%2) * time.Millisecond))
	}
	if err := server.SetDeadline(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // a few more sweeps
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err, _ := readErr(t, server); err != nil {
		t.Errorf("read after moving the deadline an hour ahead: %v", err)
	}
	if _, err := server.Write([]byte("y")); err != nil {
		t.Errorf("write after moving the deadline an hour ahead: %v", err)
	}
}

func TestAWriteDeadlineStopsAWriteTheClientDoesNotRead(t *testing.T) {
	server, _ := pair(t, 20*time.Millisecond)
	if err := server.SetWriteDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	assertTimeout(t, writeErr(t, server))
}

func TestSetDeadlineSetsBoth(t *testing.T) {
	server, _ := pair(t, 20*time.Millisecond)
	if err := server.SetDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	err, _ := readErr(t, server)
	assertTimeout(t, err)
	assertTimeout(t, writeErr(t, server))
}

func TestClosedConnectionsLeaveTheSweepAndRefuseDeadlines(t *testing.T) {
	ln := listen(t, 20*time.Millisecond)
	server, _ := connect(t, ln)
	l := ln.(*listener)
	if n := tracked(l); n != 1 {
		t.Fatalf("%d connections in the sweep, want 1", n)
	}
	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
	if n := tracked(l); n != 0 {
		t.Errorf("%d connections in the sweep after Close, want 0", n)
	}
	if err := server.SetReadDeadline(time.Now().Add(time.Second)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SetReadDeadline after Close: %v, want net.ErrClosed", err)
	}
}

func tracked(l *listener) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

func TestDeadlinesOutliveTheListenerAndTheSweeperStopsWithTheLastConnection(t *testing.T) {
	ln := listen(t, 10*time.Millisecond)
	l := ln.(*listener)
	if sweeping(l) {
		t.Fatal("a listener without connections should not sweep")
	}
	server, _ := connect(t, ln)
	// A graceful shutdown closes the listener first; the connections it accepted still have their timeouts.
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if err := server.SetReadDeadline(time.Now().Add(30 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	err, _ := readErr(t, server)
	assertTimeout(t, err)

	_ = server.Close()
	for end := time.Now().Add(time.Second); sweeping(l); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the sweeper still runs a second after the last connection closed")
		}
	}
}

func sweeping(l *listener) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sweeping
}

// pipeListener accepts net.Pipe connections: not TCP.
type pipeListener struct {
	net.Listener
	conn net.Conn
}

func (p pipeListener) Accept() (net.Conn, error) { return p.conn, nil }

func TestConnectionsThatAreNotTCPPassThroughUnwrapped(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Listener(pipeListener{Listener: raw, conn: a}, time.Hour)
	defer ln.Close()
	got, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if got != a {
		t.Errorf("Accept returned %T, want the pipe itself", got)
	}
}

// serveHTTP runs an http.Server with the given timeouts on a Listener(resolution) and returns its address.
func serveHTTP(t *testing.T, resolution time.Duration, s *http.Server) string {
	t.Helper()
	ln := listen(t, resolution)
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { _ = s.Close() })
	return ln.Addr().String()
}

// closedAfter returns how long the server took to close c, reading (and discarding) whatever it sends.
func closedAfter(t *testing.T, c net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(limit))
	_, err := io.Copy(io.Discard, c)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("the server had not closed the connection after %v: %v", took, err)
	}
	return took
}

func TestNetHTTPTimeoutsHoldThroughTheListener(t *testing.T) {
	const resolution = 50 * time.Millisecond
	const window = resolution + 100*time.Millisecond // at most one resolution late, plus scheduling slack
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(600 * time.Millisecond)
		}
		_, _ = io.WriteString(w, "hello")
	})
	addr := serveHTTP(t, resolution, &http.Server{Handler: hello,
		ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 400 * time.Millisecond,
		WriteTimeout: 300 * time.Millisecond, IdleTimeout: 500 * time.Millisecond})
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}

	t.Run("a client that never finishes its headers is cut after ReadHeaderTimeout", func(t *testing.T) {
		t.Parallel()
		c := dial()
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n")
		if took := closedAfter(t, c, 2*time.Second); took < 200*time.Millisecond || took > 200*time.Millisecond+window {
			t.Errorf("closed after %v, want 200ms to %v", took, 200*time.Millisecond+window)
		}
	})
	t.Run("an idle keep-alive connection is closed after IdleTimeout", func(t *testing.T) {
		t.Parallel()
		c := dial()
		r := bufio.NewReader(c)
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if took := closedAfter(t, c, 2*time.Second); took < 500*time.Millisecond || took > 500*time.Millisecond+window {
			t.Errorf("closed after %v, want 500ms to %v", took, 500*time.Millisecond+window)
		}
	})
	t.Run("a response slower than WriteTimeout is not delivered", func(t *testing.T) {
		t.Parallel()
		c := dial()
		_, _ = io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		got, _ := io.ReadAll(c)
		if strings.Contains(string(got), "hello") {
			t.Errorf("the response arrived after the write deadline: %q", got)
		}
	})
	t.Run("keep-alive requests keep working across many deadline moves", func(t *testing.T) {
		t.Parallel()
		c := dial()
		r := bufio.NewReader(c)
		for i := range 2000 {
			_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "hello" {
				t.Fatalf("request %d: %q", i, body)
			}
		}
	})
}
