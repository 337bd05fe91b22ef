package activity

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"switchboard/engine/beyondtrust"
)

// The EndpointLicenseUsage report (PRA) answers a ZIP archive, not XML. What
// is known of it comes from one public client, FrodeHus/BeyondTrustConnector
// (BeyondTrustConnector/Service/BeyondTrustService.cs and
// LicenseUsageUpdater.cs, https://github.com/FrodeHus/BeyondTrustConnector):
// generate_report=EndpointLicenseUsage with no other parameter; the archive
// holds jump_items.csv, a header line and then one line per Jump Item whose
// columns are, in order, the Jump Item's name, its hostname or IP, its
// Jumpoint, its remote application name, whether it takes a license
// ("yes"), its Jump method and its Jump Group. The header's words and the
// archive's other files are not known: the header is skipped, other files
// are ignored, and a line with fewer columns leaves the missing ones empty.
const EndpointLicenseFile = "jump_items.csv"

// Bounds of one EndpointLicenseUsage report: past them it is refused as
// malformed rather than read in part.
var (
	// MaxJumpItems bounds the Jump Items read from one report.
	MaxJumpItems = 200_000
	// MaxLicenseCSV bounds jump_items.csv once uncompressed.
	MaxLicenseCSV int64 = 64 << 20
)

// JumpItemLicense is one Jump Item of the EndpointLicenseUsage report.
type JumpItemLicense struct {
	JumpItem          string `json:"jump_item"`
	Host              string `json:"hostname_or_ip"`
	Jumpoint          string `json:"jumpoint"`
	RemoteApplication string `json:"remote_application"`
	// License is the license column as given; Licensed reads it: true for
	// "yes", false for "no", null for anything else (or nothing).
	License    string `json:"license"`
	Licensed   *bool  `json:"licensed"`
	JumpMethod string `json:"jump_method"`
	JumpGroup  string `json:"jump_group"`
}

// ReadEndpointLicenses reads an EndpointLicenseUsage answer: the ZIP archive
// (its jump_items.csv), or an XML <error> — "no data" gives no items, any
// other a *beyondtrust.ResponseError. An archive without jump_items.csv, or
// whose file cannot be read as CSV, is a *beyondtrust.ParseError. tmpDir
// holds the download while it is read ("" for the system's).
func ReadEndpointLicenses(r io.Reader, tmpDir string) ([]JumpItemLicense, error) {
	zr, done, err := openArchive(r, tmpDir, "EndpointLicenseUsage")
	if zr == nil {
		return nil, err
	}
	defer done()
	var names []string
	for _, zf := range zr.File {
		if zf.FileInfo().IsDir() {
			continue
		}
		if strings.EqualFold(path.Base(zf.Name), EndpointLicenseFile) {
			items, err := readJumpItems(zf.Open)
			if err != nil {
				return nil, &beyondtrust.ParseError{Err: fmt.Errorf("the EndpointLicenseUsage archive's %s: %w", zf.Name, err)}
			}
			return items, nil
		}
		if len(names) < 5 {
			names = append(names, fmt.Sprintf("%q", zf.Name))
		}
	}
	return nil, &beyondtrust.ParseError{Err: fmt.Errorf("the EndpointLicenseUsage archive has no %s (it holds %d files: %s)",
		EndpointLicenseFile, len(zr.File), strings.Join(names, ", "))}
}

func readJumpItems(open func() (io.ReadCloser, error)) ([]JumpItemLicense, error) {
	rc, err := open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var expanded int64
	cr := csv.NewReader(&counter{r: rc, n: &expanded, max: MaxLicenseCSV})
	cr.FieldsPerRecord = -1 // a line with fewer columns leaves the rest empty
	cr.ReuseRecord = true
	if _, err := cr.Read(); err != nil { // the header
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var out []JumpItemLicense
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(out) == MaxJumpItems {
			return nil, fmt.Errorf("more than %d Jump Items", MaxJumpItems)
		}
		col := func(i int) string {
			if i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		it := JumpItemLicense{JumpItem: col(0), Host: col(1), Jumpoint: col(2), RemoteApplication: col(3),
			License: col(4), JumpMethod: col(5), JumpGroup: col(6)}
		switch strings.ToLower(it.License) {
		case "yes":
			it.Licensed = new(bool)
			*it.Licensed = true
		case "no":
			it.Licensed = new(bool)
		}
		out = append(out, it)
	}
}
