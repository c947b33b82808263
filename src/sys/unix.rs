//! What both backends share: the clock, errno handling, the open-file limit, and the socket pairs and watched files (std types, so no
//! raw fd handling is needed for them).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::{FileExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::ClockInfo;
use crate::config::KqueueEventsConfig;
use crate::error::{Error, Result};

/// The OS error of the last failed call, named.
pub(crate) fn last_os_error(syscall: &'static str) -> Error {
    os_error(syscall, &io::Error::last_os_error())
}

/// Names an `io::Error` from a std call.
pub(crate) fn os_error(syscall: &'static str, e: &io::Error) -> Error {
    Error::Os {
        syscall,
        // std only builds io errors without a code for its own checks, never
        // for a failed call; EIO stands in should that ever change.
        errno: e.raw_os_error().unwrap_or(libc::EIO),
    }
}

/// Turns the `-1` of a failed call into a typed error naming the call.
pub(crate) fn cvt(syscall: &'static str, ret: libc::c_int) -> Result<libc::c_int> {
    if ret == -1 {
        Err(last_os_error(syscall))
    } else {
        Ok(ret)
    }
}

/// Makes a wait call until it returns events: `call` gets the time left and
/// returns what the syscall returned. `EINTR` is retried with the time left
/// (a signal is not an event); no event before `timeout` is
/// [`Error::WaitTimedOut`]; any other failure is named after `syscall`.
/// Returns the number of events, at most `capacity`.
pub(crate) fn wait_for_events(
    syscall: &'static str,
    timeout: Duration,
    capacity: usize,
    mut call: impl FnMut(Duration) -> libc::c_int,
) -> Result<usize> {
    let deadline = Instant::now() + timeout;
    let mut left = timeout;
    loop {
        let n = call(left);
        if n > 0 {
            return Ok(usize::try_from(n).map_or(capacity, |n| n.min(capacity)));
        }
        if n == 0 {
            return Err(Error::WaitTimedOut { timeout });
        }
        if errno() != libc::EINTR {
            return Err(last_os_error(syscall));
        }
        left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::WaitTimedOut { timeout });
        }
    }
}

/// `errno` of the last failed call.
pub(crate) fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

// ---------------------------------------------------------------------------
// The clock
// ---------------------------------------------------------------------------

#[cfg(not(target_vendor = "apple"))]
mod clock {
    use super::*;

    // Linux and Android: CLOCK_MONOTONIC_RAW is the hardware counter (TSC,
    // arch timer) scaled to ns without NTP slewing, which would otherwise add
    // a smooth, predictable drift to every delta.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const CLOCK: (libc::clockid_t, &str) = (libc::CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW");
    // The BSDs: CLOCK_MONOTONIC is the precise clock (FreeBSD's _FAST
    // variants are the tick-granular ones).
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const CLOCK: (libc::clockid_t, &str) = (libc::CLOCK_MONOTONIC, "CLOCK_MONOTONIC");

    pub(crate) fn now_ticks() -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // The call cannot fail for CLOCK (clock_info checks it once), and a
        // zero reading would show up as a stuck clock.
        // SAFETY: `ts` is a writable timespec; CLOCK is this OS's clock id.
        unsafe { libc::clock_gettime(CLOCK.0, &mut ts) };
        (ts.tv_sec as u64)
            .wrapping_mul(1_000_000_000)
            .wrapping_add(ts.tv_nsec as u64)
    }

    pub(crate) fn clock_info() -> Result<ClockInfo> {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: as in now_ticks; here the result is checked.
        super::cvt("clock_getres", unsafe {
            libc::clock_getres(CLOCK.0, &mut ts)
        })?;
        let resolution_nanos = ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64;
        // SAFETY: as in now_ticks.
        super::cvt("clock_gettime", unsafe {
            libc::clock_gettime(CLOCK.0, &mut ts)
        })?;
        Ok(ClockInfo {
            name: CLOCK.1,
            nanos_per_tick: 1.0,
            resolution_nanos,
        })
    }
}

#[cfg(target_vendor = "apple")]
mod clock {
    use super::*;

