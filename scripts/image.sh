#!/usr/bin/env bash
# Builds the guard's container image as an OCI layout tarball, without a container daemon: the
# package's tree (ROOT, as scripts/package.sh lays it out) plus the shared libraries the binary
# links, the dynamic loader, CA certificates and a loader cache — no shell, no package manager —
# inserted into an empty image with umoci. Entrypoint /usr/bin/gpuledger; by default it runs the
# guard in --dry-run. It runs as uid 0: the guard signals other users' processes and reads their
# /proc (the DaemonSet drops every capability but KILL, SYS_PTRACE and DAC_READ_SEARCH).
# Usage: scripts/image.sh ROOT VERSION COMMIT OUT_TAR
#   OUT_TAR: an OCI layout as a tar, its one image tagged VERSION; push it with
#   `skopeo copy oci-archive:OUT_TAR:VERSION docker://REGISTRY/gpuledger:VERSION`.
# Needs: umoci. Tested by tests/image_test.sh.
set -euo pipefail
root=$(realpath "$1")
version=$2
commit=$3
out_tar=$(realpath -m "$4")
command -v umoci >/dev/null || { echo "image: umoci is not installed (apt-get install umoci)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
bin="$root/usr/bin/gpuledger"

# The package's files (the binary, the default policy; the docs stay out of the image).
install -D -m 0755 "$bin" "$rootfs/usr/bin/gpuledger"
install -D -m 0644 "$root/etc/gpuledger/policy.toml" "$rootfs/etc/gpuledger/policy.toml"
install -D -m 0644 "$root/usr/share/doc/gpuledger/copyright" "$rootfs/usr/share/doc/gpuledger/copyright"
# Every shared library the binary loads, and the loader, at the paths the binary asks for.
ldd "$bin" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}' | sort -u | while read -r lib; do
  install -D -m 0644 "$(realpath "$lib")" "$rootfs$lib"
done
chmod 0755 "$rootfs"/lib64/ld-linux-x86-64.so.2
# The NVIDIA runtime adds libnvidia-ml.so.1 and refreshes the loader cache; the cache and its
# configuration are there for it to refresh.
install -D -m 0644 /etc/ld.so.conf "$rootfs/etc/ld.so.conf"
install -D -m 0644 /etc/ld.so.conf.d/x86_64-linux-gnu.conf "$rootfs/etc/ld.so.conf.d/x86_64-linux-gnu.conf"
ldconfig -r "$rootfs"
# TLS to a fleet ledger or a webhook: the CA bundle libcurl and libpq look for.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
fi
printf 'root:x:0:0:root:/:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/:/usr/sbin/nologin\n' \
  >"$rootfs/etc/passwd"
printf 'root:x:0:\ngpuledger:x:999:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
install -d -m 1777 "$rootfs/tmp"
install -d -m 0755 "$rootfs/var/lib/gpuledger" "$rootfs/run/gpuledger" "$rootfs/proc"

layout="$work/oci"
rootless=()
[ "$(id -u)" -eq 0 ] || rootless=(--rootless)
umoci init --layout "$layout"
umoci new --image "$layout:$version"
umoci insert "${rootless[@]}" --image "$layout:$version" "$rootfs" /
umoci config --image "$layout:$version" --os linux --architecture amd64 \
  --config.entrypoint /usr/bin/gpuledger \
  --config.cmd guard --config.cmd --policy=/etc/gpuledger/policy.toml --config.cmd --dry-run \
  --config.user 0:0 --config.workingdir / \
  --config.volume /var/lib/gpuledger --config.volume /run/gpuledger \
  --config.exposedports 9400/tcp \
  --config.label org.opencontainers.image.title=gpuledger \
  --config.label org.opencontainers.image.version="$version" \
  --config.label org.opencontainers.image.revision="$commit" \
  --config.label org.opencontainers.image.source=https://github.com/gpuledger/gpuledger
umoci gc --layout "$layout"
tar -C "$layout" --sort=name --owner=0 --group=0 --numeric-owner -cf "$out_tar" .
