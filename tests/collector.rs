//! End-to-end tests of the collector on the real backend of this OS (epoll
//! on Linux; kqueue under `--cfg kqseed_libkqueue` or on a BSD/Apple host).
//!
//! The tests in this file count the process's open fds, so they run one at a
//! time (`SERIAL`), and the ones that change process-wide state (resource
//! limits, `fork`) run in a child copy of this test binary.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::{
    entries, in_child, open_fds, quiet_fds, run_in_child, scratch_parent, serial, settled_fds,
};

use kqseed::{Collector, Error, KqueueEventsConfig};

#[test]
fn every_event_type_fires_and_deltas_are_nonzero() {
    let _serial = serial();
    let fds_before = quiet_fds();
    let parent = scratch_parent("types");
    let config = KqueueEventsConfig::default().with_temp_dir(parent.clone());
    let mut collector = Collector::new(config).expect("collector");
    let watch_dir = collector
        .watch_dir()
        .expect("file watchers make a dir")
        .to_path_buf();
    assert!(watch_dir.starts_with(&parent));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&watch_dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "private directory must be 0700");
    }
    let deltas = collector.collect(5_000).expect("collect");
    assert_eq!(deltas.len(), 5_000);
    assert!(
        deltas.iter().all(|&d| d > 0),
        "a zero delta: the clock did not move"
    );
    let stats = *collector.stats();
    assert_eq!(stats.samples, 5_000);
    assert!(stats.events.timer > 0, "{stats:?}");
    assert!(
        stats.events.timer_expirations >= stats.events.timer,
        "{stats:?}"
    );
    assert!(stats.events.socket_read > 0, "{stats:?}");
    assert!(stats.events.socket_write > 0, "{stats:?}");
    assert!(stats.events.file > 0, "{stats:?}");
    assert_eq!(stats.timeouts, 0);
    drop(collector);
    assert!(!watch_dir.exists(), "private directory left behind");
    assert_eq!(entries(&parent), 0);
    assert_eq!(settled_fds(fds_before), fds_before, "fd leaked");
    std::fs::remove_dir_all(&parent).unwrap();
}

#[test]
fn each_event_type_alone_produces_samples() {
    let _serial = serial();
    let base = KqueueEventsConfig::default()
        .with_timer_intervals(vec![])
        .with_num_sockets(0)
        .with_num_file_watchers(0);
    let timers = base
        .clone()
        .with_timer_intervals(common::timer_intervals(&[50, 65]));
    let sockets = base.clone().with_num_sockets(2);
    let files = base.clone().with_num_file_watchers(2);
    for (name, config) in [("timers", timers), ("sockets", sockets), ("files", files)] {
        let mut collector = Collector::new(config).expect(name);
        collector.collect(1_000).expect(name);
        let events = collector.stats().events;
        match name {
            "timers" => assert!(
                events.timer > 0 && events.total() == events.timer,
                "{events:?}"
            ),
            "sockets" => assert!(
                events.socket_read > 0 && events.socket_write > 0 && events.timer == 0,
                "{events:?}"
            ),
            _ => assert!(
                events.file > 0 && events.file == events.total(),
                "{events:?}"
            ),
        }
    }
}