    // Apple: mach_absolute_time is the raw counter itself (24 MHz on Apple
    // Silicon, ~41.67 ns a tick). clock_gettime's nanoseconds are that
    // counter scaled, with rounding that hides the tick; the raw ticks let
    // the step be seen. libc marks the mach time functions deprecated in
    // favour of the mach2 crate; they are still the system's API. It is on
    // Apple's list of required-reason APIs: apps for the App Store declare
    // it in PrivacyInfo.xcprivacy (README, "PrivacyInfo.xcprivacy").
    //
    // Under Rosetta 2 the timebase reads 1/1 and mach_absolute_time returns
    // the 24 MHz count scaled to nanoseconds, so every delta would look like
    // a whole number of 1 ns steps while the clock moves in 41.67 ns ones:
    // the readings are converted back to counter ticks.
    pub(crate) fn now_ticks() -> u64 {
        let t = raw();
        if translated() {
            rosetta_ns_to_ticks(t)
        } else {
            t
        }
    }

    fn raw() -> u64 {
        #[allow(deprecated)]
        // SAFETY: takes no arguments and cannot fail.
        unsafe {
            libc::mach_absolute_time()
        }
    }

    /// Whether this process is translated by Rosetta 2
    /// (`sysctl.proc_translated` is 1; the name is missing on Intel Macs).
    /// Read once: a process cannot change it. An atomic, not a `OnceLock`:
    /// a fork while another thread initialised a lock would leave the
    /// child waiting on it for ever; two threads that race here only read
    /// the same answer twice.
    pub(crate) fn translated() -> bool {
        use std::sync::atomic::{AtomicU8, Ordering};
        const UNKNOWN: u8 = 0;
        const NATIVE: u8 = 1;
        const TRANSLATED: u8 = 2;
        static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);
        match STATE.load(Ordering::Relaxed) {
            NATIVE => return false,
            TRANSLATED => return true,
            _ => {}
        }
        let translated = {
            let mut value: libc::c_int = 0;
            let mut len = std::mem::size_of::<libc::c_int>();
            // SAFETY: the name is a NUL-terminated string; `value` is
            // writable for `len` bytes; no new value is set.
            let ret = unsafe {
                libc::sysctlbyname(
                    c"sysctl.proc_translated".as_ptr(),
                    (&raw mut value).cast(),
                    &mut len,
                    std::ptr::null_mut(),
                    0,
                )
            };
            ret == 0 && value == 1
        };
        STATE.store(
            if translated { TRANSLATED } else { NATIVE },
            Ordering::Relaxed,
        );
        translated
    }

    #[allow(deprecated)] // the mach_timebase_info struct and its fields too
    pub(crate) fn clock_info() -> Result<ClockInfo> {
        if translated() {
            return rosetta_clock_info();
        }
        let mut tb = libc::mach_timebase_info { numer: 0, denom: 0 };
        #[allow(deprecated)]
        // SAFETY: `tb` is a valid, writable mach_timebase_info.
        let kr = unsafe { libc::mach_timebase_info(&mut tb) };
        if kr != 0 || tb.denom == 0 {
            return Err(Error::Os {
                syscall: "mach_timebase_info",
                errno: libc::EINVAL,
            });
        }
        let nanos_per_tick = f64::from(tb.numer) / f64::from(tb.denom);
        Ok(ClockInfo {
            name: "mach_absolute_time",
            nanos_per_tick,
            resolution_nanos: nanos_per_tick,
        })
    }

    /// Under Rosetta the native timebase cannot be read (it reads 1/1), so
    /// the 24 MHz that every Apple Silicon counter runs at so far is checked
    /// rather than assumed: 16 distinct readings must all be whole ticks of
    /// it in nanoseconds. A counter of another rate passes that by chance
    /// with odds of about (5/125)^16; then the clock is refused.
    fn rosetta_clock_info() -> Result<ClockInfo> {
        let mut readings = [0u64; 16];
        let mut distinct = 0;
        for _ in 0..1_000_000 {
            let t = raw();
            if distinct == 0 || readings[distinct - 1] != t {
                readings[distinct] = t;
                distinct += 1;
                if distinct == readings.len() {
                    break;
                }
            }
        }
        if !readings[..distinct].iter().all(|&ns| on_24mhz_lattice(ns)) {
            return Err(Error::Os {
                syscall: "mach_absolute_time under Rosetta 2 (its nanoseconds are not whole 24 MHz ticks)",
                errno: libc::ENOTSUP,
            });
        }
        Ok(ClockInfo {
            name: "mach_absolute_time (Rosetta 2: nanoseconds converted back to 24 MHz ticks)",
            nanos_per_tick: ROSETTA_NANOS_PER_TICK,
            resolution_nanos: ROSETTA_NANOS_PER_TICK,
        })
    }
}

