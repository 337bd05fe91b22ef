package main

import (
	"github.com/labstack/echo/v4"

	adminui "switchboard/admin-ui"
	"switchboard/engine/server"
)

// adminRoutes mounts the admin UI on the admin listener.
var adminRoutes = []func(e *echo.Echo, s *server.Server) error{
	func(e *echo.Echo, s *server.Server) error {
		ui, err := adminui.New(adminui.Options{Service: s.Service, Auth: s.Auth, Logger: s.Logger(), RecipientURL: s.IntakeRecipientURL})
		if err != nil {
			return err
		}
		ui.Register(e)
		return nil
	},
}
