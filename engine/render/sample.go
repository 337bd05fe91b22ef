package render

import (
	"time"

	bt "switchboard/engine/beyondtrust"
)

// SampleSession returns a made-up, ended Remote Support session with every
// section of the report filled: the preview's and the Test button's data
// when no real session is at hand. Each call returns a fresh copy.
func SampleSession() *bt.Session {
	start := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	at := func(sec int) time.Time { return start.Add(time.Duration(sec) * time.Second) }
	customer := bt.Actor{Type: bt.ActorCustomer, GSNumber: "2", Name: "Dana Whitfield"}
	rep := bt.Actor{Type: bt.ActorRepresentative, GSNumber: "1", Name: "Sam Rivera"}
	rep2 := bt.Actor{Type: bt.ActorRepresentative, GSNumber: "3", Name: "Priya Nair"}
	system := bt.Actor{Type: bt.ActorSystem, Name: "System"}
	chat := func(sec int, from bt.Actor, text string) bt.SessionEvent {
		return bt.SessionEvent{Timestamp: at(sec), Type: bt.EventChatMessage, PerformedBy: from, Body: text}
	}
	private := chat(400, rep, "Priya, can you check the VPN profile while I look at Outlook?")
	private.Destination = rep2
	return &bt.Session{
		LSID:        "c3c8a2f1e5b94d0f9a7c6e2b1d4f8a90",
		LSeq:        1042,
		Product:     "rs",
		Type:        "support",
		StartTime:   start,
		EndTime:     at(1923),
		Duration:    1923 * time.Second,
		PublicSite:  bt.Ref{ID: "1", Name: "Default Support Site"},
		ExternalKey: "T20250314.0042",
		CustomAttributes: []bt.CustomAttribute{
			{CodeName: "asset_tag", DisplayName: "Asset Tag", Value: "LT-0815"},
			{CodeName: "contract", DisplayName: "Contract", Value: "Gold"},
		},
		PrimaryCustomer: bt.Person{GSNumber: "2", Name: "Dana Whitfield"},
		PrimaryRep:      bt.Person{GSNumber: "1", ID: "7", Name: "Sam Rivera"},
		Customers: []bt.Customer{{
			GSNumber: "2", Username: "dwhitfield", PublicIP: "203.0.113.24", PrivateIP: "10.1.4.77",
			Hostname: "LT-0815", OS: "Windows 11 Pro (x64)", Primary: true,
			Info: bt.CustomerInfo{
				Name: "Dana Whitfield", Company: "Example Logistics", CompanyCode: "EXL",
				Issue: "Email", Details: "Outlook keeps asking for my password.\nStarted after the VPN update.",
			},
		}},
		Reps: []bt.Representative{
			{
				GSNumber: "1", ID: "7", Username: "srivera", DisplayName: "Sam Rivera",
				PublicDisplayName: "Sam", PrivateDisplayName: "Sam Rivera (Tier 2)",
				PublicIP: "198.51.100.10", PrivateIP: "10.0.0.21", Hostname: "SUPPORT-07", OS: "Windows 11 Enterprise (x64)",
				SessionOwner: true, Primary: true, SecondsInvolved: 1923,
			},
			{
				GSNumber: "3", ID: "12", Username: "pnair", DisplayName: "Priya Nair",
				PublicDisplayName: "Priya", PrivateDisplayName: "Priya Nair (Network)",
				PublicIP: "198.51.100.11", Hostname: "SUPPORT-12", OS: "macOS 15.3",
				Invited: true, SecondsInvolved: 611,
			},
		},
		CustomerSurveys: []bt.Survey{{
			GSNumber: "2", SubmittedBy: "Dana Whitfield", Timestamp: at(1950),
			Answers: []bt.SurveyAnswer{
				{Name: "rating", Label: "How satisfied are you with this session?", Value: "5"},
				{Name: "comments", Label: "Comments", Value: "Quick and friendly, thank you!"},
			},
		}},
		RepSurveys: []bt.Survey{{
			GSNumber: "1", SubmittedBy: "Sam Rivera", Timestamp: at(1990),
			Answers: []bt.SurveyAnswer{
				{Name: "resolved", Label: "Was the issue resolved?", Value: "Yes"},
				{Name: "category", Label: "Category", Value: "Email / Outlook"},
			},
		}},
		ChatViewURL:          "https://support.example.com/session_download?lsid=c3c8a2f1&dl_action=chat&view=1",
		ChatDownloadURL:      "https://support.example.com/session_download?lsid=c3c8a2f1&dl_action=chat",
		RecordingViewURL:     "https://support.example.com/session_download?lsid=c3c8a2f1&dl_action=recording&view=1",
		RecordingDownloadURL: "https://support.example.com/session_download?lsid=c3c8a2f1&dl_action=recording",
		FileTransferCount:    2,
		Events: []bt.SessionEvent{
			{Timestamp: start, Type: bt.EventSessionStart, PerformedBy: system},
			chat(5, system, "Sam Rivera joined the session."),
			chat(12, rep, "Hi Dana, I'm Sam. I'll take a look at Outlook for you."),
			chat(31, customer, "Thanks! It keeps asking for my password."),
			chat(95, rep, "Could you close Outlook for a moment?\nI'll clear the cached credentials."),
			chat(140, customer, "Done."),
			{Timestamp: at(180), Type: bt.EventSystemInfo, PerformedBy: rep, SystemInfo: []bt.SystemInfoCategory{
				{Name: "Overview", Fields: []bt.NameValue{
					{Name: "Computer Name", Value: "LT-0815"},
					{Name: "Operating System", Value: "Windows 11 Pro 24H2"},
					{Name: "Uptime", Value: "3 days, 4 hours"},
				}},
				{Name: "Processes", Rows: [][]bt.NameValue{
					{{Name: "Name", Value: "OUTLOOK.EXE"}, {Name: "PID", Value: "4312"}},
					{{Name: "Name", Value: "explorer.exe"}, {Name: "PID", Value: "2208"}},
				}},
			}},
			{Timestamp: at(260), Type: bt.EventFileUpload, PerformedBy: rep, Files: []bt.File{{Name: "outlook-fix.reg", Size: 2417}}},
			{Timestamp: at(310), Type: bt.EventFileDownload, PerformedBy: rep, Files: []bt.File{{Name: "outlook-log.zip", Size: 1843200}}},
			chat(390, system, "Priya Nair joined the session."),
			private,
			{Timestamp: at(900), Type: bt.EventNoteAdded, PerformedBy: rep, Body: "Cleared cached credentials in Credential Manager.\nRe-created the Outlook profile."},
			chat(1850, rep, "Outlook is working again. Anything else I can help with?"),
			chat(1880, customer, "No, that's all. Thanks a lot!"),
			{Timestamp: at(1900), Type: bt.EventNoteAdded, PerformedBy: rep2, Body: "VPN profile was fine."},
			{Timestamp: at(1923), Type: bt.EventSessionEnd, PerformedBy: system},
		},
	}
}
