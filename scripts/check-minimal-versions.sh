#!/usr/bin/env bash
# Builds both crates against the lowest versions their Cargo.toml files
# allow for each direct dependency (nightly cargo's
# `-Z direct-minimal-versions`), so that a lower bound that is too low
# (a `libc = "0.2"` while the code needs a newer libc) fails here and not
# in a user's build that resolves old versions.
#
# As cargo-minimal-versions does, dev-dependencies are left out first:
# they do not constrain users, and their own old versions would only test
# the test tools. Direct, not full, minimal versions: a full minimal
# resolution picks ancient transitive crates whose own bounds are wrong
# (rustix 0.36.4 does not build on today's compilers), which is not ours to
# fix. The check runs in a copy of the tree under target/, so Cargo.lock is
# untouched; it resolves against the registry's index (network).
#
# About half a minute cold, once the old versions are downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "check-minimal-versions: needs a nightly toolchain (rustup toolchain install nightly)" >&2
    exit 2
fi

copy=target/minimal-versions/tree
rm -rf "$copy"
mkdir -p "$copy"
# The working tree's files that git knows, as they are now.
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$copy"

python3 - "$copy" <<'PY'
import pathlib, re, sys

root = pathlib.Path(sys.argv[1])
for manifest in [root / "Cargo.toml", *root.glob("crates/*/Cargo.toml")]:
    text = manifest.read_text()
    # A [dev-dependencies] table runs to the next table header.
    stripped = re.sub(r"(?ms)^\[dev-dependencies\]\n.*?(?=^\[|\Z)", "", text)
    manifest.write_text(stripped)
PY

cd "$copy"
cargo +nightly update -Z direct-minimal-versions
echo "check-minimal-versions: direct dependencies at their lowest allowed versions:"
cargo +nightly tree --workspace --all-features -e normal --depth 1 --prefix none | sort -u
# The library and the command, every feature; warnings are the old
# dependencies' business here, errors are ours.
cargo +nightly check --workspace --all-features --lib --bins --target-dir ../target
echo "check-minimal-versions: ok"
