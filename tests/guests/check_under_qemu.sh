#!/usr/bin/env bash
# Runs every test guest under QEMU and checks its serial output against the
# expected bytes and its exit status against (value << 1) | 1, as listed in
# guests.txt.  QEMU is only the reference here: the expected files come from
# the guests' source.
#
# usage: check_under_qemu.sh [GUESTS_DIR] [NAME...]
#   GUESTS_DIR  folder with the built <name>.elf (default: build/guests, then
#               build-guests/guests under the checkout)
#   NAME...     only these guests (default: all in guests.txt)
# environment:  QEMU (default qemu-system-x86_64), GUEST_TIMEOUT (seconds, 60),
#               KEEP=1 keeps the outputs in a temporary folder and prints it.
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
qemu=${QEMU:-qemu-system-x86_64}
limit=${GUEST_TIMEOUT:-60}

dir=
if [ $# -gt 0 ] && [ -d "$1" ]; then
    dir=$(cd "$1" && pwd)
    shift
else
    for d in "$repo/build/guests" "$repo/build-guests/guests"; do
        if [ -f "$d/hello.elf" ]; then dir=$d; break; fi
    done
fi
if [ -z "$dir" ]; then
    echo "check_under_qemu: no built guests found; build the rewind_guests target first" >&2
    exit 2
fi
if ! command -v "$qemu" >/dev/null; then
    echo "check_under_qemu: $qemu not found (apt-get install qemu-system-x86)" >&2
    exit 2
fi

work=$(mktemp -d)
if [ "${KEEP:-0}" = 1 ]; then
    echo "outputs kept in $work"
else
    trap 'rm -rf "$work"' EXIT
fi

# The checksum and fpbench guests' expected output is computed on the host
# from their own headers (the build makes the same files, guests/NAME.expected).
host_expected() {   # $1 = guest name, $2 = command line
    if [ ! -x "$work/$1_expected" ]; then
        cc -O2 -o "$work/$1_expected" "$here/$1_expected.c" || return 1
    fi
    # shellcheck disable=SC2086  # the command line is split into words on purpose
    "$work/$1_expected" -o "$work/$1.expected" $2 || return 1
    echo "$work/$1.expected"
}

# Guests QEMU cannot run, with the reason (printed as SKIP).
declare -A qemu_cannot=(
    [x87_ferr]="QEMU 7.2 aborts when FERR# is raised from TCG (tcg_handle_interrupt: iothread lock assertion)"
    [page_faults_rsvd]="QEMU 7.2 reports a reserved-bit #PF without P (error 0x08); the SDM and silicon set P (0x09)"
    [hw_breakpoints_rf]="QEMU 7.2 pushes RF clear for faults; the SDM (vol. 3, 17.3.1.1) and silicon push it set"
    [simd_errors]="QEMU 7.2 TCG raises no #XM: an unmasked SIMD exception only sets its MXCSR flag (the difftest checks #XM against the host CPU)"
)

# Guests that need features QEMU's default CPU model (qemu64) lacks.
declare -A qemu_cpu=(
    [usermode]=max      # SMEP, SMAP
)

# Guests that need QEMU's time to be instructions, as rewind's is.
declare -A qemu_flags=(
    [timer_deadlines]="-icount shift=0 -rtc clock=vm"
)

pass=0
fail=0
skip=0
while IFS='|' read -r name mem value append modules input; do
    case "$name" in ''|'#'*) continue ;; esac
    if [ -n "${qemu_cannot[$name]:-}" ]; then
        echo "SKIP $name: ${qemu_cannot[$name]}"
        skip=$((skip + 1))
        continue
    fi
    if [ $# -gt 0 ]; then
        want=0
        for n in "$@"; do [ "$n" = "$name" ] && want=1; done
        [ $want = 1 ] || continue
    fi
    image="$dir/$name.elf"
    [ -f "$dir/$name.bzImage" ] && image="$dir/$name.bzImage"
    if [ ! -f "$image" ]; then
        echo "FAIL $name: no image $image (build the rewind_guests target)"
        fail=$((fail + 1))
        continue
    fi
    if [ "$name" = checksum ] || [ "$name" = fpbench ]; then
        expected=$(host_expected "$name" "$append") || { echo "FAIL $name: cannot compute the expected output"; fail=$((fail + 1)); continue; }
    else
        expected="$here/$name.expected"
    fi
    status=$(( (value << 1) | 1 ))

    # shellcheck disable=SC2054  # the commas belong to -device
    args=(-kernel "$image" -display none -serial stdio
          -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot -m "$mem")
    [ -n "$append" ] && args+=(-append "$append")
    [ -n "${qemu_cpu[$name]:-}" ] && args+=(-cpu "${qemu_cpu[$name]}")
    # shellcheck disable=SC2206  # the flags are split into words on purpose
    [ -n "${qemu_flags[$name]:-}" ] && args+=(${qemu_flags[$name]})
    if [ -n "$modules" ]; then
        mods=
        IFS=',' read -ra list <<<"$modules"
        for m in "${list[@]}"; do mods="${mods:+$mods,}$here/$m"; done
        args+=(-initrd "$mods")
    fi
    stdin=/dev/null
    [ -n "$input" ] && stdin="$here/$input"

    start=$(date +%s.%N)
    timeout "$limit" "$qemu" "${args[@]}" <"$stdin" >"$work/$name.out" 2>"$work/$name.err"
    rc=$?
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')

    problems=
    [ $rc = 124 ] && problems="$problems; timed out after ${limit}s"
    [ $rc = "$status" ] || problems="$problems; exit status $rc, expected $status"
    cmp -s "$work/$name.out" "$expected" || problems="$problems; serial output differs from $expected"
    if [ -z "$problems" ]; then
        printf 'PASS %-12s exit status %s, %s bytes of serial output identical, %.2fs\n' \
            "$name" "$rc" "$(wc -c <"$expected")" "$secs"
        pass=$((pass + 1))
    else
        echo "FAIL $name${problems#;}"
        diff -u --label expected --label got "$expected" "$work/$name.out" | head -30 | sed 's/^/    /'
        [ -s "$work/$name.err" ] && sed 's/^/    qemu: /' "$work/$name.err" | head -5
        fail=$((fail + 1))
    fi
done <"$here/guests.txt"

echo "$pass passed, $fail failed, $skip skipped ($("$qemu" --version | head -1))"
[ $fail = 0 ] && [ $pass -gt 0 ]
