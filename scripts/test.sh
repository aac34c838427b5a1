#!/usr/bin/env bash
# Runs the whole test suite: installs dependencies, builds QEMU with the dynperiph device (cached),
# builds the project and runs every test (unit, host-harness, qtest-protocol and firmware tests).
#   scripts/test.sh [extra ctest args]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
"$ROOT/scripts/install-deps.sh"
QEMU=$("$ROOT/qemu/build-qemu.sh" | tail -1)
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DDYNPERIPH_QEMU="$QEMU" >/dev/null
cmake --build "$BUILD"
ctest --test-dir "$BUILD" --output-on-failure -j"$(nproc)" "$@"
