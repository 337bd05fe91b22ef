package pmcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"switchboard/engine/outbound"
)

const auditsPath = "/management-api/v3/ActivityAudits/Details"

// MaxAuditPageSize is the largest page of activity audits asked for: the
// reference says Pagination.PageSize should not exceed 200.
const MaxAuditPageSize = 200

// AuditEventName is the stored activity audits' name: a stream of its own,
// so that a SIEM configuration can tell audits from events.
const AuditEventName = "pmcloud_audit"

// Audit is one activity audit as read.
type Audit struct {
	// ID is the audit's id (an integer in PM Cloud), or "sha256:<hex>" of
	// the document when it has none.
	ID string
	// Created is the audit's created time; zero when absent or unreadable.
	Created time.Time
	Doc     json.RawMessage
}

// AuditPage is one page of ActivityAudits/Details.
type AuditPage struct {
	Audits []Audit
	// Total and PageCount are the envelope's totalRecordCount and
	// pageCount; -1 when absent or unreadable.
	Total, PageCount int
}

// FormatAuditDate writes a Filter.Created.Dates value in the documented
// form "2020-12-24 19:09:47.6816562 +00:00".
func FormatAuditDate(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.0000000 -07:00")
}

// Audits reads page number page (from 1) of the activity audits created
// in [from, to], size to a page (at most 200).
func (c *Client) Audits(ctx context.Context, from, to time.Time, page, size int) (AuditPage, error) {
	size = min(max(size, 1), MaxAuditPageSize)
	q := url.Values{
		"Filter.Created.Dates":         {FormatAuditDate(from), FormatAuditDate(to)},
		"Filter.Created.SelectionMode": {"Range"},
		"Pagination.PageNumber":        {strconv.Itoa(max(page, 1))},
		"Pagination.PageSize":          {strconv.Itoa(size)},
	}
	body, tok, err := c.get(ctx, auditsPath, "GET ActivityAudits/Details", q)
	if err != nil {
		return AuditPage{}, err
	}
	out, err := ParseAudits(body)
	if err != nil {
		return AuditPage{}, tokenHidden{err: err, mask: outbound.NewRedactor(tok)}
	}
	return out, nil
}

// ParseAudits reads an ActivityAudits/Details answer: {"pageNumber",
// "pageSize", "totalRecordCount", "pageCount", "data": [ … ]}. data must be
// an array of JSON objects, kept byte for byte; the counts may be absent.
func ParseAudits(body []byte) (AuditPage, error) {
	var env struct {
		Data      *[]json.RawMessage `json:"data"`
		Total     json.RawMessage    `json:"totalRecordCount"`
		PageCount json.RawMessage    `json:"pageCount"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return AuditPage{}, fmt.Errorf("pmcloud: ActivityAudits/Details: %w: %v (answer starts %q)", ErrShape, err, head(body))
	}
	if env.Data == nil {
		return AuditPage{}, fmt.Errorf("pmcloud: ActivityAudits/Details: %w: no \"data\" array (answer starts %q)", ErrShape, head(body))
	}
	out := AuditPage{Audits: make([]Audit, 0, len(*env.Data)), Total: count(env.Total), PageCount: count(env.PageCount)}
	for i, doc := range *env.Data {
		a, err := parseAudit(doc)
		if err != nil {
			return AuditPage{}, fmt.Errorf("pmcloud: ActivityAudits/Details: audit %d: %w: %v", i, ErrShape, err)
		}
		out.Audits = append(out.Audits, a)
	}
	return out, nil
}

// count reads a non-negative integer, or -1.
func count(raw json.RawMessage) int {
	var n int
	if json.Unmarshal(raw, &n) != nil || n < 0 {
		return -1
	}
	return n
}

func parseAudit(doc json.RawMessage) (Audit, error) {
	trimmed := bytes.TrimSpace(doc)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Audit{}, fmt.Errorf("not a JSON object (starts %q)", head(trimmed))
	}
	var d struct {
		ID      json.RawMessage `json:"id"`
		Created string          `json:"created"`
	}
	// A field of an unexpected type leaves it unread; the document is
	// still stored.
	_ = json.Unmarshal(trimmed, &d)
	a := Audit{Doc: append(json.RawMessage(nil), trimmed...), Created: auditTime(d.Created)}
	if a.ID = scalarID(d.ID); a.ID == "" {
		var err error
		if a.ID, err = docKey(trimmed); err != nil {
			return Audit{}, err
		}
	}
	return a, nil
}

// scalarID is an id that can key a record: a string not blank, or a
// number as written (the reference shows integers). Anything else (true,
// false, null, an object, an array) is "": distinct records carrying such
// an id must not share a key, or all but the first would be dropped.
func scalarID(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if strings.TrimSpace(s) == "" {
			return ""
		}
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return strings.TrimSpace(string(raw))
	}
	return ""
}

// auditTime reads created: RFC 3339, or the documented filter formats
// (a time without an offset is UTC).
func auditTime(v string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02 15:04:05.9999999 -07:00", "2006-01-02 15:04:05.9999999"} {
		if t, err := time.Parse(layout, strings.TrimSpace(v)); err == nil {
			return t
		}
	}
	return time.Time{}
}
