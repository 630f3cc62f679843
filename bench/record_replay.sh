#!/usr/bin/env bash
# Record/replay costs of rewind next to QEMU's icount record/replay, on the
# checksum guest (CPU-bound) and the serial_echo guest (input-bound):
#   - record overhead against a plain run, replay speed against record;
#   - trace bytes per million instructions and per input byte;
#   - the time of `replay --to` the middle of a ~1e9-instruction recording.
# Times are medians of REPS runs (wall clock, start-up included).
#
# usage: bench/record_replay.sh     environment: REPS=5 ROUNDS=5400 BIG_ROUNDS=27000
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
rewind=${REWIND:-$repo/build/bin/rewind}
guests=${GUESTS:-$repo/build/guests}
reps=${REPS:-5}
rounds=${ROUNDS:-5400}
big_rounds=${BIG_ROUNDS:-27000}
qemu=${QEMU:-qemu-system-x86_64}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ -x "$rewind" ] || { echo "bench: $rewind is not built (run scripts/build.sh)"; exit 1; }
[ -f "$guests/checksum.elf" ] || { echo "bench: guests are not built (run scripts/build.sh)"; exit 1; }

# median wall seconds of a command run $reps times
median() {
  local times=()
  for _ in $(seq "$reps"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1 </dev/null
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
ratio() { echo "scale=2; $1 / $2" | bc -l; }

ck=("$guests/checksum.elf")
common=(-m 128M -serial none -append "rounds=$rounds")
qflags=(-display none -serial none -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot -m 128M
        -kernel "${ck[0]}" -append "rounds=$rounds")

icount=$("$rewind" run -kernel "${ck[0]}" "${common[@]}" --stats 2>&1 | sed -n 's/.*icount=\([0-9]*\).*/\1/p')
"$rewind" record -o "$tmp/ck.rwt" -kernel "${ck[0]}" "${common[@]}" >/dev/null 2>&1
t_run=$(median "$rewind" run -kernel "${ck[0]}" "${common[@]}")
t_rec=$(median "$rewind" record -o "$tmp/ck2.rwt" -kernel "${ck[0]}" "${common[@]}")
t_rep=$(median "$rewind" replay "$tmp/ck.rwt" -serial none)
size=$(stat -c %s "$tmp/ck.rwt")

have_qemu=0
if command -v "$qemu" >/dev/null; then
  have_qemu=1
  q_run=$(median "$qemu" "${qflags[@]}" -icount shift=auto)
  q_rec=$(median "$qemu" "${qflags[@]}" -icount "shift=auto,rr=record,rrfile=$tmp/q.rr")
  "$qemu" "${qflags[@]}" -icount "shift=auto,rr=record,rrfile=$tmp/q.rr" >/dev/null 2>&1
  q_rep=$(median "$qemu" "${qflags[@]}" -icount "shift=auto,rr=replay,rrfile=$tmp/q.rr")
  q_size=$(stat -c %s "$tmp/q.rr")
fi

echo "checksum guest, rounds=$rounds: $icount instructions; median of $reps runs, start-up included"
printf '%-10s %10s %10s %10s %12s %14s %14s\n' "" "run s" "record s" "replay s" "record/run" "replay/record" "trace bytes"
printf '%-10s %10.3f %10.3f %10.3f %12s %14s %14s\n' rewind "$t_run" "$t_rec" "$t_rep" "$(ratio "$t_rec" "$t_run")x" \
  "$(ratio "$t_rep" "$t_rec")x" "$size"
if [ $have_qemu = 1 ]; then
  printf '%-10s %10.3f %10.3f %10.3f %12s %14s %14s\n' "qemu rr" "$q_run" "$q_rec" "$q_rep" "$(ratio "$q_rec" "$q_run")x" \
    "$(ratio "$q_rep" "$q_rec")x" "$q_size"
  echo "(qemu run: -icount shift=auto, the mode its record/replay needs)"
fi
echo "rewind trace bytes per million instructions: $(echo "scale=1; $size * 1000000 / $icount" | bc -l)"

# Input-bound: bytes of trace per byte of serial input.
input="$repo/tests/guests/serial_echo.input"
in_bytes=$(stat -c %s "$input")
"$rewind" record -o "$tmp/echo.rwt" -kernel "$guests/serial_echo.elf" -serial stdio <"$input" >/dev/null 2>&1
# The least input that ends the guest: its two terminators ('.' ends the polled
# phase, 0x04 the interrupt phase); the guest busy-waits for input otherwise.
printf '.\004' >"$tmp/min.input"
"$rewind" record -o "$tmp/echo0.rwt" -kernel "$guests/serial_echo.elf" -serial stdio <"$tmp/min.input" >/dev/null 2>&1
e_size=$(stat -c %s "$tmp/echo.rwt")
e0_size=$(stat -c %s "$tmp/echo0.rwt")
echo "serial_echo: $in_bytes input bytes -> trace $e_size bytes (2 bytes: $e0_size): $(echo "scale=1; ($e_size - $e0_size) / ($in_bytes - 2)" | bc -l) trace bytes per input byte"

# Seeking in a long recording.
"$rewind" record -o "$tmp/big.rwt" -kernel "${ck[0]}" -m 128M -serial none -append "rounds=$big_rounds" >/dev/null 2>&1
big=$("$rewind" trace info "$tmp/big.rwt" | sed -n 's/^instructions: *//p')
mid=$((big / 2))
t_seek=$(median "$rewind" replay "$tmp/big.rwt" -serial none --to "$mid")
echo "replay --to $mid (middle of a $big-instruction recording, $(stat -c %s "$tmp/big.rwt") bytes): ${t_seek} s"
