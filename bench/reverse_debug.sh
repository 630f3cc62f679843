#!/usr/bin/env bash
# Time-travel debugging latency on a recorded Linux boot (scripts/linux-guest.sh,
# rewind.autorun: boot, a CPU-bound job, power-off; ~1.2e10 instructions),
# rewind next to QEMU 7.2's record/replay, in one invocation. Each command is what
# a user types in Debian's stock gdb, timed from gdb's embedded Python
# (time.perf_counter() around gdb.execute), at 10 %, 50 % and 90 % of the
# recording's instructions:
#   - go there (rewind: monitor goto N; QEMU: monitor replay_break N + continue
#     from the start of a fresh replay, which is what its replay_seek does:
#     load the snapshot taken when recording began, replay forward -- and
#     replay_seek itself runs the VM behind gdb's back, so gdb cannot wait
#     for it);
#   - reverse-stepi (rewind: 5 times, the first and the median, each checked
#     to go back exactly one instruction; QEMU: once);
#   - reverse-continue to a breakpoint at start_kernel (run once, early), at
#     __schedule (hot late in boot) and to a watchpoint on jiffies_64
#     (written every tick); rewind's stops are checked: pc, instruction count
#     (start_kernel: the one hit the full-boot search finds), and for the
#     watchpoint that the next instruction changes the value;
#   - rewind: reverse-continue from the end of the recording to start_kernel
#     (the whole boot in one go), the replay's peak and final resident memory
#     (all of it, guest RAM included), and what `monitor checkpoints` says.
# The kernel runs with nokaslr, so its symbols' addresses hold at run time;
# Debian's System.map is a placeholder (the real one is in the -dbg package),
# so the addresses come from the guest's own /proc/kallsyms, read in one boot
# and kept in build/linux-guest/reverse_debug.syms.
# QEMU's reverse commands can take minutes or never answer: each has a time
# limit (RS_LIMIT, RC_LIMIT seconds), after which its QEMU is killed and the
# table says "no answer" (after a reverse-stepi with none, a fresh replay
# goes back to the same point for the reverse-continue).
#
# usage: bench/reverse_debug.sh   environment: REWIND=build/bin/rewind QEMU=qemu-system-x86_64
#                                 MEM=256M SKIP_QEMU=1 (rewind only) RS_LIMIT=60 RC_LIMIT=60
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
rewind=${REWIND:-$repo/build/bin/rewind}
qemu=${QEMU:-qemu-system-x86_64}
mem=${MEM:-256M}
skip_qemu=${SKIP_QEMU:-0}
rs_limit=${RS_LIMIT:-60}
rc_limit=${RC_LIMIT:-60}
gdb=/usr/bin/gdb
guest=$repo/build/linux-guest
fractions=(10 50 90)
tmp=$(mktemp -d)
child=  # the replay (rewind or QEMU) running now: a hung QEMU ignores SIGTERM
cleanup() {
  [ -n "$child" ] && kill -9 "$child" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "bench: $*" >&2; exit 1; }

[ -x "$rewind" ] || die "$rewind is not built (run scripts/build.sh)"
[ -x "$gdb" ] || die "$gdb is missing (scripts/install-deps.sh installs gdb)"
"$gdb" -batch -nx -ex 'python import gdb' >/dev/null 2>&1 || die "$gdb has no Python"
if [ "$skip_qemu" != 1 ]; then
  command -v "$qemu" >/dev/null || die "$qemu is not installed (or SKIP_QEMU=1)"
  # QEMU keeps its replay snapshots in a qcow2 image it does not attach to the guest.
  command -v qemu-img >/dev/null || die "qemu-img is not installed (Debian: qemu-utils), or SKIP_QEMU=1"
fi
"$repo/scripts/linux-guest.sh" "$guest" >/dev/null || exit 1

boot=(-kernel "$guest/vmlinuz" -initrd "$guest/initramfs.cpio.gz" -m "$mem")
append="console=ttyS0 nokaslr rewind.autorun"
now() { date +%s.%N; }
sub() { echo "$1 - $2" | bc -l; }

