#!/usr/bin/env python3
"""The measurements behind `kqseed::ceiling`'s table: each kernel path's
1,000,000-sample assessment as a function of how many clock steps its
median sample spans, and the ceiling each band of steps can carry.

    scripts/ceiling-grid.py [--factor F] [--short-factor F] [--timer-reach R]
        [--point P:S:B[:C[:M]] ...] [--points FILE] RECORDING...

A RECORDING is a prefix: RECORDING.u64 holds raw deltas in nanoseconds and
RECORDING.labels each sample's path, as these write them:

    kqseed raw -n 16000000 --format u64le -o quiet.u64 --path-labels quiet.labels
    taskset -c 0 kqseed raw ... -o hog.u64 ...   (two busy loops on CPU 0)

For every tick of the grid, the recording's timeline is rebuilt from its
deltas, floored to the tick and differenced again (a clock that counts in
that tick), each path's first 1,000,000 samples become symbols (the low
byte of the steps, as the seeder maps them) and `kqseed assess` assesses
them. `--point` adds a figure measured on a real clock (a row of
`scripts/assess-conditions.sh`): PATH:MEDIAN_STEPS:BITS, and optionally
:CONDITION (that script's name for it: quiet, loaded, clk24mhz,
clk24mhz-loaded, clk19mhz, clk19mhz-loaded) and :MACHINE (amd, intel or other), which only
`--spread` reads. A whole pass of fewer kernel paths than the default's 15
is PATH `pass@K` (K kernel paths a pass): the seeder credits it the
pass's row scaled by K/15 (`kqseed::pass_ceiling`), so its figure bounds
the row as 15/K times itself. Needs numpy and a release build of the `kqseed` command
(`cargo build --release --features cli --bin kqseed`).

A band's ceiling is F times the lowest figure of the path at that many
steps or more, in sixteenths of a bit: F is 0.3 (0.6 of half) for every
path, since the figures vary between runs on one machine and clock
(`--spread scripts/data/ceiling-points.txt` prints each path's lowest
against its median; one short path's run came in at 0.57 of the lowest
figure recorded before it, and the Intel Xeon guest's 19.2 MHz timer
read of 2026-12-06 07:09 UTC at 0.76 of its lowest before, where the
timer read had been credited 0.4, 0.8 of half, while its lowest stayed
near its median, 0.79-0.95 of it);
A whole pass ("pass", per-wakeup sampling) is a path too: its stream is
rebuilt from the recording's wait returns, and its real runs reach as far
as the timer read's (a 24 MHz pass of 600 steps assessed no more than one
of 340). A pass's thirds ("pass-first-third", "pass-middle-third",
"pass-last-third": each third of the default's pass summed, as a seeder
that cut its passes in thirds credits them) have no grid: their rows come
from real runs alone (--point, scripts/assess-segments.sh and the
matrix), reach as a whole pass's do, and stop growing at the most steps
a run showed them at. A real run's timer read (a --point)
also counts for the bands up to R times its steps (--timer-reach, 2): on
the Intel Xeon guest's coarse clocks its figure stayed at 0.43-2.02 bits
while its median ranged over 30-130 steps, as low at 100-130 steps as at
30, so more steps are no promise of more bits. Twice the steps of those
lowest runs (0.69-0.80 bits over 100-130 steps) covers the longest timer
read that guest showed (1.4-5.4 us at 1 ns: at most 130 steps of 24 MHz,
104 of 19.2 MHz); a guest whose timer read is longer still, at as low a
figure, needs its own run.
Grid figures are counted only up to the steps the path spans on the
recording's own clock (above that nothing was measured, so wider bands
keep the last value); a band with no point of its own also takes the
nearest point below it. `--from-grid FILE` recomputes the table from an
earlier run's output. The table in `src/credit.rs` is

    scripts/ceiling-grid.py --from-grid scripts/data/ceiling-grid.tsv \
        --points scripts/data/ceiling-points.txt

(the grid of two AMD EPYC recordings of 2026-12-05 and two Intel Xeon ones
of 2026-12-06, each quiet and under two busy loops, two more Intel ones
for the whole pass, and the matrix runs since), with every path but the
timer read at 0 under 20 steps.
"""

