# Sourced, from the repository's top, by the scripts that run on the
# simulated coarse clock of scripts/lib/coarse-clock.c: assess-conditions.sh,
# jitterentropy-bench.sh, jitterentropy-raw.sh and pass-rates.sh.

# Succeeds when $1 is a positive tick length in ns, e.g. 41.6667
# (coarse-clock.c reads it with strtod and ignores 0, which would simulate
# nothing).
valid_tick_ns() {
  [[ $1 =~ ^[0-9]*\.?[0-9]+$ ]] && awk -v t="$1" 'BEGIN { exit !(t > 0) }'
}

# Builds the LD_PRELOAD library into the file $1.
build_coarse_clock() {
  cc -O2 -shared -fPIC -o "$1" scripts/lib/coarse-clock.c -ldl
}

# Succeeds when the log $1 shows that the library was not preloaded:
# ld.so only warns then, and the program runs on unsimulated.
not_preloaded() {
  grep -q 'cannot be preloaded' "$1"
}

# "CLOCK_MONOTONIC_RAW in $1-ns ticks (N MHz)", for summaries.
describe_tick_ns() {
  awk -v t="$1" 'BEGIN { printf "CLOCK_MONOTONIC_RAW in %s-ns ticks (%.3g MHz)", t, 1000 / t }'
}
