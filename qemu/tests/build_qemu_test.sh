#!/usr/bin/env bash
# Tests of qemu/build-qemu.sh that need no real QEMU build: a fake QEMU tree (VERSION, configure,
# the hw/misc files the glue edits) whose "build" takes 2 s and logs each configure and build step.
#   build_qemu_test.sh lock             two runs on one empty cache: the second waits and says so,
#                                       configure and build run once, both print the same binary
#   build_qemu_test.sh unknown-version  QEMU_SRC of an unknown version / QEMU_VERSION=8.0: one line
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT="$HERE/../build-qemu.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/dp-build-qemu-test-XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

fake_tree() {  # $1 = dir, $2 = VERSION
  mkdir -p "$1/hw/misc"
  echo "$2" > "$1/VERSION"
  : > "$1/hw/misc/meson.build"; : > "$1/hw/misc/Kconfig"; : > "$1/hw/misc/trace-events"
  cat > "$1/configure" <<'C'
#!/bin/sh
echo configure >> "$FAKE_QEMU_LOG"
cat > build.ninja <<N
rule slow
  command = sleep 2 && echo build >> $FAKE_QEMU_LOG && printf '#!/bin/sh\\n' > \$out && chmod +x \$out
build qemu-system-arm: slow
N
C
  chmod +x "$1/configure"
}

case ${1:-} in
lock)
  fake_tree "$T/src" 7.2.0
  export QEMU_SRC="$T/src" DYNPERIPH_CACHE="$T/cache" FAKE_QEMU_LOG="$T/steps.log"
  "$SCRIPT" > "$T/a.out" 2> "$T/a.err" & a=$!
  for _ in $(seq 200); do [ -s "$T/cache/qemu/7.2.lock.owner" ] && break; sleep 0.05; done
  [ -s "$T/cache/qemu/7.2.lock.owner" ] || fail "the first run never took the lock"
  "$SCRIPT" > "$T/b.out" 2> "$T/b.err" & b=$!
  wait $a || { cat "$T/a.err"; fail "first run failed"; }
  wait $b || { cat "$T/b.err"; fail "second run failed"; }
  grep -q "waiting: another build-qemu.sh run (pid $a " "$T/b.err" || { cat "$T/b.err"; fail "the second run did not say it waits for the first"; }
  grep -q "cached: qemu" "$T/b.err" || { cat "$T/b.err"; fail "the second run rebuilt instead of using the first one's build"; }
  [ "$(grep -c configure "$T/steps.log")" = 1 ] || fail "configure ran $(grep -c configure "$T/steps.log") times"
  [ "$(grep -c build "$T/steps.log")" = 1 ] || fail "the build ran $(grep -c build "$T/steps.log") times"
  [ "$(tail -1 "$T/a.out")" = "$(tail -1 "$T/b.out")" ] && [ -x "$(tail -1 "$T/a.out")" ] || fail "the runs printed different or missing binaries"
  echo "1 passed, 0 failed"
  ;;
unknown-version)
  fake_tree "$T/src" 9.1.0
  set +e
  out=$(QEMU_SRC="$T/src" DYNPERIPH_CACHE="$T/cache" "$SCRIPT" 2>&1 >/dev/null); rc=$?
  set -e
  [ "$rc" = 1 ] || fail "exit status $rc for QEMU 9.1.0"
  [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || fail "more than one line: $out"
  [ "$out" = "build-qemu: error: QEMU_SRC=$T/src is QEMU 9.1.0; supported versions: 7.2, 10.0" ] || fail "unexpected: $out"
  set +e
  out=$(QEMU_VERSION=8.0 DYNPERIPH_CACHE="$T/cache" "$SCRIPT" 2>&1 >/dev/null); rc=$?
  set -e
  [ "$rc" = 1 ] && [ "$out" = "build-qemu: error: QEMU_VERSION=8.0 is not supported (supported: 7.2, 10.0)" ] ||
    fail "QEMU_VERSION=8.0: status $rc, output: $out"
  [ ! -e "$T/cache" ] || [ -z "$(ls -A "$T/cache/qemu" 2>/dev/null)" ] || fail "an unknown version left files in the cache: $(ls -A "$T/cache/qemu")"
  echo "1 passed, 0 failed"
  ;;
*) echo "usage: $0 lock|unknown-version" >&2; exit 2 ;;
esac
