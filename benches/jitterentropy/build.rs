//! Compiles the jitterentropy C library (3.4.1, fetched by
//! `scripts/fetch-jitterentropy.sh`) into a static library for the bench.
//!
//! The flags are those of the library's own Makefile at v3.4.1: `-O0`
//! above all (the noise source is the execution time of its own loops,
//! which an optimiser would shorten or remove; `jitterentropy-base.c` stops
//! the build with `#error` when `__OPTIMIZE__` is defined), `-fwrapv`, the
//! stack protector, hidden visibility for everything but the API, and
//! `JENT_CONF_ENABLE_INTERNAL_TIMER` (the thread-based timer, used only
//! when the power-up test finds the hardware time stamp too coarse).
//!
//! `JITTERENTROPY_DIR` names the directory with `jitterentropy.h` and
//! `src/`; default: `target/jitterentropy/jitterentropy-library-3.4.1` at
//! the repository's top.
//!
//! `KQSEED_JENT_CLOCK=monotonic-raw` swaps the library's time stamp for
//! `clock_gettime(CLOCK_MONOTONIC_RAW)`, the clock kqseed reads, so that
//! an `LD_PRELOAD` clock simulation (`scripts/lib/coarse-clock.c`, used by
//! `scripts/jitterentropy-bench.sh --clock`) coarsens both alike. On x86
//! upstream reads `rdtsc`, which no preload can reach; its portable branch
//! reads `CLOCK_REALTIME`, which the simulation leaves alone. A patched
//! copy of `jitterentropy-base-user.h` goes into `OUT_DIR`, where every
//! architecture test of `jent_get_nstime` is made false (so the portable
//! `#else` branch is taken) and `CLOCK_REALTIME` becomes
//! `CLOCK_MONOTONIC_RAW`; the build fails if the header does not have that
//! shape, rather than keep `rdtsc` unnoticed. `jitterentropy.h` is copied
//! beside it, because a quoted `#include` looks in the including file's own
//! directory before the include path, and `OUT_DIR` comes first on that
//! path. Unset (or empty), the sources are compiled as fetched. Either way
//! the bench gets the timer's name in `JENT_TIMER`.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process;

/// The library's translation units (upstream's `src/*.c` at v3.4.1).
const SOURCES: [&str; 6] = [
    "jitterentropy-base.c",
    "jitterentropy-gcd.c",
    "jitterentropy-health.c",
    "jitterentropy-noise.c",
    "jitterentropy-sha3.c",
    "jitterentropy-timer.c",
];

/// The version this bench is written against (flags, API, labels).
const EXPECTED: &str = "3.4.1";

