package siem

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
)

// Destinations.
const (
	DestHEC     = "hec"
	DestElastic = "elastic"
	DestSekoia  = "sekoia"
	DestWebhook = "webhook"
	DestSyslog  = "syslog"
)

// Syslog transports.
const (
	TransportTCP = "tcp"
	TransportTLS = "tls"
	TransportUDP = "udp"
)

// EventTypes are the event types the Event Types setting offers: the
// session_details types of the reference, the summary, and the outbound
// events (forwarded as they arrive when that is on), the PM Cloud
// events and activity audits a source delivers, and appliance activity.
var EventTypes = []string{
	bt.EventSessionStart, bt.EventSessionEnd, bt.EventChatMessage, bt.EventNoteAdded, bt.EventSystemInfo,
	"Conference Member Added", "Conference Member Departed", "Conference Member State Changed", "Conference Owner Changed",
	"Directory Created", bt.EventFileDeleted, bt.EventFileDownload, bt.EventFileUpload, "File Transfer Complete",
	"Session Foreground Window Changed", "Session Mouse Left Clicked", "Session Window Closed",
	"Special Action Executed", "Remote Shell Event", "Registry", "Jump Item Authorization Request Utilized", SummaryType,
	pmcloudType, pmcloudAuditType, applianceTeamType, applianceVaultType, applianceSyslogType,
}

