package adminui

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard/engine/auth"
	"switchboard/engine/service"
)

type loginData struct {
	NeedsSetup bool
	Username   string
	Next       string
	Error      string
}

func (ui *UI) loginPage(c echo.Context) error {
	need, err := ui.auth.NeedsSetup(c.Request().Context())
	if err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "login", "Sign in", "", loginData{NeedsSetup: need, Next: auth.SafeNext(c.QueryParam("next"))})
}

func (ui *UI) login(c echo.Context) error {
	username := strings.TrimSpace(c.FormValue("username"))
	data := loginData{Username: username, Next: auth.SafeNext(c.FormValue("next"))}
	sess, err := ui.auth.Login(c.Request().Context(), username, c.FormValue("password"), c.RealIP(), c.Request().UserAgent())
	var throttled *auth.ThrottledError
	switch {
	case err == nil:
		if err := ui.endOldSession(c); err != nil {
			return err
		}
		auth.SetSessionCookie(c, sess)
		return c.Redirect(http.StatusSeeOther, data.Next)
	case errors.As(err, &throttled):
		data.Error = fmt.Sprintf("Too many failed sign-ins. Try again in %s.", throttled.Wait.Round(time.Second))
		return ui.render(c, http.StatusTooManyRequests, "login", "Sign in", "", data)
	case errors.Is(err, auth.ErrInvalidCredentials):
		data.Error = "Wrong username or password."
		return ui.render(c, http.StatusUnauthorized, "login", "Sign in", "", data)
	}
	return err
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (ui *UI) logout(c echo.Context) error {
	if err := ui.endOldSession(c); err != nil {
		return err
	}
	auth.ClearSessionCookie(c)
	return c.Redirect(http.StatusSeeOther, auth.LoginPath+"?done=logout")
}

// endOldSession ends the session of the browser's session cookie, if any:
// on logout, and on a new login, so that a session token someone else
// learned stops working once its browser signs in again.
func (ui *UI) endOldSession(c echo.Context) error {
	ck, err := c.Cookie(auth.SessionCookie)
	if err != nil {
		return nil
	}
	return ui.auth.Logout(c.Request().Context(), ck.Value)
}

type setupData struct {
	Valid     bool
	Token     string
	Username  string
	Error     string
	MinLength int
}

func (ui *UI) setupPage(c echo.Context) error {
	token := c.QueryParam("token")
	valid, err := ui.auth.SetupTokenValid(c.Request().Context(), token)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if !valid {
		status = http.StatusNotFound
		token = ""
	}
	return ui.render(c, status, "setup", "Set up", "", setupData{Valid: valid, Token: token, Username: auth.DefaultUsername, MinLength: auth.MinPasswordLength})
}

func (ui *UI) setup(c echo.Context) error {
	ctx := c.Request().Context()
	data := setupData{
		Valid: true, Token: c.FormValue("token"), Username: strings.TrimSpace(c.FormValue("username")),
		MinLength: auth.MinPasswordLength,
	}
	password := c.FormValue("password")
	if password != c.FormValue("confirm") {
		data.Error = "The two passwords differ."
		return ui.render(c, http.StatusUnprocessableEntity, "setup", "Set up", "", data)
	}
	err := ui.auth.CompleteSetup(ctx, data.Token, data.Username, password)
	var rule *auth.PasswordRuleError
	switch {
	case errors.As(err, &rule):
		data.Error = capitalize(ruleSubject(rule.Reason)) + "."
		return ui.render(c, http.StatusUnprocessableEntity, "setup", "Set up", "", data)
	case errors.Is(err, service.ErrSetupToken), errors.Is(err, service.ErrAdminExists):
		return ui.render(c, http.StatusNotFound, "setup", "Set up", "", setupData{})
	case err != nil:
		return err
	}
	sess, err := ui.auth.Login(ctx, data.Username, password, c.RealIP(), c.Request().UserAgent())
	if err != nil {
		return err
	}
	auth.SetSessionCookie(c, sess)
	return c.Redirect(http.StatusSeeOther, "/?done=setup")
}

// ruleSubject names the password in a rule message that speaks of "must".
func ruleSubject(reason string) string {
	if strings.HasPrefix(reason, "must") {
		return "the password " + reason
	}
	return reason
}

type accountData struct {
	Error     string
	MinLength int
}

func (ui *UI) accountPage(c echo.Context) error {
	return ui.render(c, http.StatusOK, "account", "Your account", "account", accountData{MinLength: auth.MinPasswordLength})
}

func (ui *UI) changePassword(c echo.Context) error {
	u, _ := auth.UserFrom(c)
	data := accountData{MinLength: auth.MinPasswordLength}
	next := c.FormValue("password")
	if next != c.FormValue("confirm") {
		data.Error = "The two new passwords differ."
		return ui.render(c, http.StatusUnprocessableEntity, "account", "Your account", "account", data)
	}
	ctx := c.Request().Context()
	err := ui.auth.ChangePassword(ctx, u, c.FormValue("current"), next, c.RealIP())
	var rule *auth.PasswordRuleError
	var throttled *auth.ThrottledError
	switch {
	case errors.As(err, &rule):
		data.Error = capitalize(ruleSubject(rule.Reason)) + "."
		return ui.render(c, http.StatusUnprocessableEntity, "account", "Your account", "account", data)
	case errors.Is(err, auth.ErrInvalidCredentials):
		data.Error = "The current password is wrong."
		return ui.render(c, http.StatusUnprocessableEntity, "account", "Your account", "account", data)
	case errors.As(err, &throttled):
		data.Error = capitalize(err.Error()) + "."
		return ui.render(c, http.StatusTooManyRequests, "account", "Your account", "account", data)
	case err != nil:
		return err
	}
	// The change ended every session of the user, this one too: start a
	// fresh one so the admin who changed it stays signed in.
	sess, err := ui.auth.Login(ctx, u.Username, next, c.RealIP(), c.Request().UserAgent())
	if err != nil {
		return err
	}
	auth.SetSessionCookie(c, sess)
	return c.Redirect(http.StatusSeeOther, "/account?done=password")
}
