//! Everything that talks to the OS. The only module that uses `libc` or
//! `unsafe`.
//!
//! # The backend contract
//!
//! One backend is chosen below by `cfg`: `epoll.rs` on Linux and Android,
//! `kqueue.rs` on Apple and the BSDs (and on Linux under
//! `--cfg kqseed_libkqueue`, linked to libkqueue, for testing). Like mio's
//! selectors, they are not tied by a trait: each defines the same items with
//! the same meaning, written down once here.
//!
//! * `pub(crate) const NAME: &str`: the backend's name, e.g. `"epoll"`.
//! * `pub(crate) fn fds_needed(config: &KqueueEventsConfig) -> usize`: the
//!   file descriptors [`EventQueue::open`] takes for `config`.
//! * `pub(crate) fn timer_tick() -> Result<Option<Duration>>`: the clock
//!   tick the kernel rounds timer intervals up to, where it does (NetBSD,
//!   OpenBSD, DragonFly: `1/hz`), or `None`; an error if it cannot be read.
//! * `pub(crate) const PERIODIC_TIMERS: bool`: whether the timers are
//!   periodic and their events count every expiration since the last
//!   (epoll's timerfds, Apple's timers), so that expirations per timer
//!   event measure how many intervals a pass took; false where each timer
//!   is one-shot and re-added by every wait (the other BSDs: one
//!   expiration an event, always).
//! * `pub(crate) struct EventQueue`, with:
//!   * `fn open(config: &KqueueEventsConfig) -> Result<EventQueue>` for a
//!     validated config: creates the queue, one timer per interval,
//!     the socket pairs ([`unix::SocketPairs`]) and the watched files
//!     ([`unix::WatchedFiles`]), and registers them all. Every fd is an
//!     `OwnedFd` (or a std type owning one) from birth and close-on-exec
//!     (from birth where the OS's calls take a flag for it; just after
//!     where they do not: the kqueue on every kqueue OS but NetBSD, and
//!     Apple's socket pairs). If
//!     any step fails, what was made is closed and removed, and the error
//!     names the call and `errno`.
//!   * `fn wait(&mut self, timeout: Duration) -> Result<Wakeup>`: one wait
//!     call, retried on `EINTR` with the time left (on kqueue its change
//!     list re-adds the one-shot timers that fired). Right after a return with
//!     at least one event it reads [`unix::now_ticks`], then handles each
//!     event (reads timer expirations where the OS needs it, drains readable
//!     sockets and file-watch queues) and counts it by type. No event before
//!     the timeout: [`Error::WaitTimedOut`](crate::Error::WaitTimedOut). An
//!     error entry: [`Error::Event`](crate::Error::Event).
//!   * `fn set_timer_interval(&mut self, index: usize, interval: Duration)
//!     -> Result<()>`: re-arms timer `index` at `interval` (a one-shot
//!     timer: from its next re-add), for the collector's pace adaptation
//!     ([`KqueueEventsConfig::adapt_timers`](crate::KqueueEventsConfig::adapt_timers)).
//!   * `fn sources(&mut self) -> &mut unix::Sources`: the sockets and files,
//!     so the collector can stimulate them (`poke_socket`, `touch_file`);
//!     `fn sources_ref(&self) -> &unix::Sources` to look at them.
//!   * `fn as_fd(&self) -> BorrowedFd<'_>`: the queue's own fd, readable
//!     while an event is pending (for async readiness).
//!   * `fn take_slow_fd(&mut self) -> Option<OwnedFd>`: the fd whose
//!     `close()` blocks (epoll: the inotify instance), which [`Queue`]'s
//!     drop hands to [`unix::close_later`] so that no caller waits for it.
//!   * `fn abandon_after_fork(self)`: in a forked child, lets go of the
//!     parent's resources without disturbing the parent: the private
//!     directory is left in place (the parent removes it), inherited fds are
//!     closed, fds that are not inherited (kqueue) are forgotten, not closed.
//!   * `EventQueue: Send + Sync` (asserted below, on every target).
//!
//! Nothing outside `sys` holds a backend `EventQueue`: [`Queue`] wraps it
//! with the [`fork::Owner`] stamp of the process that opened it, hands it
//! out only while that process is the one asking, and in `Drop` closes it
//! normally in its owner but abandons it in a forked child. Fork behaviour
//! lives in [`fork`] and here, nowhere else.