#[test]
fn wait_without_event_times_out_and_collector_stays_usable() {
    let _serial = serial();
    let config = KqueueEventsConfig::default()
        .with_timer_intervals(vec![Duration::from_secs(5)])
        .with_num_sockets(1)
        .with_num_file_watchers(0)
        .with_timeout(Duration::from_millis(5));
    let mut collector = Collector::new(config).expect("collector");
    for round in 1..=2 {
        match collector.step() {
            Err(Error::WaitTimedOut { timeout }) => assert_eq!(timeout, Duration::from_millis(5)),
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert_eq!(collector.stats().timeouts, round);
    }
    assert_eq!(collector.stats().samples, 0);
}

#[test]
fn config_errors_name_the_field() {
    let ok = KqueueEventsConfig::default();
    assert_eq!(ok.validate(), Ok(()));
    let cases: Vec<(&str, KqueueEventsConfig)> = vec![
        (
            "timer_intervals",
            ok.clone()
                .with_timer_intervals(vec![])
                .with_num_sockets(0)
                .with_num_file_watchers(0),
        ),
        (
            "timer_intervals",
            ok.clone().with_timer_intervals(vec![Duration::ZERO]),
        ),
        (
            "timer_intervals",
            ok.clone()
                .with_timer_intervals(vec![Duration::from_micros(30), Duration::from_micros(30)]),
        ),
        (
            "timer_intervals",
            ok.clone()
                .with_timer_intervals(vec![Duration::from_secs(3600)]),
        ),
        (
            "timer_intervals",
            ok.clone()
                .with_timer_intervals(vec![Duration::from_nanos(10)]),
        ),
        ("timeout", ok.clone().with_timeout(Duration::ZERO)),
        (
            "timeout",
            ok.clone().with_timeout(Duration::from_secs(1 << 40)),
        ),
        ("max_events", ok.clone().with_max_events(0)),
        ("num_sockets", ok.clone().with_num_sockets(1000)),
        ("num_file_watchers", ok.clone().with_num_file_watchers(65)),
    ];
    for (field, config) in cases {
        let err = config.validate().expect_err(field);
        assert_eq!(err.field, field, "{err}");
        match Collector::new(config) {
            Err(Error::Config(e)) => assert_eq!(e, err),
            other => panic!("expected a config error for {field}, got {other:?}"),
        }
        let io: std::io::Error = Error::Config(err).into();
        assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
    }
}

#[test]
fn unusable_temp_dir_is_a_typed_error_and_leaks_nothing() {
    let _serial = serial();
    let fds_before = quiet_fds();
    // A path below a regular file can never be a directory, even for root.
    let file = std::env::temp_dir().join(format!("kqseed-test-notadir-{}", std::process::id()));
    std::fs::write(&file, b"x").unwrap();
    let bad = file.join("sub");
    let config = KqueueEventsConfig::default().with_temp_dir(bad.clone());
    match Collector::new(config.clone()) {
        Err(e @ Error::TempDir { .. }) => {
            let Error::TempDir { path, kind } = &e else {
                unreachable!()
            };
            assert_eq!(path, &bad);
            assert_eq!(*kind, std::io::ErrorKind::NotADirectory);
            assert!(e.to_string().contains(&bad.display().to_string()), "{e}");
        }
        other => panic!("expected a TempDir error, got {other:?}"),
    }
    assert_eq!(
        settled_fds(fds_before),
        fds_before,
        "fd leaked after a failed open"
    );
    // Without file watchers the temp dir is never used.
    let no_files = config.with_num_file_watchers(0);
    let mut collector = Collector::new(no_files).expect("no file watchers, no temp dir");
    collector.collect(100).expect("collect");
    assert!(collector.watch_dir().is_none());
    drop(collector);
    assert_eq!(settled_fds(fds_before), fds_before);
    std::fs::remove_file(&file).unwrap();
}

static SIGNALS: AtomicU64 = AtomicU64::new(0);

extern "C" fn count_signal(_: libc::c_int) {
    SIGNALS.fetch_add(1, Ordering::Relaxed);
}

#[test]
fn signals_interrupting_the_wait_are_retried() {
    let _serial = serial();
    // SAFETY: installs a handler that only bumps an atomic; no SA_RESTART,
    // so the wait call really returns EINTR.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = count_signal as *const () as libc::sighandler_t;
        action.sa_flags = 0;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
            0
        );
    }
    let config = KqueueEventsConfig::default()
        // Slow timers, so most signals land while the thread waits.
        .with_timer_intervals(common::timer_intervals(&[700, 900]));
    let mut collector = Collector::new(config).expect("collector");
    // SAFETY: pthread_self has no preconditions.
    let target = unsafe { libc::pthread_self() } as usize;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let signaller = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut sent = 0u64;
            while !done.load(Ordering::Relaxed) {
                // SAFETY: the target thread outlives this loop (it joins us).
                unsafe { libc::pthread_kill(target as libc::pthread_t, libc::SIGUSR1) };
                sent += 1;
                std::thread::sleep(Duration::from_micros(100));
            }
            sent
        })
    };
    let result = collector.collect(1_500);
    done.store(true, Ordering::Relaxed);
    let sent = signaller.join().unwrap();
    let deltas = result.expect("signals must not fail the collector");
    assert_eq!(deltas.len(), 1_500);
    assert!(
        SIGNALS.load(Ordering::Relaxed) > 100,
        "only {} signals",
        SIGNALS.load(Ordering::Relaxed)
    );
    assert!(sent > 100);
    assert_eq!(collector.stats().timeouts, 0);
}

