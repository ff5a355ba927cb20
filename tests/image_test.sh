#!/usr/bin/env bash
# The container image: scripts/package.sh builds it (no daemon) next to the .deb, as an OCI
# layout tarball; its config has the entrypoint, the guard in --dry-run as the default command,
# uid 0 and the labels naming the build; the rootfs holds no shell; the DaemonSet names its tag;
# and, unpacked, the binary inside runs from the rootfs (chroot): --version, the default policy,
# the demo audit with the same figures as the tested binary, and the guard's smoke test.
# chroot needs root (or a user namespace): where the kernel forbids both, the run part says so
# and is skipped — except under CI=true, where that fails.
# Usage: image_test.sh PATH/TO/gpuledger PATH/TO/libfake_nvml.so SOURCE_DIR
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
for tool in umoci skopeo dpkg-deb fakeroot help2man; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/setup.sh --test installs it)"; exit 1; }
done

image=$(bash "$src/scripts/package.sh" "$tmp/out" "$bin" | sed -n 2p)
[ -f "$image" ] || { echo "FAIL: scripts/package.sh made no image"; exit 1; }
version=$("$bin" --version | sed -n 's/^gpuledger \([0-9.]*\) .*/\1/p')
commit=$("$bin" --version | sed -n 's/.*(commit \(.*\))$/\1/p')
check "the image is named by its version" "[ \"\$(basename $image)\" = gpuledger_${version}_oci.tar ]"

# The config, as a registry client reads it from the archive.
skopeo inspect --config "oci-archive:$image:$version" >"$tmp/config.json" 2>"$tmp/skopeo.err" ||
  { echo "FAIL: skopeo cannot read the image"; cat "$tmp/skopeo.err"; exit 1; }
field() {  # field PYTHON_EXPR: the config's value, as JSON
  /usr/bin/python3 -c "import json, sys; c = json.load(open(sys.argv[1]))['config']; print(json.dumps($1))" \
    "$tmp/config.json"
}
check "the entrypoint is the binary, not a shell" "[ '$(field "c['Entrypoint']")' = '[\"/usr/bin/gpuledger\"]' ]"
check "the default command is the guard in --dry-run" \
  "[ '$(field "c['Cmd']")' = '[\"guard\", \"--policy=/etc/gpuledger/policy.toml\", \"--dry-run\"]' ]"
check "it runs as uid 0, said explicitly" "[ '$(field "c['User']")' = '\"0:0\"' ]"
check "its labels name the version" \
  "[ '$(field "c['Labels']['org.opencontainers.image.version']")' = '\"$version\"' ]"
check "its labels name the commit" \
  "[ '$(field "c['Labels']['org.opencontainers.image.revision']")' = '\"$commit\"' ]"
check "the DaemonSet runs this version" \
  "grep -q 'image: ghcr.io/gpuledger/gpuledger:$version\$' $src/deploy/kubernetes/daemonset.yaml"
check "the kustomization pins this version" "grep -q 'newTag: $version\$' $src/deploy/kubernetes/kustomization.yaml"

# The rootfs, unpacked as a runtime would.
mkdir -p "$tmp/layout"
tar -xf "$image" -C "$tmp/layout"
rootless=()
[ "$(id -u)" -eq 0 ] || rootless=(--rootless)
umoci unpack "${rootless[@]}" --image "$tmp/layout:$version" "$tmp/bundle" >"$tmp/unpack.log" 2>&1 ||
  { echo "FAIL: umoci unpack"; cat "$tmp/unpack.log"; exit 1; }
rootfs="$tmp/bundle/rootfs"
check "no shell in the image" "[ ! -e $rootfs/bin/sh ] && [ ! -e $rootfs/usr/bin/sh ] && [ ! -e $rootfs/bin/bash ]"
check "the default policy is in the image" "[ -f $rootfs/etc/gpuledger/policy.toml ]"
check "the image holds the binary and its libraries only (under 80 files)" \
  "[ \$(find $rootfs -type f | wc -l) -lt 80 ]"

# Running from the rootfs: chroot as root, else in a user namespace where it maps to root.
inside=(chroot "$rootfs")
[ "$(id -u)" -eq 0 ] || inside=(unshare --user --map-root-user chroot "$rootfs")
if ! "${inside[@]}" /usr/bin/gpuledger --version >"$tmp/version.txt" 2>"$tmp/chroot.err"; then
  if grep -qi 'operation not permitted\|permission denied' "$tmp/chroot.err"; then
    if [ "${CI:-}" = true ]; then
      echo "FAIL: the kernel forbids chroot here, and CI=true: $(cat "$tmp/chroot.err")"; exit 1
    fi
    echo "SKIP: running the image's binary: the kernel forbids chroot: $(cat "$tmp/chroot.err")"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]; exit
  fi
  cat "$tmp/chroot.err"
fi
check "the binary in the image runs and reports the tested build" \
  "[ \"\$(cat $tmp/version.txt)\" = \"\$($bin --version)\" ]"
check "the image's binary accepts the default policy" \
  "${inside[*]} /usr/bin/gpuledger policy check /etc/gpuledger/policy.toml >/dev/null"
"${inside[@]}" /usr/bin/gpuledger demo --format json >"$tmp/demo-image.json" 2>"$tmp/demo.err"
"$bin" demo --format json >"$tmp/demo-host.json" 2>/dev/null
check "the demo audit in the image gives the tested binary's figures" \
  "[ -s $tmp/demo-image.json ] && cmp -s $tmp/demo-image.json $tmp/demo-host.json" || cat "$tmp/demo.err"

cp "$fake" "$rootfs/tmp/libfake_nvml.so"
export GPULEDGER_NVML_LIBRARY=/tmp/libfake_nvml.so
guard_smoke "the image's guard" "$tmp" /etc/gpuledger/policy.toml /var/lib/gpuledger \
  /run/gpuledger/guard.sock "${inside[@]}" /usr/bin/gpuledger

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
