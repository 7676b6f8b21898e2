#!/usr/bin/env bash
# Makes sure a Chromium the end-to-end browser test can drive is installed:
# Debian's `chromium` package, installed with apt-get when no chromium is on
# PATH. It prints the path of the binary it found or installed.
#
#   bash scripts/ensure-chromium.sh
#   MCPAUTH_REQUIRE_BROWSER=1 go test -run Browser ./internal/cli/
#
# The test (internal/cli/browser_test.go) looks for chromium, chromium-browser
# or google-chrome on PATH, or $MCPAUTH_CHROMIUM; it skips when none is found
# unless MCPAUTH_REQUIRE_BROWSER=1.
set -euo pipefail

find_chromium() {
  if [ -n "${MCPAUTH_CHROMIUM:-}" ] && [ -x "$MCPAUTH_CHROMIUM" ]; then
    echo "$MCPAUTH_CHROMIUM"
    return 0
  fi
  for b in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$b" >/dev/null 2>&1; then
      command -v "$b"
      return 0
    fi
  done
  return 1
}

if path=$(find_chromium); then
  echo "$path"
  exit 0
fi

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
echo "ensure-chromium: installing Debian's chromium package" >&2
"${sudo[@]}" apt-get update >&2
"${sudo[@]}" apt-get install -y chromium >&2

if path=$(find_chromium); then
  echo "$path"
  exit 0
fi
echo "ensure-chromium: chromium is still not on PATH after apt-get install" >&2
exit 1
