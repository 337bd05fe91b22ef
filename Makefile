# The commands the README names. `make test` is what CI runs after `make deps`.

GO ?= go

.PHONY: test compat deps build build-windows run demo bench load compare chaos settings-doc check-unit check-windows vet-windows

COMPAT := engine/render/testdata/compat

# Every test, with the race detector. The handlebars.js package the template
# compatibility test compares against is installed first (lockfile pinned).
test: compat
	$(GO) test -race -count=1 -timeout 30m ./...

# Outside CI a machine without npm only loses that one test (it skips);
# with CI=true a missing npm, a failed install or a missing package fails.
compat:
	@if command -v npm >/dev/null; then \
		npm ci --prefix $(COMPAT) --no-audit --no-fund && \
		test -f $(COMPAT)/node_modules/handlebars/package.json || \
		{ echo "compat: installing handlebars.js into $(COMPAT) failed" >&2; exit 1; }; \
	elif [ "$$CI" = true ]; then \
		echo "compat: npm not found; CI=true needs it for the handlebars.js compatibility test" >&2; exit 1; \
	else \
		echo "npm not found: the handlebars.js compatibility test will be skipped (with CI=true it fails)"; \
	fi

# Debian packages the tests need beyond Go: Chromium for the admin UI's
# browser tests, mingw-w64 to cross-compile the Windows binary (cgo SQLite)
# and Wine to run it. Needs root (CI runs as root).
deps:
	command -v chromium >/dev/null && command -v x86_64-w64-mingw32-gcc >/dev/null && test -x /usr/lib/wine/wine64 || \
		(apt-get update && apt-get install -y --no-install-recommends chromium fonts-dejavu-core gcc-mingw-w64-x86-64 wine64)

# The version switchboard version prints: the nearest tag and the commit.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

# Static binaries (cgo SQLite linked in, pure-Go DNS and user lookups) with
# the version stamped in. The first build compiles SQLite: a few minutes.
build:
	CGO_ENABLED=1 $(GO) build -trimpath -tags netgo,osusergo,sqlite_omit_load_extension \
		-ldflags "-s -w -X main.version=$(VERSION) -linkmode external -extldflags -static" -o bin/ ./cmd/...

# bin/switchboard.exe for 64-bit Windows, cross-compiled with mingw-w64
# (package gcc-mingw-w64-x86-64) for cgo SQLite; it needs no DLL beyond
# Windows' own. Its first build compiles SQLite again: a few minutes.
build-windows:
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc $(GO) build -trimpath -tags sqlite_omit_load_extension \
		-ldflags "-s -w -X main.version=$(VERSION)" -o bin/switchboard.exe ./cmd/switchboard

run:
	$(GO) run ./cmd/switchboard serve

demo:
	$(GO) run ./cmd/switchboard demo

# Go benchmarks of the hot paths (figures in docs/performance.md).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The intake load test against a real switchboard process. LOAD_FLAGS adds
# flags, e.g. LOAD_FLAGS=-routed (posts a configuration subscribes to).
load: build
	bin/switchboard-load -engine bin/switchboard $(LOAD_FLAGS)

# Switchboard (routed posts) beside goqite, River, gorm and a bare handler,
# one load generator, interleaved rounds (docs/performance.md). bench/ is its
# own module, so the peers' dependencies stay out of go.mod.
# DURABILITY=process compares at the other durability.
compare: build
	cd bench && $(GO) build -o ../bin/peers ./peers
	bin/switchboard-load -engine bin/switchboard -peers bin/peers -routed \
		-rounds $(or $(ROUNDS),3) -duration $(or $(DURATION),5s) -durability $(or $(DURABILITY),power)

# The crash harness: SIGKILLs a real switchboard process while an appliance
# posts to it, then checks nothing was lost or written twice (docs/performance.md).
chaos: build
	bin/switchboard-chaos -engine bin/switchboard

# Regenerate docs/settings.md from the settings structs.
settings-doc:
	$(GO) run ./cmd/switchboard plugins --markdown > docs/settings.md

# Verify deploy/switchboard.service with systemd-analyze (CI runs it).
check-unit:
	deploy/check-unit.sh

# go vet for Windows, test files included, with cgo on as build-windows has
# it: every package and its tests keep compiling for the Windows binary.
vet-windows:
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc $(GO) vet ./...

# Run bin/switchboard.exe under Wine: version, demo --once and the Windows
# service (CI runs it), after vet-windows.
check-windows: vet-windows build-windows
	deploy/check-windows.sh

# Every fuzz target for FUZZTIME (5000x: inputs, not seconds; see .ci/fuzz) each.
fuzz:
	FUZZTIME=$(or $(FUZZTIME),5000x) bash .ci/fuzz

# govulncheck against a locally built vulnerability database (see .ci/vulncheck).
vulncheck:
	bash .ci/vulncheck
