#!/usr/bin/env bash
# The main demo: firmware on an emulated Cortex-M3 (QEMU mps2-an385) drives the CIM accelerator
# peripheral, a plugin (build/plugins/cim.so) loaded by QEMU's dynperiph device, which runs the
# operations configured in peripherals/cim/configs/demo.toml (the cimsim simulator through CSV files, as
# published, and in-process) and prints the results it reads back from ODR.
#   scripts/demo.sh [extra qemu args]      (installs what it needs on a fresh Debian 12 machine)
# CIM_CONFIG=file.toml picks another operation config; CIM_APPROX_OPS="approx=N,M" names its operations
# with non-idealities (reported with their error rather than as a mismatch).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
"$ROOT/scripts/install-deps.sh" >&2
QEMU=$("$ROOT/qemu/build-qemu.sh" | tail -1)
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DDYNPERIPH_QEMU="$QEMU" >/dev/null
cmake --build "$BUILD" >&2
CONFIG=${CIM_CONFIG:-$ROOT/peripherals/cim/configs/demo.toml}
echo "== qemu-system-arm -M mps2-an385 -kernel cim-demo.elf -device dynperiph,plugin=cim.so,config=$(basename "$CONFIG")" >&2
exec "$QEMU" -M mps2-an385 -nographic -icount shift=0,align=off,sleep=off \
  -semihosting-config enable=on,target=native \
  -kernel "$BUILD/firmware/cim-demo.elf" \
  -device "dynperiph,plugin=$BUILD/plugins/cim.so,addr=0x40100000,irq=17,id=cim,args=config=$CONFIG" \
  -append "${CIM_APPROX_OPS:-approx=5}" "$@"
