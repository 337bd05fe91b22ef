package beyondtrust_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"switchboard/engine/beyondtrust"
)

// echoSecret has every character that makes its URL-, JSON- and Base64
// forms differ from the plain one.
const (
	echoClientID = "api-client-7"
	echoSecret   = `Sec"ret/with+sp&ce<42>`
	echoToken    = "bearer-token-0123456789abcdef"
)

// echoRemote stands for a host that is not (only) the appliance: a proxy
// or a misconfigured server that answers with the request it got, in every
// form a credential can travel in. mode picks what the token endpoint and
// the reporting API answer.
func echoRemote(t *testing.T, tokenStatus, reportStatus int, reportBody string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		user, pass, _ := r.BasicAuth()
		echo := fmt.Sprintf("you sent Authorization=%s user=%s pass=%s query=%s form=%s",
			r.Header.Get("Authorization"), user, pass, url.QueryEscape(pass), r.Form.Encode())
		jsonEcho, _ := json.Marshal(map[string]string{"error": "invalid_client", "error_description": echo, "message": pass})
		switch r.URL.Path {
		case "/oauth2/token":
			if tokenStatus == http.StatusOK {
				fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, echoToken)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tokenStatus)
			_, _ = w.Write(jsonEcho)
		default:
			w.WriteHeader(reportStatus)
			fmt.Fprintf(w, reportBody, echo)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// secretForms are the forms of the client secret and the token that must
// not appear in an error or a log line.
func secretForms() []string {
	basic := base64.StdEncoding.EncodeToString([]byte(echoClientID + ":" + echoSecret))
	jsonSecret, _ := json.Marshal(echoSecret)
	return []string{echoSecret, basic, url.QueryEscape(echoSecret), string(jsonSecret[1 : len(jsonSecret)-1]),
		base64.StdEncoding.EncodeToString([]byte(echoSecret)), echoToken}
}

// TestEchoedCredentialsNeverReachErrorsOrLogs: whatever a failing remote
// echoes back (the Basic header, the secret URL- or JSON-escaped, the
// bearer token), neither the error text, Explain's advice for the Test
// button, nor a log line holding the error contains it (issue 11 item 8).
func TestEchoedCredentialsNeverReachErrorsOrLogs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		tokenStatus  int
		reportStatus int
		reportBody   string
	}{
		{"token refused 401", http.StatusUnauthorized, 0, ""},
		{"token refused 400", http.StatusBadRequest, 0, ""},
		{"token endpoint 500", http.StatusInternalServerError, 0, ""},
		{"report 500", http.StatusOK, http.StatusInternalServerError, "proxy error: %s"},
		{"report 403", http.StatusOK, http.StatusForbidden, "%s"},
		{"report error document", http.StatusOK, http.StatusOK, "<error>%s</error>"},
		{"report malformed", http.StatusOK, http.StatusOK, "<html>%s"},
		{"report bad request", http.StatusOK, http.StatusTeapot, "%s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := echoRemote(t, tt.tokenStatus, tt.reportStatus, tt.reportBody)
			c := beyondtrust.NewClient(beyondtrust.Options{
				Host: strings.TrimPrefix(srv.URL, "http://"), UseNonTLS: true,
				ClientID: echoClientID, ClientSecret: echoSecret,
			}, nil)
			_, err := c.Session(context.Background(), "00000000000000000000000000000001")
			if err == nil {
				t.Fatal("a failing remote gave no error")
			}
			var logged bytes.Buffer
			slog.New(slog.NewJSONHandler(&logged, nil)).Error("delivery failed", "error", err, "advice", beyondtrust.Explain(err))
			for _, leak := range secretForms() {
				for where, text := range map[string]string{"error": err.Error(), "explain": beyondtrust.Explain(err), "log": logged.String()} {
					if strings.Contains(text, leak) {
						t.Errorf("%s holds %q: %s", where, leak, text)
					}
				}
			}
			if !strings.Contains(err.Error()+logged.String(), "[redacted]") && tt.reportBody != "<html>%s" {
				t.Errorf("nothing was redacted, so the echo never reached the error: %v", err)
			}
		})
	}
}
