//! The low-level collector: one event queue, many event types, raw clock
//! deltas between consecutive returns of the wait call.

use std::os::fd::BorrowedFd;
use std::time::Duration;

use zeroize::Zeroize;

use crate::config::{
    ADAPT_BELOW_EXPIRATIONS_PER_TIMER_EVENT, ADAPT_TARGET_EXPIRATIONS_PER_TIMER_EVENT,
    KqueueEventsConfig, MIN_ADAPTED_TIMER_INTERVAL, Sampling,
};
use crate::error::{Error, Result};
use crate::sys;
pub use crate::sys::{ClockInfo, EventCounts, KernelPath};
use crate::sys::{MAX_MARKS, Marks};

/// The most samples one [`Collector::collect`] or
/// [`KqSeeder::collect_raw`](crate::KqSeeder::collect_raw) call returns:
/// 2^27 deltas, 1 GiB. Larger requests are [`Error::TooLarge`]; stream with
/// [`Collector::fill`] instead.
pub const MAX_COLLECT_SAMPLES: usize = 1 << 27;

/// Counters kept by a [`Collector`] since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CollectorStats {
    /// Samples (deltas) produced.
    pub samples: u64,
    /// Returns of the wait call that brought events.
    pub wakeups: u64,
    /// Wait calls that timed out.
    pub timeouts: u64,
    /// Times the queue was rebuilt after a `fork()`.
    pub rebuilds: u64,
    /// Events by type, over all wakeups.
    pub events: EventCounts,
    /// Where the collector shortened its timers because its passes did
    /// not outrun them ([`KqueueEventsConfig::adapt_timers`]): the timer
    /// events it measured the pace over, counted as the pace checks count
    /// them ([`EventCounts::add_paced`]; their
    /// [`expirations_per_timer_event`](EventCounts::expirations_per_timer_event)
    /// is the pace). The intervals in force are [`Collector::config`]'s.
    pub timers_shortened_after: Option<EventCounts>,
}

/// Timer events at the start of a queue that the pace adaptation
/// ([`KqueueEventsConfig::adapt_timers`]) leaves out: a new queue's first
/// passes run with cold caches, slower than the steady state.
const PACE_SKIPPED_TIMER_EVENTS: u64 = 6;

/// Timer events the pace adaptation measures, after the skipped ones.
const PACE_MEASURED_TIMER_EVENTS: u64 = 10;

/// Where the pace adaptation stands.
#[derive(Debug, Clone, Copy)]
enum Pace {
    /// Counting the first timer events' expirations (as the pace checks
    /// count them: [`EventCounts::add_paced`]).
    Measuring { skipped: u64, counted: EventCounts },
    /// The timers were just re-armed: the pass under way (and its
    /// samples still to hand out) ran under the old ones, so the timers
    /// count as settled from the next wakeup on.
    Rearmed,
    /// Measured (and acted on, or not), or not to be adapted at all.
    Settled,
}

/// The intervals that would have given `intervals`' timers
/// [`ADAPT_TARGET_EXPIRATIONS_PER_TIMER_EVENT`] at the measured `pace`, all
/// scaled by one factor so that distinct intervals stay distinct, the
/// shortest no shorter than [`MIN_ADAPTED_TIMER_INTERVAL`] (or than it
/// was); `None` when the pace is at least
/// [`ADAPT_BELOW_EXPIRATIONS_PER_TIMER_EVENT`], not a number, or the
/// intervals would not shorten.
fn adapted_intervals(intervals: &[Duration], pace: f64) -> Option<Vec<Duration>> {
    if pace.is_nan() || pace >= ADAPT_BELOW_EXPIRATIONS_PER_TIMER_EVENT {
        return None;
    }
    let shortest = intervals.iter().min()?.as_nanos() as f64;
    let floor = MIN_ADAPTED_TIMER_INTERVAL.as_nanos() as f64 / shortest;
    let factor = (pace.max(0.0) / ADAPT_TARGET_EXPIRATIONS_PER_TIMER_EVENT).max(floor);
    if factor >= 1.0 {
        return None;
    }
    let adapted: Vec<Duration> = intervals
        .iter()
        .map(|d| Duration::from_nanos((d.as_nanos() as f64 * factor).round() as u64))
        .collect();
    // Intervals a nanosecond or two apart could round together.
    let distinct = adapted
        .iter()
        .enumerate()
        .all(|(i, d)| !adapted[..i].contains(d));
    distinct.then_some(adapted)
}

