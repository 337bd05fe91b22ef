#!/usr/bin/env bash
# Runs bin/switchboard.exe (make build-windows) under Wine: version, the demo
# (`demo --once`: a whole session against the simulators, SQLite included)
# and the Windows service (install, start, its log, stop, uninstall) in a
# throwaway Wine prefix. Where Wine is missing it says so and fails under
# CI=true (make deps installs wine64), passes otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
exe=bin/switchboard.exe

wine=${WINE:-$(command -v wine64 || command -v wine || echo /usr/lib/wine/wine64)}
if [ ! -x "$wine" ]; then
	echo "check-windows: Wine not found (apt-get install wine64)"
	[ "${CI:-}" = true ] && exit 1
	exit 0
fi
[ -f "$exe" ] || { echo "check-windows: $exe missing: make build-windows"; exit 1; }

tmp=$(mktemp -d)
export WINEPREFIX="$tmp/prefix" WINEDEBUG=-all
wineserver=$(dirname "$wine")/wineserver
[ -x "$wineserver" ] || wineserver=$(command -v wineserver || echo "$wineserver")
trap '"$wineserver" -k 2>/dev/null || true; rm -rf "$tmp"' EXIT

# A fresh prefix, made by a first run. Wine 8 has no bcryptprimitives.dll,
# which Go needs (that first run stops there): put the stand-in
# (.ci/wine/bcryptprimitives.c) where Windows keeps it.
"$wine" "$exe" version >/dev/null 2>&1 || true
# Keep this prefix's wineserver (and with it Wine's Service Control Manager
# and the service's process) up between the commands below.
"$wineserver" -w
"$wineserver" -p
sys32="$WINEPREFIX/drive_c/windows/system32"
if [ ! -f "$sys32/bcryptprimitives.dll" ]; then
	x86_64-w64-mingw32-gcc -shared -O2 -o "$sys32/bcryptprimitives.dll" .ci/wine/bcryptprimitives.c -ladvapi32
	echo "check-windows: Wine lacks bcryptprimitives.dll; using the stand-in"
fi

fail() { echo "check-windows: $*"; exit 1; }

out=$("$wine" "$exe" version) || fail "version failed: $out"
case "$out" in "switchboard "*) echo "check-windows: $out" ;; *) fail "version printed: $out" ;; esac

"$wine" "$exe" demo --once >"$tmp/demo.log" 2>&1 || { cat "$tmp/demo.log"; fail "demo --once failed"; }
grep -q "Every step succeeded" "$tmp/demo.log" || { cat "$tmp/demo.log"; fail "demo --once did not succeed"; }
echo "check-windows: demo --once ok"

# Install refuses a program that accounts other than the administrators can
# change: here one in a folder everyone may write to.
mkdir -m 0777 "$tmp/open"
cp "$exe" "$tmp/open/switchboard.exe"
if out=$("$wine" "$tmp/open/switchboard.exe" service install --data-dir 'C:\sbdata' 2>&1); then
	"$wine" "$tmp/open/switchboard.exe" service uninstall >/dev/null 2>&1 || true
	fail "service install accepted a program in a folder everyone may write to"
fi
grep -q "can change it" <<<"$out" || { echo "$out"; fail "service install failed, but not for the program's folder"; }
echo "check-windows: service install refuses a program others can change"

# The service, as an administrator would run it: from C:\Program Files
# (Wine has a Service Control Manager; it refuses delayed start and recovery
# actions, which install reports as warnings, and may start the automatic
# service itself before start does). Ports 0: whatever is free. Wherever
# this checkout is (a world-writable /tmp is Z:\tmp), the service runs a
# copy only the administrators can change.
mkdir -p "$WINEPREFIX/drive_c/Program Files/Switchboard"
cp "$exe" "$WINEPREFIX/drive_c/Program Files/Switchboard/switchboard.exe"
exe="$WINEPREFIX/drive_c/Program Files/Switchboard/switchboard.exe"
"$wine" "$exe" service install --data-dir 'C:\sbdata' -- --intake-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 \
	|| fail "service install failed"
"$wine" "$exe" service start || fail "service start failed"
log="$WINEPREFIX/drive_c/sbdata/switchboard.log"
for _ in $(seq 1 60); do
	grep -q "Switchboard is running" "$log" 2>/dev/null && break
	sleep 1
done
grep -q "Switchboard is running" "$log" 2>/dev/null || { ls -la "$(dirname "$log")" || true; cat "$log" 2>/dev/null || true; fail "the service did not start serving (log: $log)"; }
"$wine" "$exe" service stop || { cat "$log"; fail "service stop failed"; }
grep -q "switchboard stopped" "$log" || { cat "$log"; fail "the service did not stop cleanly"; }
"$wine" "$exe" service uninstall || fail "service uninstall failed"
if "$wine" "$exe" service start 2>/dev/null; then fail "the service still starts after uninstall"; fi
echo "check-windows: service install, start, stop, uninstall ok"
