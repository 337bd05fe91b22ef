package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
)

// dedupedBySession are the events a session has once: whether posted by the
// appliance or found by polling, they are the same event.
var dedupedBySession = map[string]bool{EventSessionEnd: true}

// dedupedByTime are the events a session may have several of, told apart by
// when they happened: each exit survey. The posted and the polled copy of a
// survey carry the same time (when it was submitted) but not the same
// fields, so their fields are left out of the key.
var dedupedByTime = map[string]bool{EventCustomerSurveyDone: true, EventRepSurveyDone: true}

// DedupeKey names an event so that a replayed duplicate is recognised: the
// appliance re-sends an event, fields unchanged, until it gets a 200, and
// the poller may find a session or a survey that was also posted. A session
// end is keyed by (appliance id, event, lsid) whatever its source, an exit
// survey by (appliance id, event, lsid, timestamp). Other events add a
// digest of every posted field: two members joining in the same second are
// two events, a re-sent join is one.
func DedupeKey(applianceID, event, lsid, timestamp string, fields url.Values) string {
	switch {
	case lsid != "" && dedupedBySession[event]:
		return strings.Join([]string{applianceID, event, lsid}, "\x1f")
	case lsid != "" && timestamp != "" && dedupedByTime[event]:
		return strings.Join([]string{applianceID, event, lsid, timestamp}, "\x1f")
	}
	sum := sha256.Sum256([]byte(fields.Encode()))
	return strings.Join([]string{applianceID, event, lsid, timestamp, hex.EncodeToString(sum[:12])}, "\x1f")
}
