// Package activity reads B Series appliance activity reports into records:
// the Team (SupportTeam) and VaultAccountActivity XML reports, and the
// Syslog report's ZIP archive, whose messages are reassembled from numbered
// segments and read as field=value pairs; and, for investigation queries
// (engine/query), the EndpointLicenseUsage report's ZIP archive. It knows
// nothing of polling or storage (engine/sources/appliance does that).
package activity

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"switchboard/engine/beyondtrust"
)

// Record is one activity read from the appliance.
type Record struct {
	// Key identifies the activity: the SHA-256 of its document, so that
	// the same activity read by two polls is stored once.
	Key string
	// At is when it happened; zero when the appliance gave no readable
	// time (the record is stored all the same, and does not move the
	// cursor).
	At  time.Time
	Doc json.RawMessage
	// Open is a syslog message the download ended in, segments missing:
	// the rest may come with the next download.
	Open bool
}

func newRecord(at time.Time, doc any) (Record, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return Record{}, err
	}
	sum := sha256.Sum256(b)
	return Record{Key: hex.EncodeToString(sum[:]), At: at, Doc: b}, nil
}

// TeamDoc is the stored document of a team activity event.
type TeamDoc struct {
	Report      string            `json:"report"`
	Team        Ref               `json:"team"`
	Timestamp   string            `json:"timestamp,omitempty"` // RFC 3339, UTC
	Unix        int64             `json:"unix,omitempty"`
	EventType   string            `json:"event_type"`
	PerformedBy Actor             `json:"performed_by"`
	Data        map[string]string `json:"data,omitempty"`
}

// VaultDoc is the stored document of a vault account activity entry.
type VaultDoc struct {
	Report      string `json:"report"`
	Timestamp   string `json:"timestamp,omitempty"`
	Unix        int64  `json:"unix,omitempty"`
	EventType   string `json:"event_type"`
	AccountID   string `json:"account_id"`
	PerformedBy Actor  `json:"performed_by"`
	Data        string `json:"data,omitempty"`
}

// Ref names a team.
type Ref struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// Actor is who performed an activity.
type Actor struct {
	ID   string `json:"id,omitempty"`
	Type string `json:"type,omitempty"`
	Name string `json:"name,omitempty"`
}

// maxDepth bounds element nesting in an activity report.
const maxDepth = 64

// reportReader walks a report namespace-agnostically (local names only).
type reportReader struct {
	d     *xml.Decoder
	head  []byte
	depth int
}

func newReportReader(r io.Reader) *reportReader {
	rr := &reportReader{}
	hr := &headReader{r: r, head: &rr.head}
	rr.d = xml.NewDecoder(hr)
	rr.d.Strict = true
	rr.d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "us-ascii") {
			return in, nil
		}
		return nil, fmt.Errorf("encoding %q is not UTF-8", label)
	}
	return rr
}

// headReader keeps the first bytes of a response for error messages.
type headReader struct {
	r    io.Reader
	head *[]byte
}

func (h *headReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if room := 64 - len(*h.head); room > 0 && n > 0 {
		*h.head = append(*h.head, p[:min(n, room)]...)
	}
	return n, err
}

func (rr *reportReader) fail(err error) error {
	return &beyondtrust.ParseError{Head: string(rr.head), Err: err}
}

// next returns the next start element within the current one, or nil at
// its end; character data and comments are skipped.
func (rr *reportReader) next() (*xml.StartElement, error) {
	for {
		tok, err := rr.d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, rr.fail(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			rr.depth++
			if rr.depth > maxDepth {
				return nil, rr.fail(fmt.Errorf("elements nested deeper than %d", maxDepth))
			}
			return &t, nil
		case xml.EndElement:
			rr.depth--
			return nil, nil
		}
	}
}

