package beyondtrust

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"
)

// stdTokens is what encoding/xml's RawToken makes of data, in the form
// tokens writes, or an error.
func stdTokens(data []byte) ([]string, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var out tokenList
	for {
		t, err := d.RawToken()
		if err == io.EOF {
			return out.done(), nil
		}
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			out.start(t)
		case xml.EndElement:
			out.end(t.Name)
		case xml.CharData:
			out.text(t)
		}
	}
}

// scanTokens is the same for the scanner.
func scanTokens(data []byte) ([]string, error) {
	s := newScanner(data)
	var out tokenList
	var t tok
	for {
		if err := s.next(&t); err != nil {
			return nil, err
		}
		switch t.kind {
		case tokEOF:
			return out.done(), nil
		case tokStart:
			out.start(t.start)
		case tokEnd:
			out.end(t.start.Name)
		case tokText:
			out.text(t.text)
		}
	}
}

// tokenList writes tokens as comparable strings; adjacent text is joined,
// since where character data is split (around comments, CDATA) does not
// matter.
type tokenList struct {
	out []string
	buf bytes.Buffer
}

func (l *tokenList) flush() {
	if l.buf.Len() > 0 {
		l.out = append(l.out, fmt.Sprintf("text %q", l.buf.String()))
		l.buf.Reset()
	}
}

func (l *tokenList) start(se xml.StartElement) {
	l.flush()
	var b strings.Builder
	fmt.Fprintf(&b, "start %q:%q", se.Name.Space, se.Name.Local)
	for _, a := range se.Attr {
		fmt.Fprintf(&b, " %q:%q=%q", a.Name.Space, a.Name.Local, a.Value)
	}
	l.out = append(l.out, b.String())
}

func (l *tokenList) end(n xml.Name) {
	l.flush()
	l.out = append(l.out, fmt.Sprintf("end %q:%q", n.Space, n.Local))
}

func (l *tokenList) text(b []byte) { l.buf.Write(b) }

func (l *tokenList) done() []string {
	l.flush()
	return l.out
}

var scannerCases = []string{
	`<a x="1" y='2'>t</a>`,
	`<?xml version="1.0" encoding="UTF-8"?><a/>`,
	`<?xml version="1.1"?><a/>`,
	`<?xml encoding="latin1"?><a/>`,
	`<?pi a:b:c data?><a/>`,
	`<!DOCTYPE a [<!ENTITY x "<y>"> <!-- c > -->]><a/>`,
	`<a><!-- comment --><![CDATA[<raw> & ]]]>x&amp;&lt;&gt;&quot;&apos;&#65;&#x42;</a>`,
	"<a>line\r\nbreak\rend</a>",
	"<a b=\"v\r\nw\"/>",
	`<a>&#0;</a>`,
	`<a>&#xD800;</a>`,
	`<a>&#x110000;</a>`,
	`<a>&unknown;</a>`,
	`<a>&amp</a>`,
	`<a>]]></a>`,
	`<a b="]]>"/>`,
	`<a b="<"/>`,
	`<a b=1/>`,
	`<a b/>`,
	`<a:b:c/>`,
	`<:a a:="1"/>`,
	`<ä ü="1">x</ä>`,
	`<1a/>`,
	`<a></b>`,
	`<a>` + "\x01" + `</a>`,
	"<a>\xff</a>",
	`<!- x -->`,
	`<!-- a -- b -->`,
	`<![CDAT[x]]>`,
	`<a`,
	`<a b="1`,
	`</a`,
	`<?xml`,
	`<!DOCTYPE`,
	`text only`,
	``,
}

func TestScannerMatchesEncodingXML(t *testing.T) {
	t.Parallel()
	cases := append([]string(nil), scannerCases...)
	for _, data := range sampleData(t) {
		cases = append(cases, string(data))
	}
	for _, c := range cases {
		compareScanner(t, []byte(c))
	}
}

func compareScanner(t *testing.T, data []byte) {
	t.Helper()
	want, werr := stdTokens(data)
	got, gerr := scanTokens(data)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("input %q: encoding/xml error %v, scanner error %v", data, werr, gerr)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("input %q:\nscanner:\n%s\nencoding/xml:\n%s", data, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// FuzzScanner holds the scanner to encoding/xml: the same tokens for any
// input both accept, and an error for any input encoding/xml refuses.
func FuzzScanner(f *testing.F) {
	for _, c := range scannerCases {
		f.Add([]byte(c))
	}
	for _, data := range sampleData(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) { compareScanner(t, data) })
}