/// One raw sample: the time between two consecutive clock readings of the
/// collector's loop (two returns of the wait call, or with
/// [`Sampling::PerPath`] the two ends of one kernel path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// The delta, in the clock's native ticks (see [`ClockInfo`]).
    pub delta: u64,
    /// The kernel path the delta measured ([`KernelPath::Pass`] when
    /// sampling per wakeup).
    pub path: KernelPath,
    /// What the wait call's return brought: on the sample that ends at that
    /// return ([`KernelPath::Wait`] or [`KernelPath::Pass`]); zero on the
    /// other paths' samples.
    pub events: EventCounts,
}

/// Registers timers, socket pairs and watched files on one event queue
/// (kqueue or epoll) and turns the returns of its wait call into raw timing
/// deltas.
///
/// Each [`step`](Collector::step) makes wait calls until one returns events
/// and yields the clock delta since the previous return
/// ([`Sampling::PerWakeup`]), or, with [`Sampling::PerPath`], one delta per
/// kernel path of the pass: the clock is read after the wait's return and
/// after every syscall that follows (timer read, socket and file drains, the
/// stimulus writes), and the pass's deltas come out one per step, in order,
/// each labelled with its [`KernelPath`]. The collector drives
/// the non-timer sources itself: when a timer fires it writes a byte into
/// every socket pair and every watched file, so that their
/// kernel paths (socket wakeups, inotify or vnode notes) run between timer
/// wakeups and perturb them, instead of turning the loop into a spin on
/// always-ready descriptors. With no timers configured, every return
/// stimulates the next one: a fast loop whose symbols assess far lower
/// (README, "Choosing the default").
///
/// The raw deltas are not uniformly random and must not be used as keys: they
/// are the input to health tests and conditioning.
///
/// ```
/// use kqseed::{Collector, KqueueEventsConfig};
///
/// let mut collector = Collector::new(KqueueEventsConfig::default())?;
/// let deltas = collector.collect(256)?;
/// let resolution = kqseed::detect_resolution(&deltas);
/// let symbols: Vec<u8> = deltas.iter().map(|&d| kqseed::symbol(d, resolution)).collect();
/// assert_eq!(symbols.len(), 256);
/// assert!(collector.stats().events.timer > 0);
/// # Ok::<(), kqseed::Error>(())
/// ```
///
/// After a `fork()`, the child never touches the parent's queue: its first
/// call rebuilds one of its own, and until then [`queue_fd`](Collector::queue_fd)
/// and [`watch_dir`](Collector::watch_dir) return `None`. Dropping an
/// inherited collector in a child leaves the parent's queue and directory
/// alone. (Every OS resource carries the stamp of the process that made it;
/// see SECURITY.md, "Fork".)
///
/// `Collector` is `Send + Sync` on every backend.
pub struct Collector {
    config: KqueueEventsConfig,
    queue: Option<sys::Queue>,
    clock: ClockInfo,
    // The last clock reading a delta can start from: the last return (per
    // wakeup) or the last path's end (per path).
    last_mark: Option<u64>,
    /// The samples of the last pass not handed out yet (per-path sampling).
    pending: Pending,
    stats: CollectorStats,
    /// Returns of the wait call that had no mark to pair with, so gave no
    /// sample (after a restart, an error, a fork, or at the start).
    waits_lost: u64,
    /// The pace adaptation ([`KqueueEventsConfig::adapt_timers`]).
    pace: Pace,
}

/// The samples of one pass waiting to be handed out, at most
/// [`MAX_MARKS`]: fixed slots, each delta wiped once handed out, the rest
/// when the pass is dropped or the collector is.
struct Pending {
    slots: [Sample; MAX_MARKS],
    next: usize,
    len: usize,
}

impl Pending {
    const EMPTY: Sample = Sample {
        delta: 0,
        path: KernelPath::Pass,
        events: EventCounts {
            timer: 0,
            timer_expirations: 0,
            socket_read: 0,
            socket_write: 0,
            file: 0,
            wakeups: 0,
            kernel_paths: 0,
        },
    };

