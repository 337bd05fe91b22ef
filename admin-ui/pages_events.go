package adminui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard/engine"
	"switchboard/engine/auth"
	"switchboard/engine/service"
)

// eventsPerPage is how many events one page of the event log shows.
const eventsPerPage = 50

// datetimeLocal is the value format of <input type="datetime-local">.
const datetimeLocal = "2006-01-02T15:04"

type eventsData struct {
	Filter  service.EventFilter
	Since   string
	Until   string
	Configs []service.Config
	States  []string
	Types   []string
	Events  []service.Event
	// Deliveries are each listed event's deliveries, by event id.
	Deliveries map[int64][]service.Delivery
	// Failed counts the failed deliveries by configuration; FailedTotal
	// sums them.
	Failed      map[int64]int
	FailedTotal int
	Older       string
	Filtered    bool
	Error       string
}

func (ui *UI) events(c echo.Context) error {
	ctx := c.Request().Context()
	q := c.QueryParams()
	data := eventsData{States: deliveryStates, Since: q.Get("since"), Until: q.Get("until")}
	f := service.EventFilter{
		State: q.Get("state"), Type: q.Get("type"), Routing: q.Get("routing"), LSID: q.Get("lsid"),
		Limit: eventsPerPage,
	}
	f.ConfigID, _ = strconv.ParseInt(q.Get("config"), 10, 64)
	f.BeforeID, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	var bad []string
	for _, in := range []struct {
		label string
		text  *string
		dst   *time.Time
	}{{"Received from", &data.Since, &f.Since}, {"Received until", &data.Until, &f.Until}} {
		t, ok := parseLocal(*in.text)
		if !ok {
			bad = append(bad, in.label)
			*in.text = ""
		}
		*in.dst = t
	}
	if len(bad) > 0 {
		data.Error = "Ignored what is not a date and time in: " + strings.Join(bad, ", ") + "."
	}
	data.Filter = f
	data.Filtered = f.ConfigID != 0 || f.State != "" || f.Type != "" || f.Routing != "" || f.LSID != "" || !f.Since.IsZero() || !f.Until.IsZero()

	var err error
	if data.Configs, err = ui.svc.Configs(ctx, ""); err != nil {
		return err
	}
	for _, p := range ui.svc.Plugins() {
		for _, e := range p.Events {
			if !slices.Contains(data.Types, e) {
				data.Types = append(data.Types, e)
			}
		}
	}
	if data.Failed, err = ui.svc.FailedCounts(ctx); err != nil {
		return err
	}
	for _, n := range data.Failed {
		data.FailedTotal += n
	}
	if data.Events, err = ui.svc.Events(ctx, f); err != nil {
		return err
	}
	ids := make([]int64, 0, len(data.Events))
	for _, e := range data.Events {
		ids = append(ids, e.ID)
	}
	if data.Deliveries, err = ui.svc.DeliveriesByEvent(ctx, ids); err != nil {
		return err
	}
	if len(data.Events) == eventsPerPage {
		older := url.Values{}
		for k, vs := range q {
			if k != "before" {
				older[k] = vs
			}
		}
		older.Set("before", strconv.FormatInt(data.Events[len(data.Events)-1].ID, 10))
		data.Older = "/events?" + older.Encode()
	}
	return ui.render(c, http.StatusOK, "events", "Events", "events", data)
}

// parseLocal reads a datetime-local value as UTC (the page says so). An
// empty value is the zero time; ok is false for one that does not parse.
func parseLocal(v string) (t time.Time, ok bool) {
	if v == "" {
		return time.Time{}, true
	}
	for _, layout := range []string{datetimeLocal, datetimeLocal + ":05"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (ui *UI) event(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	e, ds, err := ui.svc.Event(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "event", "Event "+strconv.FormatInt(id, 10), "events", map[string]any{"Event": e, "Deliveries": ds})
}

func (ui *UI) replayEvent(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if _, err := ui.svc.ReplayEvent(c.Request().Context(), auth.Actor(c), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/events/"+strconv.FormatInt(id, 10)+"?done=replayed")
}

func (ui *UI) retryDelivery(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := ui.svc.RetryDelivery(ctx, auth.Actor(c), id); err != nil {
		return err
	}
	d, err := ui.svc.Delivery(ctx, id)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/events/"+strconv.FormatInt(d.EventID, 10)+"?done=retried#delivery-"+strconv.FormatInt(id, 10))
}

type pollRow struct {
	Config service.Config
	Poll   *service.PollState
}

func (ui *UI) polling(c echo.Context) error { return ui.pollingPage(c, nil) }

// testSource runs a source's Test (a token, one read of each stream;
// nothing stored) and shows its steps on the Polling page.
func (ui *UI) testSource(c echo.Context) error {
	res, err := ui.svc.TestSource(c.Request().Context(), auth.Actor(c), c.FormValue("name"))
	if err != nil {
		return err
	}
	return ui.pollingPage(c, &res)
}

func (ui *UI) pollingPage(c echo.Context, tested *engine.SourceTest) error {
	ctx := c.Request().Context()
	cfgs, err := ui.svc.Configs(ctx, "")
	if err != nil {
		return err
	}
	states, err := ui.svc.PollStates(ctx)
	if err != nil {
		return err
	}
	byConfig := map[int64]*service.PollState{}
	for i := range states {
		byConfig[states[i].ConfigID] = &states[i]
	}
	var rows []pollRow
	for _, cfg := range cfgs {
		if p := byConfig[cfg.ID]; p != nil || len(cfg.Appliance.PollingEvents) > 0 {
			rows = append(rows, pollRow{Config: cfg, Poll: p})
		}
	}
	sources, err := ui.svc.SourceStates(ctx)
	if err != nil {
		return err
	}
	configured, err := ui.svc.Sources(ctx)
	if err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "polling", "Polling", "polling", map[string]any{"Rows": rows, "Sources": sources, "Configured": configured, "Tested": tested, "Kinds": ui.svc.SourceKinds()})
}
