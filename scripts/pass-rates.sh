#!/usr/bin/env bash
# How fast other shapes of the pass would fill a seed at the credits their
# own start-up decisions give: `kqseed report -n SAMPLES --json` for each
# configuration below, and its credited bits per second (the sample rate at
# the sources' start-up credits) and time per 320-credited-bit block.
#
#   scripts/pass-rates.sh [--clock TICK_NS] [SAMPLES]   (default 20000)
#
# A rate, not a claim: the credits come from the ceilings, which rest on the
# default's condition matrix, so a shape that credited more per second
# would need its own matrix before it could be the default. --clock
# TICK_NS runs every configuration on the simulated coarse clock of
# scripts/assess-conditions.sh (scripts/lib/coarse-clock.c, preloaded).
# Reports go to target/assessment/pass-rates/.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib/coarse-clock.sh
. scripts/lib/coarse-clock.sh
tick_ns=
samples=20000
while [ $# -gt 0 ]; do
  case $1 in
    --clock)
      [ $# -ge 2 ] || { echo "pass-rates: --clock needs a tick length in ns" >&2; exit 2; }
      tick_ns=$2
      shift 2
      ;;
    *)
      samples=$1
      shift
      ;;
  esac
done
[[ $samples =~ ^[1-9][0-9]*$ ]] || { echo "pass-rates: SAMPLES must be a positive count" >&2; exit 2; }
if [ -n "$tick_ns" ] && ! valid_tick_ns "$tick_ns"; then
  echo "pass-rates: --clock $tick_ns: expected a positive tick length in ns, e.g. 41.6667" >&2
  exit 2
fi
out=target/assessment/pass-rates
mkdir -p "$out"
# shellcheck source=scripts/lib/build.sh
. scripts/lib/build.sh
build_kqseed
preload=()
if [ -n "$tick_ns" ]; then
  shim=$PWD/$out/coarse-clock.so
  build_coarse_clock "$shim"
  preload=(env "LD_PRELOAD=$shim" "KQSEED_TICK_NS=$tick_ns")
fi

configs=(
  "default (5 us timer, 4 socket pairs, 4 files)|"
  "2 socket pairs, 2 files|--sockets 2 --files 2"
  "1 socket pair, 1 file|--sockets 1 --files 1"
  "8 socket pairs, 8 files|--sockets 8 --files 8"
  "4 socket pairs, no files|--files 0"
  "no socket pairs, 4 files|--sockets 0"
  "the timer alone (no socket pairs, no files)|--sockets 0 --files 0"
  "2 us timer|--timers-us 2"
  "10 us timer|--timers-us 10"
  "20 us timer|--timers-us 20"
  "timers 3 and 7 us|--timers-us 3,7"
  "the default's sources sampled per wakeup|--sampling per-wakeup"
)

echo "$(uname -srm), $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ), clock ${tick_ns:-native} ns ticks, -n $samples"
echo
echo "| configuration | samples/s | credit (bits/sample) | credited bits/s | ms per 320 bits | report |"
echo "|---|---|---|---|---|---|"
i=0
for entry in "${configs[@]}"; do
  name=${entry%%|*}
  read -r -a args <<<"${entry#*|}"
  json=$out/config-$i.json
  i=$((i + 1))
  rc=0
  "${preload[@]}" "$kqseed" report -n "$samples" --json "${args[@]}" >"$json" 2>"$json.err" || rc=$?
  if not_preloaded "$json.err"; then
    echo "pass-rates: the clock simulation was not preloaded ($json.err)" >&2
    exit 1
  fi
  python3 - "$json" "$name" "$rc" <<'PY'
import json, sys
path, name, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    d = json.load(open(path))
except ValueError:
    print(f"| {name} | (no report, exit {rc}) | | | | |")
    sys.exit(0)
rate, credit = d["samples_per_second"], d["startup_credit_bits_per_sample"]
# 320: the seeder's FULL_ENTROPY_CREDIT_BITS (SP 800-90C's 256 + 64), the
# credited bits behind each 32-byte block; the report does not carry it.
bits = d["credited_bits_per_second"]
block = f"{320e3 / bits:.2f}" if bits > 0 else "-"
# A warning (exit 3) means some credit was over half of what these few
# samples assessed: the rate is shown, but it is not one to rely on.
status = d.get("verdict", "?") if rc in (0, 3) else f"exit {rc}"
print(f"| {name} | {rate:,.0f} | {credit:.4f} | {bits:,.0f} | {block} | {status} |")
PY
done
