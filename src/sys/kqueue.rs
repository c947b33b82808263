//! Apple and the BSDs: one kqueue holding an `EVFILT_TIMER` per interval,
//! `EVFILT_READ` / `EVFILT_WRITE` on the socket pairs and `EVFILT_VNODE` on
//! the watched files.
//!
//! What each kernel does with these registrations was checked against its
//! source (XNU xnu-11417, FreeBSD 11 and 15-current, NetBSD 7/9/10, OpenBSD
//! 2025, DragonFly; the review of 2026-12-05); the comments below name the
//! kernel function behind each choice. FreeBSD is supported from 13: up to
//! 12, `NOTE_NSECONDS` periods ran about 6.9% short and a late timer re-fired
//! once per missed period (`timer2sbintime`, `filt_timerexpire`).
//!
//! On Linux under `--cfg kqseed_libkqueue` (scripts/test-libkqueue.sh only)
//! the same code runs on libkqueue, whose declarations are in [`ffi`] below.
//!
//! `struct kevent` differs between the systems (NetBSD: `filter` and `flags`
//! are `u32`; `data` is `intptr_t` on some, `i64` on others; FreeBSD 12+ has
//! an `ext` array). Nothing here converts with `as`: changes are built by
//! [`change`], whose parameters have the field types of the target's struct,
//! and numbers are converted with `TryFrom`, so a wrong field type fails the
//! build (scripts/check-targets.sh type-checks every kqueue target).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};
use std::time::Duration;
use std::{mem, ptr};

use super::unix::{Sources, cvt, errno, now_ticks, wait_for_events};
use super::{EventCounts, KernelPath, Wakeup};
use crate::config::KqueueEventsConfig;
use crate::error::{Error, Result};

pub(crate) const NAME: &str = "kqueue";

/// The kqueue, two fds per socket pair and one per watched file; timers take
/// no fd.
///
/// What a kernel kqueue takes, also under libkqueue (tests on Linux), whose
/// emulation opens [`libkqueue::hidden_fds`] more behind the kqueue.
pub(crate) fn fds_needed(config: &KqueueEventsConfig) -> usize {
    1 + 2 * config.num_sockets + config.num_file_watchers
}

/// The kernel's timer granularity where `EVFILT_TIMER` rounds an interval up
/// to whole clock ticks: NetBSD 10 (`filt_timercompute`: `tstohz`, at least
/// one tick), OpenBSD (`filt_timeradd`: `tstohz`) and DragonFly
/// (`filt_timerreset`: `tvtohz_high`), with `hz` from `kern.clockrate` (100
/// by default on all three, so 10 ms). `None` on XNU, FreeBSD and
/// libkqueue, whose timers are finer than any interval accepted.
#[cfg(any(target_os = "netbsd", target_os = "openbsd", target_os = "dragonfly"))]
pub(crate) fn timer_tick() -> Result<Option<Duration>> {
    super::unix::clock_tick().map(Some)
}

/// See the tick-counting kernels' version above.
#[cfg(not(any(target_os = "netbsd", target_os = "openbsd", target_os = "dragonfly")))]
pub(crate) fn timer_tick() -> Result<Option<Duration>> {
    Ok(None)
}

/// The system's kqueue API, from `libc`.
#[cfg(not(kqseed_libkqueue))]
mod ffi {
    #[cfg(not(target_os = "netbsd"))]
    pub(super) use libc::kqueue;
    // Apple's timers stay periodic (see `ONESHOT`): the tests only.
    #[cfg(any(test, not(target_vendor = "apple")))]
    pub(super) use libc::EV_ONESHOT;
    pub(super) use libc::{
        EV_ADD, EV_CLEAR, EV_EOF, EV_ERROR, EV_RECEIPT, EVFILT_READ, EVFILT_TIMER, EVFILT_VNODE,
        EVFILT_WRITE, NOTE_ATTRIB, NOTE_EXTEND, NOTE_WRITE, kevent,
    };
    #[cfg(any(target_vendor = "apple", target_os = "freebsd"))]
    pub(super) use libc::{NOTE_NSECONDS, NOTE_USECONDS};
}

#[cfg(kqseed_libkqueue)]
use super::libkqueue::ffi;

// The types of `struct kevent`'s `filter` and `flags` fields.
#[cfg(target_os = "netbsd")]
type Filter = u32;
#[cfg(target_os = "netbsd")]
type Flags = u32;
#[cfg(not(target_os = "netbsd"))]
type Filter = i16;
#[cfg(not(target_os = "netbsd"))]
type Flags = u16;

/// Timer units, finest first: (`fflags`, nanoseconds per unit). The finest
/// unit whose count fits `data` is used (nanoseconds on 64-bit targets).
/// `fflags` 0 is milliseconds on every kqueue.
///
/// Apple, FreeBSD and libkqueue take `NOTE_NSECONDS`. NetBSD, OpenBSD and
/// DragonFly are sent milliseconds, the one unit every release of them
/// reads: NetBSD up to 9 ignores `fflags` and reads `data` as milliseconds
/// (`kern_event.c` 1.117 `filt_timerattach`: `mstohz(kn_sdata)`), so a
/// `NOTE_NSECONDS` count of 5000 armed a 5 s timer there; DragonFly reads
/// milliseconds whatever `fflags` say (`filt_timerreset`); `libc` has no
/// `NOTE_NSECONDS` for OpenBSD. All three round timers up to whole clock
/// ticks anyway ([`timer_tick`]), so milliseconds lose nothing.
#[cfg(any(target_vendor = "apple", target_os = "freebsd", kqseed_libkqueue))]
const TIMER_UNITS: &[(u32, u128)] = &[
    (ffi::NOTE_NSECONDS, 1),
    (ffi::NOTE_USECONDS, 1_000),
    (0, 1_000_000),
];
#[cfg(not(any(target_vendor = "apple", target_os = "freebsd", kqseed_libkqueue)))]
const TIMER_UNITS: &[(u32, u128)] = &[(0, 1_000_000)];

