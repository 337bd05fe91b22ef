package adminui

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"

	"switchboard/plugins/autotask"
)

// typedDefaults is Ticket Default Data as an admin types it: pretty, with a
// <<field|custom>> contact expression and an ampersand.
const typedDefaults = `{
  "title": "{{Issue}} & more",
  "status": 1,
  "contactID": "<<emailAddress|customer_email>>",
  "defaultContactID": 30684011
}`

// TestJSONSettingsKeptAsTyped saves a JSON setting and reads it back on
// the form, in the stored configuration and in the JSON API: the admin's
// text, line breaks included, never \u003c escapes.
func TestJSONSettingsKeptAsTyped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	form := h.validForm("Contoso")
	form.Set("settings.ticket_defaults", typedDefaults)
	if rec := h.post("/plugins/autotask/new", form); rec.Code != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", rec.Code, rec.Body)
	}
	cfgs, err := h.srv.Service.Configs(t.Context(), autotask.ID)
	if err != nil || len(cfgs) != 1 {
		t.Fatalf("configs: %v, %v", cfgs, err)
	}
	id := cfgs[0].ID
	if got := string(cfgs[0].Settings.(*autotask.Settings).TicketDefaults); got != typedDefaults {
		t.Errorf("stored ticket_defaults =\n%s\nwant as typed:\n%s", got, typedDefaults)
	}

	page := h.get(fmt.Sprintf("/configs/%d", id)).Body.String()
	if strings.Contains(page, `\u003c`) || strings.Contains(page, `\u0026`) {
		t.Error("the form shows \\u003c-style escapes")
	}
	if !strings.Contains(page, html.EscapeString(typedDefaults)) {
		t.Errorf("the form does not hold the text as typed; page has:\n%s", textareaOf(page, "f-ticket_defaults"))
	}

	// Saving the form again unchanged keeps the text byte for byte.
	form.Set("version", "1")
	if rec := h.post(fmt.Sprintf("/configs/%d", id), form); rec.Code != http.StatusSeeOther {
		t.Fatalf("save again: %d\n%s", rec.Code, rec.Body)
	}
	cfg, err := h.srv.Service.Config(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(cfg.Settings.(*autotask.Settings).TicketDefaults); got != typedDefaults {
		t.Errorf("after a second save ticket_defaults =\n%s", got)
	}

	// The engine's view as JSON (the API and export) decodes to the same text.
	b, err := json.Marshal(cfg.Settings)
	if err != nil {
		t.Fatal(err)
	}
	var back autotask.Settings
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if string(back.TicketDefaults) != typedDefaults {
		t.Errorf("JSON round trip gave\n%s", back.TicketDefaults)
	}
}

// textareaOf cuts the textarea with id out of a page, for failure messages.
func textareaOf(page, id string) string {
	i := strings.Index(page, `id="`+id+`"`)
	if i < 0 {
		return "(no textarea " + id + ")"
	}
	j := strings.Index(page[i:], "</textarea>")
	if j < 0 {
		return page[i:]
	}
	return page[i : i+j]
}
