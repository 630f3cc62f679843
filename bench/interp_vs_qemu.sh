#!/usr/bin/env bash
# Guest speed of rewind against QEMU TCG on the checksum guest
# (tests/guests/checksum.c, integer work) or, with GUEST=fpbench, the
# FP/SIMD guest (tests/guests/fpbench.c: SSE2, SSE and x87): the same
# kernel, the same command line, several runs each, median wall time;
# start-up is subtracted by also timing a 1-round run, so the figures are for
# the (N - 1) rounds of CPU-bound work.
#
# Guest instructions: rewind's exact count from --stats (the difference of the
# counts of the N-round and the 1-round runs).  QEMU runs the identical guest
# on the identical command line, so it executes the same instructions; its MIPS
# use rewind's count.  Without a built rewind the script still times QEMU and
# uses the estimate of checksum_algo.h (~36,900 instructions per round, gcc 12).
#
# usage: bench/interp_vs_qemu.sh
# environment:
#   GUEST=checksum     or fpbench
#   ROUNDS=5400        rounds of the measured run (checksum: 5400 ~ 200 million
#                      instructions; fpbench default 2000 ~ 95 million)
#   REPS=5             runs per configuration
#   REWIND=build/bin/rewind    REWIND_ARGS="" extra arguments for rewind
#   QEMU=qemu-system-x86_64    KERNEL=<path of checksum.elf>
set -u

repo=$(cd "$(dirname "$0")/.." && pwd)
guest=${GUEST:-checksum}
case "$guest" in
    checksum) rounds=${ROUNDS:-5400} ;;
    fpbench) rounds=${ROUNDS:-2000} ;;
    *) echo "interp_vs_qemu: GUEST must be checksum or fpbench" >&2; exit 2 ;;
esac
reps=${REPS:-5}
rewind=${REWIND:-$repo/build/bin/rewind}
qemu=${QEMU:-qemu-system-x86_64}
est_per_round=36900

kernel=${KERNEL:-}
if [ -z "$kernel" ]; then
    for d in "$repo/build/guests" "$repo/build-guests/guests"; do
        if [ -f "$d/$guest.elf" ]; then kernel=$d/$guest.elf; break; fi
    done
fi
if [ -z "$kernel" ] || [ ! -f "$kernel" ]; then
    echo "interp_vs_qemu: no $guest.elf; build it first:" >&2
    echo "  cmake --build build --target rewind_guests   (or set KERNEL=...)" >&2
    exit 2
fi
if ! command -v "$qemu" >/dev/null; then
    echo "interp_vs_qemu: $qemu not found (apt-get install qemu-system-x86)" >&2
    exit 2
fi
have_rewind=1
if [ ! -x "$rewind" ]; then
    if [ "$guest" != checksum ]; then
        echo "interp_vs_qemu: the $guest guest needs rewind's instruction count: build rewind first" >&2
        exit 2
    fi
    have_rewind=0
    echo "interp_vs_qemu: rewind is not built ($rewind missing): timing QEMU only."
    echo "  Build it (cmake --build build --target rewind) or set REWIND=<path> to compare."
    echo
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run_rewind() {  # $1 = rounds; stderr kept in $work/rewind.err
    # shellcheck disable=SC2086
    "$rewind" run -kernel "$kernel" -m 128M -serial none --stats -append "rounds=$1" ${REWIND_ARGS:-} \
        </dev/null >/dev/null 2>"$work/rewind.err"
}
run_qemu() {    # $1 = rounds
    "$qemu" -accel tcg -kernel "$kernel" -display none -serial none \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot -m 128M \
        -append "rounds=$1" </dev/null >/dev/null 2>"$work/qemu.err"
}

# Median wall time in seconds of REPS runs of "$1 $2" (function, rounds).
median_time() {
    local i t0 t1
    for ((i = 0; i < reps; i++)); do
        t0=$(date +%s.%N)
        "$1" "$2"
        t1=$(date +%s.%N)
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }'
    done | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

