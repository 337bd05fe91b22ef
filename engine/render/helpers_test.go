package render

import (
	"strings"
	"testing"
	"time"
)

// TestHelpers checks every helper, including each example
// docs/templates.md gives, against the sample session in UTC.
func TestHelpers(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, "")
	data := NewData(SampleSession(), time.UTC)
	tests := []struct{ tpl, want string }{
		{`{{formatTime start "02 Jan 2006, 3:04 PM"}}`, "14 Mar 2025, 9:26 AM"},
		{`{{formatTime start "time" tz="Asia/Tokyo"}}`, "18:26:53"},
		{`{{formatTime start "date"}} {{formatTime start "datetime"}}`, "2025-03-14 2025-03-14 09:26:53"},
		{`{{formatTime start "rfc3339" tz="Europe/Berlin"}}`, "2025-03-14T10:26:53+01:00"},
		{`{{formatTime end "15:04"}}`, "09:58"},
		{`{{formatTime "2025-01-02T03:04:05Z" "2006"}}`, "2025"},
		{`{{formatTime nothing "2006"}}|{{formatTime lsid "2006"}}`, "|" + data.LSID},
		{`{{formatDuration duration "clock"}}`, "0:32:03"},
		{`{{formatDuration duration "short"}} {{formatDuration duration "minutes"}} {{formatDuration duration "hours"}}`, "32m 3s 33 0.53"},
		{`{{formatDuration 3723 "clock"}} {{formatDuration 3723 "hours"}}`, "1:02:03 1.03"},
		{`{{formatDuration reps.[1].involved "short"}}`, "10m 11s"},
		{`{{formatTime "2025-03-14 09:26:53 CET" "15:04 MST"}} {{formatDuration "1h 2m 3s" "clock"}} {{formatDuration "soon" "clock"}}`, "09:26 CET 1:02:03 soon"},
		{`{{default customer.company "(none given)"}}|{{default nothing "(none given)"}}`, "Example Logistics|(none given)"},
		{`{{default 0 "zero"}}{{default false "no"}}{{default "" "empty"}}`, "zeronoempty"},
		{`{{#if (eq product "rs")}}RS{{/if}}{{#if (eq 1 "1.0")}} num{{/if}}{{#if (eq "a" "b")}} x{{/if}}`, "RS num"},
		{`{{ne 1 2}} {{lt 2 10}} {{lt "2" "10"}} {{lt "b" "a"}} {{le 3 3}} {{gt 3 2}} {{ge 2 3}}`, "true true true false true true false"},
		{`{{#if (lt (length chat) 3)}}short{{else}}long{{/if}}`, "long"},
		{`{{and 1 "x"}} {{and 1 ""}} {{or 0 notes}} {{or 0 nothing}} {{not nothing}} {{not lsid}}`, "true false true false true false"},
		{`{{#if (or notes fileTransfers)}}Work was done.{{/if}}`, "Work was done."},
		{`{{upper "straße ok"}} {{lower "ÄÖÜ Ok"}}`, "STRAßE OK äöü ok"},
		{`{{truncate customer.details 7}}|{{truncate "äöüß" 2 suffix="…"}}|{{truncate "short" 10}}|{{truncate "abc" 0}}`, "Outlook...|äö…|short|..."},
		{`{{truncate customer.details 80 suffix=" [more]"}}`, "Outlook keeps asking for my password.\nStarted after the VPN update."},
		{`{{join repNames ", "}}`, "Sam Rivera, Priya Nair"},
		{`{{join lsid ", "}}|{{join nothing "-"}}`, data.LSID + "|"},
		{`Details: {{indent customer.details 9}}`, "Details: Outlook keeps asking for my password.\n         Started after the VPN update."},
		{`{{pluralize fileTransfers "file"}}`, "2 files"},
		{`{{pluralize 1 "entry" plural="entries"}} {{pluralize 0 "entry" plural="entries"}} {{pluralize "3" "note"}}`, "1 entry 0 entries 3 notes"},
		{`{{#each systemInfo}}{{#if (eq name "Processes")}}{{pluralize rows "entry" plural="entries"}}{{/if}}{{/each}}`, "3 entries"},
		{`{{length chat}} {{length "äöü"}} {{length nothing}} {{length 5}} {{chat.length}} {{#if (gt repNames.length 1)}}many{{/if}}`, "9 3 0 0 9 many"},
		{`{{lookup customFields 1}}{{#with (lookup customFields 1)}}{{name}}={{value}}{{/with}}`, "[object Object]Contract=Gold"},
		{`{{lookup this "lsid"}}|{{lookup repNames 5}}`, data.LSID + "|"},
		{`{{log "x"}}{{#each repNames}}{{@index}}{{#if @first}}F{{/if}}{{#if @last}}L{{/if}}{{/each}}`, "0F1L"},
		{`{{#unless customer}}none{{else}}{{customer.name}}{{/unless}}`, "Dana Whitfield"},
		{`{{#if 0 includeZero=true}}zero{{/if}}{{#unless 0}} falsy{{/unless}}`, "zero falsy"},
		{`{{#each nothing}}x{{else}}empty{{/each}}`, "empty"},
	}
	for _, tt := range tests {
		p, err := r.PreviewText("", "t", tt.tpl, data)
		if err != nil {
			t.Errorf("%s: %v", tt.tpl, err)
			continue
		}
		if p.Output != tt.want {
			t.Errorf("%s\n got %q\nwant %q", tt.tpl, p.Output, tt.want)
		}
	}
}

func TestHelperErrors(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, "")
	data := NewData(SampleSession(), time.UTC)
	for tpl, want := range map[string]string{
		`{{formatTime start "15:04" tz="Mars/Olympus"}}`: "unknown time zone",
		`{{formatDuration duration "fortnights"}}`:       "unknown style",
		`{{indent lsid "wide"}}`:                         "not a whole number",
		`{{indent lsid 200}}`:                            "not between 0 and 80",
		`{{truncate lsid nothing}}`:                      "not a whole number",
		`{{pluralize lsid "x"}}`:                         "not a whole number",
		`{{upper lsid lsid}}`:                            "upper takes 1 argument, got 2",
		`{{lookup lsid}}`:                                "lookup takes 2 arguments",
		`{{#if lsid lsid}}{{/if}}`:                       "#if takes one argument",
		`{{if lsid}}`:                                    "if needs a block",
	} {
		_, err := r.PreviewText("", "t", tpl, data)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to contain %q", tpl, err, want)
		}
	}
}
