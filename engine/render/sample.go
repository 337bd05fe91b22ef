package render

import (
	"bytes"
	_ "embed"
	"fmt"

	bt "switchboard/engine/beyondtrust"
)

// sampleXML is a made-up Remote Support session report with every section
// of the report filled, written in the shapes the reference shows.
//
//go:embed sample_session.xml
var sampleXML []byte

// SampleSession returns the sample session, read by the same parser as a
// real report: the preview's and the Test button's data when no real
// session is at hand. Each call returns a fresh copy.
func SampleSession() *bt.Session {
	ss, err := bt.ParseSessions(bytes.NewReader(sampleXML))
	if err != nil || len(ss) != 1 {
		// The file is compiled in and tested; reaching this is a build bug.
		panic(fmt.Sprintf("render: sample_session.xml holds %d sessions: %v", len(ss), err))
	}
	return ss[0]
}
