#!/usr/bin/env bash
# Runs NIST's own SP 800-90B tool next to `kqseed assess` on live data of
# this machine, and fails on any disagreement.
#
#   scripts/nist-compare.sh [SAMPLES]        (default 1,000,000)
#
# 1. `kqseed raw` collects SAMPLES symbols of the default configuration;
#    `ea_non_iid -o` and `kqseed assess --json` assess the same file. Every
#    estimate (literal and bitstring) must agree to 1e-9 relative, and the
#    credit must be at most half of NIST's assessed value. The credit is
#    the one `kqseed raw --verbose` prints: the start-up checks run on the
#    file's own start-up window, and each path's credit weighted by its
#    share of the samples, the warm-up's at 0 (what a seeder's start-up
#    would have credited them; the online check can only lower it).
# 2. `kqseed raw --restarts 1000 -n 1000` writes a restart file;
#    `ea_restart -o` and `kqseed assess --restart` test it with H_I = the
#    credit. X_max must be equal, X_cutoff within 0.5% (at least 1: ea_restart
#    simulates its cutoff with a random seed, kqseed computes it exactly)
#    with X_max on the same side of both, every row and
#    column estimate equal to 1e-9, and both must pass.
# 3. Speed and memory: step 1 runs both tools RUNS times (default 3,
#    NIST_COMPARE_RUNS), one after the other, under /usr/bin/time -v; the
#    summary gives each pair's wall-time ratio (ea_non_iid / kqseed) and
#    peak-memory ratio (kqseed / ea_non_iid), their medians, and the load
#    average. It fails if the median speed-up is under 4x or a memory ratio
#    over 1/3 (on the Debian route). Those floors hold on a loaded 2-core
#    machine, where kqseed's two threads may get one core; the target, 12x
#    and 1/3 on a quiet one, is printed, not enforced.
# Files go to target/nist-compare/. NIST's tool comes from
# scripts/nist-tool.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
samples=${1:-1000000}
out=target/nist-compare
mkdir -p "$out"

if [ ! -x /usr/bin/time ]; then
  echo "== installing GNU time (apt) for wall time and peak memory"
  apt-get update -q >/dev/null && apt-get install -y -q time >/dev/null
fi
nist=$(bash scripts/nist-tool.sh)
route=$(cat target/nist-tool/route)
# shellcheck source=scripts/lib/build.sh
. scripts/lib/build.sh
build_kqseed
kq=$kqseed

# `measure NAME CMD...`: runs CMD under /usr/bin/time -v, stdout to
# $out/NAME.out, and records "NAME wall peak" for the summary (and the
# seconds and kilobytes in costs.tsv).
: >"$out/costs.txt"
: >"$out/costs.tsv"
measure() {
  local name=$1 rc=0
  shift
  /usr/bin/time -v -o "$out/$name.time" "$@" >"$out/$name.out" 2>"$out/$name.err" || rc=$?
  awk -v n="$name" '/Elapsed \(wall clock\)/ { w = $NF } /Maximum resident set size/ { m = $NF }
    END { printf "%-28s %10s wall %8.0f MB peak\n", n, w, m / 1024 }' "$out/$name.time" >>"$out/costs.txt"
  # h:mm:ss or m:ss.ss to seconds.
  awk -v n="$name" '/Elapsed \(wall clock\)/ { k = split($NF, t, ":"); s = 0; for (i = 1; i <= k; i++) s = s * 60 + t[i] }
    /Maximum resident set size/ { m = $NF } END { printf "%s\t%.3f\t%d\n", n, s, m }' "$out/$name.time" >>"$out/costs.tsv"
  return $rc
}

echo "== machine: $(uname -srm), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ); NIST's tool: $("$nist/ea_non_iid" --version 2>/dev/null | head -1)"
echo "== collecting $samples raw symbols of the default configuration"
"$kq" raw -n "$samples" -o "$out/live.bin" --verbose 2>&1 | tee "$out/raw.txt"
credit=$(sed -nE 's/.*start-up credit ([0-9.]+) bits? per sample.*/\1/p' "$out/raw.txt")
[ -n "$credit" ] || { echo "== FAIL: no start-up credit in kqseed raw's summary" >&2; exit 1; }

