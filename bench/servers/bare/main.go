// Command bare is the benchmark's upper bound: the least a net/http server does to answer GET / (no routing, no
// counter, no metrics, no timeouts). It does not touch w.Header(): in net/http (Go 1.26) that costs the header map
// and a Clone of it per request, more than sniffing the 13-byte body (which gives text/plain; charset=utf-8).
// Standard library only; bench/service.ts builds and drives it.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
)

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("{\"msg\":\"listening\",\"addr\":%q}\n", ln.Addr().String())

	body := []byte("Hello, World!")
	fmt.Fprintln(os.Stderr, http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(body)
	})))
	os.Exit(1)
}
