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
	if key, ok := eventKey(applianceID, event, lsid, timestamp); ok {
		return key
	}
	return digestKey(applianceID, event, lsid, timestamp, fields.Encode())
}

// DedupeKeyEncoded is DedupeKey for a caller that has the fields encoded
// already (url.Values.Encode, as events store them), so that a post's form
// is encoded once.
func DedupeKeyEncoded(applianceID, event, lsid, timestamp, encoded string) string {
	if key, ok := eventKey(applianceID, event, lsid, timestamp); ok {
		return key
	}
	return digestKey(applianceID, event, lsid, timestamp, encoded)
}

// eventKey is the key of an event told apart by its session (and time)
// alone; ok is false for events keyed by a digest of their fields.
func eventKey(applianceID, event, lsid, timestamp string) (string, bool) {
	switch {
	case lsid != "" && dedupedBySession[event]:
		return strings.Join([]string{applianceID, event, lsid}, "\x1f"), true
	case lsid != "" && timestamp != "" && dedupedByTime[event]:
		return strings.Join([]string{applianceID, event, lsid, timestamp}, "\x1f"), true
	}
	return "", false
}

func digestKey(applianceID, event, lsid, timestamp, encoded string) string {
	sum := sha256.Sum256([]byte(encoded))
	return strings.Join([]string{applianceID, event, lsid, timestamp, hex.EncodeToString(sum[:12])}, "\x1f")
}
