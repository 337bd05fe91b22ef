package siem

import (
	"time"

	bt "switchboard/engine/beyondtrust"
)

// Raw is the event in a shape close to the session report, for SOCs that
// map it themselves: names as in the XML, data values as strings.
func Raw(e *Event, r Redaction) map[string]any {
	o := map[string]any{
		"id": e.ID, "kind": e.Kind, "event_type": e.Type, "timestamp": e.Time.UTC().Format(time.RFC3339),
		"appliance_id": e.ApplianceID, "appliance": e.Host,
	}
	if e.Test {
		o["test"] = true
	}
	if e.Index >= 0 {
		o["index"] = e.Index
	}
	if len(e.Fields) > 0 {
		o["fields"] = e.Fields
	}
	if s := e.Session; s != nil {
		o["session_id"], o["product"] = s.LSID, s.Product
		if s.LSeq != 0 {
			o["lseq"] = s.LSeq
		}
		if s.JumpGroup.Name != "" || s.JumpGroup.ID != "" {
			o["jump_group"] = map[string]string{"id": s.JumpGroup.ID, "type": s.JumpGroup.Type, "name": s.JumpGroup.Name}
		}
		if s.PublicSite.Name != "" {
			o["public_site"] = map[string]string{"id": s.PublicSite.ID, "name": s.PublicSite.Name}
		}
		if e.Kind == KindSummary {
			rawSummary(o, s)
		}
	}
	src := e.Source
	if src == nil {
		return o
	}
	if p := resolve(e.Session, src.PerformedBy); p != nil {
		o["performed_by"] = partyMap(p)
	}
	if p := resolve(e.Session, src.Destination); p != nil {
		o["destination"] = partyMap(p)
	}
	if src.Body != "" {
		o["body"] = src.Body
		if r.Chat {
			o["body"] = Redacted
		}
	}
	if len(src.Data) > 0 {
		d := make(map[string]string, len(src.Data))
		for _, nv := range src.Data {
			v := nv.Value
			switch {
			case r.Paths && (nv.Name == "path" || nv.Name == "filename"):
				v = baseName(v)
			case r.Chat && nv.Name == "body":
				v = Redacted
			}
			d[nv.Name] = v
		}
		o["data"] = d
	}
	if src.Filename != "" {
		o["filename"] = src.Filename
		if r.Paths {
			o["filename"] = baseName(src.Filename)
		}
	}
	if src.Filesize != 0 {
		o["filesize"] = src.Filesize
	}
	if len(src.Files) > 0 {
		o["files"] = fileList(src.Files, r)
	}
	if len(src.SystemInfo) > 0 {
		o["system_information"] = systemInfo(src.SystemInfo)
	}
	return o
}

func rawSummary(o map[string]any, s *bt.Session) {
	o["start_time"] = s.StartTime.UTC().Format(time.RFC3339)
	if s.Ended() {
		o["end_time"] = s.EndTime.UTC().Format(time.RFC3339)
		o["duration_seconds"] = int64(s.EndTime.Sub(s.StartTime) / time.Second)
	}
	for k, v := range map[string]string{
		"external_key": s.ExternalKey, "session_chat_view_url": s.ChatViewURL, "session_chat_download_url": s.ChatDownloadURL,
		"session_recording_view_url": s.RecordingViewURL, "session_recording_download_url": s.RecordingDownloadURL,
	} {
		if v != "" {
			o[k] = v
		}
	}
	o["file_transfer_count"], o["file_move_count"], o["file_delete_count"] = s.FileTransferCount, s.FileMoveCount, s.FileDeleteCount
	if s.PrimaryCustomer.Name != "" {
		o["primary_customer"] = map[string]string{"gsnumber": s.PrimaryCustomer.GSNumber, "name": s.PrimaryCustomer.Name}
	}
	if s.PrimaryRep.Name != "" {
		o["primary_rep"] = map[string]string{"gsnumber": s.PrimaryRep.GSNumber, "id": s.PrimaryRep.ID, "name": s.PrimaryRep.Name}
	}
	customers := make([]map[string]any, 0, len(s.Customers))
	for _, c := range s.Customers {
		m := partyMap(&Party{Type: bt.ActorCustomer, GSNumber: c.GSNumber, Name: c.Info.Name, Username: c.Username, PublicIP: c.PublicIP, PrivateIP: c.PrivateIP, Hostname: c.Hostname, OS: c.OS})
		m["primary_cust"] = c.Primary
		if c.Info != (bt.CustomerInfo{}) {
			m["info"] = map[string]string{"name": c.Info.Name, "company": c.Info.Company, "company_code": c.Info.CompanyCode, "issue": c.Info.Issue, "details": c.Info.Details}
		}
		customers = append(customers, m)
	}
	o["customer_list"] = customers
	reps := make([]map[string]any, 0, len(s.Reps))
	for _, r := range s.Reps {
		m := partyMap(&Party{Type: bt.ActorRepresentative, GSNumber: r.GSNumber, Name: r.DisplayName, Username: r.Username, UserID: r.ID, PublicIP: r.PublicIP, PrivateIP: r.PrivateIP, Hostname: r.Hostname, OS: r.OS})
		m["primary_rep"], m["session_owner"], m["seconds_involved"] = r.Primary, r.SessionOwner, r.SecondsInvolved
		reps = append(reps, m)
	}
	o["rep_list"] = reps
	if len(s.CustomAttributes) > 0 {
		attrs := make(map[string]string, len(s.CustomAttributes))
		for _, a := range s.CustomAttributes {
			attrs[a.CodeName] = a.Value
		}
		o["custom_attributes"] = attrs
	}
	if len(s.ShellRecordings) > 0 {
		recs := make([]map[string]string, 0, len(s.ShellRecordings))
		for _, r := range s.ShellRecordings {
			recs = append(recs, map[string]string{"instance": r.Instance, "view_url": r.ViewURL, "download_url": r.DownloadURL})
		}
		o["command_shell_recordings"] = recs
	}
}