/// One tick of Apple Silicon's 24 MHz counter, in nanoseconds: the native
/// timebase 125/3.
#[cfg(target_vendor = "apple")]
const ROSETTA_NANOS_PER_TICK: f64 = 125.0 / 3.0;

/// A Rosetta 2 reading of `mach_absolute_time` (nanoseconds, `ticks ×
/// 125/3`, rounded down or to nearest) back in 24 MHz ticks. Rounding to
/// the nearest tick inverts either rounding exactly: the error it undoes is
/// below 1 ns, 0.024 of a tick.
#[cfg(any(test, target_vendor = "apple"))]
fn rosetta_ns_to_ticks(ns: u64) -> u64 {
    u64::try_from((u128::from(ns) * 3 + 62) / 125).unwrap_or(u64::MAX)
}

/// Whether `ns` is a whole number of 24 MHz ticks as Rosetta 2 reports it:
/// `3·ns mod 125` is within 2 of 0 (rounding down leaves 0, 124 or 123;
/// rounding to nearest 124, 0 or 1). A clock of another rate lands there
/// for 5 values in 125.
#[cfg(any(test, target_vendor = "apple"))]
fn on_24mhz_lattice(ns: u64) -> bool {
    let r = (u128::from(ns) * 3) % 125;
    r <= 2 || r >= 123
}

pub(crate) use clock::{clock_info, now_ticks};

// ---------------------------------------------------------------------------
// The timer tick of the kernels that count timers in clock ticks
// ---------------------------------------------------------------------------

/// The kernel's clock tick, `1/hz` with `hz` from `sysctl kern.clockrate`,
/// read once per process (`hz` is fixed at boot); a failed read is
/// returned and tried again next time. An atomic, not a `OnceLock`: a
/// fork while another thread initialised a lock would leave the child
/// waiting on it for ever.
#[cfg(any(target_os = "netbsd", target_os = "openbsd", target_os = "dragonfly"))]
pub(crate) fn clock_tick() -> Result<Duration> {
    use std::sync::atomic::{AtomicU64, Ordering};
    /// The tick in nanoseconds; 0 until read.
    static TICK_NANOS: AtomicU64 = AtomicU64::new(0);
    let nanos = TICK_NANOS.load(Ordering::Relaxed);
    if nanos != 0 {
        return Ok(Duration::from_nanos(nanos));
    }
    let tick = read_clock_tick()?;
    let nanos = u64::try_from(tick.as_nanos()).unwrap_or(u64::MAX).max(1);
    TICK_NANOS.store(nanos, Ordering::Relaxed);
    Ok(Duration::from_nanos(nanos))
}

