//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

pub static SERIAL: Mutex<()> = Mutex::new(());

/// Distinct timer intervals for a test: `micros` as given, or, on a kernel
/// whose timers count whole clock ticks (NetBSD, OpenBSD, DragonFly, which
/// refuse shorter intervals), 1, 2, 3... ticks.
pub fn timer_intervals(micros: &[u64]) -> Vec<std::time::Duration> {
    match kqseed::KqueueEventsConfig::timer_tick().expect("the timer tick") {
        Some(tick) => (1..=micros.len() as u32).map(|i| tick * i).collect(),
        None => micros
            .iter()
            .map(|&us| std::time::Duration::from_micros(us))
            .collect(),
    }
}

pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Open fds of this process, or None where /proc is missing (BSD, macOS).
pub fn open_fds() -> Option<usize> {
    std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count())
}

/// Open fds once no close is pending: two reads 50 ms apart agree (at most
/// 3 s). A baseline taken while a previous test's deferred close is still
/// pending would be one too high.
pub fn quiet_fds() -> Option<usize> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let mut last = open_fds();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let now = open_fds();
        if now == last || std::time::Instant::now() > deadline {
            return now;
        }
        last = now;
    }
}

/// Open fds once they have settled at `expected` (or after 5 s): a dropped
/// collector's inotify fd is closed by a background thread, some
/// milliseconds later.
pub fn settled_fds(expected: Option<usize>) -> Option<usize> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let now = open_fds();
        if now == expected || std::time::Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A fresh, empty parent directory for the collector's private directory,
/// so a test can see that nothing is left in it.
pub fn scratch_parent(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kqseed-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

pub fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

/// Runs the test `name` again in a child process with `KQSEED_CHILD=name`,
/// and asserts that it passed there.
pub fn run_in_child(name: &str) {
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env("KQSEED_CHILD", name)
        .output()
        .expect("spawn child test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child run of {name} failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("child {name} ok")),
        "child run of {name} did not reach its end:\n{stdout}"
    );
}

pub fn in_child(name: &str) -> bool {
    std::env::var("KQSEED_CHILD").is_ok_and(|v| v == name)
}
