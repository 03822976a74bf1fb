// Command original is the example the service replaces, as its users know it: a global int behind a sync.Mutex,
// answered with fmt.Fprintf on the default mux. Only the port comes from PORT and the listener is on loopback, so
// that the benchmark can run it beside the others. Standard library only; bench/service.ts builds and drives it.
package main

import (
	"fmt"
	"net/http"
	"os"
	"sync"
)

var (
	counter int
	mutex   sync.Mutex
)

func handler(w http.ResponseWriter, r *http.Request) {
	mutex.Lock()
	counter++
	fmt.Fprintf(w, "Hello, World! Counter: %d", counter)
	mutex.Unlock()
}

func main() {
	addr := "127.0.0.1:" + os.Getenv("PORT")
	http.HandleFunc("/", handler)
	fmt.Printf("{\"msg\":\"listening\",\"addr\":%q}\n", addr)
	fmt.Fprintln(os.Stderr, http.ListenAndServe(addr, nil))
	os.Exit(1)
}
