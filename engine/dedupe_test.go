package engine

import (
	"net/url"
	"testing"
)

func TestDedupeKey(t *testing.T) {
	t.Parallel()
	join := func(typ, name string) url.Values {
		return url.Values{"event": {EventMemberAdded}, "lsid": {"L"}, "timestamp": {"100"}, "type": {typ}, "display_name": {name}}
	}
	key := func(event, ts string, f url.Values) string { return DedupeKey("Default", event, "L", ts, f) }
	end := url.Values{"event": {EventSessionEnd}, "lsid": {"L"}, "timestamp": {"100"}}
	cases := []struct {
		name string
		a, b string
		same bool
	}{
		{"a re-sent join is the same event", key(EventMemberAdded, "100", join("customer", "Jane")), key(EventMemberAdded, "100", join("customer", "Jane")), true},
		{"customer and representative joining in one second are two events", key(EventMemberAdded, "100", join("customer", "Jane")), key(EventMemberAdded, "100", join("representative", "Alice")), false},
		{"session end: posted and polled copies are one event", key(EventSessionEnd, "100", end), key(EventSessionEnd, "", url.Values{"lsid": {"L"}}), true},
		{"session end of another appliance id is another event", key(EventSessionEnd, "100", end), DedupeKey("Other", EventSessionEnd, "L", "100", end), false},
		{"a survey at another time is another event", key(EventCustomerSurveyDone, "100", end), key(EventCustomerSurveyDone, "101", end), false},
		{"posted and polled copies of a survey are one event", key(EventCustomerSurveyDone, "100", url.Values{"version": {"3"}}), key(EventCustomerSurveyDone, "100", url.Values{"gsnumber": {"2"}}), true},
	}
	for _, c := range cases {
		if (c.a == c.b) != c.same {
			t.Errorf("%s: keys %q and %q", c.name, c.a, c.b)
		}
	}
}

// TestDedupeKeyEncodedIsDedupeKey holds the intake's key, made from the
// form it encodes once for the event row, to the key every other caller
// (the poller, the chaos check) makes from the fields: were they to differ,
// a posted duplicate would be stored twice.
func TestDedupeKeyEncodedIsDedupeKey(t *testing.T) {
	t.Parallel()
	forms := []url.Values{
		{"event": {EventMemberAdded}, "lsid": {"L"}, "timestamp": {"100"}, "type": {"customer"}, "display_name": {"Jane Doe & co"}},
		{"event": {EventSessionEnd}, "lsid": {"L"}, "timestamp": {"100"}},
		{"event": {EventCustomerSurveyDone}, "lsid": {"L"}, "timestamp": {"100"}, "version": {"3"}},
		{"event": {EventSessionEnd}, "timestamp": {"100"}},
		{},
	}
	for _, f := range forms {
		for _, ts := range []string{"100", ""} {
			want := DedupeKey("Default", f.Get("event"), f.Get("lsid"), ts, f)
			if got := DedupeKeyEncoded("Default", f.Get("event"), f.Get("lsid"), ts, f.Encode()); got != want {
				t.Errorf("%v, timestamp %q: DedupeKeyEncoded = %q, DedupeKey = %q", f, ts, got, want)
			}
		}
	}
}
