#!/usr/bin/env bash
# The QEMU the tests run on: prints its version and checks it has both devices; with
# DYNPERIPH_TEST_QEMU_VERSION=X.Y (scripts/test.sh sets it per run) also that it is that version.
#   host_version_test.sh QEMU
set -euo pipefail
v=$("$1" --version | head -1)
echo "$v"
devs=$("$1" -M mps2-an385 -device help 2>&1)
for d in dynperiph cim-builtin; do
  grep -q "name \"$d\"" <<<"$devs" || { echo "FAIL: $1 has no '$d' device"; exit 1; }
done
if [ -n "${DYNPERIPH_TEST_QEMU_VERSION:-}" ]; then
  [[ "$v" == "QEMU emulator version $DYNPERIPH_TEST_QEMU_VERSION."* ]] ||
    { echo "FAIL: expected QEMU $DYNPERIPH_TEST_QEMU_VERSION, got: $v"; exit 1; }
fi
echo "1 passed, 0 failed"
