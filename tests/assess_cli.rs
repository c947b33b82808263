//! The `kqseed assess` command end to end: its JSON against the document
//! `ea_non_iid -o` wrote for the same file, and its handling of bad input.

#![cfg(feature = "cli")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data(name: &str) -> PathBuf {
    // The reference files belong to the estimators' crate.
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("crates/sp800-90b/tests/data/sp800-90b")
        .join(name)
}

fn kqseed(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kqseed"))
        .args(args)
        .output()
        .expect("the kqseed binary runs")
}

/// `(key, value)` of every `"key" : value` line, in order.
fn pairs(json: &str) -> Vec<(String, String)> {
    json.lines()
        .filter_map(|l| {
            let (k, v) = l.trim().split_once(" : ")?;
            Some((
                k.trim_matches('"').to_string(),
                v.trim_end_matches(',').to_string(),
            ))
        })
        .collect()
}

fn check_json(name: &str, bits: &str) {
    let bin = data(&format!("{name}.bin"));
    let out = kqseed(&[
        "assess",
        bin.to_str().expect("utf-8 path"),
        "--bits",
        bits,
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = pairs(&String::from_utf8(out.stdout).expect("utf-8"));
    let reference =
        std::fs::read_to_string(data(&format!("{name}.results.json"))).expect("shipped");
    let theirs = pairs(&reference);
    let keys = |v: &[(String, String)]| v.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&ours), keys(&theirs), "same keys in the same order");
    for ((key, a), (_, b)) in ours.iter().zip(&theirs) {
        match key.as_str() {
            "commandline" | "dateTimeStamp" | "filename" => {}
            "toolVersion" => assert_eq!(a, &format!("\"kqseed {}\"", env!("CARGO_PKG_VERSION"))),
            _ => match (a.parse::<f64>(), b.parse::<f64>()) {
                // The tool writes full precision; the reference tests of
                // sp800-90b hold 1e-12 relative too.
                (Ok(x), Ok(y)) => {
                    assert!(
                        (x - y).abs() <= 1e-12 * y.abs(),
                        "{key}: ours {a}, NIST {b}"
                    )
                }
                _ => assert_eq!(a, b, "{key}"),
            },
        }
    }
}

#[test]
fn json_matches_ea_non_iid_output_8bit() {
    check_json("biased8", "8");
    check_json("uniform8", "8");
}

#[test]
fn json_matches_ea_non_iid_output_binary() {
    check_json("markov1", "1");
}

#[test]
fn table_reports_every_estimator() {
    let bin = data("markov1.bin");
    // Width inferred from the data (1 bit here), like the tool.
    let out = kqseed(&["assess", bin.to_str().expect("utf-8 path")]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    for name in [
        "Most Common Value",
        "Collision",
        "Markov",
        "Compression",
        "t-Tuple",
        "LRS",
        "MultiMCW",
        "Lag",
        "MultiMMC",
        "LZ78Y",
    ] {
        assert!(text.contains(name), "{name} missing in\n{text}");
    }
    assert!(text.contains("Assessed min-entropy: 0.223738"), "{text}");
}

fn temp_file(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("temp file");
    path.to_str().expect("utf-8 path").to_string()
}

fn fails_with(args: &[&str], message: &str) {
    let out = kqseed(args);
    assert!(!out.status.success(), "{args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(message), "{args:?}: stderr was {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = temp_file(dir.path(), "empty.bin", &[]);
    let constant = temp_file(dir.path(), "constant.bin", &[5; 10_000]);
    let wide = temp_file(dir.path(), "wide.bin", &[0, 1, 0x80, 3]);
    let short = temp_file(dir.path(), "short.bin", &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    fails_with(
        &["assess", "/nonexistent/kqseed.bin"],
        "cannot read /nonexistent/kqseed.bin",
    );
    fails_with(&["assess", &empty], "no samples");
    fails_with(&["assess", &constant, "--bits", "8"], "one symbol only");
    fails_with(
        &["assess", &wide, "--bits", "7"],
        "does not fit in 7 bit(s)",
    );
    fails_with(&["assess", &short, "--bits", "8"], "needs at least");
    fails_with(&["assess", &short, "--bits", "9"], "9");
    fails_with(
        &["assess", &short, "--estimators", "mcv,bogus"],
        "unknown estimator `bogus`",
    );
    // With --json the error is also in the tool's form on stdout.
    let out = kqseed(&["assess", &constant, "--json"]);
    assert!(!out.status.success());
    let json = String::from_utf8(out.stdout).expect("utf-8");
    assert!(json.contains("\"errorLevel\" : -1"), "{json}");
    assert!(
        json.contains("\"errorMsg\" : \"every sample is 5"),
        "{json}"
    );
}

#[test]
fn estimators_and_truncation_options() {
    let bin = data("uniform8.bin");
    let out = kqseed(&[
        "assess",
        bin.to_str().expect("utf-8 path"),
        "-e",
        "mcv,markov",
        "-t",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = String::from_utf8(out.stdout).expect("utf-8");
    let p = pairs(&json);
    // MCV on both sets, Markov on the bitstring (800,000 bits < the 1,000,000
    // that -t keeps), nothing else.
    let h: Vec<&str> = p
        .iter()
        .filter(|(k, _)| k.starts_with('h') || k.ends_with("Res"))
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        h,
        [
            "hBitstring",
            "hOriginal",
            "hBitstring",
            "hAssessed",
            "hBitstring",
            "hOriginal"
        ]
    );
}

#[test]
fn skip_short_runs_what_fits_like_the_tool() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bytes: Vec<u8> = (0..2000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 28) as u8)
        .collect();
    let file = temp_file(dir.path(), "short.bin", &bytes);
    fails_with(&["assess", &file, "--bits", "4"], "--skip-short");
    let out = kqseed(&["assess", &file, "--bits", "4", "--skip-short"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        text.contains("MultiMCW Prediction (6.3.7) needs at least 4096 symbols"),
        "{text}"
    );
    assert!(text.contains("Assessed min-entropy:"), "{text}");
}
