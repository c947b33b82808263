//! The start-up decision: the clock's effective resolution, and for every
//! noise source (kernel path) its steady-state estimate and the credit that
//! backs, from the samples of the start-up window.
//!
//! The window follows a warm-up (see
//! [`CreditPolicy::warmup_samples`](crate::CreditPolicy::warmup_samples)):
//! the first passes of a new queue run with cold caches and assess higher
//! than the steady state the credits then apply to. Every copy made of the
//! window's samples here lives in [`Zeroizing`] scratch, wiped before it is
//! freed. (The estimators wipe their own tables; see [`crate::assess`].)

use zeroize::{Zeroize, Zeroizing};

use crate::assess::{AssessOptions, Estimator};
use crate::collector::KernelPath;
use crate::credit::{
    CreditPolicy, MIN_MEDIAN_STEPS, MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT, ceiling,
    min_credited_steps, source_ceiling, timer_paced_ceiling,
};
use crate::error::StartupFailure;
use crate::resolution::{detect_resolution, symbol};
use crate::sources::PerPath;
use crate::sys::EventCounts;

/// The estimators run on each source's start-up samples: the fast ones of
/// SP 800-90B section 6.3 that run on a few hundred literal symbols.
/// Together they see both a skewed distribution (MCV) and the periodic,
/// predictable patterns that always-ready loops and replayed time produce
/// (the predictors). MultiMCW needs 4096 samples and is left out.
pub const STARTUP_ESTIMATORS: [Estimator; 4] = [
    Estimator::Mcv,
    Estimator::Lag,
    Estimator::MultiMmc,
    Estimator::Lz78y,
];

/// The estimators run on the whole window's interleaved symbols, which
/// must back only the mean credit (a fraction of their figure): the two
/// whose cost grows linearly, so that the check stays a small part of a
/// cold seed (MultiMMC and LZ78Y take about 1.6 ms each on 2048 symbols).
pub const INTERLEAVED_ESTIMATORS: [Estimator; 2] = [Estimator::Mcv, Estimator::Lag];

/// Share of zero deltas, in percent, above which the clock counts as stuck.
pub const MAX_ZERO_DELTAS_PERCENT: usize = 1;

/// A source with at least twice this many start-up samples is assessed on
/// each half of them, and its estimate is the lower of the two: a burst of
/// interference in one half does not vouch for the other (and two halves
/// cost less than the whole, MultiMMC and LZ78Y growing faster than the
/// input).
pub const MIN_HALF_SAMPLES: usize = 128;

/// What start-up measured of one noise source and the credit it decided.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct SourceStartup {
    /// The kernel path.
    pub path: KernelPath,
    /// Its samples in the start-up window (0: the path did not occur).
    pub samples: usize,
    /// The median sample, in steps of the clock's effective resolution,
    /// rounded down to two significant digits.
    pub median_steps: f64,
    /// The interquartile range of its samples, in steps, rounded down to
    /// two significant digits.
    pub spread_steps: f64,
    /// The lowest start-up estimate of its symbols, bits per sample.
    pub estimate: f64,
    /// The estimator that gave it.
    pub estimator: Estimator,
    /// Whether its passes were of the kind the ceilings were measured on,
    /// as [`ceiling`] takes it: run ahead of their timer
    /// ([`MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT`]) and, for the timer read and
    /// the short paths, a timer read in the window; for a whole pass,
    /// timer events among its wakeups. The online check takes it too:
    /// [`SourceStartup::new`] sets `false`, under which every ceiling is
    /// 1/16 bit at most, so a replayed report of a timer-driven loop must
    /// set it (and, for a whole pass, [`kernel_paths_per_pass`](Self::kernel_paths_per_pass)).
    pub timer_driven: bool,
    /// For a whole pass, the kernel paths its passes spanned on average
    /// ([`EventCounts::kernel_paths_per_wakeup`]), which scale its
    /// ceiling ([`pass_ceiling`](crate::pass_ceiling)); `None` for the other sources, and where
    /// not measured (a fabricated report, whose online check then takes
    /// the row as [`PASS_ROW_KERNEL_PATHS`](crate::PASS_ROW_KERNEL_PATHS) paths').
    pub kernel_paths_per_pass: Option<f64>,
    /// Its ceiling for that median ([`ceiling`], or [`pass_ceiling`](crate::pass_ceiling)).
    pub ceiling: f64,
    /// The credit decided, bits per sample (0: absorbed uncredited).
    pub credit: f64,
}

/// What the start-up checks measured and decided.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct StartupReport {
    /// Samples in the start-up window.
    pub samples: usize,
    /// The clock's effective resolution, in clock ticks
    /// ([`detect_resolution`]).
    pub resolution_ticks: f64,
    /// The lowest start-up estimate of the interleaved stream (every
    /// source's symbols in the order they came), bits per sample.
    pub interleaved_estimate: f64,
    /// The estimator that gave it.
    pub interleaved_estimator: Estimator,
    /// The window's timer expirations per timer event
    /// ([`EventCounts::expirations_per_timer_event`]; 0 without a timer).
    pub expirations_per_timer_event: f64,
    /// Whether start-up took each pass of the per-path window as one
    /// sample ([`KernelPath::Pass`], as per-wakeup sampling takes it)
    /// because its paths could not be credited at least
    /// [`MIN_PATHS_GAIN_OVER_WHOLE_PASSES`] times as much a pass (on coarse
    /// clocks; see [`CreditPolicy::whole_passes`]). Then
    /// [`samples`](Self::samples) and [`sources`](Self::sources) are the
    /// window's passes, and the seeder sums each pass's samples into one.
    pub whole_passes: bool,
    /// With [`whole_passes`](Self::whole_passes): whether each pass is cut
    /// in thirds ([`ThirdSums`], [`KernelPath::THIRDS`]), three samples a
    /// pass ([`MIN_THIRDS_KERNEL_PATHS`] each), because that credited a
    /// pass more than summing it whole, or as much with every third
    /// credited (each then has its own health tests, and their start-up
    /// test, [`STARTUP_TEST_WHOLE_PASSES`], is 342 passes, not 1024). Then
    /// [`samples`](Self::samples) and [`sources`](Self::sources) are the
    /// window's thirds.
    pub thirds: bool,
    /// The credit a pass would have had the other way, bits per pass: its
    /// paths' credits summed when [`whole_passes`](Self::whole_passes)
    /// (their ceilings summed, where they were not assessed:
    /// [`other_assessed`](Self::other_assessed)), else the whole pass's (thirds are weighed only where whole passes
    /// win); `None` when only one way was weighed (a window sampled per
    /// wakeup, or whole passes not allowed).
    pub other_bits_per_pass: Option<f64>,
    /// Whether [`other_bits_per_pass`](Self::other_bits_per_pass) was
    /// assessed. `false` where whole passes won without the paths'
    /// estimators running, because the paths' ceilings summed (the most
    /// they could be credited a pass, which is then the figure given) were
    /// under [`MIN_PATHS_GAIN_OVER_WHOLE_PASSES`] times the whole pass's
    /// credit; also `false` where no other way was weighed.
    pub other_assessed: bool,
    /// Each path's figures and credit, for the paths that occurred.
    pub sources: PerPath<SourceStartup>,
}

impl SourceStartup {
    /// The figures of `path` with no samples, no estimate and no credit
    /// (the estimator named as `estimator`), to be filled in field by
    /// field: for tools and tests that replay or fabricate a report.
    /// [`startup_checks`] is what decides real ones.
    pub fn new(path: KernelPath, estimator: Estimator) -> SourceStartup {
        SourceStartup {
            path,
            samples: 0,
            median_steps: 0.0,
            spread_steps: 0.0,
            estimate: 0.0,
            estimator,
            timer_driven: false,
            kernel_paths_per_pass: None,
            ceiling: 0.0,
            credit: 0.0,
        }
    }
}

impl StartupReport {
    /// A report of `samples` start-up samples on a clock of effective
    /// resolution `resolution_ticks`, whose interleaved stream `estimator`
    /// assessed at `interleaved_estimate` bits, with no source yet: for
    /// tools and tests that replay or fabricate a report. Add sources to
    /// [`sources`](Self::sources).
    pub fn new(
        samples: usize,
        resolution_ticks: f64,
        interleaved_estimate: f64,
        estimator: Estimator,
    ) -> StartupReport {
        StartupReport {
            samples,
            resolution_ticks,
            interleaved_estimate,
            interleaved_estimator: estimator,
            expirations_per_timer_event: 0.0,
            whole_passes: false,
            thirds: false,
            other_bits_per_pass: None,
            other_assessed: false,
            sources: PerPath::default(),
        }
    }

