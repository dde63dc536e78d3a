#!/usr/bin/env bash
# make demo: start the sandbox (fake Bob + fake JumpCloud on loopback, seeded
# from examples/sandbox), then plan, apply and plan again against it.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
bin="$build/bobsync"
work="$(mktemp -d)"
trap 'kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

"$bin" sandbox --seed examples/sandbox >"$work/sandbox.out" 2>&1 &
sandbox_pid=$!
# The sandbox prints the lines to export once both fakes listen.
for _ in $(seq 1 100); do
  grep -q '^  export JUMPCLOUD_API_KEY=' "$work/sandbox.out" 2>/dev/null && break
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then
    cat "$work/sandbox.out" >&2
    exit 1
  fi
  sleep 0.1
done
head -1 "$work/sandbox.out"
eval "$(grep '^  export ' "$work/sandbox.out")"
export BOBSYNC_DB="$work/bobsync.db"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$@"; set +e; "$@"; code=$?; set -e; echo "(exit code $code)"; }

run "$bin" validate -f examples/desired-state.yaml
run "$bin" plan -f examples/desired-state.yaml
run "$bin" apply -f examples/desired-state.yaml
run "$bin" plan -f examples/desired-state.yaml
run "$bin" status
