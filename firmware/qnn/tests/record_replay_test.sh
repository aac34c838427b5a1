#!/usr/bin/env bash
# Record and replay through firmware: qnn-demo on a non-ideal cimsim design point with `record = FILE`,
# then the same firmware run answered by plugins/cim-replay.so from that file: identical RESULT lines
# (logits hash, accuracy, energy, latency, virtual time). Then a run whose requests differ (another batch
# size): a BACKEND error naming the first difference.
#   record_replay_test.sh QEMU BUILD_DIR
set -euo pipefail
QEMU=$1 BUILD=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
run() {  # config, firmware args, log
  "$QEMU" -M mps2-an385 -nographic -icount shift=0,align=off,sleep=off -semihosting-config enable=on,target=native \
    -d guest_errors -kernel "$BUILD/firmware/qnn-demo.elf" \
    -device "dynperiph,plugin=$BUILD/plugins/cim.so,addr=0x40100000,irq=17,id=cim,args=config=$1" \
    -append "$2" > "$3" 2>&1 </dev/null
}
cat > "$TMP/record.toml" <<TOML
[[op]]
index = 3
name = "rram-noisy"
backend = "cim-cimsim.so"
record = "rec.jsonl"
params = { cell = "rram", adc_bits = 5, parallel_rows = 64, program_sigma = 0.05, read_noise_sigma = 0.02, seed = 11 }
TOML
cat > "$TMP/replay.toml" <<TOML
[[op]]
index = 3
name = "replay"
backend = "cim-replay.so"
params = { file = "rec.jsonl" }
TOML
run "$TMP/record.toml" "n=100" "$TMP/record.log" || { cat "$TMP/record.log"; echo "FAIL: the recording run failed"; exit 1; }
[ "$(wc -l < "$TMP/rec.jsonl")" -gt 2 ] || { echo "FAIL: nothing recorded"; exit 1; }
run "$TMP/replay.toml" "n=100" "$TMP/replay.log" || { cat "$TMP/replay.log"; echo "FAIL: the replay run failed"; exit 1; }
grep '^RESULT model=[a-z]* op=3 ' "$TMP/record.log" > "$TMP/a"
grep '^RESULT model=[a-z]* op=3 ' "$TMP/replay.log" > "$TMP/b"
[ "$(wc -l < "$TMP/a")" -eq 2 ] || { cat "$TMP/record.log"; echo "FAIL: expected 2 RESULT lines"; exit 1; }
grep -q 'identical=no' "$TMP/a" || { echo "FAIL: the recorded design point should be non-ideal"; exit 1; }
diff "$TMP/a" "$TMP/b" || { echo "FAIL: the replay differs from the recording"; exit 1; }
echo "replayed $(($(wc -l < "$TMP/rec.jsonl") - 1)) recorded operations: identical results"
cat "$TMP/b"
if run "$TMP/replay.toml" "n=100 batch=40" "$TMP/differ.log"; then
  echo "FAIL: a run with other requests replayed"; exit 1
fi
grep -q 'ERRCODE 9 (BACKEND)' "$TMP/differ.log" || { cat "$TMP/differ.log"; echo "FAIL: no BACKEND error"; exit 1; }
grep -q 'request 1 differs from the recording (line 2): n_vectors = 40, recorded 50' "$TMP/differ.log" ||
  { cat "$TMP/differ.log"; echo "FAIL: the first difference is not named"; exit 1; }
grep -m1 'differs from the recording' "$TMP/differ.log"
echo "PASS"