/// Extra timer `fflags`. XNU gives a timer leeway ("slop") to coalesce its
/// wakeups: for a foreground thread about 1/8 of the interval (at most
/// 1 ms), for background and throttled QoS up to 32 times that and more
/// (`osfmk/arm/arm_timer.c`, `osfmk/i386/i386_timer.c`). `NOTE_CRITICAL`
/// takes the real-time branch of `timer_compute_leeway`, whose slop is 0
/// whatever the thread's QoS, so the 5 us timer keeps its interval even on a
/// background seeding thread.
#[cfg(target_vendor = "apple")]
const TIMER_FFLAGS: u32 = libc::NOTE_CRITICAL;
#[cfg(not(target_vendor = "apple"))]
const TIMER_FFLAGS: u32 = 0;

/// Asks for a receipt for every change, so that errors come back per
/// change. Not with libkqueue: see its `register`.
#[cfg(not(kqseed_libkqueue))]
const RECEIPT: Flags = ffi::EV_RECEIPT;
#[cfg(kqseed_libkqueue)]
const RECEIPT: Flags = 0;

/// How a timer stays armed. XNU re-arms a periodic timer only when its event
/// is harvested (`kern_event.c` `filt_timerprocess`), so a queue nobody
/// waits on costs at most one expiry: there the timer is periodic.
/// FreeBSD, NetBSD, OpenBSD and DragonFly re-arm the callout every period
/// whether anyone collects or not (FreeBSD `filt_timerexpire_l`, NetBSD 10
/// and DragonFly `filt_timerexpire`, OpenBSD `filt_dotimerexpire`): a seeder
/// kept between seeds (the seeding service parks one) would run a 5 us
/// callout for the life of the process, and FreeBSD refuses timers past
/// 4,096 system-wide (`kq_calloutmax`). There each timer is `EV_ONESHOT`:
/// those same functions schedule nothing more for a one-shot timer, the
/// kernel deletes it when its event is harvested, and the next wait re-adds
/// it in its change list, so an idle queue holds no timer and re-arming
/// takes no syscall of its own.
#[cfg(target_vendor = "apple")]
const ONESHOT: Flags = 0;
#[cfg(not(target_vendor = "apple"))]
const ONESHOT: Flags = ffi::EV_ONESHOT;

/// Apple's periodic timers report every expiration since their last
/// event; a one-shot timer reports one, always (see [`ONESHOT`]).
pub(crate) const PERIODIC_TIMERS: bool = ONESHOT == 0;

// Event tokens, carried in `udata`: the source's index above the kind.
const TIMER: usize = 0;
const SOCKET_READ: usize = 1;
const SOCKET_WRITE: usize = 2;
const FILE: usize = 3;
const KIND_BITS: u32 = 2;
const KIND_MASK: usize = (1 << KIND_BITS) - 1;

fn token(kind: usize, index: usize) -> usize {
    (index << KIND_BITS) | kind
}

/// The event type named in [`Error::Event`].
fn kind_name(token: usize) -> &'static str {
    match token & KIND_MASK {
        TIMER => "timer",
        SOCKET_READ | SOCKET_WRITE => "socket",
        _ => "file",
    }
}

/// The queue's own fd.
#[cfg(not(kqseed_libkqueue))]
type Kqueue = OwnedFd;
#[cfg(kqseed_libkqueue)]
use super::libkqueue::{self, Kqueue};

pub(crate) struct EventQueue {
    kq: Kqueue,
    sources: Sources,
    events: EventList,
    /// One `EV_ADD` change per timer, without a receipt: what a wait's
    /// change list carries to re-add a one-shot timer that fired.
    timer_adds: EventList,
    /// One-shot timers that fired and are not re-added yet, by index.
    disarmed: Vec<usize>,
    /// The change list of the next wait, rebuilt each time.
    changes: EventList,
    /// A watched file whose watch the kernel dropped (`EV_EOF`): every wait
    /// returns this error from then on, since the file source is gone.
    gone: Option<Error>,
}

/// What one entry of the event list asks of [`EventQueue::wait`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Returned {
    /// Timer `index` fired `expirations` times since the last report.
    Timer { index: usize, expirations: u64 },
    /// Socket pair `index` is readable: drain it.
    SocketRead(usize),
    /// A socket pair is writable again.
    SocketWrite,
    /// A watched file was written.
    File,
}

/// The buffer `kevent()` fills. `struct kevent` holds `udata`, a raw
/// pointer, so a `Vec` of them is neither `Send` nor `Sync`, which would
/// make the collector and seeder `!Send` here while they are `Send` on
/// Linux.
struct EventList(Vec<ffi::kevent>);

// SAFETY: `udata` only ever carries an integer token (see `token`), made
// with `ptr::without_provenance_mut` and never dereferenced; the entries
// are plain data owned by the Vec.
unsafe impl Send for EventList {}
// SAFETY: as above; shared access only reads integers.
unsafe impl Sync for EventList {}

impl EventQueue {
    pub(crate) fn open(config: &KqueueEventsConfig) -> Result<EventQueue> {
        let timers = config.timer_intervals.len();
        let mut queue = EventQueue {
            kq: new_kqueue()?,
            sources: Sources::open(config)?,
            events: EventList(vec![empty_event(); config.max_events]),
            timer_adds: EventList(Vec::with_capacity(timers)),
            disarmed: Vec::with_capacity(timers),
            changes: EventList(Vec::with_capacity(timers)),
            gone: None,
        };
        let mut changes =
            Vec::with_capacity(timers + 2 * config.num_sockets + config.num_file_watchers);
        for (i, &interval) in config.timer_intervals.iter().enumerate() {
            let add = timer_change(i, interval)?;
            queue.timer_adds.0.push(add);
            let mut with_receipt = add;
            with_receipt.flags |= RECEIPT;
            changes.push(with_receipt);
        }
        for (i, pair) in queue.sources.sockets.iter().enumerate() {
            changes.push(change(
                ident(pair.reader.as_fd())?,
                ffi::EVFILT_READ,
                ffi::EV_ADD | RECEIPT,
                0,
                0,
                token(SOCKET_READ, i),
            )?);
            // Edge-triggered: a socket is nearly always writable, so only the
            // transition (our byte consumed at the other end) is reported.
            changes.push(change(
                ident(pair.writer.as_fd())?,
                ffi::EVFILT_WRITE,
                ffi::EV_ADD | ffi::EV_CLEAR | RECEIPT,
                0,
                0,
                token(SOCKET_WRITE, i),
            )?);
        }
        for (i, fd) in queue.sources.files.fds().enumerate() {
            changes.push(change(
                ident(fd)?,
                ffi::EVFILT_VNODE,
                ffi::EV_ADD | ffi::EV_CLEAR | RECEIPT,
                ffi::NOTE_WRITE | ffi::NOTE_ATTRIB | ffi::NOTE_EXTEND,
                0,
                token(FILE, i),
            )?);
        }
        queue.register(&changes)?;
        #[cfg(kqseed_libkqueue)]
        queue.kq.set_hidden_fds(libkqueue::hidden_fds(config));
        Ok(queue)
    }