#[cfg(any(target_os = "netbsd", target_os = "openbsd", target_os = "dragonfly"))]
fn read_clock_tick() -> Result<Duration> {
    const NAME: &str = "sysctl(kern.clockrate)";
    // `struct clockinfo` begins `int hz; int tick;` on all three (NetBSD
    // and DragonFly add tickadj, stathz, profhz; OpenBSD stathz, profhz):
    // eight ints hold every layout, and the kernels copy out only theirs.
    let mut info: [libc::c_int; 8] = [0; 8];
    let mut len = std::mem::size_of_val(&info);
    let mib = [libc::CTL_KERN, libc::KERN_CLOCKRATE];
    // SAFETY: `mib` names two levels; `info` is writable for `len` bytes and
    // `len` is a valid in/out length; no new value is set.
    let ret = unsafe {
        libc::sysctl(
            mib.as_ptr(),
            2,
            info.as_mut_ptr().cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    cvt(NAME, ret)?;
    let hz = if len >= std::mem::size_of::<libc::c_int>() {
        info[0]
    } else {
        0
    };
    tick_from_hz(hz).ok_or(Error::Os {
        syscall: NAME,
        errno: libc::EINVAL,
    })
}

/// The length of one tick of a `hz` clock, rounded up to whole
/// nanoseconds; `None` for a rate that is not positive.
#[cfg(any(
    test,
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
pub(crate) fn tick_from_hz(hz: libc::c_int) -> Option<Duration> {
    let hz = u64::try_from(hz).ok().filter(|&hz| hz > 0)?;
    Some(Duration::from_nanos(1_000_000_000u64.div_ceil(hz)))
}

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

/// The soft `RLIMIT_NOFILE`, or `None` when unlimited or unknown.
pub(crate) fn open_file_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit.
    let ret = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    if ret != 0 || lim.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    #[allow(clippy::useless_conversion)] // rlim_t is u64 on most targets, not all
    u64::try_from(lim.rlim_cur).ok()
}

// ---------------------------------------------------------------------------
// Socket pairs and watched files, shared by both backends
// ---------------------------------------------------------------------------

/// One socket pair: the collector writes into `writer`, and the queue reports
/// `reader` readable and `writer` writable again once the byte is read.
#[derive(Debug)]
pub(crate) struct SocketPair {
    pub(crate) reader: UnixStream,
    pub(crate) writer: UnixStream,
}

/// Files in a private directory (mode 0700, a fresh name, removed on drop)
/// that the queue watches for writes.
#[derive(Debug)]
pub(crate) struct WatchedFiles {
    // Field order matters: the files close before the directory goes.
    pub(crate) files: Vec<File>,
    pub(crate) paths: Vec<PathBuf>,
    dir: Option<tempfile::TempDir>,
}

/// The event sources that are not timers.
#[derive(Debug)]
pub(crate) struct Sources {
    pub(crate) sockets: Vec<SocketPair>,
    pub(crate) files: WatchedFiles,
    touches: u8,
}

impl Sources {
    /// Makes the socket pairs and the watched files for `config`.
    pub(crate) fn open(config: &KqueueEventsConfig) -> Result<Sources> {
        let mut sockets = Vec::with_capacity(config.num_sockets);
        for _ in 0..config.num_sockets {
            // std makes both ends close-on-exec: atomically with
            // `SOCK_CLOEXEC` on Linux and the BSDs; on Apple, which has no
            // such flag, with `FD_CLOEXEC` just after, so a `posix_spawn` on
            // another thread between the two can inherit them.
            let (reader, writer) = UnixStream::pair().map_err(|e| os_error("socketpair", &e))?;
            for end in [&reader, &writer] {
                end.set_nonblocking(true)
                    .map_err(|e| os_error("fcntl(O_NONBLOCK)", &e))?;
            }
            sockets.push(SocketPair { reader, writer });
        }
        let files = WatchedFiles::open(config)?;
        Ok(Sources {
            sockets,
            files,
            touches: 0,
        })
    }

    /// Writes one byte into socket pair `i`. A full buffer is not an error:
    /// the reader is readable then anyway.
    pub(crate) fn poke_socket(&mut self, i: usize) -> Result<()> {
        let Some(pair) = self.sockets.get_mut(i) else {
            return Ok(());
        };
        match pair.writer.write(&[0x5a]) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(os_error("write", &e)),
        }
    }

    /// Reads everything pending on the reading end of pair `i`.
    pub(crate) fn drain_socket(&mut self, i: usize) -> Result<()> {
        let Some(pair) = self.sockets.get_mut(i) else {
            return Ok(());
        };
        let mut buf = [0u8; 64];
        loop {
            match pair.reader.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(os_error("read", &e)),
            }
        }
    }

    /// Writes one byte into watched file `i`, which the queue reports as a
    /// write (inotify `IN_MODIFY`; kqueue `NOTE_WRITE`, the only note XNU's
    /// `VNOP_WRITE` posts).
    pub(crate) fn touch_file(&mut self, i: usize) -> Result<()> {
        let Some(file) = self.files.files.get(i) else {
            return Ok(());
        };
        self.touches = self.touches.wrapping_add(1);
        match file.write_at(&[self.touches], 0) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(os_error("pwrite", &e)),
        }
    }

    /// Forked child: closes this process's copies of the fds but leaves the
    /// directory, which the parent still uses and will remove.
    pub(crate) fn abandon_after_fork(mut self) {
        if let Some(dir) = self.files.dir.take() {
            let _kept_for_parent = dir.keep();
        }
    }
}

