//! Configuration of the event queue that the collector drives.

use std::path::PathBuf;
use std::time::Duration;

use crate::credit::CreditPolicy;
use crate::error::{ConfigError, Result};
use crate::health::HealthConfig;

/// Shortest timer interval accepted: below it a timer is always already
/// expired when the wait call is entered, and the loop turns into a spin.
pub const MIN_TIMER_INTERVAL: Duration = Duration::from_micros(1);
/// Shortest interval the collector shortens a timer to when its passes
/// do not outrun it ([`KqueueEventsConfig::adapt_timers`]). The timer
/// interrupts once a pass whatever its interval (a timerfd re-arms its
/// hrtimer only when read, Linux `fs/timerfd.c` `timerfd_read`; Apple's
/// timer when its event is collected), within one interval of the timer
/// read: at 2 us in the first fifth of the Intel Xeon guest's 11 us pass
/// (5 us: the first tenth of the AMD EPYC guest's 48 us one). Shorter, it
/// would fire while the read's own path still runs.
pub const MIN_ADAPTED_TIMER_INTERVAL: Duration = Duration::from_micros(2);
/// Timer expirations per timer event under which the collector shortens
/// its timers ([`KqueueEventsConfig::adapt_timers`]): well above the 2.25
/// that start-up asks of its window
/// ([`MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT`](crate::MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT)),
/// since the first passes of a queue run slower than the later ones: on the
/// Intel Xeon guest, 2026-12-07 13:18 UTC, `kqseed report -n 200000` on the
/// simulated 24 MHz clock, a queue whose 5th to 12th timer events averaged
/// 3 or more expirations (the first version's threshold, which kept its
/// 5 us timer) had a start-up window at 3.29 and a whole run at 2.24.
pub const ADAPT_BELOW_EXPIRATIONS_PER_TIMER_EVENT: f64 = 3.5;
/// Timer expirations per timer event the collector aims at when it
/// shortens its timers: the measured pace, scaled.
pub const ADAPT_TARGET_EXPIRATIONS_PER_TIMER_EVENT: f64 = 5.0;
/// Longest timer interval accepted.
pub const MAX_TIMER_INTERVAL: Duration = Duration::from_secs(10);
/// Longest wait timeout accepted.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// Most event sources of one type.
pub const MAX_SOURCES_PER_TYPE: usize = 64;
/// Most events one wait call may return.
pub const MAX_EVENTS_PER_WAIT: usize = 1024;
/// The most collectors a seeder may have ([`SeederConfig::collectors`]):
/// two, the only count whose streams merged by time have been assessed
/// (README, "Two collectors at once"; the guests it was measured on have
/// two CPUs).
pub const MAX_COLLECTORS: usize = 2;

/// Where the collector reads the clock, and so what one sample measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Sampling {
    /// One sample per return of the wait call: the whole pass (the wait,
    /// the event handling, the stimulus) as one delta.
    PerWakeup,
    /// One sample per kernel path: the clock is read after the wait's return
    /// and after every syscall of the pass (timer read, socket drain, file
    /// drain, socket poke, file touch), so a pass yields several deltas, one
    /// per path, in the order they ran. Each path is a noise source: every
    /// delta of a credited one goes through that source's health tests
    /// (a source credited 0 is absorbed untested, counting for nothing). The
    /// default: with the default sources, about fifteen times the samples
    /// per second of [`PerWakeup`](Sampling::PerWakeup), each path a noise
    /// source with a credit of its own (the measurements behind the choice:
    /// docs/measurements.md, "Choosing the default", 2026-12-02; the
    /// credits: README, "The entropy claim"). Where the paths span too few
    /// clock steps to be credited much (coarse clocks), start-up may credit
    /// each pass's samples summed instead, as `PerWakeup` would
    /// ([`CreditPolicy::whole_passes`](crate::CreditPolicy::whole_passes)).
    #[default]
    PerPath,
}