runs=${NIST_COMPARE_RUNS:-3}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== ea_non_iid and kqseed assess on the same file, $runs times one after the other (load average $load_before)"
for run in $(seq 1 "$runs"); do
  measure "ea_non_iid.$run" "$nist/ea_non_iid" -q -o "$out/nist.json" "$out/live.bin" 8
  measure "kqseed-assess.$run" "$kq" assess "$out/live.bin" --bits 8 --json
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
cp "$out/kqseed-assess.1.out" "$out/kqseed.json"
python3 - "$out/nist.json" "$out/kqseed.json" "$credit" "$route" <<'PY'
import json, sys
nist, ours = (json.load(open(p)) for p in sys.argv[1:3])
credit = float(sys.argv[3])
# The PyPI fallback does not give the MCV intermediates: compare the rest.
skip = ("mcvEstimateMode", "mcvEstimatePHat", "mcvEstimatePU") if sys.argv[4] == "pypi" else ()
def values(doc):
    return {(c["testCaseDesc"], k): v for c in doc["testCases"] for k, v in c.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in skip}
a, b = values(nist), values(ours)
if a.keys() != b.keys():
    sys.exit(f"== FAIL: different estimates: NIST only {sorted(a.keys() - b.keys())}, kqseed only {sorted(b.keys() - a.keys())}")
worst, bad = 0.0, []
for key, x in a.items():
    rel = abs(x - b[key]) / max(abs(x), 1e-300)
    worst = max(worst, rel)
    if rel > 1e-9:
        bad.append(f"{key}: NIST {x!r}, kqseed {b[key]!r}")
if bad:
    sys.exit("== FAIL: estimates differ by more than 1e-9:\n  " + "\n  ".join(bad))
assessed = [c for c in nist["testCases"] if c["testCaseDesc"] == "Overall"][0]["hAssessed"]
print(f"== {len(a)} figures agree (largest relative difference {worst:.2e}); NIST assessed {assessed:.6f} bits/symbol")
if 2 * credit > assessed:
    sys.exit(f"== FAIL: the credit {credit} is more than half of NIST's assessed {assessed}")
print(f"== ok: the start-up credit {credit} is at most half of NIST's assessed {assessed:.6f}")
PY

# Speed-up and memory ratio, pair by pair (a pair ran back to back, so it
# saw about the same load).
python3 - "$out/costs.tsv" "$runs" "$route" "$load_before" "$load_after" "$(nproc)" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, wall, kb = line.split("\t")
    rows[name] = (float(wall), int(kb))
runs, route = int(sys.argv[2]), sys.argv[3]
speed, memory = [], []
print(f"== speed and memory, {runs} pair(s), {sys.argv[6]} cores, load average {sys.argv[4]} before, {sys.argv[5]} after:")
for run in range(1, runs + 1):
    (nw, nk), (kw, kk) = rows[f"ea_non_iid.{run}"], rows[f"kqseed-assess.{run}"]
    speed.append(nw / max(kw, 0.01))
    memory.append(kk / nk)
    print(f"   run {run}: ea_non_iid {nw:6.2f} s {nk / 1024:5.0f} MB, kqseed assess {kw:5.2f} s {kk / 1024:4.0f} MB:"
          f" {speed[-1]:5.1f}x faster, {memory[-1]:.2f} of the memory")
s, m = statistics.median(speed), max(memory)
print(f"== median {s:.1f}x faster (best {max(speed):.1f}x), at most {m:.2f} of ea_non_iid's peak memory;"
      f" target 12x and 1/3: {'met' if s >= 12 and m <= 1 / 3 else 'not met in this run'}")
# Floors that hold under load (kqseed's two threads sharing a busy 2-core
# machine still run 5x or more faster); the PyPI route's build of NIST's
# code has other costs, so there the figures are only printed.
if route == "debian":
    if s < 4:
        sys.exit(f"== FAIL: kqseed assess is only {s:.1f}x faster than ea_non_iid (floor 4x)")
    if m > 1 / 3:
        sys.exit(f"== FAIL: kqseed assess takes {m:.2f} of ea_non_iid's peak memory (ceiling 1/3)")
