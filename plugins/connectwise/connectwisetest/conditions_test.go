package connectwisetest

import (
	"testing"
)

func TestConditions(t *testing.T) {
	t.Parallel()
	rec := normalize(map[string]any{
		"id": 12, "summary": `PRA session 1f34 "quoted"`, "closedFlag": false,
		"board":       map[string]any{"id": 3, "name": "Help Desk"},
		"lastUpdated": "2024-03-01T10:00:00Z", "owner": nil,
	})
	cases := []struct {
		expr string
		want bool
	}{
		{`id=12`, true},
		{`id = 13`, false},
		{`id != 13`, true},
		{`id>11 and id<=12`, true},
		{`id >= 13 OR closedFlag=false`, true},
		{`board/name="Help Desk"`, true},
		{`board/name='Help Desk'`, true},
		{`board/name="help desk"`, false},
		{`board/id in (1,2,3)`, true},
		{`board/id in (1,2)`, false},
		{`summary contains "1f34"`, true},
		{`summary contains '"quoted"'`, true},
		{`summary like "PRA%"`, true},
		{`summary like "%session%quoted%"`, true},
		{`summary like "RS%"`, false},
		{`summary not like "RS%"`, true},
		{`not (id=12)`, false},
		{`(id=1 or id=12) and board/id=3`, true},
		{`lastUpdated > [2024-01-01T00:00:00Z]`, true},
		{`lastUpdated < [2024-01-01T00:00:00Z]`, false},
		{`owner = null`, true},
		{`summary != null`, true},
		{`missing = null`, true},
		{`missing = 1`, false},
		{``, true},
	}
	for _, c := range cases {
		cond, err := parseConditions(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if got := cond.match(rec); got != c.want {
			t.Errorf("%s = %v, want %v", c.expr, got, c.want)
		}
	}
}

func TestConditionsRefused(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		`summary = "unterminated`, `summary = unquoted`, `id =`, `(id=1`, `id = 1 and`, `id ~ 1`,
		`lastUpdated > [yesterday]`, `id in 1,2`, `= 3`, `id = 1 id = 2`, `id ! 1`,
	} {
		if _, err := parseConditions(bad); err == nil {
			t.Errorf("%s: parsed without error", bad)
		}
	}
}

func FuzzConditions(f *testing.F) {
	for _, s := range []string{`id=1`, `a/b like "x%" and (c in (1,2) or not d != null)`, `t > [2024-01-01T00:00:00Z]`} {
		f.Add(s)
	}
	rec := normalize(map[string]any{"id": 1, "a": map[string]any{"b": "xy"}, "c": 2})
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseConditions(s)
		if err == nil {
			c.match(rec)
		}
	})
}