impl WatchedFiles {
    fn open(config: &KqueueEventsConfig) -> Result<WatchedFiles> {
        let mut watched = WatchedFiles {
            files: Vec::new(),
            paths: Vec::new(),
            dir: None,
        };
        if config.num_file_watchers == 0 {
            return Ok(watched);
        }
        let parent = config.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
        // A fresh name, and mode 0700 so nobody else can enter it. The name
        // is tempfile's fastrand output, seeded from the time and the thread:
        // guessable, and it need not be secret (the directory can be listed
        // anyway). A local user who creates the names first makes tempfile
        // try more; after three, if another crate turned tempfile's
        // getrandom feature on, it calls getrandom, which fails at once on
        // the seeding thread when kqseed is the backend (generator.rs,
        // `InService`), and tempfile goes on with fastrand.
        let dir = tempfile::Builder::new()
            .prefix("kqseed-")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in(&parent)
            .map_err(|e| Error::TempDir {
                path: parent.clone(),
                // tempfile wraps the OS error and its errno out of reach; the
                // kind survives.
                kind: e.kind(),
            })?;
        for i in 0..config.num_file_watchers {
            // The names are fixed, but inside a private directory nobody else
            // can enter, so they cannot be raced.
            let path = dir.path().join(format!("watch-{i}"));
            let file = match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(file) => file,
                Err(e) => {
                    // TempDir's removal opens the directory, and on EMFILE
                    // no fd is left for that: unlink and rmdir by path,
                    // which take none.
                    for path in &watched.paths {
                        let _ = std::fs::remove_file(path);
                    }
                    if std::fs::remove_dir(dir.path()).is_ok() {
                        // Gone: the name is free again, and TempDir's own
                        // removal must not act on whatever takes it next.
                        let _ = dir.keep();
                    }
                    return Err(os_error("open", &e));
                }
            };
            watched.files.push(file);
            watched.paths.push(path);
        }
        watched.dir = Some(dir);
        Ok(watched)
    }

    /// The private directory, if there is one.
    pub(crate) fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(|d| d.path())
    }

    /// The fds of the watched files.
    #[cfg_attr(any(target_os = "linux", target_os = "android"), allow(dead_code))]
    pub(crate) fn fds(&self) -> impl Iterator<Item = BorrowedFd<'_>> {
        self.files.iter().map(|f| f.as_fd())
    }
}

// ---------------------------------------------------------------------------
// Closing off the caller's thread
// ---------------------------------------------------------------------------

/// Closes not yet finished at most, queued and under way together; beyond,
/// the caller closes in place. An inotify instance counts against the
/// user's `fs.inotify.max_user_instances` (128 by default, for all of the
/// user's processes) until its close returns, so a burst of drops must not
/// hold many (a bench opening seeders in a loop hit EMFILE when only the
/// queue was bounded).
const MAX_PENDING_CLOSES: usize = 16;

/// The reaper's queue, and how many closes are handed over and not done.
struct ReaperState<T> {
    queue: Vec<T>,
    unfinished: usize,
    started: bool,
}

/// Drops what it is handed (fds, in the crate) on a thread of its own.
struct Reaper<T> {
    pending: std::sync::Mutex<ReaperState<T>>,
    wake: std::sync::Condvar,
}

