package server

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

const helloPrefix = "Hello, World! Counter: "

// Hello answers "Hello, World! Counter: N", N counting its requests process-wide, as the original example did
// with a mutex-guarded global int and fmt.Fprintf. This is the hot path: an atomic add instead of a lock,
// strconv instead of fmt, and an explicit Content-Type so that net/http does not sniff the body.
type Hello struct {
	count       atomic.Uint64
	contentType []string
	buffers     sync.Pool // of *[]byte: the answer's buffer escapes through ResponseWriter.Write, so reuse it
}

// NewHello returns the handler with its counter at zero.
func NewHello() *Hello {
	h := &Hello{contentType: []string{contentTypeText}}
	h.buffers.New = func() any { b := make([]byte, 0, len(helloPrefix)+20); return &b } // 20 digits hold any uint64
	return h
}

// Count is the number of requests served so far; hello_counter_total reads it at scrape time.
func (h *Hello) Count() uint64 { return h.count.Load() }

func (h *Hello) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	n := h.count.Add(1)
	// Assigning a shared, never-modified slice saves Header().Set's allocation per request.
	w.Header()["Content-Type"] = h.contentType
	buf := h.buffers.Get().(*[]byte)
	*buf = strconv.AppendUint(append((*buf)[:0], helloPrefix...), n, 10)
	_, _ = w.Write(*buf)
	h.buffers.Put(buf)
}
