package autotasktest

import "testing"

// FuzzParseQuery feeds query bodies to the simulator's filter parser and
// evaluates what it accepts: neither may panic.
func FuzzParseQuery(f *testing.F) {
	for _, seed := range []string{
		`{"filter":[{"op":"eq","field":"emailAddress","value":"jane.doe@contoso.example"}]}`,
		`{"filter":[{"op":"or","items":[{"op":"in","field":"id","value":[1,2]},{"op":"notExist","field":"phone"}]}],"MaxRecords":5,"IncludeFields":["id"]}`,
		`{"filter":[{"op":"eq","field":"Tier","udf":true,"value":"Gold"}]}`,
		`{"filter":[{"op":"and"}]}`, `{"filter":{}}`, `{"MaxRecords":0}`, `[]`,
	} {
		f.Add(seed)
	}
	s := newServer(Options{})
	contacts := s.ents["contacts"]
	f.Fuzz(func(t *testing.T, body string) {
		q, err := parseQuery(contacts, []byte(body))
		if err != nil {
			return
		}
		for _, r := range contacts.rows {
			match(r, q.Filter, true)
		}
	})
}
