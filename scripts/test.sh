#!/usr/bin/env bash
# The one command that runs every test of mcpauth, on a fresh machine too.
# It installs what the tests need through the project's own scripts:
# staticcheck through the Go module proxy, the Secret Service (gnome-keyring)
# and Chromium through Debian's packages, the conformance harness and Node 22
# through npm.
#
#   bash scripts/test.sh            # everything
#   SKIP_CONFORMANCE=1 bash scripts/test.sh   # Go tests and checks only
#   FUZZTIME=1m bash scripts/test.sh          # longer fuzzing (default 10s a target)
set -euo pipefail
cd "$(dirname "$0")/.."

STATICCHECK_VERSION=v0.8.2
export ARTIFACTS="${ARTIFACTS:-$PWD/artifacts}"
mkdir -p "$ARTIFACTS"

step() { printf '\n==> %s\n' "$*"; }
failed=()

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*'))
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; failed+=(gofmt); fi

step "go vet (and the examples/mcp-go module, fetched first so its test runs)"
go vet ./... || failed+=(vet)
(cd examples/mcp-go && go mod download && go vet ./...) || failed+=(vet-examples)

step "staticcheck"
if ! command -v staticcheck >/dev/null || ! staticcheck -version 2>/dev/null | grep -q "${STATICCHECK_VERSION#v}"; then
  go install "honnef.co/go/tools/cmd/staticcheck@${STATICCHECK_VERSION}"
fi
"$(go env GOPATH)/bin/staticcheck" ./... || failed+=(staticcheck)
(cd examples/mcp-go && "$(go env GOPATH)/bin/staticcheck" ./...) || failed+=(staticcheck-examples)

step "Chromium for the end-to-end browser test"
if chromium=$(bash scripts/ensure-chromium.sh); then
  export MCPAUTH_CHROMIUM="$chromium" MCPAUTH_REQUIRE_BROWSER=1
else
  failed+=(chromium)
fi

step "go test -race ./... (with a real Secret Service for the keyring store)"
gotest=(go test -race -count=1 ./...)
if [ -x scripts/with-keyring.sh ] || [ -f scripts/with-keyring.sh ]; then
  bash scripts/with-keyring.sh "${gotest[@]}" 2>&1 | tee "$ARTIFACTS/go-test.log" || failed+=(go-test)
else
  "${gotest[@]}" 2>&1 | tee "$ARTIFACTS/go-test.log" || failed+=(go-test)
fi

step "fuzz targets, ${FUZZTIME:-10s} each"
bash scripts/fuzz.sh 2>&1 | tee "$ARTIFACTS/fuzz.log" | grep -E '^(==>|fuzz targets:|FAILED|--- FAIL)' || failed+=(fuzz)

if [ -z "${SKIP_CONFORMANCE:-}" ]; then
  step "official MCP conformance harness"
  bash conformance/run.sh || failed+=(conformance)
fi

pkgs_ok=$(grep -c '^ok ' "$ARTIFACTS/go-test.log" || true)
pkgs_fail=$(grep -c '^FAIL' "$ARTIFACTS/go-test.log" || true)
echo
echo "go packages: ${pkgs_ok} passed, ${pkgs_fail} failed"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all checks passed"
