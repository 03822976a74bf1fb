package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestReadyzFailsFromTheMomentShutdownBegins(t *testing.T) {
	tests := []struct {
		name     string
		draining bool
		code     int
		body     string
	}{
		{"serving", false, http.StatusOK, "ok\n"},
		{"shutting down", true, http.StatusServiceUnavailable, "shutting down\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd := &Readiness{}
			if tt.draining {
				rd.Drain()
			}
			rec := httptest.NewRecorder()
			rd.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))

			if rec.Code != tt.code || rec.Body.String() != tt.body {
				t.Errorf("GET /readyz = %d %q, want %d %q", rec.Code, rec.Body.String(), tt.code, tt.body)
			}
		})
	}
}
