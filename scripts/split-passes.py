#!/usr/bin/env python3
"""Splits a per-path raw run into segments of its passes, for
scripts/assess-segments.sh.

    split-passes.py DELTAS LABELS OUT_DIR PASSES

DELTAS is `kqseed raw --format u64le` output (deltas in clock ticks), LABELS
its `--path-labels` file, from the default's shape (one pass: timer read,
four socket drains, file drain, four socket pokes, four file touches,
wait; a pass of another shape, which the seeder would sum and credit
as usual, is skipped and counted on stderr, up to one in a thousand).
Each scheme cuts every pass into consecutive segments of kernel
paths and sums each segment's ticks: one sample a segment, as a whole pass
sums all fifteen. For every scheme it writes, as `kqseed assess` reads them
(the low byte of the steps, as the seeder's symbol):
  SCHEME-K.u8      segment K's own stream, PASSES samples;
  SCHEME-inter.u8  the segments interleaved in pass order, PASSES samples;
and prints one line a segment: `SCHEME K FIRST LAST MEDIAN_STEPS`, then
`SCHEME align BITS`: how many bits a pass xz (preset 9e) saves on the
segments kept in step against the same columns shifted out of step, a
rough measure of what the segments share within a pass, which no
segment's own stream shows.
"""
import array
import lzma
import statistics
import sys

# Kernel-path labels of `kqseed raw --path-labels`.
WAIT, TIMER_READ = 0, 1
SCHEMES = {
    "whole": [15],
    "halves": [8, 7],
    # Cut where the pass turns from reading what the wait reported (the
    # timer read, the socket drains, the inotify drain) to its stimuli
    # (socket pokes, file touches) and the wait.
    "drains-stimuli": [6, 9],
    "thirds": [5, 5, 5],
    "fifths": [3, 3, 3, 3, 3],
}
# Passes the compressor sees: enough for xz to learn the columns, little
# enough to take seconds.
ALIGN_PASSES = 400_000


def main():
    deltas_path, labels_path, out, passes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    deltas = array.array("Q")
    with open(deltas_path, "rb") as f:
        deltas.frombytes(f.read())
    if sys.byteorder != "little":
        deltas.byteswap()
    with open(labels_path, "rb") as f:
        labels = f.read()
    n = min(len(deltas), len(labels))
    # A pass starts at the timer read after a wait's return.
    start = 1
    while start < n and not (labels[start] == TIMER_READ and labels[start - 1] == WAIT):
        start += 1
    shape = labels[start : start + 15]
    if len(shape) < 15 or shape[-1] != WAIT or WAIT in shape[:-1]:
        sys.exit(f"split-passes: no pass of the default's fifteen kernel paths in {labels_path}")
    rows = []
    odd = []
    i = start
    while i + 15 <= n and len(rows) < passes:
        if labels[i : i + 15] != shape:
            # A pass of another shape: skipped, from the sample after the
            # next wait's return, and counted.
            end = labels.find(bytes([WAIT]), i)
            if end < 0:
                break
            odd.append((i, labels[i : end + 1]))
            i = end + 1
            continue
        rows.append(deltas[i : i + 15])
        i += 15
    if len(odd) * 1000 > passes:
        sys.exit(f"split-passes: {len(odd)} passes of another shape in {labels_path}; run the default")
    if odd:
        at, labels_of = odd[0]
        print(
            f"split-passes: skipped {len(odd)} passes of another shape (the first at sample {at}: "
            f"paths {list(labels_of)})",
            file=sys.stderr,
        )
    if len(rows) < passes:
        sys.exit(f"split-passes: {len(rows)} whole passes in the run, {passes} asked for")
    for name, sizes in SCHEMES.items():
        bounds, first = [], 0
        for size in sizes:
            bounds.append((first, first + size))
            first += size
        columns = [[sum(r[a:b]) for r in rows] for a, b in bounds]
        for k, ((a, b), col) in enumerate(zip(bounds, columns)):
            with open(f"{out}/{name}-{k}.u8", "wb") as f:
                f.write(bytes(v & 0xFF for v in col))
            print(name, k, a, b - 1, statistics.median(col))
        inter = bytearray()
        for p in range(-(-passes // len(sizes))):
            inter.extend(col[p] & 0xFF for col in columns)
        with open(f"{out}/{name}-inter.u8", "wb") as f:
            f.write(inter[:passes])
        if len(sizes) > 1:
            print(name, "align", f"{alignment_bits(columns):.2f}")


def alignment_bits(columns):
    """Bits a pass xz saves on columns kept in step against shifted ones."""
    m = min(ALIGN_PASSES, len(columns[0]))

    def size(cols):
        data = bytes(min(c[p], 255) for p in range(m) for c in cols)
        return len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME)) * 8 / m

    # Shifts by a prime stride far beyond any pass-to-pass correlation.
    shifted = [c[7919 * k :] + c[: 7919 * k] for k, c in enumerate(columns)]
    return size(shifted) - size(columns)


if __name__ == "__main__":
    main()
