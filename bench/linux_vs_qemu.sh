#!/usr/bin/env bash
# Debian's kernel with a busybox initramfs (scripts/linux-guest.sh) under
# rewind and under qemu-system-x86_64 -accel tcg, side by side, in one
# invocation. With rewind.autorun on the command line the initramfs boots,
# runs a fixed CPU-bound job (dd | sha256sum, an awk loop) and powers off.
#   - time to the shell, time of the job, whole run (host wall seconds);
#   - rewind's guest MIPS (its --stats line);
#   - record against a plain run, replay against record (rewind record/replay;
#     QEMU -icount shift=auto,rr=record/replay, against its own -icount run);
#   - trace bytes per guest second (guest time: the kernel's last printk stamp).
#
# usage: bench/linux_vs_qemu.sh       environment: QEMU=qemu-system-x86_64 MEM=256M
#                                     SMP=1 (vCPUs, -smp for both)
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
rewind=${REWIND:-$repo/build/bin/rewind}
qemu=${QEMU:-qemu-system-x86_64}
mem=${MEM:-256M}
smp=${SMP:-1}
guest=$repo/build/linux-guest
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ -x "$rewind" ] || { echo "bench: $rewind is not built (run scripts/build.sh)"; exit 1; }
"$repo/scripts/linux-guest.sh" "$guest" >/dev/null || exit 1
command -v "$qemu" >/dev/null || { echo "bench: $qemu is not installed"; exit 1; }

boot=(-kernel "$guest/vmlinuz" -initrd "$guest/initramfs.cpio.gz" -m "$mem" -smp "$smp"
      -append "console=ttyS0 rewind.autorun")
now() { date +%s.%N; }
sub() { echo "$1 - $2" | bc -l; }

# timed NAME CMD...: runs CMD; sets READY (to the shell), JOB (the job) and
# TOTAL (the whole run), seconds; its console in $tmp/NAME.log.
timed() {
  local name=$1 start ready done_at line
  shift
  start=$(now)
  ready=$start done_at=$start
  while IFS= read -r line; do
    printf '%s\n' "$line" >>"$tmp/$name.log"
    case "$line" in
      *"rewind-linux-guest: shell ready"*) ready=$(now) ;;
      *"rewind-linux-guest: job done"*) done_at=$(now) ;;
    esac
  done < <(timeout 900 "$@" 2>"$tmp/$name.err" </dev/null)
  TOTAL=$(sub "$(now)" "$start")
  READY=$(sub "$ready" "$start")
  JOB=$(sub "$done_at" "$ready")
  grep -q "reboot: Power down" "$tmp/$name.log" || echo "bench: $name did not power off (see its log)" >&2
}
# The kernel's last printk time stamp: guest seconds of the run.
guest_seconds() { sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p' "$1" | tail -1; }

qemu_flags=(-accel tcg -machine pc -nodefaults -display none -serial stdio -no-reboot "${boot[@]}")

timed rewind_run "$rewind" run "${boot[@]}" -serial stdio --stats
r_ready=$READY r_job=$JOB r_total=$TOTAL
r_mips=$(sed -n 's/.*mips=\([0-9.]*\).*/\1/p' "$tmp/rewind_run.err" | tail -1)
timed rewind_rec "$rewind" record -o "$tmp/boot.rwt" "${boot[@]}" -serial stdio
r_rec=$TOTAL
timed rewind_rep "$rewind" replay "$tmp/boot.rwt"
r_rep=$TOTAL
r_size=$(stat -c %s "$tmp/boot.rwt")
r_guest=$(guest_seconds "$tmp/rewind_rec.log")
cmp -s "$tmp/rewind_rec.log" "$tmp/rewind_rep.log" || echo "bench: rewind's replay printed something else" >&2

timed qemu_run "$qemu" "${qemu_flags[@]}"
q_ready=$READY q_job=$JOB q_total=$TOTAL
timed qemu_icount "$qemu" "${qemu_flags[@]}" -icount shift=auto
q_icount=$TOTAL
# QEMU 7.2 refuses record/replay with more than one vCPU: its columns say so.
q_rr=ok
if [ "$smp" -gt 1 ]; then
  q_rr="n/a (QEMU 7.2: record/replay is not supported for smp)"
else
  timed qemu_rec "$qemu" "${qemu_flags[@]}" -icount "shift=auto,rr=record,rrfile=$tmp/q.rr"
  q_rec=$TOTAL
  timed qemu_rep "$qemu" "${qemu_flags[@]}" -icount "shift=auto,rr=replay,rrfile=$tmp/q.rr"
  q_rep=$TOTAL
  q_size=$(stat -c %s "$tmp/q.rr" 2>/dev/null || echo 0)
  q_guest=$(guest_seconds "$tmp/qemu_rec.log")
fi

echo "Debian $(cat "$guest/kernel-package" 2>/dev/null) + busybox initramfs, -m $mem -smp $smp; host wall seconds"
printf '%-36s %12s %12s %8s\n' "" rewind "QEMU TCG" ratio
row() { printf '%-36s %12.2f %12.2f %8.2f\n' "$1" "$2" "$3" "$(echo "$2 / $3" | bc -l)"; }
row "time to the shell (s)" "$r_ready" "$q_ready"
row "CPU-bound job (s)" "$r_job" "$q_job"
row "whole run (s)" "$r_total" "$q_total"
printf '%-36s %12s %12s\n' "guest MIPS (rewind --stats)" "$r_mips" "-"
if [ "$q_rr" = ok ]; then
  printf '%-36s %12.2f %12.2f\n' "record / run (QEMU: / -icount run)" "$(echo "$r_rec / $r_total" | bc -l)" \
    "$(echo "$q_rec / $q_icount" | bc -l)"
  printf '%-36s %12.2f %12.2f\n' "replay / record" "$(echo "$r_rep / $r_rec" | bc -l)" "$(echo "$q_rep / $q_rec" | bc -l)"
  printf '%-36s %12.0f %12.0f\n' "trace bytes" "$r_size" "$q_size"
  printf '%-36s %12.0f %12.0f\n' "trace bytes per guest second" "$(echo "$r_size / $r_guest" | bc -l)" \
    "$(echo "$q_size / $q_guest" | bc -l)"
else
  printf '%-36s %12.2f   %s\n' "record / run" "$(echo "$r_rec / $r_total" | bc -l)" "$q_rr"
  printf '%-36s %12.2f   %s\n' "replay / record" "$(echo "$r_rep / $r_rec" | bc -l)" "$q_rr"
  printf '%-36s %12.0f   %s\n' "trace bytes per guest second" "$(echo "$r_size / $r_guest" | bc -l)" "$q_rr"
fi
