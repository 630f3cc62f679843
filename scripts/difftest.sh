#!/usr/bin/env bash
# Long differential-testing campaigns against the host CPU (the suite runs a
# bounded slice, test_difftest_host):
#   scripts/difftest.sh [SEQUENCES] [SEED] [LENGTH] [host_difftest options: --mode 32 for 32-bit code
#                       in compatibility mode, --exclude FORM,...]
# Prints the forms covered of the forms the generator draws from and of the
# whole table, the sequences run, how they ended, and every mismatch shrunk
# to a minimal reproducer. Exits non-zero on any mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."
sequences=${1:-1000000}
seed=${2:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
length=${3:-8}
scripts/build.sh >/dev/null
exec build/tests/host_difftest --sequences "$sequences" --seed "$seed" --length "$length" "${@:4}"
