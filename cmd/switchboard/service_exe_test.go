package main

import (
	"slices"
	"strings"
	"testing"
)

// Access masks as icacls shows them.
const (
	maskFull   = 0x1f01ff // (F)
	maskModify = 0x1301bf // (M)
	maskRX     = 0x1200a9 // (RX)
)

const (
	sidUsers     = "S-1-5-32-545"
	sidAuthUsers = "S-1-5-11"
	sidAdmin     = "S-1-5-21-1-2-3-500"  // the administrator running install
	sidBob       = "S-1-5-21-1-2-3-1001" // a user
)

func trustedForTest(sid string) bool {
	return slices.Contains([]string{sidSystem, sidAdministrators, sidTrusted, sidAdmin}, sid)
}

// admins is an object only SYSTEM and Administrators may change, that
// users may read and run (as under Program Files).
func admins(path string) exeObject {
	return exeObject{Path: path, Owner: sidAdministrators, Grants: []grant{
		{sidSystem, maskFull}, {sidAdministrators, maskFull}, {sidUsers, maskRX}, {"S-1-15-2-1", maskRX},
	}}
}

// root is C:\ as Windows sets it up: users may add folders (but not files)
// there; their Modify entry is inherit-only, so it is not read as one of
// C:\'s own.
func root() exeObject {
	o := admins(`C:\`)
	o.Owner = sidTrusted
	o.Grants = append(o.Grants, grant{sidAuthUsers, rightAppendData})
	return o
}

// TestExeExposures: install refuses a program that someone other than the
// trusted accounts may change, directly or through a folder above it.
func TestExeExposures(t *testing.T) {
	owned := func(o exeObject, sid string) exeObject { o.Owner = sid; return o }
	for _, tt := range []struct {
		name  string
		chain []exeObject
		want  []string // path and SID of each exposure
	}{
		{"under Program Files", []exeObject{admins(`C:\Program Files\Switchboard\switchboard.exe`), admins(`C:\Program Files\Switchboard`), admins(`C:\Program Files`), root()}, nil},
		{"owned by the installing administrator", []exeObject{owned(admins(`C:\sb\switchboard.exe`), sidAdmin), owned(admins(`C:\sb`), sidAdmin), root()}, nil},
		{"in a user's downloads", []exeObject{
			owned(withGrants(admins(`C:\Users\bob\Downloads\switchboard.exe`), grant{sidBob, maskFull}), sidBob),
			owned(withGrants(admins(`C:\Users\bob\Downloads`), grant{sidBob, maskFull}), sidBob),
			owned(withGrants(admins(`C:\Users\bob`), grant{sidBob, maskFull}), sidBob),
			admins(`C:\Users`), root(),
		}, []string{
			`C:\Users\bob\Downloads\switchboard.exe ` + sidBob, `C:\Users\bob\Downloads\switchboard.exe ` + sidBob,
			`C:\Users\bob\Downloads ` + sidBob, `C:\Users\bob\Downloads ` + sidBob,
			`C:\Users\bob ` + sidBob, `C:\Users\bob ` + sidBob,
		}},
		{"a folder users may modify", []exeObject{
			withGrants(admins(`C:\tools\switchboard.exe`), grant{sidAuthUsers, maskModify}),
			withGrants(admins(`C:\tools`), grant{sidAuthUsers, maskModify}), root(),
		}, []string{`C:\tools\switchboard.exe ` + sidAuthUsers, `C:\tools ` + sidAuthUsers}},
		{"users may only add files beside it (DLLs are looked for there first)", []exeObject{
			admins(`C:\tools\switchboard.exe`), withGrants(admins(`C:\tools`), grant{sidUsers, rightWriteData}), root(),
		}, []string{`C:\tools ` + sidUsers}},
		{"a folder above lets users add folders only", []exeObject{
			admins(`C:\a\b\switchboard.exe`), admins(`C:\a\b`), withGrants(admins(`C:\a`), grant{sidUsers, rightAppendData | rightWriteData}), root(),
		}, nil},
		{"a folder above lets users delete what it holds", []exeObject{
			admins(`C:\a\b\switchboard.exe`), admins(`C:\a\b`), withGrants(admins(`C:\a`), grant{sidUsers, rightDeleteChild}), root(),
		}, []string{`C:\a ` + sidUsers}},
		{"no access list", []exeObject{{Path: `C:\x\switchboard.exe`, Owner: sidAdministrators, NoDACL: true}, admins(`C:\x`), root()}, []string{`C:\x\switchboard.exe S-1-1-0`}},
		{"owner rights stand for an untrusted owner", []exeObject{
			owned(withGrants(admins(`C:\x\switchboard.exe`), grant{sidOwnerRights, maskModify}), sidBob), admins(`C:\x`), root(),
		}, []string{`C:\x\switchboard.exe ` + sidBob, `C:\x\switchboard.exe ` + sidBob}},
		{"owner rights of a trusted owner", []exeObject{withGrants(admins(`C:\x\switchboard.exe`), grant{sidOwnerRights, maskModify}), admins(`C:\x`), root()}, nil},
		{"creator owner grants nothing itself", []exeObject{withGrants(admins(`C:\x\switchboard.exe`), grant{sidCreatorOwner, maskFull}), admins(`C:\x`), root()}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range exeExposures(tt.chain, trustedForTest) {
				got = append(got, e.Path+" "+e.SID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("exposures\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestExeExposedError: the refusal names each account, what it may do and
// where, and says how to fix it.
func TestExeExposedError(t *testing.T) {
	chain := []exeObject{
		withGrants(admins(`C:\tools\switchboard.exe`), grant{sidAuthUsers, maskModify}),
		admins(`C:\tools`), root(),
	}
	names := func(sid string) string {
		if sid == sidAuthUsers {
			return `NT AUTHORITY\Authenticated Users`
		}
		return sid
	}
	err := exeExposedError(`C:\tools\switchboard.exe`, exeExposures(chain, trustedForTest), names)
	for _, want := range []string{
		`would run C:\tools\switchboard.exe as LocalSystem`,
		`NT AUTHORITY\Authenticated Users may write it, delete or rename it: C:\tools\switchboard.exe`,
		`C:\Program Files\Switchboard`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal lacks %q:\n%v", want, err)
		}
	}
}

func withGrants(o exeObject, gs ...grant) exeObject {
	o.Grants = append(slices.Clone(o.Grants), gs...)
	return o
}
