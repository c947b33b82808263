//! Test-only scaffolding for running the kqueue backend on Linux through
//! libkqueue (`--cfg kqseed_libkqueue`, scripts/test-libkqueue.sh): its
//! declarations, the keep-alive for its monitoring thread, and a kqueue fd
//! that waits on drop for libkqueue's hidden fds. Nothing of it is in the
//! production backend, `kqueue.rs`.
//!
//! libkqueue frees what it opened behind a kqueue (an epoll set, an eventfd,
//! a timerfd per timer, an inotify instance per watched file) from its
//! monitoring thread, signalled some milliseconds after the kqueue's fd is
//! closed. A kernel frees a kqueue at `close()`; so that the process's fd
//! count (which the tests check) looks the same, the kqueue waits on drop,
//! up to 2 s, until the process holds that many fds fewer. In a forked child
//! the monitoring thread is gone and the full 2 s pass.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use crate::config::KqueueEventsConfig;

/// libkqueue 2.3 (Debian's `libkqueue-dev`), linked statically, for tests on
/// Linux. Values from its `kqueue/sys/event.h`; its `struct kevent` is the
/// Darwin layout.
#[allow(non_camel_case_types)]
pub(crate) mod ffi {
    use libc::{c_int, c_void, intptr_t, timespec, uintptr_t};

    #[repr(C)]
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct kevent {
        pub(crate) ident: uintptr_t,
        pub(crate) filter: i16,
        pub(crate) flags: u16,
        pub(crate) fflags: u32,
        pub(crate) data: intptr_t,
        pub(crate) udata: *mut c_void,
    }

    #[cfg(target_pointer_width = "64")]
    const _: () = assert!(size_of::<kevent>() == 32);

    pub(crate) const EVFILT_READ: i16 = -1;
    pub(crate) const EVFILT_WRITE: i16 = -2;
    pub(crate) const EVFILT_VNODE: i16 = -4;
    pub(crate) const EVFILT_TIMER: i16 = -7;
    pub(crate) const EV_ADD: u16 = 0x0001;
    pub(crate) const EV_ONESHOT: u16 = 0x0010;
    pub(crate) const EV_CLEAR: u16 = 0x0020;
    // Only the tests ask for receipts: libkqueue does not return them.
    #[cfg(test)]
    pub(crate) const EV_RECEIPT: u16 = 0x0040;
    pub(crate) const EV_ERROR: u16 = 0x4000;
    pub(crate) const EV_EOF: u16 = 0x8000;
    pub(crate) const NOTE_WRITE: u32 = 0x0002;
    pub(crate) const NOTE_EXTEND: u32 = 0x0004;
    pub(crate) const NOTE_ATTRIB: u32 = 0x0008;
    pub(crate) const NOTE_USECONDS: u32 = 0x0002;
    pub(crate) const NOTE_NSECONDS: u32 = 0x0004;

    // SAFETY: these signatures are libkqueue's `sys/event.h` ones (the
    // same as the BSDs'), and the layouts above match its `struct kevent`.
    #[link(name = "kqueue", kind = "static")]
    unsafe extern "C" {
        pub(crate) fn kqueue() -> c_int;
        pub(crate) fn kevent(
            kq: c_int,
            changelist: *const kevent,
            nchanges: c_int,
            eventlist: *mut kevent,
            nevents: c_int,
            timeout: *const timespec,
        ) -> c_int;
    }
}

/// libkqueue 2.3.1 stops its monitoring thread whenever the last kqueue
/// closes and starts it again with the next, and that start can lose its
/// wakeup (`pthread_create`, then `pthread_cond_wait` with no predicate,
/// while holding the global `kq_mtx`): every later `kqueue()` then hangs.
/// Test processes open and close many kqueues, so it struck now and then.
/// One kqueue opened before `main` and never closed keeps the thread up,
/// so it starts once per process, before any test counts fds or spawns
/// threads.
// SAFETY: (link_section) the loader calls each `.init_array` entry once,
// with no arguments, before `main`; the entry is an `extern "C" fn()` that
// only opens a kqueue and stores to an atomic, which needs nothing
// initialised by `main`.
#[used]
#[unsafe(link_section = ".init_array")]
static KEEP_MONITOR_THREAD: extern "C" fn() = keep_monitor_thread;

static MONITOR_KEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn keep_monitor_thread() {
    // SAFETY: plain call without arguments; the fd is leaked on purpose.
    let fd = unsafe { ffi::kqueue() };
    MONITOR_KEPT.store(fd >= 0, std::sync::atomic::Ordering::Relaxed);
}

/// Whether the keep-alive kqueue was opened before `main`.
#[cfg(test)]
pub(crate) fn monitor_kept() -> bool {
    MONITOR_KEPT.load(std::sync::atomic::Ordering::Relaxed)
}

/// The fds libkqueue 2.3.1 opens for a kqueue with `config`'s sources
/// (measured): two per kqueue, one per registered timer, one per watched
/// file. A one-shot timer that fired holds none until it is added again.
pub(crate) fn hidden_fds(config: &KqueueEventsConfig) -> usize {
    2 + config.timer_intervals.len() + config.num_file_watchers
}

pub(crate) struct Kqueue {
    fd: Option<OwnedFd>,
    hidden_fds: usize,
    /// Timers counted in `hidden_fds` that are not registered now.
    timers_off: usize,
}

impl From<OwnedFd> for Kqueue {
    fn from(fd: OwnedFd) -> Kqueue {
        Kqueue {
            fd: Some(fd),
            hidden_fds: 2,
            timers_off: 0,
        }
    }
}

impl Kqueue {
    pub(crate) fn set_hidden_fds(&mut self, n: usize) {
        self.hidden_fds = n;
    }

    /// How many of the queue's one-shot timers are not registered (fired,
    /// not re-added yet): libkqueue closed their timerfds.
    pub(crate) fn set_timers_off(&mut self, n: usize) {
        self.timers_off = n;
    }

    fn fd(&self) -> &OwnedFd {
        self.fd
            .as_ref()
            .expect("the kqueue fd is only taken on drop")
    }
}

impl AsFd for Kqueue {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd().as_fd()
    }
}

impl AsRawFd for Kqueue {
    fn as_raw_fd(&self) -> RawFd {
        self.fd().as_raw_fd()
    }
}

impl IntoRawFd for Kqueue {
    fn into_raw_fd(mut self) -> RawFd {
        let fd = self.fd.take().expect("the kqueue fd is only taken on drop");
        fd.into_raw_fd()
    }
}

fn open_fds() -> Option<usize> {
    std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count())
}

impl Drop for Kqueue {
    fn drop(&mut self) {
        let Some(fd) = self.fd.take() else {
            return;
        };
        let before = open_fds();
        drop(fd);
        let Some(before) = before else {
            return;
        };
        let hidden = self.hidden_fds.saturating_sub(self.timers_off);
        let target = before.saturating_sub(1 + hidden);
        let deadline = Instant::now() + Duration::from_secs(2);
        while open_fds().is_some_and(|n| n > target) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
