#!/usr/bin/env bash
# Type-checks the sp800-90b crate (crates/sp800-90b: the SP 800-90B
# estimators and cutoffs) and runs clippy with `-D warnings` for targets
# kqseed itself cannot build for: wasm32-unknown-unknown and Windows
# (x86_64-pc-windows-msvc). The crate promises no OS code; this is what
# catches a `std::os::unix` import or an OS-only API slipping in.
#
# Same route as scripts/check-targets.sh: Debian's rustc-web toolchain
# builds std from source (-Zbuild-std), and `cargo check` never links, so
# no foreign toolchain is needed. The library only: its dev-dependency
# criterion builds C through cc-rs, which refuses a GNU compiler for an
# MSVC target. (windows-gnu would need mingw's dlltool for std.)
#
# Cold: about 1.5 min per target on 2 cores (std from source); warm, a
# few seconds.
#
# Usage: scripts/check-estimators.sh [TARGET...]   (default: both)
# Exit status: non-zero if any target fails.
set -euo pipefail

cd "$(dirname "$0")/.."

TARGETS=(wasm32-unknown-unknown x86_64-pc-windows-msvc)
if [ $# -gt 0 ]; then
    TARGETS=("$@")
fi

# shellcheck source=scripts/lib/debian-rust.sh
. scripts/lib/debian-rust.sh
printf 'check-estimators: '
debian_rust

SCOPE=(-p sp800-90b --lib)
BUILD_STD=(-Zbuild-std=std,panic_abort)

failed=0
for t in "${TARGETS[@]}"; do
    dir=target/xc-$t
    echo "=== $t"
    start=$SECONDS
    status=ok
    if ! "$DEB_CARGO" check --locked "${BUILD_STD[@]}" --target "$t" --target-dir "$dir" "${SCOPE[@]}"; then
        status="FAILED (check)"
    elif ! "$DEB_CLIPPY" clippy --locked "${BUILD_STD[@]}" --target "$t" --target-dir "$dir" \
        "${SCOPE[@]}" -- -D warnings; then
        status="FAILED (clippy)"
    fi
    [ "$status" = ok ] || failed=$((failed + 1))
    echo "=== $t: $status ($((SECONDS - start))s)"
done
echo "check-estimators: ${#TARGETS[@]} targets, $failed failed"
[ "$failed" = 0 ]
