#!/usr/bin/env bash
# Runs the crate's tests against the kqueue backend on Linux, linked
# statically to libkqueue (kqueue emulated on epoll/timerfd/inotify).
#
# libkqueue 2.3.x is only in Debian's `experimental` suite. It is fetched with
# a throwaway apt configuration: its own sources list (the Debian mirror that
# this machine's apt sources already name, suite `experimental`), its own
# state, lists and cache under target/libkqueue/apt. The system's apt state is
# not touched, nothing is installed: `apt-get download` + `dpkg-deb -x`.
#
# Environment:
#   KQSEED_ALLOW_NO_LIBKQUEUE=1  exit 0 (after a loud warning) when the
#                                package cannot be fetched; default: exit 1.
#   KQSEED_DEBIAN_MIRROR=URI     use this Debian mirror instead of the one in
#                                the system's apt sources.
#   Extra arguments are passed to `cargo test`.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/target/libkqueue
APT=$OUT/apt
PKGS=(libkqueue-dev libkqueue0t64)

fail_fetch() {
    echo "" >&2
    echo "!!! ==================================================================" >&2
    echo "!!! test-libkqueue: $*" >&2
    echo "!!! The kqueue backend was NOT tested on Linux." >&2
    echo "!!! ==================================================================" >&2
    if [ "${KQSEED_ALLOW_NO_LIBKQUEUE:-0}" = 1 ]; then
        echo "!!! KQSEED_ALLOW_NO_LIBKQUEUE=1: exiting 0 anyway." >&2
        exit 0
    fi
    exit 1
}

# shellcheck source=scripts/lib/debian-mirror.sh
. scripts/lib/debian-mirror.sh

fetch_libkqueue() {
    command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
        fail_fetch "apt-get and dpkg-deb are needed (a Debian system)"
    if [ -z "${KQSEED_DEBIAN_MIRROR:-}" ] && ! grep -qi '^ID=debian' /etc/os-release 2>/dev/null; then
        fail_fetch "this is not Debian: its apt mirror has no Debian 'experimental' suite (set KQSEED_DEBIAN_MIRROR)"
    fi
    local mirror
    mirror=$(debian_mirror || true)
    [ -n "$mirror" ] || fail_fetch "no Debian mirror found in the system's apt sources"
    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -f "$keyring" ] || fail_fetch "$keyring is missing (package debian-archive-keyring)"

    rm -rf "$APT"
    mkdir -p "$APT/etc/sources.list.d" "$APT/etc/preferences.d" "$APT/etc/apt.conf.d" \
        "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/debs"
    : >"$APT/status"
    echo "deb [signed-by=$keyring] $mirror experimental main" >"$APT/etc/sources.list"
    local opts=(
        -o "Dir::Etc::SourceList=$APT/etc/sources.list"
        -o "Dir::Etc::SourceParts=$APT/etc/sources.list.d"
        -o "Dir::Etc::Preferences=$APT/etc/preferences"
        -o "Dir::Etc::PreferencesParts=$APT/etc/preferences.d"
        -o "Dir::State=$APT"
        -o "Dir::State::Lists=$APT/lists"
        -o "Dir::State::status=$APT/status"
        -o "Dir::Cache=$APT/cache"
        -o "Dir::Cache::pkgcache="
        -o "Dir::Cache::srcpkgcache="
        -o "Debug::NoLocking=1"
        -o "APT::Get::List-Cleanup=0"
        -o "Acquire::Languages=none"
        -o "APT::Sandbox::User=root"
    )
    echo "test-libkqueue: fetching ${PKGS[*]} from $mirror experimental (throwaway apt state in $APT)"
    apt-get "${opts[@]}" -q update ||
        fail_fetch "apt-get update of the experimental suite failed"
    (cd "$APT/debs" && apt-get "${opts[@]}" -q download "${PKGS[@]}") ||
        fail_fetch "apt-get download ${PKGS[*]} failed (gone from experimental?)"
    rm -rf "$OUT/root"
    mkdir -p "$OUT/root"
    local deb
    for deb in "$APT"/debs/*.deb; do
        echo "test-libkqueue: unpacking $(basename "$deb")"
        dpkg-deb -x "$deb" "$OUT/root"
    done
}

LIBA=$(find "$OUT/root" -name libkqueue.a -print -quit 2>/dev/null || true)
if [ -z "$LIBA" ]; then
    fetch_libkqueue
    LIBA=$(find "$OUT/root" -name libkqueue.a -print -quit)
    [ -n "$LIBA" ] || fail_fetch "the packages hold no libkqueue.a"
fi
HEADER=$(find "$OUT/root" -path '*kqueue/sys/event.h' -print -quit)
echo "test-libkqueue: using $LIBA"
[ -n "$HEADER" ] && echo "test-libkqueue: header $HEADER"

export RUSTFLAGS="${RUSTFLAGS:-} --cfg kqseed_libkqueue -L native=$(dirname "$LIBA")"
export RUSTDOCFLAGS="${RUSTDOCFLAGS:-} --cfg kqseed_libkqueue -L native=$(dirname "$LIBA")"
TARGET_DIR=$ROOT/target/libkqueue-build

# kqseed's unit, integration and doc tests (not the estimators' crate: it
# has no OS code, and `cargo test` in .ci/run runs its tests). They count
# /proc/self/fd and change process-wide state, so they run one at a time, as
# on the epoll backend. Extra arguments go to `cargo test`, e.g. a test name
# filter.
# A hang is a failure, not something to wait 90 minutes for; but the bounds
# are for running only: everything is built first, untimed, since on a
# loaded machine compiling the dev-dependencies alone took longer than the
# example's 120 s (2026-12-05). The tests' bound is wide: kqueue passes
# credit each short path at most 1/16 bit, so tests/seeder.rs (six tests)
# ran 625 s in a debug build when one of them took 10,000 seeds, and 67 s
# with the 1,000 it now takes on kqueue (2026-12-07, AMD EPYC guest,
# nothing else running); the whole run takes 3-4 minutes there, and 1200 s
# leaves a busier machine room while keeping .ci/run inside its budget.
TARGETS=(-p kqseed --lib --bins --tests --examples)
cargo test --target-dir "$TARGET_DIR" "${TARGETS[@]}" --no-run "$@"
timeout 1200 cargo test --target-dir "$TARGET_DIR" "${TARGETS[@]}" "$@" -- --test-threads=1
# rustdoc compiles each doc test as it runs it, and stable cargo cannot
# build them first, so the doc tests run unbounded: every seeding call in
# them has its own wait timeout (an event queue that stops bringing events
# is `Error::WaitTimedOut`, not a hang).
cargo test --target-dir "$TARGET_DIR" -p kqseed --doc "$@" -- --test-threads=1
# The collect example as a program (the tests above ran it as a test
# harness); a debug build reuses what the tests built.
cargo build --target-dir "$TARGET_DIR" --example collect
timeout 120 "$TARGET_DIR/debug/examples/collect" 20000
echo "test-libkqueue: all tests passed on the kqueue backend (libkqueue)"
