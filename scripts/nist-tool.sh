#!/usr/bin/env bash
# Installs NIST's SP 800-90B entropy assessment tool (ea_non_iid, ea_restart)
# under target/nist-tool/, from the package registries only, and checks that
# it reproduces the reference results in crates/sp800-90b/tests/data/sp800-90b/.
#
#   scripts/nist-tool.sh            prints the directory of the wrappers
#
# Route: Debian trixie's sp800-90b-entropy-assessment 1.1.8-3 is NIST's tag
# v1.1.8, commit 68ed165, the one behind the reference files (it still
# prints "1.1.7"). Its binaries need trixie's libc, newer than bookworm's, so
# they are fetched with `apt-get download` under a throwaway apt
# configuration (its own sources list, naming the system's own Debian mirror
# with suite trixie, its own state and cache; the system's apt state is not
# touched), unpacked with `dpkg-deb -x`, and run through the unpacked
# loader: `ld-linux-x86-64.so.2 --library-path LIBS ea_non_iid ...`.
# Nothing here is cached that this script cannot rebuild: delete
# target/nist-tool/ and run it again.
#
# Fallback (outside CI; or NIST_TOOL_ROUTE=pypi): PyPI's sp800-90b 0.1.1 wraps NIST's
# 2020 code as a Python module; it is built in a virtual environment under
# target/nist-tool/venv (with Debian's libbz2-dev and libdivsufsort-dev),
# and scripts/nist/ea_non_iid_pypi.py gives it ea_non_iid's command line and
# JSON. That route has no ea_restart.
#
# Writes target/nist-tool/bin/ea_non_iid (and, on the Debian route,
# .../ea_restart), wrappers that take the tool's own arguments, and
# target/nist-tool/route (debian or pypi).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
dest=target/nist-tool
bin=$dest/bin
suite=trixie
packages=(
  sp800-90b-entropy-assessment
  libc6 libstdc++6 libgcc-s1 libjsoncpp26 libssl3t64 libbz2-1.0
  libdivsufsort3 libgomp1 zlib1g libzstd1 libgmp10 libmpfr6
)

log() { printf 'nist-tool: %s\n' "$*" >&2; }

if [ "$(uname -m)" != x86_64 ]; then
  log "this route unpacks amd64 packages; $(uname -m) is not supported"
  exit 1
fi

# Already installed and working: nothing to do.
# (A route asked for by NIST_TOOL_ROUTE must be the one installed.)
if [ -f "$dest/route" ] && [ "${NIST_TOOL_ROUTE:-$(cat "$dest/route")}" = "$(cat "$dest/route")" ] &&
  [ -x "$bin/ea_non_iid" ] && "$bin/ea_non_iid" --version >/dev/null 2>&1; then
  echo "$top/$bin"
  exit 0
fi

# shellcheck source=scripts/lib/debian-mirror.sh
. scripts/lib/debian-mirror.sh

