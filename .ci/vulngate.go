// Command vulngate reads govulncheck's JSON output (-format json) on stdin
// and fails when code calls a vulnerable symbol of a module that has a fixed
// version: bumping it in go.mod is the fix. Findings in the Go standard
// library (fixed by a newer Go release) and findings the code does not reach
// are listed, not failed on; docs/security.md says what is known.
//
//	go run .ci/vulngate.go < govulncheck.json
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
}

type message struct {
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string  `json:"osv"`
		FixedVersion string  `json:"fixed_version"`
		Trace        []frame `json:"trace"`
	} `json:"finding"`
}

type finding struct {
	id, module, found, fixed, summary string
	reachable                         bool
}

func main() {
	dec := json.NewDecoder(os.Stdin)
	summaries := map[string]string{}
	found := map[string]*finding{}
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "vulngate: read govulncheck output:", err)
			os.Exit(2)
		}
		if m.OSV != nil {
			summaries[m.OSV.ID] = m.OSV.Summary
		}
		if f := m.Finding; f != nil && len(f.Trace) > 0 {
			top := f.Trace[0]
			key := f.OSV + " " + top.Module
			x := found[key]
			if x == nil {
				x = &finding{id: f.OSV, module: top.Module, found: top.Version, fixed: f.FixedVersion}
				found[key] = x
			}
			x.reachable = x.reachable || top.Function != ""
		}
	}
	keys := make([]string, 0, len(found))
	for k := range found {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	failed := 0
	for _, k := range keys {
		f := found[k]
		f.summary = summaries[f.id]
		verdict := "listed"
		switch {
		case f.reachable && f.fixed != "" && f.module != "stdlib":
			verdict = "FAIL: called, and fixed in " + f.fixed + ": bump it in go.mod"
			failed++
		case f.reachable && f.fixed != "":
			verdict = "called; fixed by Go " + f.fixed + " (build releases with it)"
		case f.reachable:
			verdict = "called; no fixed version yet"
		default:
			verdict = "not called by this code"
		}
		fmt.Printf("%s %s@%s: %s — %s\n", f.id, f.module, f.found, f.summary, verdict)
	}
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "vulngate: %d reachable finding(s) with a fixed module version\n", failed)
		os.Exit(1)
	}
}
