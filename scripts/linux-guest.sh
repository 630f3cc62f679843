#!/usr/bin/env bash
# Prepares the real-software Linux guest: Debian's stock kernel (the package
# linux-image-amd64 depends on, fetched with `apt-get download` and unpacked
# with `dpkg -x`, never installed) and an initramfs of busybox-static whose
# init mounts /proc, /sys and /dev, says "rewind-linux-guest: shell ready" and
# runs a shell on the console (with rewind.autorun on the kernel command line
# it first runs a fixed CPU-bound job and powers off, for benchmarks).
#   scripts/linux-guest.sh OUTDIR   ->  OUTDIR/vmlinuz, OUTDIR/initramfs.cpio.gz
# The .deb is kept in ${REWIND_CACHE:-~/.cache/rewind}; reruns only rebuild
# what is missing or older than its inputs.
set -euo pipefail
out=${1:?usage: scripts/linux-guest.sh OUTDIR}
cache=${REWIND_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rewind}
mkdir -p "$out" "$cache/debs"
die() { echo "linux-guest: $*" >&2; exit 1; }

kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
pkg=$(kernel_package)
if [ -z "$pkg" ]; then
  [ "$(id -u)" -eq 0 ] || die "apt knows no linux-image-amd64; run 'apt-get update' as root"
  apt-get update -q >/dev/null
  pkg=$(kernel_package)
fi
[ -n "$pkg" ] || die "apt knows no linux-image-amd64 package (is a Debian 12 main source configured?)"
deb=$(ls "$cache/debs/${pkg}_"*.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
  (cd "$cache/debs" && apt-get download -q "$pkg" 2>&1 | grep -v "^W: Download is performed unsandboxed" >&2) ||
    die "apt-get download $pkg failed"
  deb=$(ls "$cache/debs/${pkg}_"*.deb 2>/dev/null | head -1 || true)
  [ -n "$deb" ] || die "apt-get download $pkg left no .deb in $cache/debs"
fi
if [ ! -s "$out/vmlinuz" ] || [ "$deb" -nt "$out/vmlinuz" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  dpkg -x "$deb" "$tmp" || die "dpkg -x $deb failed"
  cp "$tmp"/boot/vmlinuz-* "$out/vmlinuz.new" || die "$deb holds no /boot/vmlinuz-*"
  mv "$out/vmlinuz.new" "$out/vmlinuz"
  basename "$deb" >"$out/kernel-package"
  rm -rf "$tmp"
  trap - EXIT
fi

busybox=/bin/busybox
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "install ok installed" ||
  die "busybox-static is not installed (scripts/install-deps.sh installs it)"
command -v cpio >/dev/null || die "cpio is not installed (scripts/install-deps.sh installs it)"
self=$(readlink -f "$0")
if [ ! -s "$out/initramfs.cpio.gz" ] || [ "$busybox" -nt "$out/initramfs.cpio.gz" ] ||
   [ "$self" -nt "$out/initramfs.cpio.gz" ]; then
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root"/{bin,dev,proc,sys,tmp}
  cp "$busybox" "$root/bin/busybox"
  cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s /bin
echo "rewind-linux-guest: shell ready"
# bench/linux_vs_qemu.sh's job, unattended (a typist's timing would differ per emulator).
if grep -q rewind.autorun /proc/cmdline; then
  dd if=/dev/zero bs=1M count=64 2>/dev/null | sha256sum
  awk 'BEGIN { s = 0; for (i = 0; i < 300000; i++) s += i % 7; print s }'
  echo "rewind-linux-guest: job done"
  poweroff -f
fi
exec /bin/sh
INIT
  chmod 755 "$root/init"
  # Fixed times and owners: the same initramfs from the same busybox.
  find "$root" -exec touch -h -d @0 {} +
  (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9n \
    >"$out/initramfs.cpio.gz.new"
  mv "$out/initramfs.cpio.gz.new" "$out/initramfs.cpio.gz"
  rm -rf "$root"
  trap - EXIT
fi
echo "linux-guest: $out/vmlinuz ($(cat "$out/kernel-package")), $out/initramfs.cpio.gz"
