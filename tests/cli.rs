//! The `kqseed` command end to end: `raw`, `stream`, `report`,
//! `assess --restart`, and how every subcommand meets bad input, closed
//! pipes and non-UTF-8 paths.

#![cfg(feature = "cli")]

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn kqseed<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kqseed"))
        .args(args)
        .output()
        .expect("the kqseed binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Fails with a message of exactly one line, the given status, no panic.
fn fails_in_one_line<S: AsRef<OsStr>>(args: &[S], status: i32, message: &str) {
    let out = kqseed(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(status), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("kqseed: "), "{err}");
    assert!(err.contains(message), "{message:?} not in {err}");
}

/// SplitMix64, for reproducible files.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..n).map(|_| (splitmix(&mut state) >> 56) as u8).collect()
}

#[test]
fn raw_writes_the_samples_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let u8_file = dir.path().join("raw.bin");
    let out = kqseed(&[
        OsStr::new("raw"),
        OsStr::new("-n"),
        OsStr::new("3000"),
        OsStr::new("-o"),
        u8_file.as_os_str(),
        OsStr::new("--verbose"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let symbols = std::fs::read(&u8_file).unwrap();
    assert_eq!(symbols.len(), 3000);
    let distinct = symbols
        .iter()
        .fold([false; 256], |mut seen, &s| {
            seen[usize::from(s)] = true;
            seen
        })
        .iter()
        .filter(|&&s| s)
        .count();
    assert!(distinct > 16, "only {distinct} distinct symbols");
    let summary = stderr(&out);
    assert!(summary.contains("3000 samples in"), "{summary}");
    assert!(summary.contains("/s), resolution "), "{summary}");
    // 3000 samples hold the warm-up and a start-up window: the summary
    // says what start-up would credit them (or why it would refuse them,
    // which a badly loaded machine can cause).
    match summary.split_once("start-up credit ") {
        Some((_, rest)) => {
            let bits: f64 = rest.split(' ').next().unwrap().parse().unwrap();
            assert!(bits > 0.0 && bits <= 8.0, "{summary}");
            assert!(rest.contains("bits per sample"), "{summary}");
        }
        None => assert!(
            summary.contains("start-up would refuse them: "),
            "{summary}"
        ),
    }

    let u64_file = dir.path().join("raw.u64");
    let out = kqseed(&[
        OsStr::new("raw"),
        OsStr::new("-n"),
        OsStr::new("500"),
        OsStr::new("--format"),
        OsStr::new("u64le"),
        OsStr::new("-o"),
        u64_file.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "raw prints nothing unless asked");
    let deltas: Vec<u64> = std::fs::read(&u64_file)
        .unwrap()
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(deltas.len(), 500);
    assert!(deltas.iter().all(|&d| d > 0), "a zero delta");
}

#[test]
fn raw_restarts_write_rows_of_fresh_collectors() {
    let out = kqseed(&["raw", "--restarts", "4", "-n", "250", "--verbose"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout.len(), 1000);
    assert!(stderr(&out).contains("1000 samples in"), "{}", stderr(&out));
}

#[test]
fn configuration_errors_are_the_librarys_in_one_line() {
    fails_in_one_line(&["raw", "-n", "10", "--sockets", "65"], 2, "`num_sockets`");
    fails_in_one_line(
        &[
            "raw",
            "-n",
            "10",
            "--timers-us",
            "",
            "--sockets",
            "0",
            "--files",
            "0",
        ],
        2,
        "no event source configured",
    );
    fails_in_one_line(&["raw", "-n", "10", "--timers-us", "0"], 2, "is zero");
    fails_in_one_line(&["stream", "--timeout-ms", "0"], 2, "(set by --timeout-ms)");
    fails_in_one_line(&["report", "--credit", "9"], 2, "(set by --credit)");
    fails_in_one_line(&["raw", "-n", "10", "--credit", "-1"], 2, "--credit");
    fails_in_one_line(&["raw", "-n", "x"], 2, "invalid value 'x'");
    fails_in_one_line(&["raw", "-n", "1", "--timers-us", "5,abc"], 2, "`abc`");
    fails_in_one_line(&["raw"], 2, "--samples");
    fails_in_one_line(&["bogus"], 2, "bogus");
    fails_in_one_line(&["assess", "--restart", "f"], 2, "--h-initial");
}

#[test]
fn help_explains_each_subcommand() {
    for (sub, flag) in [
        ("raw", "--restarts"),
        ("stream", "--source"),
        ("report", "--plot"),
        ("assess", "--h-initial"),
    ] {
        let out = kqseed(&[sub, "--help"]);
        assert!(out.status.success(), "{sub}: {}", stderr(&out));
        let text = String::from_utf8(out.stdout.clone()).unwrap();
        for f in [flag, "--timers-us", "--credit"] {
            if sub == "assess" && f != flag {
                continue;
            }
            assert!(text.contains(f), "{sub} --help lacks {f}:\n{text}");
        }
    }
}

#[test]
fn help_gives_the_librarys_defaults() {
    // The help reads them from the library: it once said 2 socket pairs and
    // 2 files while 4 and 4 ran.
    let events = kqseed::KqueueEventsConfig::default();
    let cap = kqseed::SeederConfig::default().credit.cap;
    for sub in ["raw", "stream", "report"] {
        let out = kqseed(&[sub, "--help"]);
        assert!(out.status.success(), "{sub}: {}", stderr(&out));
        let text = String::from_utf8(out.stdout).unwrap();
        for want in [
            format!("Socket pairs (default {})", events.num_sockets),
            format!("Watched files (default {})", events.num_file_watchers),
            format!("milliseconds (default {})", events.timeout.as_millis()),
            format!("returns (default {})", events.max_events),
            format!("in bits (default {cap}: no cap beyond"),
        ] {
            assert!(text.contains(&want), "{sub} --help lacks {want:?}:\n{text}");
        }
    }
    let out = kqseed(&["stream", "--help"]);
    let text = String::from_utf8(out.stdout).unwrap();
    for want in [
        format!(
            "every {} MiB or {} s",
            kqseed::DEFAULT_RESEED_AFTER_BYTES >> 20,
            kqseed::DEFAULT_RESEED_AFTER.as_secs()
        ),
        format!(
            "each credited with {} bits",
            kqseed::conditioner::FULL_ENTROPY_CREDIT_BITS
        ),
    ] {
        assert!(
            text.contains(&want),
            "stream --help lacks {want:?}:\n{text}"
        );
    }
}

#[test]
fn raw_help_names_every_path_it_accepts() {
    // The list is the library's names, every path but the sums of a pass
    // (the whole pass, its thirds): the help once named no value at all.
    use kqseed::KernelPath;
    let names: Vec<&str> = KernelPath::ALL
        .into_iter()
        .filter(|&p| !p.is_pass_sum())
        .map(KernelPath::name)
        .collect();
    let want = format!("[possible values: {}]", names.join(", "));
    for help in ["--help", "-h"] {
        let out = kqseed(&["raw", help]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(&want), "raw {help} lacks {want:?}:\n{text}");
    }
}

/// Starts `kqseed ARGS` with stdout a pipe, reads `read` bytes, closes the
/// pipe, and returns the exit status and stderr.
fn close_early(args: &[&str], read: usize) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kqseed"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = vec![0u8; read];
    stdout.read_exact(&mut buf).expect("first bytes");
    drop(stdout);
    let out = child.wait_with_output().expect("wait");
    (out.status.code(), stderr(&out))
}

#[test]
fn a_closed_pipe_ends_every_subcommand_quietly() {
    for args in [
        &["stream"][..],
        &["stream", "-n", "100000000"],
        &["raw", "-n", "100000000"],
        &["raw", "-n", "1000", "--restarts", "100000"],
    ] {
        let (code, err) = close_early(args, 1);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
    }
}

#[test]
fn assess_into_a_closed_pipe_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("random.bin");
    std::fs::write(&file, random_bytes(20_000, 1)).unwrap();
    for json in [false, true] {
        // The reader is gone before anything is written.
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kqseed"));
        cmd.arg("assess")
            .arg(&file)
            .args(["--bits", "8", "-e", "mcv,lag"]);
        if json {
            cmd.arg("--json");
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "json {json}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let (code, err) = close_early(&["assess", file.to_str().unwrap(), "--bits", "8"], 1);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn stream_writes_exactly_the_bytes_asked_for() {
    let out = kqseed(&["stream", "-n", "100", "--source", "seeder"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout.len(), 100);
    assert!(out.stdout.iter().any(|&b| b != 0));
    assert!(
        stderr(&out).contains("source's own rate"),
        "{}",
        stderr(&out)
    );
    // The default source is the generator: fast, so a megabyte is nothing.
    let out = kqseed(&["stream", "-n", "1000000"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout.len(), 1_000_000);
    assert!(stderr(&out).contains("generator"), "{}", stderr(&out));
    let zeros = out.stdout.iter().filter(|&&b| b == 0).count();
    // 1e6 uniform bytes hold 3906 zeros on average (sd 62): 3200..4800 is
    // more than 11 standard deviations either side.
    assert!((3200..4800).contains(&zeros), "{zeros} zero bytes in 1 MB");
    // The generator takes the collector's configuration too.
    let out = kqseed(&["stream", "-n", "10", "--sockets", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout.len(), 10);
}

#[test]
fn n_0_is_refused_by_every_subcommand_that_takes_it() {
    // Nothing asked for is a usage error, not an empty file or stream.
    for args in [
        &["raw", "-n", "0", "-o", "/dev/null"][..],
        &["raw", "-n", "10", "--restarts", "0", "-o", "/dev/null"],
        &["stream", "-n", "0"],
        &["report", "-n", "0"],
    ] {
        let message = if args.contains(&"--restarts") {
            "--restarts must be at least 1"
        } else {
            "-n must be at least 1"
        };
        fails_in_one_line(args, 2, message);
    }
}

#[test]
fn stream_refuses_a_poor_source_in_one_line() {
    // Every source capped below the smallest credit (1/16 bit): start-up
    // finds nothing it may credit and refuses before any byte goes out.
    let out = kqseed(&[
        "stream",
        "--source",
        "seeder",
        "-n",
        "64",
        "--timers-us",
        "",
        "--sockets",
        "1",
        "--files",
        "0",
        "--credit",
        "0.05",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "bytes from a refused source");
    let err = stderr(&out);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("kqseed: stream stopped: start-up refused"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn assess_bad_files_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };
    let empty = path("empty.bin", &[]);
    fails_in_one_line(&["assess", &empty], 1, "no samples");
    // Truncated: too short for the estimators, and not whole restarts.
    let short = path("short.bin", &random_bytes(100, 2));
    fails_in_one_line(&["assess", &short, "--bits", "8"], 1, "needs at least");
    let truncated = path("restart.bin", &random_bytes(1_000_000 - 7, 3));
    fails_in_one_line(
        &["assess", "--restart", &truncated, "--h-initial", "2.5"],
        1,
        "not 1000 restarts",
    );
    // Wrong width: a byte wider than --bits, a width out of range.
    let wide = path("wide.bin", &[0, 1, 0x80, 3]);
    fails_in_one_line(
        &["assess", &wide, "--bits", "4"],
        1,
        "does not fit in 4 bit(s)",
    );
    fails_in_one_line(&["assess", &wide, "--bits", "9"], 2, "9");
    fails_in_one_line(
        &[
            "assess",
            "--restart",
            &wide,
            "--h-initial",
            "1",
            "--rows",
            "2",
            "--bits",
            "2",
        ],
        1,
        "does not fit in 2 bit(s)",
    );
    // Oversized: a sparse file beyond what the suffix sort indexes is
    // refused before it is read.
    let big = dir.path().join("big.bin");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(300_000_000)
        .unwrap();
    fails_in_one_line(
        &["assess", big.to_str().unwrap(), "--bits", "8"],
        1,
        "more than the 268435455 the estimators take",
    );
    // Unreadable: missing, a directory.
    fails_in_one_line(
        &["assess", "/nonexistent/x.bin"],
        1,
        "cannot read /nonexistent/x.bin",
    );
    fails_in_one_line(
        &["assess", dir.path().to_str().unwrap()],
        1,
        "is a directory",
    );
    fails_in_one_line(
        &[
            "assess",
            "--restart",
            "/nonexistent/r.bin",
            "--h-initial",
            "1",
        ],
        1,
        "cannot read",
    );
    // H_I out of range.
    let rows = path("rows.bin", &random_bytes(10_000, 4));
    fails_in_one_line(
        &[
            "assess",
            "--restart",
            &rows,
            "--h-initial",
            "9",
            "--rows",
            "100",
        ],
        1,
        "H_I 9",
    );
}

#[test]
fn assess_reads_standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kqseed"))
        .args(["assess", "-", "--bits", "8", "-e", "mcv"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let data = random_bytes(50_000, 5);
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(text.contains("50000 samples of 8 bit(s)"), "{text}");
}

#[test]
fn restart_test_passes_uniform_data_and_fails_a_stuck_column() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = random_bytes(1_000_000, 6);
    let good = dir.path().join("good.bin");
    std::fs::write(&good, &data).unwrap();
    let out = kqseed(&[
        OsStr::new("assess"),
        OsStr::new("--restart"),
        good.as_os_str(),
        OsStr::new("--h-initial"),
        OsStr::new("2.5"),
        OsStr::new("--bits"),
        OsStr::new("8"),
    ]);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(out.status.success(), "{text}{}", stderr(&out));
    // ea_restart's own lines and figures.
    assert!(text.contains("H_I: 2.500000"), "{text}");
    assert!(
        text.contains("ALPHA: 5.0251553006530614e-06, X_cutoff: 236"),
        "{text}"
    );
    assert!(text.contains("Validation Test Passed..."), "{text}");
    assert!(text.contains("min(H_r, H_c, H_I): 2.500000"), "{text}");

    // Every restart starts with the same symbol: column 0 is constant.
    for r in 0..1000 {
        data[r * 1000] = 0x5a;
    }
    let bad = dir.path().join("bad.bin");
    std::fs::write(&bad, &data).unwrap();
    let out = kqseed(&[
        OsStr::new("assess"),
        OsStr::new("--restart"),
        bad.as_os_str(),
        OsStr::new("--h-initial"),
        OsStr::new("2.5"),
        OsStr::new("--json"),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let json = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(json.contains("\"xMax\" : 1000"), "{json}");
    assert!(
        json.contains("\"errorMsg\" : \"Restart Sanity Check Failed.\""),
        "{json}"
    );
    assert!(
        stderr(&out).contains("restart sanity check failed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn report_gives_every_figure_and_a_plot() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("report.svg");
    let out = kqseed(&[
        OsStr::new("report"),
        OsStr::new("-n"),
        OsStr::new("20000"),
        OsStr::new("--json"),
        OsStr::new("--plot"),
        svg.as_os_str(),
    ]);
    let json = String::from_utf8(out.stdout.clone()).unwrap();
    let code = out.status.code();
    assert!(matches!(code, Some(0 | 3)), "{}", stderr(&out));
    for key in [
        "\"backend\"",
        "\"clock\"",
        "\"effective_resolution_nanos\"",
        "\"startup_credit_bits_per_sample\"",
        "\"interleaved_samples\"",
        "\"samples_per_second\"",
        "\"socket_read\"",
        "\"assessed_bits_per_sample\"",
        "\"max_apt_count\"",
        "\"startup\"",
        "\"band_99\"",
        "\"paths\"",
        "\"lowest_bits_per_sample\"",
        "\"strongest_lag\"",
    ] {
        assert!(json.contains(key), "{key} missing:\n{json}");
    }
    // The credit rate is the sample rate at the start-up credits.
    let top_level = |key: &str| -> f64 {
        let tag = format!("\n   \"{key}\" : ");
        let at = json
            .find(&tag)
            .unwrap_or_else(|| panic!("{key} missing:\n{json}"))
            + tag.len();
        let end = json[at..].find([',', '\n']).map_or(json.len(), |e| at + e);
        json[at..end]
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{key}: {e}"))
    };
    let rate = top_level("credited_bits_per_second");
    let expected = top_level("samples_per_second") * top_level("startup_credit_bits_per_sample");
    assert!(rate > 0.0, "{json}");
    assert!(
        (rate - expected).abs() <= 1e-9 * expected,
        "{rate} against {expected}"
    );
    // Every source has its own credit beside its own figure.
    let per_path_credits = json.matches("\"startup_credit_bits_per_sample\" :").count();
    assert!(per_path_credits >= 4, "{json}");
    // Per-path sampling (the default): every path of the pass is assessed
    // on its own stream.
    for path in ["wait", "socket-drain", "socket-poke", "file-touch"] {
        let entry = format!("\"path\" : \"{path}\"");
        assert!(json.contains(&entry), "{entry} missing:\n{json}");
    }
    // All ten estimators are listed.
    assert_eq!(json.matches("\"estimator\" :").count(), 10, "{json}");
    let verdict_ok = json.contains("\"verdict\" : \"ok\"");
    assert_eq!(
        verdict_ok,
        code == Some(0),
        "exit status and verdict disagree"
    );
    let drawing = std::fs::read_to_string(&svg).unwrap();
    assert!(drawing.contains("<svg"), "not an SVG");
    for caption in [
        "Raw deltas",
        "8-bit symbols",
        "Autocorrelation",
        "2 x its credit",
        "verdict",
    ] {
        assert!(drawing.contains(caption), "{caption} missing in the plot");
    }
}

#[test]
fn non_utf8_paths_work() {
    let dir = tempfile::tempdir().unwrap();
    let name = |stem: &[u8]| dir.path().join(OsStr::from_bytes(stem));
    let raw = name(b"raw-\xff\xfe.bin");
    let out = kqseed(&[
        OsStr::new("raw"),
        OsStr::new("-n"),
        OsStr::new("5000"),
        OsStr::new("-o"),
        raw.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(&raw).unwrap().len(), 5000);
    for json in [false, true] {
        let mut args = vec![
            OsStr::new("assess"),
            raw.as_os_str(),
            OsStr::new("--bits"),
            OsStr::new("8"),
            OsStr::new("--skip-short"),
        ];
        if json {
            args.push(OsStr::new("--json"));
        }
        let out = kqseed(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = String::from_utf8(out.stdout.clone()).unwrap();
        assert!(text.contains("raw-\u{fffd}\u{fffd}.bin"), "{text}");
    }
    let missing: &Path = &name(b"missing-\xff");
    fails_in_one_line(
        &[OsStr::new("assess"), missing.as_os_str()],
        1,
        "cannot read",
    );
}

#[test]
fn raw_labels_each_sample_with_its_path_and_filters_one_path() {
    let dir = tempfile::tempdir().unwrap();
    let (samples, labels) = (dir.path().join("s.bin"), dir.path().join("l.bin"));
    let out = kqseed(&[
        OsStr::new("raw"),
        OsStr::new("-n"),
        OsStr::new("3000"),
        OsStr::new("--sampling"),
        OsStr::new("per-path"),
        OsStr::new("-o"),
        samples.as_os_str(),
        OsStr::new("--path-labels"),
        labels.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let labels = std::fs::read(&labels).unwrap();
    assert_eq!(labels.len(), 3000);
    assert_eq!(std::fs::read(&samples).unwrap().len(), 3000);
    // Paths 0..=5 only (6 is a whole pass, never a per-path sample), and
    // the wait, a socket poke and a file touch in every pass.
    assert!(labels.iter().all(|&l| l <= 5), "{labels:?}");
    for path in [0u8, 4, 5] {
        assert!(labels.contains(&path), "no label {path}");
    }
    // One path's own stream: u64le, so the deltas can be looked at.
    let out = kqseed(&[
        "raw",
        "-n",
        "200",
        "--sampling",
        "per-path",
        "--path",
        "socket-poke",
        "--format",
        "u64le",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout.len(), 200 * 8);
    fails_in_one_line(
        &[
            "raw",
            "-n",
            "10",
            "--sampling",
            "per-wakeup",
            "--path",
            "socket-poke",
        ],
        2,
        "--sampling per-path",
    );
    fails_in_one_line(
        &[
            "raw",
            "-n",
            "10",
            "--sampling",
            "per-path",
            "--path",
            "nowhere",
        ],
        2,
        "socket-poke",
    );
    fails_in_one_line(
        &[
            "raw",
            "-n",
            "10",
            "--sampling",
            "per-path",
            "--files",
            "0",
            "--path",
            "file-touch",
        ],
        2,
        "does not run that path",
    );
}
