//! The low-level collector: one event queue, many event types, raw clock
//! deltas between consecutive returns of the wait call.

use std::os::fd::BorrowedFd;
use std::time::Duration;

use crate::config::KqueueEventsConfig;
use crate::error::{Error, Result};
use crate::sys;
pub use crate::sys::{ClockInfo, EventCounts};

/// The most samples one [`Collector::collect`] or
/// [`KqSeeder::collect_raw`](crate::KqSeeder::collect_raw) call returns:
/// 2^27 deltas, 1 GiB. Larger requests are [`Error::TooLarge`]; stream with
/// [`Collector::fill`] instead.
pub const MAX_COLLECT_SAMPLES: usize = 1 << 27;

/// Counters kept by a [`Collector`] since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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
}

/// One raw sample: the time between two consecutive returns of the wait call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// The delta, in the clock's native ticks (see [`ClockInfo`]).
    pub delta: u64,
    /// What the second of the two returns brought.
    pub events: EventCounts,
}

/// Registers timers, socket pairs and watched files on one event queue
/// (kqueue or epoll) and turns the returns of its wait call into raw timing
/// deltas.
///
/// Each [`step`](Collector::step) makes wait calls until one returns events
/// and yields the clock delta since the previous return. The collector drives
/// the non-timer sources itself: when a timer fires it writes a byte into the
/// next socket pair and the next watched file (round robin), so that their
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
/// let step = kqseed::detect_step(&deltas);
/// let symbols: Vec<u8> = deltas.iter().map(|&d| kqseed::symbol(d, step)).collect();
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
    last_return: Option<u64>,
    stats: CollectorStats,
    stimulus: Stimulus,
}

/// Round-robin choice of the socket pair and file written at the next timer
/// wakeup.
#[derive(Debug, Default)]
struct Stimulus {
    next_socket: usize,
    next_file: usize,
}

impl Stimulus {
    fn apply(&mut self, config: &KqueueEventsConfig, queue: &mut sys::EventQueue) -> Result<()> {
        let sources = queue.sources();
        if config.num_sockets > 0 {
            sources.poke_socket(self.next_socket)?;
            self.next_socket = (self.next_socket + 1) % config.num_sockets;
        }
        if config.num_file_watchers > 0 {
            sources.touch_file(self.next_file)?;
            self.next_file = (self.next_file + 1) % config.num_file_watchers;
        }
        Ok(())
    }
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
        let mut collector = Collector {
            config,
            queue: None,
            clock,
            last_return: None,
            stats: CollectorStats::default(),
            stimulus: Stimulus::default(),
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
        }
        if self.queue.is_none() {
            let mut queue = sys::Queue::open(&self.config)?;
            self.last_return = None;
            if self.config.timer_intervals.is_empty() {
                // Nothing would ever fire otherwise.
                if let Some(q) = queue.get() {
                    self.stimulus.apply(&self.config, q)?;
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
        let result = result.and_then(|wakeup| {
            let wants_stimulus = wakeup.events.timer > 0 || self.config.timer_intervals.is_empty();
            if let (true, Some(queue)) = (
                wants_stimulus,
                self.queue.as_mut().and_then(sys::Queue::get),
            ) {
                self.stimulus.apply(&self.config, queue)?;
            }
            Ok(wakeup)
        });
        match result {
            Ok(wakeup) => {
                self.stats.wakeups += 1;
                self.stats.events.add(&wakeup.events);
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
                self.last_return = None;
                Err(e)
            }
        }
    }

    /// The delta to `wakeup` from the previous return, if there was one.
    fn pair(&mut self, wakeup: sys::Wakeup) -> Option<Sample> {
        let previous = self.last_return.replace(wakeup.at)?;
        self.stats.samples += 1;
        Some(Sample {
            delta: wakeup.at.wrapping_sub(previous),
            events: wakeup.events,
        })
    }

    /// Like [`step`](Collector::step), but never waits: `Ok(None)` when no
    /// event is pending now (the queue's fd, [`queue_fd`](Collector::queue_fd),
    /// becomes readable when one is). For async runtimes. After `None` the
    /// next delta still runs from the last return, as a blocking step's runs
    /// across its wait; after [`restart_pair`](Collector::restart_pair) it
    /// needs two fresh returns.
    pub fn try_step(&mut self) -> Result<Option<Sample>> {
        loop {
            match self.wake(Duration::ZERO) {
                Ok(wakeup) => {
                    if let Some(sample) = self.pair(wakeup) {
                        return Ok(Some(sample));
                    }
                }
                Err(Error::WaitTimedOut { .. }) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    /// Forgets the last return, so that the next delta starts from the next
    /// one: call it when the loop paused between steps (an async task that
    /// yielded), so that no delta measures the pause.
    pub fn restart_pair(&mut self) {
        self.last_return = None;
    }

    /// Waits for the next return of the wait call that has a predecessor and
    /// returns the delta between the two.
    ///
    /// After an error, the collector stays usable and the next call starts a
    /// fresh pair of returns, so no delta ever spans a failure.
    pub fn step(&mut self) -> Result<Sample> {
        loop {
            let wakeup = self.wake(self.config.timeout)?;
            if let Some(sample) = self.pair(wakeup) {
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
