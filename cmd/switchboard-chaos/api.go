package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard/engine/beyondtrust/bttest"
)

// apiClient reads and changes the engine through its JSON API, as an
// operator's script would.
type apiClient struct {
	base, password string
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

func (a *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	req.SetBasicAuth("admin", a.password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, raw)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

func (a *apiClient) createConfig(ctx context.Context, cfg map[string]any) error {
	return a.do(ctx, http.MethodPost, "/api/v1/configurations", cfg, nil)
}

// delivery is what the deliveries API shows of a delivery.
type delivery struct {
	ID         int64             `json:"id"`
	Event      string            `json:"event"`
	LSID       string            `json:"lsid"`
	State      string            `json:"state"`
	Attempts   int               `json:"attempts"`
	LastError  string            `json:"last_error"`
	Result     string            `json:"result"`
	Checkpoint map[string]string `json:"checkpoint"`
}

// pages reads a newest-first listing page by page (limit 1000, before=id).
func pages[T any](ctx context.Context, a *apiClient, path string, id func(T) int64) ([]T, error) {
	var all []T
	before := int64(0)
	for {
		q := path + "?limit=1000"
		if before > 0 {
			q += "&before=" + strconv.FormatInt(before, 10)
		}
		var page []T
		if err := a.do(ctx, http.MethodGet, q, nil, &page); err != nil {
			return nil, err
		}
		if len(page) == 0 {
			return all, nil
		}
		all = append(all, page...)
		before = id(page[len(page)-1])
	}
}

func (a *apiClient) deliveries(ctx context.Context) ([]delivery, error) {
	return pages(ctx, a, "/api/v1/deliveries", func(d delivery) int64 { return d.ID })
}

// unfinished counts the deliveries still to run, from the engine's
// switchboard_deliveries gauge, as a monitoring system would.
func (a *apiClient) unfinished(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("read /metrics: %w", err)
	}
	defer resp.Body.Close()
	n, seen := 0, false
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		for _, state := range []string{"pending", "running", "retrying"} {
			if v, ok := strings.CutPrefix(lines.Text(), `switchboard_deliveries{state="`+state+`"} `); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return 0, fmt.Errorf("/metrics: %q: %w", lines.Text(), err)
				}
				n, seen = n+int(f), true
			}
		}
	}
	if err := lines.Err(); err != nil {
		return 0, fmt.Errorf("read /metrics: %w", err)
	}
	if !seen {
		return 0, errors.New("/metrics has no switchboard_deliveries gauge")
	}
	return n, nil
}

// waitDrained waits until the appliance has nothing left to post and no
// delivery is left to run, or limit passes (false).
func (a *apiClient) waitDrained(ctx context.Context, sender *bttest.Sender, limit time.Duration, progress io.Writer) (bool, error) {
	deadline := time.Now().Add(limit)
	lastNote := time.Now()
	for {
		n, err := a.unfinished(ctx)
		if err != nil {
			return false, err
		}
		pending := sender.Pending()
		if n == 0 && pending == 0 {
			return true, nil
		}
		if time.Since(lastNote) > 10*time.Second {
			fmt.Fprintf(progress, "draining: %d deliveries unfinished, %d events wait at the appliance\n", n, pending)
			lastNote = time.Now()
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		if !sleep(ctx, 250*time.Millisecond) {
			return false, ctx.Err()
		}
	}
}
