package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"switchboard/engine"
	"switchboard/engine/render"
	"switchboard/engine/secretbox"
	"switchboard/engine/service"
	"switchboard/engine/store"
	"switchboard/plugins"
)

// configCommand is "switchboard config export|import": configurations as
// files an operator can keep in git, secrets left out.
func configCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: switchboard config export [flags] | switchboard config import [flags] FILE|DIR..."
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitError{2}
	}
	fs := flag.NewFlagSet("config "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := envFlag(fs, "data-dir", "SWITCHBOARD_DATA_DIR", "./data", "data directory")
	database := envFlag(fs, "database", "SWITCHBOARD_DATABASE", "", "database: a SQLite file path (default <data-dir>/switchboard.db) or a postgres://user:password@host:5432/db URL shared by several engines")
	switch args[0] {
	case "export":
		out := fs.String("out", "", "write to this file (0600) instead of standard output")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		return withService(ctx, *dataDir, *database, func(svc *service.Service) error {
			return exportConfigs(ctx, svc, *out, stdout)
		})
	case "import":
		dryRun := fs.Bool("dry-run", false, "validate and show what would change, write nothing")
		secretsFile := fs.String("secrets", "", `JSON file of secrets: {"<plugin>/<name>": {"<field>": "value"}}`)
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			return errors.New("config import: name at least one file or folder of exported configurations")
		}
		f, err := readConfigFiles(fs.Args())
		if err != nil {
			return err
		}
		opts := service.ImportOptions{DryRun: *dryRun, Getenv: os.LookupEnv}
		if *secretsFile != "" {
			if opts.Secrets, err = readSecretsFile(*secretsFile); err != nil {
				return err
			}
		}
		return withService(ctx, *dataDir, *database, func(svc *service.Service) error {
			res, err := svc.Import(ctx, "config import", f, opts)
			printImport(stdout, res, *dryRun)
			return err
		})
	}
	fmt.Fprintln(stderr, usage)
	return exitError{2}
}

// withService opens an existing installation's configurations the way the
// engine does: its database, its secret key, its template overrides.
func withService(ctx context.Context, dataDir, database string, fn func(*service.Service) error) error {
	st, err := openInstallation(ctx, dataDir, database, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	box, err := secretbox.Load(ctx, dataDir, os.Getenv(secretbox.EnvKey), st)
	if err != nil {
		return err
	}
	reg, err := engine.NewRegistry(plugins.All()...)
	if err != nil {
		return err
	}
	rd, err := render.New(render.Options{OverrideDir: filepath.Join(dataDir, "templates"), PluginTemplates: reg.Templates(), PluginHelpers: reg.Helpers()})
	if err != nil {
		return err
	}
	svc, err := service.New(service.Options{Store: st, Registry: reg, Box: box, Renderer: rd})
	if err != nil {
		return err
	}
	return fn(svc)
}

func exportConfigs(ctx context.Context, svc *service.Service, out string, stdout io.Writer) error {
	f, err := svc.Export(ctx)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if out == "" {
		_, err = stdout.Write(b)
		return err
	}
	return os.WriteFile(out, b, 0o600)
}

// readConfigFiles reads export files, and every *.json file of a folder, into
// one set of configurations.
func readConfigFiles(paths []string) (service.ExportFile, error) {
	all := service.ExportFile{Format: service.ExportFormat}
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return all, err
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		matches, err := filepath.Glob(filepath.Join(p, "*.json"))
		if err != nil {
			return all, err
		}
		slices.Sort(matches)
		files = append(files, matches...)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			return all, err
		}
		var f service.ExportFile
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return all, fmt.Errorf("%s: not a configuration export: %w", name, err)
		}
		if f.Format != service.ExportFormat {
			return all, fmt.Errorf("%s: format %q, want %q", name, f.Format, service.ExportFormat)
		}
		all.Configurations = append(all.Configurations, f.Configurations...)
	}
	return all, nil
}

func readSecretsFile(name string) (map[string]map[string]string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var m map[string]map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		// The decoder's message could quote a secret; say only where.
		return nil, fmt.Errorf("%s: not a JSON object of {\"<plugin>/<name>\": {\"<field>\": \"value\"}}", name)
	}
	return m, nil
}

func printImport(w io.Writer, res []service.ImportResult, dryRun bool) {
	prefix := ""
	if dryRun {
		prefix = "would be "
	}
	for _, r := range res {
		switch r.Action {
		case service.ImportInvalid:
			fmt.Fprintf(w, "%s/%s: refused\n", r.Plugin, r.Name)
			for _, e := range r.Errors {
				fmt.Fprintf(w, "  %s\n", strings.TrimSpace(e.Field+" "+e.Message))
			}
		case service.ImportUnchanged:
			fmt.Fprintf(w, "%s/%s: unchanged\n", r.Plugin, r.Name)
		default:
			fmt.Fprintf(w, "%s/%s: %s%s\n", r.Plugin, r.Name, prefix, r.Action)
			for _, c := range r.Changes {
				fmt.Fprintf(w, "  %s: %q -> %q\n", c.Field, c.Old, c.New)
			}
		}
	}
}