#[test]
fn emfile_is_a_typed_error_and_leaks_nothing() {
    if !in_child("emfile_is_a_typed_error_and_leaks_nothing") {
        let _serial = serial();
        return run_in_child("emfile_is_a_typed_error_and_leaks_nothing");
    }
    let parent = scratch_parent("emfile");
    let config = KqueueEventsConfig::default()
        .with_num_sockets(8)
        .with_temp_dir(parent.clone());
    let open_now = open_fds().expect("/proc/self/fd") as u64;
    // The config needs 23 fds on epoll and 19 on kqueue: a limit of 23 lets
    // it pass validation but not open with stdio and friends already open.
    assert!(open_now >= 4, "{open_now} fds open");
    set_nofile(23);
    let before = open_fds();
    match Collector::new(config.clone()) {
        Err(Error::Os { syscall, errno }) => {
            assert!(
                errno == libc::EMFILE || errno == libc::ENFILE,
                "{syscall}: {errno}"
            );
        }
        other => panic!("expected EMFILE, got {other:?}"),
    }
    assert_eq!(settled_fds(before), before, "fds leaked on EMFILE");
    assert_eq!(entries(&parent), 0, "temp files left on EMFILE");
    // A limit below what the config needs at all is a configuration error.
    set_nofile(5);
    match Collector::new(config) {
        Err(Error::Config(e)) => assert!(e.reason.contains("RLIMIT_NOFILE"), "{e}"),
        other => panic!("expected a config error, got {other:?}"),
    }
    // Removing a directory tree takes fds of its own.
    set_nofile(1024);
    std::fs::remove_dir_all(&parent).unwrap();
    println!("child emfile_is_a_typed_error_and_leaks_nothing ok");
}

fn set_nofile(limit: u64) {
    let lim = libc::rlimit {
        rlim_cur: limit as libc::rlim_t,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: `lim` is a valid rlimit; lowering the soft limit is always allowed.
    let ret = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    if ret != 0 {
        // The hard limit may be finite: keep it.
        let mut old = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: valid out-pointer.
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut old) };
        let lim = libc::rlimit {
            rlim_cur: limit as libc::rlim_t,
            rlim_max: old.rlim_max,
        };
        // SAFETY: as above.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    }
}

/// In a forked child that has rebuilt its queue: drops `collector` and
/// tells whether that removed the child's own private directory. A child
/// ends by `_exit`, which runs no destructor, so one that keeps its
/// collector leaves a `kqseed-*` directory behind for good.
fn drops_its_own_dir(collector: Collector) -> bool {
    let own = collector.watch_dir().map(std::path::Path::to_path_buf);
    drop(collector);
    own.is_some_and(|d| !d.exists())
}

#[test]
fn forked_child_rebuilds_its_queue_and_parent_goes_on() {
    if !in_child("forked_child_rebuilds_its_queue_and_parent_goes_on") {
        let _serial = serial();
        return run_in_child("forked_child_rebuilds_its_queue_and_parent_goes_on");
    }
    let mut collector = Collector::new(KqueueEventsConfig::default()).expect("collector");
    collector.collect(200).expect("before fork");
    let dir = collector.watch_dir().expect("dir").to_path_buf();
    // SAFETY: the child only uses the collector and then _exits; this process
    // runs a single test thread (--test-threads=1).
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = collector.collect(500).is_ok()
            && collector.stats().rebuilds == 1
            && collector.watch_dir().is_some_and(|d| d != dir);
        drop(collector);
        // The child must not have removed the parent's directory.
        let code = if ok && dir.exists() { 0 } else { 1 };
        // SAFETY: ends the child without running the parent's destructors twice.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child failed: {status}"
    );
    assert!(dir.exists(), "the child removed the parent's directory");
    collector.collect(500).expect("parent after fork");
    assert_eq!(collector.stats().rebuilds, 0);
    drop(collector);
    assert!(!dir.exists());
    println!("child forked_child_rebuilds_its_queue_and_parent_goes_on ok");
}

