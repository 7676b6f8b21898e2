#!/usr/bin/env bash
# Runs a command against a real Secret Service, so that the store package's
# Keyring tests run instead of skipping:
#
#   bash scripts/with-keyring.sh go test -race ./store/...
#
# It installs Debian's gnome-keyring when missing, starts a private D-Bus
# session bus (dbus-run-session), starts gnome-keyring-daemon on it with a
# throwaway login keyring, unlocked with a random password, and runs the
# command there with MCPAUTH_REQUIRE_KEYRING=1, which turns the Keyring
# tests' skip into a failure. The user's own keyrings and session bus are
# never touched; everything ends with the command.
#
# Packages: gnome-keyring (the Secret Service), dbus (dbus-run-session,
# dbus-daemon, dbus-send), libsecret-tools (secret-tool, for debugging).
# dbus-x11 is deliberately not needed: with dbus-launch installed, a
# process that finds no session bus makes go-keyring's D-Bus library start
# one of its own and leave it running.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 command [arg...]" >&2
  exit 2
fi

packages=(gnome-keyring dbus libsecret-tools)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  echo "with-keyring: installing ${missing[*]}" >&2
  if ! "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
    "${sudo[@]}" apt-get update >&2
    "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >&2
  fi
fi

# The daemon keeps its keyrings in $XDG_DATA_HOME/keyrings and its control
# socket in $XDG_RUNTIME_DIR: both go to a directory of our own.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mcpauth-keyring.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -m 700 "$scratch/data" "$scratch/run"
export MCPAUTH_KEYRING_SCRATCH=$scratch
export MCPAUTH_REQUIRE_KEYRING=1

# dbus-daemon's complaint that it may not raise its fd limit (in a
# container) is noise: stderr is filtered, and the filter waited for.
rc=0
{
  # shellcheck disable=SC2016 # expanded by the inner bash, on the new bus
  dbus-run-session -- bash -c '
    set -euo pipefail
    pw=$(od -An -N16 -tx1 /dev/urandom | tr -d " \n")
    printf %s "$pw" |
      XDG_DATA_HOME="$MCPAUTH_KEYRING_SCRATCH/data" XDG_RUNTIME_DIR="$MCPAUTH_KEYRING_SCRATCH/run" \
        gnome-keyring-daemon --unlock --components=secrets >/dev/null
    XDG_DATA_HOME="$MCPAUTH_KEYRING_SCRATCH/data" XDG_RUNTIME_DIR="$MCPAUTH_KEYRING_SCRATCH/run" \
      gnome-keyring-daemon --start --components=secrets >/dev/null 2>&1 ||
      { echo "with-keyring: gnome-keyring-daemon --start failed" >&2; exit 1; }
    for _ in $(seq 50); do
      if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
          org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; then
        unset MCPAUTH_KEYRING_SCRATCH
        exec "$@"
      fi
      sleep 0.1
    done
    echo "with-keyring: gnome-keyring-daemon did not register org.freedesktop.secrets on the session bus" >&2
    exit 1
  ' with-keyring "$@" 2>&1 1>&3 3>&- | { grep --line-buffered -v "Failed to set fd limit" || true; } >&2
} 3>&1 || rc=$?
exit "$rc"
