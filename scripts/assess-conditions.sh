#!/usr/bin/env bash
# The entropy claim's condition matrix: `kqseed report` with no
# configuration flags (exactly what KqSeeder::new() uses on this machine,
# after its start-up decisions) under each condition, and the seed example
# under the same condition.
#
#   scripts/assess-conditions.sh [--per-wakeup] [SAMPLES] [CONDITION...]
#       SAMPLES: per stream (default 1,000,000); conditions (default all):
#   quiet     the machine as it is
#   loaded    the collector and two busy loops pinned to CPU 0
#   clk24mhz  CLOCK_MONOTONIC_RAW read as a count of 41.667 ns ticks (a
#             24 MHz counter: Apple Silicon's mach_absolute_time)
#   clk19mhz  the same at 52.083 ns ticks (19.2 MHz: many ARM boards)
#   clk24mhz-loaded  the 24 MHz clock with the loaded condition's busy
#             loops (a busy Mac; not in the default four)
#   clk19mhz-loaded  the same on the 19.2 MHz clock (not in the default four)
#
# --per-wakeup runs the reports with `--sampling per-wakeup` instead (a
# whole pass per sample, `KernelPath::Pass`: a configuration a user can
# choose, whose ceilings rest on this script's runs and two recordings),
# without the seed example (which seeds with the default).
#
# The coarse clocks come from scripts/lib/coarse-clock.c, an LD_PRELOAD
# library built here. Each condition prints one Markdown row per noise
# source (its credit against half its own assessed figure) and the
# interleaved stream's; the script fails when any verdict is not "ok" (a
# credit above half its figure, or a refusal to start), the seed example
# fails, a condition gives no points for the ceiling check below, or that
# check cannot run. Reports go to target/assessment/conditions/.
set -euo pipefail
cd "$(dirname "$0")/.."
sampling=()
suffix=
if [ "${1:-}" = --per-wakeup ]; then
  sampling=(--sampling per-wakeup)
  suffix=-per-wakeup
  shift
fi
samples=${1:-1000000}
shift $(($# < 1 ? $# : 1))
conditions=("$@")
[ ${#conditions[@]} -gt 0 ] || conditions=(quiet loaded clk24mhz clk19mhz)
out=target/assessment/conditions
mkdir -p "$out"
# shellcheck source=scripts/lib/build.sh
. scripts/lib/build.sh
build_kqseed --example seed
seed=$target_dir/release/examples/seed
shim=$PWD/$out/coarse-clock.so
# shellcheck source=scripts/lib/coarse-clock.sh
. scripts/lib/coarse-clock.sh
. scripts/lib/busy-loops.sh
build_coarse_clock "$shim"

# The simulated clock's tick in ns under condition $1 (nothing: the real
# clock).
tick_ns_of() {
  case $1 in
    clk24mhz | clk24mhz-loaded) echo 41.6667 ;;
    clk19mhz | clk19mhz-loaded) echo 52.0833 ;;
  esac
}

# Runs "$@" under condition $1.
under() {
  local condition=$1
  shift
  case "$condition" in
    quiet) "$@" ;;
    loaded)
      start_busy_loops
      local rc=0
      taskset -c 0 "$@" || rc=$?
      stop_busy_loops
      return "$rc"
      ;;
    clk24mhz | clk19mhz) LD_PRELOAD=$shim KQSEED_TICK_NS=$(tick_ns_of "$condition") "$@" ;;
    clk24mhz-loaded | clk19mhz-loaded) under loaded env LD_PRELOAD="$shim" KQSEED_TICK_NS="$(tick_ns_of "$condition")" "$@" ;;
    *)
      echo "unknown condition $condition" >&2
      return 2
      ;;
  esac
}

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo "$(uname -srm), $(nproc) cores, ${cpu:-unknown CPU}, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ), $samples samples per stream"
echo
echo "| condition | source | samples | assessed | credit (mean) | start-up credit | highest credit / half the figure | samples/s |"
echo "|---|---|---|---|---|---|---|---|"
failed=()
for condition in "${conditions[@]}"; do
  json=$out/$condition$suffix.json
  rc=0
  under "$condition" "$kqseed" report -n "$samples" --json "${sampling[@]}" >"$json" \
    2>"$out/$condition$suffix.err" || rc=$?
  python3 - "$json" "$condition" "$rc" "$(tick_ns_of "$condition")" <<'PY' || failed+=("$condition: report")
import json, sys
path, condition, rc, tick = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
try:
    d = json.load(open(path))
except ValueError:
    print(f"| {condition} | (no report, exit {rc}) | | | | | | |")
    sys.exit(1)
# A library that failed to preload leaves the run on the real clock, and
# its points would join the evidence under the wrong clock: the clock the
# seeder measured must be the simulated one.
seen = d.get("clock", {}).get("effective_resolution_nanos", 0)
if tick and abs(seen / float(tick) - 1) > 0.02:
    print(f"| {condition} | (the seeder measured a {seen:.3f} ns clock, not the simulated {tick} ns one) | | | | | | |")
    sys.exit(1)
