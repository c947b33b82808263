#!/usr/bin/env bash
# Collectors that run at the same time, as SeederConfig::collectors runs
# them and adds their credits: examples/collectors.rs under five
# conditions, the native clock quiet and with a busy loop pinned to each
# CPU (loaded), the simulated 24 MHz clock quiet and loaded, and the
# simulated 19.2 MHz clock (on the coarse clocks start-up takes passes or
# their thirds).
#
#   scripts/assess-collectors.sh [--collectors N] [SAMPLES]
#       N collectors (default 2), SAMPLES per-path samples each (default
#       16,000,000: a million passes and thirds of the default's fifteen
#       kernel paths; each unit's streams are assessed on at most the
#       claim's 1,000,000 samples)
#
# Each run starts N collectors together, each its own queue on its own
# thread, and for each unit the seeder credits (the per-path stream, whole
# passes, each third of a pass) assesses every collector's own stream and
# the streams merged by time. The verdict is the entropy claim's rule on
# the merged stream: the most the seeder credits a sample of the unit (its
# ceiling at the highest median steps of any start-up-sized window of any
# collector) must be at most half the judged figure: the merged figure, or
# the lowest own one where lower, less what the swap control says pairing
# in time gave the estimators (for the per-path stream, whole passes and
# each third; each kernel path's own samples are judged on the lower of
# merged and own, as one collector's paths are judged on their own figures
# while the interleaved stream carries their dependence). So the summed
# credits stay at most half of what the estimators assess on all they
# collected together. The swap control merges the same samples with the
# collectors' windows paired in time and paired a quarter of the run
# apart ("aligned - misaligned" below zero means samples of the same moment
# predicted each other). Reported, not judged: the correlation of
# time-aligned pass sums, with a shifted control. A run fails outright when
# the collectors
# overlapped over less than 90% of it or outnumber the CPUs.
#
# Writes each run's JSON (and its stderr) to target/assessment/collectors/,
# prints a summary, and exits non-zero when any verdict fails, a run fails,
# or a simulated clock was not the one the collectors measured. About four
# minutes on a 2-vCPU guest with the example built (38 s a quiet
# condition, longer loaded; up to 1.7 GB of memory; a cold build adds about
# 2 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
collectors=2
if [ "${1:-}" = --collectors ]; then
  collectors=${2:?--collectors needs a value}
  shift 2
fi
samples=${1:-16000000}
out=target/assessment/collectors
mkdir -p "$out"
# As scripts/lib/build.sh finds the command: wherever CARGO_TARGET_DIR points.
cargo build --release --quiet --example collectors
target_dir=${CARGO_TARGET_DIR:-target}
[[ $target_dir == /* ]] || target_dir=$PWD/$target_dir
example=$target_dir/release/examples/collectors
shim=$PWD/$out/coarse-clock.so
# shellcheck source=scripts/lib/coarse-clock.sh
. scripts/lib/coarse-clock.sh
build_coarse_clock "$shim"

# shellcheck source=scripts/lib/busy-loops.sh
. scripts/lib/busy-loops.sh

# The simulated clock's tick in ns for condition $1 (nothing: the real
# clock), as scripts/assess-conditions.sh simulates them.
tick_ns_of() {
  case $1 in
    clk24mhz | clk24mhz-loaded) echo 41.6667 ;;
    clk19mhz) echo 52.0833 ;;
  esac
}

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo "$(uname -srm), $(nproc) cores, ${cpu:-unknown CPU}, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%M:%SZ), $collectors collectors, $samples per-path samples each"
echo
echo "| condition | unit | samples | own | merged | merged - lowest own | judged | ceiling (of half judged) | verdict | swap control: aligned - misaligned |"
echo "|---|---|---|---|---|---|---|---|---|---|"
failed=()
# The correlation lines, printed after the table.
: >"$out/correlations.txt"
for clock in native loaded clk24mhz clk24mhz-loaded clk19mhz; do
  tick=$(tick_ns_of "$clock")
  json=$out/$clock.json
  cmd=("$example" --collectors "$collectors" -n "$samples" --json "$json")
  [ -z "$tick" ] || cmd=(env "LD_PRELOAD=$shim" "KQSEED_TICK_NS=$tick" "${cmd[@]}")
  rm -f "$json"
  rc=0
  case $clock in
    *loaded) start_busy_loop_per_cpu ;;
  esac
  "${cmd[@]}" >"$out/$clock.log" 2>"$out/$clock.err" || rc=$?
  stop_busy_loops
  if [ -n "$tick" ] && not_preloaded "$out/$clock.err"; then
    failed+=("$clock: the clock simulation was not preloaded")
    continue
  fi
  verdict=0
  python3 - "$json" "$clock" "$rc" "$tick" "$out/correlations.txt" <<'PY' || verdict=$?
import json, sys
path, clock, rc, tick, notes = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
try:
    d = json.load(open(path))
except (OSError, ValueError):
    print(f"| {clock} | (no figures, exit {rc}) | | | | | | | | |")
    sys.exit(1)
# A library that failed to preload leaves the run on the real clock: the
# clock the collectors measured must be the simulated one.
seen = d.get("effective_resolution_nanos") or 0
if tick and abs(seen / float(tick) - 1) > 0.02:
    print(f"| {clock} | (the collectors measured a {seen:.3f} ns clock, not the simulated {tick} ns one) | | | | | | | | |")
    sys.exit(1)
for u in d["units"]:
    own = " ".join(f"{f:.3f}" for f in u["own"])
    c = u["swap_control"]
    swap = "" if c is None else (f"{c['aligned_minus_misaligned']:+.3f} ({u['merged']:.3f} {c['aligned_later']:.3f} "
                                 f"against {c['misaligned'][0]:.3f} {c['misaligned'][1]:.3f})")
    print(f"| {clock} | {u['unit']} | {u['samples']} | {own} | {u['merged']:.3f} | {u['merged'] - u['lowest_own']:+.3f} "
          f"| {u['judged']:.3f} | {u['ceiling_bits_per_sample']:.4f} ({u['ceiling_bits_per_sample'] / (u['judged'] / 2):.2f}) "
          f"| {u['verdict']} | {swap} |")
for c in d["pass_correlation"]:
    a, b = c["collectors"]
    print(f"correlation: {clock}, passes {a}~{b}: Pearson {c['pearson']:.4f} ({c['standard_errors']:.1f} standard errors, {c['pairs']} pairs), "
          f"shifted {c['shift_passes']} passes {c['shifted_pearson']:.4f}; Spearman {c['spearman']:.3f}, shifted {c['shifted_spearman']:.3f}, "
          f"of differences {c['differences_spearman']:.3f}; Gaussian mutual information (an approximation, not a min-entropy bound) "
          f"{c['gaussian_mutual_information_bits_per_pass']:.5f} bits a pass", file=open(notes, "a"))
sys.exit(0 if rc == 0 and d["verdict"] == "ok" else 3 if rc == 3 else 1)
PY
  case $verdict in
    0) ;;
    3) failed+=("$clock: a unit's ceiling over half its judged figure ($json)") ;;
    *) failed+=("$clock: exit $rc ($(tail -1 "$out/$clock.err" 2>/dev/null))") ;;
  esac
done
echo
# Reported, not judged: the verdict is the table's.
cat "$out/correlations.txt"
if [ ${#failed[@]} -gt 0 ]; then
  printf '== FAIL: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "== ok: under every condition each unit's ceiling is at most half its judged figure ($collectors collectors)"
