#!/usr/bin/env bash
# Runs the whole test suite: installs dependencies, builds QEMU 7.2 and 10.0 with the dynperiph device
# (cached), builds the project once and runs every test (unit, host-harness, qtest-protocol and
# firmware tests) on QEMU 7.2, then the QEMU-level tests again on QEMU 10.0 with the same plugin files
# (their sha256 is printed and checked unchanged).
#   scripts/test.sh [extra ctest args]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
"$ROOT/scripts/install-deps.sh"
QEMU=$("$ROOT/qemu/build-qemu.sh" | tail -1)                      # 7.2, the default
QEMU10=$(QEMU_VERSION=10.0 "$ROOT/qemu/build-qemu.sh" | tail -1)
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DDYNPERIPH_QEMU="$QEMU" >/dev/null
cmake --build "$BUILD"
plugin_sums() { (cd "$BUILD/plugins" && sha256sum -- *.so); }
sums=$(plugin_sums)
echo "== plugins (sha256): one build, used unchanged on QEMU 7.2 and 10.0"
echo "$sums"
rc=0
echo "== all tests, QEMU 7.2 ($QEMU)"
DYNPERIPH_TEST_QEMU_VERSION=7.2 ctest --test-dir "$BUILD" --output-on-failure -j"$(nproc)" "$@" || rc=$?
echo "== QEMU-level tests (qtest, firmware, hot reload, startup errors) on QEMU 10.0 ($QEMU10)"
DYNPERIPH_TEST_QEMU="$QEMU10" DYNPERIPH_TEST_QEMU_VERSION=10.0 \
  ctest --test-dir "$BUILD" --output-on-failure -j"$(nproc)" -L 'qemu|firmware' -LE bench "$@" || rc=$?
[ "$(plugin_sums)" = "$sums" ] || { echo "error: the plugin files changed between the two QEMU runs"; exit 1; }
echo "== plugin sha256 unchanged across both QEMU runs"
exit $rc