rate = d.get("samples_per_second", 0)
# The verdict judges the highest credit the samples got: the start-up
# decision (the online check only lowers it) or the mean, were it higher.
def row(name, n, h, credit, startup):
    ratio = 2 * max(credit, startup) / h if h else float("inf")
    print(f"| {condition} | {name} | {n} | {h:.3f} | {credit:.4f} | {startup:.4f} | {ratio:.2f} | {rate:.0f} |")
row("interleaved", d.get("interleaved_samples", 0), d.get("assessed_bits_per_sample", 0),
    d.get("credit_bits_per_sample", 0), d.get("startup_credit_bits_per_sample", 0))
for p in d.get("paths", []):
    row(p["path"], int(p["samples"]), p.get("assessed_bits_per_sample", 0),
        p["credit_bits_per_sample"], p["startup_credit_bits_per_sample"])
print(f"| {condition} | verdict | {d['verdict']} | {d.get('verdict_message', '')[:160]} | | | | |")
sys.exit(0 if rc == 0 and d["verdict"] == "ok" else 1)
PY
  if [ -z "$suffix" ]; then
    under "$condition" "$seed" >"$out/$condition.seed" 2>&1 ||
      failed+=("$condition: seed example ($(tail -1 "$out/$condition.seed"))")
  fi
done
echo

# The run's own points (path:median steps:figure:condition:machine, as scripts/
# data/ceiling-points.txt keeps them), and whether the committed table still
# rests on them: a run that comes in below the evidence at some band lowers
# that band's ceiling, and its points belong in the evidence. Only runs of
# 1,000,000 samples per stream count (the figures the ceilings rest on).
points=$out/points$suffix.txt
python3 - "$points" "$(date -u '+%H:%M UTC')" "$suffix" "${conditions[@]}" <<'PY' || failed+=("points: some condition gave no points")
import json, sys
path, when, suffix, conditions = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
missing = []
# The kind of machine, for --spread: the same steps assess differently on
# the AMD EPYC and Intel Xeon guests.
try:
    model = next(l for l in open("/proc/cpuinfo") if l.startswith("model name"))
except (OSError, StopIteration):
    model = ""
machine = "intel" if "Intel" in model else "amd" if "AMD" in model else "other"
with open(path, "w") as f:
    flag = " --per-wakeup" if suffix else ""
    print(f"# {when} (scripts/assess-conditions.sh{flag}, {model.split(':', 1)[-1].strip() or 'unknown CPU'}):"
          f" {', '.join(conditions)}.", file=f)
    for c in conditions:
        try:
            d = json.load(open(f"target/assessment/conditions/{c}{suffix}.json"))
        except (OSError, ValueError):
            missing.append(c)
            continue
        paths = [p for p in d.get("paths", [])
                 if p.get("median_steps") is not None and p.get("assessed_bits_per_sample") is not None]
        if not paths:
            missing.append(c)
        for p in paths:
            print(f"{p['path']}:{int(p['median_steps'])}:{p['assessed_bits_per_sample']:.3f}:{c}:{machine}",
                  file=f)
if missing:
    print(f"== no points from {', '.join(missing)}: the ceilings were not checked against them")
    sys.exit(1)
PY
if [ "$samples" -ge 1000000 ] && [ -f scripts/data/ceiling-grid.tsv ]; then
  mapfile -t new_points < <(grep -v '^#' "$points")
  rc=0
  if [ ${#new_points[@]} -eq 0 ]; then
    echo "== this run gave no points: the ceilings were not checked against it"
  else
    python3 scripts/ceiling-grid.py --from-grid scripts/data/ceiling-grid.tsv \
      --points scripts/data/ceiling-points.txt "${new_points[@]/#/--point=}" --check src/credit.rs \
      >"$out/ceilings.txt" 2>&1 || rc=$?
    case $rc in
      0) echo "== the ceilings in src/credit.rs still rest on the evidence with this run's ${#new_points[@]} points ($points)" ;;
      3)
        grep '^== the evidence puts' "$out/ceilings.txt" || true
        echo "== NOTICE: this run's points lower the ceilings listed above: append $points to scripts/data/ceiling-points.txt and lower those entries of src/credit.rs as listed (the whole table: $out/ceilings.txt)"
        ;;
      *)
        tail -3 "$out/ceilings.txt"
        failed+=("ceiling check: scripts/ceiling-grid.py failed (exit $rc, $out/ceilings.txt)")
        ;;
    esac
  fi
fi
if [ ${#failed[@]} -gt 0 ]; then
  printf '== FAIL: %s\n' "${failed[@]}" >&2
  exit 1
fi
if [ -n "$suffix" ]; then
  echo "== ok: every credit is at most half of its own assessed figure under ${conditions[*]}, sampled per wakeup"
else
  echo "== ok: every credit is at most half of its own assessed figure under ${conditions[*]}, and the seed example seeds"
fi