/// Which event sources the collector registers on its queue, and how it waits.
///
/// The same struct configures both backends (kqueue and epoll). The
/// [`Default`] is the recommended setting, chosen by measurement with the
/// SP 800-90B estimators (docs/measurements.md, "Choosing the default"):
/// one 5 us timer, four socket pairs and four watched files, sampled per
/// kernel path (NetBSD, OpenBSD and DragonFly differ: see "Kernels that
/// count timers in ticks" below). Each timer wakeup writes into every
/// socket pair and every file, so every
/// return of the wait call carries all four event types, and their kernel
/// paths interfere with the timer's interrupts. On the AMD EPYC guest a
/// pass took about 48 us and gave fifteen samples, about 317,000 a second
/// (2026-12-07; 36 us on 2026-12-05), on the Intel Xeon guest 11-15 us,
/// close enough to two 5 us intervals that the collector may shorten the
/// timer ([`adapt_timers`](Self::adapt_timers));
/// what each path's own stream assessed and is credited
/// is in README, "The entropy claim". (Figures from before 2026-12-05
/// counted nanoseconds, not the clock's real steps, and were higher.)
/// Several timers at distinct intervals are supported (they drift against
/// each other) but cost more interrupts per sample.
///
/// # Kernels that count timers in ticks
///
/// NetBSD, OpenBSD and DragonFly round an `EVFILT_TIMER` interval up to
/// whole clock ticks, `1/hz` with `hz` from `kern.clockrate` (100 by
/// default: 10 ms; see [`timer_tick`](KqueueEventsConfig::timer_tick)).
/// There [`validate`](KqueueEventsConfig::validate) refuses an interval
/// shorter than one tick, and two that round to the same number of ticks,
/// and the default is one timer of one tick with eight socket pairs and
/// eight files. A pass then starts once a tick at most, so more sources
/// make more samples per tick: about 27 a pass (the timer's return, 8 pokes,
/// 8 touches, the return with the reads and notes, 8 drains, the return with
/// the write edges). Estimates, not measurements (nothing has run on these
/// kernels yet): one pass per one or two ticks is 1,300 to 2,700 samples a
/// second at 100 Hz, so the warm-up and the start-up window (256 + 2,048
/// samples) take about 1 to 2 s, and at most 1/16 bit a short path (no
/// timer read drives a kqueue pass: see [`ceiling`](crate::ceiling)) and
/// none for the wait, which always waits for the one-shot timer (see
/// [`MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT`](crate::MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT)),
/// about 1 bit a tick's pass if every short path spans 20-29 steps (the
/// drains get nothing under 30) and 1.5 from 30, a 32-byte seed every 2
/// to 6 s after that.
/// Between the timer's returns no timer interrupt lands in the other paths,
/// so their deltas are plain syscall timings; whether the credit holds
/// there is for `kqseed report` on such a kernel to show (the CI workflow
/// runs it).
///
/// Start from the [`Default`] and change what you need with the `with_*`
/// methods (the fields are public to read and to assign):
///
/// ```
/// use kqseed::KqueueEventsConfig;
/// use std::time::Duration;
///
/// let cfg = KqueueEventsConfig::default()
///     .with_timer_intervals(vec![Duration::from_micros(50), Duration::from_micros(70)])
///     .with_num_file_watchers(0);
/// # #[cfg(not(any(target_os = "netbsd", target_os = "openbsd", target_os = "dragonfly")))]
/// assert!(cfg.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KqueueEventsConfig {
    /// One timer per entry (`num_timers` is the length): periodic, except on
    /// FreeBSD, NetBSD, OpenBSD and DragonFly, where it fires once per wait
    /// that re-adds it (their kernels would run a periodic one while nobody
    /// waits). Intervals must be distinct and within
    /// [`MIN_TIMER_INTERVAL`]..=[`MAX_TIMER_INTERVAL`], and on kernels that
    /// count timers in ticks at least one tick.
    pub timer_intervals: Vec<Duration>,
    /// Socket pairs. One end is watched for readability, the other for
    /// writability; a byte is written into every pair at each timer wakeup
    /// (or each return when there are no timers).
    pub num_sockets: usize,
    /// Files in a private temporary directory, watched for writes and
    /// attribute changes (`EVFILT_VNODE` / inotify); every one is written at
    /// each timer wakeup (or each return when there are no timers).
    pub num_file_watchers: usize,
    /// How long one wait call may block before [`Error::WaitTimedOut`]
    /// (rounded up to whole milliseconds on epoll).
    ///
    /// [`Error::WaitTimedOut`]: crate::Error::WaitTimedOut
    pub timeout: Duration,
    /// Most events one wait call returns.
    pub max_events: usize,
    /// Parent of the private directory for the watched files; `None` means
    /// [`std::env::temp_dir`]. Unused when `num_file_watchers` is 0.
    pub temp_dir: Option<PathBuf>,
    /// One sample per pass, or one per kernel path of the pass.
    pub sampling: Sampling,
    /// Whether the collector may shorten its timers, once, when its passes
    /// do not outrun them. The credits rest on passes that take several
    /// timer intervals, so that every wait returns at once and the timer's
    /// interrupts land inside the pass (see
    /// [`MIN_EXPIRATIONS_PER_TIMER_EVENT`](crate::MIN_EXPIRATIONS_PER_TIMER_EVENT));
    /// on a fast machine the default's pass takes only two of its 5 us
    /// intervals, and start-up, seeing passes that may wait for their
    /// timer, credits each path 1/16 bit at most (the Intel Xeon guest on
    /// the simulated 24 MHz clock, 2026-12-07: 0.004 bits a sample). With
    /// this on, the collector measures the pace over its 7th to 16th
    /// timer events (a new queue's first passes run slower; the default's
    /// warm-up spans about seventeen passes, and the warm-up lasts until
    /// the timers are settled, [`Collector::timers_settled`](crate::Collector::timers_settled):
    /// the start-up window sees the new timers only), and if they took fewer than
    /// [`ADAPT_BELOW_EXPIRATIONS_PER_TIMER_EVENT`] expirations an event it
    /// re-arms every timer at the interval that would have given
    /// [`ADAPT_TARGET_EXPIRATIONS_PER_TIMER_EVENT`], no shorter than
    /// [`MIN_ADAPTED_TIMER_INTERVAL`]. [`Collector::config`](crate::Collector::config)
    /// then shows the intervals in force. Only where timers are periodic
    /// and count their expirations (epoll, Apple); on FreeBSD, NetBSD,
    /// OpenBSD and DragonFly each timer is one-shot and nothing changes.
    /// Start-up and the online check still judge the pace themselves: this
    /// only makes the faster pace likelier. Default true; false keeps
    /// [`timer_intervals`](Self::timer_intervals) as they are, and
    /// [`with_timer_intervals`](Self::with_timer_intervals) sets it false
    /// (as the `kqseed` command's `--timers-us` does).
    pub adapt_timers: bool,
}