fn main() {
    println!("cargo:rerun-if-env-changed=JITTERENTROPY_DIR");
    println!("cargo:rerun-if-env-changed=KQSEED_JENT_CLOCK");
    let manifest =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dir = env::var_os("JITTERENTROPY_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../target/jitterentropy/jitterentropy-library-3.4.1"));
    let dir = fs::canonicalize(&dir).unwrap_or(dir);
    let src = dir.join("src");
    let headers = ["jitterentropy.h", "jitterentropy-base-user.h"].map(|h| dir.join(h));
    let files: Vec<PathBuf> = SOURCES.iter().map(|f| src.join(f)).collect();
    for path in headers.iter().chain(&files) {
        // A missing path makes cargo run this script again on every build,
        // so the fetch is picked up without a `cargo clean`.
        println!("cargo:rerun-if-changed={}", path.display());
    }
    if let Some(missing) = headers.iter().chain(&files).find(|p| !p.is_file()) {
        eprintln!(
            "error: the jitterentropy C sources are missing ({} not found).\n\
             Fetch them first, from the repository's top:\n\
             \n    scripts/fetch-jitterentropy.sh\n\n\
             or point JITTERENTROPY_DIR at a directory holding jitterentropy.h,\n\
             jitterentropy-base-user.h and src/jitterentropy-*.c of version {EXPECTED}.",
            missing.display()
        );
        process::exit(1);
    }

    let version = version(&src.join("jitterentropy-base.c"));
    if version != EXPECTED {
        println!(
            "cargo:warning=jitterentropy in {} is {version}, not {EXPECTED}: flags and labels are {EXPECTED}'s",
            dir.display()
        );
    }
    println!("cargo:rustc-env=JENT_SOURCE_VERSION={version}");
    println!("cargo:rustc-env=JENT_SOURCE_DIR={}", dir.display());

    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let timer = match env::var("KQSEED_JENT_CLOCK").as_deref() {
        Err(env::VarError::NotPresent) | Ok("") => {
            // A patched header left over from an earlier build would still
            // be found on the include path.
            for h in &headers {
                let _ = fs::remove_file(out.join(h.file_name().expect("a file name")));
            }
            upstream_timer()
        }
        Ok("monotonic-raw") => {
            let header = &headers[1];
            let text = fs::read_to_string(header).unwrap_or_default();
            let patched = monotonic_raw(&text).unwrap_or_else(|why| {
                eprintln!(
                    "error: KQSEED_JENT_CLOCK=monotonic-raw: cannot patch {}: {why}.\n\
                     The patch expects jitterentropy {EXPECTED}'s jent_get_nstime: \
                     architecture branches (rdtsc among them), then an #else branch \
                     calling clock_gettime(CLOCK_REALTIME, ...).",
                    header.display()
                );
                process::exit(1);
            });
            let note = format!(
                "/* Written by benches/jitterentropy/build.rs (KQSEED_JENT_CLOCK=monotonic-raw)\n \
                 * from {}: jent_get_nstime reads clock_gettime(CLOCK_MONOTONIC_RAW). */\n",
                header.display()
            );
            fs::write(out.join("jitterentropy-base-user.h"), note + &patched)
                .expect("write the patched header");
            fs::copy(&headers[0], out.join("jitterentropy.h")).expect("copy jitterentropy.h");
            "clock_gettime(CLOCK_MONOTONIC_RAW)"
        }
        _ => {
            let value = env::var_os("KQSEED_JENT_CLOCK").unwrap_or_default();
            eprintln!(
                "error: KQSEED_JENT_CLOCK is {value:?}: the only value is monotonic-raw \
                 (or leave it unset for the library's own timer)"
            );
            process::exit(1);
        }
    };
    println!("cargo:rustc-env=JENT_TIMER={timer}");

    cc::Build::new()
        .files(&files)
        // First, for the patched header when there is one.
        .include(&out)
        .include(&dir)
        .include(&src)
        // Required: no optimisation of the noise source. `opt_level(0)`
        // replaces the -O that cc would take from the bench profile. CFLAGS
        // from the environment come after it: one with -O1 or more stops
        // the build at the library's own `#error`, as it should.
        .opt_level(0)
        .define("JENT_CONF_ENABLE_INTERNAL_TIMER", None)
        .flag("-fwrapv")
        .flag("--param=ssp-buffer-size=4")
        .flag_if_supported("-fstack-protector-strong")
        .flag("-fvisibility=hidden")
        // The Makefile's warnings would be cargo warnings on every build of
        // a third party's code: left to the library's own CI.
        .warnings(false)
        .compile("jitterentropy");
    // The internal timer runs on a POSIX thread (the Makefile's -lpthread).
    println!("cargo:rustc-link-lib=pthread");

    if timer.starts_with("clock_gettime") {
        // The header is patched; this checks that the sources did include
        // it: only the patched time stamp calls clock_gettime.
        let archive = fs::read(out.join("libjitterentropy.a")).unwrap_or_default();
        if !archive.windows(13).any(|w| w == b"clock_gettime") {
            eprintln!(
                "error: KQSEED_JENT_CLOCK=monotonic-raw: the compiled library does not call \
                 clock_gettime, so the sources did not include the patched header in {}",
                out.display()
            );
            process::exit(1);
        }
    }
}

/// The time stamp that the unpatched `jent_get_nstime` reads (3.4.1).
fn upstream_timer() -> &'static str {
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    match (arch.as_str(), os.as_str()) {
        ("x86_64" | "x86", _) => "rdtsc",
        ("aarch64", _) => "cntvct_el0",
        ("s390x", _) => "stcke",
        (_, "macos" | "ios") => "mach_absolute_time",
        (a, _) if a.starts_with("powerpc") => "mftb",
        _ => "clock_gettime(CLOCK_REALTIME)",
    }
}

/// One preprocessor conditional: the lines of its `#if`/`#ifdef`/`#ifndef`,
/// `#elif` and `#else` directives, and of its `#endif`.
struct Conditional {
    branches: Vec<usize>,
    has_else: bool,
    end: usize,
}