static REAPER: super::fork::PerProcess<Reaper<std::os::fd::OwnedFd>> =
    super::fork::PerProcess::new();

/// Closes `fd` on a background thread (started on first use), so that a
/// `close()` that blocks (an inotify instance's) costs the caller nothing.
/// Falls back to closing in place if the thread cannot start or too many
/// closes are unfinished. A forked child gets its own thread; what its
/// parent had pending stays the parent's, and the child's copies of those
/// fds (at most [`MAX_PENDING_CLOSES`]) stay open: closing them could
/// close a number the child reused after closing its copies itself, as a
/// daemon's sweep of its fds does.
pub(crate) fn close_later(fd: std::os::fd::OwnedFd) {
    match REAPER.get_or_try_init(|| Ok(Reaper::new())) {
        Ok((reaper, _parents)) => reaper.hand_over(fd),
        Err(_) => drop(fd),
    }
}

impl<T: Send + 'static> Reaper<T> {
    fn new() -> Reaper<T> {
        Reaper {
            pending: std::sync::Mutex::new(ReaperState {
                queue: Vec::new(),
                unfinished: 0,
                started: false,
            }),
            wake: std::sync::Condvar::new(),
        }
    }

    /// Queues `item` for the reaper thread, or drops it in place when
    /// [`MAX_PENDING_CLOSES`] are unfinished or the thread cannot start.
    fn hand_over(&'static self, item: T) {
        let mut state = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if state.unfinished >= MAX_PENDING_CLOSES {
            drop(state);
            return drop(item);
        }
        if !state.started {
            let started = std::thread::Builder::new()
                .name("kqseed-close".into())
                .spawn(move || self.reap());
            if started.is_err() {
                drop(state);
                return drop(item);
            }
            state.started = true;
        }
        state.queue.push(item);
        state.unfinished += 1;
        drop(state);
        self.wake.notify_one();
    }

    /// The reaper thread: drops what is queued, one item at a time,
    /// counting each as done only once its drop has returned.
    fn reap(&self) -> ! {
        loop {
            let mut state = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            while state.queue.is_empty() {
                state = self.wake.wait(state).unwrap_or_else(|e| e.into_inner());
            }
            let batch = std::mem::take(&mut state.queue);
            drop(state);
            for item in batch {
                drop(item);
                let mut state = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                state.unfinished -= 1;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The operating system's generator, for the opt-in hedge
// ---------------------------------------------------------------------------

/// Fills `out` from the OS generator, retrying `EINTR`: the `getrandom`
/// system call on Linux and Android (through `syscall`, not glibc's or
/// Bionic's wrapper, which glibc before 2.25 and Android before API 28
/// lack: a missing symbol would fail the link, or the load, even with the
/// hedge off), `sysctl(KERN_ARND)` on NetBSD (`getentropy` only came with
/// NetBSD 10; unlike the others it does not wait for the kernel's pool to
/// be seeded, which an uncredited hedge can live with), `getentropy`
/// elsewhere. A kernel without the call is its typed error (`ENOSYS`).
pub(crate) fn os_entropy(out: &mut [u8; 32]) -> Result<()> {
    loop {
        let (ok, failed, name) = os_entropy_once(out);
        if ok {
            return Ok(());
        }
        if !failed || errno() != libc::EINTR {
            return Err(if failed {
                last_os_error(name)
            } else {
                // A short read: not expected for 32 bytes from any of them.
                Error::Os {
                    syscall: name,
                    errno: libc::EIO,
                }
            });
        }
    }
}

/// One call: whether `out` was filled, whether the call failed (errno
/// set), and its name.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn os_entropy_once(out: &mut [u8; 32]) -> (bool, bool, &'static str) {
    // SAFETY: `out` is writable for exactly the length passed; the flags
    // are 0 (block until the generator is initialised).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_getrandom,
            out.as_mut_ptr().cast::<libc::c_void>(),
            out.len() as libc::size_t,
            0 as libc::c_uint,
        )
    };
    (ret == 32, ret == -1, "getrandom")
}