    /// The credit decided for `path`, bits per sample (0 for a path that did
    /// not occur).
    pub fn credit(&self, path: KernelPath) -> f64 {
        self.sources.get(path).map_or(0.0, |s| s.credit)
    }

    /// The mean credit per sample of the interleaved stream, bits: each
    /// source's credit weighted by its share of the window.
    pub fn mean_credit(&self) -> f64 {
        mean_credit(&self.sources, self.samples)
    }

    /// The credit of one pass, bits: the whole pass's, its thirds' summed,
    /// or its paths' summed (the window's credit over its passes, one a
    /// wait's return).
    pub fn bits_per_pass(&self) -> f64 {
        if let Some(pass) = self.sources.get(KernelPath::Pass) {
            return pass.credit;
        }
        if self.thirds {
            return KernelPath::THIRDS.iter().map(|&p| self.credit(p)).sum();
        }
        let passes = self.sources.get(KernelPath::Wait).map_or(0, |s| s.samples);
        self.mean_credit() * self.samples as f64 / passes.max(1) as f64
    }
}

/// How many times a whole pass's credit the paths of a pass must be
/// credited together for start-up to keep them when it could take whole
/// passes. A path's credit holds only while its median stays in its band,
/// and on coarse clocks the short paths sit at their bands' lower edges
/// (20-30 steps), where the online check lowers them often: on the Intel
/// Xeon guest's 24 MHz clock, paths credited 0.56-0.82 bits a pass at
/// start-up (against 0.5625 for a whole pass, 350-460 steps, mid-band)
/// lost a sixteenth or two within 50 seeds in three instances of six, and
/// the pool went in both instances credited 0.88 (2026-12-06 10:55-10:57
/// UTC, the probe that is now `examples/warm_seeds.rs`, on 9de81ed, which
/// took whichever way credited more). On its own
/// clock the paths are credited about six times a whole pass's.
pub const MIN_PATHS_GAIN_OVER_WHOLE_PASSES: f64 = 2.0;

/// Fewest kernel paths each third of a pass must span, on average over
/// the start-up window, for start-up to weigh cutting the passes in thirds
/// ([`StartupReport::thirds`]): the default's five (a timer read and four
/// socket drains; the inotify drain and four socket pokes; four file
/// touches and the wait's return), the passes the thirds' ceilings were
/// measured on (on epoll, the Intel Xeon guest's simulated 24, 19.2, 16
/// and 12 MHz clocks, `scripts/assess-segments.sh`). Counted over the
/// start-up window's whole passes, with a timer read and an inotify drain
/// for every pass, not pass by pass.
pub const MIN_THIRDS_KERNEL_PATHS: u32 = 5;

/// Fewest whole passes in a per-path window for start-up to weigh crediting
/// them instead of their paths: the default's 2048-sample window holds
/// about 136.
pub const MIN_WHOLE_PASSES: usize = 64;

/// Whole passes that must pass the pass source's health tests before a
/// seeder that took whole passes releases anything: SP 800-90B's start-up
/// test runs over at least 1024 consecutive samples (section 4.3), and a
/// per-path window holds far fewer passes. Cut in thirds
/// ([`StartupReport::thirds`]), each third is a sample and counts one: 1024
/// consecutive credited thirds (342 passes where all three are credited;
/// a source credited nothing runs no tests), as a per-path seeder's
/// start-up test is its window's 2048 consecutive samples of all its
/// sources.
pub const STARTUP_TEST_WHOLE_PASSES: u32 = 1024;

/// Sums a per-path stream's samples into whole passes, as per-wakeup
/// sampling measures them and as a seeder that took whole passes
/// ([`StartupReport::whole_passes`]) credits them: a pass runs from the
/// sample after one wait's return through the next wait's return.
///
/// ```
/// use kqseed::{KernelPath, PassSums};
///
/// let mut sums = PassSums::default();
/// // The samples before the first wait's return are no whole pass.
/// assert_eq!(sums.add(7, KernelPath::SocketDrain), None);
/// assert_eq!(sums.add(5, KernelPath::Wait), None);
/// assert_eq!(sums.add(300, KernelPath::TimerRead), None);
/// assert_eq!(sums.add(40, KernelPath::SocketDrain), None);
/// assert_eq!(sums.add(90, KernelPath::Wait), Some(430));
/// ```
#[derive(Default)]
pub struct PassSums {
    sum: u64,
    /// Whether a wait's return has been seen, so that `sum` spans a whole
    /// pass.
    open: bool,
}

impl PassSums {
    /// Adds one sample of `path`; the pass it completes, if any.
    pub fn add(&mut self, delta: u64, path: KernelPath) -> Option<u64> {
        self.sum = self.sum.wrapping_add(delta);
        if path != KernelPath::Wait {
            return None;
        }
        let pass = core::mem::take(&mut self.sum);
        core::mem::replace(&mut self.open, true).then_some(pass)
    }

    /// Forgets the pass under way: the next delta does not follow the last.
    pub fn restart(&mut self) {
        self.sum.zeroize();
        self.open = false;
    }
}

impl core::fmt::Debug for PassSums {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Not the sum: it is made of samples.
        f.debug_struct("PassSums")
            .field("open", &self.open)
            .finish_non_exhaustive()
    }
}

impl Drop for PassSums {
    fn drop(&mut self) {
        self.sum.zeroize();
    }
}

/// Sums a per-path stream's samples into the thirds of each pass, as a
/// seeder that cut its passes in thirds ([`StartupReport::thirds`])
/// credits them: each sample's time counts towards its path's third
/// ([`KernelPath::third`]: the timer reads and socket drains; the inotify
/// drain and socket pokes; the file touches and the wait's return), and a
/// wait's return completes its pass, as for [`PassSums`]. For the
/// default's pass, whose paths run in that order, each third is five
/// consecutive kernel paths.
///
/// ```
/// use kqseed::{KernelPath, ThirdSums};
///
/// let mut thirds = ThirdSums::default();
/// // The samples before the first wait's return are no whole pass.
/// assert_eq!(thirds.add(7, KernelPath::SocketPoke), None);
/// assert_eq!(thirds.add(5, KernelPath::Wait), None);
/// for (delta, path) in [
///     (300, KernelPath::TimerRead),
///     (40, KernelPath::SocketDrain),
///     (20, KernelPath::FileDrain),
///     (30, KernelPath::SocketPoke),
///     (60, KernelPath::FileTouch),
/// ] {
///     assert_eq!(thirds.add(delta, path), None);
/// }
/// assert_eq!(thirds.add(90, KernelPath::Wait), Some([Some(340), Some(50), Some(150)]));
/// ```
#[derive(Default)]
pub struct ThirdSums {
    sums: [u64; 3],
    /// Which thirds had a sample in the pass under way.
    seen: [bool; 3],
    /// Whether a wait's return has been seen, so that `sums` span a whole
    /// pass.
    open: bool,
}

impl ThirdSums {
    /// Adds one sample of `path`; when it completes a pass, that pass's
    /// thirds, in [`KernelPath::THIRDS`]' order (`None` for a third none of
    /// whose paths ran in it). A sum's own samples are ignored.
    pub fn add(&mut self, delta: u64, path: KernelPath) -> Option<[Option<u64>; 3]> {
        let third = path.third()?;
        self.sums[third] = self.sums[third].wrapping_add(delta);
        self.seen[third] = true;
        if path != KernelPath::Wait {
            return None;
        }
        let sums = core::mem::take(&mut self.sums);
        let seen = core::mem::take(&mut self.seen);
        let thirds = core::array::from_fn(|i| seen[i].then_some(sums[i]));
        core::mem::replace(&mut self.open, true).then_some(thirds)
    }

    /// Forgets the pass under way: the next delta does not follow the last.
    pub fn restart(&mut self) {
        self.sums.zeroize();
        self.seen = [false; 3];
        self.open = false;
    }
}

impl core::fmt::Debug for ThirdSums {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Not the sums: they are made of samples.
        f.debug_struct("ThirdSums")
            .field("open", &self.open)
            .finish_non_exhaustive()
    }
}

impl Drop for ThirdSums {
    fn drop(&mut self) {
        self.sums.zeroize();
    }
}

/// A pass under way, summed as a seeder that took whole passes credits
/// it: whole ([`PassSums`]) or in thirds ([`ThirdSums`]).
#[derive(Debug)]
pub struct PassCut(Cut);

#[derive(Debug)]
enum Cut {
    Whole(PassSums),
    Thirds(ThirdSums),
}

