#!/usr/bin/env bash
# End-to-end test of tools/new-peripheral: in a scratch copy of the source tree, create a peripheral,
# configure and build it like a user would, and run its generated harness and firmware tests. Also checks
# that bad input gives one line and exit status 2 without writing anything.
#   new_peripheral_test.sh PROJECT_ROOT [QEMU]
set -euo pipefail
ROOT=$1; QEMU=${2:-}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dp-new-peripheral.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The project's sources as a user has them (tracked and untracked-but-not-ignored files).
mkdir -p "$TMP/src"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
     tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -C "$TMP/src" -xf -
else
  (cd "$ROOT" && tar --exclude='./build*' -cf - .) | tar -C "$TMP/src" -xf -
fi
cd "$TMP/src"

# Bad input: one line on stderr, exit status 2, nothing written.
for bad in "Bad_Name" "x --irq 18" "x --base 0x40000000" "x --base nope" "x --board nope" \
           "x --board mps2-an505 --irq 32"; do
  set +e; out=$(tools/new-peripheral $bad 2>&1 >/dev/null); rc=$?; set -e
  [ "$rc" -eq 2 ] || fail "'new-peripheral $bad' exited $rc, expected 2"
  [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "'new-peripheral $bad' printed more than one line: $out"
  case "$out" in new-peripheral:*) ;; *) fail "unexpected message: $out";; esac
done
[ ! -e peripherals/x ] || fail "a rejected call wrote peripherals/x"

tools/new-peripheral scaffold-demo --base 0x40130000 --irq 26
tools/new-peripheral scaffold-tz --board mps3-an547   # the board's default window and IRQ
set +e; tools/new-peripheral scaffold-demo >/dev/null 2>&1; rc=$?; set -e
[ "$rc" -eq 2 ] || fail "creating an existing peripheral again exited $rc, expected 2"

targets=(scaffold-demo scaffold_demo_tests scaffold-tz scaffold_tz_tests)
args=(-DDYNPERIPH_QEMU="$QEMU")
[ -n "$QEMU" ] && targets+=(dynperiph-firmware)
cmake -S . -B build -G Ninja "${args[@]}" >"$TMP/configure.log" 2>&1 || { cat "$TMP/configure.log"; fail "configure"; }
cmake --build build -j2 --target "${targets[@]}" >"$TMP/build.log" 2>&1 || { tail -30 "$TMP/build.log"; fail "build"; }
ctest --test-dir build -R '^scaffold-(demo|tz)\.' --output-on-failure
n=$(ctest --test-dir build -N -R '^scaffold-(demo|tz)\.' | sed -n 's/^Total Tests: //p')
want=4; [ -n "$QEMU" ] && want=6
[ "$n" -eq "$want" ] || fail "expected $want generated tests, found $n"
echo "PASS: new-peripheral scaffold builds and its $n tests pass"