pub(crate) mod fork;
#[cfg(feature = "getrandom-custom")]
pub(crate) mod getrandom_custom;
#[cfg(kqseed_libkqueue)]
mod libkqueue;
pub(crate) mod unix;

#[cfg(any(
    target_vendor = "apple",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly",
    all(target_os = "linux", kqseed_libkqueue),
))]
#[path = "kqueue.rs"]
mod backend;

#[cfg(all(any(target_os = "linux", target_os = "android"), not(kqseed_libkqueue)))]
#[path = "epoll.rs"]
mod backend;

#[cfg(not(any(
    target_vendor = "apple",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly",
    target_os = "linux",
    target_os = "android",
)))]
compile_error!(
    "kqseed supports kqueue (Apple, FreeBSD, NetBSD, OpenBSD, DragonFly) and epoll (Linux, Android) only"
);

pub(crate) use backend::{EventQueue, NAME, PERIODIC_TIMERS, fds_needed, timer_tick};
pub(crate) use unix::{
    at_exit, clock_info, open_file_limit, os_entropy, service_broken, service_reentered,
};
#[cfg(feature = "tokio")]
pub(crate) use unix::{os_error, wait_readable};

use crate::error::Result;

/// Which counter the collector reads, and how fine it is.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct ClockInfo {
    /// The counter's name, e.g. `"CLOCK_MONOTONIC_RAW"`.
    pub name: &'static str,
    /// Nanoseconds per tick of the collector's deltas's unit.
    pub nanos_per_tick: f64,
    /// The resolution the OS reports for it, in nanoseconds.
    pub resolution_nanos: f64,
}

impl ClockInfo {
    /// A description of a counter, for tools that replay or fabricate what
    /// a collector reports ([`Collector::clock`](crate::Collector::clock)
    /// is where a real one comes from).
    pub fn new(name: &'static str, nanos_per_tick: f64, resolution_nanos: f64) -> ClockInfo {
        ClockInfo {
            name,
            nanos_per_tick,
            resolution_nanos,
        }
    }
}

/// Events returned by the queue, by type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
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
    /// Returns of the wait call that the collector counted (one per
    /// return; the queue itself leaves it 0).
    pub wakeups: u64,
    /// The kernel paths the collector timed in the passes these returns
    /// began (the wait's return, each event's syscall and each stimulus
    /// write; see [`KernelPath`](crate::KernelPath)), counting one timer
    /// read a pass at most. A whole pass is credited by how many it spans
    /// ([`PASS_ROW_KERNEL_PATHS`](crate::PASS_ROW_KERNEL_PATHS)).
    pub kernel_paths: u64,
}

impl EventCounts {
    /// Adds `other`'s counts to these, type by type (a window's or a run's
    /// totals from its wakeups').
    pub fn add(&mut self, other: &EventCounts) {
        self.timer += other.timer;
        self.timer_expirations += other.timer_expirations;
        self.socket_read += other.socket_read;
        self.socket_write += other.socket_write;
        self.file += other.file;
        self.wakeups += other.wakeups;
        self.kernel_paths += other.kernel_paths;
    }

    /// All events, of every type ([`wakeups`](Self::wakeups) and
    /// [`kernel_paths`](Self::kernel_paths) count none).
    pub fn total(&self) -> u64 {
        self.timer + self.socket_read + self.socket_write + self.file
    }

