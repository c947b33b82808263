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

    cc::Build::new()
        .files(&files)
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
