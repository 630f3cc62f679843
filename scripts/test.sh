#!/usr/bin/env bash
# Sets up, builds, and runs every test (unit and guest integration) with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
cd build
ctest --output-on-failure -j2 --timeout 600
