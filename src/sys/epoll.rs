//! Linux and Android: one epoll set holding timerfds, socket pairs and an
//! inotify instance that watches the files.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use super::unix::{Sources, cvt, now_ticks, os_error, wait_for_events};
use super::{EventCounts, KernelPath, Wakeup};
use crate::config::KqueueEventsConfig;
use crate::error::{Error, Result};

pub(crate) const NAME: &str = "epoll";

/// epoll set, one timerfd per timer, two fds per socket pair, one fd per
/// watched file plus the inotify instance.
pub(crate) fn fds_needed(config: &KqueueEventsConfig) -> usize {
    1 + config.timer_intervals.len()
        + 2 * config.num_sockets
        + config.num_file_watchers
        + usize::from(config.num_file_watchers > 0)
}

/// timerfds are hrtimers: no tick to round to at the intervals accepted.
pub(crate) fn timer_tick() -> Result<Option<Duration>> {
    Ok(None)
}

/// A timerfd is periodic and its read counts every expiration since the
/// last read, so the collector can measure how many intervals a pass takes.
pub(crate) const PERIODIC_TIMERS: bool = true;

// Event tokens: the kind in the high half, the source's index in the low half.
const TIMER: u64 = 1 << 32;
const SOCKET_READ: u64 = 2 << 32;
const SOCKET_WRITE: u64 = 3 << 32;
const FILES: u64 = 4 << 32;
const KIND_MASK: u64 = 0xffff_ffff << 32;

pub(crate) struct EventQueue {
    epoll: OwnedFd,
    // timerfds and the inotify fd are read with std's `File`, which owns them.
    timers: Vec<File>,
    inotify: Option<File>,
    sources: Sources,
    events: Vec<libc::epoll_event>,
}

impl EventQueue {
    pub(crate) fn open(config: &KqueueEventsConfig) -> Result<EventQueue> {
        // SAFETY: plain syscall with a valid flag.
        let fd = cvt("epoll_create1", unsafe {
            libc::epoll_create1(libc::EPOLL_CLOEXEC)
        })?;
        // SAFETY: `fd` was just returned by epoll_create1 and nothing else owns it.
        let epoll = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut queue = EventQueue {
            epoll,
            timers: Vec::with_capacity(config.timer_intervals.len()),
            inotify: None,
            sources: Sources::open(config)?,
            events: vec![libc::epoll_event { events: 0, u64: 0 }; config.max_events],
        };
        for (i, &interval) in config.timer_intervals.iter().enumerate() {
            let timer = timerfd(interval)?;
            queue.add(timer.as_fd(), libc::EPOLLIN as u32, TIMER | i as u64)?;
            queue.timers.push(timer);
        }
        for i in 0..queue.sources.sockets.len() {
            let pair = &queue.sources.sockets[i];
            let (reader, writer) = (pair.reader.as_fd(), pair.writer.as_fd());
            queue.add(reader, libc::EPOLLIN as u32, SOCKET_READ | i as u64)?;
            // Edge-triggered: a socket is nearly always writable, so only the
            // transition (our byte consumed at the other end) is reported.
            queue.add(
                writer,
                (libc::EPOLLOUT | libc::EPOLLET) as u32,
                SOCKET_WRITE | i as u64,
            )?;
        }
        if !queue.sources.files.paths.is_empty() {
            let inotify = inotify(&queue.sources.files.paths)?;
            queue.add(inotify.as_fd(), libc::EPOLLIN as u32, FILES)?;
            queue.inotify = Some(inotify);
        }
        Ok(queue)
    }

    fn add(&self, fd: BorrowedFd<'_>, events: u32, token: u64) -> Result<()> {
        let mut event = libc::epoll_event { events, u64: token };
        // SAFETY: both fds are open for the duration of the call; `event` is
        // a valid epoll_event the kernel only reads.
        cvt("epoll_ctl", unsafe {
            libc::epoll_ctl(
                self.epoll.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                fd.as_raw_fd(),
                &mut event,
            )
        })?;
        Ok(())
    }

