#!/usr/bin/env bash
# Assesses jitterentropy 3.4.1's own raw noise samples with the ten SP 800-90B
# estimators, on the same clock as kqseed's figures, so that the peer's
# credit can be held to kqseed's rule (a credit of at most half the figure).
#
#   scripts/jitterentropy-raw.sh [--clock TICK_NS] [SAMPLES]   (default 1000000)
#
# 1. scripts/fetch-jitterentropy.sh (the C sources, once);
# 2. builds benches/jitterentropy's `raw` example (the library compiled as
#    the comparison bench compiles it, -O0, oversampling rate 3) and the
#    `kqseed` command;
# 3. records SAMPLES deltas (their low bytes) into target/jitterentropy-raw/
#    and prints `kqseed assess -b 8` on them, then the library's credit (1/3
#    bit for each delta its stuck test passes) per raw delta against half
#    that figure, and the time a delta took.
#
# --clock TICK_NS, as in scripts/jitterentropy-bench.sh: CLOCK_MONOTONIC_RAW
# read as a count of TICK_NS-ns ticks (scripts/lib/coarse-clock.c,
# preloaded), with the library built to read that clock (KQSEED_JENT_CLOCK=
# monotonic-raw, in the bench script's target directory for the coarse
# build). Without it the library reads its own x86 time stamp (rdtsc).
# The recording runs under the preload only after cargo has finished.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

die() {
  printf 'jitterentropy-raw: %s\n' "$*" >&2
  exit 1
}

# shellcheck source=scripts/lib/coarse-clock.sh
. scripts/lib/coarse-clock.sh
tick_ns=
samples=1000000
while [ $# -gt 0 ]; do
  case $1 in
    --clock)
      [ $# -ge 2 ] || die "--clock needs a tick length in ns (e.g. 41.6667)"
      tick_ns=$2
      shift 2
      ;;
    --clock=*)
      tick_ns=${1#--clock=}
      shift
      ;;
    -*) die "unknown option $1" ;;
    *)
      samples=$1
      shift
      ;;
  esac
done
[[ $samples =~ ^[1-9][0-9]*$ ]] || die "SAMPLES must be a positive count, not $samples"
if [ -n "$tick_ns" ] && ! valid_tick_ns "$tick_ns"; then
  die "--clock $tick_ns: expected a positive tick length in ns, e.g. 41.6667"
fi

bash scripts/fetch-jitterentropy.sh >/dev/null
# shellcheck source=scripts/lib/build.sh
. scripts/lib/build.sh
build_kqseed
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$top/target}
out=$CARGO_TARGET_DIR/jitterentropy-raw
mkdir -p "$out"
manifest=benches/jitterentropy/Cargo.toml
if [ -z "$tick_ns" ]; then
  cargo build --release --quiet --manifest-path "$manifest" --example raw
  exe=$CARGO_TARGET_DIR/release/examples/raw
  preload=()
  name=raw-native.bin
  clock="the library's own time stamp (rdtsc on x86)"
else
  export CARGO_TARGET_DIR=$CARGO_TARGET_DIR/jitterentropy-coarse
  KQSEED_JENT_CLOCK=monotonic-raw cargo build --release --quiet --manifest-path "$manifest" --example raw
  exe=$CARGO_TARGET_DIR/release/examples/raw
  shim=$out/coarse-clock.so
  build_coarse_clock "$shim"
  preload=(env "LD_PRELOAD=$shim" "KQSEED_TICK_NS=$tick_ns")
  name=raw-$tick_ns.bin
  clock="$(describe_tick_ns "$tick_ns"), coarse-clock.c preloaded"
fi
[ -x "$exe" ] || die "no executable $exe"

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
start=$(date +%s.%N)
"${preload[@]}" "$exe" "$samples" >"$out/$name" 2>"$out/$name.log" || {
  cat "$out/$name.log" >&2
  die "the recording failed"
}
end=$(date +%s.%N)
if not_preloaded "$out/$name.log"; then
  die "the clock simulation was not preloaded: the samples are not on the simulated clock"
fi
cat "$out/$name.log"
"$kqseed" assess -b 8 "$out/$name" | tee "$out/$name.assess"
figure=$(awk '/^Assessed min-entropy:/ { print $3 }' "$out/$name.assess")
[ -n "$figure" ] || die "no assessed figure in $out/$name.assess"
echo
echo "== summary ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $load_before before; clock: $clock)"
stuck=$(sed -n 's/.* \([0-9][0-9]*\) flagged stuck.*/\1/p' "$out/$name.log")
[ -n "$stuck" ] || die "no stuck count in $out/$name.log"
# The library counts only deltas its stuck test passes: 1/3 bit for each of
# those, so less per raw delta.
awk -v h="$figure" -v n="$samples" -v st="$stuck" -v s="$start" -v e="$end" 'BEGIN {
  credit = (1 - st / n) / 3
  printf "jitterentropy 3.4.1 raw deltas: %d, assessed %.3f bits a sample (8-bit symbols, all ten estimators)\n", n, h
  printf "%d (%.1f%%) flagged stuck, which it does not count; 1/3 bit for each other delta (oversampling rate 3)\n", st, 100 * st / n
  printf "its credit, %.4f bits a raw delta, is %.2f of half that figure\n", credit, credit / (h / 2)
  printf "%.2f us a delta (recording, wall clock)\n", (e - s) * 1e6 / n
}'
