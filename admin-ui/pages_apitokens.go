package adminui

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"switchboard/engine/auth"
	"switchboard/engine/service"
)

type apiTokensData struct {
	Tokens []auth.APIToken
	Error  string
	Name   string
	// Created is the token just made, shown once on the answer to the
	// form's POST and kept nowhere.
	Created      string
	CreatedToken *auth.APIToken
	// Revoke is the token a revocation asks to confirm.
	Revoke *auth.APIToken
}

func (ui *UI) apiTokensData(c echo.Context) (apiTokensData, error) {
	list, err := ui.auth.APITokens(c.Request().Context())
	return apiTokensData{Tokens: list}, err
}

func (ui *UI) apiTokens(c echo.Context) error {
	data, err := ui.apiTokensData(c)
	if err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "apitokens", "API tokens", "apitokens", data)
}

// createAPIToken makes a token and shows it once, on this answer (the page
// is not cached), never in a URL or a log.
func (ui *UI) createAPIToken(c echo.Context) error {
	me, _ := auth.UserFrom(c)
	name := c.FormValue("name")
	tok, secret, err := ui.auth.CreateAPIToken(c.Request().Context(), me, name)
	var bad *auth.TokenNameError
	if err != nil && !errors.As(err, &bad) {
		return err
	}
	data, lerr := ui.apiTokensData(c)
	if lerr != nil {
		return lerr
	}
	if bad != nil {
		data.Error, data.Name = capitalize(bad.Reason)+".", name
		return ui.render(c, http.StatusUnprocessableEntity, "apitokens", "API tokens", "apitokens", data)
	}
	data.Created, data.CreatedToken = secret, &tok
	return ui.render(c, http.StatusCreated, "apitokens", "API token created", "apitokens", data)
}

func (ui *UI) confirmRevokeAPIToken(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	data, err := ui.apiTokensData(c)
	if err != nil {
		return err
	}
	for i := range data.Tokens {
		if data.Tokens[i].ID == id && !data.Tokens[i].Revoked() {
			data.Revoke = &data.Tokens[i]
			return ui.render(c, http.StatusOK, "apitokens", "Revoke "+data.Revoke.Name, "apitokens", data)
		}
	}
	return echo.NewHTTPError(http.StatusNotFound, "There is no such valid API token.")
}

func (ui *UI) revokeAPIToken(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	me, _ := auth.UserFrom(c)
	err = ui.auth.RevokeAPIToken(c.Request().Context(), me, id)
	switch {
	case errors.Is(err, service.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "There is no such API token.")
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/api-tokens?done=token-revoked")
}
