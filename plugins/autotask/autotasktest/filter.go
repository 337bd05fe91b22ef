package autotasktest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// queryBody is a query as posted (or passed in ?search=). Top-level keys
// are matched without regard to case, as the API does.
type queryBody struct {
	Filter        []condition
	IncludeFields []string
	MaxRecords    int
}

// condition is one filter item: a field operator or an and/or group.
type condition struct {
	Op       string
	Field    string
	Value    any
	HasValue bool
	UDF      bool
	Items    []condition
}

// fieldOps are the 13 field operators Autotask documents.
var fieldOps = []string{"eq", "noteq", "gt", "gte", "lt", "lte", "beginswith", "endswith", "contains", "exist", "notexist", "in", "notin"}

// parseQuery reads a query body strictly: unknown operators, a missing
// value, a group without items and MaxRecords outside 1–500 are errors.
func parseQuery(e *entity, raw []byte) (queryBody, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return queryBody{}, fmt.Errorf("The query is not valid JSON: %v", err)
	}
	q := queryBody{MaxRecords: 500}
	for k, v := range top {
		switch strings.ToLower(k) {
		case "filter":
			var items []json.RawMessage
			if err := json.Unmarshal(v, &items); err != nil {
				return q, fmt.Errorf("filter must be an array")
			}
			for _, it := range items {
				c, err := parseCondition(e, it)
				if err != nil {
					return q, err
				}
				q.Filter = append(q.Filter, c)
			}
		case "includefields":
			if err := json.Unmarshal(v, &q.IncludeFields); err != nil {
				return q, fmt.Errorf("IncludeFields must be an array of field names")
			}
			for _, f := range q.IncludeFields {
				if e.field(f) == nil {
					return q, fmt.Errorf("Unable to find %s in the %s Entity.", f, e.name)
				}
			}
		case "maxrecords":
			if err := json.Unmarshal(v, &q.MaxRecords); err != nil || q.MaxRecords < 1 || q.MaxRecords > 500 {
				return q, fmt.Errorf("MaxRecords must be an integer between 1 and 500")
			}
		default:
			return q, fmt.Errorf("Unknown query property %s", k)
		}
	}
	if len(q.Filter) == 0 {
		return q, fmt.Errorf("A filter is required")
	}
	return q, nil
}

func parseCondition(e *entity, raw json.RawMessage) (condition, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return condition{}, fmt.Errorf("each filter item must be an object")
	}
	var c condition
	for k, v := range obj {
		var err error
		switch strings.ToLower(k) {
		case "op":
			err = json.Unmarshal(v, &c.Op)
		case "field":
			err = json.Unmarshal(v, &c.Field)
		case "value":
			dec := json.NewDecoder(strings.NewReader(string(v)))
			dec.UseNumber()
			err = dec.Decode(&c.Value)
			c.Value, c.HasValue = plain(c.Value), true
		case "udf":
			err = json.Unmarshal(v, &c.UDF)
		case "items":
			var items []json.RawMessage
			if err = json.Unmarshal(v, &items); err == nil {
				for _, it := range items {
					sub, err := parseCondition(e, it)
					if err != nil {
						return c, err
					}
					c.Items = append(c.Items, sub)
				}
			}
		default:
			return c, fmt.Errorf("Unknown filter property %s", k)
		}
		if err != nil {
			return c, fmt.Errorf("filter property %s is malformed", k)
		}
	}
	op := strings.ToLower(c.Op)
	switch {
	case op == "and" || op == "or":
		if len(c.Items) == 0 {
			return c, fmt.Errorf("The %s operator needs items", c.Op)
		}
		return c, nil
	case !slices.Contains(fieldOps, op):
		return c, fmt.Errorf("Invalid operator %q", c.Op)
	case c.Field == "":
		return c, fmt.Errorf("The %s operator needs a field", c.Op)
	}
	if c.UDF {
		return c, nil
	}
	f := e.field(c.Field)
	if f == nil {
		return c, fmt.Errorf("Unable to find %s in the %s Entity.", c.Field, e.name)
	}
	if !f.IsQueryable {
		return c, fmt.Errorf("%s is not queryable", f.Name)
	}
	c.Field = f.Name
	needsValue := op != "exist" && op != "notexist"
	switch {
	case needsValue && !c.HasValue:
		return c, fmt.Errorf("The %s operator on %s needs a value", c.Op, f.Name)
	case (op == "in" || op == "notin") && !isList(c.Value):
		return c, fmt.Errorf("The %s operator on %s needs a list value", c.Op, f.Name)
	case f.DataType == "boolean" && needsValue && !isBool(c.Value):
		return c, fmt.Errorf("Value for %s must be true or false", f.Name)
	}
	return c, nil
}

func isList(v any) bool { _, ok := v.([]any); return ok }
func isBool(v any) bool { _, ok := v.(bool); return ok }

// match evaluates conditions (an implicit and) against r.
func match(r record, conds []condition, all bool) bool {
	for _, c := range conds {
		ok := c.eval(r)
		if all && !ok {
			return false
		}
		if !all && ok {
			return true
		}
	}
	return all
}

func (c condition) eval(r record) bool {
	op := strings.ToLower(c.Op)
	switch op {
	case "and":
		return match(r, c.Items, true)
	case "or":
		return match(r, c.Items, false)
	}
	v, present := r[c.Field]
	if c.UDF {
		v, present = udfValue(r, c.Field)
	}
	present = present && v != nil && v != ""
	switch op {
	case "exist":
		return present
	case "notexist":
		return !present
	case "in", "notin":
		in := slices.ContainsFunc(c.Value.([]any), func(x any) bool { return equal(v, x) })
		return in == (op == "in")
	case "eq":
		return present && equal(v, c.Value)
	case "noteq":
		return !present || !equal(v, c.Value)
	case "gt", "gte", "lt", "lte":
		if !present {
			return false
		}
		cmp := compare(v, c.Value)
		return (op == "gt" && cmp > 0) || (op == "gte" && cmp >= 0) || (op == "lt" && cmp < 0) || (op == "lte" && cmp <= 0)
	}
	s, t := strings.ToLower(fmt.Sprint(v)), strings.ToLower(fmt.Sprint(c.Value))
	if !present {
		return false
	}
	switch op {
	case "beginswith":
		return strings.HasPrefix(s, t)
	case "endswith":
		return strings.HasSuffix(s, t)
	default: // contains
		return strings.Contains(s, t)
	}
}

func udfValue(r record, name string) (any, bool) {
	list, _ := r["userDefinedFields"].([]any)
	for _, item := range list {
		m, _ := item.(map[string]any)
		if n, _ := m["name"].(string); strings.EqualFold(n, name) {
			return m["value"], true
		}
	}
	return nil, false
}

// equal compares as numbers when both are numbers and as text otherwise,
// ignoring case, like the API's database collation.
func equal(a, b any) bool {
	if x, ok := toFloat(a); ok {
		if y, ok := toFloat(b); ok {
			return x == y
		}
		if s, ok := b.(string); ok {
			return fmt.Sprint(a) == s
		}
	}
	if x, ok := a.(bool); ok {
		y, ok := b.(bool)
		return ok && x == y
	}
	return strings.EqualFold(fmt.Sprint(a), fmt.Sprint(b))
}

func compare(a, b any) int {
	if x, ok := toFloat(a); ok {
		if y, ok := toFloat(b); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(strings.ToLower(fmt.Sprint(a)), strings.ToLower(fmt.Sprint(b)))
}
