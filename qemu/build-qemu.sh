#!/usr/bin/env bash
# Fetches QEMU's source, applies the dynperiph change (qemu/device/*.c + meson/Kconfig glue) and builds
# qemu-system-arm (arm-softmmu, minimal features).
#
#   qemu/build-qemu.sh                      QEMU 7.2 (default)
#   QEMU_VERSION=10.0 qemu/build-qemu.sh    QEMU 10.0
#   QEMU_SRC=/path/to/qemu qemu/build-qemu.sh   a user's own tree (7.2.x or 10.0.x; copied, never modified)
#   (progress on stderr, path of qemu-system-arm on stdout)
#
# Source: Debian's `qemu` source package, fetched through a *private* apt state (deb-src entries derived
# from this machine's configured apt sources; the system's apt configuration is not touched):
#   7.2   the release suite of the configured Debian archive (bookworm: 1:7.2+dfsg-7+deb12uN)
#   10.0  the <codename>-backports suite of the same archive (added to the private state only); its
#         build needs meson >= 1.5 and pycotap, taken from the same suite's binary packages and
#         unpacked into the cache (not installed). When the archive serves the version's .orig
#         tarball but not its .dsc/.debian.tar (seen here for the backport), the orig tarball is
#         extracted as is: upstream QEMU without Debian's patches (said in the log).
# The default is 7.2: it comes from the machine's own release suite, and every published figure was
# measured on it.
#
# Cache: $DYNPERIPH_CACHE (default ~/.cache/dynperiph)/qemu/<source-version>/{src,build}: each version
# has its own. A stamp holds the hash of our QEMU change: same hash and a binary present -> nothing to
# do; otherwise our files are re-applied (only changed files are touched) and ninja rebuilds
# incrementally. One run at a time per version: a second run waits for the first one's lock
# ($CACHE/qemu/<version>.lock) and says so.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CACHE=${DYNPERIPH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dynperiph}
log() { echo "build-qemu: $*" >&2; }
die() { echo "build-qemu: error: $*" >&2; exit 1; }
SUPPORTED="7.2 10.0"

# ---- which QEMU --------------------------------------------------------------------------------------
if [ -n "${QEMU_SRC:-}" ]; then
  [ -f "$QEMU_SRC/VERSION" ] && [ -f "$QEMU_SRC/configure" ] || die "QEMU_SRC=$QEMU_SRC is not a QEMU source tree (no VERSION/configure)"
  src_ver=$(tr -d '[:space:]' < "$QEMU_SRC/VERSION")
  mm=$(echo "$src_ver" | cut -d. -f1,2)
  case " $SUPPORTED " in
    *" $mm "*) ;;
    *) die "QEMU_SRC=$QEMU_SRC is QEMU $src_ver; supported versions: ${SUPPORTED// /, }" ;;
  esac
  [ -z "${QEMU_VERSION:-}" ] || [ "$QEMU_VERSION" = "$mm" ] ||
    die "QEMU_VERSION=$QEMU_VERSION but QEMU_SRC=$QEMU_SRC is QEMU $src_ver"
  QEMU_VERSION=$mm
fi
QEMU_VERSION=${QEMU_VERSION:-7.2}
case $QEMU_VERSION in
  7.2)  SUITE=release;   VERSION_RE='^1:7\.2[.+~]' ;;
  10.0) SUITE=backports; VERSION_RE='^1:10\.0[.+~]' ;;
  *) die "QEMU_VERSION=$QEMU_VERSION is not supported (supported: ${SUPPORTED// /, })" ;;
esac

# ---- one run at a time per version ---------------------------------------------------------------------
mkdir -p "$CACHE/qemu"
LOCK="$CACHE/qemu/$QEMU_VERSION.lock"
exec 9>>"$LOCK"
if ! flock -n 9; then
  log "waiting: another build-qemu.sh run ($(cat "$LOCK.owner" 2>/dev/null || echo "pid unknown")) holds $LOCK"
  flock 9
  log "lock acquired, continuing"
fi
echo "pid $$ since $(date -u +%H:%M:%S)" > "$LOCK.owner"