impl Default for KqueueEventsConfig {
    fn default() -> Self {
        let config = KqueueEventsConfig {
            timer_intervals: vec![Duration::from_micros(5)],
            num_sockets: 4,
            num_file_watchers: 4,
            timeout: Duration::from_millis(100),
            max_events: 32,
            temp_dir: None,
            sampling: Sampling::default(),
            adapt_timers: true,
        };
        match crate::sys::timer_tick() {
            Ok(Some(tick)) => config.for_tick(tick),
            // Unknown: `validate` reports why.
            _ => config,
        }
    }
}

impl KqueueEventsConfig {
    /// With [`timer_intervals`](Self::timer_intervals) set: one timer per
    /// interval. Intervals asked for are kept:
    /// [`adapt_timers`](Self::adapt_timers) goes off (set it again after
    /// this call to let the collector shorten them).
    #[must_use]
    pub fn with_timer_intervals(mut self, intervals: Vec<Duration>) -> Self {
        self.timer_intervals = intervals;
        self.adapt_timers = false;
        self
    }

    /// With [`num_sockets`](Self::num_sockets) socket pairs.
    #[must_use]
    pub fn with_num_sockets(mut self, n: usize) -> Self {
        self.num_sockets = n;
        self
    }

    /// With [`num_file_watchers`](Self::num_file_watchers) watched files.
    #[must_use]
    pub fn with_num_file_watchers(mut self, n: usize) -> Self {
        self.num_file_watchers = n;
        self
    }

    /// With the wait call's [`timeout`](Self::timeout) set.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// With [`max_events`](Self::max_events) set.
    #[must_use]
    pub fn with_max_events(mut self, n: usize) -> Self {
        self.max_events = n;
        self
    }