# --- symbols -----------------------------------------------------------------
want=' (start_kernel|__schedule|jiffies_64)$'
syms=$guest/reverse_debug.syms
if [ -s "$syms" ] && [ "$syms" -nt "$guest/vmlinuz" ]; then
  cp "$syms" "$tmp/syms"
else
  echo "bench: booting the guest once to read its /proc/kallsyms" >&2
  # A boot whose init is busybox sh -c (no double quotes inside: the kernel
  # ends the argument there), grepping /proc/kallsyms onto the console.
  cmd="busybox mount -t proc proc /proc; busybox grep -E '$want' /proc/kallsyms; busybox poweroff -f"
  timeout 300 "$rewind" run "${boot[@]}" -serial stdio -no-reboot \
    -append "console=ttyS0 nokaslr quiet panic=-1 rdinit=/bin/busybox -- sh -c \"$cmd\"" \
    </dev/null 2>"$tmp/kallsyms.err" | tr -d '\r' | grep -aE "^[0-9a-f]{16} [a-zA-Z]$want" >"$tmp/syms"
  [ "$(wc -l <"$tmp/syms")" -ge 3 ] && cp "$tmp/syms" "$syms"
fi
sym() { awk -v n="$1" '$3 == n { print $1; exit }' "$tmp/syms"; }
start=$(sym start_kernel) hot=$(sym __schedule) jiffies=$(sym jiffies_64)
[ -n "$start" ] && [ -n "$hot" ] && [ -n "$jiffies" ] ||
  die "could not find start_kernel, __schedule and jiffies_64 (in the guest's /proc/kallsyms): $(tail -3 "$tmp/kallsyms.err" 2>/dev/null)"

# --- rewind ------------------------------------------------------------------
# session.py MODE: one gdb session against one replay, printing "R key value..."
# per measurement and "FAIL why" when rewind answers wrongly.
cat >"$tmp/session.py" <<'PY'
import gdb, os, re, signal, statistics, threading, time

env = os.environ
MODE = env["MODE"]
PID = int(env["TARGET_PID"])
START, HOT, JIFFIES = (int(env[k], 16) for k in ("START", "HOT", "JIFFIES"))


class Fail(Exception):
    pass


def out(*words):
    print(*words, flush=True)


def run(cmd, limit):
    """gdb command -> (its output, host seconds, timed out). Past `limit`
    seconds the target is killed: gdb's command then fails at once."""
    fired = threading.Event()

    def kill():
        fired.set()
        os.kill(PID, signal.SIGKILL)

    timer = threading.Timer(limit, kill)
    timer.start()
    t0 = time.perf_counter()
    try:
        text = gdb.execute(cmd, to_string=True)
    except gdb.error as e:
        text = "gdb error: %s" % e
    seconds = time.perf_counter() - t0
    timer.cancel()
    return text, seconds, fired.is_set()


def quiet(cmd):
    return gdb.execute(cmd, to_string=True)


def icount():
    text = quiet("monitor info replay" if MODE.startswith("qemu") else "monitor icount")
    numbers = re.findall(r"\d+", text)
    if not numbers:
        raise Fail("no instruction count in %r" % text)
    return int(numbers[-1])


def pc():
    return int(gdb.parse_and_eval("$pc")) & (2**64 - 1)


def value_at(addr):
    return int(gdb.parse_and_eval("*(unsigned long *)0x%x" % addr))


def connect():
    for c in ("set pagination off", "set confirm off", "set width 0", "set tcp connect-timeout 60",
              "set architecture i386:x86-64"):
        quiet(c)
    quiet("target remote :%s" % env["PORT"])


def goto(n):
    text, seconds, dead = run("monitor goto %d" % n, 300)
    if dead:
        raise Fail("monitor goto %d: no answer in 300 s" % n)
    quiet("maint flush register-cache")
    if icount() != n:
        raise Fail("monitor goto %d: then monitor icount says %d (%r)" % (n, icount(), text))
    return seconds