import argparse
import math
import os
import re
import subprocess
import sys
import tempfile


PATHS = ["wait", "timer-read", "socket-drain", "file-drain", "socket-poke", "file-touch", "pass",
         "pass-first-third", "pass-middle-third", "pass-last-third"]
# A pass's thirds have no grid (no recording is re-quantised into them):
# their rows come from real runs alone.
THIRDS = ("pass-first-third", "pass-middle-third", "pass-last-third")
TICKS_NS = [0, 12, 15, 20, 25, 30, 35, 40, 50, 60, 70, 85, 100, 125, 240, 1000]
# Paths whose real runs' figures also bound the bands up to --timer-reach
# times their steps: on coarse clocks their figures did not grow with their
# steps (a whole pass of 600 steps of 24 MHz, loaded, assessed 2.63 bits,
# as one of 340 steps did quiet).
REACHING = ("timer-read", "pass") + THIRDS
EDGES = [16, 20, 24, 30, 40, 48, 64, 80, 96, 128, 192, 256, 384, 1024]
SAMPLES = 1_000_000


def assess(kqseed, symbols):
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        symbols.tofile(f.name)
        out = subprocess.run([kqseed, "assess", f.name, "--bits", "8"],
                             capture_output=True, text=True, check=True).stdout
    return float(next(l.split()[2] for l in out.splitlines() if l.startswith("Assessed")))


def grid(prefix, kqseed, paths):
    import numpy as np  # only for re-quantising recordings

    deltas = np.fromfile(prefix + ".u64", dtype="<u8")
    labels = np.fromfile(prefix + ".labels", dtype=np.uint8)
    if len(deltas) != len(labels):
        sys.exit(f"{prefix}: {len(deltas)} deltas but {len(labels)} labels")
    # The recording's own effective resolution: the first tick (0) keeps
    # it, as `detect_resolution` finds it (10.015 ns on the AMD guest).
    time = np.cumsum(deltas.astype(np.float64))
    for tick in TICKS_NS:
        if tick == 0:
            unit = resolution(deltas[:2304])
            steps_all, lab = np.round(deltas / unit).astype(np.int64), labels
        else:
            ticks = np.floor(time / tick).astype(np.int64)
            steps_all, lab = np.diff(ticks), labels[1:]
        for index, path in enumerate(p for p in PATHS if p not in THIRDS):
            if path not in paths:
                continue
            if path == "pass":
                steps = pass_steps(time, labels, tick, unit if tick == 0 else None)[:SAMPLES]
            else:
                steps = steps_all[lab == index][:SAMPLES]
            if len(steps) < SAMPLES:
                continue
            median = float(np.median(steps))
            bits = assess(kqseed, (steps & 0xFF).astype(np.uint8))
            print(f"{os.path.basename(prefix)}\t{tick or 'own'}\t{path}\t{median:.0f}\t{bits:.3f}",
                  flush=True)
            yield path, median, bits, tick == 0


def pass_steps(time, labels, tick, unit):
    """The whole passes of a per-path recording, as `Sampling::PerWakeup`
    samples them: the clock at each wait's return (the end of a wait
    sample), differenced. With `unit` (the recording's own clock) the
    differences are rounded to its steps, else floored to `tick`."""
    import numpy as np

    wakeups = time[labels == PATHS.index("wait")]
    if unit is not None:
        return np.round(np.diff(wakeups) / unit).astype(np.int64)
    return np.diff(np.floor(wakeups / tick).astype(np.int64))


def resolution(deltas):
    import numpy as np

    """The largest step (at least 1 ns) that every delta lies within 0.2 of
    a multiple of: the lattice fit of `detect_resolution`, coarsely."""
    d = deltas[deltas > 0].astype(np.float64)
    best = 1.0
    for step in np.arange(1.0, 64.0, 0.005):
        frac = d / step - np.round(d / step)
        if np.mean(np.abs(frac) < 0.2) > 0.99:
            best = step
    return best


