package activity

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"switchboard/engine/beyondtrust"
)

// Bounds of one Syslog archive. The download itself is capped by the
// appliance client (256 MiB).
var (
	// MaxExpanded is the most the archive's files may hold once
	// uncompressed; past it the poll fails (a ZIP bomb, or a syslog
	// to be cut down on the appliance).
	MaxExpanded int64 = 2 << 30
	// MaxLine is the longest line kept whole; a longer one is kept cut,
	// marked so.
	MaxLine = 1 << 20
)

// SyslogDoc is the stored document of one syslog message.
type SyslogDoc struct {
	Report    string `json:"report"`
	Timestamp string `json:"timestamp,omitempty"` // from "when"
	Unix      int64  `json:"unix,omitempty"`
	Date      string `json:"syslog_date,omitempty"` // the line's own date, without a year
	Host      string `json:"host,omitempty"`
	Process   string `json:"process,omitempty"`
	PID       int    `json:"pid,omitempty"`
	Number    int    `json:"number,omitempty"`
	Segments  int    `json:"segments,omitempty"`
	// Missing lists segments absent from the archive (at most 100).
	Missing    []int             `json:"missing_segments,omitempty"`
	Incomplete bool              `json:"incomplete,omitempty"`
	NotSegment bool              `json:"not_a_segment,omitempty"` // a line of another shape, kept as it is
	Cut        bool              `json:"cut,omitempty"`           // a line longer than MaxLine, kept cut
	Fields     map[string]string `json:"fields,omitempty"`
	Message    string            `json:"message"`
}

// ReadSyslog reads a Syslog report answer: a ZIP archive whose files hold
// syslog lines, or an XML <error>. It returns the messages as records; a
// message without a readable "when" takes, for the cursor only, the time of
// the message before it (record.At), so that it is read once like its
// neighbours. tmpDir holds the download while it is read ("" for the
// system's).
func ReadSyslog(r io.Reader, tmpDir string) ([]Record, error) {
	zr, done, err := openArchive(r, tmpDir, "Syslog")
	if zr == nil {
		return nil, err // nil, nil: "no data"
	}
	defer done()
	var (
		out    []Record
		last   time.Time
		expand int64
		bad    error
	)
	emit := func(m Message, cut bool) {
		if bad != nil {
			return
		}
		rec, err := syslogRecord(m, cut, last)
		if err != nil {
			bad = err
			return
		}
		if !rec.At.IsZero() {
			last = rec.At
		}
		out = append(out, rec)
	}
	re := NewReassembler(func(m Message) { emit(m, false) })
	for _, zf := range zr.File {
		if zf.FileInfo().IsDir() {
			continue
		}
		if err := readLines(zf, &expand, func(line []byte, cut bool) {
			if cut {
				emit(Message{Payload: string(line), Raw: true, Total: 1}, true)
				return
			}
			re.Line(string(line))
		}); err != nil {
			return nil, &beyondtrust.ParseError{Err: fmt.Errorf("the Syslog archive's file %q: %w", zf.Name, err)}
		}
	}
	re.Flush()
	if bad != nil {
		return nil, bad
	}
	return out, nil
}

// openArchive reads a report's answer that is a ZIP archive, or an XML
// <error>, into a temporary file under tmpDir ("" for the system's) and
// opens it. A "no data" <error> gives a nil reader and a nil error; the
// appliance's refusal a *beyondtrust.ResponseError; anything else that is
// not a ZIP archive a *beyondtrust.ParseError. done removes the file.
func openArchive(r io.Reader, tmpDir, report string) (zr *zip.Reader, done func(), err error) {
	br := bufio.NewReaderSize(r, 4096)
	head, _ := br.Peek(512)
	if t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n"); len(t) > 0 && t[0] == '<' {
		rr := newReportReader(br)
		ok, err := rr.root(report)
		if err == nil && ok {
			err = rr.fail(fmt.Errorf("the %s report answered XML, not a ZIP archive", report))
		}
		return nil, nil, err // nil: "no data"
	}
	f, err := os.CreateTemp(tmpDir, "switchboard-report-*.zip")
	if err != nil {
		return nil, nil, fmt.Errorf("appliance: keep the %s download: %w", report, err)
	}
	done = func() {
		f.Close()
		os.Remove(f.Name())
	}
	size, err := io.Copy(f, br)
	if err != nil {
		done()
		return nil, nil, err // the transport's error: the client classifies it
	}
	zr, err = zip.NewReader(f, size)
	if err != nil {
		done()
		return nil, nil, &beyondtrust.ParseError{Head: string(head[:min(len(head), 64)]), Err: fmt.Errorf("the %s report is not a readable ZIP archive (%d bytes): %w", report, size, err)}
	}
	return zr, done, nil
}

// readLines hands each line of one archive file to fn; a line longer than
// MaxLine comes cut, with cut set, and its remainder is dropped.
func readLines(zf *zip.File, expand *int64, fn func(line []byte, cut bool)) error {
	rc, err := zf.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(&counter{r: rc, n: expand, max: MaxExpanded}, 64<<10)
	var line []byte
	total := 0
	for {
		chunk, err := br.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) && !errors.Is(err, io.EOF) {
			return err
		}
		total += len(chunk)
		if room := MaxLine + 2 - len(line); room > 0 {
			line = append(line, chunk[:min(len(chunk), room)]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if total > 0 {
			content := total
			if bytes.HasSuffix(chunk, []byte("\n")) {
				content--
				if bytes.HasSuffix(chunk, []byte("\r\n")) {
					content--
				}
			}
			trimmed := bytes.TrimRight(line, "\r\n")
			fn(trimmed[:min(len(trimmed), MaxLine)], content > MaxLine)
		}
		line, total = line[:0], 0
		if err != nil {
			return nil
		}
	}
}

// counter counts expanded bytes across an archive's files and fails past
// max.
type counter struct {
	r   io.Reader
	n   *int64
	max int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	if *c.n > c.max {
		return n, fmt.Errorf("the archive expands past %d bytes", c.max)
	}
	return n, err
}

func syslogRecord(m Message, cut bool, prev time.Time) (Record, error) {
	fields := ParseFields(m.Payload)
	if m.Raw {
		fields = nil
	}
	at := When(fields)
	doc := SyslogDoc{Report: "Syslog", Timestamp: rfc3339(at), Date: m.Date, Host: m.Host, Process: m.Process,
		PID: m.PID, Number: m.Number, Missing: m.Missing, Incomplete: len(m.Missing) > 0,
		NotSegment: m.Raw, Cut: cut, Message: m.Payload}
	if !at.IsZero() {
		doc.Unix = at.Unix()
	}
	if m.Total > 1 {
		doc.Segments = m.Total
	}
	if len(fields) > 0 {
		doc.Fields = make(map[string]string, len(fields))
		for _, f := range fields {
			name := f.Name
			for n := 2; ; n++ {
				if _, taken := doc.Fields[name]; !taken {
					break
				}
				name = f.Name + "#" + strconv.Itoa(n)
			}
			doc.Fields[name] = f.Value
		}
	}
	rec, err := newRecord(at, doc)
	rec.Open = m.Open
	if at.IsZero() {
		rec.At = prev // for the cursor only; the document has no timestamp
	}
	return rec, err
}
