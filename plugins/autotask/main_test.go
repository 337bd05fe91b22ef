package autotask_test

import (
	"testing"

	"golang.org/x/crypto/bcrypt"

	"switchboard/engine/auth"
	"switchboard/engine/helperproc"
)

// The engine stacks these tests start hash the admin's password and check
// it on every API call with Basic auth. At the production cost (12) one
// hash takes seconds under the race detector on a loaded 2-core machine,
// enough to run a request past the admin listener's write timeout; the
// tests are about delivery, not about the hash.
//
// With simulatorsEnv set, the binary is BenchmarkEngineSessionEnd's child
// process instead (e2e_child_test.go).
func TestMain(m *testing.M) {
	auth.BcryptCost = bcrypt.MinCost
	helperproc.Main(m, simulatorsEnv, serveSimulators)
}
