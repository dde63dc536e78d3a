#!/usr/bin/env bash
# Offline checks of the deployment files in deploy/ (run by .ci/run after
# tools/install-deps.sh, which installs systemd and the pinned npm packages of
# tools/deploy-check/). Nothing here touches the network.
#
#   systemd     systemd-analyze verify (any warning fails: it exits 0 on
#               unknown keys and bad values) and `security --offline` with an
#               exposure threshold (20, i.e. 2.0 of 10; the unit scores 1.2). verify needs ExecStart's binary to exist:
#               the check verifies a copy of the unit whose /usr/local/bin/bobsync
#               is an executable stub in a temporary directory; nothing else
#               in the unit is changed.
#   container   dockerfilelint (hadolint is not packaged for Debian 12), plus:
#               no `latest` base image, a non-root USER last, the COPY lines
#               cover the root CMakeLists.txt's subdirectories, the build
#               packages are those of tools/install-deps.sh.
#   kubernetes  tools/deploy-check/check-kubernetes.js: OpenAPI schemas
#               (kubernetes-models), unknown fields, and what bobsync relies on.
#
# Each checker is also run on a deliberately broken copy, which must fail: a
# check that cannot fail proves nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

deps=tools/deploy-check
if [ ! -d "$deps/node_modules" ]; then
  echo "check-deploy: $deps/node_modules is missing: run tools/install-deps.sh" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() {
  echo "check-deploy: $*" >&2
  failed=1
}

# --- systemd ------------------------------------------------------------------

# Prints what systemd-analyze says about a unit file; returns 1 if it said anything.
verify_unit() {
  local unit=$1 dir
  dir=$(mktemp -d -p "$tmp")
  printf '#!/bin/sh\nexit 0\n' >"$dir/bobsync"
  chmod 0755 "$dir/bobsync"
  sed "s#/usr/local/bin/bobsync#$dir/bobsync#g" "$unit" >"$dir/bobsync.service"
  local out
  out=$(systemd-analyze verify "$dir/bobsync.service" 2>&1) || true
  if [ -n "$out" ]; then
    echo "$out"
    return 1
  fi
  if ! out=$(systemd-analyze security --offline=yes --threshold=20 --no-pager \
    "$dir/bobsync.service" 2>&1); then
    echo "$out" | tail -n 3
    return 1
  fi
  return 0
}

unit=deploy/systemd/bobsync.service
if out=$(verify_unit "$unit"); then
  echo "systemd: $unit verified (exposure $(
    d=$(mktemp -d -p "$tmp")
    printf '#!/bin/sh\n' >"$d/bobsync"
    chmod 0755 "$d/bobsync"
    sed "s#/usr/local/bin/bobsync#$d/bobsync#g" "$unit" >"$d/bobsync.service"
    systemd-analyze security --offline=yes --no-pager "$d/bobsync.service" 2>/dev/null |
      sed -n 's/.*Overall exposure level for [^:]*: //p'
  ))"
else
  fail "$unit: $out"
fi
for key in 'EnvironmentFile=' 'StateDirectory=bobsync' 'DynamicUser=yes' 'NoNewPrivileges=yes' \
  'ProtectSystem=strict' 'ExecReload=/bin/kill -HUP $MAINPID'; do
  grep -qF "$key" "$unit" || fail "$unit: no $key"
done
sed 's/ProtectSystem=strict/ProtectSystem=strikt/' "$unit" >"$tmp/broken.service"
if verify_unit "$tmp/broken.service" >/dev/null; then
  fail "systemd-analyze accepted a unit with ProtectSystem=strikt: the check proves nothing"
fi

# --- container ----------------------------------------------------------------

lint=$deps/node_modules/.bin/dockerfilelint
file=deploy/Containerfile
if out=$("$lint" "$file" 2>&1); then
  echo "container: $file passes dockerfilelint"
else
  fail "$file: $out"
fi
printf 'FROM debian:latest\nRUN apt-get install curl\nEXPOSE 99999\n' >"$tmp/Containerfile.broken"
if "$lint" "$tmp/Containerfile.broken" >/dev/null 2>&1; then
  fail "dockerfilelint accepted a broken Containerfile: the check proves nothing"
fi
while read -r _ image _; do
  case "$image" in
  *:latest | *@*) ;;
  *:*) continue ;;
  esac
  [[ "$image" == *@sha256:* ]] && continue
  fail "$file: FROM $image: pin a tag (not latest) or a digest"