/// The directive keyword of a line (`if`, `elif`, `endif`, ...), if any.
fn directive(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix('#')?.trim_start();
    let end = rest
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// `text` (jitterentropy-base-user.h) with `jent_get_nstime` on
/// `clock_gettime(CLOCK_MONOTONIC_RAW)` on every architecture; or why not.
///
/// The one `clock_gettime(CLOCK_REALTIME` call must sit in the `#else`
/// branch of each conditional around it that has more than one branch:
/// each condition ahead of that `#else` becomes `0`. One of those
/// conditionals must hold the `asm("rdtsc")` branch, and the call must belong
/// to a `jent_get_nstime` defined inside its `#else`.
fn monotonic_raw(text: &str) -> Result<String, String> {
    const CALL: &str = "clock_gettime(CLOCK_REALTIME";
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let calls: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains(CALL))
        .collect();
    let &[call] = calls.as_slice() else {
        return Err(format!("{} lines call {CALL}, not one", calls.len()));
    };

    let mut done = Vec::new();
    let mut open: Vec<Conditional> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        match directive(line) {
            Some("if" | "ifdef" | "ifndef") => open.push(Conditional {
                branches: vec![i],
                has_else: false,
                end: 0,
            }),
            Some(kind @ ("elif" | "else")) => {
                let c = open
                    .last_mut()
                    .ok_or(format!("line {}: #{kind} outside #if", i + 1))?;
                c.branches.push(i);
                c.has_else |= kind == "else";
            }
            Some("endif") => {
                let mut c = open
                    .pop()
                    .ok_or(format!("line {}: #endif outside #if", i + 1))?;
                c.end = i;
                done.push(c);
            }
            _ => {}
        }
    }
    if !open.is_empty() {
        return Err("an #if without #endif".to_owned());
    }

    let mut rdtsc_off = false;
    let mut outer_else = None;
    for c in done.iter().filter(|c| c.branches[0] < call && call < c.end) {
        if c.branches.len() == 1 {
            // No other branch (the include guard): not a choice of timer.
            continue;
        }
        let last = *c.branches.last().expect("one branch at least");
        if !(c.has_else && last < call) {
            return Err(format!(
                "the call (line {}) is not in the #else branch of the #if at line {}",
                call + 1,
                c.branches[0] + 1
            ));
        }
        for &b in &c.branches[..c.branches.len() - 1] {
            let line = &lines[b];
            if line.trim_end().ends_with('\\') {
                return Err(format!(
                    "line {}: a directive continued on the next line",
                    b + 1
                ));
            }
            // Keep the `#`'s indentation and spacing: `# ifdef X` -> `# if 0`.
            let hash = line.find('#').expect("a directive");
            let kw = hash + 1 + line[hash + 1..].len() - line[hash + 1..].trim_start().len();
            let zero = if directive(line) == Some("elif") {
                "elif 0"
            } else {
                "if 0"
            };
            lines[b] = format!("{}{zero}", &line[..kw]);
        }
        // The instruction's string in the asm statement, not a comment.
        rdtsc_off |= lines[c.branches[0]..last]
            .iter()
            .any(|l| l.contains("\"rdtsc\""));
        // The outermost such conditional comes last (closed last).
        outer_else = Some(last);
    }
    if !rdtsc_off {
        return Err("no rdtsc branch ahead of the one with the call".to_owned());
    }
    let definition = (0..call)
        .rev()
        .find(|&i| lines[i].contains("jent_get_nstime("))
        .ok_or("no jent_get_nstime before the call")?;
    if outer_else.is_none_or(|e| definition < e) {
        return Err(format!(
            "the call (line {}) is not in a jent_get_nstime of the #else branch",
            call + 1
        ));
    }
    lines[call] = lines[call].replace("CLOCK_REALTIME", "CLOCK_MONOTONIC_RAW");
    Ok(lines.join("\n") + "\n")
}

/// `MAJVERSION.MINVERSION.PATCHLEVEL` from `jitterentropy-base.c`.
fn version(base: &Path) -> String {
    let text = fs::read_to_string(base).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .filter_map(|l| l.strip_prefix("#define "))
            .find_map(|l| {
                let mut words = l.split_whitespace();
                (words.next() == Some(name)).then(|| words.next().unwrap_or("?").to_owned())
            })
            .unwrap_or_else(|| "?".to_owned())
    };
    format!(
        "{}.{}.{}",
        field("MAJVERSION"),
        field("MINVERSION"),
        field("PATCHLEVEL")
    )
}