    /// Applies `changes` (each with `EV_RECEIPT`) in one `kevent()` call and
    /// turns the first failed entry into [`Error::Event`].
    #[cfg(not(kqseed_libkqueue))]
    fn register(&self, changes: &[ffi::kevent]) -> Result<()> {
        self.register_with_receipts(changes)
    }

    /// Applies `changes` (each with `EV_RECEIPT`) in one `kevent()` call and
    /// checks the receipts with [`check_receipts`]. Also built under
    /// libkqueue for its tests: libkqueue 2.3.1 counts no receipt, like a
    /// kernel without `EV_RECEIPT`.
    #[cfg(any(not(kqseed_libkqueue), test))]
    fn register_with_receipts(&self, changes: &[ffi::kevent]) -> Result<()> {
        let mut receipts = vec![empty_event(); changes.len()];
        let len = c_count(changes.len())?;
        // Never blocks: with EV_RECEIPT every change fills one receipt, and
        // the list has room for exactly those, so no event is taken either.
        let zero = timespec(Duration::ZERO);
        let n = loop {
            // SAFETY: `changes` and `receipts` are live buffers of `len`
            // entries each; the kernel reads the first and writes the second.
            let n = unsafe {
                ffi::kevent(
                    self.kq.as_raw_fd(),
                    changes.as_ptr(),
                    len,
                    receipts.as_mut_ptr(),
                    len,
                    &zero,
                )
            };
            if n >= 0 {
                break n;
            }
            // Adding is idempotent: after a signal, apply the list again.
            if errno() != libc::EINTR {
                // Named in full: the libkqueue build has no use for it.
                return Err(super::unix::last_os_error("kevent"));
            }
        };
        let n = usize::try_from(n).unwrap_or(0).min(receipts.len());
        check_receipts(&receipts[..n], changes.len())
    }

