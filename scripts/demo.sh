#!/usr/bin/env bash
# The headline demo: sets up and builds rewind, records Debian's stock kernel
# booting a busybox initramfs to a shell that runs a job (rewind.autorun:
# dd | sha256sum and awk) and powers off, then replays the recording and
# checks that the replay printed the same console bytes and ended the same way.
# Everything it makes is in build/demo/ (the trace: build/demo/linux.rwt).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
scripts/linux-guest.sh build/linux-guest
out=build/demo
mkdir -p "$out"
guest=(-kernel build/linux-guest/vmlinuz -initrd build/linux-guest/initramfs.cpio.gz
       -append "console=ttyS0 rewind.autorun" -m 256M -nographic)

echo "== rewind record: Linux boots, runs the job and powers off (about a minute)"
set +e
build/bin/rewind record -o "$out/linux.rwt" --stats "${guest[@]}" </dev/null | tee "$out/record.log"
record_status=${PIPESTATUS[0]}
echo "== rewind replay: the same run from the trace"
build/bin/rewind replay "$out/linux.rwt" >"$out/replay.log"
replay_status=$?
set -e

echo "== result"
build/bin/rewind trace info "$out/linux.rwt" | head -12
echo "record exited with status $record_status, replay with status $replay_status"
if [ "$record_status" -ne 0 ] || [ "$replay_status" -ne 0 ]; then
    echo "demo: FAILED (poweroff ends a run with status 0)"
    exit 1
fi
if ! cmp -s "$out/record.log" "$out/replay.log"; then
    echo "demo: FAILED: the replay's console output differs from the recording's ($out/record.log, $out/replay.log)"
    exit 1
fi
echo "demo: the replay printed the same $(wc -c <"$out/replay.log") console bytes as the recording"
