package siem

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"switchboard/engine"
	"switchboard/engine/sources/pmcloud"
)

// pmcloudType is the event type a PM Cloud event is filtered by.
const pmcloudType = "PM Cloud Event"

// pmcloudRecord encodes a PM Cloud event stored by its source. The
// document already is ECS, so ECS and raw JSON forward it unchanged; its
// id is the event's own, so a resent record is recognised (Elastic's _id).
func pmcloudRecord(job *engine.Job, set *Settings) ([]Encoded, error) {
	doc, at, err := pmcloudDocument(job, set, "events")
	if err != nil {
		return nil, err
	}
	e := &Event{
		ID: "pmcloud:" + job.Event.Fields.Get("event_id"), Kind: "pmcloud-event", Index: 0, Time: at,
		Type: pmcloudType, ApplianceID: job.Event.ApplianceID, Host: job.Event.ApplianceID,
	}
	if !set.wants(e) {
		return nil, engine.Skip(fmt.Sprintf("%s is not among the configuration's Event Types", pmcloudType))
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, doc); err != nil {
		return nil, engine.Permanent(fmt.Errorf("siem: PM Cloud event document: %w", err))
	}
	return []Encoded{{ID: e.ID, Kind: e.Kind, Index: 0, Event: e, JSON: true, Body: compact.Bytes()}}, nil
}

// pmcloudDocument is the JSON document a PM Cloud record holds, and its
// time; what (events, activity audits) names the records in errors.
func pmcloudDocument(job *engine.Job, set *Settings, what string) ([]byte, time.Time, error) {
	doc := bytes.TrimSpace([]byte(job.Event.Fields.Get(pmcloud.DocumentField)))
	if !json.Valid(doc) || len(doc) == 0 || doc[0] != '{' {
		return nil, time.Time{}, engine.Permanent(fmt.Errorf("siem: the stored PM Cloud %s record holds no JSON document", what))
	}
	if set.Format == FormatCEF {
		return nil, time.Time{}, engine.Skip(fmt.Sprintf("PM Cloud %s are forwarded as ECS or raw JSON; CEF has no mapping for them", what))
	}
	at := job.Event.Timestamp
	if at.IsZero() {
		at = job.Event.ReceivedAt
	}
	return doc, at, nil
}
