package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// queryCommand runs `switchboard query <kind>`: an investigation query
// through a running engine's JSON API (GET /api/v1/query/<kind>),
// authenticated with an API token, so that the CLI asks exactly what a SOAR
// tool would. The token comes from SWITCHBOARD_API_TOKEN or a file, never
// from a flag, where other users of the machine could read it in the
// process list.
func queryCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, queryUsage)
		return exitError{2}
	}
	kind := args[0]
	fs := flag.NewFlagSet("query "+kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := envFlag(fs, "url", "SWITCHBOARD_URL", "http://127.0.0.1:53231", "the engine's admin listener")
	tokenFile := fs.String("token-file", "", "read the API token from this file instead of SWITCHBOARD_API_TOKEN")
	config := fs.String("config", "", "id of the configuration whose appliance answers")
	from := fs.String("from", "", "window start: RFC 3339 or Unix seconds")
	to := fs.String("to", "", "window end (default now)")
	by := fs.String("by", "", `sessions and recordings: "end" (ended in the window, default) or "start"`)
	lsid := fs.String("lsid", "", "session and recordings: the session's lsid")
	teamID := fs.String("team-id", "", "team-activity: one team's id")
	jumpType := fs.String("type", "", "jump-items: the Jump Item type, e.g. shell-jump or remote-rdp")
	limit := fs.String("limit", "", "items per page (1 to 200, default 50)")
	cursor := fs.String("cursor", "", "next_cursor of the previous page")
	all := fs.Bool("all", false, "follow next_cursor to the last page and print every item as one JSON line")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	token, err := apiToken(*tokenFile)
	if err != nil {
		return err
	}
	q := url.Values{}
	for name, v := range map[string]string{"config": *config, "from": *from, "to": *to, "by": *by, "lsid": *lsid,
		"team_id": *teamID, "type": *jumpType, "limit": *limit, "cursor": *cursor} {
		if v != "" {
			q.Set(name, v)
		}
	}
	target := strings.TrimRight(*base, "/") + "/api/v1/query/" + url.PathEscape(kind)
	client := &http.Client{Timeout: 2 * time.Minute}
	for {
		body, err := getQuery(ctx, client, target+"?"+q.Encode(), token)
		if err != nil {
			return err
		}
		if !*all {
			var pretty json.RawMessage = body
			out, _ := json.MarshalIndent(pretty, "", "  ")
			fmt.Fprintln(stdout, string(out))
			return nil
		}
		var page struct {
			Items []json.RawMessage `json:"items"`
			Next  string            `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return fmt.Errorf("query: the engine's answer is not a page: %w", err)
		}
		for _, it := range page.Items {
			fmt.Fprintln(stdout, string(it))
		}
		if page.Next == "" {
			return nil
		}
		q.Set("cursor", page.Next)
	}
}

const queryUsage = `Usage: switchboard query <kind> --config <id> [flags]

Kinds: sessions, session, recordings, team-activity, vault-activity,
jump-items (--type), license-usage (PRA only); session-summaries answers
"not supported".
The API token comes from SWITCHBOARD_API_TOKEN or --token-file; create one
under API tokens in the admin UI. Run "switchboard query <kind> -h" for the
flags; docs/queries.md describes each kind's answer.
`

// apiToken reads the token from file, or from SWITCHBOARD_API_TOKEN.
func apiToken(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("query: read the token file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if t := strings.TrimSpace(os.Getenv("SWITCHBOARD_API_TOKEN")); t != "" {
		return t, nil
	}
	return "", errors.New("query: set SWITCHBOARD_API_TOKEN (or --token-file) to an API token made under API tokens in the admin UI")
}

// getQuery GETs one page; an answer other than 200 is an error quoting
// the engine's message.
func getQuery(ctx context.Context, client *http.Client, target, token string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query: reach the engine: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("query: read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(body[:min(len(body), 200)]))
		}
		return nil, fmt.Errorf("query: HTTP %d: %s", resp.StatusCode, e.Error)
	}
	return body, nil
}
