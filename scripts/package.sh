#!/usr/bin/env bash
# Builds gpuledger_<version>_amd64.deb from a release build: /usr/bin/gpuledger, the guard's
# systemd unit (enabled, in --dry-run, until the admin drops the flag), a commented default
# /etc/gpuledger/policy.toml (a conffile), the gpuledger(1) man page generated from --help, the
# docs and the Prometheus rules, and maintainer scripts that create the gpuledger system group;
# then the container image for the DaemonSet from the same files (scripts/image.sh).
# Usage: scripts/package.sh [OUT_DIR [BINARY]]   (default: build/package)
#   prints the paths of gpuledger_<version>_amd64.deb and gpuledger_<version>_oci.tar
#   BINARY: a release build of gpuledger to package; without it, one is built in OUT_DIR/build.
# Needs: dpkg-dev (dpkg-shlibdeps), help2man, fakeroot, umoci. Tested by tests/package_test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build/package}")
bin=${2:-}
if [ -z "$bin" ]; then
  cmake -S . -B "$out/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGPULEDGER_TESTS=OFF >/dev/null
  cmake --build "$out/build" -j2 --target gpuledger >/dev/null
  bin="$out/build/gpuledger"
fi
bin=$(realpath "$bin")
version=$("$bin" --version | sed -n 's/^gpuledger \([0-9.]*\) .*/\1/p')
[ -n "$version" ] || { echo "package: cannot read the version from $bin" >&2; exit 1; }
commit=$("$bin" --version | sed -n 's/.*(commit \(.*\))$/\1/p')
root="$out/root"
rm -rf "$root" && mkdir -p "$root/DEBIAN" "$out"

install -D -m 0755 "$bin" "$root/usr/bin/gpuledger"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/gpuledger"
# The packaged unit: the packaged binary, and the keep socket for the gpuledger group only.
sed -e 's|/usr/local/bin/gpuledger|/usr/bin/gpuledger|' \
  -e 's|--socket /run/gpuledger/guard.sock|--socket /run/gpuledger/guard.sock --socket-group gpuledger|' \
  deploy/systemd/gpuledger-guard.service |
  grep -v '^#   ' >"$out/gpuledger-guard.service"
install -D -m 0644 "$out/gpuledger-guard.service" "$root/lib/systemd/system/gpuledger-guard.service"
install -D -m 0644 deploy/debian/policy.toml "$root/etc/gpuledger/policy.toml"

doc="$root/usr/share/doc/gpuledger"
install -d "$doc/docs/sources" "$doc/examples"
install -m 0644 README.md "$doc/"
install -m 0644 docs/*.md "$doc/docs/"
install -m 0644 docs/sources/*.md "$doc/docs/sources/"
install -d "$doc/examples/kubernetes"
install -m 0644 deploy/prometheus/gpuledger-rules.yml "$doc/examples/"
install -m 0644 deploy/grafana/gpuledger.json "$doc/examples/grafana-dashboard.json"
install -m 0644 deploy/kubernetes/*.yaml deploy/kubernetes/policy.toml "$doc/examples/kubernetes/"
install -m 0644 deploy/debian/copyright "$doc/copyright"
{
  echo "gpuledger ($version) unstable; urgency=medium"
  echo
  echo "  * Built from commit $commit."
  echo
  echo " -- gpuledger developers <gpuledger@users.noreply.github.com>  $(date -R -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")"
} | gzip -9n >"$doc/changelog.gz"

# The man page, from --help (help2man), with the subcommands' help as its own sections.
man_include="$out/gpuledger.h2m"
{
  echo "[DESCRIPTION]"
  echo "gpuledger reads GPU telemetry, bills, job records and pull-request history and shows"
  echo "where every dollar of GPU spend went; it runs GPU jobs fail-fast and guards nodes."
  for sub in audit report run guard keep serve pr-check backtest ledger budgets digest policy reviews demo; do
    echo "[${sub^^}]"
    "$bin" "$sub" --help | sed 's/^/  /'
  done
  echo "[SEE ALSO]"
  echo "The manuals in /usr/share/doc/gpuledger/docs."
} >"$man_include"
help2man --no-info --no-discard-stderr --section 1 --name "makes GPU spend owned" \
  --include "$man_include" --output "$out/gpuledger.1" "$bin"
install -d "$root/usr/share/man/man1"
gzip -9n <"$out/gpuledger.1" >"$root/usr/share/man/man1/gpuledger.1.gz"

# Control files.
shlibs=$(cd "$out" && mkdir -p debian && printf 'Source: gpuledger\n\nPackage: gpuledger\nArchitecture: amd64\n' \
  >debian/control && dpkg-shlibdeps -O -e "$root/usr/bin/gpuledger" 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: gpuledger
Version: $version
Architecture: amd64
Maintainer: gpuledger developers <gpuledger@users.noreply.github.com>
Installed-Size: $size
Depends: $shlibs
Section: admin
Priority: optional
Homepage: https://github.com/gpuledger/gpuledger
Description: makes GPU spend owned: audit, autokill and a node guard
 gpuledger reads the GPU telemetry (nvidia-smi, DCGM exporter, Prometheus),
 bills (FOCUS), job records (Slurm, CSV) and pull-request history a team
 already has and shows where every dollar went. It runs GPU jobs fail-fast,
 killing runs that are going to fail before they cost much, and its node
 guard releases machines whose job died. The guard's systemd unit is
 enabled in --dry-run.
CONTROL
echo "/etc/gpuledger/policy.toml" >"$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
  install -m 0755 "deploy/debian/$script" "$root/DEBIAN/$script"
done
(cd "$root" && find usr lib etc -type f -print0 | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/control" "$root/DEBIAN/conffiles"

deb="$out/gpuledger_${version}_amd64.deb"
fakeroot dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"

# The container image for the DaemonSet, from the same tree (scripts/image.sh).
image="$out/gpuledger_${version}_oci.tar"
bash scripts/image.sh "$root" "$version" "$commit" "$image"
echo "$image"
