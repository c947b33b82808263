#!/usr/bin/env bash
# A study, not a check: what a whole pass is worth cut into segments of
# consecutive kernel paths, each segment one sample, on the simulated
# coarse clocks where start-up may take whole passes. The seeder credits
# whole passes and thirds (`StartupReport::thirds`), whose ceilings rest
# on this script's runs; the other cuts are leads.
#
#   scripts/assess-segments.sh [--schemes "SCHEME..."] [PASSES] [CONDITION...]
#
# PASSES (default 1,000,000) whole passes of the default, sampled per path
# (`kqseed raw --format u64le --path-labels`), are cut by
# scripts/split-passes.py into halves (8 + 7 kernel paths), the drains and
# the stimuli (6 + 9: the timer read, socket and inotify drains; the socket
# pokes, file touches and the wait), thirds (5 + 5 + 5) and fifths (3 x 5),
# and every segment's own stream and the
# interleaved one go through all ten estimators (`kqseed assess`).
# CONDITION is any of 24mhz, 24mhz-loaded, 19mhz, 19mhz-loaded (default:
# these four; loaded = two busy loops and the collector on CPU 0, as
# scripts/assess-conditions.sh), 16mhz and 12mhz (62.5 and 83.33 ns ticks:
# segments over fewer steps). Prints, per condition and scheme, each
# segment's median steps and figure, their sum a pass, the interleaved
# figure times the segments a pass, and the bits a pass xz finds the
# segments share (split-passes.py), against the whole pass's figure
# ("-" when whole is not assessed before the scheme). --schemes, first
# of the arguments, assesses only those of whole, halves,
# drains-stimuli, thirds and fifths; "whole thirds" is what the seeder
# can credit on a coarse clock, in about a third of the time. Each
# recording also goes through scripts/position-runs.py before it is
# deleted: the longest run of any position of a pass repeating its path
# and symbol, against the position repetition test's cutoffs
# (src/health/position.rs), printed after each condition's table.
# Files go to target/assessment/segments/.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib/coarse-clock.sh
. scripts/lib/coarse-clock.sh
. scripts/lib/busy-loops.sh
schemes=(whole halves drains-stimuli thirds fifths)
if [ "${1:-}" = --schemes ]; then
  read -r -a schemes <<<"${2:-}"
  [ ${#schemes[@]} -gt 0 ] || { echo "assess-segments: --schemes needs a list" >&2; exit 2; }
  for scheme in "${schemes[@]}"; do
    case $scheme in
      whole | halves | drains-stimuli | thirds | fifths) ;;
      *) echo "assess-segments: unknown scheme $scheme" >&2; exit 2 ;;
    esac
  done
  shift 2
fi
passes=${1:-1000000}
[[ $passes =~ ^[1-9][0-9]*$ ]] || { echo "assess-segments: PASSES must be a positive count" >&2; exit 2; }
shift || true
conditions=("$@")
[ ${#conditions[@]} -gt 0 ] || conditions=(24mhz 24mhz-loaded 19mhz 19mhz-loaded)
out=target/assessment/segments
mkdir -p "$out"
# shellcheck source=scripts/lib/build.sh
. scripts/lib/build.sh
build_kqseed
shim=$PWD/$out/coarse-clock.so
build_coarse_clock "$shim"

echo "$(uname -srm), $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ), $passes passes per condition"
for condition in "${conditions[@]}"; do
  case $condition in
    24mhz | 24mhz-loaded) tick=41.6667 ;;
    19mhz | 19mhz-loaded) tick=52.0833 ;;
    # Coarser still: segments over fewer steps than 24 and 19.2 MHz give
    # them on this guest (a faster machine's, or a window's of faster passes).
    16mhz) tick=62.5 ;;
    12mhz) tick=83.3333 ;;
    *) echo "assess-segments: unknown condition $condition" >&2; exit 2 ;;
  esac
  dir=$out/$condition
  mkdir -p "$dir"
  # The warm-up's samples and a margin for the run's first partial pass.
  # Room too for the passes of another shape split-passes.py may skip
  # (up to one in a thousand, a few dozen samples each).
  cmd=(env "LD_PRELOAD=$shim" "KQSEED_TICK_NS=$tick" "$kqseed" raw -n $((passes * 15 + passes / 1000 * 32 + 4096))
    --format u64le --path-labels "$dir/labels" -o "$dir/deltas" -v)
  if [[ $condition == *-loaded ]]; then
    cmd=(taskset -c 0 "${cmd[@]}")
    start_busy_loops
  fi
  rc=0
  "${cmd[@]}" 2>"$dir/raw.err" || rc=$?
  stop_busy_loops
  [ "$rc" -eq 0 ] || { cat "$dir/raw.err" >&2; exit 1; }
  if not_preloaded "$dir/raw.err"; then
    echo "assess-segments: $shim was not preloaded" >&2
    exit 1
  fi
  python3 scripts/split-passes.py "$dir/deltas" "$dir/labels" "$dir" "$passes" >"$dir/segments.txt"
  python3 scripts/position-runs.py "$dir/deltas" "$dir/labels" >"$dir/position-runs.txt" ||
    echo "position-runs.py failed on this recording" >>"$dir/position-runs.txt"
  rm -f "$dir/deltas" "$dir/labels"
  echo
  echo "$condition: $(describe_tick_ns "$tick")$([[ $condition == *-loaded ]] && echo ', two busy loops and the collector on CPU 0')"
  echo
  echo "| scheme | segments: kernel paths, median steps, assessed | sum a pass | interleaved x segments | shared (xz) | sum / whole |"
  echo "|---|---|---|---|---|---|"
  whole=
  for scheme in "${schemes[@]}"; do
    figures=() cells=() sum=0
    while read -r _ k first last median; do
      h=$("$kqseed" assess -b 8 "$dir/$scheme-$k.u8" | awk '/^Assessed/ {print $3}')
      figures+=("$h")
      cells+=("$((last - first + 1)), $median, $h")
      sum=$(awk -v a="$sum" -v b="$h" 'BEGIN { printf "%.3f", a + b }')
    done < <(awk -v s="$scheme" '$1 == s && $2 != "align"' "$dir/segments.txt")
    inter=$("$kqseed" assess -b 8 "$dir/$scheme-inter.u8" | awk '/^Assessed/ {print $3}')
    inter_pass=$(awk -v h="$inter" -v k="${#figures[@]}" 'BEGIN { printf "%.3f", h * k }')
    shared=$(awk -v s="$scheme" '$1 == s && $2 == "align" {print $3}' "$dir/segments.txt")
    [ "$scheme" != whole ] || whole=$sum
    ratio=-
    [ -z "$whole" ] || ratio=$(awk -v a="$sum" -v w="$whole" 'BEGIN { printf "%.2f", a / w }')
    cell=$(printf '%s; ' "${cells[@]}")
    echo "| $scheme | ${cell%; } | $sum | $inter_pass | ${shared:--} | $ratio |"
  done
  echo
  echo "$condition: $(tail -n 1 "$dir/position-runs.txt")"
done
