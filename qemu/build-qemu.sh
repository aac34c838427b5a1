#!/usr/bin/env bash
# Fetches QEMU's source, applies the dynperiph change (qemu/device/*.c + meson/Kconfig glue) and builds
# qemu-system-arm (arm-softmmu, minimal features).
#
#   qemu/build-qemu.sh       (progress on stderr, path of qemu-system-arm on stdout)
#
# Source: Debian's `qemu` source package, fetched through a *private* apt state (deb-src entries derived
# from this machine's configured apt sources; the system's apt configuration is not touched), extracted
# with dpkg-source -x so Debian's patches apply. QEMU_SRC=/path/to/qemu uses a user's own tree instead
# (it is copied, never modified).
#
# Cache: $DYNPERIPH_CACHE (default ~/.cache/dynperiph)/qemu/<source-version>/{src,build}. A stamp holds
# the hash of our QEMU change: same hash and a binary present -> nothing to do; otherwise our files are
# re-applied (only changed files are touched) and ninja rebuilds incrementally.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CACHE=${DYNPERIPH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dynperiph}
log() { echo "build-qemu: $*" >&2; }
die() { echo "build-qemu: error: $*" >&2; exit 1; }

# ---- our QEMU change: the files we add and the hash that keys the build -------------------------------
CHANGE_FILES=("$HERE"/device/*.c "$HERE"/device/*.h "$HERE/device/trace-events" "$ROOT"/include/dynperiph/*.h
              "$ROOT"/memload/dp_memload.[ch] "$HERE/glue.sh")
change_hash() {
  local f
  for f in "${CHANGE_FILES[@]}"; do [ -f "$f" ] && { echo "$f" | sed "s|^$ROOT/||"; cat "$f"; }; done |
    sha256sum | cut -c1-16
}

# ---- private apt state ------------------------------------------------------------------------------
# Turns the machine's enabled deb entries (one-line .list and deb822 .sources) into deb-src entries.
derive_deb_src() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -n 's/^[[:space:]]*deb[[:space:]]\+/deb-src /p' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN{RS=""; FS="\n"} {
      out=""; ok=0
      for (i=1;i<=NF;i++) {
        line=$i
        if (line ~ /^#/) continue
        if (line ~ /^Types:/) { if (line ~ /[[:space:]]deb([[:space:]]|$)/) ok=1; line="Types: deb-src" }
        if (line ~ /^Enabled:[[:space:]]*no/) ok=0
        out=out line "\n"
      }
      if (ok) printf "%s\n", out
    }' "$f" > "$APT_DIR/$(basename "$f")"
  done
}

fetch_debian_source() {
  APT_DIR="$CACHE/qemu/apt"
  mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/archives/partial" "$APT_DIR/sources.d"
  rm -f "$APT_DIR"/*.sources
  derive_deb_src > "$APT_DIR/sources.list"
  mv "$APT_DIR"/*.sources "$APT_DIR/sources.d/" 2>/dev/null || true
  [ -s "$APT_DIR/sources.list" ] || ls "$APT_DIR/sources.d/"*.sources >/dev/null 2>&1 ||
    die "no enabled deb entries in /etc/apt/sources.list{,.d} to derive deb-src entries from"
  APT_OPTS=(-o "Dir::Etc::SourceList=$APT_DIR/sources.list" -o "Dir::Etc::SourceParts=$APT_DIR/sources.d"
            -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache::Archives=$APT_DIR/archives"
            -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "APT::Sandbox::User=$(id -un)"
            -o "Debug::NoLocking=1")
  if [ ! -f "$APT_DIR/lists/.updated" ] || [ -n "$(find "$APT_DIR/lists/.updated" -mmin +1440)" ]; then
    log "updating private apt source lists in $APT_DIR"
    apt-get "${APT_OPTS[@]}" update -qq >&2 || die "apt-get update (private deb-src state) failed"
    touch "$APT_DIR/lists/.updated"
    rm -f "$APT_DIR/lists/.version"
  fi
  # The newest source version is remembered until the next list update (apt-cache takes ~0.3 s).
  SRC_VERSION=$(cat "$APT_DIR/lists/.version" 2>/dev/null || true)
  if [ -z "$SRC_VERSION" ]; then
    SRC_VERSION=$(apt-cache "${APT_OPTS[@]}" showsrc qemu 2>/dev/null | awk '/^Version:/{print $2}' | sort -V | tail -1)
    [ -n "$SRC_VERSION" ] || die "no 'qemu' source package found via the derived deb-src entries"
    echo "$SRC_VERSION" > "$APT_DIR/lists/.version"
  fi
}

extract_debian_source() {  # $1 = destination src dir
  local dl="$CACHE/qemu/dl/$SRC_VERSION" dsc
  mkdir -p "$dl"
  dsc=$(ls "$dl"/qemu_*.dsc 2>/dev/null | head -1 || true)
  if [ -z "$dsc" ]; then
    log "downloading Debian source package qemu $SRC_VERSION"
    (cd "$dl" && apt-get "${APT_OPTS[@]}" source --download-only -qq "qemu=$SRC_VERSION" >&2) ||
      die "apt-get source qemu=$SRC_VERSION failed"
    dsc=$(ls "$dl"/qemu_*.dsc | head -1)
  fi
  log "extracting with dpkg-source -x (applies Debian's patches)"
  rm -rf "$1.tmp"
  dpkg-source --no-check -x "$dsc" "$1.tmp" >/dev/null || die "dpkg-source -x $dsc failed"
  mv "$1.tmp" "$1"
}

# ---- main -------------------------------------------------------------------------------------------
if [ -n "${QEMU_SRC:-}" ]; then
  [ -f "$QEMU_SRC/VERSION" ] && [ -f "$QEMU_SRC/configure" ] || die "QEMU_SRC=$QEMU_SRC is not a QEMU source tree (no VERSION/configure)"
  SRC_VERSION="custom-$(cat "$QEMU_SRC/VERSION")-$(realpath "$QEMU_SRC" | sha256sum | cut -c1-8)"
else
  fetch_debian_source
fi
KEY_DIR="$CACHE/qemu/${SRC_VERSION//[:~]/_}"
SRC="$KEY_DIR/src"; BUILD="$KEY_DIR/build"; BIN="$BUILD/qemu-system-arm"
HASH=$(change_hash)
if [ -x "$BIN" ] && [ "$(cat "$KEY_DIR/change.stamp" 2>/dev/null)" = "$HASH" ]; then
  log "cached: qemu $SRC_VERSION with dynperiph change $HASH"
  echo "$BIN"; exit 0
fi

mkdir -p "$KEY_DIR"
if [ ! -f "$SRC/configure" ]; then
  if [ -n "${QEMU_SRC:-}" ]; then
    log "copying $QEMU_SRC"; rm -rf "$SRC.tmp"; cp -a "$QEMU_SRC" "$SRC.tmp"; mv "$SRC.tmp" "$SRC"
  else
    extract_debian_source "$SRC"
  fi
fi

log "applying the dynperiph change ($HASH)"
"$HERE/glue.sh" "$SRC" "$ROOT" >&2

if [ ! -f "$BUILD/build.ninja" ]; then
  log "configuring (arm-softmmu, minimal features)"
  mkdir -p "$BUILD"
  (cd "$BUILD" && "$SRC/configure" --target-list=arm-softmmu --meson=/usr/bin/meson \
      --without-default-features --disable-docs --disable-werror --enable-tcg --disable-tools \
      --enable-fdt=system >"$KEY_DIR/configure.log" 2>&1) ||
    die "configure failed; see $KEY_DIR/configure.log"
fi

log "building qemu-system-arm in $BUILD (a clean build takes ~4.5 min on 2 cores)"
start=$(date +%s)
if [ -t 2 ]; then
  ninja -C "$BUILD" qemu-system-arm >&2 || die "ninja failed in $BUILD"
else  # progress every ~10 % when not on a terminal (CI logs)
  ninja -C "$BUILD" qemu-system-arm 2>&1 | awk '
    /^\[[0-9]+\/[0-9]+\]/ { split(substr($1, 2, length($1) - 2), m, "/"); p = int(100 * m[1] / m[2])
      if (p >= last + 10) { last = p; printf "build-qemu: %d%% (%s/%s)\n", p, m[1], m[2] > "/dev/stderr"; fflush() } next }
    /error|FAILED/ { print > "/dev/stderr" }' || die "ninja failed in $BUILD"
fi
[ -x "$BIN" ] || die "build finished but $BIN is missing"
echo "$HASH" > "$KEY_DIR/change.stamp"
log "built in $(( $(date +%s) - start )) s"
echo "$BIN"
