//! The low-level collector: one event queue, many event types, raw clock
//! deltas between consecutive returns of the wait call.

use std::os::fd::BorrowedFd;

use crate::config::KqueueEventsConfig;
use crate::error::{Error, Result};
use crate::sys;

/// Which counter the collector reads, and how fine it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockInfo {
    /// The counter's name, e.g. `"CLOCK_MONOTONIC_RAW"`.
    pub name: &'static str,
    /// Nanoseconds per tick of the collector's deltas's unit.
    pub nanos_per_tick: f64,
    /// The resolution the OS reports for it, in nanoseconds.
    pub resolution_nanos: f64,
}

/// Events returned by the queue, by type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventCounts {
    /// Timer events (one per timer per return, however many expirations).
    pub timer: u64,
    /// Timer expirations, including those that fired while nobody waited
    /// (epoll reports the count; kqueue's `data` field).
    pub timer_expirations: u64,
    /// Socket-readable events.
    pub socket_read: u64,
    /// Socket-writable events.
    pub socket_write: u64,
    /// File-watch events (inotify records / vnode notes).
    pub file: u64,
}

impl EventCounts {
    fn add(&mut self, other: &EventCounts) {
        self.timer += other.timer;
        self.timer_expirations += other.timer_expirations;
        self.socket_read += other.socket_read;
        self.socket_write += other.socket_write;
        self.file += other.file;
    }

    /// All events, of every type.
    pub fn total(&self) -> u64 {
        self.timer + self.socket_read + self.socket_write + self.file
    }
}

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
/// After a `fork()`, the first call in the child notices (through a
/// `pthread_atfork` hook) and rebuilds the queue, so parent and child never
/// share timers or sockets. The queue's fd ([`Collector::queue_fd`]) changes then.
pub struct Collector {
    config: KqueueEventsConfig,
    queue: Option<sys::EventQueue>,
    clock: ClockInfo,
    last_return: Option<u64>,
    fork_generation: u64,
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
            fork_generation: sys::fork_generation()?,
            stats: CollectorStats::default(),
            stimulus: Stimulus::default(),
        };
        collector.queue()?;
        Ok(collector)
    }

    /// The queue, opened (or reopened after `fork()`) when needed.
    fn queue(&mut self) -> Result<&mut sys::EventQueue> {
        let generation = sys::fork_generation()?;
        if generation != self.fork_generation {
            // A forked child: the epoll set and timerfds are the parent's
            // too. Let go of them and build our own.
            if let Some(queue) = self.queue.take() {
                queue.abandon_after_fork();
            }
            self.fork_generation = generation;
            self.stats.rebuilds += 1;
        }
        let queue = match self.queue.take() {
            Some(queue) => queue,
            None => {
                let mut queue = sys::EventQueue::open(&self.config)?;
                self.last_return = None;
                if self.config.timer_intervals.is_empty() {
                    // Nothing would ever fire otherwise.
                    self.stimulus.apply(&self.config, &mut queue)?;
                }
                queue
            }
        };
        Ok(self.queue.insert(queue))
    }

    /// One return of the wait call with events: its time and what it
    /// brought. Stimulates a socket pair and a file when it brought a timer.
    fn wake(&mut self) -> Result<sys::Wakeup> {
        let timeout = self.config.timeout;
        let result = self.queue().and_then(|queue| queue.wait(timeout));
        let result = result.and_then(|wakeup| {
            let wants_stimulus = wakeup.events.timer > 0 || self.config.timer_intervals.is_empty();
            if let (true, Some(queue)) = (wants_stimulus, self.queue.as_mut()) {
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

    /// Waits for the next return of the wait call that has a predecessor and
    /// returns the delta between the two.
    ///
    /// After an error, the collector stays usable and the next call starts a
    /// fresh pair of returns, so no delta ever spans a failure.
    pub fn step(&mut self) -> Result<Sample> {
        loop {
            let wakeup = self.wake()?;
            if let Some(previous) = self.last_return.replace(wakeup.at) {
                self.stats.samples += 1;
                return Ok(Sample {
                    delta: wakeup.at.wrapping_sub(previous),
                    events: wakeup.events,
                });
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
    pub fn collect(&mut self, n: usize) -> Result<Vec<u64>> {
        let mut deltas = vec![0; n];
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
            .and_then(|q| q.sources_ref().files.dir())
    }

    /// The queue's own fd: readable while an event is pending, so an async
    /// runtime can wait on it and then call [`step`](Collector::step).
    ///
    /// `None` only in a forked child whose rebuild failed; the next `step`
    /// tries again. The fd changes when the queue is rebuilt after `fork()`.
    pub fn queue_fd(&self) -> Option<BorrowedFd<'_>> {
        self.queue.as_ref().map(|q| q.as_fd())
    }
}

/// The clock step that at least 99% of `deltas` are multiples of.
///
/// Clocks advance in steps: this VM's TSC by 26 ticks, Apple Silicon's
/// counter at 24 MHz, a coarse clock by a whole millisecond. The strict gcd
/// of the deltas does not find the step (one odd delta makes it 1), so the
/// candidates are the divisors of the median delta, tried from the largest
/// down. Returns 1 when nothing larger fits, or for fewer than 16 deltas.
pub fn detect_step(deltas: &[u64]) -> u64 {
    const MIN_DELTAS: usize = 16;
    let nonzero: Vec<u64> = deltas.iter().copied().filter(|&d| d > 0).collect();
    if nonzero.len() < MIN_DELTAS {
        return 1;
    }
    let mut sorted = nonzero.clone();
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2];
    let mut divisors = Vec::new();
    let mut d = 1u64;
    while d.saturating_mul(d) <= median {
        if median.is_multiple_of(d) {
            divisors.push(d);
            divisors.push(median / d);
        }
        d += 1;
    }
    divisors.sort_unstable_by(|a, b| b.cmp(a));
    divisors.dedup();
    // Zero deltas (a clock that did not move) are multiples of any step.
    let zeros = deltas.len() - nonzero.len();
    let needed = deltas.len() - deltas.len() / 100;
    for step in divisors {
        if step == 1 {
            break;
        }
        let multiples = zeros + nonzero.iter().filter(|&&d| d.is_multiple_of(step)).count();
        if multiples >= needed {
            return step;
        }
    }
    1
}

/// The 8-bit symbol of a delta: the low byte of `delta / step`.
///
/// The low bits move the most from one wakeup to the next; dividing by the
/// clock step first keeps bits that never change out of the symbol.
pub fn symbol(delta: u64, step: u64) -> u8 {
    (delta / step.max(1)) as u8
}