impl PassCut {
    /// Sums each pass whole, or with `thirds` in thirds.
    pub fn new(thirds: bool) -> PassCut {
        PassCut(if thirds {
            Cut::Thirds(ThirdSums::default())
        } else {
            Cut::Whole(PassSums::default())
        })
    }

    /// Adds one per-path sample; the samples of the pass it completes, in
    /// order, if any: one whole pass ([`KernelPath::Pass`]), or up to three
    /// thirds ([`KernelPath::THIRDS`]).
    pub fn add(&mut self, delta: u64, path: KernelPath) -> Option<[Option<(u64, KernelPath)>; 3]> {
        match &mut self.0 {
            Cut::Whole(sums) => sums
                .add(delta, path)
                .map(|pass| [Some((pass, KernelPath::Pass)), None, None]),
            Cut::Thirds(sums) => sums.add(delta, path).map(|thirds| {
                core::array::from_fn(|i| thirds[i].map(|sum| (sum, KernelPath::THIRDS[i])))
            }),
        }
    }

    /// Forgets the pass under way: the next delta does not follow the last.
    pub fn restart(&mut self) {
        match &mut self.0 {
            Cut::Whole(sums) => sums.restart(),
            Cut::Thirds(sums) => sums.restart(),
        }
    }
}

fn mean_credit(sources: &PerPath<SourceStartup>, samples: usize) -> f64 {
    let credited: f64 = sources.values().map(|s| s.credit * s.samples as f64).sum();
    credited / samples.max(1) as f64
}

/// The start-up checks and decision, over the window's `deltas` and the
/// kernel `paths` they measured (the same length); `events` are the
/// window's wakeups' event counts, summed as the pace checks count them
/// ([`EventCounts::add_paced`]). The
/// ceilings were measured on passes a timer drives and that run ahead of
/// it (see [`ceiling`]): the timer read and the short paths get their rows
/// only beside a [`KernelPath::TimerRead`] (epoll's; a kqueue pass has
/// none, and its paths get at most 1/16 bit), a whole pass
/// ([`KernelPath::Pass`]) only among timer events (an always-ready loop
/// sampled per wakeup gets at most 1/16 bit), and either only when the
/// window's passes ran ahead of their timer (at least
/// [`MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT`] expirations a timer event; in
/// passes that did not, the wait and a whole pass get nothing and every
/// other path at most 1/16 bit, and nothing under 20 steps).
///
/// Refuses a stuck clock (more than 1% of zero deltas), a clock so coarse
/// that even the longest path spans fewer than [`MIN_MEDIAN_STEPS`] steps
/// ([`StartupFailure::CoarseClock`]), and a window where no source can back
/// a credit ([`StartupFailure::LowEntropy`]). Otherwise credits every source
/// as [`CreditPolicy::credit_for`] allows for its estimate and its
/// [`ceiling`], then lowers them together, if need be, until the mean
/// credit per sample is backed by the interleaved stream's estimate too.
///
/// A window sampled per path is weighed a second way when the policy allows
/// ([`CreditPolicy::whole_passes`]): each pass summed into one sample, a
/// [`KernelPath::Pass`] decided as above. Start-up takes the whole passes
/// ([`StartupReport::whole_passes`]) unless the paths are credited at least
/// [`MIN_PATHS_GAIN_OVER_WHOLE_PASSES`] times as much a pass together; on a
/// coarse clock the short paths span too few steps to be credited much,
/// and the whole pass is (a 24 MHz pass of the Intel Xeon guest: 9/16 bit
/// on 2026-12-06, 8/16 since; its paths 0.25-0.88 bits together), and where only the whole pass can be
/// credited it is taken rather than refused. Where each third of the
/// window's passes spans at least [`MIN_THIRDS_KERNEL_PATHS`] kernel paths
/// and the passes ran ahead of their timer, the passes cut in thirds
/// ([`ThirdSums`]) are weighed as well, three sources decided as above,
/// and taken instead of whole passes where they credit a pass more, or as
/// much with every third credited (their start-up test is then a third as
/// many passes: [`StartupReport::thirds`]; on the Intel Xeon guest's
/// simulated coarse clocks, 13/16 or 12/16 bit a pass against 9/16 at the
/// rows of 2026-12-06, 8/16-10/16 against 8/16 since three rows came
/// down). Where the paths' ceilings summed stay under
/// [`MIN_PATHS_GAIN_OVER_WHOLE_PASSES`] times the whole pass's credit, the
/// paths cannot win and their estimators are not run
/// ([`StartupReport::other_assessed`]): the same decision, without what
/// was most of the checks' time on a coarse clock.
pub fn startup_checks(
    deltas: &[u64],
    paths: &[KernelPath],
    events: &EventCounts,
    policy: &CreditPolicy,
) -> Result<StartupReport, StartupFailure> {
    startup_checks_cut(deltas, paths, &[], events, policy)
}

/// [`startup_checks`] on a window whose source restarted its pairing
/// before each sample index in `restarts` (a pause: the pass there lost
/// its wait's return), so that no whole pass is summed across one.
pub(crate) fn startup_checks_cut(
    deltas: &[u64],
    paths: &[KernelPath],
    restarts: &[usize],
    events: &EventCounts,
    policy: &CreditPolicy,
) -> Result<StartupReport, StartupFailure> {
    let samples = deltas.len().min(paths.len());
    let (deltas, paths) = (&deltas[..samples], &paths[..samples]);
    let zero_deltas = deltas.iter().filter(|&&d| d == 0).count();
    if zero_deltas * 100 > samples * MAX_ZERO_DELTAS_PERCENT || samples == 0 {
        return Err(StartupFailure::StuckClock {
            zero_deltas,
            samples,
        });
    }
    let resolution = detect_resolution(deltas);
    let sampled_per_path = paths.contains(&KernelPath::Wait)
        && !paths.contains(&KernelPath::Pass)
        && paths.iter().any(|&p| p != KernelPath::Wait);
    if !policy.whole_passes || !sampled_per_path {
        return decide(deltas, paths, events, policy, resolution);
    }
    let waits = paths.iter().filter(|&&p| p == KernelPath::Wait).count();
    // Sized first: a vector that grew would free copies unwiped.
    let mut passes = Zeroizing::new(Vec::with_capacity(waits));
    let mut sums = PassSums::default();
    for (i, (&d, &p)) in deltas.iter().zip(paths).enumerate() {
        if restarts.contains(&i) {
            sums.restart();
        }
        if let Some(pass) = sums.add(d, p) {
            passes.push(pass);
        }
    }
    if passes.len() < MIN_WHOLE_PASSES {
        return decide(deltas, paths, events, policy, resolution);
    }
    let whole = decide(
        &passes,
        &vec![KernelPath::Pass; passes.len()],
        events,
        policy,
        resolution,
    );
    let whole_bits = whole.as_ref().map_or(0.0, StartupReport::bits_per_pass);
    // The paths are assessed only where they could win: on a coarse clock
    // their ceilings summed stay under the bar, and their estimators would
    // be most of the checks' time. A refused way credits nothing a pass (a
    // decided one credits some).
    let paths_at_most = paths_credit_at_most(deltas, paths, waits, events, policy, resolution);
    // Where whole passes win over the paths: cut in thirds if they credit
    // a pass more, or as much with every third credited: then each third
    // has its own health tests, and their start-up test is a third as many
    // passes ([`STARTUP_TEST_WHOLE_PASSES`]). (A tie with a third credited
    // nothing gains neither, and leaves fewer sources to lose.)
    let take_whole = |mut whole: StartupReport, path_bits: f64, assessed: bool| {
        if let Some(Ok(mut thirds)) =
            thirds_of(deltas, paths, restarts, waits, events, policy, resolution)
        {
            thirds.thirds = true;
            let bits = thirds.bits_per_pass();
            let all_credited = KernelPath::THIRDS.iter().all(|&t| thirds.credit(t) > 0.0);
            if bits > whole_bits || (bits == whole_bits && all_credited) {
                whole = thirds;
            }
        }
        whole.whole_passes = true;
        whole.other_bits_per_pass = Some(path_bits);
        whole.other_assessed = assessed;
        whole
    };
    let whole = match whole {
        Ok(whole) if paths_at_most < MIN_PATHS_GAIN_OVER_WHOLE_PASSES * whole_bits => {
            return Ok(take_whole(whole, paths_at_most, false));
        }
        whole => whole,
    };
    let by_paths = decide(deltas, paths, events, policy, resolution);
    let path_bits = by_paths.as_ref().map_or(0.0, StartupReport::bits_per_pass);
    match whole {
        Ok(whole) if path_bits < MIN_PATHS_GAIN_OVER_WHOLE_PASSES * whole_bits => {
            Ok(take_whole(whole, path_bits, true))
        }
        _ => by_paths.map(|mut by_paths| {
            by_paths.other_bits_per_pass = Some(whole_bits);
            by_paths.other_assessed = true;
            by_paths
        }),
    }
}

