#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs each for N seconds.
#   scripts/fuzz.sh [SECONDS] [TARGET...]      default: 60 s each, every target
# Targets: svd args state (sdk/fuzz), csv config network (cimsim/fuzz),
#          result_parse argv_template flat_params (peripherals/cim/fuzz).
# Corpora persist in build-fuzz/corpus/<target>; a crash leaves build-fuzz/artifacts/<target>/crash-* and
# makes the script exit non-zero. Reproduce one: build-fuzz/fuzz_<target> build-fuzz/artifacts/<target>/crash-...
# Environment: CXX (default clang++), FUZZ_DIR (default <repo>/build-fuzz), JOBS (parallel builds, default 2).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${FUZZ_DIR:-$ROOT/build-fuzz}
CXX=${CXX:-clang++}
JOBS=${JOBS:-2}
SECONDS_EACH=60
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then SECONDS_EACH=$1; shift; fi
ALL=(svd args state csv config network result_parse argv_template flat_params)
TARGETS=("$@")
[[ ${#TARGETS[@]} -eq 0 ]] && TARGETS=("${ALL[@]}")

if ! "$CXX" --version 2>/dev/null | grep -q clang; then
  echo "fuzz.sh: $CXX is not clang (libFuzzer needs clang; set CXX)" >&2
  exit 2
fi
FLAGS=(-std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -I"$ROOT/include")
SDK=(-I"$ROOT/sdk/include" "$ROOT"/sdk/src/{register_bank,peripheral,state,svd,args}.cpp -lpugixml)
TOML=($(pkg-config --cflags --libs tomlplusplus)) # the shared library the normal build uses
CIMSIM=(-I"$ROOT/cimsim/include" -I"$ROOT/cimsim/src"
        "$ROOT"/cimsim/src/{config,tech,mapping,crossbar,exact,mvm,cost,csv,network,report}.cpp "${TOML[@]}" -pthread)
CIM=(-I"$ROOT/peripherals/cim/src" -I"$ROOT/peripherals/cim/backends/exec")

sources() { # target -> harness + what it links
  case $1 in
    svd|args|state) echo "$ROOT/sdk/fuzz/fuzz_$1.cpp ${SDK[*]}" ;;
    csv|config|network) echo "$ROOT/cimsim/fuzz/fuzz_$1.cpp ${CIMSIM[*]}" ;;
    result_parse) echo "$ROOT/peripherals/cim/fuzz/fuzz_$1.cpp ${CIM[*]} $ROOT/peripherals/cim/backends/exec/result_parse.cpp" ;;
    argv_template) echo "$ROOT/peripherals/cim/fuzz/fuzz_$1.cpp ${CIM[*]} $ROOT/peripherals/cim/backends/exec/argv_template.cpp" ;;
    flat_params) echo "$ROOT/peripherals/cim/fuzz/fuzz_$1.cpp ${CIM[*]} $ROOT/peripherals/cim/src/flat_params.cpp $ROOT/peripherals/cim/src/ops.cpp ${TOML[*]} -ldl" ;;
    *) echo "fuzz.sh: unknown target '$1' (known: ${ALL[*]})" >&2; return 1 ;;
  esac
}

seed() { # target corpus-dir: copies the repository's own inputs of that kind as the starting corpus
  local t=$1 dir=$2
  case $t in
    svd) cp "$ROOT"/peripherals/*/*.svd "$ROOT"/tools/svd2header/tests/data/*.svd "$dir"/ 2>/dev/null || true ;;
    args) printf 'clock_hz=50000000,n=3,on=yes' >"$dir/a"; printf 'path=/x,hz=0x10' >"$dir/b" ;;
    csv) printf '\0001,2,3\n4,5,6\n' >"$dir/a"; printf '\001-1.5e3, +2 ,0\r\n' >"$dir/b" ;;
    network) printf '32,32,3,3,3,128,0,1\n1,1,1024,1,1,10,1,1\n' >"$dir/a" ;;
    config) printf '\000{"adc_bits":6,"cell":"rram","g_on_us":40.5}' >"$dir/a"
            printf '\001tech_node_nm = 7\nengine = "exact"\nseed = 3\n' >"$dir/b" ;;
    result_parse) printf '\000{"outputs":[1,-2,3.0],"metrics":{"latency_ns":1.5,"energy_pj":null}}' >"$dir/a"
                  printf '\001latency_ns,3\n1,2,3 # c\n' >"$dir/b"
                  printf '\002ChipArea : 1.5um^2\nChip total leakage Power is: 3uW\n' >"$dir/c" ;;
    argv_template) printf '{weights_csv}' >"$dir/a"; printf -- '--x={{{rows}}}' >"$dir/b" ;;
    flat_params) printf '\000{"a":1,"b":"x\\u00e9","c":[1,{"d":null}],"e":true}' >"$dir/a"
                 printf '\001config=/x.toml' >"$dir/b" ;;
  esac
}

mkdir -p "$OUT"
echo "fuzz.sh: building ${TARGETS[*]} in $OUT" >&2
pids=()
for t in "${TARGETS[@]}"; do
  srcs=$(sources "$t")
  # shellcheck disable=SC2086
  "$CXX" "${FLAGS[@]}" $srcs -o "$OUT/fuzz_$t" 2>"$OUT/fuzz_$t.build.log" &
  pids+=($!)
  if [[ ${#pids[@]} -ge $JOBS ]]; then wait "${pids[0]}" || { cat "$OUT"/fuzz_*.build.log >&2; exit 1; }; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p" || { cat "$OUT"/fuzz_*.build.log >&2; exit 1; }; done

status=0
for t in "${TARGETS[@]}"; do
  corpus=$OUT/corpus/$t art=$OUT/artifacts/$t
  mkdir -p "$corpus" "$art"
  [[ -n $(ls -A "$corpus") ]] || seed "$t" "$corpus"
  dict=(); d=$(ls "$ROOT"/*/fuzz/$t.dict "$ROOT"/*/*/fuzz/$t.dict 2>/dev/null | head -1) || true
  [[ -n $d ]] && dict=(-dict="$d")
  echo "fuzz.sh: $t for ${SECONDS_EACH}s" >&2
  if ! "$OUT/fuzz_$t" "$corpus" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
      -max_len=16384 -print_final_stats=1 -artifact_prefix="$art/" ${dict[@]+"${dict[@]}"} >"$OUT/fuzz_$t.log" 2>&1; then
    echo "fuzz.sh: $t FAILED: see $OUT/fuzz_$t.log and $art/" >&2
    status=1
  fi
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$OUT/fuzz_$t.log" | sed "s/^/  $t /" >&2 || true
done
exit $status
