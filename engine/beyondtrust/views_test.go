package beyondtrust

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// repsSession is a session report whose rep_list holds Sam (flagged
// primary) and Chris; primary_rep is filled in per case.
func repsSession(t *testing.T, primaryRep string) *Session {
	t.Helper()
	doc := `<session_list xmlns="` + NamespaceRSReporting + `"><session lsid="ab">` + primaryRep + `<rep_list>
<representative gsnumber="1" id="7"><display_name>Sam Rivera</display_name><primary_rep>1</primary_rep></representative>
<representative gsnumber="5" id="21"><display_name>Chris O'Neil</display_name><primary_rep>0</primary_rep></representative>
</rep_list></session></session_list>`
	ss, err := ParseSessions(strings.NewReader(doc))
	if err != nil || len(ss) != 1 {
		t.Fatalf("%d sessions, %v", len(ss), err)
	}
	return ss[0]
}

// TestPrimaryRepresentativeAsTheApplianceNamesIt: primary_rep decides who
// the primary representative is, even where rep_list's flags disagree or
// rep_list does not hold them.
func TestPrimaryRepresentativeAsTheApplianceNamesIt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, primaryRep string
		want             Representative
		listed           bool
	}{
		{"flag and primary_rep agree", `<primary_rep gsnumber="1" id="7">Sam Rivera</primary_rep>`,
			Representative{GSNumber: "1", ID: "7", DisplayName: "Sam Rivera", Primary: true}, true},
		{"primary_rep names another listed rep", `<primary_rep gsnumber="5" id="21">Chris O'Neil</primary_rep>`,
			Representative{GSNumber: "5", ID: "21", DisplayName: "Chris O'Neil"}, true},
		{"primary_rep by name only", `<primary_rep>Chris O'Neil</primary_rep>`,
			Representative{GSNumber: "5", ID: "21", DisplayName: "Chris O'Neil"}, true},
		{"primary_rep not in rep_list", `<primary_rep gsnumber="9" id="33">Morgan Lee</primary_rep>`,
			Representative{GSNumber: "9", ID: "33", DisplayName: "Morgan Lee"}, false},
		{"no primary_rep: the flag", ``,
			Representative{GSNumber: "1", ID: "7", DisplayName: "Sam Rivera", Primary: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, listed := repsSession(t, tt.primaryRep).PrimaryRepresentative()
			if got != tt.want || listed != tt.listed {
				t.Errorf("PrimaryRepresentative() = %+v, %v; want %+v, %v", got, listed, tt.want, tt.listed)
			}
		})
	}
}

// TestChatIsOneAllocation: the transcript keeps the chat messages in
// order, skips other events, is nil without chat, and is built in one
// allocation (it is built for every session end's report).
func TestChatIsOneAllocation(t *testing.T) { // not parallel: AllocsPerRun
	at := time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC)
	s := &Session{}
	if s.Chat() != nil {
		t.Error("a session without chat has a transcript")
	}
	for i := range 200 {
		s.Events = append(s.Events,
			SessionEvent{Timestamp: at.Add(time.Duration(i) * time.Second), Type: EventChatMessage,
				PerformedBy: Actor{Name: "Alice", Type: ActorRepresentative}, Body: fmt.Sprintf("line %d", i)},
			SessionEvent{Timestamp: at.Add(time.Duration(i) * time.Second), Type: "File Download", Filename: "x.log"})
	}
	chat := s.Chat()
	if len(chat) != 200 || chat[0].Text != "line 0" || chat[199].Text != "line 199" || chat[7].Speaker != "Alice" || !chat[7].Time.Equal(at.Add(7*time.Second)) {
		t.Fatalf("transcript of %d lines: first %+v", len(chat), chat[0])
	}
	if n := testing.AllocsPerRun(20, func() { s.Chat() }); n != 1 {
		t.Errorf("Chat took %v allocations, want 1", n)
	}
}
