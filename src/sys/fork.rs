//! Fork detection and owner stamps: the one place that decides whether this
//! process still owns something it made before a `fork()`.
//!
//! # How a fork is seen, per OS
//!
//! The process keeps a *generation*, a non-zero number that changes in every
//! child. Whatever holds an OS resource or secret state stamps itself with
//! the generation it was made in ([`Owner`]) and asks [`Owner::is_current`]
//! on every use and in `Drop`.
//!
//! * **Linux and Android (kernel 4.14 and later):** the generation lives in
//!   one anonymous page marked `MADV_WIPEONFORK`; the kernel hands every
//!   child a zeroed copy of it, whatever made the child: `fork()`, glibc's
//!   `_Fork()`, or a raw `clone()` without `CLONE_VM`, none of which need run
//!   an atfork handler. A check is one atomic load. As BoringSSL does, the
//!   advice is only trusted after `madvise` has rejected an invalid one,
//!   since qemu-user accepts any advice without acting on it.
//! * **FreeBSD 12+, NetBSD, OpenBSD:** the same page, with
//!   `minherit(INHERIT_ZERO)` (`MAP_INHERIT_ZERO` on NetBSD and OpenBSD).
//! * **Linux without `MADV_WIPEONFORK`:** the page cannot be trusted, and
//!   neither can atfork handlers alone (raw `clone()` and `_Fork()` skip
//!   them), so the stamp is the atfork count together with the pid, read
//!   from the kernel by the `getpid` syscall (libc caches can be stale): one
//!   syscall per check, only on such systems. A child that reuses an exited
//!   parent's pid, made without atfork handlers, is not told apart there.
//! * **Apple and DragonFly:** no wiped-on-fork memory; a `pthread_atfork`
//!   child handler bumps the generation. Apple's libc runs atfork handlers
//!   for every `fork()`; a raw fork syscall is not a supported API there.
//!
//! Every OS also runs a `pthread_atfork` *prepare* handler that counts the
//! forks this process starts ([`ForkRecord::forks`]), so that two children
//! forked one after the other from the same parent carry different records
//! even if one reuses the other's pid.

use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU8, AtomicU64, Ordering};

#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd"
))]
use super::unix::cvt;
use crate::error::{Error, Result};

/// How forks are detected in this process; chosen once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mechanism {
    /// A page the kernel zeroes in every child.
    WipedPage,
    /// An atfork child handler plus a `getpid()` comparison per check.
    AtforkAndPid,
    /// An atfork child handler only.
    Atfork,
}

impl Mechanism {
    /// A short name for reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Mechanism::WipedPage => "MADV_WIPEONFORK page",
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            Mechanism::WipedPage => "minherit(INHERIT_ZERO) page",
            Mechanism::AtforkAndPid => "pthread_atfork + getpid",
            Mechanism::Atfork => "pthread_atfork",
        }
    }
}

const UNSET: u8 = 0;
const WIPED_PAGE: u8 = 1;
const ATFORK_AND_PID: u8 = 2;
const ATFORK: u8 = 3;

/// The set-up's state and the process running it: `pid << 2 | state`, one
/// word, so that a child forked in the middle of a set-up sees at once that
/// the thread running it is not in this process, and starts over (a `Once`
/// would make it wait for that thread forever).
static INIT: AtomicU64 = AtomicU64::new(0);
const INIT_NONE: u64 = 0;
const INIT_RUNNING: u64 = 1;
const INIT_DONE: u64 = 2;
/// 0 once set up; otherwise the errno of the failed `pthread_atfork`.
static INIT_ERRNO: AtomicI32 = AtomicI32::new(-1);
static MECHANISM: AtomicU8 = AtomicU8::new(UNSET);
/// The wiped-on-fork page, holding the generation; null unless
/// `MECHANISM == WIPED_PAGE`. Mapped once, never unmapped.
static PAGE: AtomicPtr<AtomicU64> = AtomicPtr::new(std::ptr::null_mut());
/// The generation in ordinary (inherited) memory: the source of new values,
/// and the generation itself where there is no page.
static GENERATION: AtomicU64 = AtomicU64::new(1);
/// Forks started by this process and its ancestors (prepare handler).
static FORKS: AtomicU64 = AtomicU64::new(0);