# The clock each condition of scripts/assess-conditions.sh runs on ("own":
# the machine's, 10.015 ns steps on the AMD guest, 1 ns on the Intel one). The
# steps a path spans cannot tell them apart: a 19.2 MHz timer read has
# spanned 370 steps, as many as a 24 MHz one.
CLOCKS = {"quiet": "own", "loaded": "own", "clk24mhz": "24 MHz",
          "clk24mhz-loaded": "24 MHz", "clk19mhz": "19.2 MHz", "clk19mhz-loaded": "19.2 MHz",
          # scripts/assess-segments.sh's coarser clocks, for the thirds.
          "clk16mhz": "16 MHz", "clk12mhz": "12 MHz"}


MACHINES = ("amd", "intel", "other")


# The kernel paths of the passes the whole pass's row is for (the
# default's; kqseed::PASS_ROW_KERNEL_PATHS).
PASS_ROW_KERNEL_PATHS = 15


def row_bits(path, bits):
    """A point's figure as it bounds its path's row: a pass@K's scaled up
    by 15/K, since the seeder scales the row by K/15 for it."""
    if path.startswith("pass@"):
        return bits * PASS_ROW_KERNEL_PATHS / min(int(path[5:]), PASS_ROW_KERNEL_PATHS)
    return bits


def parse_point(spec):
    """PATH:MEDIAN_STEPS:BITS[:CONDITION[:MACHINE]] -> (path, steps, bits,
    condition or None, machine or None); PATH may be pass@K."""
    fields = spec.split(":")
    shaped = re.fullmatch(r"pass@([1-9][0-9]*)", fields[0])
    if len(fields) not in (3, 4, 5) or (fields[0] not in PATHS and not shaped):
        sys.exit(f"== FAIL: {spec!r} is not PATH:MEDIAN_STEPS:BITS[:CONDITION[:MACHINE]]")
    condition = fields[3] if len(fields) >= 4 else None
    if condition is not None and condition not in CLOCKS:
        sys.exit(f"== FAIL: {spec!r}: unknown condition (one of {', '.join(CLOCKS)})")
    machine = fields[4] if len(fields) == 5 else None
    if machine is not None and machine not in MACHINES:
        sys.exit(f"== FAIL: {spec!r}: unknown machine (one of {', '.join(MACHINES)})")
    return fields[0], float(fields[1]), float(fields[2]), condition, machine


