//! The getrandom backend must not wait for itself (review 3, M2 and M2b).
//!
//! With kqseed as getrandom's backend and tempfile's `getrandom` feature on
//! (any crate that uses tempfile's defaults turns it on: features unify),
//! three name collisions for the collector's private directory make tempfile
//! call getrandom on the thread that collects for the seeding service. That
//! call used to wait for the service, that is for itself, and every later
//! getrandom or `rng()` call in the process hung.
//!
//! This binary defines `mkdir` and `pthread_create` itself, so that std's
//! calls reach these first (the executable's symbols win at link time): the
//! first three directories named `kqseed-*` fail with `EEXIST`, and in the
//! inline scenario no thread can be started, so the taker collects on its
//! own thread. Each scenario runs in a child process; the parent gives it
//! a minute and calls a child still running then a deadlock.
//!
//! Needs `--cfg getrandom_backend="custom"` (`.ci/run` passes it) and
//! Linux; it says it skipped otherwise.

#[cfg(all(target_os = "linux", getrandom_backend = "custom"))]
mod collision {
    use std::ffi::{CStr, c_char, c_int, c_void};
    use std::process::{Command, Stdio};
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::time::{Duration, Instant};

    use rand_core::TryRng;

    /// Set in a scenario's child: refuse the next `kqseed-*` names.
    static ARMED: AtomicBool = AtomicBool::new(false);
    /// Names refused so far.
    static REFUSED: AtomicU32 = AtomicU32::new(0);
    /// Set in the inline scenario: every new thread fails to start.
    static NO_THREADS: AtomicBool = AtomicBool::new(false);
    static THREADS_REFUSED: AtomicU32 = AtomicU32::new(0);
    /// Names refused per scenario, as the reviewer's shim did.
    const COLLISIONS: u32 = 3;