#[cfg(target_os = "netbsd")]
fn os_entropy_once(out: &mut [u8; 32]) -> (bool, bool, &'static str) {
    let mib = [libc::CTL_KERN, libc::KERN_ARND];
    let mut len = out.len();
    // (32 bytes: under the 256 the kernel gives at once.)
    // SAFETY: `mib` names two levels; `out` is writable for `len` bytes,
    // `len` is a valid in/out length; no new value is set.
    let ret = unsafe {
        libc::sysctl(
            mib.as_ptr(),
            2,
            out.as_mut_ptr().cast(),
            &mut len,
            std::ptr::null(),
            0,
        )
    };
    (
        ret == 0 && len == out.len(),
        ret == -1,
        "sysctl(kern.arandom)",
    )
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "netbsd")))]
fn os_entropy_once(out: &mut [u8; 32]) -> (bool, bool, &'static str) {
    // SAFETY: `out` is writable for the length passed (at most getentropy's
    // 256).
    let ret = unsafe { libc::getentropy(out.as_mut_ptr().cast(), out.len()) };
    (ret == 0, ret == -1, "getentropy")
}

/// The error of a seeding service that can no longer collect: `why` names
/// the cause, `ESHUTDOWN` the kind.
pub(crate) fn service_broken(why: &'static str) -> Error {
    Error::Os {
        syscall: why,
        errno: libc::ESHUTDOWN,
    }
}

/// The error of a call that would wait for the seeding service on the
/// service's own thread: `EDEADLK`, at once, instead of a deadlock.
pub(crate) fn service_reentered() -> Error {
    Error::Os {
        syscall: "the seeding service (called from its own collection)",
        errno: libc::EDEADLK,
    }
}

/// The hook [`at_exit`] registered, as a pointer (null: none). An atomic,
/// not a `OnceLock`: a fork while another thread set it must not leave the
/// child waiting.
static EXIT_HOOK: std::sync::atomic::AtomicPtr<()> =
    std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

/// What `atexit` calls: the registered hook, with a panic caught there (it
/// would otherwise unwind into libc, which aborts).
extern "C" fn run_exit_hook() {
    let hook = EXIT_HOOK.load(std::sync::atomic::Ordering::Acquire);
    if hook.is_null() {
        return;
    }
    // SAFETY: the only non-null value stored is a `fn()` cast by `at_exit`
    // (function and data pointers have one size on the unix targets).
    let hook = unsafe { std::mem::transmute::<*mut (), fn()>(hook) };
    let _ = std::panic::catch_unwind(hook);
}

/// Runs `hook` when the process exits normally (`exit()`, or returning from
/// `main`), as `atexit` does. One hook a process: a later call replaces the
/// hook and registers nothing more.
pub(crate) fn at_exit(hook: fn()) -> Result<()> {
    let before = EXIT_HOOK.swap(hook as *mut (), std::sync::atomic::Ordering::AcqRel);
    if !before.is_null() {
        return Ok(());
    }
    // SAFETY: `run_exit_hook` is a plain `extern "C" fn` with no arguments.
    match unsafe { libc::atexit(run_exit_hook) } {
        0 => Ok(()),
        _ => {
            // Not registered: a later call may try again (unless another
            // caller's hook replaced this one meanwhile).
            let _ = EXIT_HOOK.compare_exchange(
                hook as *mut (),
                std::ptr::null_mut(),
                std::sync::atomic::Ordering::AcqRel,
                std::sync::atomic::Ordering::Acquire,
            );
            Err(Error::Os {
                syscall: "atexit",
                errno: libc::ENOMEM,
            })
        }
    }
}

