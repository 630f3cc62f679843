#!/usr/bin/env bash
# Sets up, builds, and boots the bundled hello guest under rewind's interpreter,
# its serial console on this terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
set +e
build/bin/rewind run -kernel build/guests/hello.elf -append "demo" -m 128M -serial stdio </dev/null
status=$?
echo "rewind: guest exited with status $status"
# The hello guest ends through isa-debug-exit with value 0: status (0 << 1) | 1.
[ "$status" -eq 1 ]