    /// With the watched files' private directory made under `dir` instead
    /// of [`std::env::temp_dir`] (see [`temp_dir`](Self::temp_dir)).
    #[must_use]
    pub fn with_temp_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.temp_dir = Some(dir.into());
        self
    }

    /// With [`adapt_timers`](Self::adapt_timers) set. Call it after
    /// [`with_timer_intervals`](Self::with_timer_intervals), which turns
    /// it off.
    #[must_use]
    pub fn with_adapt_timers(mut self, adapt: bool) -> Self {
        self.adapt_timers = adapt;
        self
    }

    /// With the [`sampling`](Self::sampling) set.
    #[must_use]
    pub fn with_sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
        self
    }

    /// The clock tick this kernel rounds timer intervals up to: `Some` on
    /// NetBSD, OpenBSD and DragonFly (`1/hz`, `hz` from `sysctl
    /// kern.clockrate`), `None` where timers are finer than any interval
    /// accepted (Linux, Apple, FreeBSD). An error if the kernel's rate
    /// cannot be read.
    pub fn timer_tick() -> crate::Result<Option<Duration>> {
        crate::sys::timer_tick()
    }

    /// The default's sources and timer for a kernel whose timers count
    /// `tick`s (see "Kernels that count timers in ticks").
    fn for_tick(self, tick: Duration) -> KqueueEventsConfig {
        KqueueEventsConfig {
            timer_intervals: vec![tick],
            num_sockets: 8,
            num_file_watchers: 8,
            // At least ten ticks, so one slow tick is no timeout.
            timeout: self.timeout.max(tick.saturating_mul(10)),
            ..self
        }
    }

    /// The number of timers.
    pub fn num_timers(&self) -> usize {
        self.timer_intervals.len()
    }

    /// Checks the configuration without taking any resource.
    ///
    /// Returns the first problem found, naming the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |field, reason: String| Err(ConfigError { field, reason });
        if self.timer_intervals.is_empty() && self.num_sockets == 0 && self.num_file_watchers == 0 {
            return err(
                "timer_intervals",
                "no event source configured: every event count is zero".into(),
            );
        }
        for (field, count) in [
            ("timer_intervals", self.timer_intervals.len()),
            ("num_sockets", self.num_sockets),
            ("num_file_watchers", self.num_file_watchers),
        ] {
            if count > MAX_SOURCES_PER_TYPE {
                return err(
                    field,
                    format!("{count} sources, more than the {MAX_SOURCES_PER_TYPE} allowed"),
                );
            }
        }
        for (i, &interval) in self.timer_intervals.iter().enumerate() {
            if interval.is_zero() {
                return err("timer_intervals", format!("interval {i} is zero"));
            }
            if !(MIN_TIMER_INTERVAL..=MAX_TIMER_INTERVAL).contains(&interval) {
                return err(
                    "timer_intervals",
                    format!(
                        "interval {i} is {interval:?}, outside {MIN_TIMER_INTERVAL:?}..={MAX_TIMER_INTERVAL:?}"
                    ),
                );
            }
            if let Some(j) = self.timer_intervals[..i]
                .iter()
                .position(|&o| o == interval)
            {
                return err(
                    "timer_intervals",
                    format!(
                        "intervals {j} and {i} are both {interval:?}: equal timers fire together and add no interference"
                    ),
                );
            }
        }
        if !self.timer_intervals.is_empty() {
            match crate::sys::timer_tick() {
                Ok(Some(tick)) => check_against_tick(&self.timer_intervals, tick)?,
                Ok(None) => {}
                Err(e) => {
                    return err(
                        "timer_intervals",
                        format!(
                            "this kernel rounds timers to clock ticks, and its tick rate could not be read: {e}"
                        ),
                    );
                }
            }
        }
        if self.timeout.is_zero() {
            return err(
                "timeout",
                "a zero timeout makes every wait return at once and spin".into(),
            );
        }
        if self.timeout > MAX_TIMEOUT {
            return err(
                "timeout",
                format!("{:?} is longer than {MAX_TIMEOUT:?}", self.timeout),
            );
        }
        if self.max_events == 0 || self.max_events > MAX_EVENTS_PER_WAIT {
            return err(
                "max_events",
                format!("{} is outside 1..={MAX_EVENTS_PER_WAIT}", self.max_events),
            );
        }
        let needed = crate::sys::fds_needed(self) as u64;
        if let Some(limit) = crate::sys::open_file_limit().filter(|&limit| needed > limit) {
            return err(
                "num_sockets",
                format!(
                    "the sources need {needed} file descriptors, more than the process may open (RLIMIT_NOFILE {limit})"
                ),
            );
        }
        Ok(())
    }
}

