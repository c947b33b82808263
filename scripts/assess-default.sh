#!/usr/bin/env bash
# Assesses the entropy of the default configuration on this machine and
# checks the crate's credit against it.
#
#   scripts/assess-default.sh [SAMPLES]      (default 1,000,000)
#
# Collects SAMPLES raw symbols with the default collector configuration,
# runs all ten SP 800-90B section 6.3 estimators on them (literal and
# bitstring, `kqseed assess`), and fails if the default credit per sample is
# more than half of the assessed min-entropy. Files go to target/assessment/.
set -euo pipefail
cd "$(dirname "$0")/.."
samples=${1:-1000000}
out=target/assessment
mkdir -p "$out"

cargo build --release --quiet --features cli --bin kqseed --example seed

echo "== machine: $(uname -srm), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
target/release/kqseed raw -n "$samples" -o "$out/default.bin" --verbose
target/release/kqseed assess "$out/default.bin" --bits 8 --json >"$out/default.json"
target/release/kqseed assess "$out/default.bin" --bits 8 | tee "$out/default.txt"

credit=$(target/release/examples/seed | awk '/^credit/ {print $2}')
assessed=$(python3 -c '
import json, sys
doc = json.load(open(sys.argv[1]))
print([t for t in doc["testCases"] if t["testCaseDesc"] == "Overall"][0]["hAssessed"])
' "$out/default.json")
echo "== assessed min-entropy ${assessed} bits/symbol; credit ${credit} bits/sample"
if python3 -c 'import sys; sys.exit(0 if 2 * float(sys.argv[1]) <= float(sys.argv[2]) else 1)' "$credit" "$assessed"; then
  echo "== ok: the credit is at most half of the assessed min-entropy"
else
  echo "== FAIL: the credit ${credit} is more than half of the assessed ${assessed}" >&2
  exit 1
fi
