#!/usr/bin/env bash
# Applies the dynperiph change to a QEMU source tree: copies qemu/device/* and the in-memory loader
# (memload/dp_memload.[ch]) and the isolation proxy (isolate/dp_isolate*.[ch]) into hw/misc/, the C ABI headers into include/dynperiph/, and adds the
# meson + Kconfig lines once. Idempotent; files whose
# content is unchanged are not rewritten, so ninja's incremental rebuild stays minimal.
#   qemu/glue.sh QEMU_SRC_DIR PROJECT_ROOT
set -euo pipefail
SRC=$1; ROOT=$2
put() {  # put FROM TO: copy only when the content differs
  mkdir -p "$(dirname "$2")"
  cmp -s "$1" "$2" 2>/dev/null || cp "$1" "$2"
}
for h in "$ROOT"/include/dynperiph/*.h; do   # the C ABI headers (plugin.h, cim_backend.h)
  put "$h" "$SRC/include/dynperiph/$(basename "$h")"
done
SOURCES=("$ROOT"/qemu/device/*.c "$ROOT"/memload/dp_memload.c "$ROOT"/isolate/dp_isolate.c)
for f in "${SOURCES[@]}" "$ROOT"/qemu/device/*.h "$ROOT"/memload/dp_memload.h "$ROOT"/isolate/dp_isolate*.h; do  # (trace-events: below)
  [ -f "$f" ] && put "$f" "$SRC/hw/misc/$(basename "$f")"
done

MESON="$SRC/hw/misc/meson.build"
# The source set of system-emulation files: softmmu_ss up to QEMU 8.0, system_ss since 8.1.
SS=softmmu_ss
grep -q "^system_ss\." "$MESON" && SS=system_ss
grep -q "^# dynperiph:" "$MESON" ||
  printf '\n# dynperiph: peripherals loaded from shared objects (added by dynperiph qemu/glue.sh)\n' >> "$MESON"
for f in "${SOURCES[@]}"; do
  [ -f "$f" ] || continue
  b=$(basename "$f")
  grep -q "'$b'" "$MESON" ||
    echo "$SS.add(when: 'CONFIG_DYNPERIPH', if_true: files('$b'))" >> "$MESON"
done
KCONFIG="$SRC/hw/misc/Kconfig"
if ! grep -q "config DYNPERIPH" "$KCONFIG"; then
  cat >> "$KCONFIG" <<'K'

config DYNPERIPH
    bool
    default y
K
fi

# Trace events: qemu/device/trace-events is kept as one marked block at the end of hw/misc/trace-events
# (the file the device's "trace.h" is generated from); rewritten only when the block changes, since
# that regenerates hw/misc's trace header and recompiles the files including it.
EVENTS="$SRC/hw/misc/trace-events"
BEGIN='# >>> dynperiph (qemu/glue.sh)'; END='# <<< dynperiph'
if [ -f "$ROOT/qemu/device/trace-events" ]; then
  tmp=$(mktemp "$EVENTS.XXXXXX")
  { awk -v b="$BEGIN" -v e="$END" '$0 == b {skip = 1} !skip {print} $0 == e {skip = 0}' "$EVENTS"; echo "$BEGIN"; cat "$ROOT/qemu/device/trace-events"; echo "$END"; } > "$tmp"
  if cmp -s "$tmp" "$EVENTS"; then rm -f "$tmp"; else mv "$tmp" "$EVENTS"; fi
fi