    /// Adds `other`'s counts as the pace checks count them: as
    /// [`add`](Self::add), but each timer event's expirations counted up
    /// to [`MAX_EXPIRATIONS_COUNTED_PER_TIMER_EVENT`], so that one stall (a
    /// preempted pass, its timer expiring hundreds of times meanwhile)
    /// cannot carry a window of passes that wait for their timer past the
    /// line.
    ///
    /// [`MAX_EXPIRATIONS_COUNTED_PER_TIMER_EVENT`]: crate::MAX_EXPIRATIONS_COUNTED_PER_TIMER_EVENT
    pub fn add_paced(&mut self, other: &EventCounts) {
        let mut counted = *other;
        counted.timer_expirations = other.timer_expirations.min(
            other
                .timer
                .saturating_mul(crate::credit::MAX_EXPIRATIONS_COUNTED_PER_TIMER_EVENT),
        );
        self.add(&counted);
    }

    /// Timer expirations per timer event (0 without timer events): how
    /// many timer intervals a pass took, about, or 1 where each wait
    /// waited for the timer (see
    /// [`MIN_EXPIRATIONS_PER_TIMER_EVENT`](crate::MIN_EXPIRATIONS_PER_TIMER_EVENT)).
    pub fn expirations_per_timer_event(&self) -> f64 {
        if self.timer == 0 {
            0.0
        } else {
            self.timer_expirations as f64 / self.timer as f64
        }
    }

    /// Kernel paths per counted return of the wait call (0 without one):
    /// how many kernel paths a pass spanned, on average.
    pub fn kernel_paths_per_wakeup(&self) -> f64 {
        if self.wakeups == 0 {
            0.0
        } else {
            self.kernel_paths as f64 / self.wakeups as f64
        }
    }
}

/// A backend queue and the stamp of the process that opened it.
pub(crate) struct Queue {
    owner: fork::Owner,
    // `Some` until `Drop`, which decides how to let go of it.
    queue: Option<EventQueue>,
}

impl Queue {
    /// Opens a backend queue for a validated `config`, owned by this process.
    pub(crate) fn open(config: &crate::config::KqueueEventsConfig) -> Result<Queue> {
        let owner = fork::Owner::current()?;
        Ok(Queue {
            owner,
            queue: Some(EventQueue::open(config)?),
        })
    }

    /// Whether this process opened the queue (no fork since).
    pub(crate) fn is_owned(&self) -> bool {
        self.owner.is_current()
    }

    /// The queue, or `None` in a forked child, which must not touch it.
    pub(crate) fn get(&mut self) -> Option<&mut EventQueue> {
        if self.owner.is_current() {
            self.queue.as_mut()
        } else {
            None
        }
    }

    /// As [`get`](Queue::get), or the error a caller reports when the queue
    /// is not this process's (it cannot be, right after `open`).
    pub(crate) fn owned(&mut self) -> Result<&mut EventQueue> {
        self.get().ok_or_else(Queue::not_owned)
    }

    /// The error for a queue that belongs to another process.
    pub(crate) fn not_owned() -> crate::Error {
        crate::Error::Os {
            syscall: "fork",
            errno: libc::ECHILD,
        }
    }

    /// As [`get`](Queue::get), shared.
    pub(crate) fn get_ref(&self) -> Option<&EventQueue> {
        self.queue.as_ref().filter(|_| self.owner.is_current())
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        if let Some(mut queue) = self.queue.take() {
            if self.owner.is_current() {
                // Everything else (the directory and files included) goes
                // now; only the slow close is deferred.
                let slow = queue.take_slow_fd();
                drop(queue);
                if let Some(fd) = slow {
                    unix::close_later(fd);
                }
            } else {
                queue.abandon_after_fork();
            }
        }
    }
}

// The contract's `Send + Sync`, checked on every target the crate builds for
// (scripts/check-targets.sh type-checks the kqueue ones).
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<EventQueue>();
    send_sync::<Queue>();
};

/// What one return of the wait call brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wakeup {
    /// The events it returned, by type.
    pub events: EventCounts,
    /// The clock, in its native ticks, read after each kernel path of the
    /// pass: first right after the call returned ([`Wakeup::at`]), then
    /// after each syscall that handled an event. The collector adds its
    /// stimulus syscalls.
    pub marks: Marks,
}

impl Wakeup {
    /// A return at `at` with these events; the wait's mark is the first.
    pub(crate) fn new(at: u64, events: EventCounts) -> Wakeup {
        let mut marks = Marks::default();
        marks.push(KernelPath::Wait, at);
        Wakeup { events, marks }
    }

