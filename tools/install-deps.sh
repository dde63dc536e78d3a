#!/usr/bin/env bash
# Installs exactly the Debian 12 packages bobsync needs to build and test that are
# missing on this machine. The single source of truth for dependencies.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang-format
  libcurl4-openssl-dev libssl-dev
  libyaml-cpp-dev nlohmann-json3-dev libsimdjson-dev
  libsqlitecpp-dev libsqlite3-dev
  libboost-program-options-dev
  libgtest-dev libgmock-dev
  libcpp-httplib-dev
  libicu-dev libhowardhinnant-date-dev tzdata
  libspdlog-dev prometheus-cpp-dev
  systemd procps
  libre2-dev openssl
  clang libclang-rt-14-dev llvm-14
  chromium
  python3
)
# openssl: the hostile suite makes a self-signed certificate for its TLS case
# (tests/hostile/hostile_suite.cpp).
# chromium: the status page's headless-browser test (tests/e2e/status_page_browser_test.cpp).
# python3: bench/plain_sync.py, the plain script `bench_apply script` compares with.
# tools/check-deploy.sh: systemd-analyze (systemd), /bin/kill named by the unit
# (procps), Node.js and npm for the pinned packages of tools/deploy-check/.
# tools/fuzz.sh: clang++ 14 with libFuzzer and the sanitizer runtimes
# (libclang-rt-14-dev), llvm-symbolizer for readable stacks (llvm-14).

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Any Node.js with npm will do (Debian's, or one installed otherwise).
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -ne 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The npm packages of the deployment checks and of the CI-example checks,
# exactly as locked.
for deploy_check in "$(dirname "$0")/deploy-check" "$(dirname "$0")/ci-examples-check"; do
  stamp="$deploy_check/node_modules/.bobsync-lock"
  if ! cmp -s "$deploy_check/package-lock.json" "$stamp" 2>/dev/null; then
    echo "install-deps: npm ci in $deploy_check"
    npm ci --prefix "$deploy_check" --no-audit --no-fund --loglevel=error >/dev/null
    cp "$deploy_check/package-lock.json" "$stamp"
  fi
done
