package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestHelloAnswersWithTheRequestCount(t *testing.T) {
	h := NewHello()
	for want := 1; want <= 3; want++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))

		if rec.Code != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", want, rec.Code)
		}
		if body, wantBody := rec.Body.String(), fmt.Sprintf("Hello, World! Counter: %d", want); body != wantBody {
			t.Errorf("request %d: body %q, want %q", want, body, wantBody)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("Content-Type %q, want text/plain; charset=utf-8", ct)
		}
	}
	if got := h.Count(); got != 3 {
		t.Errorf("Count() = %d after 3 requests, want 3", got)
	}
}

func TestHelloCountsEveryConcurrentRequestExactlyOnce(t *testing.T) {
	h := NewHello()
	const workers, each = 8, 250
	seen := make(chan string, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
				seen <- strings.TrimPrefix(rec.Body.String(), "Hello, World! Counter: ")
			}
		})
	}
	wg.Wait()
	close(seen)

	unique := map[string]bool{}
	for n := range seen {
		if unique[n] {
			t.Fatalf("counter value %s was handed out twice", n)
		}
		unique[n] = true
	}
	if len(unique) != workers*each || h.Count() != workers*each {
		t.Errorf("%d distinct answers, Count() = %d; want %d of each", len(unique), h.Count(), workers*each)
	}
}

// The original example: a global int behind a sync.Mutex, answered with fmt.Fprintf.
type original struct {
	mu      sync.Mutex
	counter int
}

func (o *original) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.counter++
	fmt.Fprintf(w, "Hello, World! Counter: %d", o.counter)
}

// go test -bench Hello -benchmem ./internal/server: ours must be at least as fast as the original.
func BenchmarkHello(b *testing.B) {
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"ours", NewHello()}, {"original", &original{}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &discardWriter{header: http.Header{}}
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				for pb.Next() {
					bc.h.ServeHTTP(w, r)
				}
			})
		})
	}
}

type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}
