package adminui

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard/engine"
	"switchboard/engine/auth"
	"switchboard/engine/render"
	"switchboard/engine/service"
)

// previewData is what the Preview delivery page shows.
type previewData struct {
	Config      service.Config
	PluginName  string
	Events      []string
	Event       string
	LSID        string
	ExternalKey string
	Custom      string
	Error       string
	Result      *service.DeliveryPreview
	Writes      []plannedWrite
	Took        string
}

// plannedWrite is one planned write as the page lists it.
type plannedWrite struct {
	engine.PlannedWrite
	SystemName string
	Fields     []plannedField
}

// plannedField is one top-level field of a planned body, in the order it
// would be sent; Long values (a note's text) are shown as blocks.
type plannedField struct {
	Name, Value string
	Long        bool
}

// previewForm shows the Preview delivery form of a configuration.
func (ui *UI) previewForm(c echo.Context) error {
	data, err := ui.previewPage(c)
	if err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "preview", "Preview delivery: "+data.Config.Name, "home", data)
}

// previewDelivery runs the dry run and shows what it would write. A
// refused request or a failing remote is shown on the page, not as an
// error page: it is what the admin came to find out.
func (ui *UI) previewDelivery(c echo.Context) error {
	data, err := ui.previewPage(c)
	if err != nil {
		return err
	}
	data.Event = c.FormValue("event")
	data.LSID = strings.TrimSpace(c.FormValue("lsid"))
	data.ExternalKey = c.FormValue("external_key")
	data.Custom = c.FormValue("custom")
	req := service.PreviewRequest{Event: data.Event, LSID: data.LSID}
	if data.LSID == "" {
		// The field starts with the sample's own key; cleared, the
		// sample has none.
		key := strings.TrimSpace(data.ExternalKey)
		req.ExternalKey = &key
		if req.Custom, err = customLines(data.Custom); err != nil {
			data.Error = err.Error()
			return ui.render(c, http.StatusUnprocessableEntity, "preview", "Preview delivery: "+data.Config.Name, "home", data)
		}
	}
	res, err := ui.svc.PreviewDelivery(c.Request().Context(), auth.Actor(c), data.Config.ID, req)
	var refused *service.ErrPreviewRefused
	switch {
	case errors.As(err, &refused):
		data.Error = refused.Reason
		return ui.render(c, http.StatusUnprocessableEntity, "preview", "Preview delivery: "+data.Config.Name, "home", data)
	case err != nil:
		return err
	}
	data.Result = res
	data.Took = res.Duration.Round(time.Millisecond).String()
	for _, w := range res.Writes {
		data.Writes = append(data.Writes, plannedWrite{PlannedWrite: w, SystemName: systemName(w.System, data.PluginName), Fields: bodyFields(w.Body)})
	}
	return ui.render(c, http.StatusOK, "preview", "Preview delivery: "+data.Config.Name, "home", data)
}

func (ui *UI) previewPage(c echo.Context) (*previewData, error) {
	cfg, err := ui.configParam(c)
	if err != nil {
		return nil, err
	}
	events, err := ui.svc.PreviewEvents(c.Request().Context(), cfg.ID)
	if err != nil {
		return nil, err
	}
	data := &previewData{Config: cfg, Events: events, PluginName: cfg.Plugin, ExternalKey: render.SampleSession().ExternalKey}
	if info, err := ui.svc.Plugin(cfg.Plugin); err == nil {
		data.PluginName = info.Name
	}
	if len(events) > 0 {
		data.Event = engine.EventSessionEnd
		if !slices.Contains(events, data.Event) {
			data.Event = events[0]
		}
	}
	return data, nil
}

// customLines reads "code_name=value" lines.
func customLines(text string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		code, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, errors.New("custom fields: line " + strconv.Itoa(i+1) + " needs the form code_name=value")
		}
		out[strings.TrimSpace(code)] = strings.TrimSpace(value)
	}
	return out, nil
}

// systemName names the remote a write goes to.
func systemName(system, pluginName string) string {
	if system == "beyondtrust" {
		return "BeyondTrust appliance"
	}
	return pluginName
}

// longField is the length past which a text is shown as a block.
const longField = 80

// bodyFields lists a JSON object's fields in the order they would be sent;
// a body that is not an object is one field named "body".
func bodyFields(body json.RawMessage) []plannedField {
	if len(body) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return []plannedField{fieldOf("body", body)}
	}
	var out []plannedField
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			break
		}
		out = append(out, fieldOf(name, raw))
	}
	return out
}

func fieldOf(name string, raw json.RawMessage) plannedField {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return plannedField{Name: name, Value: s, Long: len(s) > longField || strings.Contains(s, "\n")}
	}
	return plannedField{Name: name, Value: string(raw)}
}