/// The decision on the window's passes cut in thirds ([`ThirdSums`]), if
/// they are of the kind the thirds' ceilings were measured on: a timer
/// read and an inotify drain every pass, every third of at least
/// [`MIN_THIRDS_KERNEL_PATHS`] kernel paths a pass (one timer read a pass
/// at most), over `waits` passes that ran ahead of their timer.
fn thirds_of(
    deltas: &[u64],
    paths: &[KernelPath],
    restarts: &[usize],
    waits: usize,
    events: &EventCounts,
    policy: &CreditPolicy,
    resolution: f64,
) -> Option<Result<StartupReport, StartupFailure>> {
    // The whole passes: from the sample after the first wait's return
    // through the last (the window starts and ends within a pass).
    let first = paths.iter().position(|&p| p == KernelPath::Wait)?;
    let last = paths.iter().rposition(|&p| p == KernelPath::Wait)?;
    let whole = &paths[first + 1..=last];
    let passes = waits.saturating_sub(1);
    let count = |path| whole.iter().filter(|&&p| p == path).count();
    let per_third = [
        count(KernelPath::TimerRead).min(passes) + count(KernelPath::SocketDrain),
        count(KernelPath::FileDrain) + count(KernelPath::SocketPoke),
        count(KernelPath::FileTouch) + passes,
    ];
    let min_paths = MIN_THIRDS_KERNEL_PATHS as usize * passes.max(1);
    // The measured shape has a timer read and an inotify drain every pass
    // (epoll's; a kqueue pass has neither syscall).
    let measured_shape =
        count(KernelPath::TimerRead) >= passes && count(KernelPath::FileDrain) >= passes;
    let ran_ahead = events.expirations_per_timer_event() >= MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT;
    if !ran_ahead || !measured_shape || per_third.iter().any(|&n| n < min_paths) {
        return None;
    }
    // Sized first: a vector that grew would free copies unwiped.
    let mut third_deltas = Zeroizing::new(Vec::with_capacity(3 * waits));
    let mut third_paths = Vec::with_capacity(3 * waits);
    let mut sums = ThirdSums::default();
    for (i, (&d, &p)) in deltas.iter().zip(paths).enumerate() {
        if restarts.contains(&i) {
            sums.restart();
        }
        for (sum, path) in sums.add(d, p).into_iter().flatten().zip(KernelPath::THIRDS) {
            if let Some(sum) = sum {
                third_deltas.push(sum);
                third_paths.push(path);
            }
        }
    }
    if third_deltas.len() < 3 * MIN_WHOLE_PASSES {
        return None;
    }
    Some(decide(
        &third_deltas,
        &third_paths,
        events,
        policy,
        resolution,
    ))
}

/// The decision on one way of taking the window: `deltas` of `paths` on a
/// clock of effective resolution `resolution` ticks.
fn decide(
    deltas: &[u64],
    paths: &[KernelPath],
    events: &EventCounts,
    policy: &CreditPolicy,
    resolution: f64,
) -> Result<StartupReport, StartupFailure> {
    let samples = deltas.len();
    let symbols: Zeroizing<Vec<u8>> =
        Zeroizing::new(deltas.iter().map(|&d| symbol(d, resolution)).collect());
    let expirations_per_timer_event = events.expirations_per_timer_event();
    let waits_for_timer = waits_for_timer(events);
    let mut sources = weigh_sources(
        deltas,
        paths,
        events,
        policy,
        resolution,
        lowest_over_halves,
    );
    let (interleaved_estimator, interleaved_estimate) =
        lowest_estimate(&symbols, &INTERLEAVED_ESTIMATORS);
    // The interleaved stream must back the mean credit too: scale every
    // credit down by the shortfall (and round each down again).
    let backed_mean = interleaved_estimate / (2.0 * policy.allowance);
    let mean = mean_credit(&sources, samples);
    if mean > backed_mean {
        let scale = backed_mean / mean;
        for path in KernelPath::ALL {
            if let Some(s) = sources.get_mut(path) {
                s.credit = policy.credit_for(f64::INFINITY, s.credit * scale);
            }
        }
    }
    if sources.values().all(|s| s.credit == 0.0) {
        return Err(refusal(
            &sources,
            resolution,
            waits_for_timer.then_some(expirations_per_timer_event),
            policy,
        ));
    }
    Ok(StartupReport {
        samples,
        resolution_ticks: resolution,
        interleaved_estimate,
        interleaved_estimator,
        expirations_per_timer_event,
        whole_passes: false,
        thirds: false,
        other_bits_per_pass: None,
        other_assessed: false,
        sources,
    })
}

/// Whether the window's passes waited for their timer: a timer among
/// its events, and fewer than [`MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT`]
/// expirations a timer event.
fn waits_for_timer(events: &EventCounts) -> bool {
    events.timer > 0
        && events.expirations_per_timer_event() < MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT
}

/// Each source's figures and credit on one way of taking the window, its
/// estimate from `estimate` (over the source's own symbols), before the
/// interleaved stream's check.
fn weigh_sources(
    deltas: &[u64],
    paths: &[KernelPath],
    events: &EventCounts,
    policy: &CreditPolicy,
    resolution: f64,
    estimate: impl Fn(&[u8]) -> (Estimator, f64),
) -> PerPath<SourceStartup> {
    let ran_ahead = events.expirations_per_timer_event() >= MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT;
    // A wait that waited for the timer measured the timer's period less
    // the rest of its pass, whose samples are credited on their own; a
    // whole pass (per-wakeup sampling) spans that wait too.
    let waits_for_timer = waits_for_timer(events);
    let beside_timer_read = ran_ahead && paths.contains(&KernelPath::TimerRead);
    let mut sources = PerPath::default();
    for path in KernelPath::ALL {
        // Sized first: a vector that grew would free copies of the samples
        // unwiped.
        let n = paths.iter().filter(|&&p| p == path).count();
        let mut own = Zeroizing::new(Vec::with_capacity(n));
        let mut own_symbols = Zeroizing::new(Vec::with_capacity(n));
        for (&d, &p) in deltas.iter().zip(paths) {
            if p == path {
                own.push(d);
                own_symbols.push(symbol(d, resolution));
            }
        }
        if own.is_empty() {
            continue;
        }
        own.sort_unstable();
        let quantile = |q: usize| own[(own.len() - 1) * q / 4] as f64 / resolution;
        // Two significant digits: enough for the ceilings, and no sample's
        // exact value is kept in a report that `Debug` prints.
        let median_steps = two_digits(quantile(2));
        let (estimator, estimate) = estimate(&own_symbols);
        let timer_driven = if path.is_pass_sum() {
            ran_ahead
        } else {
            beside_timer_read
        };
        let kernel_paths_per_pass =
            (path == KernelPath::Pass).then(|| events.kernel_paths_per_wakeup());
        let ceiling = if waits_for_timer {
            timer_paced_ceiling(path, median_steps)
        } else {
            source_ceiling(path, median_steps, timer_driven, kernel_paths_per_pass)
        };
        sources.set(
            path,
            SourceStartup {
                path,
                samples: own.len(),
                median_steps,
                spread_steps: two_digits(quantile(3) - quantile(1)),
                estimate,
                estimator,
                timer_driven,
                kernel_paths_per_pass,
                ceiling,
                credit: policy.credit_for(estimate, ceiling),
            },
        );
    }
    sources
}

/// The most the window's paths could be credited a pass together: each
/// path at its ceiling (and the policy's cap), as if every estimate backed
/// it, over the window's `waits` passes. The estimators and the
/// interleaved stream's check can only lower that, so where it is under
/// [`MIN_PATHS_GAIN_OVER_WHOLE_PASSES`] times a whole pass's credit the
/// whole passes win without the paths being assessed (on a coarse clock,
/// most of the start-up checks' time).
fn paths_credit_at_most(
    deltas: &[u64],
    paths: &[KernelPath],
    waits: usize,
    events: &EventCounts,
    policy: &CreditPolicy,
    resolution: f64,
) -> f64 {
    let sources = weigh_sources(deltas, paths, events, policy, resolution, |_| {
        (Estimator::Mcv, f64::INFINITY)
    });
    let credited: f64 = sources.values().map(|s| s.credit * s.samples as f64).sum();
    credited / waits.max(1) as f64
}