// Settings is a SIEM configuration's own section. Its tags drive
// validation, the admin form and the settings reference in docs/settings.md.
type Settings struct {
	Destination string        `json:"destination" validate:"required,oneof=hec elastic sekoia webhook syslog" default:"hec" kind:"select" options:"hec=Splunk HTTP Event Collector,elastic=Elastic bulk API,sekoia=Sekoia.io HTTP intake,webhook=HTTPS webhook (HMAC-signed),syslog=Syslog RFC 5424 (TCP / TLS / UDP)" section:"Destination" label:"Destination"`
	Format      string        `json:"format" validate:"required,oneof=ecs cef raw" default:"ecs" kind:"select" options:"ecs=ECS JSON,cef=CEF,raw=Raw JSON (close to the session report)" section:"Destination" label:"Event Format" help:"ECS JSON: Elastic Common Schema names, the rest under beyondtrust.*. CEF: one ArcSight CEF line per event. Raw JSON: the report's own names."`
	URL         string        `json:"url" validate:"omitempty,max=500" section:"Destination" label:"Destination URL" placeholder:"https://splunk.example.com:8088" help:"HEC: the collector's base URL (port 8088). Elastic: the cluster URL. Sekoia: https://intake.sekoia.io or your region's intake. Webhook: the full URL events are posted to. Not used for syslog."`
	Credential  engine.Secret `json:"credential" binds:"destination,url,syslog_address,tls_ca,tls_insecure" section:"Destination" label:"Token, API Key or Signing Secret" help:"HEC: the HEC token. Elastic: the API key's encoded value. Sekoia: the intake key. Webhook: the shared secret the HMAC-SHA256 signature is made with. Syslog: not used."`

	HECIndex      string `json:"hec_index" validate:"max=80" section:"Splunk HEC" label:"Index" help:"Blank: the token's default index."`
	HECSourcetype string `json:"hec_sourcetype" validate:"max=80" default:"beyondtrust:session" section:"Splunk HEC" label:"Sourcetype"`
	HECSource     string `json:"hec_source" validate:"max=80" default:"switchboard" section:"Splunk HEC" label:"Source"`
	HECAck        bool   `json:"hec_ack" section:"Splunk HEC" label:"Indexer Acknowledgement" help:"Wait until Splunk reports each batch indexed (the token must have acknowledgement on; Splunk Enterprise only). Needs a channel."`
	HECChannel    string `json:"hec_channel" validate:"omitempty,uuid" section:"Splunk HEC" label:"Channel" placeholder:"0e8a3c4f-6d0b-4e8e-9d61-0f4a2b8c1d77" help:"A GUID of your choice, sent as X-Splunk-Request-Channel."`

	ElasticIndex string `json:"elastic_index" validate:"max=255" default:"logs-beyondtrust.session-default" section:"Elastic" label:"Index or Data Stream" help:"Events are written with create and their event id as _id, so a resent event is refused as a duplicate (409) instead of stored twice."`

	SyslogTransport string        `json:"syslog_transport" validate:"omitempty,oneof=tcp tls udp" default:"tls" kind:"select" options:"tls=TLS (RFC 5425; port 6514),tcp=TCP with octet counting (RFC 6587),udp=UDP (RFC 5426)" section:"Syslog" label:"Transport"`
	SyslogAddress   string        `json:"syslog_address" validate:"max=300" section:"Syslog" label:"Address" placeholder:"siem.example.com:6514" help:"host:port of the syslog receiver."`
	SyslogFacility  int           `json:"syslog_facility" validate:"gte=0,lte=23" default:"16" section:"Syslog" label:"Facility" help:"16 is local0; with severity informational each message starts <134>."`
	SyslogSDID      string        `json:"syslog_sd_id" validate:"max=32" default:"switchboard@32473" section:"Syslog" label:"Structured Data ID" help:"SD-ID of the element carrying the event id and session id. 32473 is the documentation enterprise number; use your own if you have one."`
	UDPMaxBytes     int           `json:"udp_max_bytes" validate:"gte=0,lte=65507" default:"1472" section:"Syslog" label:"UDP Message Size Limit" help:"Longer messages are cut to this size. 1472 avoids IP fragmentation on 1500-byte Ethernet; RFC 5426 guarantees only 480 (IPv4)."`
	TLSCA           string        `json:"tls_ca" kind:"textarea" validate:"max=65536" section:"TLS" label:"CA Certificate (PEM)" help:"Trust this CA for the destination's certificate (syslog TLS or HTTPS). Blank: the system's CAs."`
	TLSClientCert   string        `json:"tls_client_cert" kind:"textarea" validate:"max=65536" section:"TLS" label:"Client Certificate (PEM)" help:"For receivers that authenticate senders by certificate (mutual TLS)."`
	TLSClientKey    engine.Secret `json:"tls_client_key" binds:"destination,url,syslog_address,tls_client_cert" section:"TLS" label:"Client Key (PEM)"`
	TLSInsecure     bool          `json:"tls_insecure" section:"TLS" label:"Allow Invalid Destination Certificates" help:"Accept a self-signed or expired certificate. Only for test receivers."`

	EventTypes     []string `json:"event_types" options:"Session Start,Session End,Chat Message,Session Note Added,System Information Retrieved,Conference Member Added,Conference Member Departed,Conference Member State Changed,Conference Owner Changed,Directory Created,File Deleted,File Download,File Upload,File Transfer Complete,Session Foreground Window Changed,Session Mouse Left Clicked,Session Window Closed,Special Action Executed,Remote Shell Event,Registry,Jump Item Authorization Request Utilized,Session Summary,PM Cloud Event,PM Cloud Activity Audit,Appliance Team Activity,Appliance Vault Account Activity,Appliance Syslog" section:"Events" label:"Event Types" help:"Forward only these event types of the session report. None selected: all. Outbound events forwarded as they arrive are chosen under Outbound Event Types instead."`
	RedactChat     bool     `json:"redact_chat" section:"Events" label:"Redact Chat and Note Text" help:"Chat messages and notes are forwarded with their text replaced by [redacted]."`
	RedactPaths    bool     `json:"redact_paths" section:"Events" label:"Redact File Paths" help:"File events keep the file's name and drop its folder."`
	ForwardLive    bool     `json:"forward_outbound" section:"Events" label:"Forward Outbound Events as They Arrive" help:"Also forward each outbound event (member added or departed, owner changed, surveys) as a lightweight event, before the session ends. Select them under Outbound Event Types."`
	TestSendEvent  bool     `json:"test_send_event" section:"Test" label:"Test Sends a Test Event" help:"When on, the Test button also sends one event marked as a test (event code \"Switchboard Test Event\", tag switchboard-test). Off: Test only connects and authenticates, writing nothing."`
	MaxBatchEvents int      `json:"max_batch_events" validate:"gte=0,lte=10000" default:"500" section:"Events" label:"Events per Request" help:"At most this many events in one request (syslog: one write). The destination's size limit applies too."`
}

// NewSettings returns the values a new SIEM configuration starts with.
func NewSettings() *Settings {
	return &Settings{
		Destination: DestHEC, Format: FormatECS, HECSourcetype: "beyondtrust:session", HECSource: "switchboard",
		ElasticIndex: "logs-beyondtrust.session-default", SyslogTransport: TransportTLS, SyslogFacility: 16,
		SyslogSDID: "switchboard@32473", UDPMaxBytes: 1472, MaxBatchEvents: 500,
	}
}

var _ engine.SelfValidator = (*Settings)(nil)

// sdName is RFC 5424's SD-NAME: printable ASCII without '=', space, ']'
// and '"', 1 to 32 characters.
var sdName = regexp.MustCompile(`^[!#-<>-\\^-~]{1,32}$`)