    fn new() -> Pending {
        Pending {
            slots: [Self::EMPTY; MAX_MARKS],
            next: 0,
            len: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.next == self.len
    }

    /// Wipes every slot and holds `samples` (the first `MAX_MARKS`: a pass
    /// keeps no more marks than that).
    fn replace(&mut self, samples: impl Iterator<Item = Sample>) {
        self.clear();
        for (slot, sample) in self.slots.iter_mut().zip(samples) {
            *slot = sample;
            self.len += 1;
        }
    }

    fn pop_front(&mut self) -> Option<Sample> {
        if self.is_empty() {
            return None;
        }
        let slot = &mut self.slots[self.next];
        let sample = *slot;
        slot.delta.zeroize();
        self.next += 1;
        Some(sample)
    }

    fn clear(&mut self) {
        for slot in &mut self.slots[..self.len] {
            slot.delta.zeroize();
        }
        (self.next, self.len) = (0, 0);
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.clear();
    }
}

/// The writes that make the socket pairs and watched files fire: at each
/// timer wakeup (or each return, without timers) one byte into every socket
/// pair and every file, each write followed by a clock mark.
fn stimulate(
    config: &KqueueEventsConfig,
    queue: &mut sys::EventQueue,
    marks: &mut Marks,
) -> Result<()> {
    let sources = queue.sources();
    for i in 0..config.num_sockets {
        sources.poke_socket(i)?;
        marks.mark(KernelPath::SocketPoke);
    }
    for i in 0..config.num_file_watchers {
        sources.touch_file(i)?;
        marks.mark(KernelPath::FileTouch);
    }
    Ok(())
}

impl core::fmt::Debug for Collector {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Collector")
            .field("backend", &sys::NAME)
            .field("clock", &self.clock)
            .field("config", &self.config)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Collector {
    /// Validates `config`, then opens the queue and registers every source.
    ///
    /// On error nothing is left open: no fd, no temporary file.
    pub fn new(config: KqueueEventsConfig) -> Result<Collector> {
        config.validate()?;
        let clock = sys::clock_info()?;
        let adapts =
            config.adapt_timers && sys::PERIODIC_TIMERS && !config.timer_intervals.is_empty();
        let mut collector = Collector {
            pace: if adapts {
                Pace::Measuring {
                    skipped: 0,
                    counted: EventCounts::default(),
                }
            } else {
                Pace::Settled
            },
            config,
            queue: None,
            clock,
            last_mark: None,
            waits_lost: 0,
            pending: Pending::new(),
            stats: CollectorStats::default(),
        };
        collector.queue()?;
        Ok(collector)
    }

    /// The queue, opened (or reopened in a forked child) when needed.
    fn queue(&mut self) -> Result<&mut sys::EventQueue> {
        if self.queue.as_ref().is_some_and(|q| !q.is_owned()) {
            // A forked child: the parent's queue is let go of (its Drop
            // abandons it) and the child builds its own.
            self.queue = None;
            self.stats.rebuilds += 1;
            if let Pace::Measuring { skipped, counted } = &mut self.pace {
                // Its first passes are a new queue's: skipped again.
                (*skipped, *counted) = (0, EventCounts::default());
            }
        }
        if self.queue.is_none() {
            let mut queue = sys::Queue::open(&self.config)?;
            self.last_mark = None;
            if self.config.timer_intervals.is_empty() {
                // Nothing would ever fire otherwise.
                if let Some(q) = queue.get() {
                    stimulate(&self.config, q, &mut Marks::default())?;
                }
            }
            self.queue = Some(queue);
        }
        match self.queue.as_mut() {
            Some(queue) => queue.owned(),
            None => Err(sys::Queue::not_owned()),
        }
    }

    /// One return of the wait call with events within `timeout`: its time
    /// and what it brought. Stimulates a socket pair and a file when it
    /// brought a timer. A poll (`Duration::ZERO`) that finds nothing is not
    /// counted as a timeout.
    fn wake(&mut self, timeout: Duration) -> Result<sys::Wakeup> {
        let result = self.queue().and_then(|queue| queue.wait(timeout));
        let result = result.and_then(|mut wakeup| {
            let wants_stimulus = wakeup.events.timer > 0 || self.config.timer_intervals.is_empty();
            if let (true, Some(queue)) = (
                wants_stimulus,
                self.queue.as_mut().and_then(sys::Queue::get),
            ) {
                stimulate(&self.config, queue, &mut wakeup.marks)?;
            }
            wakeup.events.wakeups = 1;
            // One timer read at most: the pass's row was measured with one
            // timer, and no pass of several has been assessed.
            let timer_reads = wakeup
                .marks
                .iter()
                .filter(|&(path, _)| path == KernelPath::TimerRead)
                .count();
            wakeup.events.kernel_paths =
                (wakeup.marks.len() - timer_reads.saturating_sub(1)) as u64;
            Ok(wakeup)
        });
        match result {
            Ok(wakeup) => {
                self.stats.wakeups += 1;
                self.stats.events.add(&wakeup.events);
                if let Err(e) = self.note_pace(&wakeup.events) {
                    self.last_mark = None;
                    return Err(e);
                }
                Ok(wakeup)
            }
            Err(Error::WaitTimedOut { .. }) if timeout.is_zero() => {
                // An empty poll is not a failure: the next return still
                // follows the last one (as after a blocking wait), so a
                // queue that brings one event per readiness still yields
                // samples. Pauses of the caller are cut by `restart_pair`.
                Err(Error::WaitTimedOut { timeout })
            }
            Err(e) => {
                if matches!(e, Error::WaitTimedOut { .. }) {
                    self.stats.timeouts += 1;
                }
                // The next delta must span two clean, consecutive returns.
                self.last_mark = None;
                Err(e)
            }
        }
    }

    /// Counts a wakeup's timer expirations towards the pace adaptation and,
    /// once enough are counted, shortens the timers if the passes did not
    /// outrun them ([`KqueueEventsConfig::adapt_timers`]). A failed re-arm
    /// is returned; the adaptation is not tried again.
    fn note_pace(&mut self, events: &EventCounts) -> Result<()> {
        if matches!(self.pace, Pace::Rearmed) {
            // The first wakeup after the re-arm: its samples are the new
            // timers'.
            self.pace = Pace::Settled;
            return Ok(());
        }
        let Pace::Measuring { skipped, counted } = &mut self.pace else {
            return Ok(());
        };
        if events.timer == 0 {
            return Ok(());
        }
        if *skipped < PACE_SKIPPED_TIMER_EVENTS {
            *skipped += events.timer;
            return Ok(());
        }
        counted.add_paced(events);
        if counted.timer < PACE_MEASURED_TIMER_EVENTS {
            return Ok(());
        }
        let (counted, pace) = (*counted, counted.expirations_per_timer_event());
        self.pace = Pace::Settled;
        let Some(adapted) = adapted_intervals(&self.config.timer_intervals, pace) else {
            return Ok(());
        };
        // Each interval into the config as its timer takes it, so that the
        // config is what is armed even if a re-arm fails part-way (a queue
        // rebuilt after a fork is opened from it).
        for (i, interval) in adapted.into_iter().enumerate() {
            self.queue()?.set_timer_interval(i, interval)?;
            self.config.timer_intervals[i] = interval;
        }
        self.stats.timers_shortened_after = Some(counted);
        self.pace = Pace::Rearmed;
        Ok(())
    }

    /// The first sample `wakeup` completes, if any; with per-path sampling
    /// the pass's other samples wait in `pending`.
    fn pair(&mut self, wakeup: &sys::Wakeup) -> Option<Sample> {
        if self.last_mark.is_none() {
            self.waits_lost += 1;
        }
        match self.config.sampling {
            Sampling::PerWakeup => {
                let at = wakeup.at();
                let previous = self.last_mark.replace(at)?;
                self.stats.samples += 1;
                Some(Sample {
                    delta: at.wrapping_sub(previous),
                    path: KernelPath::Pass,
                    events: wakeup.events,
                })
            }
            Sampling::PerPath => {
                let mut previous = self.last_mark;
                let samples = wakeup.marks.iter().filter_map(|(path, at)| {
                    let start = previous.replace(at)?;
                    let events = if path == KernelPath::Wait {
                        wakeup.events
                    } else {
                        EventCounts::default()
                    };
                    Some(Sample {
                        delta: at.wrapping_sub(start),
                        path,
                        events,
                    })
                });
                self.pending.replace(samples);
                self.last_mark = previous;
                self.next_pending()
            }
        }
    }

    /// The next sample of the last pass. None in a forked child: the
    /// parent hands out the same samples, so the child's copies go.
    fn next_pending(&mut self) -> Option<Sample> {
        if self.pending.is_empty() {
            return None;
        }
        if self.queue.as_ref().is_some_and(|q| !q.is_owned()) {
            self.pending.clear();
            return None;
        }
        let sample = self.pending.pop_front()?;
        self.stats.samples += 1;
        Some(sample)
    }

    /// Like [`step`](Collector::step), but never waits: `Ok(None)` when no
    /// event is pending now (the queue's fd, [`queue_fd`](Collector::queue_fd),
    /// becomes readable when one is). For async runtimes. After `None` the
    /// next delta still runs from the last return, as a blocking step's runs
    /// across its wait; after [`restart_pair`](Collector::restart_pair) it
    /// needs two fresh returns.
    pub fn try_step(&mut self) -> Result<Option<Sample>> {
        if let Some(sample) = self.next_pending() {
            return Ok(Some(sample));
        }
        loop {
            match self.wake(Duration::ZERO) {
                Ok(wakeup) => {
                    if let Some(sample) = self.pair(&wakeup) {
                        return Ok(Some(sample));
                    }
                }
                Err(Error::WaitTimedOut { .. }) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    /// Returns of the wait call that gave no sample, having no earlier mark
    /// to pair with: the first, and the first after each
    /// [`restart_pair`](Self::restart_pair), error or fork. Per path, the
    /// samples that follow one are the rest of a pass that lost its wait.
    pub(crate) fn waits_lost(&self) -> u64 {
        self.waits_lost
    }

    /// Forgets the last return, so that the next delta starts from the next
    /// one: call it when the loop paused between steps (an async task that
    /// yielded), so that no delta measures the pause.
    pub fn restart_pair(&mut self) {
        // Samples of the last pass still pending were measured before the
        // pause, within one pass: they stay.
        self.last_mark = None;
    }

    /// The next sample: per wakeup, waits for the next return of the wait
    /// call that has a predecessor and returns the delta between the two;
    /// per path, returns the pass's next path, waiting for the next pass
    /// when this one is used up.
    ///
    /// After an error, the collector stays usable and the next call starts a
    /// fresh pair of returns, so no delta ever spans a failure.
    pub fn step(&mut self) -> Result<Sample> {
        if let Some(sample) = self.next_pending() {
            return Ok(sample);
        }
        loop {
            let wakeup = self.wake(self.config.timeout)?;
            if let Some(sample) = self.pair(&wakeup) {
                return Ok(sample);
            }
        }
    }

    /// Fills `out` with consecutive deltas.
    ///
    /// On error, the deltas before the failure are in `out`, but how many is
    /// not returned; [`collect`](Collector::collect) returns whole vectors
    /// only.
    pub fn fill(&mut self, out: &mut [u64]) -> Result<()> {
        for slot in out {
            *slot = self.step()?.delta;
        }
        Ok(())
    }

    /// Collects `n` consecutive deltas.
    ///
    /// `n` above [`MAX_COLLECT_SAMPLES`], or more than memory allows, is
    /// [`Error::TooLarge`], before anything is collected.
    pub fn collect(&mut self, n: usize) -> Result<Vec<u64>> {
        let mut deltas = alloc_samples(n)?;
        deltas.resize(n, 0);
        self.fill(&mut deltas)?;
        Ok(deltas)
    }

    /// Whether the collector is done measuring its pace
    /// ([`KqueueEventsConfig::adapt_timers`]): until then it may still
    /// shorten its timers, so its samples are not yet those of the timers
    /// it will run under. Always true with `adapt_timers` off, without
    /// timers, and where timers are one-shot (FreeBSD, NetBSD, OpenBSD,
    /// DragonFly). A seeder's warm-up lasts until it is.
    pub fn timers_settled(&self) -> bool {
        matches!(self.pace, Pace::Settled)
    }

    /// Counters since the collector was made.
    pub fn stats(&self) -> &CollectorStats {
        &self.stats
    }

    /// The configuration in use.
    pub fn config(&self) -> &KqueueEventsConfig {
        &self.config
    }

    /// The clock the deltas are measured in.
    pub fn clock(&self) -> ClockInfo {
        self.clock
    }

    /// The backend: `"kqueue"` or `"epoll"`.
    pub fn backend() -> &'static str {
        sys::NAME
    }

    /// The private directory of the watched files, if any (removed when the
    /// collector is dropped). For tests and diagnostics.
    pub fn watch_dir(&self) -> Option<&std::path::Path> {
        self.queue
            .as_ref()
            .and_then(sys::Queue::get_ref)
            .and_then(|q| q.sources_ref().files.dir())
    }

    /// The queue's own fd: readable while an event is pending, so an async
    /// runtime can wait on it and then call [`step`](Collector::step).
    ///
    /// `None` in a forked child until its first [`step`](Collector::step)
    /// builds its own queue (the parent's is not the child's to wait on),
    /// and after a failed rebuild. The fd changes with the rebuild.
    pub fn queue_fd(&self) -> Option<BorrowedFd<'_>> {
        self.queue
            .as_ref()
            .and_then(sys::Queue::get_ref)
            .map(|q| q.as_fd())
    }
}

/// An empty vector with room for `n` samples, or [`Error::TooLarge`].
pub(crate) fn alloc_samples<T>(n: usize) -> Result<Vec<T>> {
    let too_large = Error::TooLarge {
        what: "samples",
        requested: n,
        max: MAX_COLLECT_SAMPLES,
    };
    if n > MAX_COLLECT_SAMPLES {
        return Err(too_large);
    }
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| too_large)?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Wakeup;

    fn per_path() -> Collector {
        let config = KqueueEventsConfig {
            sampling: Sampling::PerPath,
            ..KqueueEventsConfig::default()
        };
        Collector::new(config).expect("collector")
    }

    fn micros(us: &[f64]) -> Vec<Duration> {
        us.iter()
            .map(|&u| Duration::from_secs_f64(u / 1e6))
            .collect()
    }

    #[test]
    fn timers_shorten_to_the_aimed_pace_down_to_the_floor() {
        // Two expirations a timer event: 5 us would have given five at 2 us.
        assert_eq!(
            adapted_intervals(&micros(&[5.0]), 2.0),
            Some(micros(&[2.0]))
        );
        assert_eq!(
            adapted_intervals(&micros(&[5.0]), 3.0),
            Some(micros(&[3.0]))
        );
        // Never below the floor, and all timers by one factor.
        assert_eq!(
            adapted_intervals(&micros(&[5.0]), 0.5),
            Some(micros(&[2.0]))
        );
        assert_eq!(
            adapted_intervals(&micros(&[20.0, 26.0, 34.0]), 1.0),
            Some(micros(&[4.0, 5.2, 6.8]))
        );
        assert_eq!(
            adapted_intervals(&micros(&[3.0, 6.0]), 0.5),
            Some(micros(&[2.0, 4.0]))
        );
    }

    #[test]
    fn timers_that_the_passes_outrun_or_at_the_floor_stay() {
        for pace in [ADAPT_BELOW_EXPIRATIONS_PER_TIMER_EVENT, 4.0, f64::NAN] {
            assert_eq!(adapted_intervals(&micros(&[5.0]), pace), None, "{pace}");
        }
        assert_eq!(adapted_intervals(&micros(&[2.0]), 1.0), None);
        assert_eq!(adapted_intervals(&[], 1.0), None);
        // Timers a nanosecond apart that would round together stay.
        let close = [Duration::from_nanos(9_000), Duration::from_nanos(9_001)];
        assert_eq!(adapted_intervals(&close, 1.0), None);
    }

    /// Feeds `events` timer events of `expirations` each to the pace
    /// adaptation, as wakeups would.
    fn pace(collector: &mut Collector, events: u64, expirations: u64) {
        let wakeup = EventCounts {
            timer: 1,
            timer_expirations: expirations,
            ..EventCounts::default()
        };
        for _ in 0..events {
            collector.note_pace(&wakeup).expect("re-armed");
        }
    }

    #[test]
    fn a_collector_whose_passes_lag_their_timer_shortens_it_once() {
        let mut c = per_path();
        let configured = c.config().timer_intervals.clone();
        if !sys::PERIODIC_TIMERS {
            // One-shot timers report one expiration an event, whatever the
            // pace: nothing to measure, nothing changes.
            assert!(c.timers_settled());
            pace(&mut c, 4 * PACE_MEASURED_TIMER_EVENTS, 1);
            assert_eq!(c.config().timer_intervals, configured);
            return;
        }
        assert!(!c.timers_settled());
        // The first timer events do not count, however slow: 800 each.
        pace(&mut c, PACE_SKIPPED_TIMER_EVENTS, 800);
        pace(&mut c, PACE_MEASURED_TIMER_EVENTS - 1, 2);
        assert_eq!(c.config().timer_intervals, configured);
        assert!(!c.timers_settled());
        pace(&mut c, 1, 2);
        // Re-armed: the pass under way ran under the old timers, so they
        // are settled from the next wakeup on, whatever it brings.
        assert!(!c.timers_settled());
        let adapted = adapted_intervals(&configured, 2.0).expect("shorter");
        assert_eq!(c.config().timer_intervals, adapted);
        c.note_pace(&EventCounts::default()).expect("noted");
        assert!(c.timers_settled());
        assert_eq!(c.config().timer_intervals, adapted);
        let counted = c.stats().timers_shortened_after.expect("shortened");
        assert_eq!(
            (counted.timer, counted.expirations_per_timer_event()),
            (PACE_MEASURED_TIMER_EVENTS, 2.0)
        );
        // Once: a slower pace later changes nothing.
        pace(&mut c, 4 * PACE_MEASURED_TIMER_EVENTS, 1);
        assert_eq!(c.config().timer_intervals, adapted);
        // The re-armed queue still runs, and its timer fires.
        let before = c.stats().events.timer;
        for _ in 0..64 {
            c.step().expect("a sample");
        }
        assert!(c.stats().events.timer > before);
    }

    #[test]
    fn timers_stay_when_outrun_or_when_adapting_is_off() {
        let mut outrun = per_path();
        let configured = outrun.config().timer_intervals.clone();
        pace(
            &mut outrun,
            PACE_SKIPPED_TIMER_EVENTS + PACE_MEASURED_TIMER_EVENTS,
            4,
        );
        assert!(outrun.timers_settled());
        // Measured once and settled: a lag after it changes nothing.
        pace(&mut outrun, 4 * PACE_MEASURED_TIMER_EVENTS, 1);
        assert_eq!(outrun.config().timer_intervals, configured);
        assert_eq!(outrun.stats().timers_shortened_after, None);

        let config = KqueueEventsConfig::default().with_adapt_timers(false);
        // Intervals asked for are kept too.
        let asked = KqueueEventsConfig::default().with_timer_intervals(configured.clone());
        assert!(!asked.adapt_timers);
        let mut fixed = Collector::new(config).expect("collector");
        assert!(fixed.timers_settled());
        pace(&mut fixed, 4 * PACE_MEASURED_TIMER_EVENTS, 1);
        assert_eq!(fixed.config().timer_intervals, configured);
        assert_eq!(fixed.stats().timers_shortened_after, None);
    }

    fn wakeup(at: u64, paths: &[(KernelPath, u64)]) -> Wakeup {
        let events = EventCounts {
            timer: 1,
            ..EventCounts::default()
        };
        let mut wakeup = Wakeup::new(at, events);
        for &(path, at) in paths {
            wakeup.marks.push(path, at);
        }
        wakeup
    }

    fn drain(collector: &mut Collector, first: Option<Sample>) -> Vec<(KernelPath, u64)> {
        let mut out: Vec<(KernelPath, u64)> = first.iter().map(|s| (s.path, s.delta)).collect();
        while let Some(s) = collector.next_pending() {
            out.push((s.path, s.delta));
        }
        out
    }

    #[test]
    fn per_path_sampling_yields_one_delta_per_path_in_order() {
        let mut c = per_path();
        c.last_mark = None;
        let pass = [
            (KernelPath::TimerRead, 1_100),
            (KernelPath::SocketDrain, 1_350),
            (KernelPath::SocketPoke, 1_400),
            (KernelPath::FileTouch, 1_900),
        ];
        // The first pass has no predecessor for its wait: its paths only.
        let first = c.pair(&wakeup(1_000, &pass));
        assert_eq!(
            drain(&mut c, first),
            [
                (KernelPath::TimerRead, 100),
                (KernelPath::SocketDrain, 250),
                (KernelPath::SocketPoke, 50),
                (KernelPath::FileTouch, 500),
            ]
        );
        // The next pass's wait runs from the last path's end.
        let later = pass.map(|(p, at)| (p, at + 10_000));
        let first = c.pair(&wakeup(11_000, &later)).expect("a sample");
        assert_eq!(first.path, KernelPath::Wait);
        assert_eq!(first.delta, 11_000 - 1_900);
        assert_eq!(first.events.timer, 1, "the wait carries the events");
        let rest = drain(&mut c, None);
        assert_eq!(rest.len(), 4);
        assert_eq!(c.stats().samples, 9);
    }

    #[test]
    fn pending_samples_are_wiped_once_handed_out_and_when_replaced() {
        let sample = |delta| Sample {
            delta,
            ..Pending::EMPTY
        };
        let mut pending = Pending::new();
        pending.replace([7, 8, 9].into_iter().map(sample));
        assert_eq!(pending.pop_front().map(|s| s.delta), Some(7));
        assert_eq!(pending.slots[0].delta, 0, "handed out, wiped");
        assert_eq!(pending.slots[1].delta, 8);
        pending.replace([5].into_iter().map(sample));
        assert_eq!(pending.slots[1].delta, 0, "replaced, wiped");
        assert_eq!(pending.slots[2].delta, 0, "replaced, wiped");
        assert_eq!(pending.pop_front().map(|s| s.delta), Some(5));
        assert!(pending.pop_front().is_none());
        pending.replace((0..2 * MAX_MARKS as u64).map(sample));
        assert_eq!(
            pending.len, MAX_MARKS,
            "a pass keeps no more than MAX_MARKS"
        );
        pending.clear();
        assert!(pending.slots.iter().all(|s| s.delta == 0));
    }

    #[test]
    fn a_restart_keeps_the_pending_paths_but_never_spans_the_pause() {
        let mut c = per_path();
        c.last_mark = Some(0);
        let first = c.pair(&wakeup(500, &[(KernelPath::SocketPoke, 600)]));
        assert_eq!(first.map(|s| s.path), Some(KernelPath::Wait));
        let lost = c.waits_lost();
        c.restart_pair();
        c.restart_pair();
        // Measured before the pause, inside one pass: still handed out.
        let pending = c.next_pending().expect("pending");
        assert_eq!((pending.path, pending.delta), (KernelPath::SocketPoke, 100));
        // After the pause, the wait has no start: the pass begins with its
        // first path.
        let next = c.pair(&wakeup(90_000, &[(KernelPath::FileTouch, 90_700)]));
        assert_eq!(
            next.map(|s| (s.path, s.delta)),
            Some((KernelPath::FileTouch, 700))
        );
        // One wait lost, however many restarts came before it, and counted
        // (the seeder tells the pass repetition test).
        assert_eq!(c.waits_lost(), lost + 1);
        c.pair(&wakeup(91_000, &[]));
        assert_eq!(c.waits_lost(), lost + 1);
    }

    #[test]
    fn per_wakeup_sampling_spans_the_whole_pass() {
        let config = KqueueEventsConfig {
            sampling: Sampling::PerWakeup,
            ..KqueueEventsConfig::default()
        };
        let mut c = Collector::new(config).expect("collector");
        c.last_mark = Some(1_000);
        let sample = c
            .pair(&wakeup(4_000, &[(KernelPath::SocketPoke, 4_100)]))
            .expect("a sample");
        assert_eq!((sample.path, sample.delta), (KernelPath::Pass, 3_000));
        assert!(c.next_pending().is_none());
    }

    #[test]
    fn marks_beyond_the_capacity_are_dropped_not_misattributed() {
        let mut marks = Marks::default();
        for i in 0..MAX_MARKS as u64 + 5 {
            marks.push(KernelPath::SocketDrain, i);
        }
        assert_eq!(marks.iter().count(), MAX_MARKS);
        assert_eq!(
            marks.iter().last(),
            Some((KernelPath::SocketDrain, MAX_MARKS as u64 - 1))
        );
    }
}
