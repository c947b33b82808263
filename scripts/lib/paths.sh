# Sourced by assess-paths.sh and compare-configs.sh: collecting per-path
# runs of `kqseed raw` and splitting them into each kernel path's stream.
# Expects $kqseed (the built binary).

# The assessed min-entropy of FILE (all ten estimators, literal and
# bitstring).
assessed() {
  "$kqseed" assess "$1" --bits 8 | awk '/^Assessed/ {print $3}'
}

# How many symbols a run with RAW FLAGS (which choose per-path sampling)
# must collect so that its rarest path (among those with at least 1% of the
# samples) has SAMPLES of its own, from a labelled probe of 20,000 samples
# written under DIR.
#   paths_total DIR SAMPLES [RAW FLAGS...]
paths_total() {
  local dir=$1 samples=$2
  shift 2
  "$kqseed" raw -n 20000 -o "$dir/probe.bin" --path-labels "$dir/probe.labels" "$@"
  python3 - "$dir/probe.labels" "$samples" <<'PY'
import collections, math, sys
labels = open(sys.argv[1], "rb").read()
counts = collections.Counter(labels)
rarest = min(c for c in counts.values() if c >= len(labels) // 100)
print(math.ceil(int(sys.argv[2]) * len(labels) / rarest * 1.03))
PY
}

# Splits DIR/run.bin by the labels in DIR/run.labels (`kqseed raw
# --path-labels`) into DIR/path-NAME.bin, each cut to SAMPLES symbols, for
# every path with at least 1000; prints "NAME COUNT" for each, in the
# order of the labels.
#   split_paths DIR SAMPLES
split_paths() {
  rm -f "$1"/path-*.bin
  python3 - "$1" "$2" <<'PY'
import itertools, sys
out, n = sys.argv[1], int(sys.argv[2])
names = ["wait", "timer-read", "socket-drain", "file-drain", "socket-poke", "file-touch", "pass"]
symbols = open(f"{out}/run.bin", "rb").read()
labels = open(f"{out}/run.labels", "rb").read()
assert len(symbols) == len(labels), (len(symbols), len(labels))
for index, name in enumerate(names):
    # One byte per sample, 1 where the sample is this path's.
    mine = labels.translate(bytes(int(b == index) for b in range(256)))
    data = bytes(itertools.compress(symbols, mine))
    if len(data) >= 1000:
        with open(f"{out}/path-{name}.bin", "wb") as f:
            f.write(data[:n])
        print(name, min(len(data), n))
PY
}