def reverse_continue(stop_cmd, n, what):
    """Sets a breakpoint/watchpoint, reverse-continues from icount n, removes
    it. -> (seconds, the icount it stopped at). gdb prints its stop (and "No
    more reverse-execution history." at the start, icount 0) past to_string."""
    quiet(stop_cmd)
    text, seconds, dead = run("reverse-continue", 300)
    if dead:
        raise Fail("reverse-continue to %s from %d: no answer in 300 s" % (what, n))
    quiet("delete")
    at, where = icount(), pc()
    if "gdb error" in text or not 0 <= at < n:
        raise Fail("reverse-continue to %s from %d: stopped at icount %d pc %#x: %r" % (what, n, at, where, text))
    return seconds, at


def rewind_session():
    total = int(env["TOTAL"])
    connect()
    start_hits = {}
    for p in map(int, env["FRACTIONS"].split()):
        n = total * p // 100
        out("R goto_%d %.6f" % (p, goto(n)))
        steps, before = [], n
        for i in range(5):
            text, seconds, dead = run("reverse-stepi", 300)
            if dead:
                raise Fail("reverse-stepi %d from %d: no answer in 300 s" % (i + 1, n))
            after = icount()
            if after != before - 1:
                raise Fail("reverse-stepi %d from %d: icount %d, expected %d (%r)" % (i + 1, n, after, before - 1, text))
            steps.append(seconds)
            before = after
        out("R rs_first_%d %.6f" % (p, steps[0]))
        out("R rs_median_%d %.6f" % (p, statistics.median(steps)))
        goto(n)
        seconds, at = reverse_continue("break *0x%x" % START, n, "start_kernel")
        if at and pc() != START:
            raise Fail("reverse-continue to start_kernel from %d: pc %#x, expected %#x" % (n, pc(), START))
        start_hits[p] = at
        out("R rc_start_%d %.6f %d" % (p, seconds, at))
        goto(n)
        seconds, at = reverse_continue("break *0x%x" % HOT, n, "__schedule")
        if at and pc() != HOT:
            raise Fail("reverse-continue to __schedule from %d: pc %#x, expected %#x" % (n, pc(), HOT))
        out("R rc_hot_%d %.6f %d" % (p, seconds, at))
        goto(n)
        seconds, at = reverse_continue("watch *(long *)0x%x" % JIFFIES, n, "the jiffies_64 watchpoint")
        if at:
            # Backwards, gdb stops before the write: the next instruction makes it.
            old = value_at(JIFFIES)
            quiet("stepi")
            quiet("maint flush register-cache")
            new = value_at(JIFFIES)
            if old == new:
                raise Fail("watch jiffies_64, reverse-continue from %d stopped at icount %d, "
                           "but the next instruction leaves it %#x" % (n, at, old))
        out("R rc_watch_%d %.6f %d" % (p, seconds, at))
    # The whole boot backwards: from the last instruction to start_kernel.
    goto(total)
    seconds, at = reverse_continue("break *0x%x" % START, total, "start_kernel")
    if at == 0 or pc() != START:
        raise Fail("reverse-continue from the end to start_kernel: icount %d pc %#x (is nokaslr in effect?)" % (at, pc()))
    out("R full %.6f %d" % (seconds, at))
    for p, hit in start_hits.items():
        # start_kernel runs once: every fraction past it stops at that one hit.
        expected = at if total * p // 100 > at else 0
        if hit != expected:
            raise Fail("reverse-continue to start_kernel from %d %%: icount %d, expected %d" % (p, hit, expected))
    status = open("/proc/%d/status" % PID).read()
    for key in ("VmHWM", "VmRSS"):
        out("R %s %s" % (key, re.search(key + r":\s*(\d+) kB", status).group(1)))
    for line in quiet("monitor checkpoints").splitlines():
        out("C " + line)