    pub(crate) fn wait(&mut self, timeout: Duration) -> Result<Wakeup> {
        let (epoll, events) = (self.epoll.as_raw_fd(), &mut self.events);
        let capacity = events.len();
        let n = wait_for_events("epoll_wait", timeout, capacity, |left| {
            // SAFETY: `events` is a live buffer of `capacity` entries
            // (1..=MAX_EVENTS_PER_WAIT, so the length fits in c_int).
            unsafe {
                libc::epoll_wait(
                    epoll,
                    events.as_mut_ptr(),
                    capacity as libc::c_int,
                    timeout_millis(left),
                )
            }
        })?;
        let mut wakeup = Wakeup::new(now_ticks(), EventCounts::default());
        let (counts, marks) = (&mut wakeup.events, &mut wakeup.marks);
        for k in 0..n {
            let libc::epoll_event { events, u64: token } = self.events[k];
            let index = (token & !KIND_MASK) as usize;
            match token & KIND_MASK {
                TIMER => {
                    counts.timer += 1;
                    counts.timer_expirations += self.read_timer(index)?;
                    marks.mark(KernelPath::TimerRead);
                }
                SOCKET_READ => {
                    self.check_socket(events, index)?;
                    counts.socket_read += 1;
                    self.sources.drain_socket(index)?;
                    marks.mark(KernelPath::SocketDrain);
                }
                SOCKET_WRITE => {
                    self.check_socket(events, index)?;
                    counts.socket_write += 1;
                }
                _ => {
                    counts.file += self.drain_inotify()?;
                    marks.mark(KernelPath::FileDrain);
                }
            }
        }
        Ok(wakeup)
    }

    fn check_socket(&self, events: u32, index: usize) -> Result<()> {
        if events & (libc::EPOLLERR | libc::EPOLLHUP) as u32 == 0 {
            return Ok(());
        }
        let errno = self
            .sources
            .sockets
            .get(index)
            // Either end may be the one that reported it.
            .and_then(|p| {
                [&p.reader, &p.writer]
                    .into_iter()
                    .find_map(|end| end.take_error().ok().flatten())
            })
            .and_then(|e| e.raw_os_error())
            .unwrap_or(libc::EPIPE);
        Err(Error::Event {
            event: "socket",
            errno,
        })
    }

    /// Re-arms timer `index` at `interval`, from now; an index past the
    /// timers is ignored.
    pub(crate) fn set_timer_interval(&mut self, index: usize, interval: Duration) -> Result<()> {
        match self.timers.get(index) {
            Some(timer) => arm_timerfd(timer, interval),
            None => Ok(()),
        }
    }

    /// Reads a timerfd's expiration count (at least 1 when it was ready).
    fn read_timer(&mut self, index: usize) -> Result<u64> {
        let Some(timer) = self.timers.get_mut(index) else {
            return Ok(0);
        };
        let mut buf = [0u8; 8];
        match timer.read(&mut buf) {
            Ok(8) => Ok(u64::from_ne_bytes(buf)),
            Ok(_) => Ok(0),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(os_error("read(timerfd)", &e)),
        }
    }

    /// Reads every pending inotify record; returns how many there were.
    fn drain_inotify(&mut self) -> Result<u64> {
        let Some(inotify) = self.inotify.as_mut() else {
            return Ok(0);
        };
        // Aligned for inotify_event; no file names come for file watches.
        let mut buf = [0u64; 64];
        let mut records = 0;
        loop {
            // SAFETY: viewing an initialised u64 array as bytes.
            let bytes = unsafe {
                std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), size_of_val(&buf))
            };
            match inotify.read(bytes) {
                Ok(0) => return Ok(records),
                Ok(len) => records += count_inotify_records(&bytes[..len]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(records),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(os_error("read(inotify)", &e)),
            }
        }
    }

    pub(crate) fn sources(&mut self) -> &mut Sources {
        &mut self.sources
    }

    pub(crate) fn sources_ref(&self) -> &Sources {
        &self.sources
    }

    pub(crate) fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }

    /// The fd whose `close()` is slow: destroying an inotify instance waits
    /// for an SRCU grace period (5-20 ms here, seen with `strace -T`).
    pub(crate) fn take_slow_fd(&mut self) -> Option<OwnedFd> {
        self.inotify.take().map(OwnedFd::from)
    }

    /// epoll sets, timerfds and inotify fds are inherited by a child and
    /// would be shared with the parent: the child closes its copies.
    pub(crate) fn abandon_after_fork(self) {
        let EventQueue { sources, .. } = self;
        sources.abandon_after_fork();
    }
}

/// Rounds a timeout up to whole milliseconds, for wait calls that take
/// milliseconds, so that a short non-zero timeout never becomes a zero
/// (non-blocking) one.
fn timeout_millis(timeout: Duration) -> i32 {
    let ms = timeout.as_nanos().div_ceil(1_000_000);
    i32::try_from(ms).unwrap_or(i32::MAX)
}