icount_of() {   # rewind's icount for $1 rounds
    run_rewind "$1"
    sed -n 's/^rewind: icount=\([0-9]*\) .*/\1/p' "$work/rewind.err" | tail -1
}

# Correctness first: QEMU's serial output must be what the guest's host twin says.
cc -O2 -o "$work/expected_tool" "$repo/tests/guests/${guest}_expected.c" || exit 2
"$work/expected_tool" "rounds=$rounds" >"$work/expected"
"$qemu" -accel tcg -kernel "$kernel" -display none -serial stdio \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot -m 128M \
    -append "rounds=$rounds" </dev/null >"$work/qemu.out" 2>/dev/null
if ! cmp -s "$work/qemu.out" "$work/expected"; then
    echo "interp_vs_qemu: QEMU's output of the $guest guest is not the expected one:" >&2
    diff "$work/expected" "$work/qemu.out" >&2
    exit 1
fi

if [ $have_rewind = 1 ]; then
    "$rewind" run -kernel "$kernel" -m 128M -serial stdio -append "rounds=$rounds" </dev/null >"$work/rewind.out" 2>/dev/null
    if ! cmp -s "$work/rewind.out" "$work/expected"; then
        echo "interp_vs_qemu: rewind's output of the $guest guest is not the expected one:" >&2
        diff "$work/expected" "$work/rewind.out" >&2
        exit 1
    fi
    n1=$(icount_of 1)
    nN=$(icount_of "$rounds")
    if [ -z "$n1" ] || [ -z "$nN" ]; then
        echo "interp_vs_qemu: rewind printed no 'rewind: icount=N host_seconds=S mips=M' line; its stderr:" >&2
        sed 's/^/  /' "$work/rewind.err" >&2
        exit 1
    fi
    reported=$(sed -n 's/^rewind: .*mips=\([0-9.]*\).*/\1/p' "$work/rewind.err" | tail -1)
    insns=$((nN - n1))
    source="exact, rewind --stats: $nN - $n1"
else
    insns=$(( (rounds - 1) * est_per_round ))
    source="ESTIMATE, $est_per_round per round (no rewind to count them)"
fi

echo "$guest guest: rounds=$rounds minus rounds=1 (start-up subtracted), median of $reps runs"
echo "guest instructions: $insns ($source; QEMU runs the same guest, so the same count)"
echo "kernel: $kernel"
echo
printf '%-10s %14s %14s %12s %12s\n' emulator "wall s (N)" "wall s (1)" "net s" "guest MIPS"

row() {  # name tN t1 -> prints a row, echoes MIPS into $work/<name>.mips
    local name=$1 tN=$2 t1=$3
    awk -v n="$name" -v a="$tN" -v b="$t1" -v i="$insns" -v f="$work/$name.mips" 'BEGIN {
        net = a - b; mips = (net > 0) ? i / net / 1e6 : 0
        printf "%-10s %14.3f %14.3f %12.3f %12.1f\n", n, a, b, net, mips
        printf "%.6f\n", mips > f }'
}

if [ $have_rewind = 1 ]; then
    rN=$(median_time run_rewind "$rounds")
    r1=$(median_time run_rewind 1)
    row rewind "$rN" "$r1"
fi
qN=$(median_time run_qemu "$rounds")
q1=$(median_time run_qemu 1)
row qemu-tcg "$qN" "$q1"

echo
if [ $have_rewind = 1 ]; then
    awk -v r="$(cat "$work/rewind.mips")" -v q="$(cat "$work/qemu-tcg.mips")" 'BEGIN {
        if (q > 0 && r > 0)
            printf "ratio rewind/QEMU: guest MIPS %.3f (rewind takes %.1fx the time of QEMU TCG)\n", r / q, q / r
        else
            print "ratio rewind/QEMU: not computable (net time <= 0; raise ROUNDS)" }'
    [ -n "$reported" ] && echo "rewind's own --stats line for the N-round run: mips=$reported (as rewind measures it, start-up not subtracted)"
else
    echo "ratio rewind/QEMU: n/a (rewind not built)"
fi