def qemu_session():
    connect()
    if MODE == "qemu_count":
        # To the end: with -no-shutdown the guest's power-off pauses the replay.
        text, seconds, dead = run("continue", 600)
        out("R q_total %d" % icount() if not dead else "R q_total none")
        return
    p = int(env["FRACTION"])
    n = int(env["N"])
    rs_limit, rc_limit = int(env["RS_LIMIT"]), int(env["RC_LIMIT"])
    quiet("monitor replay_break %d" % n)
    text, seconds, dead = run("continue", 600)
    if dead:
        out("R q_seek_%d none" % p)
        return
    at = icount()
    retry = env.get("AFTER_RS_HANG") == "1"
    out("R q_%s_%d %.6f %d" % ("seek2" if retry else "seek", p, seconds, at))
    if at != n:
        out("N QEMU replay_break %d + continue at %d %% stopped at icount %d" % (n, p, at))
    if not retry:
        text, seconds, dead = run("reverse-stepi", rs_limit)
        if dead:
            out("R q_rs_%d none" % p)
            return
        after = icount()
        out("R q_rs_%d %.6f %d" % (p, seconds, after))
        if after != at - 1:
            out("N QEMU reverse-stepi at %d %%: icount %d -> %d" % (p, at, after))
    quiet("break *0x%x" % START)
    text, seconds, dead = run("reverse-continue", rc_limit)
    if dead:
        out("R q_rc_%d none" % p)
        return
    stop = icount()
    if stop == 0:  # the start of the recording ("No more reverse-execution history")
        out("R q_rc_%d %.6f 0" % (p, seconds))
    elif pc() == START:
        out("R q_rc_%d %.6f %d" % (p, seconds, stop))
    else:
        out("R q_rc_%d %.6f -1" % (p, seconds))
        out("N QEMU reverse-continue to start_kernel at %d %% stopped at pc %#x icount %d: %r"
            % (p, pc(), stop, text.strip()))


try:
    rewind_session() if MODE == "rewind" else qemu_session()
except (Fail, gdb.error) as e:
    out("FAIL %s" % e)
try:
    quiet("kill")
except gdb.error:
    pass
PY

# Starts a rewind replay under -gdb on a free port: sets RPID and PORT.
start_rewind_replay() {
  "$rewind" replay "$1" -gdb tcp::0 -serial none 2>"$tmp/replay.err" &
  RPID=$!
  child=$RPID
  PORT=
  for _ in $(seq 300); do
    PORT=$(sed -n 's/.*on port \([0-9]*\).*/\1/p' "$tmp/replay.err")
    [ -n "$PORT" ] && return 0
    kill -0 "$RPID" 2>/dev/null || break
    sleep 0.1
  done
  die "rewind replay -gdb did not listen: $(cat "$tmp/replay.err")"
}
# result FILE KEY [FIELD]: a measurement the session printed ("R KEY SECONDS
# ICOUNT": field 1 is the seconds, 2 the instruction count it stopped at).
result() { awk -v k="R $2" -v f="${3:-1}" 'index($0, k " ") == 1 { v = $(2 + f) } END { print v }' "$1"; }

echo "bench: recording the boot with rewind" >&2
t0=$(now)
timeout 900 "$rewind" record -o "$tmp/boot.rwt" "${boot[@]}" -append "$append" -serial stdio \
  </dev/null >"$tmp/record.log" 2>"$tmp/record.err"
r_rec=$(sub "$(now)" "$t0")
grep -q "reboot: Power down" "$tmp/record.log" || die "rewind's recording did not power off: $(tail -5 "$tmp/record.err")"
"$rewind" trace info "$tmp/boot.rwt" >"$tmp/info.txt" || die "rewind trace info failed"
r_size=$(stat -c %s "$tmp/boot.rwt")
r_total=$(sed -n 's/^instructions: *\([0-9]*\).*/\1/p' "$tmp/info.txt")
r_ckpts=$(sed -n 's/^checkpoints: *//p' "$tmp/info.txt")
ram=$(sed -n 's/^memory: *\([0-9]*\) bytes.*/\1/p' "$tmp/info.txt")
[ -n "$r_total" ] && [ -n "$ram" ] || die "rewind trace info says no instruction count or memory: $(cat "$tmp/info.txt")"

echo "bench: rewind session (gdb)" >&2
start_rewind_replay "$tmp/boot.rwt"
MODE=rewind PORT=$PORT TARGET_PID=$RPID START=$start HOT=$hot JIFFIES=$jiffies TOTAL=$r_total \
  FRACTIONS="${fractions[*]}" timeout 1200 "$gdb" -batch -nx -x "$tmp/session.py" >"$tmp/rewind.out" 2>&1
