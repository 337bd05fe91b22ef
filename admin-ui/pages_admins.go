package adminui

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard/engine/auth"
	"switchboard/engine/service"
)

type adminRow struct {
	ID        int64
	Username  string
	Created   time.Time
	LastLogin time.Time
	Disabled  bool
	You       bool
}

type adminsData struct {
	Admins    []adminRow
	Error     string
	Username  string
	MinLength int
	// Remove is the account a removal asks to confirm.
	Remove *adminRow
}

func (ui *UI) adminsData(c echo.Context) (adminsData, error) {
	me, _ := auth.UserFrom(c)
	list, err := ui.auth.Admins(c.Request().Context())
	if err != nil {
		return adminsData{}, err
	}
	data := adminsData{MinLength: auth.MinPasswordLength}
	for _, u := range list {
		data.Admins = append(data.Admins, adminRow{ID: u.ID, Username: u.Username, Created: time.UnixMilli(u.CreatedAt),
			LastLogin: msTime(u.LastLoginAt), Disabled: u.Disabled(), You: u.ID == me.ID})
	}
	return data, nil
}

func msTime(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

func (ui *UI) admins(c echo.Context) error {
	data, err := ui.adminsData(c)
	if err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "admins", "Admins", "admins", data)
}

// addAdmin creates an account from the form; a refusal shows the page again
// with the reason and the username kept (never the password).
func (ui *UI) addAdmin(c echo.Context) error {
	me, _ := auth.UserFrom(c)
	username, password := strings.TrimSpace(c.FormValue("username")), c.FormValue("password")
	var msg string
	if password != c.FormValue("confirm") {
		msg = "The two passwords differ."
	} else {
		err := ui.auth.AddAdmin(c.Request().Context(), me, username, password)
		var rule *auth.PasswordRuleError
		switch {
		case errors.As(err, &rule):
			msg = capitalize(ruleSubject(rule.Reason)) + "."
		case errors.Is(err, service.ErrAdminNameTaken):
			msg = "There is an admin account named " + username + " already."
		case err != nil:
			return err
		}
	}
	if msg == "" {
		return c.Redirect(http.StatusSeeOther, "/admins?done=admin-added")
	}
	data, err := ui.adminsData(c)
	if err != nil {
		return err
	}
	data.Error, data.Username = msg, username
	return ui.render(c, http.StatusUnprocessableEntity, "admins", "Admins", "admins", data)
}

func (ui *UI) disableAdmin(c echo.Context) error { return ui.adminAction(c, "admin-disabled", true) }
func (ui *UI) enableAdmin(c echo.Context) error  { return ui.adminAction(c, "admin-enabled", false) }
func (ui *UI) removeAdmin(c echo.Context) error  { return ui.adminAction(c, "admin-removed", false) }

// adminAction disables, enables or removes the account in the path.
func (ui *UI) adminAction(c echo.Context, done string, disable bool) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	me, _ := auth.UserFrom(c)
	ctx := c.Request().Context()
	if done == "admin-removed" {
		err = ui.auth.RemoveAdmin(ctx, me, id)
	} else {
		err = ui.auth.SetAdminDisabled(ctx, me, id, disable)
	}
	switch {
	case errors.Is(err, auth.ErrSelf):
		return echo.NewHTTPError(http.StatusConflict, "You cannot disable or remove your own account; another admin can.")
	case errors.Is(err, service.ErrLastAdmin):
		return echo.NewHTTPError(http.StatusConflict, "That is the last enabled admin account: add or enable another one first.")
	case errors.Is(err, service.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "There is no such admin account.")
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admins?done="+done)
}

func (ui *UI) confirmRemoveAdmin(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	data, err := ui.adminsData(c)
	if err != nil {
		return err
	}
	for i := range data.Admins {
		if data.Admins[i].ID == id {
			data.Remove = &data.Admins[i]
			return ui.render(c, http.StatusOK, "admins", "Remove "+data.Remove.Username, "admins", data)
		}
	}
	return echo.NewHTTPError(http.StatusNotFound, "There is no such admin account.")
}
