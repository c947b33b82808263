#!/usr/bin/env bash
# Compares collector configurations by rate and by SP 800-90B assessed
# min-entropy: the measurement behind the default configuration (README,
# "Choosing the default").
#
#   scripts/compare-configs.sh [SAMPLES] [RUNS]
#                       (defaults 1,000,000 symbols per stream, 1 run)
#
# For each configuration and run: collects SAMPLES symbols (per-path
# configurations: enough for SAMPLES of every path, with path labels),
# assesses them with all ten estimators, literal and bitstring (`kqseed
# assess`), and for per-path sampling also each path's own stream. The
# credit per sample is half of the lowest figure over the runs (the
# interleaved stream's and, per path, every path's); credited kbit/s is
# samples/s x that credit. Then `examples/cold_path.rs` times a cold seed
# (new seeder, first 32 bytes, drop) and a warm 32-byte seed at that credit
# (averages of 20 rounds). Prints a Markdown table. Files go to
# target/assessment/configs/.
set -euo pipefail
cd "$(dirname "$0")/.."
samples=${1:-1000000}
runs=${2:-1}
out=target/assessment/configs
mkdir -p "$out"
# shellcheck source=scripts/lib/build.sh
. scripts/lib/build.sh
build_kqseed --example cold_path

configs=(
  "5 us timer, 4 socket pairs, 4 files, per path|--sampling per-path --timers-us 5 --sockets 4 --files 4"
  "5 us timer, 2 socket pairs, 2 files, per path|--sampling per-path --timers-us 5 --sockets 2 --files 2"
  "5 us timer, 4 socket pairs, 4 files, per wakeup|--sampling per-wakeup --timers-us 5 --sockets 4 --files 4"
  "5 us timer, 2 socket pairs, per path|--sampling per-path --timers-us 5 --sockets 2 --files 0"
  "5 us timer, 2 files, per path|--sampling per-path --timers-us 5 --sockets 0 --files 2"
  "5 us timer alone, per path|--sampling per-path --timers-us 5 --sockets 0 --files 0"
  "5 us timer alone, per wakeup|--sampling per-wakeup --timers-us 5 --sockets 0 --files 0"
  "timers 20/26/34 us, 4 socket pairs, 4 files, per path|--sampling per-path --timers-us 20,26,34 --sockets 4 --files 4"
  "2 socket pairs, no timer, per wakeup|--sampling per-wakeup --timers-us , --sockets 2 --files 0"
)

# shellcheck source=scripts/lib/paths.sh
. scripts/lib/paths.sh

lowest() { printf '%s\n' "$@" | sort -g | head -1; }

echo "$(uname -srm), $(nproc) cores, $(date -u +%Y-%m-%d), $samples symbols per stream, $runs run(s)"
echo
echo "| configuration | samples/s | assessed bits/symbol (interleaved) | lowest path | credit bits/sample | credited kbit/s | cold seed with drop | warm 32 bytes |"
echo "|---|---|---|---|---|---|---|---|"
for entry in "${configs[@]}"; do
  name=${entry%%|*}
  args=${entry#*|}
  rates=() interleaved=() paths=()
  for _ in $(seq 1 "$runs"); do
    per_path=false
    total=$samples
    labels=()
    if [[ $args == *per-path* ]]; then
      per_path=true
      # shellcheck disable=SC2086 # the arguments are meant to split
      total=$(paths_total "$out" "$samples" $args)
      labels=(--path-labels "$out/run.labels")
    fi
    # The summary line (with the rate) is on stderr; the samples go to the file.
    # shellcheck disable=SC2086 # the arguments are meant to split
    line=$("$kqseed" raw -n "$total" -o "$out/run.bin" "${labels[@]}" --verbose $args 2>&1 >/dev/null)
    rates+=("$(sed -E 's/.*\(([0-9]+)\/s\).*/\1/' <<<"$line")")
    head -c "$samples" "$out/run.bin" >"$out/interleaved.bin"
    interleaved+=("$(assessed "$out/interleaved.bin")")
    if $per_path; then
      while read -r path _; do
        paths+=("$(assessed "$out/path-$path.bin")")
      done < <(split_paths "$out" "$samples")
    fi
  done
  rate=$(lowest "${rates[@]}")
  low_interleaved=$(lowest "${interleaved[@]}")
  low=$low_interleaved
  low_path=-
  if [ ${#paths[@]} -gt 0 ]; then
    low_path=$(lowest "${paths[@]}")
    low=$(lowest "$low_interleaved" "$low_path")
  fi
  credit=$(awk -v h="$low" 'BEGIN { printf "%.2f", h / 2 }')
  kbits=$(awk -v r="$rate" -v c="$credit" 'BEGIN { printf "%.0f", r * c / 1000 }')
  # The raw flags, in cold_path's spelling (it takes the same ones).
  # shellcheck disable=SC2086 # the arguments are meant to split
  if times=$("$target_dir"/release/examples/cold_path --rounds 20 --credit "$credit" $args 2>&1); then
    cold="$(awk '/^cold key/ {print $5}' <<<"$times") ms"
    warm="$(awk '/^warm key/ {print $3}' <<<"$times") ms"
  else
    # The seeder refuses this source (its start-up checks, say): no seed.
    cold="refused: $(tail -1 <<<"$times" | tr '|' '/')" warm=-
  fi
  printf '| %s | %s | %.2f | %s | %s | %s | %s | %s |\n' "$name" "$rate" "$low_interleaved" \
    "$([ "$low_path" = - ] && echo - || printf '%.2f' "$low_path")" "$credit" "$kbits" "$cold" "$warm"
done
echo
echo "samples/s and assessed figures: the lowest over the runs; credit: half of the lowest figure."
