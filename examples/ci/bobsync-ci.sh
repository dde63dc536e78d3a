#!/usr/bin/env bash
# The bobsync steps of the example pipelines (github-actions.yml,
# gitlab-ci.yml): one place for what they run, exercised against the sandbox
# by bobsync's tests (tests/e2e/gitops_test.cpp) so that it cannot rot.
#
#   bobsync-ci.sh validate   check the policy; FORMAT=github annotates the PR
#   bobsync-ci.sh plan       plan.md (the comment) and plan.json (the artifact)
#   bobsync-ci.sh apply      apply exactly plan.json; refused when stale
#
# Settings (environment): BOBSYNC (the binary; default: bobsync on PATH),
# POLICY (default: bobsync.yaml), PLAN_DIR (default: bobsync-plan), FORMAT
# (validate: text|github|json; default text), ONLINE=1 (validate: also check
# the policy's Bob fields against the tenant and the service user's
# permissions; needs the Bob credentials), ALLOW_MASS_CHANGES=1 (apply: a
# plan blocked by the safety limits; only from a reviewed, deliberate job),
# BOBSYNC_DB (the state database; default: bobsync.db). Credentials come
# from the CI system's secret store as BOB_SERVICE_USER_ID,
# BOB_SERVICE_USER_TOKEN and JUMPCLOUD_API_KEY; they are never echoed.
#
# Exit codes (the job's result): 0 success; plan: 0 no changes, 2 changes to
# review (success for the job too, unless FAIL_ON_CHANGES=1), 3 blocked by the
# safety limits, 1 error; apply: 0 applied, 3 blocked, 1 error, a partial
# failure, or a stale plan.
set -uo pipefail

bobsync=${BOBSYNC:-bobsync}
policy=${POLICY:-bobsync.yaml}
plan_dir=${PLAN_DIR:-bobsync-plan}

step=${1:-}
case "$step" in
validate)
  args=(validate -f "$policy" --format "${FORMAT:-text}")
  if [ "${ONLINE:-0}" = 1 ]; then
    args+=(--online)
  fi
  "$bobsync" "${args[@]}"
  exit $?
  ;;
plan)
  mkdir -p "$plan_dir"
  "$bobsync" plan -f "$policy" --format markdown --out "$plan_dir/plan.json" \
    >"$plan_dir/plan.md"
  code=$?
  echo "$code" >"$plan_dir/exit-code"
  cat "$plan_dir/plan.md"
  case "$code" in
  0) echo "bobsync-ci: no changes" >&2 ;;
  2)
    echo "bobsync-ci: the plan has changes; review them in the comment" >&2
    [ "${FAIL_ON_CHANGES:-0}" = 1 ] && exit 2
    exit 0
    ;;
  3)
    echo "bobsync-ci: the plan is BLOCKED by the safety limits; merging will not apply it" \
      "(see docs/gitops.md)" >&2
    exit 3
    ;;
  *)
    echo "bobsync-ci: plan failed (exit $code)" >&2
    exit 1
    ;;
  esac
  ;;
apply)
  if [ ! -f "$plan_dir/plan.json" ]; then
    echo "bobsync-ci: no saved plan at $plan_dir/plan.json; nothing was applied" >&2
    exit 1
  fi
  args=(apply -f "$policy" --plan "$plan_dir/plan.json")
  if [ "${ALLOW_MASS_CHANGES:-0}" = 1 ]; then
    args+=(--allow-mass-changes)
  fi
  "$bobsync" "${args[@]}"
  code=$?
  case "$code" in
  0) ;;
  3) echo "bobsync-ci: apply BLOCKED by the safety limits; nothing was applied" >&2 ;;
  *) echo "bobsync-ci: apply failed (exit $code); see the lines above" >&2 ;;
  esac
  exit "$code"
  ;;
*)
  echo "usage: bobsync-ci.sh validate|plan|apply" >&2
  exit 1
  ;;
esac
