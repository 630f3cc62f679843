#!/usr/bin/env bash
# The recording fuzz_trace_replay starts from: serial_echo with its input,
# checkpoints every 50000 instructions, made by the rewind under test.
#   make_replay_base.sh REWIND GUESTS_DIR INPUT OUT_DIR
set -euo pipefail
rewind=$1 guests=$2 input=$3 out=$4
mkdir -p "$out/work" "$out/artifacts"
status=0
"$rewind" record -o "$out/base.rwt" --checkpoint-interval 50000 -kernel "$guests/serial_echo.elf" -serial stdio \
  < "$input" > /dev/null || status=$?
[ "$status" -eq 1 ] || { echo "recording serial_echo ended with status $status" >&2; exit 1; }
