#!/usr/bin/env bash
# Long adversarial campaigns (the test suite runs a bounded slice of each):
#   scripts/fuzz.sh [SECONDS_PER_FUZZER] [GUEST_VARIANTS]
# - guest_code_fuzz: GUEST_VARIANTS random-code variants (16/32/64-bit),
#   each recorded and replayed by build/bin/rewind;
# - fuzz_multiboot_loader: mutated kernel images through the loader;
# - fuzz_trace_replay: a real recording changed field by field (checksums
#   valid), replayed in-process;
# - fuzz_trace_reader: arbitrary bytes as trace files.
# Each prints its counts by outcome; crashes are kept under
# build/fuzz-campaign/*/artifacts. Exits non-zero if any campaign failed.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
variants=${2:-3000}
scripts/build.sh >/dev/null || exit 1
out=build/fuzz-campaign
mkdir -p "$out"
failed=0

seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
echo "== guest_code_fuzz: $variants variants, seed $seed"
build/tests/guest_code_fuzz --rewind build/bin/rewind --harness build/guests/fuzz_harness.elf \
  --variants "$variants" --seed "$seed" --keep "$out/guest_code" 2>"$out/guest_code.log" || failed=1

run_libfuzzer() {  # NAME CORPUS_SEEDS...
  local name=$1
  shift
  mkdir -p "$out/$name/work" "$out/$name/artifacts"
  echo "== $name: $seconds s"
  "build/tests/$name" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 -print_final_stats=1 \
    -artifact_prefix="$out/$name/artifacts/" "$out/$name/work" "$@" >"$out/$name.log" 2>&1 || failed=1
  grep -E "^$name:|stat::number_of_executed_units|stat::peak_rss_mb" "$out/$name.log"
  ls "$out/$name/artifacts" | sed 's/^/  artifact: /'
}
[ -x build/tests/fuzz_multiboot_loader ] || { echo "the libFuzzer targets need clang-19 (see tests/fuzz/CMakeLists.txt)"; exit $failed; }
mkdir -p "$out/loader_seeds" && cp build/guests/*.elf build/guests/*.bzImage "$out/loader_seeds/"
run_libfuzzer fuzz_multiboot_loader "$out/loader_seeds"
tests/fuzz/make_replay_base.sh build/bin/rewind build/guests tests/guests/serial_echo.input "$out/replay_base"
REWIND_FUZZ_BASE_TRACE="$out/replay_base/base.rwt" run_libfuzzer fuzz_trace_replay
build/tests/make_trace_corpus "$out/reader_corpus" >/dev/null
run_libfuzzer fuzz_trace_reader "$out/reader_corpus/seeds"
exit $failed
