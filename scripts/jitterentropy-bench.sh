#!/usr/bin/env bash
# Runs the dev-only comparison of kqseed against jitterentropy 3.4.1
# (benches/jitterentropy/, issue 12) and prints a summary.
#
#   scripts/jitterentropy-bench.sh [--clock TICK_NS] [--] [criterion arguments]
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
# --clock TICK_NS (e.g. 41.6667, Apple Silicon's 24 MHz counter) runs both
# on a simulated coarse clock: CLOCK_MONOTONIC_RAW read as a count of
# TICK_NS-ns ticks (scripts/lib/coarse-clock.c, preloaded). kqseed reads
# that clock; jitterentropy is built with KQSEED_JENT_CLOCK=monotonic-raw
# so that it reads it too instead of rdtsc (see benches/jitterentropy/
# build.rs). That build goes to its own target directory,
# $CARGO_TARGET_DIR/jitterentropy-coarse (criterion's output and the log
# too), so the normal one is not rebuilt; the bench executable runs under
# LD_PRELOAD only after cargo has finished, so no compiler sees the clock.
#
# The whole run takes about two minutes after the first build. Figures
# depend on what else the machine is doing: the load average is printed
# before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

die() {
  printf 'jitterentropy-bench: %s\n' "$*" >&2
  exit 1
}

# shellcheck source=scripts/lib/coarse-clock.sh
. scripts/lib/coarse-clock.sh
tick_ns=
while [ $# -gt 0 ]; do
  case $1 in
    --clock)
      [ $# -ge 2 ] || die "--clock needs a tick length in ns (e.g. 41.6667)"
      tick_ns=$2
      shift 2
      ;;
    --clock=*)
      tick_ns=${1#--clock=}
      shift
      ;;
    --)
      shift
      break
      ;;
    *) break ;;
  esac
done
if [ -n "$tick_ns" ] && ! valid_tick_ns "$tick_ns"; then
  die "--clock $tick_ns: expected a positive tick length in ns, e.g. 41.6667"
fi

bash scripts/fetch-jitterentropy.sh >/dev/null
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$top/target}
manifest=benches/jitterentropy/Cargo.toml
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
if [ -z "$tick_ns" ]; then
  mkdir -p "$CARGO_TARGET_DIR"
  log=$CARGO_TARGET_DIR/jitterentropy-bench.log
  criterion=$CARGO_TARGET_DIR/criterion
  cargo bench --manifest-path "$manifest" --bench compare -- "$@" 2>&1 | tee "$log"
  clock=
else
  export CARGO_TARGET_DIR=$CARGO_TARGET_DIR/jitterentropy-coarse
  mkdir -p "$CARGO_TARGET_DIR"
  log=$CARGO_TARGET_DIR/jitterentropy-bench.log
  criterion=$CARGO_TARGET_DIR/criterion
  shim=$CARGO_TARGET_DIR/coarse-clock.so
  build_coarse_clock "$shim"
  # Human-readable build messages to the terminal, JSON to a file.
  KQSEED_JENT_CLOCK=monotonic-raw cargo bench --manifest-path "$manifest" --bench compare \
    --no-run --message-format=json-render-diagnostics >"$CARGO_TARGET_DIR/build.json"
  # The executable of the `compare` bench target (build scripts have one
  # too).
  if command -v python3 >/dev/null; then
    exe=$(python3 - "$CARGO_TARGET_DIR/build.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    msg = json.loads(line)
    if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "compare" \
            and "bench" in msg["target"]["kind"] and msg.get("executable"):
        print(msg["executable"])
PY
    )
  elif command -v jq >/dev/null; then
    exe=$(jq -r 'select(.reason == "compiler-artifact" and .target.name == "compare"
      and (.target.kind | index("bench")) and .executable) | .executable' "$CARGO_TARGET_DIR/build.json")
  else
    die "needs python3 or jq to find the bench executable in $CARGO_TARGET_DIR/build.json"
  fi
  [ -n "$exe" ] && [ -x "$exe" ] || die "no executable of the compare bench in $CARGO_TARGET_DIR/build.json"
  clock="; simulated clock: $(describe_tick_ns "$tick_ns"), coarse-clock.c preloaded"
  echo "== running $exe --bench $* under LD_PRELOAD=$shim KQSEED_TICK_NS=$tick_ns"
  # As cargo bench runs it: from the package's directory, with --bench.
  (cd benches/jitterentropy && CRITERION_HOME=$criterion LD_PRELOAD=$shim KQSEED_TICK_NS=$tick_ns \
    "$exe" --bench "$@") 2>&1 | tee "$log"
  if not_preloaded "$log"; then
    die "$shim was not preloaded: the figures above are not on the simulated clock"
  fi
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')

functions=(
  jitterentropy/cold_32_bytes
  jitterentropy_fips/cold_32_bytes
  kqseed/cold_32_bytes_with_drop
  kqseed_2_collectors/cold_32_bytes_with_drop
  jitterentropy/warm_32_bytes
  jitterentropy_fips/warm_32_bytes
  kqseed/warm_32_bytes
  kqseed_2_collectors/warm_32_bytes
  jitterentropy/power_up_test
)
echo
echo "== summary ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $load_before before, $load_after after$clock)"
grep '^jitterentropy [0-9]' "$log" || true
echo "criterion point estimates (slope, else mean) and 95% intervals:"
if command -v python3 >/dev/null; then
  python3 - "$criterion" "${functions[@]}" <<'PY'
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
    f=$criterion/$name/new/estimates.json
    if [ -f "$f" ]; then
      jq -r --arg n "$name" '(if .slope then .slope else .mean end) as $e |
        "  \($n)  \($e.point_estimate / 1e6) ms  [\($e.confidence_interval.lower_bound / 1e6) \($e.confidence_interval.upper_bound / 1e6)]"' "$f"
    else
      echo "  $name  (not measured)"
    fi
  done
else
  echo "  (neither python3 nor jq: see $criterion/*/*/new/estimates.json)"
fi
echo "interleaved pass (medians):"
grep '^interleaved ' "$log" | sed 's/^interleaved /  /' || echo "  (not run)"