PY

if [ ! -x "$nist/ea_restart" ]; then
  echo "== no ea_restart on the $route route: the restart comparison is skipped"
  echo "== cost of each run (same runs as above; the machine is shared, so under load)"
  cat "$out/costs.txt"
  exit 0
fi
echo "== restart test: 1000 restarts of 1000 samples, H_I = the credit $credit"
"$kq" raw --restarts 1000 -n 1000 -o "$out/restart.bin" --verbose
measure ea_restart "$nist/ea_restart" -v -o "$out/nist-restart.json" "$out/restart.bin" 8 "$credit" ||
  { echo "== FAIL: ea_restart rejected the restart file:"; tail -5 "$out/ea_restart.out"; exit 1; }
measure kqseed-assess-restart "$kq" assess --restart "$out/restart.bin" --h-initial "$credit" --bits 8 --json ||
  { echo "== FAIL: kqseed assess --restart rejected the restart file:"; cat "$out/kqseed-assess-restart.err"; exit 1; }
cp "$out/kqseed-assess-restart.out" "$out/kqseed-restart.json"
python3 - "$out/ea_restart.out" "$out/nist-restart.json" "$out/kqseed-restart.json" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
nist, ours = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
cutoff = int(re.search(r"X_cutoff: (\d+)", text).group(1))
x_max = int(re.search(r"X_max: (\d+)", text).group(1))
if x_max != ours["xMax"]:
    sys.exit(f"== FAIL: X_max: ea_restart {x_max}, kqseed {ours['xMax']}")
# ea_restart's cutoff is a Monte-Carlo quantile at alpha of about 5e-6 from
# 5,000,000 simulated rows, about 25 of them past it: at a low H_I, where
# the largest count is in the hundreds, it moves by a few counts between
# runs (785 against kqseed's exact 787 at H_I 0.475). Half a per cent of the
# cutoff allows that; X_max must fall on the same side of both.
tolerance = max(1, round(0.005 * cutoff))
if abs(cutoff - ours["xCutoff"]) > tolerance:
    sys.exit(f"== FAIL: X_cutoff: ea_restart {cutoff}, kqseed {ours['xCutoff']} (tolerance {tolerance})")
if (x_max > cutoff) != (x_max > ours["xCutoff"]):
    sys.exit(f"== FAIL: X_max {x_max} passes one cutoff and fails the other ({cutoff}, {ours['xCutoff']})")
if nist["errorLevel"] != 0 or ours["errorLevel"] != 0:
    sys.exit(f"== FAIL: errorLevel: ea_restart {nist['errorLevel']}, kqseed {ours['errorLevel']}")
def values(doc):
    return {(c["testCaseDesc"], k): v for c in doc["testCases"] for k, v in c.items() if k in ("h_r", "h_c", "h_i")}
a, b = values(nist), values(ours)
if a.keys() != b.keys():
    sys.exit(f"== FAIL: different restart figures: NIST only {sorted(a.keys() - b.keys())}, kqseed only {sorted(b.keys() - a.keys())}")
worst = 0.0
for key, x in a.items():
    rel = abs(x - b[key]) / max(abs(x), 1e-300)
    worst = max(worst, rel)
    if rel > 1e-9:
        sys.exit(f"== FAIL: {key}: ea_restart {x!r}, kqseed {b[key]!r}")
overall = [c for c in nist["testCases"] if c["testCaseDesc"] == "Overall"][0]
print(f"== ok: X_max {x_max} against X_cutoff {cutoff} (kqseed {ours['xCutoff']}); {len(a)} row/column figures agree "
      f"(largest relative difference {worst:.2e}); H_r {overall['h_r']:.6f}, H_c {overall['h_c']:.6f}, H_I {overall['h_i']}")
PY

echo "== cost of each run (same runs as above; the machine is shared, so under load)"
cat "$out/costs.txt"
