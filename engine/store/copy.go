package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// copyTables are every table of the schema, parents before the tables
// that refer to them. CopyTo refuses a source holding a table not listed
// here, so a migration that adds a table cannot be left out silently.
var copyTables = []string{
	"configurations", "events", "deliveries", "delivery_attempts", "links", "poll_cursors",
	"audit_log", "admin_users", "admin_sessions", "admin_setup_tokens", "key_check",
	"source_cursors", "leader_leases", "template_versions", "budget_slots", "budget_windows", "login_failures",
	"api_tokens", "source_configs",
}

// ErrTargetNotEmpty refuses a copy into a database that already holds rows.
var ErrTargetNotEmpty = errors.New("the target database is not empty")

// copyBatch bounds the rows of one INSERT (PostgreSQL takes at most 65,535
// parameters a statement).
const copyBatch = 500

// CopyTo copies every row of s, a SQLite database, into dst, a PostgreSQL
// database at the same schema version that holds no rows yet, in one
// transaction: on any error dst is left as empty as it was. Sealed secrets
// are copied as they are stored, so dst needs the same secret key. After
// the copy it counts every table on both sides and returns the counts; a
// difference is an error. Nothing may write to s meanwhile (stop its
// engine first).
func (s *Store) CopyTo(ctx context.Context, dst *Store, progress func(table string, rows int64)) (map[string]int64, error) {
	if s.pg || !dst.pg {
		return nil, errors.New("store: copies go from SQLite to PostgreSQL")
	}
	if err := s.checkCopyTables(ctx); err != nil {
		return nil, err
	}
	if err := sameVersion(ctx, s, dst); err != nil {
		return nil, err
	}
	for _, t := range copyTables {
		n, err := dst.count(ctx, t)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, fmt.Errorf("%w: table %s has %d rows; give an empty database (or drop and re-create it)", ErrTargetNotEmpty, t, n)
		}
	}
	types, err := dst.columnTypes(ctx)
	if err != nil {
		return nil, err
	}
	err = dst.writeTx(ctx, func(tx *gorm.DB) error {
		for _, t := range copyTables {
			n, err := s.copyTable(ctx, tx, t, types[t])
			if err != nil {
				return fmt.Errorf("store: copy %s: %w", t, err)
			}
			if progress != nil {
				progress(t, n)
			}
		}
		return resetIdentities(tx, types)
	})
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	for _, t := range copyTables {
		want, err := s.count(ctx, t)
		if err != nil {
			return nil, err
		}
		got, err := dst.count(ctx, t)
		if err != nil {
			return nil, err
		}
		if got != want {
			return counts, fmt.Errorf("store: copy of %s: %d rows in the source, %d in the target (was the source written meanwhile?)", t, want, got)
		}
		counts[t] = got
	}
	return counts, nil
}

// checkCopyTables refuses a source with a table copyTables does not list.
func (s *Store) checkCopyTables(ctx context.Context) error {
	var names []string
	err := s.r.WithContext(ctx).Raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version'").Scan(&names).Error
	if err != nil {
		return fmt.Errorf("store: list tables: %w", err)
	}
	for _, n := range names {
		if !slices.Contains(copyTables, n) {
			return fmt.Errorf("store: the source has a table %s that the copy does not know; use the switchboard release that made it", n)
		}
	}
	return nil
}

// sameVersion refuses databases at different schema versions.
func sameVersion(ctx context.Context, a, b *Store) error {
	va, err := a.schemaVersion(ctx)
	if err != nil {
		return err
	}
	vb, err := b.schemaVersion(ctx)
	if err != nil {
		return err
	}
	if va != vb {
		return fmt.Errorf("store: the source is at schema version %d and the target at %d; run switchboard migrate on both with this release first", va, vb)
	}
	return nil
}

func (s *Store) schemaVersion(ctx context.Context) (int64, error) {
	ms, err := s.Migrations(ctx)
	if err != nil {
		return 0, err
	}
	var v int64
	for _, m := range ms {
		if m.Applied {
			v = max(v, m.Version)
		}
	}
	return v, nil
}

func (s *Store) count(ctx context.Context, table string) (int64, error) {
	var n int64
	if err := s.r.WithContext(ctx).Table(table).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("store: count %s: %w", table, err)
	}
	return n, nil
}

// columnTypes maps each table's columns to their PostgreSQL data types.
func (s *Store) columnTypes(ctx context.Context) (map[string]map[string]string, error) {
	var cols []struct{ TableName, ColumnName, DataType string }
	err := s.r.WithContext(ctx).Raw("SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema()").Scan(&cols).Error
	if err != nil {
		return nil, fmt.Errorf("store: read the target's columns: %w", err)
	}
	out := map[string]map[string]string{}
	for _, c := range cols {
		if out[c.TableName] == nil {
			out[c.TableName] = map[string]string{}
		}
		out[c.TableName][c.ColumnName] = c.DataType
	}
	return out, nil
}

// copyTable streams one table's rows into tx, copyBatch rows an INSERT.
func (s *Store) copyTable(ctx context.Context, tx *gorm.DB, table string, types map[string]string) (int64, error) {
	rows, err := s.r.WithContext(ctx).Raw("SELECT * FROM " + table + " ORDER BY rowid").Rows()
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	for _, c := range cols {
		if types[c] == "" {
			return 0, fmt.Errorf("the target has no column %s", c)
		}
	}
	var batch []any
	var n int64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		k := len(batch) / len(cols)
		row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
		q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " +
			strings.TrimSuffix(strings.Repeat(row+", ", k), ", ")
		err := tx.Exec(q, batch...).Error
		batch = batch[:0]
		return err
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, c := range cols {
			v, err := convert(vals[i], types[c])
			if err != nil {
				return n, fmt.Errorf("column %s: %w", c, err)
			}
			batch = append(batch, v)
		}
		n++
		if n%copyBatch == 0 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// convert turns a value read from SQLite into one the PostgreSQL column
// takes: SQLite keeps booleans as 0 and 1 and may hand text and blobs
// back as either strings or bytes.
func convert(v any, pgType string) (any, error) {
	switch pgType {
	case "boolean":
		switch b := v.(type) {
		case int64:
			return b != 0, nil
		case bool, nil:
			return b, nil
		}
		return nil, fmt.Errorf("%T is not a boolean", v)
	case "bytea":
		if s, ok := v.(string); ok {
			return []byte(s), nil
		}
	case "text", "character varying":
		if b, ok := v.([]byte); ok {
			return string(b), nil
		}
	}
	return v, nil
}

// resetIdentities moves each identity column's sequence past the copied
// ids, so the next row inserted gets a fresh one.
func resetIdentities(tx *gorm.DB, types map[string]map[string]string) error {
	for _, t := range copyTables {
		if _, ok := types[t]["id"]; !ok {
			continue
		}
		var seq *string
		if err := tx.Raw("SELECT pg_get_serial_sequence(?, 'id')", t).Scan(&seq).Error; err != nil {
			return fmt.Errorf("store: sequence of %s: %w", t, err)
		}
		if seq == nil {
			continue // key_check: id is fixed, not generated
		}
		if err := tx.Exec("SELECT setval(?::regclass, COALESCE((SELECT MAX(id) FROM "+t+"), 0) + 1, false)", *seq).Error; err != nil {
			return fmt.Errorf("store: move the ids of %s on: %w", t, err)
		}
	}
	return nil
}
