#!/usr/bin/env bash
# Fetches the C sources of jitterentropy 3.4.1 (Stephan Mueller's Jitter RNG
# library) for the dev-only comparison bench in benches/jitterentropy/.
#
#   scripts/fetch-jitterentropy.sh      prints the directory of the sources
#
# Debian's own source package of the library, `jitterentropy-library`, is
# only in sid, at 3.6.3. Version 3.4.1 is inside `jitterentropy-rngd` 1.2.8
# ("use Jitter RNG library 3.4.1", its CHANGES.md), which carries the
# library's files verbatim (identical to upstream's tag v3.4.1): the two
# public headers at the top of its orig tarball and the library's src/ as
# lib/; there is no separate orig component tarball. Suites (the 2025-05
# lists): bookworm 1.2.8-1, trixie 1.2.8-3 (the same orig tarball), sid
# 1.3.2-1 (a newer library). This script takes bookworm's, then trixie's.
#
# The package is fetched with `apt-get source --download-only` under a
# throwaway apt configuration: its own sources list (one deb-src line naming
# the Debian mirror this machine's apt already uses), its own state, lists
# and cache under target/jitterentropy/apt; the system's apt state is not
# touched and nothing is installed. The orig tarball is unpacked with tar
# (no dpkg-source), checked against the SHA-256 in the signed Sources index,
# and the library is laid out as upstream has it:
#
#   target/jitterentropy/jitterentropy-library-3.4.1/
#     jitterentropy.h  jitterentropy-base-user.h  src/*.c src/*.h  COPYING*
#
# Idempotent: nothing is fetched when that directory is complete. Fails if
# the library's version (MAJVERSION.MINVERSION.PATCHLEVEL in
# jitterentropy-base.c) is not 3.4.1.
#
# Environment:
#   KQSEED_DEBIAN_MIRROR=URI   use this Debian mirror instead of the system's.
#   JENT_SUITES="a b"          suites to try, in order (default: bookworm trixie).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
want=3.4.1
out=$top/target/jitterentropy
lib=$out/jitterentropy-library-$want
apt_root=$out/apt
package=jitterentropy-rngd

