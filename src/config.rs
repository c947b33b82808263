//! Configuration of the event queue that the collector drives.

use std::path::PathBuf;
use std::time::Duration;

use crate::credit::CreditPolicy;
use crate::error::{ConfigError, Result};
use crate::health::HealthConfig;

/// Shortest timer interval accepted: below it a timer is always already
/// expired when the wait call is entered, and the loop turns into a spin.
pub const MIN_TIMER_INTERVAL: Duration = Duration::from_micros(1);
/// Longest timer interval accepted.
pub const MAX_TIMER_INTERVAL: Duration = Duration::from_secs(10);
/// Longest wait timeout accepted.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// Most event sources of one type.
pub const MAX_SOURCES_PER_TYPE: usize = 64;
/// Most events one wait call may return.
pub const MAX_EVENTS_PER_WAIT: usize = 1024;

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
    /// per path, in the order they ran. The noise source is then this
    /// interleaved stream; every delta goes through the health tests. The
    /// default: with the default sources, about fifteen times the samples
    /// per second of [`PerWakeup`](Sampling::PerWakeup) and about seven
    /// times the credited bits per second on the reference VM (README,
    /// "Choosing the default").
    #[default]
    PerPath,
}

/// Which event sources the collector registers on its queue, and how it waits.
///
/// The same struct configures both backends (kqueue and epoll). The
/// [`Default`] is the recommended setting, chosen by measurement with the
/// SP 800-90B estimators (README, "Choosing the default"): one 5 us timer,
/// four socket pairs and four watched files, sampled per kernel path. Each
/// timer wakeup writes into every socket pair and every file, so every
/// return of the wait call carries all four event types, and their kernel
/// paths interfere with the timer's interrupts. On the reference VM
/// (2026-12-02) a pass took about 35 us and gave fifteen samples, about
/// 430,000 a second; over five 1,000,000-symbol runs the interleaved stream
/// assessed at 4.78-5.57 bits per symbol and the lowest path's own stream
/// (the inotify drain) at 2.67.
/// Several timers at distinct intervals are supported (they drift against
/// each other) but cost more interrupts per sample.
///
/// ```
/// use kqseed::KqueueEventsConfig;
/// use std::time::Duration;
///
/// let cfg = KqueueEventsConfig {
///     timer_intervals: vec![Duration::from_micros(50), Duration::from_micros(70)],
///     num_file_watchers: 0,
///     ..KqueueEventsConfig::default()
/// };
/// assert!(cfg.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KqueueEventsConfig {
    /// One periodic timer per entry (`num_timers` is the length). Intervals
    /// must be distinct and within
    /// [`MIN_TIMER_INTERVAL`]..=[`MAX_TIMER_INTERVAL`].
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
}

impl Default for KqueueEventsConfig {
    fn default() -> Self {
        KqueueEventsConfig {
            timer_intervals: vec![Duration::from_micros(5)],
            num_sockets: 4,
            num_file_watchers: 4,
            timeout: Duration::from_millis(100),
            max_events: 32,
            temp_dir: None,
            sampling: Sampling::default(),
        }
    }
}

impl KqueueEventsConfig {
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

/// Everything a [`KqSeeder`](crate::KqSeeder) can be told.
#[derive(Debug, Clone, PartialEq, Default)]
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
    /// per block.
    pub hedge_with_os_entropy: bool,
}

impl SeederConfig {
    /// Checks every part.
    pub fn validate(&self) -> Result<()> {
        self.events.validate()?;
        self.health.validate()?;
        self.credit.validate()?;
        Ok(())
    }
}