// text reads the character data of the element just started, up to its end;
// child elements are skipped.
func (rr *reportReader) text() (string, error) {
	var b strings.Builder
	for {
		tok, err := rr.d.Token()
		if err != nil {
			return "", rr.fail(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.StartElement:
			rr.depth++
			if err := rr.skip(); err != nil {
				return "", err
			}
		case xml.EndElement:
			rr.depth--
			return strings.TrimSpace(b.String()), nil
		}
	}
}

// skip passes over the rest of the element just started.
func (rr *reportReader) skip() error {
	for {
		se, err := rr.next()
		if err != nil {
			return err
		}
		if se == nil {
			return nil
		}
		if err := rr.skip(); err != nil {
			return err
		}
	}
}

// root reads the root element. An <error> root is the appliance's refusal,
// or "no data" (ok false, nil error).
func (rr *reportReader) root(want string) (ok bool, err error) {
	se, err := rr.next()
	if err != nil {
		return false, err
	}
	if se == nil {
		return false, rr.fail(errors.New("no root element"))
	}
	switch se.Name.Local {
	case want:
		return true, nil
	case "error":
		return false, rr.errorDoc(*se)
	}
	return false, rr.fail(fmt.Errorf("root element is <%s>, want <%s>", se.Name.Local, want))
}

// errorDoc reads an <error>: nil when it says no data matches.
func (rr *reportReader) errorDoc(se xml.StartElement) error {
	msg, err := rr.text()
	if err != nil {
		return err
	}
	if beyondtrust.IsNoData(msg) {
		return nil
	}
	return &beyondtrust.ResponseError{Code: attr(se, "code"), Message: msg}
}

// end checks that nothing but white space and comments follow the root.
func (rr *reportReader) end() error {
	for {
		tok, err := rr.d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return rr.fail(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				return rr.fail(errors.New("text after the root element"))
			}
		case xml.StartElement:
			return rr.fail(errors.New("a second root element"))
		}
	}
}

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// stamp reads a timestamp attribute (Unix seconds).
func stamp(se xml.StartElement) (time.Time, int64) {
	v, err := strconv.ParseInt(strings.TrimSpace(attr(se, "timestamp")), 10, 64)
	if err != nil || v <= 0 || v > 1<<40 {
		return time.Time{}, 0
	}
	return time.Unix(v, 0).UTC(), v
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

// children calls fn for each child element of the current one; an <error>
// child (older appliances wrap it in the list) is read as a root error.
func (rr *reportReader) children(fn func(se xml.StartElement) error) error {
	for {
		se, err := rr.next()
		if err != nil || se == nil {
			return err
		}
		if err := fn(*se); err != nil {
			return err
		}
	}
}

// actor reads a performed_by element.
func (rr *reportReader) actor(se xml.StartElement) (Actor, error) {
	name, err := rr.text()
	return Actor{ID: attr(se, "id"), Type: attr(se, "type"), Name: name}, err
}

// list reads a list report: the root element want holding item elements,
// each read into records by read. An <error> root, or an <error> child
// (older appliances wrap it in the list) with no items, is the appliance's
// refusal, or an empty result when it says no data matches.
func list(r io.Reader, want, item string, most int, read func(rr *reportReader, se xml.StartElement) ([]Record, error)) ([]Record, error) {
	rr := newReportReader(r)
	ok, err := rr.root(want)
	if !ok {
		return nil, err
	}
	var out []Record
	var docErr error
	err = rr.children(func(se xml.StartElement) error {
		switch se.Name.Local {
		case "error":
			docErr = rr.errorDoc(se)
			return nil
		case item:
			recs, err := read(rr, se)
			out = append(out, recs...)
			if err == nil && most > 0 && len(out) > most {
				return ErrTooMany
			}
			return err
		}
		return rr.skip()
	})
	if err != nil {
		return nil, err
	}
	if docErr != nil && len(out) == 0 {
		return nil, docErr
	}
	return out, rr.end()
}

// ErrTooMany stops reading a report that holds more records than asked
// for (ParseTeamAtMost, ParseVaultAtMost): its window is to be halved.
var ErrTooMany = errors.New("the report holds more records than one read may take")

// ParseTeam reads a Team (PRA) or SupportTeam (RS) report:
// team_activity_list/team_activity (id, name)/events/event (timestamp,
// event_type) with performed_by (type; text) and data/value (name, value).
func ParseTeam(r io.Reader, report string) ([]Record, error) { return ParseTeamAtMost(r, report, 0) }

// ParseTeamAtMost is ParseTeam stopping with ErrTooMany past most records
// (0: no limit), so that a busy window is never held whole.
func ParseTeamAtMost(r io.Reader, report string, most int) ([]Record, error) {
	return list(r, "team_activity_list", "team_activity", most, func(rr *reportReader, se xml.StartElement) ([]Record, error) {
		var out []Record
		team := Ref{ID: attr(se, "id"), Name: attr(se, "name")}
		err := rr.children(func(se xml.StartElement) error {
			if se.Name.Local != "events" {
				return rr.skip()
			}
			return rr.children(func(se xml.StartElement) error {
				if se.Name.Local != "event" {
					return rr.skip()
				}
				rec, err := rr.teamEvent(se, team, report)
				out = append(out, rec)
				return err
			})
		})
		return out, err
	})
}

func (rr *reportReader) teamEvent(se xml.StartElement, team Ref, report string) (Record, error) {
	at, unix := stamp(se)
	doc := TeamDoc{Report: report, Team: team, Timestamp: rfc3339(at), Unix: unix, EventType: attr(se, "event_type")}
	err := rr.children(func(se xml.StartElement) error {
		switch se.Name.Local {
		case "performed_by":
			var err error
			doc.PerformedBy, err = rr.actor(se)
			return err
		case "data":
			return rr.children(func(se xml.StartElement) error {
				if se.Name.Local == "value" {
					if doc.Data == nil {
						doc.Data = map[string]string{}
					}
					name := attr(se, "name")
					for n := 2; ; n++ {
						if _, taken := doc.Data[name]; !taken {
							break
						}
						name = attr(se, "name") + "#" + strconv.Itoa(n)
					}
					doc.Data[name] = attr(se, "value")
				}
				return rr.skip()
			})
		}
		return rr.skip()
	})
	if err != nil {
		return Record{}, err
	}
	return newRecord(at, doc)
}

// ParseVault reads a VaultAccountActivity report:
// vault_account_activity_list/vault_account_activity (timestamp, event_type,
// account) with performed_by (id, type; text) and data (text).
func ParseVault(r io.Reader) ([]Record, error) { return ParseVaultAtMost(r, 0) }

// ParseVaultAtMost is ParseVault stopping with ErrTooMany past most
// records (0: no limit).
func ParseVaultAtMost(r io.Reader, most int) ([]Record, error) {
	return list(r, "vault_account_activity_list", "vault_account_activity", most, func(rr *reportReader, se xml.StartElement) ([]Record, error) {
		at, unix := stamp(se)
		doc := VaultDoc{Report: "VaultAccountActivity", Timestamp: rfc3339(at), Unix: unix,
			EventType: attr(se, "event_type"), AccountID: attr(se, "account")}
		err := rr.children(func(se xml.StartElement) error {
			var err error
			switch se.Name.Local {
			case "performed_by":
				doc.PerformedBy, err = rr.actor(se)
			case "data":
				doc.Data, err = rr.text()
			default:
				err = rr.skip()
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		rec, err := newRecord(at, doc)
		return []Record{rec}, err
	})
}
