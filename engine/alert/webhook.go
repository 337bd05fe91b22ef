package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"switchboard/engine/outbound"
)

// Webhook posts notices as signed JSON, through the outbound kit: a
// timeout, no redirects followed, errors that name the request.
type Webhook struct {
	out *outbound.Client
	now func() time.Time
}

// NewWebhook returns a sender; hc nil uses the kit's shared client.
func NewWebhook(hc *http.Client) *Webhook {
	// A redirect is not followed: the signed alert goes only where the
	// configuration says (docs/operations.md).
	return &Webhook{out: outbound.New(outbound.Options{Name: "alert webhook", HTTP: hc, Timeout: 15 * time.Second, MaxBody: 64 << 10, NoRedirects: true}), now: time.Now}
}

// Send posts n to url, signed with secret (see outbound.Sign). Any 2xx is
// taken as received.
func (w *Webhook) Send(ctx context.Context, url, secret string, n Notice) error {
	body, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("alert webhook: encode: %w", err)
	}
	ts := w.now().Unix()
	h := http.Header{
		outbound.HeaderTimestamp: {strconv.FormatInt(ts, 10)},
		outbound.HeaderSignature: {outbound.Sign(secret, ts, body)},
	}
	_, err = w.out.Do(ctx, outbound.Request{Method: http.MethodPost, URL: url, Op: "POST alert", Header: h, Body: body, ContentType: "application/json"})
	return err
}
