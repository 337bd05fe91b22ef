package render

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	bt "switchboard/engine/beyondtrust"
)

// TestNewDataChat: the transcript keeps every chat line in order with its
// time in the report's zone, stays null (not an empty list) in a session
// without chat, and costs one allocation beyond the session's own view.
func TestNewDataChat(t *testing.T) { // not parallel: AllocsPerRun
	d := NewData(chatSession(120), time.UTC)
	if len(d.Chat) != 120 || !strings.HasPrefix(d.Chat[0].Text, "Message 1:") || !strings.HasPrefix(d.Chat[119].Text, "Message 120:") || d.Chat[1].Speaker != actorCustomer.Name {
		t.Fatalf("%d chat lines: %+v", len(d.Chat), d.Chat[:1])
	}
	empty := NewData(&bt.Session{LSID: "ab"}, time.UTC)
	raw, err := json.Marshal(empty)
	if err != nil || !strings.Contains(string(raw), `"chat":null`) {
		t.Errorf("a session without chat: %s %v", raw, err)
	}
	s := chatSession(120)
	bare := *s
	bare.Events = nil
	without := testing.AllocsPerRun(10, func() { NewData(&bare, time.UTC) })
	with := testing.AllocsPerRun(10, func() { NewData(s, time.UTC) })
	if with-without != 2 {
		t.Errorf("120 chat lines took %v allocations more than none, want 2 (the session's view and the report's)", with-without)
	}
}