    /// libkqueue 2.3.1 copies receipts and errors into the event list but
    /// neither sets `EV_ERROR` on them nor counts them in its return value,
    /// so they cannot be told from events. Without an event list a failed
    /// change fails the call instead: one call per change, and its `errno`
    /// (libkqueue's generic `EFAULT` for most failures) becomes
    /// [`Error::Event`].
    #[cfg(kqseed_libkqueue)]
    fn register(&self, changes: &[ffi::kevent]) -> Result<()> {
        for change in changes {
            loop {
                // SAFETY: `change` is one live entry; no event list is given.
                let n = unsafe {
                    ffi::kevent(
                        self.kq.as_raw_fd(),
                        change,
                        1,
                        ptr::null_mut(),
                        0,
                        ptr::null(),
                    )
                };
                if n >= 0 {
                    break;
                }
                match errno() {
                    libc::EINTR => continue,
                    errno => {
                        return Err(Error::Event {
                            event: kind_name(change.udata.addr()),
                            errno,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    pub(crate) fn wait(&mut self, timeout: Duration) -> Result<Wakeup> {
        if let Some(gone) = &self.gone {
            return Err(gone.clone());
        }
        // The one-shot timers that fired go back in with this call.
        self.changes.0.clear();
        for &i in &self.disarmed {
            self.changes.0.extend(self.timer_adds.0.get(i).copied());
        }
        let nevents = c_count(self.events.0.len())?;
        let nchanges = c_count(self.changes.0.len())?;
        let changes = match self.changes.0.is_empty() {
            true => ptr::null(),
            false => self.changes.0.as_ptr(),
        };
        let (kq, events) = (self.kq.as_raw_fd(), &mut self.events.0);
        let capacity = events.len();
        let n = wait_for_events("kevent", timeout, capacity, |left| {
            let ts = timespec(left);
            // `nevents` is 1..=MAX_EVENTS_PER_WAIT. After EINTR the changes
            // go in again: the kernel applied them before it slept, and
            // adding a live timer again only restarts it.
            // SAFETY: `changes` is null or live for `nchanges` entries,
            // `events` live for `nevents`, and `ts` lives across the call.
            unsafe { ffi::kevent(kq, changes, nchanges, events.as_mut_ptr(), nevents, &ts) }
        });
        let at = now_ticks();
        match n {
            // Applied, but a re-add that failed came back as an error entry
            // (no receipts are asked for here): that timer is re-added by
            // the next wait.
            Ok(n) => {
                let entries = &self.events.0[..n.min(self.events.0.len())];
                self.disarmed.retain(|&i| {
                    entries
                        .iter()
                        .any(|e| e.flags & ffi::EV_ERROR != 0 && e.udata.addr() == token(TIMER, i))
                });
            }
            Err(Error::WaitTimedOut { .. }) => self.disarmed.clear(),
            // Not known to be applied: added again next time (adding a live
            // timer only restarts it).
            Err(_) => {}
        }
        let mut wakeup = Wakeup::new(at, EventCounts::default());
        let handled = n.and_then(|n| self.handle(n, &mut wakeup));
        #[cfg(kqseed_libkqueue)]
        self.kq.set_timers_off(self.disarmed.len());
        handled.map(|()| wakeup)
    }

    /// Handles the first `n` entries of the event list: counts them, drains
    /// the readable sockets (a clock mark after each) and notes the one-shot
    /// timers that fired, for the next wait to re-add.
    fn handle(&mut self, n: usize, wakeup: &mut Wakeup) -> Result<()> {
        let n = n.min(self.events.0.len());
        let (counts, marks) = (&mut wakeup.events, &mut wakeup.marks);
        for k in 0..n {
            let event = self.events.0[k];
            let handled = classify(&event).and_then(|returned| match returned {
                Returned::Timer { index, expirations } => {
                    counts.timer += 1;
                    counts.timer_expirations += expirations;
                    if ONESHOT != 0 {
                        self.disarmed.push(index);
                    }
                    Ok(())
                }
                Returned::SocketRead(index) => {
                    counts.socket_read += 1;
                    self.sources.drain_socket(index)?;
                    marks.mark(KernelPath::SocketDrain);
                    Ok(())
                }
                Returned::SocketWrite => {
                    counts.socket_write += 1;
                    Ok(())
                }
                Returned::File => {
                    counts.file += 1;
                    Ok(())
                }
            });
            if let Err(e) = handled {
                let token = event.udata.addr();
                if token & KIND_MASK == FILE && event.flags & ffi::EV_EOF != 0 {
                    self.gone = Some(e.clone());
                }
                self.note_fired_timers(k + 1..n);
                return Err(e);
            }
        }
        Ok(())
    }

    /// The one-shot timers among `entries`, left unhandled after an error:
    /// the kernel deleted them as it returned them, so the next wait must
    /// re-add them, or the collector would run on with fewer timers.
    fn note_fired_timers(&mut self, entries: core::ops::Range<usize>) {
        if ONESHOT == 0 {
            return;
        }
        for event in &self.events.0[entries] {
            if let Ok(Returned::Timer { index, .. }) = classify(event) {
                self.disarmed.push(index);
            }
        }
    }

    /// Re-arms timer `index` at `interval`: a periodic timer now (re-adding
    /// an existing timer event modifies it: `filt_timertouch` in XNU's and
    /// FreeBSD's `kern_event.c` stops the timer and arms it with the new
    /// period), a one-shot one from its next re-add
    /// (see [`ONESHOT`]); an index past the timers is ignored.
    pub(crate) fn set_timer_interval(&mut self, index: usize, interval: Duration) -> Result<()> {
        if index >= self.timer_adds.0.len() {
            return Ok(());
        }
        let add = timer_change(index, interval)?;
        if PERIODIC_TIMERS {
            let mut with_receipt = add;
            with_receipt.flags |= RECEIPT;
            self.register(&[with_receipt])?;
        }
        self.timer_adds.0[index] = add;
        Ok(())
    }

    pub(crate) fn sources(&mut self) -> &mut Sources {
        &mut self.sources
    }

    pub(crate) fn sources_ref(&self) -> &Sources {
        &self.sources
    }

    pub(crate) fn as_fd(&self) -> BorrowedFd<'_> {
        self.kq.as_fd()
    }

    /// No fd of a kqueue is slow to close.
    pub(crate) fn take_slow_fd(&mut self) -> Option<OwnedFd> {
        None
    }

    /// A kqueue is not inherited by a forked child on the BSDs and macOS:
    /// the child's copy of its number is free, or already someone else's, so
    /// it is forgotten, never closed. The socket and file fds are inherited,
    /// and the child closes its copies.
    ///
    /// Under libkqueue the kqueue is an ordinary, inherited Linux fd, so
    /// forgetting it leaks one fd in the child (tests only).
    pub(crate) fn abandon_after_fork(self) {
        let EventQueue { kq, sources, .. } = self;
        let _not_ours = kq.into_raw_fd();
        sources.abandon_after_fork();
    }
}

/// A new kqueue, close-on-exec from the start where the OS allows.
///
/// NetBSD has `kqueue1(O_CLOEXEC)`. FreeBSD 14's `kqueuex(KQUEUE_CLOEXEC)`
/// is not in `libc` yet, so FreeBSD, like the others, sets `FD_CLOEXEC`
/// right after `kqueue()` (a thread that forks and execs in between would
/// not get the kqueue in its child anyway: kqueues are not inherited by
/// fork on the BSDs and macOS).
fn new_kqueue() -> Result<Kqueue> {
    #[cfg(target_os = "netbsd")]
    // SAFETY: plain syscall with a valid flag.
    let fd = cvt("kqueue1", unsafe { libc::kqueue1(libc::O_CLOEXEC) })?;
    #[cfg(not(target_os = "netbsd"))]
    // SAFETY: plain syscall without arguments.
    let fd = cvt("kqueue", unsafe { ffi::kqueue() })?;
    // SAFETY: `fd` was just returned by kqueue and nothing else owns it.
    let kq = unsafe { OwnedFd::from_raw_fd(fd) };
    #[cfg(not(target_os = "netbsd"))]
    // SAFETY: `kq` is open; F_SETFD only changes its descriptor flags.
    cvt("fcntl(F_SETFD)", unsafe {
        libc::fcntl(kq.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC)
    })?;
    #[cfg(kqseed_libkqueue)]
    let kq = Kqueue::from(kq);
    Ok(kq)
}

/// An all-zero `struct kevent`.
fn empty_event() -> ffi::kevent {
    // struct kevent holds only integers and a raw pointer (FreeBSD 12+ adds
    // an integer array); the null `udata` is never dereferenced.
    // SAFETY: all zeroes is a valid value of every field.
    unsafe { mem::zeroed() }
}

/// One entry of a changelist. The parameters have the types of this
/// target's `struct kevent` fields, so a constant of the wrong type fails the
/// build; `data` is converted with `TryFrom`, never cast.
// `data` is i64 on some targets (intptr_t on others): no conversion there.
#[allow(clippy::useless_conversion)]
fn change(
    ident: libc::uintptr_t,
    filter: Filter,
    flags: Flags,
    fflags: u32,
    data: i64,
    token: usize,
) -> Result<ffi::kevent> {
    let mut event = empty_event();
    event.ident = ident;
    event.filter = filter;
    event.flags = flags;
    event.fflags = fflags;
    event.data = data.try_into().map_err(|_| Error::Os {
        syscall: "kevent",
        errno: libc::EOVERFLOW,
    })?;
    event.udata = ptr::without_provenance_mut(token);
    Ok(event)
}

/// The `EV_ADD` of a timer of `interval` (periodic, or one-shot: see
/// [`ONESHOT`]), in the finest unit this OS takes (see [`TIMER_UNITS`]),
/// rounded up so that it is never 0. No receipt is asked for: the caller
/// adds `EV_RECEIPT` where it wants one.
fn timer_change(index: usize, interval: Duration) -> Result<ffi::kevent> {
    let nanos = interval.as_nanos();
    let mut last = None;
    for &(unit, nanos_per_unit) in TIMER_UNITS {
        let count = nanos.div_ceil(nanos_per_unit).max(1);
        let Ok(count) = i64::try_from(count) else {
            continue;
        };
        let timer = change(
            index,
            ffi::EVFILT_TIMER,
            ffi::EV_ADD | ONESHOT,
            unit | TIMER_FFLAGS,
            count,
            token(TIMER, index),
        );
        if timer.is_ok() {
            return timer;
        }
        last = Some(timer);
    }
    last.unwrap_or(Err(Error::Os {
        syscall: "kevent",
        errno: libc::EOVERFLOW,
    }))
}

fn ident(fd: BorrowedFd<'_>) -> Result<libc::uintptr_t> {
    libc::uintptr_t::try_from(fd.as_raw_fd()).map_err(|_| Error::Os {
        syscall: "kevent",
        errno: libc::EBADF,
    })
}

/// A buffer length as `kevent()` takes it (`int`; `size_t` on NetBSD).
#[cfg_attr(target_os = "netbsd", allow(clippy::useless_conversion))]
fn c_count<T: TryFrom<usize>>(len: usize) -> Result<T> {
    T::try_from(len).map_err(|_| Error::Os {
        syscall: "kevent",
        errno: libc::EINVAL,
    })
}

fn timespec(d: Duration) -> libc::timespec {
    // Below 10^9, so it fits an i32, and an i32 fits a c_long everywhere.
    let nanos = i32::try_from(d.subsec_nanos()).unwrap_or(999_999_999);
    libc::timespec {
        tv_sec: d.as_secs().try_into().unwrap_or(libc::time_t::MAX),
        tv_nsec: nanos.into(),
    }
}

/// An `EV_ERROR` entry: `data` holds the errno.
fn event_error(event: &ffi::kevent) -> Error {
    Error::Event {
        event: kind_name(event.udata.addr()),
        errno: i32::try_from(event.data).unwrap_or(libc::EINVAL),
    }
}

/// What an entry of the event list is, or the error it reports: an
/// `EV_ERROR` entry, `EV_EOF` on a socket (see [`check_socket`]) or on a
/// watched file (see [`check_file`]).
fn classify(event: &ffi::kevent) -> Result<Returned> {
    if event.flags & ffi::EV_ERROR != 0 {
        return Err(event_error(event));
    }
    let token = event.udata.addr();
    let index = token >> KIND_BITS;
    Ok(match token & KIND_MASK {
        TIMER => Returned::Timer {
            index,
            // Expirations since the last report, at least 1.
            expirations: u64::try_from(event.data).unwrap_or(0).max(1),
        },
        SOCKET_READ => {
            check_socket(event)?;
            Returned::SocketRead(index)
        }
        SOCKET_WRITE => {
            check_socket(event)?;
            Returned::SocketWrite
        }
        _ => {
            check_file(event)?;
            Returned::File
        }
    })
}

/// Checks the receipts of `expected` changes applied with `EV_RECEIPT`.
///
/// A kernel with `EV_RECEIPT` returns one `EV_ERROR` entry per change, with
/// `data` 0 or the change's errno (XNU, FreeBSD, NetBSD since 1.117,
/// OpenBSD, DragonFly current): the first nonzero one becomes
/// [`Error::Event`]. A kernel without it (NetBSD up to 7, DragonFly before
/// receipts) ignores the flag: it reports only failed changes and then
/// scans, so real events (the sockets' first write edges) come back in
/// place of receipts, or fewer entries than changes. Either is the typed
/// error "EV_RECEIPT unsupported" (`ENOSYS`), not a receipt miscounted.
#[cfg(any(not(kqseed_libkqueue), test))]
fn check_receipts(receipts: &[ffi::kevent], expected: usize) -> Result<()> {
    if let Some(failed) = receipts
        .iter()
        .find(|r| r.flags & ffi::EV_ERROR != 0 && r.data != 0)
    {
        return Err(event_error(failed));
    }
    if receipts.iter().any(|r| r.flags & ffi::EV_ERROR == 0) {
        return Err(Error::Os {
            syscall: "kevent: EV_RECEIPT unsupported by this kernel (events came back in place of receipts)",
            errno: libc::ENOSYS,
        });
    }
    if receipts.len() < expected {
        return Err(Error::Os {
            syscall: "kevent: EV_RECEIPT unsupported by this kernel (fewer receipts than changes)",
            errno: libc::ENOSYS,
        });
    }
    Ok(())
}

/// `EV_EOF` on a watched file: the kernel dropped the watch. XNU and the
/// BSDs return a vnode note with `EV_EOF | EV_ONESHOT` when the vnode is
/// revoked (`revoke(2)`, a forced unmount, the vnode recycled; XNU
/// `vfs_vnops.c` `filt_vnode` on `NOTE_REVOKE`) and delete it, so no event
/// of that file ever comes again. The file source would stop silently;
/// instead it is [`Error::Event`] `"file"` with `ENOENT`, and the queue
/// keeps returning it.
fn check_file(event: &ffi::kevent) -> Result<()> {
    if event.flags & ffi::EV_EOF == 0 {
        return Ok(());
    }
    Err(Error::Event {
        event: "file",
        errno: libc::ENOENT,
    })
}

/// `EV_EOF` on a socket: the other end is gone, `fflags` holds its error.
fn check_socket(event: &ffi::kevent) -> Result<()> {
    if event.flags & ffi::EV_EOF == 0 {
        return Ok(());
    }
    let errno = match i32::try_from(event.fflags) {
        Ok(0) | Err(_) => libc::EPIPE,
        Ok(errno) => errno,
    };
    Err(Error::Event {
        event: "socket",
        errno,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Mutex, MutexGuard};
    use std::time::Instant;

    use super::*;

    // The tests count this process's fds: one at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn serial() -> MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(kqseed_libkqueue)]
    #[test]
    fn libkqueue_monitor_thread_is_kept_from_before_main() {
        assert!(
            libkqueue::monitor_kept(),
            "the .init_array keep-alive did not run"
        );
    }

    /// Open fds, where /proc tells (Linux, so libkqueue; the kqueue waits on
    /// drop for libkqueue to close what it opened).
    fn open_fds() -> Option<usize> {
        std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count())
    }

    fn config(timers: &[u64], sockets: usize, files: usize) -> KqueueEventsConfig {
        KqueueEventsConfig {
            timer_intervals: timers.iter().map(|&us| Duration::from_micros(us)).collect(),
            num_sockets: sockets,
            num_file_watchers: files,
            ..KqueueEventsConfig::default()
        }
    }

    /// Waits `rounds` times, poking every socket and touching every file
    /// after each return, and sums the counts; the clock readings must all
    /// move.
    fn drive(queue: &mut EventQueue, rounds: usize) -> EventCounts {
        let mut total = EventCounts::default();
        let mut last = None;
        for _ in 0..rounds {
            let wakeup = queue.wait(Duration::from_secs(1)).expect("wait");
            assert!(wakeup.events.total() > 0, "a return without events");
            if let Some(last) = last.replace(wakeup.at()) {
                assert!(
                    wakeup.at() > last,
                    "the clock did not move: {last} -> {}",
                    wakeup.at()
                );
            }
            let e = wakeup.events;
            total.timer += e.timer;
            total.timer_expirations += e.timer_expirations;
            total.socket_read += e.socket_read;
            total.socket_write += e.socket_write;
            total.file += e.file;
            let sources = queue.sources();
            for i in 0..sources.sockets.len() {
                sources.poke_socket(i).expect("poke");
            }
            for i in 0..sources.files.files.len() {
                sources.touch_file(i).expect("touch");
            }
        }
        total
    }

    #[test]
    fn every_event_type_fires() {
        let _serial = serial();
        let mut queue = EventQueue::open(&config(&[200, 330], 2, 2)).expect("open");
        let counts = drive(&mut queue, 400);
        eprintln!("{NAME}: {counts:?}");
        assert!(counts.timer > 0, "{counts:?}");
        assert!(counts.timer_expirations >= counts.timer, "{counts:?}");
        assert!(counts.socket_read > 0, "{counts:?}");
        assert!(counts.socket_write > 0, "{counts:?}");
        assert!(counts.file > 0, "{counts:?}");
    }

    #[test]
    fn each_source_alone_fires() {
        let _serial = serial();
        let mut timers = EventQueue::open(&config(&[100], 0, 0)).expect("timers");
        let counts = drive(&mut timers, 50);
        assert!(
            counts.timer == 50 && counts.timer_expirations >= 50,
            "{counts:?}"
        );

        let mut sockets = EventQueue::open(&config(&[], 1, 0)).expect("sockets");
        sockets.sources().poke_socket(0).expect("poke");
        let counts = drive(&mut sockets, 50);
        assert!(
            counts.socket_read > 0 && counts.socket_write > 0,
            "{counts:?}"
        );
        assert_eq!(counts.timer + counts.file, 0, "{counts:?}");

        let mut files = EventQueue::open(&config(&[], 0, 1)).expect("files");
        files.sources().touch_file(0).expect("touch");
        let counts = drive(&mut files, 50);
        assert_eq!(counts.file, counts.total(), "{counts:?}");
        assert!(counts.file >= 50, "{counts:?}");
    }

    #[test]
    fn wait_without_event_times_out() {
        let _serial = serial();
        let mut queue = EventQueue::open(&config(&[5_000_000], 1, 0)).expect("open");
        let timeout = Duration::from_millis(20);
        // The writer is writable once, right after registration.
        let start = loop {
            let start = Instant::now();
            match queue.wait(timeout) {
                Err(Error::WaitTimedOut { timeout: t }) => {
                    assert_eq!(t, timeout);
                    break start;
                }
                Ok(w)
                    if w.events
                        == EventCounts {
                            socket_write: 1,
                            ..Default::default()
                        } => {}
                other => panic!("expected WaitTimedOut, got {other:?}"),
            }
        };
        assert!(
            start.elapsed() >= Duration::from_millis(15),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn a_failed_registration_is_a_typed_event_error() {
        let _serial = serial();
        let queue = EventQueue::open(&config(&[1_000], 0, 0)).expect("open");
        // No process here has a million fds open.
        let bogus = change(
            1_000_000,
            ffi::EVFILT_READ,
            ffi::EV_ADD | RECEIPT,
            0,
            0,
            token(SOCKET_READ, 0),
        )
        .expect("change");
        match queue.register(&[bogus]) {
            Err(Error::Event { event, errno }) => {
                assert_eq!(event, "socket");
                // EBADF from a kernel; libkqueue reports EFAULT.
                assert!(
                    errno == libc::EBADF || errno == libc::EFAULT,
                    "errno {errno}"
                );
            }
            other => panic!("expected an event error, got {other:?}"),
        }
        let file = change(
            1_000_001,
            ffi::EVFILT_VNODE,
            ffi::EV_ADD | ffi::EV_CLEAR | RECEIPT,
            ffi::NOTE_WRITE,
            0,
            token(FILE, 0),
        )
        .expect("change");
        match queue.register(&[file]) {
            Err(Error::Event { event, .. }) => assert_eq!(event, "file"),
            other => panic!("expected an event error, got {other:?}"),
        }
    }

    #[test]
    fn fds_are_counted_and_closed_on_drop() {
        let _serial = serial();
        let Some(before) = open_fds() else {
            return; // no /proc: nothing to count with
        };
        let cfg = config(&[100, 130, 170], 3, 2);
        let mut queue = EventQueue::open(&cfg).expect("open");
        drive(&mut queue, 20);
        let during = open_fds().expect("/proc");
        #[cfg(kqseed_libkqueue)]
        let needed = fds_needed(&cfg) + libkqueue::hidden_fds(&cfg) - queue.disarmed.len();
        #[cfg(not(kqseed_libkqueue))]
        let needed = fds_needed(&cfg);
        assert_eq!(during - before, needed, "fds_needed is off for {NAME}");
        drop(queue);
        assert_eq!(open_fds(), Some(before), "fds leaked");
    }

    #[test]
    fn queue_fd_is_close_on_exec() {
        let _serial = serial();
        let queue = EventQueue::open(&config(&[1_000], 0, 0)).expect("open");
        // SAFETY: F_GETFD on an open fd only reads its flags.
        let flags = unsafe { libc::fcntl(queue.as_fd().as_raw_fd(), libc::F_GETFD) };
        assert!(flags >= 0 && flags & libc::FD_CLOEXEC != 0, "flags {flags}");
    }

    #[test]
    fn a_re_armed_timer_is_re_added_at_its_new_interval() {
        let _serial = serial();
        let mut queue = EventQueue::open(&config(&[5, 7], 0, 0)).expect("open");
        queue
            .set_timer_interval(1, Duration::from_micros(2_500))
            .expect("re-armed");
        // Copies: Apple's struct kevent is packed, so no references.
        let (first, second) = (queue.timer_adds.0[0], queue.timer_adds.0[1]);
        let (data, flags) = (second.data, second.flags);
        let want = timer_change(1, Duration::from_micros(2_500)).expect("timer");
        let want_data = want.data;
        assert_eq!(data, want_data);
        assert_eq!(flags & ffi::EV_ADD, ffi::EV_ADD);
        let (first_data, first_want) = (
            first.data,
            timer_change(0, Duration::from_micros(5))
                .expect("timer")
                .data,
        );
        assert_eq!(first_data, first_want);
        // A timer past the last is no error; the queue still runs.
        queue
            .set_timer_interval(2, Duration::from_micros(3))
            .expect("ignored");
        assert!(drive(&mut queue, 8).timer > 0);
    }

    #[test]
    fn timer_periods_round_up_and_never_to_zero() {
        for (interval, want_ns) in [
            (Duration::from_nanos(1), 1u128),
            (Duration::from_nanos(1_500), 1_500),
            (Duration::from_micros(20), 20_000),
            (Duration::from_secs(10), 10_000_000_000),
        ] {
            let timer = timer_change(3, interval).expect("timer");
            // Copies: Apple's struct kevent is packed, so no references.
            let (ident, filter, fflags, data) =
                (timer.ident, timer.filter, timer.fflags, timer.data);
            assert_eq!(ident, 3);
            assert_eq!(filter, ffi::EVFILT_TIMER);
            let (unit, nanos_per_unit) = TIMER_UNITS
                .iter()
                .copied()
                .find(|&(unit, _)| unit == fflags & !TIMER_FFLAGS)
                .expect("a known unit");
            let count = u128::try_from(data).expect("positive");
            assert_eq!(
                count,
                want_ns.div_ceil(nanos_per_unit).max(1),
                "unit {unit:#x}"
            );
            assert!(count * nanos_per_unit >= want_ns);
            // Copied out first: Apple's struct is packed.
            let flags = timer.flags;
            assert_eq!(flags & ffi::EV_ONESHOT, ONESHOT);
            assert_eq!(flags & ffi::EV_ADD, ffi::EV_ADD);
            #[cfg(any(target_os = "netbsd", target_os = "openbsd", target_os = "dragonfly"))]
            assert_eq!(unit, 0, "milliseconds, the unit every release reads");
        }
    }

    /// An entry as a kernel returns it: `flags`, `data`, the `fflags` of an
    /// `EV_EOF`, and the token in `udata`.
    fn entry(flags: Flags, fflags: u32, data: i64, token: usize) -> ffi::kevent {
        change(0, ffi::EVFILT_READ, flags, fflags, data, token).expect("entry")
    }

    #[test]
    fn receipts_are_checked_one_per_change() {
        let ok = entry(ffi::EV_ERROR, 0, 0, token(TIMER, 0));
        assert_eq!(check_receipts(&[ok, ok, ok], 3), Ok(()));
        // A failed change: its errno, named after its event type.
        let bad = entry(ffi::EV_ERROR, 0, libc::EBADF.into(), token(FILE, 2));
        assert_eq!(
            check_receipts(&[ok, bad, ok], 3),
            Err(Error::Event {
                event: "file",
                errno: libc::EBADF
            })
        );
    }

    /// A kernel without `EV_RECEIPT` (NetBSD up to 7, old DragonFly)
    /// answers the registration with what its scan found: here a socket's
    /// first write edge, as `EV_ADD | EV_CLEAR` without `EV_ERROR`.
    #[test]
    fn events_in_place_of_receipts_are_a_typed_error() {
        let ok = entry(ffi::EV_ERROR, 0, 0, token(TIMER, 0));
        let edge = entry(ffi::EV_ADD | ffi::EV_CLEAR, 0, 8192, token(SOCKET_WRITE, 0));
        for returned in [&[edge][..], &[ok, edge], &[edge, edge, edge]] {
            match check_receipts(returned, 3) {
                Err(Error::Os { syscall, errno }) => {
                    assert_eq!(errno, libc::ENOSYS);
                    assert!(syscall.contains("EV_RECEIPT unsupported"), "{syscall}");
                    assert!(syscall.contains("events came back"), "{syscall}");
                }
                other => panic!("expected EV_RECEIPT unsupported, got {other:?}"),
            }
        }
        // Such a kernel still reports a failed change: that comes first.
        let bad = entry(ffi::EV_ERROR, 0, libc::ENOMEM.into(), token(TIMER, 1));
        assert_eq!(
            check_receipts(&[edge, bad], 3),
            Err(Error::Event {
                event: "timer",
                errno: libc::ENOMEM
            })
        );
        // Or it returns nothing at all (no event was ready).
        match check_receipts(&[ok], 3) {
            Err(Error::Os { syscall, errno }) => {
                assert_eq!(errno, libc::ENOSYS);
                assert!(syscall.contains("fewer receipts"), "{syscall}");
            }
            other => panic!("expected EV_RECEIPT unsupported, got {other:?}"),
        }
    }

    /// libkqueue 2.3.1 counts no receipt, like a kernel without
    /// `EV_RECEIPT`: the registration path real kernels take must then fail
    /// with the typed error, not succeed and not `EIO`.
    #[cfg(kqseed_libkqueue)]
    #[test]
    fn a_queue_without_receipts_fails_registration_by_name() {
        let _serial = serial();
        let queue = EventQueue::open(&config(&[1_000], 0, 0)).expect("open");
        let (_reader, writer) = std::os::unix::net::UnixStream::pair().expect("socketpair");
        let write = change(
            ident(writer.as_fd()).expect("ident"),
            ffi::EVFILT_WRITE,
            ffi::EV_ADD | ffi::EV_CLEAR | ffi::EV_RECEIPT,
            0,
            0,
            token(SOCKET_WRITE, 0),
        )
        .expect("change");
        match queue.register_with_receipts(&[write]) {
            Err(Error::Os { syscall, errno }) => {
                assert_eq!(errno, libc::ENOSYS);
                assert!(syscall.contains("EV_RECEIPT unsupported"), "{syscall}");
            }
            other => panic!("expected EV_RECEIPT unsupported, got {other:?}"),
        }
    }

    #[test]
    fn entries_are_classified_or_turned_into_typed_errors() {
        let timer = entry(ffi::EV_ADD | ffi::EV_CLEAR, 0, 3, token(TIMER, 2));
        assert_eq!(
            classify(&timer),
            Ok(Returned::Timer {
                index: 2,
                expirations: 3
            })
        );
        let fired_once = entry(ffi::EV_ADD, 0, 0, token(TIMER, 0));
        assert_eq!(
            classify(&fired_once),
            Ok(Returned::Timer {
                index: 0,
                expirations: 1
            })
        );
        let read = entry(ffi::EV_ADD, 0, 1, token(SOCKET_READ, 5));
        assert_eq!(classify(&read), Ok(Returned::SocketRead(5)));
        let reset = u32::try_from(libc::ECONNRESET).expect("errno");
        let hung_up = entry(ffi::EV_ADD | ffi::EV_EOF, reset, 0, token(SOCKET_READ, 5));
        assert_eq!(
            classify(&hung_up),
            Err(Error::Event {
                event: "socket",
                errno: libc::ECONNRESET
            })
        );
        let note = entry(
            ffi::EV_ADD | ffi::EV_CLEAR,
            ffi::NOTE_WRITE,
            0,
            token(FILE, 1),
        );
        assert_eq!(classify(&note), Ok(Returned::File));
        let failed = entry(ffi::EV_ERROR, 0, libc::EBADF.into(), token(TIMER, 0));
        assert_eq!(
            classify(&failed),
            Err(Error::Event {
                event: "timer",
                errno: libc::EBADF
            })
        );
    }

    /// A revoked vnode (revoke(2), forced unmount): XNU's `filt_vnode`
    /// returns the note with `EV_EOF | EV_ONESHOT` (and `NOTE_REVOKE`, 0x40
    /// on every kqueue, in `fflags`) and deletes it. libkqueue never sets
    /// `EV_EOF` on a vnode note, so the entry is made here.
    fn revoked(index: usize) -> ffi::kevent {
        entry(
            ffi::EV_ADD | ffi::EV_CLEAR | ffi::EV_EOF,
            0x40,
            0,
            token(FILE, index),
        )
    }

    #[test]
    fn a_revoked_file_watch_is_a_typed_file_error() {
        assert_eq!(
            classify(&revoked(0)),
            Err(Error::Event {
                event: "file",
                errno: libc::ENOENT
            })
        );
    }

    #[test]
    fn after_a_revoked_file_watch_every_wait_fails() {
        let _serial = serial();
        let mut queue = EventQueue::open(&config(&[], 0, 1)).expect("open");
        let gone = Error::Event {
            event: "file",
            errno: libc::ENOENT,
        };
        queue.events.0[0] = revoked(0);
        let mut wakeup = Wakeup::new(now_ticks(), EventCounts::default());
        assert_eq!(queue.handle(1, &mut wakeup), Err(gone.clone()));
        // A write is pending on the file, yet the source is reported gone:
        // the kernel would send no further note for it.
        queue.sources().touch_file(0).expect("touch");
        for _ in 0..2 {
            assert_eq!(queue.wait(Duration::from_millis(50)), Err(gone.clone()));
        }
    }

    /// The queue of a seeder kept between seeds: after a timer's event is
    /// harvested and nobody waits, the kernel must not keep firing it. On
    /// FreeBSD, NetBSD, OpenBSD and DragonFly a periodic timer's callout
    /// runs every period regardless (libkqueue's too: 20,000 expirations
    /// pending after 10 ms of a 500 us timer), so there the timer is
    /// one-shot and the queue holds none until the next wait re-adds it.
    /// XNU arms it once more and waits for the harvest (its `data` then
    /// counts the intervals elapsed, computed at harvest, not callouts), so
    /// there at most the one event is pending.
    #[test]
    fn an_idle_queue_runs_no_timer() {
        let _serial = serial();
        let mut queue = EventQueue::open(&config(&[200], 0, 0)).expect("open");
        let first = queue.wait(Duration::from_secs(1)).expect("first expiry");
        assert_eq!(first.events.timer, 1, "{:?}", first.events);
        std::thread::sleep(Duration::from_millis(20));
        // A look at what is pending, without the re-add `wait` would pass.
        let mut pending = vec![empty_event(); 4];
        let zero = timespec(Duration::ZERO);
        // SAFETY: `pending` is a live buffer of 4 entries; no changes.
        let n = unsafe {
            ffi::kevent(
                queue.as_fd().as_raw_fd(),
                ptr::null(),
                0,
                pending.as_mut_ptr(),
                4,
                &zero,
            )
        };
        let n = usize::try_from(n).expect("kevent");
        if ONESHOT == 0 {
            assert!(n <= 1, "{n} timer events pending");
            return;
        }
        assert_eq!(n, 0, "the timer is still registered, and fired while idle");
        // The next wait re-adds it, and it fires once.
        let next = queue.wait(Duration::from_secs(1)).expect("re-added");
        assert_eq!((next.events.timer, next.events.timer_expirations), (1, 1));
    }

    #[test]
    fn tokens_round_trip() {
        for kind in [TIMER, SOCKET_READ, SOCKET_WRITE, FILE] {
            for index in [0, 1, 63, 1 << 20] {
                let t = token(kind, index);
                assert_eq!((t & KIND_MASK, t >> KIND_BITS), (kind, index));
            }
        }
        assert_eq!(kind_name(token(FILE, 9)), "file");
        assert_eq!(kind_name(token(SOCKET_WRITE, 9)), "socket");
        assert_eq!(kind_name(token(TIMER, 9)), "timer");
    }
}
