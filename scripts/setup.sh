#!/usr/bin/env bash
# Installs what gpuledger needs: Debian's packages, and the npm packages web/package-lock.json
# pins (the charting library the HTML report embeds; with --test also playwright-core, which
# drives Debian's chromium in the report's browser test).
# Idempotent: packages already present are not fetched again.
# Usage: setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."
test_deps=0
[ "${1:-}" = "--test" ] && test_deps=1
packages=(g++ cmake ninja-build libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
          libfmt-dev libtomlplusplus-dev libsqlite3-dev libcurl4-openssl-dev libsimdjson-dev
          libcpp-httplib-dev libpq-dev libre2-dev libssl-dev pkg-config
          prometheus clang-format tzdata time nodejs)
# The tests start real servers: Jupyter (with an IPython kernel), a one-node Slurm, PostgreSQL,
# VictoriaMetrics; they build and check the .deb (lintian, systemd) and the image (umoci, skopeo).
[ "$test_deps" -eq 1 ] && packages+=(chromium fonts-dejavu-core sqlite3 procps curl util-linux
                                      jupyter-server python3-ipykernel slurmctld slurmd
                                      slurm-client munge postgresql
                                      lintian help2man fakeroot dpkg-dev man-db systemd xz-utils
                                      python3-yaml victoria-metrics umoci skopeo
                                      python3-aiosmtpd)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
apt_install() {
  echo "setup: installing $*" >&2
  [ -n "${apt_updated:-}" ] || { $sudo apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
command -v npm >/dev/null || apt_install npm  # Debian's nodejs comes without npm
# kubectl renders the Kubernetes manifests in the tests: Debian's kubernetes-client, unless some
# kubectl (another repository's package) is there already.
[ "$test_deps" -eq 0 ] || command -v kubectl >/dev/null || apt_install kubernetes-client

# npm ci only when the lock file changed since the last install, or the dev packages are wanted
# and were left out then.
stamp=web/node_modules/.gpuledger-installed
lock=$(sha256sum web/package-lock.json | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
if [ "$have" != "$lock test=1" ] && [ "$have" != "$lock test=$test_deps" ]; then
  echo "setup: npm ci in web/" >&2
  omit=(--omit=dev)
  [ "$test_deps" -eq 1 ] && omit=()
  (cd web && npm ci --no-audit --no-fund --loglevel=error "${omit[@]}")
  echo "$lock test=$test_deps" >"$stamp"
fi