/// Waits until `fd` is readable or `timeout` passes; true if readable.
/// `EINTR` is retried with the time left. Both an epoll and a kqueue fd are
/// readable while an event is pending.
#[cfg(feature = "tokio")]
pub(crate) fn wait_readable(fd: BorrowedFd<'_>, timeout: Duration) -> Result<bool> {
    use std::os::fd::AsRawFd;
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // Rounded up, as the wait calls' own timeouts are: never early.
        let millis = i32::try_from(left.as_nanos().div_ceil(1_000_000).max(1)).unwrap_or(i32::MAX);
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `pfd` is one valid pollfd for an fd that `fd` keeps open.
        let n = unsafe { libc::poll(&mut pfd, 1, millis) };
        if n >= 0 {
            return Ok(n > 0);
        }
        if errno() != libc::EINTR {
            return Err(last_os_error("poll"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn rosetta_nanoseconds_convert_back_to_the_ticks_exactly() {
        // From boot to some thousand years of uptime.
        for start in [0u64, 1, 2, 3, 24_000_000, 1 << 40, 1 << 52] {
            for ticks in start..start + 300 {
                let exact = u128::from(ticks) * 125;
                let down = u64::try_from(exact / 3).expect("fits");
                let nearest = u64::try_from((exact + 1) / 3).expect("fits");
                for ns in [down, nearest] {
                    assert_eq!(rosetta_ns_to_ticks(ns), ticks, "ns {ns}");
                    assert!(on_24mhz_lattice(ns), "ns {ns} is {ticks} ticks");
                }
            }
        }
    }

    #[test]
    fn a_clock_of_another_rate_is_off_the_24mhz_lattice() {
        // A 1 GHz clock read every few nanoseconds: most readings are off.
        let off = (1_000u64..1_125)
            .filter(|&ns| !on_24mhz_lattice(ns))
            .count();
        assert_eq!(off, 120);
        // 19.2 MHz (52.083 ns a tick), as some other arm64 counters run.
        let other = (0u64..16).map(|t| t * 52_083 / 1_000 + 7);
        assert!(
            !other.clone().all(on_24mhz_lattice),
            "{:?}",
            other.collect::<Vec<_>>()
        );
    }

    /// On the macOS CI jobs: the clock's ticks times its nanoseconds per
    /// tick follow the elapsed time (a wrong scale, as an unconverted
    /// Rosetta reading would have, is off by 41x), and only a translated
    /// process says Rosetta.
    #[cfg(target_vendor = "apple")]
    #[test]
    fn the_apple_clock_counts_its_stated_ticks() {
        let info = clock_info().expect("clock");
        assert_eq!(
            clock::translated(),
            info.name.contains("Rosetta"),
            "{info:?}"
        );
        let (t0, i0) = (now_ticks(), Instant::now());
        std::thread::sleep(Duration::from_millis(50));
        let (t1, i1) = (now_ticks(), Instant::now());
        let clock_ns = (t1 - t0) as f64 * info.nanos_per_tick;
        let elapsed_ns = (i1 - i0).as_nanos() as f64;
        let ratio = clock_ns / elapsed_ns;
        assert!((0.9..1.1).contains(&ratio), "{info:?}: ratio {ratio}");
    }

    static ALIVE: AtomicUsize = AtomicUsize::new(0);
    static MOST_ALIVE: AtomicUsize = AtomicUsize::new(0);

    /// Stands for an inotify fd: its drop blocks as that close does, and
    /// it counts as held until the drop returns.
    struct SlowClose;

    impl SlowClose {
        fn new() -> SlowClose {
            let alive = ALIVE.fetch_add(1, Ordering::SeqCst) + 1;
            MOST_ALIVE.fetch_max(alive, Ordering::SeqCst);
            SlowClose
        }
    }

    impl Drop for SlowClose {
        fn drop(&mut self) {
            std::thread::sleep(Duration::from_millis(5));
            ALIVE.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn closes_handed_over_stay_bounded_while_they_run() {
        let reaper: &'static Reaper<SlowClose> = Box::leak(Box::new(Reaper::new()));
        // Drops far faster than the reaper finishes them: beyond the bound
        // the caller drops in place, so the handed-over ones plus the one
        // in the caller's hand never exceed it by more than one.
        for _ in 0..4 * MAX_PENDING_CLOSES {
            reaper.hand_over(SlowClose::new());
        }
        let most = MOST_ALIVE.load(Ordering::SeqCst);
        assert!(most <= MAX_PENDING_CLOSES + 1, "{most} held at once");
        // And they all get closed.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while ALIVE.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(ALIVE.load(Ordering::SeqCst), 0);
    }
}
