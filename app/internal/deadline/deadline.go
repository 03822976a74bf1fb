// Package deadline enforces the read and write deadlines of a listener's TCP connections with one coarse clock
// instead of a runtime timer per connection.
//
// Why: with http.Server's ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout set, net/http (Go 1.26) moves
// each keep-alive connection's deadlines six times per request (header, whole request, cleared for the background
// read, write, write cleared, idle), and every move of a future deadline re-arms a runtime timer and reads the clock
// again. On a small handler that was about 8% of the CPU per request (see bench/service.ts). Here moving a future
// deadline is one compare-and-swap, and a sweeper goroutine, once per resolution, expires the
// connections whose deadline has passed by setting their real deadline into the past; the blocked Read or Write
// returns os.ErrDeadlineExceeded exactly as it would have.
//
// The guarantee: a deadline is never enforced before it passes, and at most one resolution after. Deadlines already
// in the past (net/http's way to interrupt a pending read, and http.ResponseController's) take effect at once, as
// does clearing a deadline the sweeper has enforced. Connections that are not *net.TCPConn pass through unwrapped.
package deadline

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Listener returns ln with coarse deadlines on the connections it accepts, enforced within resolution. Its sweeper
// runs while it has open connections, so they keep their deadlines after the listener closes (a graceful shutdown
// closes the listener first), and an idle listener costs nothing.
func Listener(ln net.Listener, resolution time.Duration) net.Listener {
	return &listener{Listener: ln, resolution: resolution, conns: map[*conn]struct{}{}}
}

type listener struct {
	net.Listener
	resolution time.Duration
	now        atomic.Int64 // unix nanoseconds at the last sweep: never ahead of the real clock

	mu       sync.Mutex
	conns    map[*conn]struct{}
	sweeping bool
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tcp, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	cc := &conn{TCPConn: tcp, l: l}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conns[cc] = struct{}{}
	if !l.sweeping {
		l.sweeping = true
		l.now.Store(time.Now().UnixNano())
		go l.sweep()
	}
	return cc, nil
}

// sweep enforces the deadlines that passed, once per resolution, until no connection is left.
func (l *listener) sweep() {
	tick := time.NewTicker(l.resolution)
	defer tick.Stop()
	for now := range tick.C {
		n := now.UnixNano()
		l.now.Store(n)
		l.mu.Lock()
		if len(l.conns) == 0 {
			l.sweeping = false
			l.mu.Unlock()
			return
		}
		for c := range l.conns {
			c.mu.Lock()
			c.read.expire(n, c.TCPConn.SetReadDeadline)
			c.write.expire(n, c.TCPConn.SetWriteDeadline)
			c.mu.Unlock()
		}
		l.mu.Unlock()
	}
}

// conn is a TCP connection whose future deadlines are fields; everything else is the *net.TCPConn's own (ReadFrom
// keeps sendfile, CloseWrite keeps net/http's graceful close).
type conn struct {
	*net.TCPConn
	l *listener

	read, write direction
	closed      atomic.Bool

	// mu serialises what touches the real deadlines: enforcing (sweeper), lifting and passing a past deadline
	// (setters). Moving a future deadline that is not enforced takes no lock.
	mu sync.Mutex
}

// direction is one deadline as unix nanoseconds with its lowest bit cleared, 0 for none. The lowest bit set means
// enforced: the connection's real deadline is in the past because this one passed. The bit changes only under
// conn.mu, together with the real deadline.
type direction struct{ v atomic.Int64 }

const enforced = 1

func (c *conn) SetReadDeadline(t time.Time) error {
	return c.set(&c.read, t, c.TCPConn.SetReadDeadline)
}

func (c *conn) SetWriteDeadline(t time.Time) error {
	return c.set(&c.write, t, c.TCPConn.SetWriteDeadline)
}

func (c *conn) SetDeadline(t time.Time) error {
	if err := c.set(&c.read, t, c.TCPConn.SetReadDeadline); err != nil {
		return err
	}
	return c.set(&c.write, t, c.TCPConn.SetWriteDeadline)
}

// set records t as d's deadline. The real deadline is touched only when t has passed already (to enforce it now) or
// when an enforced deadline is lifted.
func (c *conn) set(d *direction, t time.Time, real func(time.Time) error) error {
	if c.closed.Load() {
		return net.ErrClosed
	}
	var at int64
	if !t.IsZero() {
		at = max(t.UnixNano()&^enforced, 2) // 0 means none, and the bit is the flag
	}
	future := at == 0 || at > c.l.now.Load()
	// Fast path: a future deadline (or none) replacing one that is not enforced. If the sweeper enforces the old
	// one first, the swap fails and the slow path lifts it.
	if old := d.v.Load(); future && old&enforced == 0 && d.v.CompareAndSwap(old, at) {
		return nil
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if !future {
		d.v.Store(at | enforced)
		return real(t)
	}
	if d.v.Swap(at)&enforced != 0 {
		return real(time.Time{})
	}
	return nil
}

// expire enforces d's deadline on real if it passed by now. Called with the connection's mu held.
func (d *direction) expire(now int64, real func(time.Time) error) {
	if old := d.v.Load(); old != 0 && old&enforced == 0 && old <= now && d.v.CompareAndSwap(old, old|enforced) {
		_ = real(time.Unix(0, old))
	}
}

func (c *conn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	c.closed.Store(true)
	return c.TCPConn.Close()
}