def spread(points_file):
    """Prints each path's lowest and median matrix figure per clock: how far
    the figures move between runs, which sets the factors above."""
    import statistics
    groups = {}
    for line in open(points_file):
        if line.strip() and not line.startswith("#"):
            path, _, bits, condition, machine = parse_point(line.strip())
            if condition is None or machine is None:
                sys.exit(f"== FAIL: {line.strip()!r} names no condition or machine")
            groups.setdefault((path, CLOCKS[condition], machine), []).append(bits)
    ratios = {"timer-read": [], "short": []}
    print(f"{'path':14s}{'clock':>10s}{'machine':>8s}{'runs':>6s}{'lowest':>8s}{'median':>8s}"
          f"{'ratio':>7s}")
    for (path, clock, machine), figures in sorted(groups.items()):
        low, mid = min(figures), statistics.median(figures)
        ratios["timer-read" if path == "timer-read" else "short"].append(low / mid)
        print(f"{path:14s}{clock:>10s}{machine:>8s}{len(figures):>6d}{low:>8.3f}{mid:>8.3f}"
              f"{low / mid:>7.2f}")
    for kind, r in ratios.items():
        print(f"{kind}: lowest / median {min(r):.2f}-{max(r):.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--factor", type=float, default=0.3, help="the timer read's factor")
    ap.add_argument("--short-factor", type=float, default=0.3, help="the short paths' factor")
    ap.add_argument("--timer-reach", type=float, default=2.0, metavar="R",
                    help="a real run's timer-read (or whole pass) figure also bounds the bands"
                         " up to R times its steps")
    ap.add_argument("--point", action="append", default=[],
                    metavar="PATH:STEPS:BITS[:CONDITION[:MACHINE]]")
    ap.add_argument("--points", metavar="FILE",
                    help="PATH:STEPS:BITS[:CONDITION[:MACHINE]] lines ('#' comments), as --point")
    ap.add_argument("--kqseed", default="target/release/kqseed")
    ap.add_argument("--parts", type=int, default=16, metavar="N",
                    help="credit steps of 1/N bit (the crate's are 1/16; another N only prints"
                         " what finer or coarser steps would give, and cannot be --check'ed)")
    ap.add_argument("--check", metavar="RUST_FILE",
                    help="exit 3 if any entry of RUST_FILE's BAND_SIXTEENTHS is above the table"
                         " printed (entries below it are listed, not failed), 1 if its BAND_STEPS"
                         " are not these bands or the table cannot be read")
    ap.add_argument("--from-grid", metavar="FILE",
                    help="take the grid from an earlier run's output instead of assessing again")
    ap.add_argument("--spread", metavar="POINTS_FILE",
                    help="print each path's lowest and median matrix figure per clock, and stop")
    ap.add_argument("--paths", default=",".join(PATHS), metavar="PATH,...",
                    help="assess only these paths' streams of the recordings (pass: whole"
                         " passes, from the wait's returns)")
    ap.add_argument("recordings", nargs="*")
    args = ap.parse_args()
    if args.spread:
        if args.check or args.recordings or args.from_grid:
            ap.error("--spread prints the spread and stops: give it alone")
        spread(args.spread)
        return
    if bool(args.from_grid) == bool(args.recordings):
        ap.error("give recordings, or --from-grid")
    points = {p: [] for p in PATHS}
    own = {p: math.inf for p in PATHS}
    if args.from_grid:
        rows = (line.rstrip("\n").split("\t") for line in open(args.from_grid))
        measured = ((r[2], float(r[3]), float(r[4]), r[1] == "own") for r in rows if len(r) == 5)
    else:
        wanted = args.paths.split(",")
        if not set(wanted) <= set(PATHS):
            ap.error(f"--paths: not paths: {sorted(set(wanted) - set(PATHS))}")
        measured = (m for prefix in args.recordings for m in grid(prefix, args.kqseed, wanted))
    for path, median, bits, is_own in measured:
        points[path].append((median, bits, False))
        if is_own:
            own[path] = min(own[path], median)
    if args.points:
        args.point += [l.strip() for l in open(args.points) if l.strip() and not l.startswith("#")]
    for spec in args.point:
        path, steps, bits, _, _ = parse_point(spec)
        points[path.split("@")[0]].append((steps, row_bits(path, bits), True))
    # A third's row stops growing at its longest real run: no recording
    # says what it carries beyond (as a recording's own clock caps a path's).
    for path in THIRDS:
        if points[path]:
            own[path] = max(s for s, _, _ in points[path])
    if args.parts != 16 and args.check:
        sys.exit("== FAIL: --check compares sixteenths; leave --parts at 16")
    print(f"\nceilings in 1/{args.parts} bit per sample, by median steps"
          " (band = at least that many):")
    print(f"{'':18s}" + "".join(f"{e:>5d}" for e in EDGES))
    table = {}
    for path in PATHS:
        top = max(e for e in EDGES if e <= own[path]) if own[path] < math.inf else EDGES[-1]
        row = []
        for i, edge in enumerate(EDGES):
            at = min(edge, top)
            upper = EDGES[i + 1] if i + 1 < len(EDGES) and edge < top else math.inf
            # A real run's timer read (and whole pass) answers for more
            # steps than its own: between runs its median moved where its
            # figure did not.
            seen = [b for s, b, real in points[path]
                    if s * (args.timer_reach if real and path in REACHING else 1.0) >= at]
            # A band without a point of its own gets the nearest point below
            # it too: fewer steps carry fewer bits, so that bounds the band
            # from below, where the points above it do not.
            if not any(at <= s < upper for s, _, _ in points[path]):
                below = [(s, b) for s, b, _ in points[path] if s < at]
                if not below:
                    row.append(0)
                    continue
                nearest = max(s for s, _ in below)
                seen += [b for s, b in below if s == nearest]
            factor = args.factor if path == "timer-read" else args.short_factor
            sixteenths = math.floor(factor * min(seen) * args.parts)
            # Short paths: nothing under 20 steps, where figures scatter most.
            if path != "timer-read" and edge < 20:
                sixteenths = 0
            row.append(sixteenths)
        table[path] = row
        print(f"{path:18s}" + "".join(f"{c:>5d}" for c in row))
    if args.check:
        found = committed_table(args.check)
        lower, higher = [], []
        for path, row in table.items():
            for edge, mine, theirs in zip(EDGES, row, found[path]):
                if mine != theirs:
                    (lower if mine < theirs else higher).append(
                        f"{path} from {edge} steps: {theirs} -> {mine}")
        # An entry below what the evidence gives is safe (less credit), and
        # raising one is a decision, not a consequence of new points: only
        # an entry above the evidence fails.
        for entry in higher:
            print(f"== the evidence would allow more here (not taken): {entry}")
        for entry in lower:
            print(f"== the evidence puts this entry lower: {entry}")
        if lower:
            print(f"== FAIL: {args.check}'s BAND_SIXTEENTHS has entries above the table above")
            sys.exit(3)
        below = f", {len(higher)} below it" if higher else ""
        print(f"== {args.check}: BAND_STEPS are the bands above, and no entry of BAND_SIXTEENTHS"
              f" is above the table above{below}")