done < <(grep -E '^FROM' "$file")
last_user=$(grep -E '^USER' "$file" | tail -n 1 | awk '{print $2}')
case "$last_user" in
'' | root | 0 | 0:*) fail "$file: the image must end with a non-root USER (is: '${last_user:-none}')" ;;
esac
for dir in $(sed -n 's/^add_subdirectory(\([a-z_]*\)).*/\1/p' CMakeLists.txt); do
  [ "$dir" = tests ] && continue
  grep -Eq "^COPY $dir/ $dir/" "$file" || fail "$file: COPY $dir/ is missing (root CMakeLists.txt builds it)"
done
# The build stage installs the packages of install-deps.sh but test, format
# and fuzzing tools (chromium: the status page test; clang, llvm: tools/fuzz.sh;
# openssl: the hostile suite's test certificate; python3: bench/plain_sync.py).
want=$(sed -n '/^packages=(/,/^)/p' tools/install-deps.sh | tr ' ' '\n' |
  grep -E '^[a-z0-9][a-z0-9.+-]+$' |
  grep -Ev '^(clang-format|libgtest-dev|libgmock-dev|tzdata|systemd|procps|nodejs|npm|chromium|clang|libclang-rt-14-dev|llvm-14|openssl|python3)$' | sort -u)
have=$(sed -n '/^FROM .* AS build/,/^WORKDIR/p' "$file" | tr ' \\' '\n\n' |
  grep -E '^[a-z0-9][a-z0-9.+-]+$' | sort -u)
missing=$(comm -23 <(echo "$want") <(echo "$have"))
[ -z "$missing" ] || fail "$file: the build stage lacks $(echo $missing) (from tools/install-deps.sh)"

# The runtime stage installs the package of every shared library the binary
# links directly (readelf's NEEDED entries, found by ldd, owned per dpkg -S);
# the C and C++ runtimes come with the base image.
bobsync=${BOBSYNC_BIN:-build/bobsync}
if [ -x "$bobsync" ]; then
  runtime=$(sed -n '/^FROM debian:12-slim$/,$p' "$file" | tr ' \\' '\n\n' |
    grep -E '^[a-z0-9][a-z0-9.+-]+$' | sort -u)
  lacking=0
  for lib in $(readelf -d "$bobsync" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    path=$(ldd "$bobsync" | awk -v lib="$lib" '$1 == lib && $3 ~ /^\// {print $3}')
    [ -n "$path" ] || continue
    package=$(dpkg -S "$(realpath "$path")" 2>/dev/null | head -n 1 | cut -d: -f1 || true)
    case "$package" in
    '' | libc6 | libgcc-s1 | libstdc++6) continue ;;
    esac
    if ! grep -qx "$package" <<<"$runtime"; then
      fail "$file: the runtime stage lacks $package (for $lib, which $bobsync links)"
      lacking=1
    fi
  done
  [ "$lacking" -ne 0 ] ||
    echo "container: the runtime stage has the package of every library the binary links"
fi

# --- kubernetes ---------------------------------------------------------------

if out=$(node "$deps/check-kubernetes.js" deploy/kubernetes 2>&1); then
  echo "$out"
else
  fail "$out"
fi
cp -r deploy/kubernetes "$tmp/k8s-broken"
sed -i 's/livenessProbe:/livenesProbe:/; s/type: Recreate/type: RollingUpdate/' \
  "$tmp/k8s-broken/deployment.yaml"
if node "$deps/check-kubernetes.js" "$tmp/k8s-broken" >/dev/null 2>&1; then
  fail "check-kubernetes.js accepted a broken Deployment: the check proves nothing"
fi

# The policy in the ConfigMap is a valid policy (when the binary is built).
bobsync=${BOBSYNC_BIN:-build/bobsync}
if [ -x "$bobsync" ]; then
  node -e '
    const yaml = require(process.argv[1] + "/node_modules/js-yaml");
    const fs = require("fs");
    const cm = yaml.loadAll(fs.readFileSync("deploy/kubernetes/configmap.yaml", "utf8"))[0];
    process.stdout.write(cm.data["policy.yaml"]);' "$PWD/$deps" >"$tmp/policy.yaml"
  if out=$("$bobsync" validate -f "$tmp/policy.yaml" 2>&1); then
    echo "kubernetes: the ConfigMap's policy.yaml is valid"
  else
    fail "deploy/kubernetes/configmap.yaml: policy.yaml: $out"
  fi
else
  echo "kubernetes: $bobsync not built, the ConfigMap's policy was not validated"
fi

if [ "$failed" -ne 0 ]; then
  exit 1
fi
echo "check-deploy: ok"