kill "$RPID" 2>/dev/null
wait "$RPID" 2>/dev/null
child=
rw=$tmp/rewind.out
if grep -q '^FAIL' "$rw" || [ -z "$(result "$rw" full)" ]; then
  echo "bench: the rewind session failed:" >&2
  grep -v '^[RC] ' "$rw" | tail -30 >&2
  tail -5 "$tmp/replay.err" >&2
  exit 1
fi

# --- QEMU --------------------------------------------------------------------
qemu_flags=(-accel tcg -machine pc -nodefaults -display none -no-reboot "${boot[@]}" -append "$append"
            -drive "file=$tmp/rr.qcow2,if=none,id=rr")
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
# qemu_session NAME MODE [VAR=VALUE...]: a QEMU replay under gdb; gdb's
# output in $tmp/NAME.out.
qemu_session() {
  local name=$1 mode=$2 port qpid
  shift 2
  port=$(free_port)
  # -serial null: the recording's serial device without its console;
  # -no-shutdown: the guest's power-off pauses the replay instead of ending it.
  "$qemu" "${qemu_flags[@]}" -serial null -no-shutdown \
    -icount "shift=auto,rr=replay,rrfile=$tmp/q.rr,rrsnapshot=init" -gdb "tcp::$port" -S \
    </dev/null >/dev/null 2>"$tmp/$name.err" &
  qpid=$!
  disown "$qpid"  # killed on purpose when it does not answer: no "Killed" from bash
  child=$qpid
  env "$@" MODE="$mode" PORT="$port" TARGET_PID="$qpid" START="$start" HOT="$hot" JIFFIES="$jiffies" \
    RS_LIMIT="$rs_limit" RC_LIMIT="$rc_limit" timeout 1200 "$gdb" -batch -nx -x "$tmp/session.py" \
    >"$tmp/$name.out" 2>&1
  kill -9 "$qpid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.1; done
  child=
}

if [ "$skip_qemu" != 1 ]; then
  echo "bench: recording the boot with QEMU" >&2
  qemu-img create -f qcow2 "$tmp/rr.qcow2" 64M >/dev/null || die "qemu-img create failed"
  t0=$(now)
  timeout 900 "$qemu" "${qemu_flags[@]}" -serial stdio \
    -icount "shift=auto,rr=record,rrfile=$tmp/q.rr,rrsnapshot=init" </dev/null >"$tmp/qrecord.log" 2>"$tmp/qrecord.err"
  q_rec=$(sub "$(now)" "$t0")
  grep -q "reboot: Power down" "$tmp/qrecord.log" || die "QEMU's recording did not power off: $(tail -5 "$tmp/qrecord.err")"
  q_size=$(stat -c %s "$tmp/q.rr")
  q_snap=$(stat -c %s "$tmp/rr.qcow2")
  echo "bench: QEMU replay to the end, for its instruction count" >&2
  qemu_session qcount qemu_count
  q_total=$(result "$tmp/qcount.out" q_total)
  [ -n "$q_total" ] && [ "$q_total" != none ] ||
    die "QEMU's replay did not reach the end: $(tail -5 "$tmp/qcount.out" "$tmp/qcount.err")"
  for p in "${fractions[@]}"; do
    echo "bench: QEMU session at $p %" >&2
    qemu_session "q$p" qemu FRACTION="$p" N=$((q_total * p / 100))
    cat "$tmp/q$p.out" >>"$tmp/qemu.out"
    if [ "$(result "$tmp/q$p.out" "q_rs_$p")" = none ]; then
      # Its reverse-stepi hung: a fresh replay for the reverse-continue.
      qemu_session "q${p}b" qemu FRACTION="$p" N=$((q_total * p / 100)) AFTER_RS_HANG=1
      cat "$tmp/q${p}b.out" >>"$tmp/qemu.out"
    fi
  done
fi

