#!/usr/bin/env bash
# Installs exactly the Debian 12 packages bobsync needs to build and test that are
# missing on this machine. The single source of truth for dependencies.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang-format
  libcurl4-openssl-dev libssl-dev
  libyaml-cpp-dev nlohmann-json3-dev
  libsqlitecpp-dev libsqlite3-dev
  libboost-program-options-dev
  libgtest-dev libgmock-dev
  libcpp-httplib-dev
  libicu-dev libhowardhinnant-date-dev tzdata
  libspdlog-dev prometheus-cpp-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
