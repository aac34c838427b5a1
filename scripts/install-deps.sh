#!/usr/bin/env bash
# Installs every Debian 12 package dynperiph needs (build, QEMU, firmware, tests, benchmarks).
# Safe to re-run: packages already present are skipped without touching apt.
set -euo pipefail

PKGS=(
  # host toolchain and project libraries
  build-essential cmake ninja-build pkg-config git lld
  libgtest-dev libgmock-dev libbenchmark-dev
  libpugixml-dev libtomlplusplus-dev nlohmann-json3-dev libcli11-dev libfmt-dev libtbb-dev
  # cimsim Python bindings and sweeps
  pybind11-dev python3-dev python3-numpy python3-pytest python3-pandas python3-distributed python3-tqdm
  # QEMU source + build
  dpkg-dev meson python3 python3-venv python3-setuptools libglib2.0-dev libpixman-1-dev libfdt-dev zlib1g-dev flex bison
  # firmware
  gcc-arm-none-eabi libnewlib-arm-none-eabi
  # debugging firmware on QEMU (tests/gdb: gdb-multiarch attached to the gdbstub)
  gdb-multiarch
  # data and charts
  python3-sklearn python3-scipy python3-matplotlib python3-onnx python3-pytest
  # benchmarks: P2 instruction counts (bench/overhead/callgrind)
  valgrind
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || echo "install-deps: apt-get update failed; trying the cached package lists" >&2
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
