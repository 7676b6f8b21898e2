#!/usr/bin/env bash
# Runs every Go fuzz target of mcpauth, one after the other, for FUZZTIME
# each (default 10s):
#
#   bash scripts/fuzz.sh                    # every target, 10s each
#   FUZZTIME=5m bash scripts/fuzz.sh        # longer
#   bash scripts/fuzz.sh FuzzSelect ...     # only the targets named
#
# Targets are found by their declarations (func FuzzXxx in *_test.go), so a
# new one is run without editing this script. Their seed corpora are the
# f.Add calls and testdata/fuzz/FuzzXxx/ (which `go test` runs as plain
# tests too). A failure leaves the failing input in
# <package>/testdata/fuzz/FuzzXxx/: check it in with the fix, as a
# regression test.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME="${FUZZTIME:-10s}"
only=("$@")

targets=()
while IFS= read -r line; do
  file="${line%%:*}"
  name="${line##*func }"
  name="${name%%(*}"
  if [ ${#only[@]} -gt 0 ] && ! printf '%s\n' "${only[@]}" | grep -qx "$name"; then
    continue
  fi
  targets+=("./$(dirname "${file#./}") $name")
done < <(grep -rE --include='*_test.go' -H '^func Fuzz[A-Za-z0-9_]+\(' . | grep -vE '(^|/)(\.[^/]+|testdata|node_modules)/' | sort -u)

if [ ${#targets[@]} -eq 0 ]; then
  echo "no fuzz targets found" >&2
  exit 1
fi

corpus() { ls "$1/testdata/fuzz/$2" 2>/dev/null | sort || true; }

failed=()
flaked=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "${targets[@]}"; do
  pkg="${t% *}"
  name="${t#* }"
  printf '\n==> %s %s (%s)\n' "$pkg" "$name" "$FUZZTIME"
  before=$(corpus "$pkg" "$name")
  if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -timeout 0 "$pkg" 2>&1 | tee "$log"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
    continue
  fi
  # Go before 1.27 can fail a target with a bare "context deadline
  # exceeded" as -fuzztime ends (golang/go#75804), writing no input: a
  # flake of the fuzzing coordinator, not a finding. A real failure
  # writes the failing input to testdata/fuzz/.
  if [ "$(corpus "$pkg" "$name")" = "$before" ] && grep -q '^    context deadline exceeded$' "$log"; then
    echo "(ignored: the fuzzing coordinator's deadline race, golang/go#75804; no failing input was written)"
    flaked+=("$pkg $name")
  else
    failed+=("$pkg $name")
  fi
done

echo
echo "fuzz targets: ${#targets[@]} run, ${#failed[@]} failed, ${#flaked[@]} ended by the coordinator's deadline race"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
