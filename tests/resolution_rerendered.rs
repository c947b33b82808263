//! The clock's effective resolution on recorded paths read through other
//! clocks: `detect_resolution` must not find a step much finer than the
//! clock's. A step found too fine makes every sample span more steps, and
//! the credit ceilings grow with steps; one found too coarse only costs
//! credit.
//!
//! Each recording's durations (its deltas, spread uniformly within their
//! tick) are laid end to end on one timeline and read again through a clock
//! of step `s` ns with a random phase, floored to whole ns as
//! `clock_gettime` gives them: the deltas a machine with that clock would
//! have recorded for the same kernel paths.

use kqseed::{KernelPath, detect_resolution};

/// A small deterministic generator (SplitMix64), so that a failure
/// reproduces.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The recordings of `tests/data/recorded/` (5 bytes a sample: the delta as
/// u32 little-endian, the path's index), each as durations in ns with its
/// paths: the 24 MHz ones were recorded in 41.667 ns ticks.
fn recordings(rng: &mut SplitMix64) -> Vec<(&'static str, Vec<f64>, Vec<KernelPath>)> {
    [
        (
            "loaded-amd",
            &include_bytes!("data/recorded/loaded-amd-epoll.samples")[..],
            1.0,
        ),
        (
            "24mhz-amd",
            &include_bytes!("data/recorded/clock24mhz-amd-epoll.samples")[..],
            41.6667,
        ),
        (
            "24mhz-intel",
            &include_bytes!("data/recorded/clock24mhz-intel-epoll.samples")[..],
            41.6667,
        ),
    ]
    .into_iter()
    .map(|(name, bytes, tick_ns)| {
        let (durations, paths) = bytes
            .chunks_exact(5)
            .map(|c| {
                let delta = u32::from_le_bytes(c[..4].try_into().expect("4 bytes"));
                let duration = (f64::from(delta) + rng.unit()) * tick_ns;
                (duration, KernelPath::ALL[usize::from(c[4])])
            })
            .unzip();
        (name, durations, paths)
    })
    .collect()
}

/// `durations` laid end to end and read through a clock of `step` ns.
fn read_through(durations: &[f64], step: f64, rng: &mut SplitMix64) -> Vec<u64> {
    let reading = |t: f64| ((t / step).floor() * step).floor() as u64;
    let mut t = rng.unit() * 1e9;
    let mut last = reading(t);
    durations
        .iter()
        .map(|&d| {
            t += d;
            let now = reading(t);
            let delta = now - last;
            last = now;
            delta
        })
        .collect()
}

/// The least step found over windows of `window` deltas every `stride`, as
/// a fraction of the true `step`, and where.
fn least_ratio(deltas: &[u64], step: f64, window: usize, stride: usize) -> (f64, usize) {
    (0..=deltas.len().saturating_sub(window))
        .step_by(stride)
        .map(|at| (detect_resolution(&deltas[at..at + window]) / step, at))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .expect("a window")
}

/// Clocks from an AMD guest's 10.015 ns to a 1 MHz-ish 250 ns, through the
/// 24 and 19.2 MHz counters; under about 6 ns a step reads as 1 ns ticks
/// (documented: `detect_resolution` needs 5 or more ticks a step).
const STEPS_NS: [f64; 7] = [8.205, 10.015, 18.518, 41.6667, 52.0833, 69.84, 250.0];

#[test]
fn per_path_windows_never_find_a_step_much_finer_than_the_clocks() {
    let mut rng = SplitMix64(21);
    for (name, durations, _) in recordings(&mut rng) {
        for step in STEPS_NS {
            let deltas = read_through(&durations, step, &mut rng);
            // Start-up's window: 2048 samples, as the seeder's.
            let (ratio, at) = least_ratio(&deltas, step, 2048, 1024);
            assert!(
                ratio >= 0.9,
                "{name} through a {step} ns clock: the window at {at} found {:.3} ns",
                ratio * step
            );
        }
    }
}

#[test]
fn whole_passes_up_to_the_top_band_never_find_a_step_much_finer_than_the_clocks() {
    // Each pass (a wait's return to the next) as one sample, read through
    // clocks whose step puts the median pass at 200 to 1,000 steps: every
    // credit ceiling is at its top from its last band on (1,024 steps,
    // counted from 1,100), so a step found too fine above that changes no
    // ceiling. A few thousand steps on, some windows do fall back to 1
    // tick (add 3000.0 below to see one): the same top ceiling, and
    // symbols that are a function of the steps.
    let mut rng = SplitMix64(31);
    for (name, durations, paths) in recordings(&mut rng) {
        let mut passes = Vec::new();
        let mut pass = 0.0;
        for (&d, &path) in durations.iter().zip(&paths) {
            if path == KernelPath::Wait && pass > 0.0 {
                passes.push(pass);
                pass = 0.0;
            }
            pass += d;
        }
        let mut sorted = passes.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        for median_steps in [200.0, 400.0, 700.0, 1000.0] {
            // Not a round fraction of the median.
            let step = median / median_steps * (1.0 + 0.01 * rng.unit());
            let deltas = read_through(&passes, step, &mut rng);
            let (ratio, at) = least_ratio(&deltas, step, 2048, 256);
            assert!(
                ratio >= 0.9,
                "{name}'s passes at {median_steps} steps ({step:.3} ns): the window at {at} found {:.3} ns",
                ratio * step
            );
        }
    }
}
