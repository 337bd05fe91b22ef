package autotask

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestEchoedCredentialsNeverReachErrorsOrLogs: a remote (Autotask, or a
// proxy in front of it) that answers an error with the request's
// credentials echoed plain, URL-escaped, JSON-escaped or Base64-encoded
// leaves none of them in the error, the classified error or a log line
// holding it (issue 11 item 8).
func TestEchoedCredentialsNeverReachErrorsOrLogs(t *testing.T) {
	t.Parallel()
	const (
		secret = `pa"ss/w+rd&Secret<9>`
		code   = "INTEGRATION/CODE+42"
	)
	echo := func(r *http.Request) string {
		s, c := r.Header.Get("Secret"), r.Header.Get("ApiIntegrationCode")
		return "echo Secret=" + s + " code=" + c + " q=" + url.QueryEscape(s) + " p=" + url.PathEscape(c) +
			" b64=" + base64.StdEncoding.EncodeToString([]byte(s)) + " pair=" + base64.StdEncoding.EncodeToString([]byte("user:"+s))
	}
	answers := map[string]func(w http.ResponseWriter, r *http.Request){
		"errors list": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			_ = json.NewEncoder(w).Encode(map[string]any{"errors": []string{echo(r)}})
		},
		"errors objects": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"field": "title", "message": echo(r)}}})
		},
		"web server message 401": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{"Message": echo(r)})
		},
		"raw JSON escaped echo": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusForbidden)
			b, _ := json.Marshal(r.Header.Get("Secret"))
			_, _ = w.Write([]byte(`{"errors":[{"raw":` + string(b) + `}]}`))
		},
		"thread limit": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusTooManyRequests)
			_ = json.NewEncoder(w).Encode(map[string]any{"errors": []string{"thread threshold " + echo(r)}})
		},
	}
	jsonSecret, _ := json.Marshal(secret)
	leaks := []string{secret, code, url.QueryEscape(secret), url.PathEscape(code), string(jsonSecret[1 : len(jsonSecret)-1]),
		base64.StdEncoding.EncodeToString([]byte(secret)), base64.StdEncoding.EncodeToString([]byte("user:" + secret))}
	for name, answer := range answers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(answer))
			defer srv.Close()
			c, err := NewClient(Options{ServicesURL: srv.URL + "/ATServicesRest", Username: "user", Secret: secret, IntegrationCode: code})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Create(context.Background(), "Tickets", map[string]any{"title": "t"})
			if err == nil {
				t.Fatal("a failing remote gave no error")
			}
			classified := Classify(err)
			var logged bytes.Buffer
			slog.New(slog.NewJSONHandler(&logged, nil)).Error("delivery failed", "error", classified, "raw", err)
			texts := map[string]string{"error": err.Error(), "classified": classified.Error(), "log": logged.String()}
			for _, leak := range leaks {
				for where, text := range texts {
					if strings.Contains(text, leak) {
						t.Errorf("%s holds %q: %s", where, leak, text)
					}
				}
			}
			if !strings.Contains(err.Error(), "[redacted]") {
				t.Errorf("nothing redacted, so the echo never reached the error: %v", err)
			}
		})
	}
}
