package secretbox

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
)

// Installation is what Load needs of the database (*store.Store is one):
// the stored key check value and the sealed secrets by configuration id
// and by stored source id.
type Installation interface {
	KeyCheck(ctx context.Context) ([]byte, error)
	SetKeyCheck(ctx context.Context, value []byte) error
	SealedSecrets(ctx context.Context) (map[int64][]byte, error)
	SealedSourceSecrets(ctx context.Context) (map[int64][]byte, error)
}

// ErrKeyMismatch means the key at hand is missing or is not the one the
// database's secrets were sealed with.
var ErrKeyMismatch = errors.New("secret key refused")

// checkLabel is what a key check value seals: a fixed text, never the key.
// Opening it proves the key is the installation's, and reveals nothing else.
var checkLabel = []byte("switchboard key check v1")

// checkAssociated keeps a key check value from passing as a configuration's
// secrets and the other way round.
var checkAssociated = []byte("key-check")

// CheckValue returns a new key check value for b's key.
func (b *Box) CheckValue() []byte { return b.Seal(checkLabel, checkAssociated) }

// Matches reports whether check was made by CheckValue under b's key.
func (b *Box) Matches(check []byte) bool {
	got, err := b.Open(check, checkAssociated)
	return err == nil && string(got) == string(checkLabel)
}

// Unopenable returns the ids (ascending) of the configurations whose sealed
// secrets b cannot open.
func (b *Box) Unopenable(sealed map[int64][]byte) []int64 {
	return b.unopenable(sealed, Associated)
}

// UnopenableSources returns the ids (ascending) of the stored sources
// whose sealed secrets b cannot open.
func (b *Box) UnopenableSources(sealed map[int64][]byte) []int64 {
	return b.unopenable(sealed, AssociatedSource)
}

func (b *Box) unopenable(sealed map[int64][]byte, associated func(int64) []byte) []int64 {
	var out []int64
	for id, v := range sealed {
		if _, err := b.Open(v, associated(id)); err != nil {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Load returns the Box of an installation: the key from envKey (base64,
// when not empty) or the data directory's key file, checked against the
// database. A fresh installation (no key check value, no sealed secrets)
// gets a new key file when it has none, and its key check value. An
// installation that had a key is refused, with what to do, when the key is
// missing or does not open its key check value; a new key is never made
// over it. A database from before key checks is refused when it holds
// sealed secrets (of configurations or stored sources) and the key opens
// none of them.
func Load(ctx context.Context, dataDir, envKey string, db Installation) (*Box, error) {
	check, err := db.KeyCheck(ctx)
	if err != nil {
		return nil, err
	}
	var sealed held
	if sealed.configs, err = db.SealedSecrets(ctx); err != nil {
		return nil, err
	}
	if sealed.sources, err = db.SealedSourceSecrets(ctx); err != nil {
		return nil, err
	}
	box, err := ReadKey(dataDir, envKey)
	if errors.Is(err, fs.ErrNotExist) {
		if check != nil || sealed.count() > 0 {
			return nil, refusal(dataDir, envKey, sealed, true)
		}
		box, err = CreateKey(dataDir)
	}
	if err != nil {
		return nil, err
	}
	if check == nil {
		// Fresh, or from before key checks: a key that opens none of the
		// stored secrets is not this installation's.
		if n := sealed.count(); n > 0 && len(box.Unopenable(sealed.configs))+len(box.UnopenableSources(sealed.sources)) == n {
			return nil, refusal(dataDir, envKey, sealed, false)
		}
		if err := db.SetKeyCheck(ctx, box.CheckValue()); err != nil {
			return nil, err
		}
		// Another process may have stored its own value first.
		if check, err = db.KeyCheck(ctx); err != nil {
			return nil, err
		}
	}
	if !box.Matches(check) {
		return nil, refusal(dataDir, envKey, sealed, false)
	}
	return box, nil
}

// held are an installation's sealed secrets, by configuration and by
// stored source.
type held struct{ configs, sources map[int64][]byte }

func (h held) count() int { return len(h.configs) + len(h.sources) }

// refusal explains a key that cannot be used and what to do about it.
func refusal(dataDir, envKey string, sealed held, missing bool) error {
	src := KeySource(dataDir, envKey)
	what := fmt.Sprintf("%s is not the key this database's secrets were sealed with", src)
	if missing {
		what = fmt.Sprintf("the key file %s is missing, but this database was set up with a key; no new key is made over it", src)
	}
	restore := "restore the key file from the backup taken with the database (mode 0600, owned by the service user) to " + KeySource(dataDir, "")
	if envKey != "" {
		restore = "restore the installation's key: set " + EnvKey + " to it (base64), or unset it to use the key file " + KeySource(dataDir, "")
	}
	return fmt.Errorf("%w: %s (configurations with sealed secrets: %d, sources with sealed secrets: %d). Either\n"+
		"  - %s, and start again; or\n"+
		"  - if that key is lost: run `switchboard secrets clear-unopenable --data-dir %s --yes`, which clears the secrets this key cannot open "+
		"(audited; each must then be typed again in the admin UI) and makes this key the installation's",
		ErrKeyMismatch, what, len(sealed.configs), len(sealed.sources), restore, dataDir)
}
