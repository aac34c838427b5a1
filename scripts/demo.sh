#!/usr/bin/env bash
# The main demo: two int8 neural networks (an MLP and a CNN, trained at build time from Debian's sklearn
# digits set and imported through ONNX, tools/qnn) classify the whole 450-image test split on an emulated
# Cortex-M3 (QEMU mps2-an385). The firmware (firmware/qnn) runs every layer's MVM through the CIM
# accelerator peripheral -- a plugin (build/plugins/cim.so) loaded by QEMU's dynperiph device -- on each
# design point of peripherals/cim/configs/networks.toml, and on its own CPU as the reference. Prints a table
# (accuracy, drop, energy and latency per inference from the peripheral's metric registers, guest
# instructions per inference) and writes a plot (build/qnn-demo.png).
#   scripts/demo.sh [extra qemu args]      (installs what it needs on a fresh Debian 12 machine)
# CIM_CONFIG=file.toml picks another operation config; CIM_EXACT="0,1" names its ideal operations (their
# logits must equal the CPU reference bit for bit); QNN_ARGS adds firmware arguments (firmware/qnn/qnn_demo.c).
# Builds only what the demo needs (the plugin, two backends, cimsim's CLI, the models, the firmware).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
"$ROOT/scripts/install-deps.sh" >&2
QEMU=$("$ROOT/qemu/build-qemu.sh" | tail -1)
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DDYNPERIPH_QEMU="$QEMU" >/dev/null
cmake --build "$BUILD" --target cim_plugin cim_backend_cimsim cim_backend_exec cimsim_cli qnn-models \
  firmware/qnn-demo.elf >&2
CONFIG=${CIM_CONFIG:-$ROOT/peripherals/cim/configs/networks.toml}
EXACT=${CIM_EXACT-0,1}
LOG=$BUILD/qnn-demo.log
PLOT=$BUILD/qnn-demo.png
echo "== qemu-system-arm -M mps2-an385 -kernel qnn-demo.elf -device dynperiph,plugin=cim.so,config=$(basename "$CONFIG")" >&2
status=0
"$QEMU" -M mps2-an385 -nographic -icount shift=0,align=off,sleep=off \
  -semihosting-config enable=on,target=native \
  -kernel "$BUILD/firmware/qnn-demo.elf" \
  -device "dynperiph,plugin=$BUILD/plugins/cim.so,addr=0x40100000,irq=17,id=cim,args=config=$CONFIG" \
  -append "exact=$EXACT ${QNN_ARGS:-}" "$@" > "$LOG" 2>&1 || status=$?
grep -v '^RESULT ' "$LOG" || true
echo
/usr/bin/python3 "$ROOT/tools/qnn/demo_report.py" "$LOG" "$CONFIG" "$PLOT"
echo "firmware output: $LOG"
exit "$status"
