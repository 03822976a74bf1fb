package server

import "net/http"

const contentTypeText = "text/plain; charset=utf-8"

// Healthz is the liveness probe: it answers 200 while the process can serve HTTP at all, and checks nothing else,
// so that a slow dependency never gets the container restarted.
func Healthz(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok\n")
}

func writeText(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", contentTypeText)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}