extern "C" fn prepare_fork() {
    // Async-signal-safe: one atomic add.
    FORKS.fetch_add(1, Ordering::Relaxed);
}

extern "C" fn child_after_fork() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// This process's id, from the kernel: glibc before 2.25 and bionic cache
/// it, and a cache is stale in a child made by a raw `clone()`.
fn getpid() -> u32 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: the getpid syscall takes no arguments and cannot fail.
    let pid = unsafe { libc::syscall(libc::SYS_getpid) };
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    // SAFETY: getpid has no preconditions and cannot fail.
    let pid = unsafe { libc::getpid() };
    u32::try_from(pid).unwrap_or(0)
}

/// Sets up detection once per process. Fails only if the atfork handlers
/// could not be installed (ENOMEM): forks would then go unseen.
fn init() -> Result<()> {
    loop {
        let state = INIT.load(Ordering::Acquire);
        match state & 3 {
            INIT_DONE => break,
            INIT_NONE => {
                let running = u64::from(getpid()) << 2 | INIT_RUNNING;
                if INIT
                    .compare_exchange(state, running, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    set_up();
                    INIT.store(INIT_DONE, Ordering::Release);
                    break;
                }
            }
            _ if state >> 2 != u64::from(getpid()) => {
                // Forked while another process's thread set up: it is not
                // here to finish. Start over in this process.
                let _ =
                    INIT.compare_exchange(state, INIT_NONE, Ordering::AcqRel, Ordering::Acquire);
            }
            _ => std::thread::yield_now(),
        }
    }
    match INIT_ERRNO.load(Ordering::Acquire) {
        0 => Ok(()),
        errno => Err(Error::Os {
            syscall: "pthread_atfork",
            errno,
        }),
    }
}

/// The one-time set-up: the atfork handlers, then the wiped page where the
/// OS has one.
fn set_up() {
    {
        // SAFETY: both handlers are plain `extern "C"` fns that only touch
        // atomics.
        let ret = unsafe { libc::pthread_atfork(Some(prepare_fork), None, Some(child_after_fork)) };
        if ret != 0 {
            INIT_ERRNO.store(ret, Ordering::Relaxed);
            return;
        }
        let mechanism = match wiped_page() {
            Some(page) => {
                // SAFETY: a live, page-aligned, zeroed mapping, never unmapped;
                // AtomicU64 has the size and alignment of u64.
                unsafe { &*page }.store(GENERATION.load(Ordering::Relaxed), Ordering::Relaxed);
                PAGE.store(page, Ordering::Release);
                WIPED_PAGE
            }
            None if cfg!(any(target_os = "linux", target_os = "android")) => ATFORK_AND_PID,
            None => ATFORK,
        };
        MECHANISM.store(mechanism, Ordering::Release);
        INIT_ERRNO.store(0, Ordering::Release);
    }
}

/// One anonymous page that the kernel zeroes in every child, or `None` where
/// the OS cannot be trusted to.
fn wiped_page() -> Option<*mut AtomicU64> {
    // SAFETY: sysconf has no preconditions.
    let len = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
        .ok()
        .filter(|&l| l >= size_of::<u64>())?;
    // SAFETY: a fresh private anonymous mapping; no existing memory is
    // touched.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANON,
            -1,
            0,
        )
    };
    if page == libc::MAP_FAILED {
        return None;
    }
    if mark_wipe_on_fork(page, len) {
        Some(page.cast())
    } else {
        // SAFETY: `page` is the mapping of `len` bytes made above, unused.
        unsafe { libc::munmap(page, len) };
        None
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn mark_wipe_on_fork(page: *mut libc::c_void, len: usize) -> bool {
    // qemu-user returns success for any advice: only trust MADV_WIPEONFORK
    // if an invalid advice is refused.
    // SAFETY: `page` is our own mapping of `len` bytes; advice only changes
    // how the kernel treats it.
    let bogus = unsafe { libc::madvise(page, len, -1) };
    if bogus == 0 {
        return false;
    }
    // SAFETY: as above.
    let wipe = unsafe { libc::madvise(page, len, libc::MADV_WIPEONFORK) };
    cvt("madvise", wipe).is_ok()
}

#[cfg(target_os = "freebsd")]
fn mark_wipe_on_fork(page: *mut libc::c_void, len: usize) -> bool {
    // SAFETY: `page` is our own mapping of `len` bytes.
    cvt("minherit", unsafe {
        libc::minherit(page, len, libc::INHERIT_ZERO)
    })
    .is_ok()
}

#[cfg(any(target_os = "netbsd", target_os = "openbsd"))]
fn mark_wipe_on_fork(page: *mut libc::c_void, len: usize) -> bool {
    // SAFETY: `page` is our own mapping of `len` bytes.
    cvt("minherit", unsafe {
        libc::minherit(page, len, libc::MAP_INHERIT_ZERO)
    })
    .is_ok()
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd"
)))]
fn mark_wipe_on_fork(_page: *mut libc::c_void, _len: usize) -> bool {
    false
}