/// `x` rounded down to two significant digits.
pub(crate) fn two_digits(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 || x.is_infinite() {
        return 0.0;
    }
    let exponent = x.log10().floor() as i32 - 1;
    // Dividing by an exact power of ten gives the double nearest a value
    // like 2.9, where multiplying by 0.1 would give 2.9000000000000004.
    if exponent < 0 {
        let scale = 10f64.powi(-exponent);
        (x * scale).floor() / scale
    } else {
        let unit = 10f64.powi(exponent);
        (x / unit).floor() * unit
    }
}

/// Why no source could be credited.
fn refusal(
    sources: &PerPath<SourceStartup>,
    resolution: f64,
    waited_for_timer: Option<f64>,
    policy: &CreditPolicy,
) -> StartupFailure {
    if let Some(expirations_per_timer_event) =
        waited_for_timer.filter(|_| sources.values().all(|s| s.ceiling == 0.0))
    {
        return StartupFailure::WaitsForTimer {
            expirations_per_timer_event,
        };
    }
    if sources.values().all(|s| s.ceiling == 0.0) {
        // A whole pass whose steps its row would credit, but whose share of
        // the row's kernel paths is too small.
        let pass_row =
            |s: &SourceStartup| ceiling(KernelPath::Pass, s.median_steps, s.timer_driven);
        if let Some((s, kernel_paths_per_pass)) = sources
            .get(KernelPath::Pass)
            .and_then(|s| s.kernel_paths_per_pass.map(|k| (s, k)))
            .filter(|(s, _)| s.timer_driven && pass_row(s) > 0.0)
        {
            let row_steps = pass_row(s) / crate::CREDIT_STEP;
            return StartupFailure::TooFewKernelPaths {
                kernel_paths_per_pass,
                min_kernel_paths: (f64::from(crate::PASS_ROW_KERNEL_PATHS) / row_steps).ceil(),
            };
        }
        let longest = sources
            .values()
            .max_by(|a, b| a.median_steps.total_cmp(&b.median_steps));
        // What the longest path itself would have needed.
        let min_median_steps = longest.map_or(MIN_MEDIAN_STEPS, |s| {
            min_credited_steps(s.path, s.timer_driven, s.kernel_paths_per_pass)
        });
        return StartupFailure::CoarseClock {
            resolution_ticks: resolution,
            median_steps: longest.map_or(0.0, |s| s.median_steps),
            min_median_steps,
        };
    }
    let best = sources
        .values()
        .filter(|s| s.ceiling > 0.0)
        .max_by(|a, b| a.estimate.total_cmp(&b.estimate));
    StartupFailure::LowEntropy {
        path: best.map_or(KernelPath::Pass, |s| s.path),
        estimator: best.map_or(Estimator::Mcv, |s| s.estimator),
        estimate: best.map_or(0.0, |s| s.estimate),
        required: 2.0 * policy.allowance * crate::credit::CREDIT_STEP,
    }
}

/// The lowest start-up estimate of `symbols`, or of either half when both
/// have at least [`MIN_HALF_SAMPLES`].
fn lowest_over_halves(symbols: &[u8]) -> (Estimator, f64) {
    if symbols.len() < 2 * MIN_HALF_SAMPLES {
        return lowest_estimate(symbols, &STARTUP_ESTIMATORS);
    }
    let (a, b) = symbols.split_at(symbols.len() / 2);
    let (first, second) = (
        lowest_estimate(a, &STARTUP_ESTIMATORS),
        lowest_estimate(b, &STARTUP_ESTIMATORS),
    );
    if second.1 < first.1 { second } else { first }
}

/// The lowest of `estimators` on `symbols` (literal, 8 bits), failing
/// closed: an assessment that could not run (one distinct symbol, too few),
/// an empty one, or a NaN anywhere counts as 0.
fn lowest_estimate(symbols: &[u8], estimators: &[Estimator]) -> (Estimator, f64) {
    let options = AssessOptions::default()
        .with_estimators(estimators.iter().copied())
        .with_bitstring(false)
        .with_skip_too_short(true);
    lowest_of(crate::assess::assess_with(symbols, 8, &options))
}

fn lowest_of(
    report: Result<crate::assess::Report, crate::assess::AssessError>,
) -> (Estimator, f64) {
    let Ok(report) = report else {
        return (Estimator::Mcv, 0.0);
    };
    let mut lowest = (Estimator::Mcv, 0.0);
    for (i, e) in report.literal.iter().enumerate() {
        let h = if e.min_entropy.is_nan() {
            0.0
        } else {
            e.min_entropy
        };
        if i == 0 || h < lowest.1 {
            lowest = (e.estimator, h);
        }
    }
    lowest
}

