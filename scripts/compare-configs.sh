#!/usr/bin/env bash
# Compares collector configurations by rate and by SP 800-90B assessed
# min-entropy, the measurement behind the default configuration.
#
#   scripts/compare-configs.sh [SAMPLES]     (default 200,000 per configuration)
#
# Prints a Markdown table: samples per second, assessed min-entropy per 8-bit
# symbol (all ten estimators, literal and bitstring), and the credited bits
# per second at half the assessed figure.
set -euo pipefail
cd "$(dirname "$0")/.."
samples=${1:-200000}
out=target/assessment/configs
mkdir -p "$out"
cargo build --release --quiet --features cli --bin kqseed

configs=(
  "default: 5 us timer, 2 socket pairs, 2 files|--timers-us 5 --sockets 2 --files 2"
  "5 us timer alone|--timers-us 5 --sockets 0 --files 0"
  "10 us timer, 2 socket pairs, 2 files|--timers-us 10 --sockets 2 --files 2"
  "timers 20/26/34 us, 2 socket pairs, 2 files|--timers-us 20,26,34 --sockets 2 --files 2"
  "timers 20/26/34 us alone|--timers-us 20,26,34 --sockets 0 --files 0"
  "2 socket pairs alone (no timer)|--timers-us , --sockets 2 --files 0"
  "2 files alone (no timer)|--timers-us , --sockets 0 --files 2"
)

echo "$(uname -srm), $(nproc) cores, $(date -u +%Y-%m-%d), $samples samples each"
echo
echo "| configuration | samples/s | assessed bits/symbol | credited kbit/s at half |"
echo "|---|---|---|---|"
i=0
for entry in "${configs[@]}"; do
  name=${entry%%|*}
  args=${entry#*|}
  i=$((i + 1))
  # The summary line (with the rate) is on stderr; the samples go to the file.
  # shellcheck disable=SC2086 # the arguments are meant to split
  line=$(target/release/kqseed raw -n "$samples" -o "$out/$i.bin" --verbose $args 2>&1 >/dev/null)
  rate=$(sed -E 's/.*\(([0-9]+)\/s\).*/\1/' <<<"$line")
  assessed=$(target/release/kqseed assess "$out/$i.bin" --bits 8 | awk '/^Assessed/ {print $3}')
  kbits=$(awk -v r="$rate" -v h="$assessed" 'BEGIN { printf "%.0f", r * h / 2 / 1000 }')
  printf '| %s | %s | %.2f | %s |\n' "$name" "$rate" "$assessed" "$kbits"
done
