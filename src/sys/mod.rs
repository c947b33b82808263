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
//! * `pub(crate) struct EventQueue`, with:
//!   * `fn open(config: &KqueueEventsConfig) -> Result<EventQueue>` for a
//!     validated config: creates the queue, one periodic timer per interval,
//!     the socket pairs ([`unix::SocketPairs`]) and the watched files
//!     ([`unix::WatchedFiles`]), and registers them all. Every fd is an
//!     `OwnedFd` (or a std type owning one) from birth and close-on-exec. If
//!     any step fails, what was made is closed and removed, and the error
//!     names the call and `errno`.
//!   * `fn wait(&mut self, timeout: Duration) -> Result<Wakeup>`: one wait
//!     call, retried on `EINTR` with the time left. Right after a return with
//!     at least one event it reads [`unix::now_ticks`], then handles each
//!     event (reads timer expirations where the OS needs it, drains readable
//!     sockets and file-watch queues) and counts it by type. No event before
//!     the timeout: [`Error::WaitTimedOut`](crate::Error::WaitTimedOut). An
//!     error entry: [`Error::Event`](crate::Error::Event).
//!   * `fn sources(&mut self) -> &mut unix::Sources`: the sockets and files,
//!     so the collector can stimulate them (`poke_socket`, `touch_file`);
//!     `fn sources_ref(&self) -> &unix::Sources` to look at them.
//!   * `fn as_fd(&self) -> BorrowedFd<'_>`: the queue's own fd, readable
//!     while an event is pending (for async readiness).
//!   * `fn abandon_after_fork(self)`: in a forked child, lets go of the
//!     parent's resources without disturbing the parent: the private
//!     directory is left in place (the parent removes it), inherited fds are
//!     closed, fds that are not inherited (kqueue) are forgotten, not closed.

use crate::collector::EventCounts;

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

pub(crate) use backend::{EventQueue, NAME, fds_needed};
pub(crate) use unix::{clock_info, fork_generation, open_file_limit};

/// What one return of the wait call brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wakeup {
    /// The clock, in its native ticks, read right after the call returned.
    pub at: u64,
    /// The events it returned, by type.
    pub events: EventCounts,
}

/// Tests of the contract, run against whichever backend is built.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::EventQueue;
    use crate::config::KqueueEventsConfig;
    use crate::error::Error;

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
