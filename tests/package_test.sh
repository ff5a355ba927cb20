#!/usr/bin/env bash
# The Debian package: scripts/package.sh builds gpuledger_<version>_amd64.deb from the tested
# binary; lintian finds no error or warning; its contents are what docs/install.md lists; the
# unit passes systemd-analyze verify and starts the guard in --dry-run; /etc/gpuledger/policy.toml
# is a conffile the packaged binary accepts; and the binary from the extracted tree reports its
# version and commit and runs the guard (fake NVML): it samples, and stops on SIGTERM.
# Usage: package_test.sh PATH/TO/gpuledger PATH/TO/libfake_nvml.so SOURCE_DIR
set -uo pipefail
set -m
bin=$(realpath "$1")
fake=$(realpath "$2")
src=$(realpath "$3")
tmp=$(mktemp -d)
guard_pid=""
trap '[ -n "$guard_pid" ] && kill -TERM "$guard_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
passed=0
failed=0
source "$(dirname "$0")/test_helpers.sh"  # check, wait_for
source "$(dirname "$0")/guard_smoke.sh"   # guard_smoke
for tool in dpkg-deb dpkg-shlibdeps fakeroot help2man lintian systemd-analyze; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/setup.sh --test installs it)"; exit 1; }
done

deb=$(bash "$src/scripts/package.sh" "$tmp/out" "$bin" | sed -n 1p)
[ -f "$deb" ] || { echo "FAIL: scripts/package.sh"; exit 1; }
check "the package is named by its version" "[[ \$(basename $deb) =~ ^gpuledger_[0-9]+\.[0-9]+\.[0-9]+_amd64\.deb\$ ]]"
lintian "$deb" >"$tmp/lintian.txt" 2>&1
check "lintian: no error or warning" "! grep -E '^(E|W): ' $tmp/lintian.txt"
dpkg-deb --contents "$deb" | awk '{print $6}' >"$tmp/contents.txt"
for path in ./usr/bin/gpuledger ./lib/systemd/system/gpuledger-guard.service \
  ./etc/gpuledger/policy.toml ./usr/share/man/man1/gpuledger.1.gz \
  ./usr/share/doc/gpuledger/copyright ./usr/share/doc/gpuledger/changelog.gz \
  ./usr/share/doc/gpuledger/docs/guard.md ./usr/share/doc/gpuledger/examples/gpuledger-rules.yml \
  ./usr/share/doc/gpuledger/examples/kubernetes/kustomization.yaml \
  ./usr/share/doc/gpuledger/examples/grafana-dashboard.json; do
  check "the package holds $path" "grep -qx '$path' $tmp/contents.txt"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -x -C "$tmp" ./conffiles ./control ./postinst
check "the policy is a conffile" "grep -qx /etc/gpuledger/policy.toml $tmp/conffiles"
check "it depends on the shared libraries it links" "grep -q '^Depends: .*libfmt9' $tmp/control"
check "postinst creates the gpuledger group" "grep -q 'addgroup --system --quiet gpuledger' $tmp/postinst"

root="$tmp/root"
dpkg-deb -x "$deb" "$root"
unit="$root/lib/systemd/system/gpuledger-guard.service"
check "the unit starts the guard in --dry-run" "grep -q -- '--dry-run' $unit"
check "the unit runs the packaged binary" "grep -q '^ExecStart=/usr/bin/gpuledger guard' $unit"
check "the unit gives the keep socket to the gpuledger group" \
  "grep -q -- '--socket /run/gpuledger/guard.sock --socket-group gpuledger' $unit"
# systemd-analyze checks the unit with ExecStart on the extracted binary.
sed "s|/usr/bin/gpuledger|$root/usr/bin/gpuledger|" "$unit" >"$tmp/gpuledger-guard.service"
check "systemd-analyze verify passes on the unit" \
  "systemd-analyze verify $tmp/gpuledger-guard.service >$tmp/verify.txt 2>&1 || { cat $tmp/verify.txt; false; }"
packaged="$root/usr/bin/gpuledger"
check "the packaged binary reports the tested build" "[ \"\$($packaged --version)\" = \"\$($bin --version)\" ]"
check "the packaged binary names its commit" "$packaged --version | grep -Eq '\\(commit ([0-9a-f]{12}|unknown)'"
check "the packaged policy is valid" "$packaged policy check $root/etc/gpuledger/policy.toml >/dev/null"
check "the man page renders" "man -l $root/usr/share/man/man1/gpuledger.1.gz 2>/dev/null | grep -q 'makes GPU spend owned'"

# The guard's smoke test, from the extracted tree.
export GPULEDGER_NVML_LIBRARY="$fake"
guard_smoke "the packaged guard" "$tmp" "$root/etc/gpuledger/policy.toml" "$tmp/state" \
  "$tmp/guard.sock" "$packaged"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