    /// The clock right after the call returned: the first mark.
    pub(crate) fn at(&self) -> u64 {
        self.marks.at[0]
    }
}

/// The kernel path a sample's delta ends with.
///
/// With [`Sampling::PerPath`](crate::Sampling::PerPath) the collector reads
/// the clock after the wait's return and after every syscall of the pass, so
/// each sample measures one of these paths (and the interrupts that landed
/// in it). With [`Sampling::PerWakeup`](crate::Sampling::PerWakeup) a sample
/// spans the whole pass: [`KernelPath::Pass`], as does each pass's samples
/// summed where start-up takes whole passes
/// ([`StartupReport::whole_passes`](crate::StartupReport::whole_passes)),
/// and each third of it summed where start-up cuts them in thirds
/// ([`KernelPath::THIRDS`]; the collector never gives these four).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum KernelPath {
    /// From the end of the previous pass to the wait call's return.
    Wait,
    /// Reading a timer's expiration count (epoll's timerfd; kqueue reports
    /// it in the event itself and has no such syscall).
    TimerRead,
    /// Draining the readable end of a socket pair.
    SocketDrain,
    /// Draining the file-watch queue (inotify; kqueue's vnode notes need no
    /// drain).
    FileDrain,
    /// Writing a byte into a socket pair (the stimulus).
    SocketPoke,
    /// Writing a byte into a watched file (the stimulus).
    FileTouch,
    /// A whole pass: wait-call return to wait-call return.
    Pass,
    /// A pass's timer reads and socket drains, summed: the first third of
    /// a default pass, where start-up cuts whole passes in thirds
    /// ([`StartupReport::thirds`](crate::StartupReport::thirds)).
    PassFirstThird,
    /// A pass's inotify drain and socket pokes, summed: its middle third.
    PassMiddleThird,
    /// A pass's file touches and its wait's return, summed: its last third.
    PassLastThird,
}

impl KernelPath {
    /// Every path, in the order a pass runs them.
    pub const ALL: [KernelPath; 10] = [
        KernelPath::Wait,
        KernelPath::TimerRead,
        KernelPath::SocketDrain,
        KernelPath::FileDrain,
        KernelPath::SocketPoke,
        KernelPath::FileTouch,
        KernelPath::Pass,
        KernelPath::PassFirstThird,
        KernelPath::PassMiddleThird,
        KernelPath::PassLastThird,
    ];

    /// A pass's thirds, in the order a seeder that cut its passes in
    /// thirds credits them.
    pub const THIRDS: [KernelPath; 3] = [
        KernelPath::PassFirstThird,
        KernelPath::PassMiddleThird,
        KernelPath::PassLastThird,
    ];

    /// Which third of a pass this path's time counts towards (0, 1 or 2),
    /// for a kernel path of the collector's; `None` for a sum.
    pub fn third(self) -> Option<usize> {
        match self {
            KernelPath::TimerRead | KernelPath::SocketDrain => Some(0),
            KernelPath::FileDrain | KernelPath::SocketPoke => Some(1),
            KernelPath::FileTouch | KernelPath::Wait => Some(2),
            KernelPath::Pass
            | KernelPath::PassFirstThird
            | KernelPath::PassMiddleThird
            | KernelPath::PassLastThird => None,
        }
    }

    /// Whether this is a sum of a pass's samples (a whole pass or a third).
    pub fn is_pass_sum(self) -> bool {
        matches!(
            self,
            KernelPath::Pass
                | KernelPath::PassFirstThird
                | KernelPath::PassMiddleThird
                | KernelPath::PassLastThird
        )
    }

    /// Its position in [`KernelPath::ALL`]: an index for per-path tables.
    pub fn index(self) -> usize {
        match self {
            KernelPath::Wait => 0,
            KernelPath::TimerRead => 1,
            KernelPath::SocketDrain => 2,
            KernelPath::FileDrain => 3,
            KernelPath::SocketPoke => 4,
            KernelPath::FileTouch => 5,
            KernelPath::Pass => 6,
            KernelPath::PassFirstThird => 7,
            KernelPath::PassMiddleThird => 8,
            KernelPath::PassLastThird => 9,
        }
    }