/// The current generation; `init` must have succeeded.
fn generation() -> u64 {
    match MECHANISM.load(Ordering::Acquire) {
        WIPED_PAGE => {
            let page = PAGE.load(Ordering::Acquire);
            // SAFETY: set once before MECHANISM, never unmapped.
            let page = unsafe { &*page };
            match page.load(Ordering::Acquire) {
                0 => {
                    // A child: its copy of the page was wiped. Take the next
                    // generation (several threads may race here: one wins).
                    let next = GENERATION.fetch_add(1, Ordering::Relaxed) + 1;
                    match page.compare_exchange(0, next, Ordering::AcqRel, Ordering::Acquire) {
                        Ok(_) => next,
                        Err(winner) => winner,
                    }
                }
                g => g,
            }
        }
        // The stamp is a function of both the atfork count and the pid, read
        // afresh: nothing to update, so no two threads can race on it.
        ATFORK_AND_PID => (GENERATION.load(Ordering::Acquire) << 32) | u64::from(getpid()),
        _ => GENERATION.load(Ordering::Acquire),
    }
}

/// The mechanism in force (setting it up on first use).
pub(crate) fn mechanism() -> Result<Mechanism> {
    init()?;
    Ok(match MECHANISM.load(Ordering::Acquire) {
        WIPED_PAGE => Mechanism::WipedPage,
        ATFORK_AND_PID => Mechanism::AtforkAndPid,
        _ => Mechanism::Atfork,
    })
}

/// A stamp of the process generation something was made in.
///
/// Copy it into whatever owns an OS resource or secret state; ask
/// [`is_current`](Owner::is_current) before each use and in `Drop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Owner {
    generation: u64,
}

impl Owner {
    /// A stamp of this process, now.
    pub(crate) fn current() -> Result<Owner> {
        init()?;
        Ok(Owner {
            generation: generation(),
        })
    }

    /// Whether this process is the one the stamp was made in (no fork since).
    /// Cheap: one atomic load where the OS wipes a page on fork.
    pub(crate) fn is_current(&self) -> bool {
        // A stamp exists only after `init` succeeded.
        generation() == self.generation
    }
}

/// What a forked child mixes into its pool (credited with nothing), so that
/// it never continues its parent's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ForkRecord {
    /// This process's id.
    pub(crate) pid: u64,
    /// The generation now.
    pub(crate) generation: u64,
    /// Forks started by this process and its ancestors (prepare handler).
    pub(crate) forks: u64,
}

/// The record of this process now; `init` runs if it has not.
pub(crate) fn fork_record() -> Result<ForkRecord> {
    init()?;
    Ok(ForkRecord {
        pid: u64::from(getpid()),
        generation: generation(),
        forks: FORKS.load(Ordering::Relaxed),
    })
}

/// A process-wide value that is made again in every child.
///
/// A value made before a `fork()` may hold locks that threads the child does
/// not have were holding, so the child never takes it: [`get_or_try_init`]
/// makes a fresh one and hands back the old one for the caller to retire
/// without blocking (or to leave alone). Values are leaked, never freed, so
/// the references handed out stay valid for the life of the process.
///
/// [`get_or_try_init`]: PerProcess::get_or_try_init
pub(crate) struct PerProcess<T: 'static> {
    current: AtomicPtr<(Owner, T)>,
}

