package main

import (
	"errors"
	"fmt"
	"strings"
)

// The service runs its program as LocalSystem, so whoever can change that
// program, or a folder it sits in, can run code as LocalSystem. install
// reads the owner and access list of the program and of each folder above
// it (on Windows) and refuses when an account other than the trusted ones
// may change them. Rights and SIDs as Microsoft documents them:
// https://learn.microsoft.com/en-us/windows/win32/fileio/file-access-rights-constants
// https://support.microsoft.com/en-us/help/243330/well-known-security-identifiers-in-windows-operating-systems

// Access rights in an access-list entry's mask.
const (
	rightWriteData   = 0x2        // FILE_WRITE_DATA; on a folder FILE_ADD_FILE
	rightAppendData  = 0x4        // FILE_APPEND_DATA; on a folder FILE_ADD_SUBDIRECTORY
	rightDeleteChild = 0x40       // FILE_DELETE_CHILD (folders)
	rightDelete      = 0x10000    // DELETE (also: rename)
	rightWriteDAC    = 0x40000    // WRITE_DAC: change the access list
	rightWriteOwner  = 0x80000    // WRITE_OWNER: take ownership
	rightGenericAll  = 0x10000000 // GENERIC_ALL
	rightGenericW    = 0x40000000 // GENERIC_WRITE
)

// Rights that let an account replace what the service runs:
const (
	// on the program: change it, or move it away;
	exeFileRights = rightWriteData | rightAppendData | rightDelete | rightWriteDAC | rightWriteOwner | rightGenericAll | rightGenericW
	// on its folder, where Windows looks for DLLs first: add a file, or
	// delete or rename one;
	exeDirRights = rightWriteData | rightDeleteChild | rightDelete | rightWriteDAC | rightWriteOwner | rightGenericAll | rightGenericW
	// on a folder above: delete or rename what it holds, or itself. Adding
	// a folder there replaces nothing (every user may add one to C:\).
	exeParentRights = rightDeleteChild | rightDelete | rightWriteDAC | rightWriteOwner | rightGenericAll
)

// Well-known SIDs.
const (
	sidSystem         = "S-1-5-18"
	sidAdministrators = "S-1-5-32-544"
	sidTrusted        = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464" // NT SERVICE\TrustedInstaller
	sidCreatorOwner   = "S-1-3-0"                                                        // a placeholder for inheritance; grants nothing itself
	sidOwnerRights    = "S-1-3-4"                                                        // the object's owner
)

// exeObject is the program or a folder above it, as Windows reports it.
type exeObject struct {
	Path   string
	Owner  string  // SID
	NoDACL bool    // a null access list: everyone may do anything
	Grants []grant // the allow entries that apply to the object itself
}

// grant is an allow entry of an access list.
type grant struct {
	SID  string
	Mask uint32
}

// exeExposure is an account that may change what the service runs.
type exeExposure struct {
	Path, SID, Why string
}

// exeExposures lists who besides the trusted accounts may change the
// program (chain[0]) or the folders above it (chain[1] its own, then up
// to the root). trusted says whether a SID is one of SYSTEM,
// Administrators, TrustedInstaller or the installing administrator.
func exeExposures(chain []exeObject, trusted func(sid string) bool) []exeExposure {
	var out []exeExposure
	for i, o := range chain {
		var rights uint32 = exeParentRights
		switch i {
		case 0:
			rights = exeFileRights
		case 1:
			rights = exeDirRights
		}
		if !trusted(o.Owner) {
			out = append(out, exeExposure{o.Path, o.Owner, "owns it (an owner may change its access list)"})
		}
		if o.NoDACL {
			out = append(out, exeExposure{o.Path, "S-1-1-0", "may change it: it has no access list"})
			continue
		}
		for _, g := range o.Grants {
			sid := g.SID
			if sid == sidOwnerRights {
				sid = o.Owner
			}
			if sid == sidCreatorOwner || trusted(sid) || g.Mask&rights == 0 {
				continue
			}
			out = append(out, exeExposure{o.Path, sid, "may " + rightsWords(g.Mask&rights, i > 0)})
		}
	}
	return out
}

// rightsWords says what mask lets an account do, in words.
func rightsWords(mask uint32, dir bool) string {
	var w []string
	add := func(bit uint32, file, folder string) {
		if mask&bit != 0 {
			if dir {
				w = append(w, folder)
			} else {
				w = append(w, file)
			}
		}
	}
	add(rightGenericAll, "do anything with it", "do anything with it")
	add(rightGenericW|rightWriteData|rightAppendData, "write it", "add files to it")
	add(rightDeleteChild, "", "delete what it holds")
	add(rightDelete, "delete or rename it", "delete or rename it")
	add(rightWriteDAC, "change its access list", "change its access list")
	add(rightWriteOwner, "take it over", "take it over")
	return strings.Join(w, ", ")
}

// exeExposedError is install's refusal: names turns a SID into an
// account name where it can.
func exeExposedError(exe string, found []exeExposure, names func(sid string) string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "service install: the service would run %s as LocalSystem, but accounts other than SYSTEM and Administrators can change it:", exe)
	for _, e := range found {
		fmt.Fprintf(&b, "\n  %s %s: %s", names(e.SID), e.Why, e.Path)
	}
	b.WriteString("\nAnyone who can change the program can run code as LocalSystem. Copy switchboard.exe into a folder only Administrators can change, such as C:\\Program Files\\Switchboard, and run service install from there.")
	return errors.New(b.String())
}