/// Everything a [`KqSeeder`](crate::KqSeeder) can be told: the event
/// sources, the health tests, the credit policy and the hedge.
///
/// Start from the [`Default`] and change what you need with the `with_*`
/// methods (the fields are public to read and to assign):
///
/// ```
/// use kqseed::{CreditPolicy, KqueueEventsConfig, SeederConfig};
///
/// let config = SeederConfig::default()
///     .with_events(KqueueEventsConfig::default().with_num_sockets(2))
///     .with_credit(CreditPolicy::capped(0.5))
///     .with_temp_dir("/var/tmp");
/// assert_eq!(config.events.num_sockets, 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SeederConfig {
    /// The event sources and the wait.
    pub events: KqueueEventsConfig,
    /// The health tests' parameters (alphas, windows, the start-up
    /// window's length); each noise source's tests are cut for its own
    /// credit.
    pub health: HealthConfig,
    /// How each noise source's credit is decided and re-checked.
    pub credit: CreditPolicy,
    /// Absorbs 32 bytes from the operating system's generator into every
    /// block, next to the samples and credited with nothing, so that a block
    /// is never weaker than either source. Off by default; shown in `Debug`
    /// and [`SeederStats::os_entropy_absorbed`](crate::SeederStats::os_entropy_absorbed),
    /// so that hedged output is never mistaken for pure jitter. No entropy
    /// claim rests on it: the samples alone must still be credited 320 bits
    /// per block. The operating system's generator is read directly (the
    /// `getrandom` system call on Linux and Android, `sysctl(KERN_ARND)` on
    /// NetBSD, which unlike the others does not wait for the kernel's pool
    /// to be seeded; `getentropy` elsewhere), never through the getrandom
    /// crate, whose backend kqseed may be; its failure is the request's
    /// error.
    ///
    /// A generator has its own
    /// [`GeneratorConfig::hedge_with_os_entropy`](crate::GeneratorConfig::hedge_with_os_entropy),
    /// which hedges each of its keys instead.
    pub hedge_with_os_entropy: bool,
    /// How many collectors make each block, at the same time: 1 (the
    /// default) to [`MAX_COLLECTORS`]. Each has its own event queue and
    /// sources (every fd of [`events`](Self::events) once per collector),
    /// its own start-up, health tests and credits, and collects on its own
    /// thread (the first on the caller's) until its pool is credited its
    /// share, about `320 / collectors` bits and half the credit a fault of
    /// the clock they share could bring it before the pass test catches it
    /// (`alpha_intermittent_log2 + 2` x a pass's credit: 176-181 bits of
    /// two at the defaults), so that such a fault, caught late in both,
    /// leaves the block what it leaves one collector's; a block is then one
    /// SHA-256 over the shares. Where the CPUs are free, two collectors
    /// take a little more than half of one's time. Where the calling thread
    /// may run on fewer CPUs than there are collectors
    /// (`std::thread::available_parallelism`, which counts its affinity
    /// mask and cgroup quota, as of the seeder's first request), or a
    /// thread cannot be started, the shares are collected one after
    /// another: a warm seed somewhat slower than one collector's (the
    /// shares' margins; a cold one runs every collector's start-up in
    /// turn), never weaker.
    ///
    /// The collectors are not independent (their pass lengths wander
    /// together), so adding the shares' credits is backed as one
    /// collector's interleaved paths back its credits: the most a sample is
    /// credited is at most half of what the estimators assess on what the
    /// collectors collected together (their streams merged by time, or
    /// each one's own where lower, less what pairing the samples in time
    /// gave the estimators), which `scripts/assess-collectors.sh` measures
    /// (README, "Two collectors at once"); the runtime does not check it.
    /// Async seeding (`KqSeeder::fill_bytes_async` and its siblings,
    /// feature `tokio`) uses the first collector alone, at 320 bits a
    /// block.
    pub collectors: usize,
}

impl Default for SeederConfig {
    fn default() -> Self {
        SeederConfig {
            events: KqueueEventsConfig::default(),
            health: HealthConfig::default(),
            credit: CreditPolicy::default(),
            hedge_with_os_entropy: false,
            collectors: 1,
        }
    }
}

impl SeederConfig {
    /// With the event sources and the wait set.
    #[must_use]
    pub fn with_events(mut self, events: KqueueEventsConfig) -> Self {
        self.events = events;
        self
    }

    /// With the health tests' parameters set.
    #[must_use]
    pub fn with_health(mut self, health: HealthConfig) -> Self {
        self.health = health;
        self
    }