/// The clock step that at least 99% of `deltas` are whole multiples of, for
/// clocks that count whole ticks: [`detect_resolution`] when it is a whole
/// number (within one part in 10,000), else 1.
///
/// ```
/// let deltas: Vec<u64> = (0..1000u64).map(|i| (i % 7 + 3) * 1_000_000).collect();
/// assert_eq!(kqseed::detect_step(&deltas), 1_000_000);
/// ```
pub fn detect_step(deltas: &[u64]) -> u64 {
    let r = detect_resolution(deltas);
    let whole = r.round();
    if (r - whole).abs() <= 1e-4 * whole && whole >= 1.0 {
        whole as u64
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::{Estimate, Report};
    use crate::credit::MIN_SHORT_MEDIAN_STEPS;
    use crate::test_util::SplitMix64;

    #[test]
    fn two_digits_round_down_and_print_as_written() {
        assert_eq!(two_digits(1834.0), 1800.0);
        assert_eq!(two_digits(99.9), 99.0);
        assert_eq!(two_digits(2.93).to_string(), "2.9");
        assert_eq!(two_digits(0.0456).to_string(), "0.045");
        assert_eq!(two_digits(f64::NAN), 0.0);
        assert_eq!(two_digits(-3.0), 0.0);
    }

    /// A report whose literal estimates are `estimates`, one per start-up
    /// estimator in turn.
    fn report(estimates: &[f64]) -> Report {
        let literal = estimates
            .iter()
            .zip(STARTUP_ESTIMATORS)
            .map(|(&h, estimator)| Estimate::new(estimator, h, 0.0))
            .collect();
        // A bitstring estimate too, so that an empty literal list is still a
        // report (from_estimates refuses one with no estimate at all).
        let bitstring = vec![Estimate::new(Estimator::Mcv, 1.0, 0.5)];
        Report::from_estimates(8, literal, bitstring, Vec::new())
            .expect("8 bits and an estimate")
            .with_samples(1024)
            .with_distinct(256)
    }

    #[test]
    fn the_lowest_estimate_fails_closed() {
        assert_eq!(
            lowest_of(Ok(report(&[6.0, 4.0, 5.0]))),
            (Estimator::Lag, 4.0)
        );
        // A NaN is not skipped by the minimum: it is zero.
        assert_eq!(
            lowest_of(Ok(report(&[6.0, f64::NAN, 5.0]))),
            (Estimator::Lag, 0.0)
        );
        assert_eq!(lowest_of(Ok(report(&[f64::NAN]))).1, 0.0);
        // No literal estimate is no entropy, not infinite entropy.
        assert_eq!(lowest_of(Ok(report(&[]))).1, 0.0);
    }

    /// A pass of the default shape: wait, timer read, 4 socket drains, the
    /// file drain, 4 pokes, 4 touches, each with its own typical length.
    fn default_passes(passes: usize, rng: &mut SplitMix64) -> (Vec<u64>, Vec<KernelPath>) {
        use KernelPath::*;
        let shape = [
            (Wait, 2000),
            (TimerRead, 15000),
            (SocketDrain, 1360),
            (SocketDrain, 1360),
            (SocketDrain, 1360),
            (SocketDrain, 1360),
            (FileDrain, 1400),
            (SocketPoke, 1020),
            (SocketPoke, 1020),
            (SocketPoke, 1020),
            (SocketPoke, 1020),
            (FileTouch, 1280),
            (FileTouch, 1280),
            (FileTouch, 1280),
            (FileTouch, 1280),
        ];
        let mut deltas = Vec::new();
        let mut paths = Vec::new();
        for _ in 0..passes {
            for &(path, base) in &shape {
                let spread = if path == TimerRead { 4096 } else { 512 };
                deltas.push(base + rng.next() % spread);
                paths.push(path);
            }
        }
        (deltas, paths)
    }

    /// [`default_passes`] (140, from `SplitMix64(seed)`) read on a clock of
    /// `tick` ns ticks.
    fn default_passes_in_ticks(seed: u64, tick: u64) -> (Vec<u64>, Vec<KernelPath>) {
        let (deltas, paths) = default_passes(140, &mut SplitMix64(seed));
        (deltas.iter().map(|d| d / tick).collect(), paths)
    }

    /// `deltas` of `paths` summed into whole passes, as start-up sums them.
    fn pass_sums(deltas: &[u64], paths: &[KernelPath]) -> Vec<u64> {
        let mut sums = PassSums::default();
        deltas
            .iter()
            .zip(paths)
            .filter_map(|(&d, &p)| sums.add(d, p))
            .collect()
    }

    /// The event counts of passes that ran `per_event` timer intervals
    /// each.
    fn timer_paced(per_event: f64) -> EventCounts {
        EventCounts {
            timer: 1000,
            timer_expirations: (1000.0 * per_event) as u64,
            wakeups: 1000,
            kernel_paths: 1000 * u64::from(crate::PASS_ROW_KERNEL_PATHS),
            ..EventCounts::default()
        }
    }

    /// Passes as long as the default's on these guests: 3.5 intervals.
    fn ran_ahead() -> EventCounts {
        timer_paced(3.5)
    }

    #[test]
    fn every_source_is_credited_within_its_ceiling_and_estimate() {
        let mut rng = SplitMix64(11);
        let (deltas, paths) = default_passes(140, &mut rng);
        let policy = CreditPolicy::default();
        let r = startup_checks(&deltas, &paths, &ran_ahead(), &policy).expect("passes");
        assert_eq!(r.resolution_ticks, 1.0);
        assert_eq!(r.sources.values().count(), 6);
        for s in r.sources.values() {
            assert!(s.credit <= s.ceiling, "{s:?}");
            assert!(2.0 * policy.allowance * s.credit <= s.estimate, "{s:?}");
            assert!(s.credit > 0.0, "{s:?}");
        }
        assert_eq!(r.sources.get(KernelPath::SocketDrain).unwrap().samples, 560);
        assert!(r.mean_credit() * 2.0 * policy.allowance <= r.interleaved_estimate);
    }

    #[test]
    fn passes_that_wait_for_their_timer_get_a_sixteenth_at_most() {
        let mut rng = SplitMix64(11);
        let (deltas, paths) = default_passes(140, &mut rng);
        let policy = CreditPolicy::default();
        let waited = startup_checks(&deltas, &paths, &timer_paced(1.4), &policy).expect("credited");
        assert_eq!(waited.expirations_per_timer_event, 1.4);
        for s in waited.sources.values() {
            assert!(!s.timer_driven, "{s:?}");
            assert!(s.credit <= crate::CREDIT_STEP, "{s:?}");
        }
        assert_eq!(waited.credit(KernelPath::Wait), 0.0);
        assert!(waited.credit(KernelPath::TimerRead) > 0.0);
        // Just under start-up's line (the online check's is 2): still
        // capped. Just over it: the rows.
        let below = startup_checks(&deltas, &paths, &timer_paced(2.2), &policy).expect("credited");
        assert!(below.credit(KernelPath::TimerRead) <= crate::CREDIT_STEP);
        let ahead = startup_checks(&deltas, &paths, &timer_paced(2.25), &policy).expect("credited");
        let timer_read = ahead
            .sources
            .get(KernelPath::TimerRead)
            .expect("timer read");
        assert!(timer_read.timer_driven);
        assert!(timer_read.credit > crate::CREDIT_STEP, "{timer_read:?}");
    }

    /// A per-wakeup window of passes far longer than 1024 steps.
    fn long_passes(rng: &mut SplitMix64) -> (Vec<u64>, Vec<KernelPath>) {
        let deltas: Vec<u64> = (0..2048).map(|_| 120_000 + rng.next() % 40_000).collect();
        let paths = vec![KernelPath::Pass; deltas.len()];
        (deltas, paths)
    }

    #[test]
    fn a_whole_pass_that_waits_for_its_timer_is_not_credited() {
        // Per-wakeup samples: each spans the wait, which waited.
        let (deltas, paths) = long_passes(&mut SplitMix64(13));
        let policy = CreditPolicy::default();
        let ahead = startup_checks(&deltas, &paths, &ran_ahead(), &policy).expect("credited");
        assert!(ahead.credit(KernelPath::Pass) > 0.0);
        match startup_checks(&deltas, &paths, &timer_paced(1.2), &policy) {
            Err(StartupFailure::WaitsForTimer { .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_whole_pass_of_fewer_kernel_paths_gets_its_share_of_the_row() {
        // Per-wakeup samples spanning far more than 1024 steps: the row's
        // 11/16, scaled by the kernel paths a pass spans.
        let mut rng = SplitMix64(17);
        let (deltas, paths) = long_passes(&mut rng);
        let policy = CreditPolicy::default();
        let with_paths = |kernel_paths: u64| {
            let mut events = ran_ahead();
            events.kernel_paths = events.wakeups * kernel_paths;
            let r = startup_checks(&deltas, &paths, &events, &policy).expect("credited");
            let pass = *r.sources.get(KernelPath::Pass).expect("pass");
            assert_eq!(pass.kernel_paths_per_pass, Some(kernel_paths as f64));
            pass.credit
        };
        assert_eq!(with_paths(15), 0.6875);
        assert_eq!(with_paths(30), 0.6875, "never above the row");
        // 11/16 * 9/15 = 6.6/16; 11/16 * 5/15 = 3.67/16.
        assert_eq!(with_paths(9), 0.375);
        assert_eq!(with_paths(5), 0.1875);
        // Where the row gives the pass's steps 1/16 bit, nine kernel paths
        // get nothing, and the refusal says why.
        let short: Vec<u64> = (0..2048).map(|_| 30 + rng.next() % 10).collect();
        let mut events = ran_ahead();
        events.kernel_paths = events.wakeups * 9;
        match startup_checks(&short, &paths, &events, &policy) {
            Err(StartupFailure::TooFewKernelPaths {
                kernel_paths_per_pass,
                min_kernel_paths,
            }) => assert_eq!((kernel_paths_per_pass, min_kernel_paths), (9.0, 15.0)),
            other => panic!("{other:?}"),
        }
        // A per-path window's sources are not passes.
        let (deltas, paths) = default_passes(140, &mut rng);
        let paths_only = policy.with_whole_passes(false);
        let r = startup_checks(&deltas, &paths, &ran_ahead(), &paths_only).expect("passes");
        assert!(
            r.sources
                .values()
                .all(|s| s.kernel_paths_per_pass.is_none())
        );
    }

    #[test]
    fn a_loop_without_a_timer_is_credited_at_most_a_sixteenth_per_path() {
        // The same passes without their timer read: an always-ready loop.
        let mut rng = SplitMix64(21);
        let (deltas, paths) = default_passes(160, &mut rng);
        let (deltas, paths): (Vec<u64>, Vec<KernelPath>) = deltas
            .into_iter()
            .zip(paths)
            .filter(|&(_, p)| p != KernelPath::TimerRead)
            .unzip();
        let r = startup_checks(
            &deltas,
            &paths,
            &EventCounts::default(),
            &CreditPolicy::default(),
        )
        .expect("credited");
        for s in r.sources.values() {
            assert!(s.credit <= crate::CREDIT_STEP, "{s:?}");
            // Its estimate alone would have backed far more.
            assert!(s.estimate > 1.0, "{s:?}");
        }
    }

    #[test]
    fn a_stuck_clock_and_a_coarse_one_are_refused() {
        let mut rng = SplitMix64(12);
        let (mut deltas, paths) = default_passes(140, &mut rng);
        for d in deltas.iter_mut().step_by(10) {
            *d = 0;
        }
        assert!(matches!(
            startup_checks(&deltas, &paths, &ran_ahead(), &CreditPolicy::default()),
            Err(StartupFailure::StuckClock { .. })
        ));
        // The same passes through a clock that ticks every microsecond: even
        // the timer read spans 15-19 ticks.
        let (deltas, paths) = default_passes(140, &mut rng);
        let coarse: Vec<u64> = deltas.iter().map(|d| d / 1000 * 1000).collect();
        match startup_checks(&coarse, &paths, &ran_ahead(), &CreditPolicy::default()) {
            Ok(r) => {
                // Only the timer read may be credited, within its ceiling.
                for s in r.sources.values() {
                    assert!(s.credit == 0.0 || s.path == KernelPath::TimerRead, "{s:?}");
                }
                assert_eq!(r.resolution_ticks, 1000.0);
            }
            Err(StartupFailure::LowEntropy { .. }) => {}
            Err(e) => panic!("{e}"),
        }
        let ms: Vec<u64> = deltas.iter().map(|d| (d % 5 + 1) * 1_000_000).collect();
        let per_path = CreditPolicy::default().with_whole_passes(false);
        assert!(matches!(
            startup_checks(&ms, &paths, &ran_ahead(), &per_path),
            Err(StartupFailure::CoarseClock { .. })
        ));
        // Summed, a pass of fifteen 1-5 step samples spans 15-75 steps:
        // enough for a whole pass to be credited, where no path is.
        let r = startup_checks(&ms, &paths, &ran_ahead(), &CreditPolicy::default())
            .expect("whole passes");
        assert!(r.whole_passes);
        assert_eq!(r.other_bits_per_pass, Some(0.0));
        assert!(r.credit(KernelPath::Pass) > 0.0);
        assert_eq!(r.sources.iter().count(), 1);
    }

    #[test]
    fn passes_that_wait_for_their_timer_need_twenty_steps_or_are_refused() {
        // The timer alone on a coarse clock: a wait of 80-90 steps (the
        // timer's period less the read) and a read of 15-19.
        let mut rng = SplitMix64(5);
        let paths: Vec<KernelPath> = (0..2048)
            .map(|i| [KernelPath::Wait, KernelPath::TimerRead][i % 2])
            .collect();
        let mut window = |read_steps: u64| -> Vec<u64> {
            paths
                .iter()
                .map(|&p| match p {
                    KernelPath::Wait => (80 + rng.next() % 11) * 1000,
                    _ => (read_steps + rng.next() % 5) * 1000,
                })
                .collect()
        };
        let short = window(15);
        match startup_checks(&short, &paths, &timer_paced(1.1), &CreditPolicy::default()) {
            Err(StartupFailure::WaitsForTimer {
                expirations_per_timer_event,
            }) => assert_eq!(expirations_per_timer_event, 1.1),
            other => panic!("{other:?}"),
        }
        // Reads of 30-34 steps: 1/16 bit for the read, nothing for the wait.
        let long = window(30);
        let r = startup_checks(&long, &paths, &timer_paced(1.1), &CreditPolicy::default())
            .expect("credited");
        assert_eq!(r.credit(KernelPath::TimerRead), crate::CREDIT_STEP);
        assert_eq!(r.credit(KernelPath::Wait), 0.0);
        // Run ahead of the timer, the same reads get the row's 3/16 (as
        // paths: whole passes of them would be credited more).
        let per_path = CreditPolicy::default().with_whole_passes(false);
        let r = startup_checks(&long, &paths, &ran_ahead(), &per_path).expect("credited");
        assert!(
            r.credit(KernelPath::TimerRead) > crate::CREDIT_STEP,
            "{r:?}"
        );
    }

    #[test]
    fn a_fine_clock_keeps_its_paths_and_a_coarse_one_takes_whole_passes() {
        let mut rng = SplitMix64(41);
        let (deltas, paths) = default_passes(140, &mut rng);
        let policy = CreditPolicy::default();
        // On a 1 ns clock the paths together credit far more than a pass.
        let fine = startup_checks(&deltas, &paths, &ran_ahead(), &policy).expect("credited");
        assert!(!fine.whole_passes);
        let whole_pass = fine.other_bits_per_pass.expect("weighed");
        assert!(
            whole_pass > 0.0 && whole_pass < fine.bits_per_pass(),
            "{fine:?}"
        );
        assert!(fine.sources.get(KernelPath::Pass).is_none());
        // The same passes counted in 80 ns ticks: the short paths span
        // 12-31 ticks, the timer read 187-238, a pass about 420.
        let coarse: Vec<u64> = deltas.iter().map(|d| d / 80).collect();
        let r = startup_checks(&coarse, &paths, &ran_ahead(), &policy).expect("credited");
        assert!(r.whole_passes, "{r:?}");
        assert!(r.bits_per_pass() > r.other_bits_per_pass.expect("weighed"));
        // Cut in thirds: three samples a pass.
        assert!(r.thirds, "{r:?}");
        assert_eq!(r.samples, 3 * 139);
        // Not allowed to, start-up keeps the paths and weighs nothing else.
        let kept = startup_checks(
            &coarse,
            &paths,
            &ran_ahead(),
            &policy.with_whole_passes(false),
        )
        .expect("credited");
        assert!(!kept.whole_passes);
        assert_eq!(kept.other_bits_per_pass, None);
        assert!(kept.bits_per_pass() < r.bits_per_pass());
        // A window sampled per wakeup has nothing to weigh.
        let pass_paths = vec![KernelPath::Pass; 2048];
        let per_wakeup: Vec<u64> = (0..2048).map(|_| 20_000 + rng.next() % 4096).collect();
        let r = startup_checks(&per_wakeup, &pass_paths, &ran_ahead(), &policy).expect("credited");
        assert!(!r.whole_passes);
        assert_eq!(r.other_bits_per_pass, None);
    }

    #[test]
    fn a_coarse_pass_of_the_default_shape_is_cut_in_thirds_where_they_credit_more() {
        // 56 ns ticks: thirds of about 420, 121 and 150 steps (7/16 +
        // 2/16 + 2/16), a pass of about 690 (8/16).
        let (coarse, paths) = default_passes_in_ticks(43, 56);
        let policy = CreditPolicy::default();
        let r = startup_checks(&coarse, &paths, &ran_ahead(), &policy).expect("credited");
        assert!(r.whole_passes && r.thirds, "{r:?}");
        assert!(r.sources.get(KernelPath::Pass).is_none());
        let thirds: f64 = KernelPath::THIRDS.iter().map(|&p| r.credit(p)).sum();
        assert_eq!(r.bits_per_pass(), thirds);
        for third in KernelPath::THIRDS {
            let s = r.sources.get(third).expect("each third a source");
            assert_eq!(s.samples, 139);
            assert!(s.timer_driven && s.credit > 0.0, "{s:?}");
        }
        // More than the pass whole could have had at its steps.
        assert!(
            thirds > crate::ceiling(KernelPath::Pass, 420.0, true),
            "{r:?}"
        );

        // Two socket pairs, 80 ns ticks: thirds of three kernel paths,
        // fewer than the thirds were measured on: the pass is taken whole.
        let (coarse, paths) = default_passes_in_ticks(43, 80);
        let two_pairs: Vec<bool> = paths
            .iter()
            .scan(0usize, |i, _| {
                *i += 1;
                // Drop the third and fourth socket drain and poke of each
                // pass (positions 4, 5, 9 and 10 of the fifteen).
                Some(!matches!((*i - 1) % 15, 4 | 5 | 9 | 10))
            })
            .collect();
        fn keep<T: Copy>(v: &[T], mask: &[bool]) -> Vec<T> {
            v.iter()
                .zip(mask)
                .filter(|(_, k)| **k)
                .map(|(x, _)| *x)
                .collect()
        }
        let (thin, thin_paths) = (keep(&coarse, &two_pairs), keep(&paths, &two_pairs));
        let events = EventCounts {
            kernel_paths: 1000 * 11,
            ..ran_ahead()
        };
        let r = startup_checks(&thin, &thin_paths, &events, &policy).expect("credited");
        assert!(r.whole_passes && !r.thirds, "{r:?}");
        // Passes that waited for their timer: never cut in thirds.
        let r = startup_checks(&coarse, &paths, &timer_paced(1.1), &policy);
        assert!(r.map_or(true, |r| !r.thirds));
    }

    #[test]
    fn passes_without_a_timer_read_or_inotify_drain_are_not_cut_in_thirds() {
        // A kqueue pass with five socket pairs and five files: five kernel
        // paths a third, but no timer read or inotify drain, so not the
        // shape the thirds were measured on.
        use KernelPath::*;
        let mut rng = SplitMix64(47);
        let (mut deltas, mut paths) = (Vec::new(), Vec::new());
        while deltas.len() < 2048 {
            let shape = [Wait]
                .into_iter()
                .chain([SocketDrain; 5])
                .chain([SocketPoke; 5])
                .chain([FileTouch; 5]);
            for path in shape {
                let base = if path == Wait { 40 } else { 25 };
                deltas.push(base + rng.next() % 16);
                paths.push(path);
            }
        }
        let policy = CreditPolicy::default();
        let r = startup_checks(&deltas[..2048], &paths[..2048], &ran_ahead(), &policy);
        assert!(r.map_or(true, |r| !r.thirds));
    }

    #[test]
    fn thirds_that_credit_a_pass_as_much_as_the_whole_are_taken() {
        // 100 ns ticks: whole passes and their thirds both credit a pass
        // 8/16 bit; the thirds' start-up test is 342 passes, not 1024.
        let (coarse, paths) = default_passes_in_ticks(43, 100);
        let policy = CreditPolicy::default();
        let r = startup_checks(&coarse, &paths, &ran_ahead(), &policy).expect("credited");
        assert!(r.whole_passes && r.thirds, "{r:?}");
        assert!(
            KernelPath::THIRDS.iter().all(|&t| r.credit(t) > 0.0),
            "{r:?}"
        );
        let resolution = detect_resolution(&coarse);
        let passes = pass_sums(&coarse, &paths);
        let whole = decide(
            &passes,
            &vec![KernelPath::Pass; passes.len()],
            &ran_ahead(),
            &policy,
            resolution,
        )
        .expect("whole passes credited");
        assert_eq!(r.bits_per_pass(), whole.bits_per_pass(), "{r:?} {whole:?}");
    }

    #[test]
    fn a_tie_with_a_third_credited_nothing_keeps_the_whole_pass() {
        // 220 ns ticks and a 1/4-bit cap: the first third is credited the
        // cap, the others nothing, and the whole pass the same 1/4 bit, at
        // steps where it keeps it longer: nothing to gain from thirds.
        let (coarse, paths) = default_passes_in_ticks(43, 220);
        let policy = CreditPolicy::capped(0.25);
        let resolution = detect_resolution(&coarse);
        let mut thirds = thirds_of(&coarse, &paths, &[], 140, &ran_ahead(), &policy, resolution)
            .expect("weighed")
            .expect("credited");
        thirds.thirds = true;
        assert!(
            KernelPath::THIRDS.iter().any(|&t| thirds.credit(t) == 0.0),
            "{thirds:?}"
        );
        let r = startup_checks(&coarse, &paths, &ran_ahead(), &policy).expect("credited");
        assert!(r.whole_passes && !r.thirds, "{r:?}");
        assert_eq!(r.bits_per_pass(), thirds.bits_per_pass(), "a tie: {r:?}");
    }

    #[test]
    fn the_paths_ceilings_bound_their_assessed_credit() {
        // Over clocks from fine to coarser than the thirds were measured
        // on, timer-driven or paced: what the paths' ceilings allow is
        // never below what assessing them credits, so skipping them where
        // that is under the bar changes no decision.
        let mut rng = SplitMix64(51);
        let (deltas, paths) = default_passes(140, &mut rng);
        let waits = paths.iter().filter(|&&p| p == KernelPath::Wait).count();
        let policy = CreditPolicy::default();
        for tick in [1, 3, 10, 24, 42, 52, 64, 80, 120, 200] {
            let ticks: Vec<u64> = deltas.iter().map(|d| d / tick).collect();
            let resolution = detect_resolution(&ticks);
            for events in [ran_ahead(), timer_paced(1.1)] {
                let at_most =
                    paths_credit_at_most(&ticks, &paths, waits, &events, &policy, resolution);
                let assessed = decide(&ticks, &paths, &events, &policy, resolution)
                    .map_or(0.0, |r| r.bits_per_pass());
                assert!(assessed <= at_most, "{tick} ns: {assessed} > {at_most}");
            }
        }
    }

    #[test]
    fn whole_passes_win_unassessed_paths_as_they_win_assessed_ones() {
        let policy = CreditPolicy::default();
        // 80 ns ticks: the paths' ceilings summed stay under twice the
        // pass's credit, so they are not assessed.
        let (coarse, paths) = default_passes_in_ticks(53, 80);
        let r = startup_checks(&coarse, &paths, &ran_ahead(), &policy).expect("credited");
        assert!(r.whole_passes && !r.other_assessed, "{r:?}");
        // The figure given is the bound, and assessing the paths gives
        // them no more.
        let resolution = detect_resolution(&coarse);
        let assessed = decide(&coarse, &paths, &ran_ahead(), &policy, resolution)
            .expect("paths credited")
            .bits_per_pass();
        let at_most = r.other_bits_per_pass.expect("weighed");
        assert!(assessed <= at_most, "{assessed} > {at_most}");
        // Assessed, the paths lose to the whole pass all the same.
        let whole = decide(
            &pass_sums(&coarse, &paths),
            &[KernelPath::Pass; 139],
            &ran_ahead(),
            &policy,
            resolution,
        )
        .expect("whole passes credited");
        assert!(assessed < MIN_PATHS_GAIN_OVER_WHOLE_PASSES * whole.bits_per_pass());
        assert!(at_most < MIN_PATHS_GAIN_OVER_WHOLE_PASSES * whole.bits_per_pass());
        // A fine clock: the paths could win, so they are assessed, and do.
        let (deltas, _) = default_passes_in_ticks(53, 1);
        let fine = startup_checks(&deltas, &paths, &ran_ahead(), &policy).expect("credited");
        assert!(!fine.whole_passes && fine.other_assessed, "{fine:?}");
    }

    #[test]
    fn thirds_replace_whole_passes_only_where_those_beat_the_paths() {
        // A fine clock: the paths are credited far more than twice a whole
        // pass, so neither whole passes nor thirds are taken.
        let mut rng = SplitMix64(49);
        let (deltas, paths) = default_passes(140, &mut rng);
        let r = startup_checks(&deltas, &paths, &ran_ahead(), &CreditPolicy::default())
            .expect("credited");
        assert!(!r.whole_passes && !r.thirds, "{r:?}");
    }

    #[test]
    fn a_coarse_clock_names_what_the_longest_path_needed() {
        // Short paths only (a kqueue pass has no timer read), the longest
        // spanning 17-21 steps of 1000 ticks, 19 in the median: below the
        // short paths' 20, above the timer's 16.
        let mut rng = SplitMix64(7);
        let shape = [
            KernelPath::Wait,
            KernelPath::SocketDrain,
            KernelPath::FileTouch,
        ];
        let paths: Vec<KernelPath> = (0..2048).map(|i| shape[i % 3]).collect();
        let deltas: Vec<u64> = paths
            .iter()
            .map(|&p| {
                let (base, spread) = if p == KernelPath::Wait {
                    (17, 5)
                } else {
                    (5, 7)
                };
                (base + rng.next() % spread) * 1000
            })
            .collect();
        // The refusal's (median steps, steps needed) for these deltas, each
        // path on its own (whole passes of them span 27-43 steps, and are
        // credited: below).
        let per_path = CreditPolicy::default().with_whole_passes(false);
        let refusal = |deltas: &[u64]| match startup_checks(deltas, &paths, &ran_ahead(), &per_path)
        {
            Err(StartupFailure::CoarseClock {
                median_steps,
                min_median_steps,
                ..
            }) => (median_steps, min_median_steps),
            other => panic!("{other:?}"),
        };
        assert_eq!(refusal(&deltas), (19.0, MIN_SHORT_MEDIAN_STEPS));
        let whole = startup_checks(&deltas, &paths, &ran_ahead(), &CreditPolicy::default())
            .expect("whole passes");
        assert!(whole.whole_passes, "{whole:?}");
        assert_eq!(whole.credit(KernelPath::Pass), crate::CREDIT_STEP);
        // A socket drain of 24-28 steps is the longest: past the short
        // paths' 20, but a drain is credited only from 30.
        let deltas: Vec<u64> = paths
            .iter()
            .map(|&p| {
                let base = if p == KernelPath::SocketDrain { 24 } else { 5 };
                (base + rng.next() % 5) * 1000
            })
            .collect();
        let (median_steps, min_median_steps) = refusal(&deltas);
        assert!((24.0..=28.0).contains(&median_steps), "{median_steps}");
        assert_eq!(min_median_steps, 30.0);
    }

    #[test]
    fn a_periodic_source_is_refused_by_the_estimators() {
        let deltas: Vec<u64> = (0..2048u64).map(|i| 30_000 + (i % 7) * 977).collect();
        let paths = vec![KernelPath::Pass; 2048];
        match startup_checks(&deltas, &paths, &ran_ahead(), &CreditPolicy::default()) {
            Err(StartupFailure::LowEntropy {
                estimate, required, ..
            }) => {
                assert!(estimate < required)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn detect_step_keeps_whole_steps() {
        let ticks: Vec<u64> = (0..1000u64).map(|i| (i * 7919 % 400 + 900) * 26).collect();
        assert_eq!(detect_step(&ticks), 26);
        assert_eq!(detect_step(&[5, 10, 15]), 1, "too few deltas");
        let huge: Vec<u64> = (0..64u64).map(|i| u64::MAX - i % 3).collect();
        assert_eq!(detect_step(&huge), 1);
    }
}
