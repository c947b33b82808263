#!/usr/bin/env bash
# Assesses the entropy of the default configuration on this machine and
# checks the crate's credit against it.
#
#   scripts/assess-default.sh [SAMPLES]      (default 1,000,000)
#
# The default samples per kernel path, so the noise source is the
# interleaved stream of every path's deltas. This runs
# scripts/assess-paths.sh once: SAMPLES symbols of the interleaved stream
# and SAMPLES of each path's own stream, from the same run, each assessed by
# all ten SP 800-90B section 6.3 estimators (literal and bitstring, `kqseed
# assess`). It fails if the default credit per sample is more than half of
# the lowest of those figures. Files go to target/assessment/paths/.
set -euo pipefail
cd "$(dirname "$0")/.."
samples=${1:-1000000}

cargo build --release --quiet --features cli --bin kqseed --example seed

echo "== machine: $(uname -srm), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
report=$(bash scripts/assess-paths.sh "$samples" 1)
echo "$report"
lowest=$(awk '/^lowest of all runs:/ {print $5}' <<<"$report")
credit=$(target/release/examples/seed | awk '/^credit/ {print $2}')
echo "== lowest assessed min-entropy ${lowest} bits/symbol; credit ${credit} bits/sample"
if python3 -c 'import sys; sys.exit(0 if 2 * float(sys.argv[1]) <= float(sys.argv[2]) else 1)' "$credit" "$lowest"; then
  echo "== ok: the credit is at most half of the lowest assessed min-entropy"
else
  echo "== FAIL: the credit ${credit} is more than half of the lowest assessed ${lowest}" >&2
  exit 1
fi
