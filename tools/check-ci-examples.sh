#!/usr/bin/env bash
# Offline schema checks of the example pipelines in examples/ci/ (run by
# .ci/run after tools/install-deps.sh, which installs the pinned npm packages
# of tools/ci-examples-check/). Nothing here touches the network.
#
#   github  @action-validator/cli: SchemaStore's github-workflow schema (and
#           its own checks of expressions and action references).
#   gitlab  GitLab's CI schema (ci.json, as gitlab-ci-local ships it) with ajv.
#   shell   bash -n on examples/ci/bobsync-ci.sh (the steps both run; the e2e
#           test GitOpsE2E.ExamplePipelineStepsRunAgainstTheSandbox runs them).
#
# Each checker is also run on a deliberately broken copy, which must fail: a
# check that cannot fail proves nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

tools=tools/ci-examples-check
github=examples/ci/github-actions.yml
gitlab=examples/ci/gitlab-ci.yml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check_github() { node "$tools/node_modules/@action-validator/cli/cli.mjs" "$1" >"$tmp/out" 2>&1; }
check_gitlab() { node "$tools/check-gitlab-ci.js" "$1" >"$tmp/out" 2>&1; }

if ! check_github "$github"; then
  cat "$tmp/out"
  echo "check-ci-examples: $github does not match the GitHub workflow schema" >&2
  exit 1
fi
echo "check-ci-examples: $github: valid (GitHub workflow schema)"
sed 's/runs-on: ubuntu-latest/runs-onn: ubuntu-latest/' "$github" >"$tmp/broken-github.yml"
if check_github "$tmp/broken-github.yml"; then
  echo "check-ci-examples: the GitHub check accepted a broken workflow" >&2
  exit 1
fi

if ! check_gitlab "$gitlab"; then
  cat "$tmp/out"
  echo "check-ci-examples: $gitlab does not match the GitLab CI schema" >&2
  exit 1
fi
cat "$tmp/out"
sed 's/stage: plan/stagee: plan/' "$gitlab" >"$tmp/broken-gitlab.yml"
if check_gitlab "$tmp/broken-gitlab.yml"; then
  echo "check-ci-examples: the GitLab check accepted a broken CI file" >&2
  exit 1
fi

bash -n examples/ci/bobsync-ci.sh
echo "check-ci-examples: examples/ci/bobsync-ci.sh: bash -n ok"
