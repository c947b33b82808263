#!/usr/bin/env bash
# Assesses per-path sampling: the interleaved stream the seeder credits, and
# each kernel path's own stream, taken from the same runs.
#
#   scripts/assess-paths.sh [SAMPLES] [RUNS] [RAW FLAGS...]
#                                   (defaults 1,000,000 and 5)
#
# Each run collects enough symbols with `--sampling per-path` for SAMPLES of
# the rarest path (a probe of 20,000 labelled samples gives its share), with
# their path labels, assesses the first SAMPLES of the interleaved
# stream, then splits the run by label and assesses each path's first
# SAMPLES symbols (all ten SP 800-90B estimators, literal and bitstring,
# `kqseed assess`). Extra flags go to `kqseed raw` (e.g. `--files 0`).
# Prints one Markdown row per run and the lowest figure of all; the credit
# per sample must be at most half of that lowest figure (README, "Choosing
# the default"). Files go to target/assessment/paths/.
set -euo pipefail
cd "$(dirname "$0")/.."
samples=${1:-1000000}
runs=${2:-5}
shift $(($# < 2 ? $# : 2))
out=target/assessment/paths
mkdir -p "$out"
# shellcheck source=scripts/lib/build.sh
. scripts/lib/build.sh
build_kqseed

# shellcheck source=scripts/lib/paths.sh
. scripts/lib/paths.sh
total=$(paths_total "$out" "$samples" --sampling per-path "$@")

echo "$(uname -srm), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), $samples symbols per stream, flags: ${*:-none}"
echo
echo "| run | samples/s | interleaved | wait | timer-read | socket-drain | file-drain | socket-poke | file-touch | lowest |"
echo "|---|---|---|---|---|---|---|---|---|---|"
lowest_all=
for run in $(seq 1 "$runs"); do
  line=$("$kqseed" raw -n "$total" --sampling per-path -o "$out/run.bin" \
    --path-labels "$out/run.labels" --verbose "$@" 2>&1 >/dev/null)
  rate=$(sed -E 's/.*\(([0-9]+)\/s\).*/\1/' <<<"$line")
  head -c "$samples" "$out/run.bin" >"$out/interleaved.bin"
  interleaved=$(assessed "$out/interleaved.bin")
  figures=("$interleaved")
  # Each path's stream, cut to SAMPLES; a path with fewer is assessed on
  # what it has, its count shown; one with under 1000 is left out ("-").
  declare -A own=()
  while read -r name count; do
    h=$(assessed "$out/path-$name.bin")
    figures+=("$h")
    if [ "$count" -lt "$samples" ]; then
      own[$name]="$h ($count)"
    else
      own[$name]=$h
    fi
  done < <(split_paths "$out" "$samples")
  row="| $run | $rate | $interleaved"
  for name in wait timer-read socket-drain file-drain socket-poke file-touch; do
    row+=" | ${own[$name]:--}"
  done
  unset own
  lowest=$(printf '%s\n' "${figures[@]}" | sort -g | head -1)
  echo "$row | $lowest |"
  lowest_all=$(printf '%s\n' $lowest_all "$lowest" | sort -g | head -1)
done
echo
echo "lowest of all runs: $lowest_all bits per symbol; credit at most $(awk -v h="$lowest_all" 'BEGIN { printf "%.3f", h / 2 }') bits per sample"