    /// std's `mkdir` (tempfile makes its directories through std).
    ///
    /// # Safety
    ///
    /// `path` is a NUL-terminated string, as for libc's `mkdir`.
    // SAFETY: (no_mangle) interposes libc's `mkdir` in this test binary
    // only, with its signature; the real one is reached by syscall.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mkdir(path: *const c_char, mode: libc::mode_t) -> c_int {
        // SAFETY: the caller passes a NUL-terminated path.
        let name = unsafe { CStr::from_ptr(path) }.to_bytes();
        let last = name.rsplit(|&b| b == b'/').next().unwrap_or(name);
        if ARMED.load(Ordering::SeqCst)
            && last.starts_with(b"kqseed-")
            && REFUSED
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    (n < COLLISIONS).then_some(n + 1)
                })
                .is_ok()
        {
            // SAFETY: errno is this thread's.
            unsafe { *libc::__errno_location() = libc::EEXIST };
            return -1;
        }
        // SAFETY: the same arguments the caller gave, to the system call
        // behind libc's mkdir.
        let ret = unsafe { libc::syscall(libc::SYS_mkdirat, libc::AT_FDCWD, path, mode) };
        ret as c_int
    }

    type Start = extern "C" fn(*mut c_void) -> *mut c_void;
    type PthreadCreate = unsafe extern "C" fn(
        *mut libc::pthread_t,
        *const libc::pthread_attr_t,
        Start,
        *mut c_void,
    ) -> c_int;

    /// std's `pthread_create`: `EAGAIN` while [`NO_THREADS`] is set.
    ///
    /// # Safety
    ///
    /// As for libc's `pthread_create`.
    // SAFETY: (no_mangle) interposes libc's `pthread_create` in this test
    // binary only, with its signature; it calls the real one (RTLD_NEXT).
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn pthread_create(
        thread: *mut libc::pthread_t,
        attr: *const libc::pthread_attr_t,
        start: Start,
        arg: *mut c_void,
    ) -> c_int {
        if NO_THREADS.load(Ordering::SeqCst) {
            THREADS_REFUSED.fetch_add(1, Ordering::SeqCst);
            return libc::EAGAIN;
        }
        // SAFETY: RTLD_NEXT finds libc's pthread_create, whose signature
        // is the one above.
        let real = unsafe { libc::dlsym(libc::RTLD_NEXT, c"pthread_create".as_ptr()) };
        assert!(!real.is_null(), "no pthread_create after this binary's");
        // SAFETY: a non-null result of that lookup is libc's function.
        let real: PthreadCreate = unsafe { std::mem::transmute(real) };
        // SAFETY: the caller's arguments, passed on unchanged.
        unsafe { real(thread, attr, start, arg) }
    }

    /// The service's worker collects; the caller waits in getrandom.
    fn worker() {
        ARMED.store(true, Ordering::SeqCst);
        let mut buf = [0u8; 16];
        getrandom::fill(&mut buf).expect("getrandom::fill");
        assert_ne!(buf, [0; 16]);
        let refused = REFUSED.load(Ordering::SeqCst);
        let calls = kqseed::getrandom_backend_calls();
        assert_eq!(refused, COLLISIONS, "names refused");
        // One call from here, one from tempfile after the third collision:
        // without the second, tempfile's getrandom feature was off.
        assert!(
            calls >= 2,
            "backend calls {calls}: tempfile never called getrandom"
        );
        println!("worker: getrandom::fill ok; {refused} names refused, {calls} backend calls");
    }

    /// No thread can start: the taker collects on its own thread.
    fn inline() {
        ARMED.store(true, Ordering::SeqCst);
        NO_THREADS.store(true, Ordering::SeqCst);
        let mut rng = kqseed::KqRng::new().expect("KqRng collecting inline");
        let mut buf = [0u8; 16];
        rng.try_fill_bytes(&mut buf).expect("draw");
        assert_ne!(buf, [0; 16]);
        let refused = REFUSED.load(Ordering::SeqCst);
        let threads = THREADS_REFUSED.load(Ordering::SeqCst);
        let calls = kqseed::getrandom_backend_calls();
        assert_eq!(refused, COLLISIONS, "names refused");
        assert!(
            threads >= 1,
            "a thread started: the seed was not collected inline"
        );
        assert!(calls >= 1, "tempfile never called getrandom");
        println!(
            "inline: KqRng::new ok; {refused} names refused, {threads} threads refused, {calls} backend calls"
        );
    }

    pub fn main() {
        match std::env::args().nth(1).as_deref() {
            Some("worker") => return worker(),
            Some("inline") => return inline(),
            _ => {}
        }
        let exe = std::env::current_exe().expect("this test's path");
        let tmp = std::env::temp_dir().join(format!("getrandom-collision-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).expect("a temporary directory");
        let mut failed = Vec::new();
        for scenario in ["worker", "inline"] {
            let started = Instant::now();
            let mut child = Command::new(&exe)
                .arg(scenario)
                .env("TMPDIR", &tmp)
                .stdout(Stdio::inherit())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("spawn the scenario");
            let status = loop {
                if let Some(status) = child.try_wait().expect("wait") {
                    break Some(status);
                }
                if started.elapsed() > Duration::from_secs(60) {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            match status {
                Some(s) if s.success() => {}
                Some(s) => failed.push(format!("{scenario}: {s}")),
                None => failed.push(format!("{scenario}: DEADLOCK, still running after 60 s")),
            }
        }
        let _ = std::fs::remove_dir_all(&tmp);
        assert!(failed.is_empty(), "{failed:?}");
        println!("getrandom_collision: no deadlock in either scenario");
    }
}

fn main() {
    #[cfg(all(target_os = "linux", getrandom_backend = "custom"))]
    collision::main();
    #[cfg(not(all(target_os = "linux", getrandom_backend = "custom")))]
    eprintln!(
        "getrandom_collision: skipped (needs Linux and RUSTFLAGS='--cfg getrandom_backend=\"custom\"')"
    );
}