# The main route: Debian trixie's binary package.
install_debian() {
  uri=$(debian_mirror || true)
  if [ -z "$uri" ]; then
    log "no Debian mirror found in /etc/apt/sources.list.d/*.sources or sources.list"
    return 1
  fi
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -f "$keyring" ] || { log "missing $keyring (apt-get install debian-archive-keyring)"; return 1; }
  for tool in apt-get dpkg-deb; do
    command -v "$tool" >/dev/null || { log "needs $tool (a Debian system)"; return 1; }
  done

  rm -rf "$dest"
  apt_root=$dest/apt
  root=$dest/root
  mkdir -p "$apt_root/state/lists/partial" "$apt_root/cache/archives/partial" "$apt_root/debs" "$root" "$bin"
  echo "deb [signed-by=$keyring] $uri $suite main" >"$apt_root/sources.list"
  apt_opts=(
    -o "Dir::Etc::SourceList=$top/$apt_root/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State=$top/$apt_root/state"
    -o "Dir::State::status=/dev/null"
    -o "Dir::Cache=$top/$apt_root/cache"
    -o "APT::Architecture=amd64"
    -o "APT::Get::List-Cleanup=false"
  )
  log "package lists of $suite from $uri (private apt state under $apt_root)"
  apt-get "${apt_opts[@]}" -q update >"$apt_root/update.log" 2>&1 ||
    { log "apt-get update failed:"; tail -5 "$apt_root/update.log" >&2; return 1; }
  log "downloading ${packages[*]}"
  (cd "$apt_root/debs" && apt-get "${apt_opts[@]}" -q download "${packages[@]}") >"$apt_root/download.log" 2>&1 ||
    { log "apt-get download failed:"; tail -5 "$apt_root/download.log" >&2; return 1; }
  for deb in "$apt_root"/debs/*.deb; do
    dpkg-deb -x "$deb" "$root" || return 1
  done
  version=$(dpkg-deb -f "$apt_root"/debs/sp800-90b-entropy-assessment_*.deb Version)

  # Trixie is merged-/usr: the loader and libraries are under usr/lib.
  loader=$(find "$root" -name 'ld-linux-x86-64.so.2' \( -type f -o -type l \) | head -1)
  libs=$top/$root/usr/lib/x86_64-linux-gnu
  [ -n "$loader" ] && [ -d "$libs" ] || { log "the unpacked libc has no loader or library directory"; return 1; }
  loader=$(cd "$(dirname "$loader")" && pwd)/$(basename "$loader")
  for tool in ea_non_iid ea_restart; do
    exe=$top/$root/usr/bin/$tool
    [ -x "$exe" ] || { log "the package has no $tool"; return 1; }
    cat >"$bin/$tool" <<EOF
#!/bin/sh
# NIST's $tool from Debian's sp800-90b-entropy-assessment $version,
# run through its own (trixie) loader and libraries; made by scripts/nist-tool.sh.
exec "$loader" --library-path "$libs" "$exe" "\$@"
EOF
    chmod +x "$bin/$tool"
  done
  echo debian >"$dest/route"
}

# The fallback: PyPI's sp800-90b in a virtual environment.
install_pypi() {
  rm -rf "$dest"
  mkdir -p "$bin"
  local missing=()
  dpkg -s libbz2-dev >/dev/null 2>&1 || missing+=(libbz2-dev)
  dpkg -s libdivsufsort-dev >/dev/null 2>&1 || missing+=(libdivsufsort-dev)
  dpkg -s python3-venv >/dev/null 2>&1 || missing+=(python3-venv)
  dpkg -s g++ >/dev/null 2>&1 || missing+=(g++)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (apt)"
    { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; } || return 1
  fi
  python3 -m venv "$dest/venv" || return 1
  log "building sp800-90b 0.1.1 from PyPI"
  "$dest/venv/bin/pip" install -q "sp800-90b==0.1.1" >"$dest/pip.log" 2>&1 ||
    { log "pip install failed:"; tail -5 "$dest/pip.log" >&2; return 1; }
  cat >"$bin/ea_non_iid" <<EOF
#!/bin/sh
# NIST's 2020 SP 800-90B code from PyPI's sp800-90b 0.1.1, with
# ea_non_iid's command line; made by scripts/nist-tool.sh.
exec "$top/$dest/venv/bin/python" "$top/scripts/nist/ea_non_iid_pypi.py" "\$@"
EOF
  chmod +x "$bin/ea_non_iid"
  version="0.1.1 (PyPI sp800-90b)"
  echo pypi >"$dest/route"
}

case "${NIST_TOOL_ROUTE:-debian}" in
  debian)
    if ! install_debian; then
      # The PyPI route has no ea_restart and enforces no speed or memory
      # floor (scripts/nist-compare.sh): in CI a silent fallback would pass
      # with those checks skipped, so there it takes NIST_TOOL_ROUTE=pypi.
      if [ "${CI:-}" = true ]; then
        log "the Debian route failed; in CI the PyPI route (fewer checks) must be asked for with NIST_TOOL_ROUTE=pypi"
        exit 1
      fi
      log "the Debian route failed; falling back to PyPI's sp800-90b"
      install_pypi || { log "the PyPI route failed too"; exit 1; }
    fi
    ;;
  pypi) install_pypi || { log "the PyPI route failed"; exit 1; } ;;
  *)
    log "NIST_TOOL_ROUTE must be debian or pypi"
    exit 1
    ;;
esac

# The tool must reproduce NIST's reference results (written by the same
# commit, built elsewhere: the last bit of a value may differ through libm).
ref=crates/sp800-90b/tests/data/sp800-90b
check=$dest/check
mkdir -p "$check"
worst=0
for case in uniform8:8 biased8:8 markov1:1; do
  name=${case%%:*}
  bits=${case#*:}
  "$bin/ea_non_iid" -q -o "$check/$name.json" "$ref/$name.bin" "$bits" >/dev/null
  worst=$(python3 - "$ref/$name.results.json" "$check/$name.json" "$worst" "$(cat "$dest/route")" <<'PY'
import json, sys
ref, got = (json.load(open(p)) for p in sys.argv[1:3])
worst = float(sys.argv[3])
# The PyPI module does not expose the MCV intermediates.
skip = ("mcvEstimateMode", "mcvEstimatePHat", "mcvEstimatePU") if sys.argv[4] == "pypi" else ()
def cases(doc):
    return {c["testCaseDesc"]: {k: v for k, v in c.items() if isinstance(v, float) and k not in skip}
            for c in doc["testCases"]}
a, b = cases(ref), cases(got)
if a.keys() != b.keys() or any(a[c].keys() != b[c].keys() for c in a):
    sys.exit(f"nist-tool: {sys.argv[2]} has other estimates than NIST's reference {sys.argv[1]}")
for c in a:
    for k, x in a[c].items():
        rel = abs(x - b[c][k]) / max(abs(x), 1e-300)
        if rel > 1e-12:
            sys.exit(f"nist-tool: {c} {k}: {b[c][k]!r}, NIST's reference has {x!r}")
        worst = max(worst, rel)
print(worst)
PY
)
done
log "$(cat "$dest/route") route, $version installed; reproduces the 3 reference results (largest relative difference $worst)"
echo "$top/$bin"
