package siem

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"time"

	"switchboard/engine"
	activitysrc "switchboard/engine/sources/appliance"
)

// Event types of appliance activity records, as the Event Types filter
// offers them.
const (
	applianceTeamType   = "Appliance Team Activity"
	applianceVaultType  = "Appliance Vault Account Activity"
	applianceSyslogType = "Appliance Syslog"
)

// applianceTypes maps a stored event name to its type and ECS dataset.
var applianceTypes = map[string][2]string{
	activitysrc.EventName[activitysrc.StreamTeam]:   {applianceTeamType, "beyondtrust.appliance_team"},
	activitysrc.EventName[activitysrc.StreamVault]:  {applianceVaultType, "beyondtrust.appliance_vault"},
	activitysrc.EventName[activitysrc.StreamSyslog]: {applianceSyslogType, "beyondtrust.appliance_syslog"},
}

// applianceRecord encodes an appliance activity record (Team, Vault,
// Syslog) stored by its source: raw JSON forwards the document unchanged;
// ECS maps it as docs/sources.md describes, with the document kept in
// event.original. CEF has no mapping for it.
func applianceRecord(job *engine.Job, set *Settings) ([]Encoded, error) {
	kind := applianceTypes[job.Event.Name]
	doc := bytes.TrimSpace([]byte(job.Event.Fields.Get(activitysrc.DocumentField)))
	var d struct {
		EventType   string                          `json:"event_type"`
		Team        map[string]string               `json:"team"`
		PerformedBy struct{ ID, Type, Name string } `json:"performed_by"`
		Data        json.RawMessage                 `json:"data"`
		AccountID   string                          `json:"account_id"`
		Fields      map[string]string               `json:"fields"`
		Message     string                          `json:"message"`
	}
	if len(doc) == 0 || doc[0] != '{' || json.Unmarshal(doc, &d) != nil {
		return nil, engine.Permanent(fmt.Errorf("siem: the stored %s record holds no JSON document", kind[0]))
	}
	if set.Format == FormatCEF {
		return nil, engine.Skip(kind[0] + " records are forwarded as ECS or raw JSON; CEF has no mapping for them")
	}
	at := job.Event.Timestamp
	if at.IsZero() {
		at = job.Event.ReceivedAt
	}
	host := job.Event.Fields.Get("appliance")
	e := &Event{ID: "appliance:" + job.Event.Fields.Get("stream") + ":" + job.Event.Fields.Get("record_id"),
		Kind: "appliance-activity", Time: at, Type: kind[0], ApplianceID: job.Event.ApplianceID, Host: host}
	if !set.wants(e) {
		return nil, engine.Skip(fmt.Sprintf("%s is not among the configuration's Event Types", kind[0]))
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, doc); err != nil {
		return nil, engine.Permanent(fmt.Errorf("siem: %s document: %w", kind[0], err))
	}
	body := compact.Bytes()
	if set.Format != FormatRaw {
		ev := map[string]any{"id": e.ID, "kind": "event", "dataset": kind[1], "provider": "BeyondTrust B Series Appliance", "original": string(body)}
		ecs := map[string]any{
			"@timestamp": at.UTC().Format(time.RFC3339Nano),
			"ecs":        map[string]any{"version": "8.17.0"},
			"event":      ev,
			"observer":   map[string]any{"vendor": "BeyondTrust", "hostname": host, "name": job.Event.ApplianceID},
		}
		user := map[string]any{}
		switch kind[0] {
		case applianceTeamType:
			ev["action"], ev["category"], ev["type"] = engine.CleanText(d.EventType), []string{"session"}, []string{"info"}
			user["name"] = engine.CleanText(d.PerformedBy.Name)
			ecs["beyondtrust"] = map[string]any{"team": map[string]any{"id": d.Team["id"], "name": d.Team["name"], "data": d.Data}}
		case applianceVaultType:
			ev["action"], ev["category"], ev["type"] = engine.CleanText(d.EventType), []string{"iam"}, []string{vaultECSType(d.EventType)}
			user["id"], user["name"] = engine.CleanText(d.PerformedBy.ID), engine.CleanText(d.PerformedBy.Name)
			ecs["beyondtrust"] = map[string]any{"vault": map[string]any{"account_id": engine.CleanText(d.AccountID), "data": d.Data}}
		default:
			ev["action"] = engine.CleanText(d.Fields["event"])
			ecs["message"] = engine.CleanText(d.Message)
			user["name"] = engine.CleanText(d.Fields["who"])
			if ip := sourceIP(d.Fields["who_ip"]); ip != "" {
				ecs["source"] = map[string]any{"ip": ip}
			}
			ecs["beyondtrust"] = map[string]any{"syslog": map[string]any{"site": d.Fields["site"], "fields": d.Fields}}
		}
		if user["name"] != "" || user["id"] != nil {
			ecs["user"] = user
		}
		var err error
		if body, err = json.Marshal(ecs); err != nil {
			return nil, engine.Permanent(err)
		}
	}
	return []Encoded{{ID: e.ID, Kind: e.Kind, Index: 0, Event: e, JSON: true, Body: body}}, nil
}

// sourceIP reads an address, with or without a port; "" when it is none.
func sourceIP(s string) string {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	if ip := net.ParseIP(strings.Trim(s, "[]")); ip != nil {
		return ip.String()
	}
	return ""
}

// vaultECSType maps a vault event type to ECS event.type.
func vaultECSType(t string) string {
	switch l := strings.ToLower(t); {
	case strings.Contains(l, "created"), strings.Contains(l, "added"):
		return "creation"
	case strings.Contains(l, "deleted"), strings.Contains(l, "removed"):
		return "deletion"
	case strings.Contains(l, "changed"), strings.Contains(l, "edited"), strings.Contains(l, "rotated"):
		return "change"
	}
	return "info"
}