/// Counts the `inotify_event` records in one read: a fixed header whose last
/// field is the length of the name that follows.
fn count_inotify_records(mut bytes: &[u8]) -> u64 {
    const HEADER: usize = size_of::<libc::inotify_event>();
    let mut records = 0;
    while bytes.len() >= HEADER {
        let name_len = u32::from_ne_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
        records += 1;
        bytes = bytes.get(HEADER + name_len..).unwrap_or(&[]);
    }
    records
}

fn timerfd(interval: Duration) -> Result<File> {
    // SAFETY: plain syscall with valid flags.
    let fd = cvt("timerfd_create", unsafe {
        libc::timerfd_create(
            libc::CLOCK_MONOTONIC,
            libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
        )
    })?;
    // SAFETY: `fd` was just returned by timerfd_create and nothing else owns it.
    let timer = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    arm_timerfd(&timer, interval)?;
    Ok(timer)
}

/// Arms `timer` to expire every `interval`, the first time one interval
/// from now (re-arming replaces the old setting and its pending count).
fn arm_timerfd(timer: &File, interval: Duration) -> Result<()> {
    let spec = libc::timespec {
        tv_sec: interval.as_secs() as libc::time_t,
        tv_nsec: interval.subsec_nanos() as libc::c_long,
    };
    let value = libc::itimerspec {
        it_interval: spec,
        it_value: spec,
    };
    // SAFETY: `timer` is an open timerfd; `value` is a valid itimerspec and
    // the old value is not asked for.
    cvt("timerfd_settime", unsafe {
        libc::timerfd_settime(timer.as_raw_fd(), 0, &value, std::ptr::null_mut())
    })?;
    Ok(())
}

fn inotify(paths: &[std::path::PathBuf]) -> Result<File> {
    // SAFETY: plain syscall with valid flags.
    let fd = cvt("inotify_init1", unsafe {
        libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC)
    })?;
    // SAFETY: `fd` was just returned by inotify_init1 and nothing else owns it.
    let inotify = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    for path in paths {
        let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| Error::TempDir {
            path: path.clone(),
            kind: io::ErrorKind::InvalidInput,
        })?;
        // SAFETY: `c_path` is NUL-terminated and lives across the call.
        cvt("inotify_add_watch", unsafe {
            libc::inotify_add_watch(
                inotify.as_raw_fd(),
                c_path.as_ptr().cast(),
                libc::IN_MODIFY | libc::IN_ATTRIB,
            )
        })?;
    }
    Ok(inotify)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inotify_records_are_counted_with_names() {
        let header = size_of::<libc::inotify_event>();
        let mut buf = vec![0u8; 2 * header + 16];
        buf[12..16].copy_from_slice(&16u32.to_ne_bytes());
        assert_eq!(count_inotify_records(&buf), 2);
        assert_eq!(count_inotify_records(&buf[..header - 1]), 0);
    }

    /// The interval timer `index` is armed with, as the kernel has it.
    fn armed_interval(queue: &EventQueue, index: usize) -> Duration {
        let mut value = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
        };
        // SAFETY: the timerfd is open for the call; `value` is a valid
        // itimerspec the kernel writes.
        let rc = unsafe { libc::timerfd_gettime(queue.timers[index].as_raw_fd(), &mut value) };
        assert_eq!(rc, 0, "timerfd_gettime");
        let it = value.it_interval;
        Duration::new(it.tv_sec as u64, it.tv_nsec as u32)
    }

    #[test]
    fn a_timer_re_armed_runs_at_its_new_interval() {
        let config = KqueueEventsConfig::default()
            .with_timer_intervals(vec![Duration::from_micros(5), Duration::from_micros(7)]);
        let mut queue = EventQueue::open(&config).expect("queue");
        assert_eq!(armed_interval(&queue, 1), Duration::from_micros(7));
        queue
            .set_timer_interval(1, Duration::from_micros(2_500))
            .expect("re-armed");
        assert_eq!(armed_interval(&queue, 0), Duration::from_micros(5));
        assert_eq!(armed_interval(&queue, 1), Duration::from_micros(2_500));
        // A timer past the last is no error and changes nothing.
        queue
            .set_timer_interval(2, Duration::from_micros(3))
            .expect("ignored");
        assert_eq!(armed_interval(&queue, 0), Duration::from_micros(5));
    }
}
