package outbound

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestRedactorHidesEveryForm(t *testing.T) {
	t.Parallel()
	const secret = `s3cr+t/"pa&ss<w>rd`
	r := NewRedactor(secret, "ab").WithBasic("api-user@example.com", "basic-pass-42")
	jsonForm, _ := json.Marshal(secret)
	cases := map[string]string{
		"plain":               "token " + secret + " echoed",
		"query escaped":       "url ?k=" + url.QueryEscape(secret),
		"path escaped":        "/x/" + url.PathEscape(secret),
		"JSON escaped":        `{"echo":` + string(jsonForm) + `}`,
		"base64 alone":        "b " + base64.StdEncoding.EncodeToString([]byte(secret)),
		"base64 url alphabet": base64.URLEncoding.EncodeToString([]byte(secret)),
		"base64 inside text":  base64.StdEncoding.EncodeToString([]byte("x:" + secret + ":y")),
		"basic header":        "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("api-user@example.com:basic-pass-42")),
		"basic other user":    base64.StdEncoding.EncodeToString([]byte("someone-else:basic-pass-42")),
		"basic password":      "pw basic-pass-42",
	}
	for name, text := range cases {
		got := r.String(text)
		if !strings.Contains(got, Mask) {
			t.Errorf("%s: nothing masked in %q", name, got)
		}
		for _, leak := range []string{secret, "basic-pass-42", url.QueryEscape(secret), string(jsonForm[1 : len(jsonForm)-1]),
			base64.RawStdEncoding.EncodeToString([]byte(secret))[:8]} {
			if strings.Contains(got, leak) {
				t.Errorf("%s: %q still holds %q", name, got, leak)
			}
		}
	}
	if got := r.String("ab cd"); got != "ab cd" {
		t.Errorf("a two-byte secret was masked: %q", got)
	}
	var none *Redactor
	if none.String("x secret") != "x secret" || none.Error(nil) != nil {
		t.Error("a nil redactor changed its input")
	}
}

func TestRedactorErrorKeepsTheChain(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	err := NewRedactor("hunter22").Error(errors.Join(cause, errors.New("said hunter22")))
	if strings.Contains(err.Error(), "hunter22") || !errors.Is(err, cause) {
		t.Fatalf("redacted error %q lost its text or its cause", err)
	}
}

func TestRedactorCutMasksASplitSecret(t *testing.T) {
	t.Parallel()
	r := NewRedactor("token-0123456789").With("other-secret-value")
	for in, want := range map[string]string{
		"begins token-01234":           "begins " + Mask,
		"a token-0123456789 b":         "a " + Mask + " b",
		"other-secret-value then tok":  Mask + " then tok",
		"ends with other-secre":        "ends with " + Mask,
		"nothing secret here at all x": "nothing secret here at all x",
	} {
		if got := r.Cut(in); got != want {
			t.Errorf("Cut(%q) = %q, want %q", in, got, want)
		}
	}
	var none *Redactor
	if none.Cut("token-01") != "token-01" || none.With("abcd").String("abcd") != Mask {
		t.Error("a nil redactor's Cut or With is wrong")
	}
}
