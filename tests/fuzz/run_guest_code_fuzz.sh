#!/usr/bin/env bash
# One CTest slice of the guest-code fuzzer: MODE, VARIANTS variants, the seed
# from REWIND_GUEST_FUZZ_SEED or fresh (printed, so a failure can be repeated).
set -euo pipefail
fuzzer=$1 rewind=$2 harness=$3 mode=$4 variants=$5 keep=$6
seed=${REWIND_GUEST_FUZZ_SEED:-}
[ -n "$seed" ] || seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
echo "guest_code_fuzz mode $mode: seed $seed (REWIND_GUEST_FUZZ_SEED=$seed repeats it)"
exec "$fuzzer" --rewind "$rewind" --harness "$harness" --modes "$mode" --variants "$variants" --seed "$seed" --keep "$keep"