# --- report ------------------------------------------------------------------
qw=$tmp/qemu.out
[ -f "$qw" ] || : >"$qw"
fmt() { # seconds [icount] -> "1.234", "1.234*" (ran back to the start), "-" (not measured)
  case "${1:-}" in
    "") echo - ;;
    none) echo "no answer" ;;
    *) printf '%.3f%s' "$1" "$([ "${2:-}" = 0 ] && echo '*')" ;;
  esac
}
ratio() { # QEMU / rewind, when both are times
  if [[ $1 =~ ^[0-9.]+$ && $2 =~ ^[0-9.]+$ ]]; then printf '%.1f' "$(echo "$2 / $1" | bc -l)"; else echo -; fi
}
row() { # label rewind-key qemu-key (keys without the _P)
  local label=$1 rk=$2 qk=$3 p r q line
  line=$(printf '%-30s' "$label")
  for p in "${fractions[@]}"; do
    r=$(result "$rw" "${rk}_$p")
    q=
    [ -n "$qk" ] && q=$(result "$qw" "${qk}_$p")
    line+=$(printf ' %8s %9s %6s' "$(fmt "$r" "$(result "$rw" "${rk}_$p" 2)")" \
      "$(fmt "$q" "$([ -n "$qk" ] && result "$qw" "${qk}_$p" 2)")" "$(ratio "$r" "$q")")
  done
  echo "$line"
}

echo "Debian $(cat "$guest/kernel-package" 2>/dev/null) + busybox initramfs, -m $mem, -append \"$append\""
echo "symbols: start_kernel $start, __schedule $hot, jiffies_64 $jiffies"
printf 'rewind record: %.1f s, %s trace bytes, %s instructions, checkpoints: %s\n' \
  "$r_rec" "$r_size" "$r_total" "$r_ckpts"
if [ "$skip_qemu" = 1 ]; then
  echo "QEMU: skipped (SKIP_QEMU=1)"
else
  printf 'QEMU record:   %.1f s, %s log bytes + %s qcow2 bytes (its start snapshot), %s instructions\n' \
    "$q_rec" "$q_size" "$q_snap" "$q_total"
fi
echo
echo "host seconds per gdb command, at a fraction of each emulator's own instruction count"
line=$(printf '%-30s' "")
for p in "${fractions[@]}"; do line+=$(printf ' %25s' "----------- $p % -----------"); done
echo "$line"
line=$(printf '%-30s' "")
for p in "${fractions[@]}"; do line+=$(printf ' %8s %9s %6s' rewind QEMU ratio); done
echo "$line"
row "goto (QEMU: replay_break+c)" goto q_seek
row "reverse-stepi, first" rs_first q_rs
row "reverse-stepi, median of 5" rs_median ""
row "reverse-continue start_kernel" rc_start q_rc
row "reverse-continue __schedule" rc_hot ""
row "reverse-continue jiffies watch" rc_watch ""
echo
echo "ratio: QEMU / rewind.  *: no hit before that point; ran back to the start of the recording."
grep -q '^R q_[a-z]*_[0-9]* none' "$qw" && echo "no answer: QEMU gave none in ${rs_limit} s (reverse-stepi) / ${rc_limit} s (reverse-continue) and was killed."
grep -h '^N ' "$qw" | sed 's/^N /note: /'
grep -h '^FAIL' "$qw" | sed 's/^FAIL /note: a QEMU session failed: /'
printf 'rewind reverse-continue over the full boot (end -> start_kernel at icount %s): %.3f s\n' \
  "$(result "$rw" full 2)" "$(result "$rw" full)"
hwm=$(result "$rw" VmHWM) rss=$(result "$rw" VmRSS)
# Guest RAM (-m) is resident only where the guest touched it, so the whole
# process can hold less than it.
printf 'rewind replay memory: peak (VmHWM) %.1f MiB, at the end (VmRSS) %.1f MiB, all included (guest RAM: %d MiB, resident where touched)\n' \
  "$(echo "$hwm / 1024" | bc -l)" "$(echo "$rss / 1024" | bc -l)" $((ram >> 20))
echo "monitor checkpoints at the end of the session:"
sed -n 's/^C /  /p' "$rw"
