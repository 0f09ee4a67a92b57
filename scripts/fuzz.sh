#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME (default 10s) each.
# Go 1.26's fuzz coordinator can end a time-budgeted run with "context deadline exceeded" on a
# busy machine without having found anything; such a run is repeated once with a fixed number
# of executions instead. A real finding ("Failing input") always fails.
set -uo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"
status=0
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
    echo "fuzz $pkg $target ($fuzztime)"
    out="$(go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" 2>&1)"
    if [ $? -ne 0 ]; then
      if grep -q 'Failing input' <<<"$out" || ! grep -q 'context deadline exceeded' <<<"$out"; then
        echo "$out"
        status=1
        continue
      fi
      echo "  the coordinator timed out without a finding; running 20000 executions instead"
      if ! out="$(go test -run='^$' -fuzz="^${target}\$" -fuzztime=20000x "$pkg" 2>&1)"; then
        echo "$out"
        status=1
      fi
    fi
  done
done
exit $status
