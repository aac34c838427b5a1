#!/usr/bin/env bash
# The main demo's firmware on the demo's config (peripherals/cim/configs/networks.toml), 60 test images,
# then its table and plot (tools/qnn/demo_report.py): every design point has a row, the ideal ones are bit
# for bit, the PPA-only one says where its outputs come from, the PNG is written, nothing else is left.
#   demo_report_test.sh QEMU BUILD_DIR SOURCE_DIR
set -euo pipefail
QEMU=$1 BUILD=$2 SRC=$3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
CONFIG=$SRC/peripherals/cim/configs/networks.toml
"$QEMU" -M mps2-an385 -nographic -icount shift=0,align=off,sleep=off -semihosting-config enable=on,target=native \
  -kernel "$BUILD/firmware/qnn-demo.elf" \
  -device "dynperiph,plugin=$BUILD/plugins/cim.so,addr=0x40100000,irq=17,id=cim,args=config=$CONFIG" \
  -append "exact=0,1 n=60" > "$TMP/demo.log" 2>&1 </dev/null || { cat "$TMP/demo.log"; echo "FAIL: firmware"; exit 1; }
/usr/bin/python3 "$SRC/tools/qnn/demo_report.py" "$TMP/demo.log" "$CONFIG" "$TMP/plot.png" > "$TMP/table.txt"
cat "$TMP/table.txt"
for m in mlp cnn; do
  for op in 0 1 2 3 4 5 6; do
    grep -q "^| $m *| $op " "$TMP/table.txt" || { echo "FAIL: no row for $m op $op"; exit 1; }
  done
  grep -q "^| $m *| cpu .*CPU reference" "$TMP/table.txt" || { echo "FAIL: no CPU row for $m"; exit 1; }
  grep -q "^| $m *| 1 .*bit for bit" "$TMP/table.txt" || { echo "FAIL: $m op 1 not bit for bit"; exit 1; }
done
grep -q "| 6 .*exec backend's exact MVM (simulator: PPA only)" "$TMP/table.txt" || { echo "FAIL: op 6's outputs unexplained"; exit 1; }
[ "$(head -c 8 "$TMP/plot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo "FAIL: no PNG"; exit 1; }
[ "$(ls "$TMP" | sort | tr '\n' ' ')" = "demo.log plot.png table.txt " ] || { ls "$TMP"; echo "FAIL: files left"; exit 1; }
echo PASS
