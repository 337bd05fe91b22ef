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

// DedupeKey names an event so that a replayed duplicate is recognised: the
// appliance re-sends an event until it gets a 200, and the poller may find a
// session that was also posted. A session end is keyed by (appliance id,
// event, lsid) whatever its source; other events add the posted timestamp;
// an event without an lsid is keyed by all its fields.
func DedupeKey(applianceID, event, lsid, timestamp string, fields url.Values) string {
	parts := []string{applianceID, event}
	switch {
	case lsid != "" && dedupedBySession[event]:
		parts = append(parts, lsid)
	case lsid != "":
		parts = append(parts, lsid, timestamp)
	default:
		sum := sha256.Sum256([]byte(fields.Encode()))
		parts = append(parts, timestamp, hex.EncodeToString(sum[:12]))
	}
	return strings.Join(parts, "\x1f")
}
