package siemtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
)

// ElasticOptions configure an Elasticsearch bulk receiver.
type ElasticOptions struct {
	Addr string // "" for a free loopback port
	TLS  bool
	// APIKey is the encoded API key senders must present as
	// "Authorization: ApiKey <APIKey>".
	APIKey string
	// NoSecurity leaves out the security API (GET /_security/_authenticate
	// answers 404), as on a cluster without security.
	NoSecurity bool
}

// ItemFault is how the receiver answers one bulk item instead of storing
// it: a status and an error type, as in the reference's per-item results
// (429 es_rejected_execution_exception, 400 mapper_parsing_exception).
// The zero ItemFault stores the item normally.
type ItemFault struct {
	Status int
	Type   string
}

// ElasticDoc is one document the receiver stored.
type ElasticDoc struct {
	Index  string
	ID     string
	Source map[string]any
}

// Elastic is the bulk API of an Elasticsearch cluster writing to data
// streams: NDJSON action and source lines ending with a newline, only the
// create action, a per-item result in request order, 409
// version_conflict_engine_exception for an _id that is already there, and
// HTTP 200 with errors:true when some items failed.
type Elastic struct {
	faults
	*httptest.Server
	Cert Cert
	opts ElasticOptions

	mu         sync.Mutex
	docs       []ElasticDoc
	ids        map[string]bool // index + "/" + _id
	itemFaults []ItemFault
}

// NewElastic starts a bulk receiver.
func NewElastic(opts ElasticOptions) (*Elastic, error) {
	e := &Elastic{opts: opts, ids: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_bulk", e.bulk)
	mux.HandleFunc("POST /{target}/_bulk", e.bulk)
	if !opts.NoSecurity {
		mux.HandleFunc("GET /_security/_authenticate", e.authenticate)
	}
	srv, cert, err := server(opts.Addr, mux, opts.TLS)
	if err != nil {
		return nil, err
	}
	e.Server, e.Cert = srv, cert
	return e, nil
}

// FailItems queues per-item answers for the next items, one each, in the
// order they arrive.
func (e *Elastic) FailItems(fs ...ItemFault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.itemFaults = append(e.itemFaults, fs...)
}

// Docs returns the stored documents in order.
func (e *Elastic) Docs() []ElasticDoc {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.docs)
}

type bulkResult struct {
	Index  string         `json:"_index"`
	ID     string         `json:"_id"`
	Status int            `json:"status"`
	Error  map[string]any `json:"error,omitempty"`
}

func (e *Elastic) bulk(w http.ResponseWriter, r *http.Request) {
	fault, faulty, done := e.begin(w, r)
	if done {
		return
	}
	// The reference does not show the bodies of these refusals; the
	// receiver answers with the status alone.
	if r.Header.Get("Authorization") != "ApiKey "+e.opts.APIKey {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); ct != "application/x-ndjson" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil || len(body) == 0 || body[len(body)-1] != '\n' {
		// "The final line must end with a newline."
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	target := r.PathValue("target")
	lines := bytes.Split(body[:len(body)-1], []byte{'\n'})
	if len(lines)%2 != 0 {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var items []map[string]bulkResult
	anyErr := false
	for i := 0; i < len(lines); i += 2 {
		var action map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal(lines[i], &action); err != nil || len(action) != 1 {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		meta, isCreate := action["create"]
		if !isCreate {
			// Data streams accept only create.
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		res := e.create(target, meta.Index, meta.ID, lines[i+1])
		anyErr = anyErr || res.Error != nil
		items = append(items, map[string]bulkResult{"create": res})
	}
	if faulty {
		fault.write(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"took": 1, "errors": anyErr, "items": items})
}

// authenticate answers the authenticate API as Elastic documents it
// (https://www.elastic.co/guide/en/elasticsearch/reference/8.19/security-api-authenticate.html):
// GET /_security/_authenticate, 401 when the credentials do not
// authenticate, otherwise 200 with who they are. The receiver's body keeps
// to the fields of the documented example; it writes nothing and is not
// counted in Posts.
func (e *Elastic) authenticate(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "ApiKey "+e.opts.APIKey {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"username": "switchboard", "roles": []string{}, "full_name": nil, "email": nil,
		"metadata": map[string]any{}, "enabled": true,
	})
}

// create stores one document unless an item fault, a duplicate _id or a
// source that is not a JSON object with @timestamp says otherwise.
func (e *Elastic) create(target, index, id string, source []byte) bulkResult {
	if index == "" {
		index = target
	}
	res := bulkResult{Index: index, ID: id}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.itemFaults) > 0 {
		f := e.itemFaults[0]
		e.itemFaults = e.itemFaults[1:]
		if f.Status != 0 {
			res.Status, res.Error = f.Status, map[string]any{"type": f.Type, "reason": "injected by siemtest"}
			return res
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(source, &doc); err != nil || doc["@timestamp"] == nil {
		res.Status, res.Error = http.StatusBadRequest, map[string]any{"type": "mapper_parsing_exception", "reason": "failed to parse"}
		return res
	}
	key := index + "/" + id
	if id != "" && e.ids[key] {
		res.Status = http.StatusConflict
		res.Error = map[string]any{"type": "version_conflict_engine_exception", "reason": "[" + id + "]: version conflict, document already exists (current version [1])"}
		return res
	}
	if id != "" {
		e.ids[key] = true
	}
	e.docs = append(e.docs, ElasticDoc{Index: index, ID: id, Source: doc})
	res.Status = http.StatusCreated
	return res
}

// Held counts the stored documents.
func (e *Elastic) Held() int { return len(e.Docs()) }