# ---- our QEMU change: the files we add and the hash that keys the build -------------------------------
CHANGE_FILES=("$HERE"/device/*.c "$HERE"/device/*.h "$HERE/device/trace-events" "$ROOT"/include/dynperiph/*.h
              "$ROOT"/memload/dp_memload.[ch] "$ROOT"/isolate/dp_isolate.c "$ROOT"/isolate/dp_isolate*.h
              "$HERE/glue.sh")
change_hash() {
  local f
  for f in "${CHANGE_FILES[@]}"; do [ -f "$f" ] && { echo "$f" | sed "s|^$ROOT/||"; cat "$f"; }; done |
    sha256sum | cut -c1-16
}

# ---- private apt state ------------------------------------------------------------------------------
# Turns the machine's enabled deb entries (one-line .list and deb822 .sources) into deb-src entries.
# With SUITE=backports, the entries of the archive that serves the release suite ($CODENAME, from
# /etc/os-release) also get "$CODENAME-backports", as deb and deb-src (the build tools are binary
# packages of that suite).
derive_deb_src() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -n 's/^[[:space:]]*deb[[:space:]]\+/deb-src /p' "$f"
    if [ "$SUITE" = backports ]; then
      awk -v c="$CODENAME" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i == c) {
          $i = c "-backports"; print; $1 = "deb-src"; print; next } }' "$f"
    fi
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v c="$CODENAME" -v bpo="$SUITE" 'BEGIN{RS=""; FS="\n"} {
      out=""; ok=0; rel=0; bout=""
      for (i=1;i<=NF;i++) {
        line=$i
        if (line ~ /^#/) continue
        if (line ~ /^Types:/) { if (line ~ /[[:space:]]deb([[:space:]]|$)/) ok=1; line="Types: deb-src" }
        if (line ~ /^Enabled:[[:space:]]*no/) ok=0
        out=out line "\n"
        if (line ~ /^Suites:/) { n = split(line, w, /[[:space:]]+/); for (j = 2; j <= n; j++) if (w[j] == c) rel=1
                                 bout=bout "Suites: " c "-backports\n" }
        else if (line ~ /^Types:/) bout=bout "Types: deb deb-src\n"
        else bout=bout line "\n"
      }
      if (ok) printf "%s\n", out
      if (ok && rel && bpo == "backports") printf "%s\n", bout
    }' "$f" > "$APT_DIR/$(basename "$f")"
  done
}

apt_state() {
  APT_DIR="$CACHE/qemu/apt"          # 7.2 (the path predates 10.0: existing caches stay valid)
  CODENAME=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
  if [ "$SUITE" = backports ]; then
    [ -n "$CODENAME" ] || die "no VERSION_CODENAME in /etc/os-release: cannot name the backports suite for QEMU $QEMU_VERSION"
    APT_DIR="$CACHE/qemu/apt-$QEMU_VERSION"
  fi
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
}

fetch_debian_source() {
  apt_state
  # The newest source version is remembered until the next list update (apt-cache takes ~0.3 s).
  SRC_VERSION=$(cat "$APT_DIR/lists/.version" 2>/dev/null || true)
  if [ -z "$SRC_VERSION" ]; then
    SRC_VERSION=$(apt-cache "${APT_OPTS[@]}" showsrc qemu 2>/dev/null | awk '/^Version:/{print $2}' |
                  grep -E "$VERSION_RE" | sort -V | tail -1 || true)
    [ -n "$SRC_VERSION" ] || die "no 'qemu' $QEMU_VERSION source package via the derived deb-src entries$(
      [ "$SUITE" = backports ] && echo " (suite $CODENAME-backports)")"
    echo "$SRC_VERSION" > "$APT_DIR/lists/.version"
  fi
}

extract_debian_source() {  # $1 = destination src dir
  local dl="$CACHE/qemu/dl/$SRC_VERSION" dsc orig sum
  mkdir -p "$dl"
  dsc=$(ls "$dl"/qemu_*.dsc 2>/dev/null | head -1 || true)
  orig=$(ls "$dl"/qemu_*.orig.tar.* 2>/dev/null | head -1 || true)
  if [ -z "$dsc" ]; then
    log "downloading Debian source package qemu $SRC_VERSION"
    (cd "$dl" && apt-get "${APT_OPTS[@]}" source --download-only -qq "qemu=$SRC_VERSION" >&2) ||
      log "apt-get source qemu=$SRC_VERSION did not fetch every file"
    dsc=$(ls "$dl"/qemu_*.dsc 2>/dev/null | head -1 || true)
    orig=$(ls "$dl"/qemu_*.orig.tar.* 2>/dev/null | head -1 || true)
  fi
  rm -rf "$1.tmp"
  if [ -n "$dsc" ]; then
    log "extracting with dpkg-source -x (applies Debian's patches)"
    dpkg-source --no-check -x "$dsc" "$1.tmp" >/dev/null || die "dpkg-source -x $dsc failed"
  elif [ -n "$orig" ]; then
    # apt checked the download against the Sources index; check again (a file left from an old run)
    sum=$(apt-cache "${APT_OPTS[@]}" showsrc qemu 2>/dev/null |
          awk -v f="$(basename "$orig")" '/^Checksums-Sha256:/{c=1; next} /^[^ ]/{c=0} c && $3 == f && !done {print $1; done=1}')
    [ -n "$sum" ] && [ "$(sha256sum < "$orig" | cut -d' ' -f1)" = "$sum" ] ||
      die "$orig does not match the sha256 in the archive's Sources index"
    log "the archive serves no .dsc for qemu $SRC_VERSION: extracting its orig tarball (upstream QEMU, without Debian's patches)"
    mkdir -p "$1.tmp"
    tar -xf "$orig" -C "$1.tmp" --strip-components=1 || die "tar -xf $orig failed"
  else
    die "apt-get source qemu=$SRC_VERSION fetched neither the .dsc nor the orig tarball"
  fi
  prepare_ds_tree "$1.tmp"
  mv "$1.tmp" "$1"
}

# Debian's repacked (+ds/+dfsg) tarballs drop prebuilt firmware, which Debian's own rules rebuild.
# QEMU 10's meson unpacks the edk2 images whenever bzip2 exists; skip that when they are absent
# (arm-softmmu on the MPS2 boards never uses them). A no-op on trees that have them, and on 7.2.
prepare_ds_tree() {
  local m="$1/meson.build"
  if [ ! -f "$1/pc-bios/edk2-arm-code.fd.bz2" ] && grep -q '^    unpack_edk2_blobs = bzip2.found()$' "$m"; then
    log "no edk2 firmware images in this source: not unpacking them (meson.build)"
    sed -i "s|^    unpack_edk2_blobs = bzip2.found()\$|    unpack_edk2_blobs = bzip2.found() and fs.exists('pc-bios/edk2-arm-code.fd.bz2')|" "$m"
  fi
}

# QEMU 10's configure wants meson >= 1.5 and pycotap (Debian 12: meson 1.0). Both are pure Python:
# the backports suite's .debs are unpacked into the cache and put on the build's Python path.
fetch_build_tools() {
  local pkg ver dir
  TOOLS_PY=""
  [ "$QEMU_VERSION" = 10.0 ] || return 0
  [ -n "${APT_OPTS:-}" ] || apt_state     # (QEMU_SRC: the backports suite serves the tools only)
  for pkg in meson python3-pycotap; do
    ver=$(apt-cache "${APT_OPTS[@]}" -o Dir::State::status=/dev/null madison "$pkg" 2>/dev/null |
          awk -F'|' '{gsub(/ /, "", $2); print $2}' | sort -V | tail -1)
    [ -n "$ver" ] || die "no $pkg in the derived apt entries (needed to build QEMU $QEMU_VERSION)"
    dir="$CACHE/qemu/tools/$pkg-${ver//[:~]/_}"
    if [ ! -d "$dir/usr" ]; then
      log "unpacking $pkg $ver (build tool for QEMU $QEMU_VERSION) into $dir"
      mkdir -p "$dir.dl"
      (cd "$dir.dl" && apt-get "${APT_OPTS[@]}" download -qq "$pkg=$ver" >&2) || die "apt-get download $pkg=$ver failed"
      rm -rf "$dir.tmp"; dpkg-deb -x "$dir.dl"/*.deb "$dir.tmp" || die "dpkg-deb -x $pkg failed"
      mv "$dir.tmp" "$dir"; rm -rf "$dir.dl"
    fi
    TOOLS_PY="${TOOLS_PY:+$TOOLS_PY:}$dir/usr/lib/python3/dist-packages"
  done
}

# ---- main -------------------------------------------------------------------------------------------
if [ -n "${QEMU_SRC:-}" ]; then
  SRC_VERSION="custom-$src_ver-$(realpath "$QEMU_SRC" | sha256sum | cut -c1-8)"
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

start=$(date +%s)
CLEAN=""
if [ ! -f "$BUILD/build.ninja" ]; then
  CLEAN=1
  log "configuring QEMU $QEMU_VERSION (arm-softmmu, minimal features)"
  mkdir -p "$BUILD"
  COMMON=(--target-list=arm-softmmu --without-default-features --disable-docs --disable-werror
          --enable-tcg --disable-tools --enable-fdt=system)
  if [ "$QEMU_VERSION" = 7.2 ]; then
    (cd "$BUILD" && "$SRC/configure" "${COMMON[@]}" --meson=/usr/bin/meson >"$KEY_DIR/configure.log" 2>&1) ||
      die "configure failed; see $KEY_DIR/configure.log"
  else
    fetch_build_tools
    (cd "$BUILD" && PYTHONPATH="$TOOLS_PY${PYTHONPATH:+:$PYTHONPATH}" "$SRC/configure" "${COMMON[@]}" \
        --python=/usr/bin/python3 --disable-download --disable-install-blobs >"$KEY_DIR/configure.log" 2>&1) ||
      die "configure failed; see $KEY_DIR/configure.log"
    # ninja re-runs meson when a meson.build changes: the build's venv must keep finding the tools
    for sp in "$BUILD"/pyvenv/lib/python3*/site-packages; do
      [ -z "$TOOLS_PY" ] || echo "$TOOLS_PY" | tr ':' '\n' > "$sp/dynperiph-build-tools.pth"
    done
  fi
fi

log "building QEMU $QEMU_VERSION qemu-system-arm in $BUILD (a clean build on 2 quiet cores: 7.2 ~4.5 min, 10.0 ~6 min estimated)"
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
secs=$(( $(date +%s) - start ))
# configure + build from scratch: kept for bench/upgrade/run (with the load it ran under)
[ -z "$CLEAN" ] || echo "$secs s, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" > "$KEY_DIR/clean-build.seconds"
log "built in $secs s"
echo "$BIN"