def committed_table(rust_file):
    """The table in rust_file's BAND_SIXTEENTHS, by path, after checking that
    its BAND_STEPS are EDGES; exits with a message when either is missing or
    malformed."""
    names = {"TimerRead": "timer-read", "Wait": "wait", "SocketDrain": "socket-drain",
             "FileDrain": "file-drain", "SocketPoke": "socket-poke", "FileTouch": "file-touch",
             "Pass": "pass", "PassFirstThird": "pass-first-third",
             "PassMiddleThird": "pass-middle-third", "PassLastThird": "pass-last-third"}
    text = open(rust_file).read()
    # Only the two constants' own text: BAND_STEPS up to its `];`, and
    # BAND_SIXTEENTHS likewise.
    steps = re.search(r"const BAND_STEPS: [^=]*= \[(.*?)\];", text, re.S)
    rows = re.search(r"const BAND_SIXTEENTHS: [^=]*= \[(.*?)\n\];", text, re.S)
    if not steps or not rows:
        sys.exit(f"== FAIL: no BAND_STEPS or BAND_SIXTEENTHS in {rust_file}")
    consts = {n: float(v) for n, v in re.findall(r"pub const (\w+): f64 = ([\d.]+);", text)}
    edges = [consts[t] if t in consts else float(t)
             for t in (x.strip() for x in steps.group(1).split(",")) if t]
    if edges != [float(e) for e in EDGES]:
        sys.exit(f"== FAIL: {rust_file}'s BAND_STEPS {edges} are not the bands above {EDGES}")
    found = {}
    for name, row in re.findall(r"\(KernelPath::(\w+),\s*\[([\d,\s]+)\]\)", rows.group(1)):
        if name not in names or names[name] in found:
            sys.exit(f"== FAIL: {rust_file}: unexpected row KernelPath::{name}")
        found[names[name]] = [int(x) for x in row.split(",")]
    if sorted(found) != sorted(names.values()):
        sys.exit(f"== FAIL: {rust_file}: BAND_SIXTEENTHS has rows {sorted(found)}")
    return found


if __name__ == "__main__":
    main()
