package siem

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"switchboard/engine"
)

// pmcloudAuditType is the event type a PM Cloud activity audit is filtered by.
const pmcloudAuditType = "PM Cloud Activity Audit"

// pmcloudAuditRecord encodes a PM Cloud activity audit stored by its
// source: raw JSON forwards the document unchanged; ECS maps it as
// docs/sources.md describes, with the document kept in event.original.
// CEF has no mapping for it.
func pmcloudAuditRecord(job *engine.Job, set *Settings) ([]Encoded, error) {
	doc, at, err := pmcloudDocument(job, set, "activity audits")
	if err != nil {
		return nil, err
	}
	var a struct {
		ID         json.RawMessage `json:"id"`
		Details    string          `json:"details"`
		UserID     string          `json:"userId"`
		User       string          `json:"user"`
		Entity     string          `json:"entity"`
		EntityName string          `json:"entityName"`
		AuditType  string          `json:"auditType"`
		ChangedBy  string          `json:"changedBy"`
	}
	_ = json.Unmarshal(doc, &a) // a field of an odd type stays empty; the document is kept whole
	id := job.Event.Fields.Get("audit_id")
	e := &Event{
		ID: "pmcloud-audit:" + id, Kind: "pmcloud-audit", Time: at,
		Type: pmcloudAuditType, ApplianceID: job.Event.ApplianceID, Host: job.Event.ApplianceID,
	}
	if !set.wants(e) {
		return nil, engine.Skip(fmt.Sprintf("%s is not among the configuration's Event Types", pmcloudAuditType))
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, doc); err != nil {
		return nil, engine.Permanent(fmt.Errorf("siem: PM Cloud activity audit document: %w", err))
	}
	body := compact.Bytes()
	if set.Format != FormatRaw {
		ecs := map[string]any{
			"@timestamp": at.UTC().Format(time.RFC3339Nano),
			"ecs":        map[string]any{"version": "8.17.0"},
			"message":    engine.CleanText(a.Details),
			"event": map[string]any{
				"id": id, "kind": "event", "category": []string{"configuration"}, "type": []string{auditECSType(a.AuditType)},
				"action": engine.CleanText(a.AuditType), "dataset": "beyondtrust.pmcloud_audit",
				"provider": "BeyondTrust Privilege Management Cloud", "original": string(body),
			},
			"observer":    map[string]any{"vendor": "BeyondTrust", "product": "Privilege Management Cloud", "hostname": job.Event.ApplianceID},
			"user":        map[string]any{"id": engine.CleanText(a.UserID), "name": engine.CleanText(a.User)},
			"beyondtrust": map[string]any{"pmcloud": map[string]any{"audit": map[string]any{"entity": engine.CleanText(a.Entity), "entity_name": engine.CleanText(a.EntityName), "changed_by": engine.CleanText(a.ChangedBy)}}},
		}
		if body, err = json.Marshal(ecs); err != nil {
			return nil, engine.Permanent(err)
		}
	}
	return []Encoded{{ID: e.ID, Kind: e.Kind, Index: 0, Event: e, JSON: true, Body: body}}, nil
}

// auditECSType maps an audit type to ECS event.type.
func auditECSType(t string) string {
	switch strings.ToLower(t) {
	case "create", "add", "added", "created":
		return "creation"
	case "delete", "remove", "deleted", "removed":
		return "deletion"
	case "modify", "update", "modified", "updated", "change":
		return "change"
	}
	return "info"
}
