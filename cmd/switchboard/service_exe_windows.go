package main

import (
	"fmt"
	"io"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/windows"
)

// checkServiceExe refuses to install a service whose program accounts
// other than SYSTEM, Administrators, TrustedInstaller and the installing
// administrator can change. Where the access lists cannot be read it
// warns and goes on.
func checkServiceExe(exe string, stdout io.Writer) error {
	chain, err := readExeChain(exe)
	var trusted func(string) bool
	if err == nil {
		trusted, err = exeTrusted()
	}
	if err != nil {
		fmt.Fprintf(stdout, "Warning: could not check who may change %s (%v); make sure only Administrators can: the service runs it as LocalSystem.\n", exe, err)
		return nil
	}
	if found := exeExposures(chain, trusted); len(found) > 0 {
		return exeExposedError(exe, found, accountName)
	}
	return nil
}

// readExeChain reads the owner and access list of exe and of every folder
// above it, up to the root.
func readExeChain(exe string) ([]exeObject, error) {
	var chain []exeObject
	for p := filepath.Clean(exe); ; {
		o, err := readExeObject(p)
		if err != nil {
			return nil, fmt.Errorf("read the access list of %s: %w", p, err)
		}
		chain = append(chain, o)
		up := filepath.Dir(p)
		if up == p {
			return chain, nil
		}
		p = up
	}
}

func readExeObject(path string) (exeObject, error) {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return exeObject{}, err
	}
	owner, _, err := sd.Owner()
	if err != nil {
		return exeObject{}, err
	}
	o := exeObject{Path: path, Owner: owner.String()}
	dacl, _, err := sd.DACL()
	if err == windows.ERROR_OBJECT_NOT_FOUND || (err == nil && dacl == nil) {
		o.NoDACL = true // no access list, or a null one: no limits
		return o, nil
	}
	if err != nil {
		return exeObject{}, err
	}
	for i := range uint32(dacl.AceCount) {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return exeObject{}, err
		}
		// Deny entries are not subtracted: a refusal they would avoid
		// names the account, and the fix (another folder) is cheap.
		if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE || ace.Header.AceFlags&windows.INHERIT_ONLY_ACE != 0 {
			continue
		}
		sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		o.Grants = append(o.Grants, grant{SID: sid.String(), Mask: uint32(ace.Mask)})
	}
	return o, nil
}

// exeTrusted trusts SYSTEM, Administrators, TrustedInstaller and the
// account running install (an administrator: creating a service needs one).
func exeTrusted() (func(string) bool, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("read this process's account: %w", err)
	}
	me := u.User.Sid.String()
	return func(sid string) bool {
		switch sid {
		case sidSystem, sidAdministrators, sidTrusted, me:
			return true
		}
		return false
	}, nil
}

// accountName is DOMAIN\name for a SID, or the SID where it has none.
func accountName(s string) string {
	sid, err := windows.StringToSid(s)
	if err != nil {
		return s
	}
	name, domain, _, err := sid.LookupAccount("")
	if err != nil {
		return s
	}
	if domain == "" {
		return name
	}
	return domain + `\` + name
}