log() { printf 'fetch-jitterentropy: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

if [ -f "$lib/.complete" ] && [ -f "$lib/jitterentropy.h" ] && [ -f "$lib/src/jitterentropy-base.c" ]; then
  log "jitterentropy $want sources already present ($(cat "$lib/.complete"))"
  echo "$lib"
  exit 0
fi

# shellcheck source=scripts/lib/debian-mirror.sh
. scripts/lib/debian-mirror.sh

for tool in apt-get apt-cache tar sha256sum; do
  command -v "$tool" >/dev/null || die "needs $tool (a Debian system with apt)"
done
mirror=$(debian_mirror || true)
[ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list (set KQSEED_DEBIAN_MIRROR)"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || die "missing $keyring (apt-get install debian-archive-keyring)"

# Fetch one suite's source package into $dl; prints the orig tarball's path.
fetch_suite() {
  local suite=$1 dl=$2
  rm -rf "$apt_root" "$dl"
  mkdir -p "$apt_root/state/lists/partial" "$apt_root/cache/archives/partial" "$dl"
  echo "deb-src [signed-by=$keyring] $mirror $suite main" >"$apt_root/sources.list"
  apt_opts=(
    -o "Dir::Etc::SourceList=$apt_root/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State=$apt_root/state"
    -o "Dir::State::Lists=$apt_root/state/lists"
    -o "Dir::State::status=/dev/null"
    -o "Dir::Cache=$apt_root/cache"
    -o "APT::Sandbox::User=root"
  )
  log "source lists of $suite from $mirror (private apt state under ${apt_root#"$top"/})"
  apt-get "${apt_opts[@]}" -q update >"$apt_root/update.log" 2>&1 ||
    { log "apt-get update failed:"; tail -5 "$apt_root/update.log" >&2; return 1; }
  local version
  version=$(apt-cache "${apt_opts[@]}" showsrc "$package" 2>/dev/null | awk '/^Version:/ { print $2; exit }')
  [ -n "$version" ] || { log "$suite has no source package $package"; return 1; }
  log "apt-get source --download-only $package=$version ($suite)"
  # The exit status is not trusted either way: the detached signature of the
  # orig tarball (.asc) is missing on some mirrors, which fails the command
  # after the tarball itself was fetched. The tarball is checked below.
  (cd "$dl" && apt-get "${apt_opts[@]}" -q source --download-only "$package=$version") >"$apt_root/source.log" 2>&1 || true
  local orig
  orig=$(find "$dl" -maxdepth 1 -name "${package}_*.orig.tar.*" ! -name '*.asc' | head -1)
  [ -n "$orig" ] || { log "no orig tarball was downloaded:"; tail -5 "$apt_root/source.log" >&2; return 1; }
  # Its SHA-256 as the Sources index (signed through InRelease) gives it.
  local name sum
  name=$(basename "$orig")
  sum=$(apt-cache "${apt_opts[@]}" showsrc "$package" 2>/dev/null |
    awk -v v="$version" -v f="$name" '/^Version:/ { ver = $2 } /^Checksums-Sha256:/ { s = 1; next }
      /^[^ ]/ { s = 0 } s && ver == v && $3 == f { print $1; exit }')
  [ -n "$sum" ] || { log "the Sources index names no SHA-256 for $name"; return 1; }
  [ "$(sha256sum "$orig" | cut -d' ' -f1)" = "$sum" ] || { log "$name does not match its SHA-256 $sum"; return 1; }
  echo "$suite $version $name $sum" >"$dl/origin"
  echo "$orig"
}

dl=$out/download
orig=
for suite in ${JENT_SUITES:-bookworm trixie}; do
  if orig=$(fetch_suite "$suite" "$dl"); then
    break
  fi
  orig=
done
[ -n "$orig" ] || die "could not fetch $package from any of: ${JENT_SUITES:-bookworm trixie}"

# Unpack every orig tarball (main and any component) and find the library.
unpacked=$out/unpacked
rm -rf "$unpacked"
mkdir -p "$unpacked"
for t in "$dl"/*.orig.tar.* "$dl"/*.orig-*.tar.*; do
  [ -f "$t" ] || continue
  case $t in *.asc) continue ;; esac
  tar -xf "$t" -C "$unpacked"
done
base_c=$(find "$unpacked" -name jitterentropy-base.c | head -1)
[ -n "$base_c" ] || die "no jitterentropy-base.c in $(basename "$orig")"
srcdir=$(dirname "$base_c")
# The public headers: beside the sources (upstream's layout) or one up
# (jitterentropy-rngd's lib/ layout).
hdrdir=
for d in "$srcdir/.." "$srcdir"; do
  if [ -f "$d/jitterentropy.h" ] && [ -f "$d/jitterentropy-base-user.h" ]; then
    hdrdir=$(cd "$d" && pwd)
    break
  fi
done
[ -n "$hdrdir" ] || die "no jitterentropy.h and jitterentropy-base-user.h near ${srcdir#"$top"/}"

ver() { awk -v k="$1" '$1 == "#define" && $2 == k { print $3; exit }' "$base_c"; }
found=$(ver MAJVERSION).$(ver MINVERSION).$(ver PATCHLEVEL)
[ "$found" = "$want" ] ||
  die "$(basename "$orig") carries jitterentropy $found, not $want (set JENT_SUITES to a suite whose $package bundles $want)"

rm -rf "$lib"
mkdir -p "$lib/src"
cp "$hdrdir/jitterentropy.h" "$hdrdir/jitterentropy-base-user.h" "$lib/"
cp "$srcdir"/jitterentropy-*.c "$srcdir"/jitterentropy-*.h "$lib/src/"
# The licence texts (BSD or GPLv2, at the user's choice) go along.
cp "$hdrdir"/COPYING* "$hdrdir"/LICENSE* "$lib/" 2>/dev/null || true
read -r suite version name sum <"$dl/origin"
echo "jitterentropy $found from Debian $suite $package $version ($name, sha256 $sum)" >"$lib/.complete"
log "$(cat "$lib/.complete")"
echo "$lib"
