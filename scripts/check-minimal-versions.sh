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
# About half a minute cold for the host, once the old versions are
# downloaded, and 10 s a kqueue target once check-targets.sh built std.
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
# The per-OS code of the kqueue targets, against the same lowest versions
# (libc's BSD items came later than its Linux ones): the library on one
# target of each family, with Debian's rustc and build-std as
# scripts/check-targets.sh does (sharing its target dirs, so std is built
# once). Skipped where that toolchain is missing.
cd ../../..
# shellcheck source=scripts/lib/debian-rust.sh
. scripts/lib/debian-rust.sh
if debian_rust >/dev/null 2>&1; then
    for t in aarch64-apple-darwin x86_64-unknown-freebsd x86_64-unknown-netbsd x86_64-unknown-openbsd; do
        echo "check-minimal-versions: $t"
        "$DEB_CARGO" check -Zbuild-std=std,panic_abort --target "$t" \
            --manifest-path target/minimal-versions/tree/Cargo.toml \
            --target-dir "target/xc-$t" -p kqseed --lib \
            --features tokio,getrandom-custom,rand_core_0_6,rand_core_0_9
    done
else
    echo "check-minimal-versions: no Debian rustc (scripts/lib/debian-rust.sh): kqueue targets not checked"
fi
echo "check-minimal-versions: ok"