    /// A short name, e.g. `"socket-drain"`: the CLI's and reports' spelling.
    pub fn name(self) -> &'static str {
        match self {
            KernelPath::Wait => "wait",
            KernelPath::TimerRead => "timer-read",
            KernelPath::SocketDrain => "socket-drain",
            KernelPath::FileDrain => "file-drain",
            KernelPath::SocketPoke => "socket-poke",
            KernelPath::FileTouch => "file-touch",
            KernelPath::Pass => "pass",
            KernelPath::PassFirstThird => "pass-first-third",
            KernelPath::PassMiddleThird => "pass-middle-third",
            KernelPath::PassLastThird => "pass-last-third",
        }
    }
}

/// Most clock readings one pass keeps. Paths beyond it are not lost: their
/// time goes into the next reading's delta.
pub(crate) const MAX_MARKS: usize = 32;

/// Clock readings taken during one pass, each after a kernel path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Marks {
    len: usize,
    at: [u64; MAX_MARKS],
    path: [KernelPath; MAX_MARKS],
}

impl Default for Marks {
    fn default() -> Self {
        Marks {
            len: 0,
            at: [0; MAX_MARKS],
            path: [KernelPath::Wait; MAX_MARKS],
        }
    }
}

impl Marks {
    /// Records that `path` ended at `at`; ignored once full.
    pub(crate) fn push(&mut self, path: KernelPath, at: u64) {
        if self.len < MAX_MARKS {
            self.at[self.len] = at;
            self.path[self.len] = path;
            self.len += 1;
        }
    }

    /// Reads the clock now and records that `path` just ended (once full,
    /// without reading the clock).
    pub(crate) fn mark(&mut self, path: KernelPath) {
        if self.len < MAX_MARKS {
            self.push(path, unix::now_ticks());
        }
    }

    /// How many readings were taken.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The readings in the order they were taken.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (KernelPath, u64)> + '_ {
        self.path[..self.len]
            .iter()
            .copied()
            .zip(self.at[..self.len].iter().copied())
    }
}

/// Tests of the contract, run against whichever backend is built.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::EventQueue;
    use crate::config::KqueueEventsConfig;
    use crate::error::Error;

    #[test]
    fn a_stall_counts_four_expirations_towards_the_pace() {
        use super::EventCounts;
        let stall = EventCounts {
            timer: 1,
            timer_expirations: 800,
            ..EventCounts::default()
        };
        let (mut raw, mut paced) = (EventCounts::default(), EventCounts::default());
        raw.add(&stall);
        paced.add_paced(&stall);
        assert_eq!(raw.timer_expirations, 800);
        assert_eq!(paced.timer_expirations, 4);
        assert_eq!(paced.timer, 1);
        // Two timers in one wakeup: up to four each.
        let two = EventCounts {
            timer: 2,
            timer_expirations: 5,
            ..EventCounts::default()
        };
        paced.add_paced(&two);
        assert_eq!(paced.timer_expirations, 9);
        assert_eq!(paced.expirations_per_timer_event(), 3.0);
    }

    #[test]
    fn a_hung_up_socket_is_a_typed_event_error() {
        let config = KqueueEventsConfig {
            timer_intervals: vec![],
            num_sockets: 1,
            num_file_watchers: 0,
            ..KqueueEventsConfig::default()
        };
        let mut queue = EventQueue::open(&config).expect("queue");
        queue.sources().sockets[0]
            .writer
            .shutdown(std::net::Shutdown::Both)
            .expect("shutdown");
        let mut saw_error = false;
        for _ in 0..4 {
            match queue.wait(Duration::from_millis(100)) {
                Err(Error::Event { event, .. }) => {
                    assert_eq!(event, "socket");
                    saw_error = true;
                    break;
                }
                Ok(_) => continue,
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert!(saw_error, "a hung-up socket was not reported");
    }
}
