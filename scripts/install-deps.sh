#!/usr/bin/env bash
# Installs the Debian 12 packages rewind builds and tests with, when missing.
# Idempotent: does nothing (and no apt-get update) when all are present.
set -euo pipefail
packages=(cmake ninja-build g++ pkg-config ccache llvm-19-dev clang-19 libclang-rt-19-dev libcapnp-dev capnproto
          libzstd-dev libz3-dev libboost-test-dev qemu-system-x86 qemu-utils seabios gdb busybox-static cpio)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "rewind: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "rewind: run as root (or install these packages) first" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