    /// With the credit policy set.
    #[must_use]
    pub fn with_credit(mut self, credit: CreditPolicy) -> Self {
        self.credit = credit;
        self
    }

    /// With [`hedge_with_os_entropy`](Self::hedge_with_os_entropy) set.
    #[must_use]
    pub fn with_hedge_with_os_entropy(mut self, hedge: bool) -> Self {
        self.hedge_with_os_entropy = hedge;
        self
    }

    /// With [`collectors`](Self::collectors) set.
    #[must_use]
    pub fn with_collectors(mut self, collectors: usize) -> Self {
        self.collectors = collectors;
        self
    }

    /// With the watched files' private directory made under `dir`: short
    /// for setting [`KqueueEventsConfig::temp_dir`] in
    /// [`events`](Self::events). Where `TMPDIR` may name a directory that
    /// does not exist, this (or no watched files at all) is what keeps
    /// seeding from failing with [`Error::TempDir`](crate::Error::TempDir).
    #[must_use]
    pub fn with_temp_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.events = self.events.with_temp_dir(dir);
        self
    }

    /// Checks every part, and that the health tests can run at every
    /// credit start-up may give a source, down to one
    /// [`CREDIT_STEP`](crate::CREDIT_STEP): a predictor window too short
    /// for the predictor count to fail at that credit (at the default
    /// alphas, windows under 960) would otherwise refuse each such
    /// start-up.
    pub fn validate(&self) -> Result<()> {
        self.events.validate()?;
        self.health.validate()?;
        self.credit.validate()?;
        if let Err(e) = self.health.cutoffs(crate::credit::CREDIT_STEP) {
            return Err(ConfigError {
                field: "predictor_window",
                reason: format!(
                    "{} samples cannot test a source credited {} bit at these alphas ({}); use a longer window (the default is {})",
                    self.health.predictor_window,
                    crate::credit::CREDIT_STEP,
                    e.reason,
                    crate::health::DEFAULT_PREDICTOR_WINDOW,
                ),
            }
            .into());
        }
        if !(1..=MAX_COLLECTORS).contains(&self.collectors) {
            return Err(ConfigError {
                field: "collectors",
                reason: format!("{} is outside 1..={MAX_COLLECTORS}", self.collectors),
            }
            .into());
        }
        // `events.validate` checked one collector's descriptors.
        let needed = crate::sys::fds_needed(&self.events) as u64 * self.collectors as u64;
        if let Some(limit) = crate::sys::open_file_limit().filter(|&limit| needed > limit) {
            return Err(ConfigError {
                field: "collectors",
                reason: format!(
                    "{} collectors need {needed} file descriptors, more than the process may open (RLIMIT_NOFILE {limit})",
                    self.collectors
                ),
            }
            .into());
        }
        Ok(())
    }
}

/// The whole ticks a kernel that counts timers in `tick`s arms for
/// `interval`: the milliseconds sent there (rounded up: see the kqueue
/// backend's timer units), then rounded up to ticks, at least one.
fn ticks_for(interval: Duration, tick: Duration) -> u128 {
    let millis = interval.as_nanos().div_ceil(1_000_000).max(1);
    (millis * 1_000_000).div_ceil(tick.as_nanos().max(1)).max(1)
}

