package server

import (
	"context"
	"time"

	"switchboard/engine/alert"
)

// newAlerts builds the watcher that tells each configuration's alert
// targets about failures (engine/alert); on a shared PostgreSQL database
// only the engine holding the "alerts" lease sends them.
func (s *Server) newAlerts() *alert.Watcher {
	check := s.opts.AlertCheck
	if check <= 0 {
		check = time.Minute
	}
	return alert.New(alert.Options{
		Store: s.Store, Targets: s.alertTargets,
		Webhook: alert.NewWebhook(s.opts.AlertHTTP), Mailer: s.opts.Mailer,
		AdminURL: s.AdminURL(), Logger: s.log, Check: check,
		Leader: func(ctx context.Context) bool {
			ok, err := s.Store.Leader(ctx, "alerts", s.owner, time.Now(), 3*check)
			if err != nil {
				s.log.Warn("alerts: leader lease", "err", err)
			}
			return ok
		},
	})
}

// alertTargets are the enabled configurations that name an alert target,
// as they are now.
func (s *Server) alertTargets() []alert.Target {
	var out []alert.Target
	for _, c := range s.Routes.Configs() {
		a := c.Appliance
		if a.Disabled || (a.AlertWebhookURL == "" && a.AlertEmails == "") {
			continue
		}
		out = append(out, alert.Target{
			ConfigID: c.ID, Name: c.Name, Plugin: c.Plugin.Info().ID,
			Webhook: a.AlertWebhookURL, Secret: a.AlertWebhookSecret.Reveal(), Emails: a.AlertRecipients(),
			Every: a.AlertEvery(), PollingAfter: a.PollingAlertAfter(), Polls: len(a.PollingEvents) > 0,
		})
	}
	return out
}
