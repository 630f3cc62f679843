#!/usr/bin/env bash
# Checks that the semantics compiled to bitcode stay inside the dialect the
# JIT tier needs (docs/architecture.md, "one semantics, two tiers"):
#   - every header the semantics include is ours or <cstdint>;
#   - the bitcode references no function but the glue of tcg-llvm/jit/glue.h
#     (no libc, no C++ runtime, no host helpers);
#   - it defines no global variables (read-only constants are allowed);
#   - it exports one rwd_sem_<FORM> function per form of the forms table.
# usage: check_bitcode.sh CLANGXX LLVM_NM SOURCE_DIR BITCODE
set -euo pipefail
clangxx=$1 nm=$2 src=$3 bc=$4
forms=$(cat "$src"/tcg-llvm/decoder/x86_forms*.inc | grep -c '^X86_FORM(')
fail=0
complain() { echo "semantics dialect: $*" >&2; fail=1; }

# Our headers reached from the exports (system headers left out by -MM).
deps=$(cd "$src" && "$clangxx" -std=c++20 -MM -I. tcg-llvm/jit/semantics_exports.cc |
       tr ' \\' '\n\n' | grep -E '\.(h|inc|cc)$' || true)
for f in $deps; do
  while IFS= read -r line; do
    complain "$f includes $line (the semantics may include only <cstdint>)"
  done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' "$src/$f" | grep -v '<cstdint>' || true)
done

glue=$(grep -oE '\brwd_glue_[a-z0-9_]+' "$src/tcg-llvm/jit/glue.h" | sort -u)
while read -r sym; do
  [ -z "$sym" ] && continue
  grep -qx "$sym" <<<"$glue" || complain "the bitcode calls $sym, which is not a declared glue function"
done < <("$nm" --undefined-only "$bc" | awk '{print $NF}')

while read -r kind sym; do
  complain "the bitcode defines the global variable $sym ($kind): semantics keep no state outside the CPU"
done < <("$nm" --defined-only "$bc" | awk '$(NF-1) ~ /^[DdBbVvCc]$/ {print $(NF-1), $NF}')

exports=$("$nm" --defined-only --extern-only "$bc" | awk '$(NF-1) == "T" {print $NF}')
bad=$(grep -v '^rwd_sem_' <<<"$exports" || true)
[ -z "$bad" ] || complain "exports other than rwd_sem_*: $(echo $bad | head -c 300)"
count=$(grep -c '^rwd_sem_' <<<"$exports" || true)
[ "$count" = "$forms" ] || complain "$count rwd_sem_* exports for $forms forms"

if [ $fail != 0 ]; then
  rm -f "$bc"  # so the next build checks again
  exit 1
fi
echo "semantics dialect: $count forms compile to bitcode that calls only the glue"