#[test]
fn a_forked_child_that_drops_its_copy_leaves_the_parent_alone() {
    const NAME: &str = "a_forked_child_that_drops_its_copy_leaves_the_parent_alone";
    if !in_child(NAME) {
        let _serial = serial();
        return run_in_child(NAME);
    }
    let mut collector = Collector::new(KqueueEventsConfig::default()).expect("collector");
    collector.collect(64).expect("before fork");
    let dir = collector.watch_dir().expect("dir").to_path_buf();
    // SAFETY: the child only looks at the collector, drops it and _exits;
    // this process runs a single test thread (--test-threads=1).
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // Before any step the child sees none of the parent's objects, and
        // dropping its copy must not touch them.
        let hidden = collector.queue_fd().is_none() && collector.watch_dir().is_none();
        drop(collector);
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(i32::from(!hidden)) };
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the child saw the parent's queue or directory as its own"
    );
    assert!(
        dir.exists(),
        "the child's drop removed the parent's directory"
    );
    assert_eq!(
        entries(&dir),
        KqueueEventsConfig::default().num_file_watchers,
        "the child's drop removed watched files"
    );
    collector
        .collect(500)
        .expect("parent after the child's drop");
    assert!(collector.queue_fd().is_some());
    println!("child {NAME} ok");
}

#[cfg(target_os = "linux")]
#[test]
fn a_raw_clone_child_rebuilds_without_atfork_handlers() {
    const NAME: &str = "a_raw_clone_child_rebuilds_without_atfork_handlers";
    if !in_child(NAME) {
        let _serial = serial();
        return run_in_child(NAME);
    }
    let mut collector = Collector::new(KqueueEventsConfig::default()).expect("collector");
    collector.collect(64).expect("before clone");
    let dir = collector.watch_dir().expect("dir").to_path_buf();
    // SAFETY: clone without CLONE_VM and with null stack/tid pointers is a
    // fork that runs no atfork handler; the child only uses the collector
    // and _exits; single test thread.
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
    assert!(pid >= 0, "clone failed");
    if pid == 0 {
        let ok = collector.queue_fd().is_none()
            && collector.collect(200).is_ok()
            && collector.stats().rebuilds == 1
            && collector.watch_dir().is_some_and(|d| d != dir);
        let ok = ok && drops_its_own_dir(collector);
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(i32::from(!ok)) };
    }
    let pid = pid as libc::pid_t;
    let mut status = 0;
    // SAFETY: waits for our own child.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "a raw clone() child used the parent's queue"
    );
    collector.collect(200).expect("parent after clone");
    assert_eq!(collector.stats().rebuilds, 0);
    println!("child {NAME} ok");
}

