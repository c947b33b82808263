#!/usr/bin/env bash
# Type-checks the crate (the library everywhere; tests and examples on three
# targets, see FULL_TARGETS) and runs clippy with `-D warnings` for every
# kqueue target: Apple (macOS on both arches, iOS),
# FreeBSD, NetBSD, OpenBSD and DragonFly. No such machine is needed: Debian's
# rustc-web toolchain builds std from source for each target
# (`-Zbuild-std`, allowed through RUSTC_BOOTSTRAP), and `cargo check` never
# links, so no foreign C toolchain or sysroot is needed either.
#
# The backends match only by convention (see src/sys/mod.rs): this is what
# catches a kevent field of the wrong type, a constant missing from one OS's
# libc, or a lint that only fires on one target.
#
# Each target gets its own target dir (target/xc-TARGET): cold, 1-2 min and
# ~300 MB per target on 2 cores (std alone is ~1 min); warm, under a second.
#
# Usage: scripts/check-targets.sh [TARGET...]   (default: all seven)
# Exit status: non-zero if any target fails.
set -euo pipefail

cd "$(dirname "$0")/.."

TARGETS=(
    aarch64-apple-darwin
    x86_64-apple-darwin
    aarch64-apple-ios
    x86_64-unknown-freebsd
    x86_64-unknown-netbsd
    x86_64-unknown-openbsd
    x86_64-unknown-dragonfly
)
if [ $# -gt 0 ]; then
    TARGETS=("$@")
fi

# shellcheck source=scripts/lib/debian-rust.sh
. scripts/lib/debian-rust.sh
printf 'check-targets: '
debian_rust

# The library with the features that hold target-specific code (async
# seeding on the queue fd, the getrandom backend, the rand_core compat):
# checked on every target, since all of kqseed's per-OS code is in it.
LIB_SCOPE=(-p kqseed --lib --features tokio,getrandom-custom,rand_core_0_6,rand_core_0_9)
# Its unit tests, the integration tests and the examples too (their
# dev-dependencies add ~45 s a target): these have no code of their own for
# any kqueue OS, only for Linux, so they are checked on one target of each
# family (Apple; FreeBSD; the BSDs whose timers count clock ticks) rather
# than on all seven. Benches and the command (feature cli) are left out:
# neither touches the backend.
FULL_SCOPE=("${LIB_SCOPE[@]}" --tests --examples)
FULL_TARGETS=" aarch64-apple-darwin x86_64-unknown-freebsd x86_64-unknown-netbsd "
BUILD_STD=(-Zbuild-std=std,panic_abort)

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

declare -a REPORT
failed=0
total_start=$(now)
for t in "${TARGETS[@]}"; do
    dir=target/xc-$t
    echo "=== $t"
    # criterion (a dev-dependency) builds a little C through cc-rs
    # (alloca). `cargo check` never links, so the object is never used: the
    # host's C compiler stands in for the target's, without target flags.
    tvar=${t//-/_}
    export "CC_$tvar=${HOST_CC:-cc}" "AR_$tvar=${HOST_AR:-ar}" CRATE_CC_NO_DEFAULTS=1
    if [[ $FULL_TARGETS == *" $t "* ]]; then
        SCOPE=("${FULL_SCOPE[@]}") scope=full
    else
        SCOPE=("${LIB_SCOPE[@]}") scope=lib
    fi
    start=$(now)
    status=ok
    if ! "$DEB_CARGO" check --locked "${BUILD_STD[@]}" --target "$t" --target-dir "$dir" \
        "${SCOPE[@]}"; then
        status="FAILED (check)"
    fi
    mid=$(now)
    if [ "$status" = ok ] && ! "$DEB_CLIPPY" clippy --locked "${BUILD_STD[@]}" --target "$t" \
        --target-dir "$dir" "${SCOPE[@]}" -- -D warnings; then
        status="FAILED (clippy)"
    fi
    end=$(now)
    [ "$status" = ok ] || failed=$((failed + 1))
    REPORT+=("$(printf '%-26s %-4s %-16s check %6ss  clippy %6ss  total %6ss' "$t" "$scope" "$status" \
        "$(elapsed "$start" "$mid")" "$(elapsed "$mid" "$end")" "$(elapsed "$start" "$end")")")
done

echo
echo "=== check-targets summary"
printf '%s\n' "${REPORT[@]}"
echo "all targets: $(elapsed "$total_start" "$(now)")s, $failed failed"
[ "$failed" = 0 ]
