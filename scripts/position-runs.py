#!/usr/bin/env python3
"""The longest runs of passes in which one position of a pass repeated its
kernel path and symbol: what the position repetition test
(src/health/position.rs) counts, on a recording of the default collector.

    kqseed raw -n N --format u64le -o DATA --path-labels LABELS
    python3 scripts/position-runs.py DATA LABELS
    python3 scripts/position-runs.py --packed tests/data/recorded/NAME.samples

(--packed reads the replay tests' recordings: 5 bytes a sample, the delta
as u32 little-endian and the path's index.)

A position is a sample's place in its pass, counted from the sample after
a wait's return (from the first one on); the symbol is the delta's low byte, as the seeder's on a
clock whose effective resolution is one tick (the coarse-clock shim's).
Prints each position's longest run and share of its commonest symbol, and
the longest run of all, against the test's cutoffs at the default alphas
(481 passes intermittent, 961 permanent).
"""
import sys
from array import array


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    if sys.argv[1] == "--packed":
        packed = open(sys.argv[2], "rb").read()
        records = [packed[i : i + 5] for i in range(0, len(packed) - 4, 5)]
        deltas = [int.from_bytes(r[:4], "little") for r in records]
        labels = bytes(r[4] for r in records)
    else:
        deltas = array("Q")
        with open(sys.argv[1], "rb") as f:
            deltas.frombytes(f.read())
        labels = open(sys.argv[2], "rb").read()
    # A run stopped mid-write may leave one file a little longer.
    n = min(len(deltas), len(labels))
    deltas, labels = deltas[:n], labels[:n]
    last, run, longest, counts = {}, {}, {}, {}
    # As the test: positions count from the first wait's return.
    position = None
    for delta, path in zip(deltas, labels):
        if position is None:
            position = 0 if path == 0 else None
            continue
        mark = (path, delta & 0xFF)
        run[position] = run.get(position, 0) + 1 if last.get(position) == mark else 1
        last[position] = mark
        longest[position] = max(longest.get(position, 0), run[position])
        seen = counts.setdefault(position, {})
        seen[mark] = seen.get(mark, 0) + 1
        position = 0 if path == 0 else position + 1
    for p in sorted(longest):
        total = sum(counts[p].values())
        if total >= 1000:
            print(f"position {p:2}: longest run {longest[p]:4} passes, commonest symbol {max(counts[p].values()) / total:.3f} of {total}")
    counted = [longest[p] for p in longest if sum(counts[p].values()) >= 1000]
    if not counted:
        sys.exit("position-runs: no position has 1000 passes; record more")
    print(f"longest run of any position: {max(counted)} passes (cutoffs 481 and 961)")


main()
