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
cargo build --release --quiet --features cli --bin kqseed
kqseed=target/release/kqseed

# Symbols to collect so that the rarest path has SAMPLES of its own.
"$kqseed" raw -n 20000 --sampling per-path -o "$out/probe.bin" --path-labels "$out/probe.labels" "$@"
total=$(python3 - "$out/probe.labels" "$samples" <<'PY'
import collections, math, sys
labels = open(sys.argv[1], "rb").read()
counts = collections.Counter(labels)
rarest = min(c for c in counts.values() if c >= len(labels) // 100)
print(math.ceil(int(sys.argv[2]) * len(labels) / rarest * 1.03))
PY
)

assess() {
  "$kqseed" assess "$1" --bits 8 | awk '/^Assessed/ {print $3}'
}

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
  # One file per path, each cut to SAMPLES symbols; a path with fewer is
  # assessed on what it has and its count is shown.
  python3 - "$out" "$samples" <<'PY'
import itertools, sys
out, n = sys.argv[1], int(sys.argv[2])
names = ["wait", "timer-read", "socket-drain", "file-drain", "socket-poke", "file-touch", "pass"]
symbols = open(f"{out}/run.bin", "rb").read()
labels = open(f"{out}/run.labels", "rb").read()
assert len(symbols) == len(labels), (len(symbols), len(labels))
for index, name in enumerate(names):
    # One byte per sample, 1 where the sample is this path's.
    mine = labels.translate(bytes(int(b == index) for b in range(256)))
    data = bytes(itertools.compress(symbols, mine))
    with open(f"{out}/{name}.bin", "wb") as f:
        f.write(data[:n])
    with open(f"{out}/{name}.count", "w") as f:
        f.write(str(min(len(data), n)))
PY
  interleaved=$(assess "$out/interleaved.bin")
  row="| $run | $rate | $interleaved"
  figures=("$interleaved")
  for name in wait timer-read socket-drain file-drain socket-poke file-touch; do
    count=$(cat "$out/$name.count")
    if [ "$count" -lt 1000 ]; then
      row+=" | -"
      continue
    fi
    h=$(assess "$out/$name.bin")
    figures+=("$h")
    if [ "$count" -lt "$samples" ]; then
      row+=" | $h ($count)"
    else
      row+=" | $h"
    fi
  done
  lowest=$(printf '%s\n' "${figures[@]}" | sort -g | head -1)
  echo "$row | $lowest |"
  lowest_all=$(printf '%s\n' $lowest_all "$lowest" | sort -g | head -1)
done
echo
echo "lowest of all runs: $lowest_all bits per symbol; credit at most $(awk -v h="$lowest_all" 'BEGIN { printf "%.3f", h / 2 }') bits per sample"