// ValidateSettings checks what the tags cannot: what the chosen
// destination needs, the URL's and address's shape, the PEM blocks.
func (s *Settings) ValidateSettings() engine.FieldErrors {
	var out engine.FieldErrors
	add := func(field, msg string) { out = append(out, engine.FieldError{Field: field, Message: msg}) }
	switch s.Destination {
	case DestSyslog:
		if s.SyslogAddress == "" {
			add("syslog_address", "is required for syslog: host:port of the receiver")
		} else if _, port, err := net.SplitHostPort(s.SyslogAddress); err != nil || port == "" {
			add("syslog_address", "must be host:port, e.g. siem.example.com:6514")
		}
		if !sdName.MatchString(s.SyslogSDID) {
			add("syslog_sd_id", "must be 1 to 32 printable characters without '=', ' ', ']' or '\"', e.g. switchboard@32473")
		}
		if s.SyslogTransport == TransportUDP && s.UDPMaxBytes != 0 && s.UDPMaxBytes < 480 {
			add("udp_max_bytes", "must be at least 480, the size every receiver must accept")
		}
	case DestHEC, DestElastic, DestSekoia, DestWebhook:
		if s.URL == "" {
			add("url", "is required for this destination")
		} else if err := checkURL(s.URL); err != nil {
			add("url", err.Error())
		}
		if !s.Credential.IsSet() {
			add("credential", "is required for this destination")
		}
	}
	if s.HECAck && s.Destination == DestHEC && s.HECChannel == "" {
		add("hec_channel", "is required with indexer acknowledgement: any GUID")
	}
	if _, err := s.tlsConfig(); err != nil {
		add("tls_client_cert", err.Error())
	}
	for _, t := range s.EventTypes {
		if !slices.Contains(EventTypes, t) && !strings.HasPrefix(t, "support_conference_") {
			add("event_types", fmt.Sprintf("%q is not an event type; choose from the list", t))
			break
		}
	}
	return out
}

// checkURL refuses plain HTTP to anything but this machine: tokens travel
// in headers.
func checkURL(raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("must be a URL such as https://splunk.example.com:8088")
	}
	if u.Scheme == "http" && !engine.IsLoopbackHost(u.Hostname()) {
		return errors.New("must use https://: the token travels with every request")
	}
	if u.User != nil || u.Fragment != "" {
		return errors.New("must not carry a user name or fragment")
	}
	return nil
}

// tlsConfig builds the TLS settings for the destination: its CA, a client
// certificate, or no check at all when the admin allowed that.
func (s *Settings) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.TLSInsecure} //nolint:gosec // the admin's explicit choice, for test receivers
	if strings.TrimSpace(s.TLSCA) != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(s.TLSCA)) {
			return nil, errors.New("the CA certificate is not a PEM certificate")
		}
		cfg.RootCAs = pool
	}
	cert, key := strings.TrimSpace(s.TLSClientCert), strings.TrimSpace(s.TLSClientKey.Reveal())
	switch {
	case cert == "" && key == "":
	case cert == "" || key == "":
		return nil, errors.New("give both the client certificate and its key, or neither")
	default:
		pair, err := tls.X509KeyPair([]byte(cert), []byte(key))
		if err != nil {
			if b, _ := pem.Decode([]byte(cert)); b == nil {
				return nil, errors.New("the client certificate is not PEM")
			}
			return nil, errors.New("the client certificate and key do not form a pair")
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// wants reports whether an event passes the Event Types filter. An
// outbound event forwarded as it arrives is already chosen by the
// appliance section's Outbound Event Types; the filter holds it back only
// when it names outbound events (support_conference_…) itself.
func (s *Settings) wants(e *Event) bool {
	if len(s.EventTypes) == 0 {
		return true
	}
	if strings.HasPrefix(e.Kind, "support_conference_") {
		named := slices.ContainsFunc(s.EventTypes, func(t string) bool { return strings.HasPrefix(t, "support_conference_") })
		return !named || slices.Contains(s.EventTypes, e.Kind)
	}
	if slices.Contains(s.EventTypes, e.Type) {
		return true
	}
	return strings.HasPrefix(e.Type, "Registry") && slices.Contains(s.EventTypes, "Registry")
}

func (s *Settings) redaction() Redaction { return Redaction{Chat: s.RedactChat, Paths: s.RedactPaths} }

// batchEvents is the per-request event cap.
func (s *Settings) batchEvents() int {
	if s.MaxBatchEvents <= 0 {
		return 500
	}
	return s.MaxBatchEvents
}