impl<T: Send + Sync + 'static> PerProcess<T> {
    /// An empty cell.
    pub(crate) const fn new() -> Self {
        PerProcess {
            current: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// This process's value, if one was made in this process.
    pub(crate) fn get(&'static self) -> Option<&'static T> {
        // SAFETY: every non-null pointer stored here comes from `Box::leak`
        // below and is never freed or written through.
        match unsafe { self.current.load(Ordering::Acquire).as_ref() } {
            Some((owner, value)) if owner.is_current() => Some(value),
            _ => None,
        }
    }

    /// This process's value, made with `make` if there is none yet. On a
    /// first call in a forked child, also the value inherited from the
    /// parent (which is then no longer handed out).
    pub(crate) fn get_or_try_init(
        &'static self,
        make: impl FnOnce() -> Result<T>,
    ) -> Result<(&'static T, Option<&'static T>)> {
        let seen = self.current.load(Ordering::Acquire);
        // SAFETY: every non-null pointer stored here comes from `Box::leak`
        // below and is never freed or written through.
        let inherited = match unsafe { seen.as_ref() } {
            Some((owner, value)) if owner.is_current() => return Ok((value, None)),
            Some((_, value)) => Some(value),
            None => None,
        };
        let made: &'static mut (Owner, T) = Box::leak(Box::new((Owner::current()?, make()?)));
        let made_ptr: *mut (Owner, T) = made;
        match self
            .current
            .compare_exchange(seen, made_ptr, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Ok((&made.1, inherited)),
            // Another thread of this process won the race: use its value
            // (ours stays leaked, made but never used; this is the cold path
            // of a first use, so at most a few are made).
            Err(winner) => {
                // SAFETY: as above.
                match unsafe { winner.as_ref() } {
                    Some((_, value)) => Ok((value, None)),
                    None => Ok((&made.1, inherited)),
                }
            }
        }
    }
}

/// Process control for the crate's own fork tests (FFI stays in `sys`).
#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::{RwLock, RwLockWriteGuard};

    /// Every test fork holds this shared; a test that counts forks holds it
    /// alone ([`alone`]), so that no other test's fork lands in its count
    /// (tests run on several threads of one process).
    static FORKING: RwLock<()> = RwLock::new(());

    /// `fork()`: `Some(0)` in the child, `Some(pid)` in the parent.
    pub(crate) fn fork() -> Option<libc::pid_t> {
        let _shared = FORKING.read().unwrap_or_else(|e| e.into_inner());
        fork_now()
    }

    /// A child made by the raw `clone` syscall without `CLONE_VM`: a fork
    /// that runs no atfork handler (as glibc's `_Fork` does). Linux only.
    #[cfg(target_os = "linux")]
    pub(crate) fn raw_clone() -> Option<libc::pid_t> {
        let _shared = FORKING.read().unwrap_or_else(|e| e.into_inner());
        raw_clone_now()
    }

    /// No other test forks while this is held.
    pub(crate) struct Alone {
        _others_wait: RwLockWriteGuard<'static, ()>,
    }

    /// Waits until no other test is forking, and keeps it so until the
    /// returned value is dropped.
    pub(crate) fn alone() -> Alone {
        Alone {
            _others_wait: FORKING.write().unwrap_or_else(|e| e.into_inner()),
        }
    }

    impl Alone {
        /// [`fork`] while alone.
        pub(crate) fn fork(&self) -> Option<libc::pid_t> {
            fork_now()
        }

        /// [`raw_clone`] while alone.
        #[cfg(target_os = "linux")]
        pub(crate) fn raw_clone(&self) -> Option<libc::pid_t> {
            raw_clone_now()
        }
    }

    fn fork_now() -> Option<libc::pid_t> {
        // SAFETY: the tests that call this only compute, write to a socket
        // and leave through `exit_child` in the child.
        let pid = unsafe { libc::fork() };
        (pid >= 0).then_some(pid)
    }

    #[cfg(target_os = "linux")]
    fn raw_clone_now() -> Option<libc::pid_t> {
        // SAFETY: with SIGCHLD and null stack/tid pointers clone behaves like
        // fork (a copy of the address space); the child leaves by exit_child.
        let pid = unsafe {
            libc::syscall(
                libc::SYS_clone,
                libc::c_long::from(libc::SIGCHLD),
                0usize,
                0usize,
                0usize,
                0usize,
            )
        };
        libc::pid_t::try_from(pid).ok().filter(|&p| p >= 0)
    }

    /// Ends a forked child at once, without the parent's destructors.
    pub(crate) fn exit_child(code: i32) -> ! {
        // SAFETY: `_exit` has no preconditions.
        unsafe { libc::_exit(code) }
    }

    /// Waits for `pid` and returns whether it exited with status 0.
    pub(crate) fn wait_ok(pid: libc::pid_t) -> bool {
        let mut status = 0;
        // SAFETY: waits for our own child; `status` is a valid out-pointer.
        let ret = unsafe { libc::waitpid(pid, &mut status, 0) };
        ret == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{exit_child, fork, wait_ok};
    use super::*;

    #[test]
    fn a_stamp_is_current_until_a_fork() {
        let owner = Owner::current().expect("fork detection");
        assert!(owner.is_current());
        assert_eq!(Owner::current().unwrap(), owner);
        let pid = fork().expect("fork");
        if pid == 0 {
            let stale = !owner.is_current();
            let fresh = Owner::current().map(|o| o.is_current() && o != owner);
            exit_child(i32::from(!(stale && fresh == Ok(true))));
        }
        assert!(
            wait_ok(pid),
            "the child still saw the parent's stamp as its own"
        );
        assert!(owner.is_current(), "the parent lost its own stamp");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_raw_clone_child_is_seen_without_atfork_handlers() {
        let owner = Owner::current().expect("fork detection");
        let alone = super::test_support::alone();
        let before = fork_record().unwrap().forks;
        let pid = alone.raw_clone().expect("clone");
        if pid == 0 {
            // No prepare handler ran: the record's fork count is unchanged,
            // yet the stamp must be stale.
            let unchanged = fork_record().map(|r| r.forks) == Ok(before);
            let seen = unchanged && !owner.is_current();
            exit_child(if seen { 0 } else { 1 });
        }
        assert!(wait_ok(pid), "a raw clone() child kept the parent's stamp");
        assert!(owner.is_current());
    }

    #[test]
    fn the_prepare_handler_counts_forks() {
        let alone = super::test_support::alone();
        let before = fork_record().unwrap();
        let pid = alone.fork().expect("fork");
        if pid == 0 {
            let r = fork_record().unwrap();
            let ok = r.forks == before.forks + 1 && r.generation != before.generation;
            exit_child(i32::from(!ok));
        }
        assert!(wait_ok(pid));
        assert_eq!(fork_record().unwrap().forks, before.forks + 1);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_uses_the_wiped_page() {
        // Every kernel this project runs on is newer than 4.14.
        assert_eq!(mechanism().unwrap(), Mechanism::WipedPage);
    }

    #[test]
    fn a_child_forked_during_the_set_up_does_it_again() {
        init().expect("set up");
        let pid = fork().expect("fork");
        if pid == 0 {
            // As if the parent's thread had been inside the set-up at the
            // fork: the state names a process that is not this one. A hang
            // here ends the child by SIGALRM, failing the test.
            // SAFETY: alarm has no preconditions.
            unsafe { libc::alarm(5) };
            let elsewhere = u64::from(getpid()).wrapping_add(1);
            INIT.store(elsewhere << 2 | INIT_RUNNING, Ordering::Release);
            let ok = init().is_ok() && INIT.load(Ordering::Acquire) == INIT_DONE;
            let ok = ok && Owner::current().is_ok_and(|o| o.is_current());
            exit_child(if ok { 0 } else { 1 });
        }
        assert!(wait_ok(pid), "a child forked mid-set-up did not finish it");
    }
}
