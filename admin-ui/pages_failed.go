package adminui

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"switchboard/engine/auth"
)

// confirmRetryFailed asks before retrying every failed delivery of a
// configuration, saying how many.
func (ui *UI) confirmRetryFailed(c echo.Context) error {
	cfg, err := ui.configParam(c)
	if err != nil {
		return err
	}
	counts, err := ui.svc.FailedCounts(c.Request().Context())
	if err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "retryfailed", "Retry failed deliveries of "+cfg.Name, "events",
		map[string]any{"Config": cfg, "Count": counts[cfg.ID]})
}

// retryFailed retries every failed delivery of a configuration and shows
// them in the events list.
func (ui *UI) retryFailed(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if _, err := ui.svc.RetryFailed(c.Request().Context(), auth.Actor(c), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/events?config="+strconv.FormatInt(id, 10)+"&done=retried-failed")
}
