#!/usr/bin/env bash
# Runs the dev-only comparison of kqseed against jitterentropy 3.4.1
# (benches/jitterentropy/, issue 12) and prints a summary.
#
#   scripts/jitterentropy-bench.sh [criterion arguments]
#
# 1. scripts/fetch-jitterentropy.sh (fetches the C sources once);
# 2. cargo bench --manifest-path benches/jitterentropy/Cargo.toml, with
#    CARGO_TARGET_DIR defaulting to the repository's target/ (criterion
#    then writes to target/criterion/), its output kept in
#    target/jitterentropy-bench.log;
# 3. the criterion point estimates of the six compared functions (and of
#    jitterentropy's power-up test), from target/criterion/*/*/new/
#    estimates.json, and the medians of the bench's interleaved pass.
#
# The whole run takes about two minutes after the first build. Figures
# depend on what else the machine is doing: the load average is printed
# before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

bash scripts/fetch-jitterentropy.sh >/dev/null
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$top/target}
mkdir -p "$CARGO_TARGET_DIR"
log=$CARGO_TARGET_DIR/jitterentropy-bench.log
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
cargo bench --manifest-path benches/jitterentropy/Cargo.toml --bench compare -- "$@" 2>&1 | tee "$log"
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')

functions=(
  jitterentropy/cold_32_bytes
  jitterentropy_fips/cold_32_bytes
  kqseed/cold_32_bytes_with_drop
  jitterentropy/warm_32_bytes
  jitterentropy_fips/warm_32_bytes
  kqseed/warm_32_bytes
  jitterentropy/power_up_test
)
echo
echo "== summary ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $load_before before, $load_after after)"
grep '^jitterentropy [0-9]' "$log" || true
echo "criterion point estimates (slope, else mean) and 95% intervals:"
if command -v python3 >/dev/null; then
  python3 - "$CARGO_TARGET_DIR/criterion" "${functions[@]}" <<'PY'
import json, os, sys
root, names = sys.argv[1], sys.argv[2:]
for name in names:
    path = os.path.join(root, name, "new", "estimates.json")
    try:
        doc = json.load(open(path))
    except OSError:
        print(f"  {name:36} (not measured: no {path})")
        continue
    kind = "slope" if doc.get("slope") else "mean"
    e = doc[kind]
    ci = e["confidence_interval"]
    ms = lambda ns: ns / 1e6
    print(f"  {name:36} {ms(e['point_estimate']):8.3f} ms  [{ms(ci['lower_bound']):.3f} {ms(ci['upper_bound']):.3f}] ({kind})")
PY
elif command -v jq >/dev/null; then
  for name in "${functions[@]}"; do
    f=$CARGO_TARGET_DIR/criterion/$name/new/estimates.json
    if [ -f "$f" ]; then
      jq -r --arg n "$name" '(if .slope then .slope else .mean end) as $e |
        "  \($n)  \($e.point_estimate / 1e6) ms  [\($e.confidence_interval.lower_bound / 1e6) \($e.confidence_interval.upper_bound / 1e6)]"' "$f"
    else
      echo "  $name  (not measured)"
    fi
  done
else
  echo "  (neither python3 nor jq: see $CARGO_TARGET_DIR/criterion/*/*/new/estimates.json)"
fi
echo "interleaved pass (medians):"
grep '^interleaved ' "$log" | sed 's/^interleaved /  /' || echo "  (not run)"
