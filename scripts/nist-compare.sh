#!/usr/bin/env bash
# Runs NIST's own SP 800-90B tool next to `kqseed assess` on live data of
# this machine, and fails on any disagreement.
#
#   scripts/nist-compare.sh [SAMPLES]        (default 1,000,000)
#
# 1. `kqseed raw` collects SAMPLES symbols of the default configuration;
#    `ea_non_iid -o` and `kqseed assess --json` assess the same file. Every
#    estimate (literal and bitstring) must agree to 1e-9 relative, and the
#    credit must be at most half of NIST's assessed value.
# 2. `kqseed raw --restarts 1000 -n 1000` writes a restart file;
#    `ea_restart -o` and `kqseed assess --restart` test it with H_I = the
#    credit. X_max must be equal, X_cutoff within 1 (ea_restart simulates its
#    cutoff with a random seed, kqseed computes it exactly), every row and
#    column estimate equal to 1e-9, and both must pass.
# Both tools' wall time and peak memory come from the same runs
# (/usr/bin/time -v). Files go to target/nist-compare/. NIST's tool comes
# from scripts/nist-tool.sh.
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
cargo build --release --quiet --features cli --bin kqseed
kq=target/release/kqseed

# `measure NAME CMD...`: runs CMD under /usr/bin/time -v, stdout to
# $out/NAME.out, and records "NAME wall peak" for the summary.
: >"$out/costs.txt"
measure() {
  local name=$1 rc=0
  shift
  /usr/bin/time -v -o "$out/$name.time" "$@" >"$out/$name.out" 2>"$out/$name.err" || rc=$?
  awk -v n="$name" '/Elapsed \(wall clock\)/ { w = $NF } /Maximum resident set size/ { m = $NF }
    END { printf "%-28s %10s wall %8.0f MB peak\n", n, w, m / 1024 }' "$out/$name.time" >>"$out/costs.txt"
  return $rc
}

echo "== machine: $(uname -srm), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ); NIST's tool: $("$nist/ea_non_iid" --version 2>/dev/null | head -1)"
echo "== collecting $samples raw symbols of the default configuration"
"$kq" raw -n "$samples" -o "$out/live.bin" --verbose 2>&1 | tee "$out/raw.txt"
credit=$(sed -nE 's/.*credit ([0-9.]+) bits? per sample.*/\1/p' "$out/raw.txt")
[ -n "$credit" ] || { echo "== FAIL: no credit in kqseed raw's summary" >&2; exit 1; }

echo "== ea_non_iid and kqseed assess on the same file"
measure ea_non_iid "$nist/ea_non_iid" -q -o "$out/nist.json" "$out/live.bin" 8
measure kqseed-assess "$kq" assess "$out/live.bin" --bits 8 --json
cp "$out/kqseed-assess.out" "$out/kqseed.json"
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
print(f"== ok: the credit {credit} is at most half of NIST's assessed {assessed:.6f}")
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
if abs(cutoff - ours["xCutoff"]) > 1:
    sys.exit(f"== FAIL: X_cutoff: ea_restart {cutoff}, kqseed {ours['xCutoff']}")
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