#[test]
fn huge_requests_are_typed_errors_not_panics() {
    let _serial = serial();
    let mut collector = Collector::new(KqueueEventsConfig::default()).expect("collector");
    for n in [usize::MAX, kqseed::MAX_COLLECT_SAMPLES + 1] {
        match collector.collect(n) {
            Err(Error::TooLarge { requested, max, .. }) => {
                assert_eq!((requested, max), (n, kqseed::MAX_COLLECT_SAMPLES));
            }
            other => panic!("collect({n}): {other:?}"),
        }
    }
    assert_eq!(collector.stats().samples, 0, "something was collected");
    let mut seeder = kqseed::KqSeeder::new();
    assert!(matches!(
        seeder.collect_raw(usize::MAX),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn step_detection_ends_on_huge_deltas() {
    let huge: Vec<u64> = (0..100u64).map(|i| u64::MAX - i % 2).collect();
    assert_eq!(kqseed::detect_step(&huge), 1);
}

#[test]
fn step_detection_finds_coarse_and_fine_clocks() {
    // Multiples of 1 ms with a few odd ones: the step is 1 ms.
    let mut deltas: Vec<u64> = (0..1000).map(|i| 1_000_000 * (1 + i % 7)).collect();
    deltas[3] = 1_000_003;
    assert_eq!(kqseed::detect_step(&deltas), 1_000_000);
    // A 26-tick counter.
    let deltas: Vec<u64> = (0..1000u64)
        .map(|i| 26 * (1000 + (i * 7919) % 613))
        .collect();
    assert_eq!(kqseed::detect_step(&deltas), 26);
    // Nanoseconds with dither: no step above 1.
    let deltas: Vec<u64> = (0..1000u64).map(|i| 30_000 + (i * 7919) % 1013).collect();
    assert_eq!(kqseed::detect_step(&deltas), 1);
    assert_eq!(kqseed::detect_step(&[]), 1);
    assert_eq!(kqseed::symbol(26 * 300, 26.0), 44);
    assert_eq!(kqseed::symbol(5, 0.0), 5);
    // The AMD guests' clock: nanoseconds that advance in 10.015 ns steps.
    let deltas: Vec<u64> = (0..1000u64)
        .map(|i| (f64::from(100 + (i * 7919 % 97) as u32) * 10.015).round() as u64)
        .collect();
    let r = kqseed::detect_resolution(&deltas);
    assert!((r - 10.015).abs() < 0.01, "{r}");
    assert_eq!(kqseed::detect_step(&deltas), 1, "not a whole number of ns");
}

#[test]
fn every_wakeup_counts_the_kernel_paths_of_the_pass_it_begins() {
    use std::time::Duration;

    use kqseed::{KernelPath, Sampling};
    let _serial = serial();
    let per_path = KqueueEventsConfig::default().with_sampling(Sampling::PerPath);
    // Two timers (two timer reads a return on epoll), at least a tick
    // apart where timers count ticks (NetBSD, OpenBSD, DragonFly).
    let tick = KqueueEventsConfig::timer_tick()
        .expect("the timer tick")
        .unwrap_or(Duration::from_micros(1));
    let first = Duration::from_micros(5).max(tick);
    let two_timers = per_path
        .clone()
        .with_timer_intervals(vec![first, first + tick]);
    // The default; two timers; and so few events a return that many
    // returns bring no timer event.
    for config in [
        per_path.clone(),
        two_timers,
        per_path.clone().with_max_events(2),
    ] {
        let mut collector = Collector::new(config.clone()).expect("collector");
        let samples: Vec<_> = (0..3_000)
            .map(|_| collector.step().expect("step"))
            .collect();
        let waits: Vec<usize> = (0..samples.len())
            .filter(|&i| samples[i].path == KernelPath::Wait)
            .collect();
        assert!(waits.len() > 100, "{config:?}: {} waits", waits.len());
        for pair in waits.windows(2) {
            // Per path, each kernel path of the pass is one sample, the
            // wait's first; one timer read a pass at most is counted.
            let wait = &samples[pair[0]];
            let pass = &samples[pair[0]..pair[1]];
            let timer_reads = pass
                .iter()
                .filter(|s| s.path == KernelPath::TimerRead)
                .count();
            let counted = pass.len() - timer_reads.saturating_sub(1);
            assert_eq!(wait.events.wakeups, 1, "{wait:?}");
            assert_eq!(
                wait.events.kernel_paths, counted as u64,
                "{config:?}: {wait:?}"
            );
        }
    }
    // Per wakeup the same count comes with each pass: at most the wait,
    // one timer read and the inotify drain (epoll), a drain for each
    // pair and a write to every pair and file. On epoll every return
    // brings the timer, so at least the wait, the timer read and the
    // writes; kqueue marks no timer read or file drain, and libkqueue
    // brings some socket and file events on returns of their own (7.1
    // kernel paths a return in one run), which take the mean down.
    let config = per_path.with_sampling(Sampling::PerWakeup);
    let (sockets, files) = (config.num_sockets as f64, config.num_file_watchers as f64);
    let writes = sockets + files;
    let (least, most) = if Collector::backend() == "epoll" {
        (2.0 + writes, 3.0 + sockets + writes)
    } else {
        (1.0, 1.0 + sockets + writes)
    };
    let mut collector = Collector::new(config).expect("collector");
    collector.collect(2_000).expect("collect");
    let per_pass = collector.stats().events.kernel_paths_per_wakeup();
    assert!(
        (least..=most).contains(&per_pass),
        "{per_pass} not in {least}..={most}"
    );
}

#[test]
fn per_path_sampling_gives_several_samples_per_pass() {
    use kqseed::{KernelPath, Sampling};
    let _serial = serial();
    let config = KqueueEventsConfig::default().with_sampling(Sampling::PerPath);
    let mut collector = Collector::new(config).expect("collector");
    let mut seen = std::collections::BTreeMap::new();
    for _ in 0..6_000 {
        let sample = collector.step().expect("step");
        assert!(sample.delta > 0, "{sample:?}");
        if sample.path != KernelPath::Wait {
            assert_eq!(sample.events.total(), 0, "only the wait carries events");
        }
        *seen.entry(sample.path).or_insert(0u32) += 1;
    }
    let stats = *collector.stats();
    // Default configuration: the wait, the socket drain and both stimulus
    // writes on every backend; epoll adds the timer read and inotify drain.
    for path in [
        KernelPath::Wait,
        KernelPath::SocketDrain,
        KernelPath::SocketPoke,
        KernelPath::FileTouch,
    ] {
        // At most sixteen samples a pass (epoll, four pairs, four files).
        assert!(
            seen.get(&path).is_some_and(|&n| n > 6_000 / 20),
            "{path:?}: {seen:?}"
        );
    }
    if Collector::backend() == "epoll" {
        assert!(seen.contains_key(&KernelPath::TimerRead), "{seen:?}");
        assert!(seen.contains_key(&KernelPath::FileDrain), "{seen:?}");
    }
    assert!(!seen.contains_key(&KernelPath::Pass), "{seen:?}");
    assert!(
        stats.samples >= 3 * stats.wakeups.saturating_sub(1),
        "{stats:?}"
    );
}

#[test]
fn a_forked_child_never_hands_out_the_parents_pending_paths() {
    const NAME: &str = "a_forked_child_never_hands_out_the_parents_pending_paths";
    if !in_child(NAME) {
        let _serial = serial();
        return run_in_child(NAME);
    }
    let config = KqueueEventsConfig::default().with_sampling(kqseed::Sampling::PerPath);
    let mut collector = Collector::new(config).expect("collector");
    // Stop inside a pass: its later paths are pending.
    let mut first = collector.step().expect("step");
    while first.path != kqseed::KernelPath::Wait {
        first = collector.step().expect("step");
    }
    // SAFETY: the child only uses the collector and _exits; this process
    // runs a single test thread (--test-threads=1).
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // The child's first sample must come from its own rebuilt queue,
        // not from the parent's pass, which the parent hands out too.
        let ok = collector.step().is_ok() && collector.stats().rebuilds == 1;
        let ok = ok && drops_its_own_dir(collector);
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(i32::from(!ok)) };
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the child's first sample was one of the parent's pending ones"
    );
    let next = collector.step().expect("parent");
    assert_ne!(next.path, kqseed::KernelPath::Wait, "{next:?}");
    println!("child {NAME} ok");
}

#[test]
fn dropping_collectors_in_a_burst_never_runs_out_of_inotify_instances() {
    // Each inotify instance counts against the user's limit (128 by
    // default) until its close returns. 200 collectors opened and dropped
    // in a row must neither fail nor leave an fd. (Closes are often fast
    // here, so this does not reach the bound on closes handed to the
    // background thread; `sys::unix`'s unit test drives that bound.)
    let _serial = serial();
    let fds_before = quiet_fds();
    for i in 0..200 {
        let collector = Collector::new(KqueueEventsConfig::default());
        assert!(collector.is_ok(), "collector {i}: {collector:?}");
    }
    assert_eq!(settled_fds(fds_before), fds_before, "fds left open");
}
