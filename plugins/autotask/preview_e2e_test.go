package autotask_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/service"
	"switchboard/plugins/autotask/autotasktest"
)

// Preview delivery over the JSON API, for a real session read from the
// appliance: the plan names the note and the time entry, and Autotask and
// the appliance are left as they were.
func TestPreviewDeliveryOverTheAPI(t *testing.T) {
	t.Parallel()
	st := newStack(t, false)
	live := st.app.Begin(bttest.SessionSpec{ExternalKey: autotasktest.TicketOpenNumber, Rep: bttest.Rep{Username: "alice", DisplayName: "Alice Tech"}}).
		After(10 * time.Minute).End()
	notes := len(st.sim.Notes(autotasktest.TicketOpen))
	body, _ := json.Marshal(map[string]string{"event": "support_conference_end", "lsid": live.LSID()})
	req, _ := http.NewRequest(http.MethodPost, st.srv.AdminURL()+"/api/v1/configurations/1/preview-delivery", bytes.NewReader(body))
	req.SetBasicAuth("admin", "e2e-admin-password")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p service.DeliveryPreview
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %v", resp.StatusCode, err)
	}
	if p.Outcome != service.PreviewWrites || p.Sample || p.LSID != live.LSID() || len(p.Writes) != 2 || p.Writes[0].Key != "note:report" || p.Writes[1].Key != "time_entry" {
		t.Fatalf("preview %+v", p)
	}
	if n := len(st.sim.Notes(autotasktest.TicketOpen)); n != notes {
		t.Fatalf("the preview added %d notes", n-notes)
	}
	if te := st.sim.TimeEntries(autotasktest.TicketOpen); len(te) != 0 {
		t.Fatalf("the preview added time entries: %+v", te)
	}
}