/// On a kernel that counts timers in `tick`s: every interval is at least one
/// tick (a shorter one would fire every tick, not at its interval), and no
/// two round to the same number of ticks (they would fire together).
fn check_against_tick(intervals: &[Duration], tick: Duration) -> Result<(), ConfigError> {
    let hz = 1_000_000_000u128.checked_div(tick.as_nanos()).unwrap_or(0);
    for (i, &interval) in intervals.iter().enumerate() {
        if interval < tick {
            return Err(ConfigError {
                field: "timer_intervals",
                reason: format!(
                    "interval {i} is {interval:?}, shorter than this kernel's timer tick of {tick:?} (kern.clockrate: hz {hz}): NetBSD, OpenBSD and DragonFly round timers up to whole ticks, so it would fire every {tick:?}; use a multiple of the tick (the default does)"
                ),
            });
        }
        let ticks = ticks_for(interval, tick);
        if let Some(j) = intervals[..i]
            .iter()
            .position(|&o| ticks_for(o, tick) == ticks)
        {
            return Err(ConfigError {
                field: "timer_intervals",
                reason: format!(
                    "intervals {j} and {i} both round to {ticks} ticks of {tick:?} on this kernel: they would fire together and add no interference"
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: Duration = Duration::from_millis(10);

    #[test]
    fn a_predictor_window_too_short_for_a_sixteenth_is_refused_up_front() {
        let with_window = |window| {
            SeederConfig::default()
                .with_health(HealthConfig::default().with_predictor_window(window))
                .validate()
        };
        for window in [256, 512, 959] {
            match with_window(window) {
                Err(crate::Error::Config(e)) => {
                    assert_eq!(e.field, "predictor_window");
                    assert!(e.reason.contains("0.0625"), "{e}");
                }
                other => panic!("window {window}: {other:?}"),
            }
        }
        assert!(with_window(960).is_ok());
        assert!(with_window(crate::health::DEFAULT_PREDICTOR_WINDOW).is_ok());
    }

    #[test]
    fn intervals_below_the_tick_are_refused_with_the_tick_named() {
        let e = check_against_tick(&[Duration::from_micros(5)], TICK).unwrap_err();
        assert_eq!(e.field, "timer_intervals");
        assert!(
            e.reason.contains("interval 0 is 5") && e.reason.contains("10ms"),
            "{e}"
        );
        assert!(e.reason.contains("hz 100"), "{e}");
        let e = check_against_tick(&[TICK, Duration::from_millis(9)], TICK).unwrap_err();
        assert!(e.reason.contains("interval 1"), "{e}");
        assert!(check_against_tick(&[TICK, 3 * TICK], TICK).is_ok());
    }

    #[test]
    fn intervals_that_round_to_the_same_ticks_are_refused() {
        // 15 ms and 20 ms both arm two 10 ms ticks.
        let e = check_against_tick(&[Duration::from_millis(15), 2 * TICK], TICK).unwrap_err();
        assert!(
            e.reason.contains("intervals 0 and 1 both round to 2 ticks"),
            "{e}"
        );
        // 10.2 ms is sent as 11 ms: two ticks, like 20 ms.
        let e = check_against_tick(&[Duration::from_micros(10_200), 2 * TICK], TICK).unwrap_err();
        assert!(e.reason.contains("2 ticks"), "{e}");
        assert!(check_against_tick(&[TICK, 2 * TICK, 3 * TICK], TICK).is_ok());
    }

    #[test]
    fn ticks_round_up_through_milliseconds() {
        assert_eq!(ticks_for(Duration::from_nanos(1), TICK), 1);
        assert_eq!(ticks_for(TICK, TICK), 1);
        assert_eq!(ticks_for(TICK + Duration::from_nanos(1), TICK), 2);
        // A 1024 Hz tick is 976,563 ns: 1 ms is two of them.
        let tick = crate::sys::unix::tick_from_hz(1024).expect("tick");
        assert_eq!(tick, Duration::from_nanos(976_563));
        assert_eq!(ticks_for(Duration::from_millis(1), tick), 2);
        assert_eq!(crate::sys::unix::tick_from_hz(100), Some(TICK));
        assert_eq!(crate::sys::unix::tick_from_hz(0), None);
        assert_eq!(crate::sys::unix::tick_from_hz(-1), None);
    }

    #[test]
    fn the_tick_kernels_default_is_one_tick_and_more_sources() {
        let base = KqueueEventsConfig {
            timer_intervals: vec![Duration::from_micros(5)],
            ..KqueueEventsConfig::default()
        };
        let ticked = base.clone().for_tick(TICK);
        assert_eq!(ticked.timer_intervals, [TICK]);
        assert_eq!((ticked.num_sockets, ticked.num_file_watchers), (8, 8));
        assert_eq!(ticked.timeout, Duration::from_millis(100));
        assert_eq!(
            base.for_tick(Duration::from_millis(40)).timeout,
            Duration::from_millis(400)
        );
        assert!(check_against_tick(&ticked.timer_intervals, TICK).is_ok());
    }

    #[test]
    fn the_default_validates_on_this_kernel() {
        let config = KqueueEventsConfig::default();
        config.validate().expect("the default is valid");
        match KqueueEventsConfig::timer_tick().expect("tick") {
            Some(tick) => assert_eq!(config.timer_intervals, [tick]),
            None => assert_eq!(config.timer_intervals, [Duration::from_micros(5)]),
        }
    }
}
