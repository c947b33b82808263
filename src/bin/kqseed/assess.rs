//! `kqseed assess FILE`: the SP 800-90B section 6.3 estimators on a file of
//! samples, one per byte (the input format of NIST's `ea_non_iid`); with
//! `--restart FILE --h-initial H`, the section 3.1.4 restart tests
//! (`ea_restart`'s input and figures, see `restart.rs`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressStyle};
use kqseed::assess::{
    AssessError, AssessOptions, DataSet, Estimator, Report, assess_with_progress,
};
use sha2::{Digest, Sha256};

use crate::json::Json;
use crate::out::{self, CliResult, Failure};

/// The bitstring length `ea_non_iid -t` keeps.
const TRUNCATED_BITS: usize = 1_000_000;
/// Fewer samples than this draw the tool's warning (SP 800-90B 3.1.3 asks
/// for at least a million).
const RECOMMENDED_SAMPLES: usize = 1_000_000;

/// Arguments of `kqseed assess`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// File of samples, one per byte; the low BITS bits of each byte are the
    /// symbol. `-` reads standard input.
    #[arg(required_unless_present = "restart", conflicts_with = "restart")]
    file: Option<PathBuf>,
    /// Run the SP 800-90B 3.1.4 restart tests on FILE instead, as
    /// `ea_restart FILE BITS H` does: FILE holds the restarts row after row
    /// (`kqseed raw --restarts 1000 -n 1000`).
    #[arg(long, value_name = "FILE", requires = "h_initial")]
    restart: Option<PathBuf>,
    /// The initial entropy estimate H_I the restart tests check, bits per
    /// sample (with --restart).
    #[arg(
        long,
        value_name = "H",
        requires = "restart",
        allow_hyphen_values = true
    )]
    h_initial: Option<f64>,
    /// Restarts (rows) in the --restart file; the samples per restart follow
    /// from its length. SP 800-90B asks for 1000 x 1000.
    #[arg(long, value_name = "R", default_value_t = kqseed::assess::restart::RESTARTS, requires = "restart")]
    rows: usize,
    /// Bits per symbol, 1 to 8. Default: the position of the highest bit set
    /// in any sample, as ea_non_iid infers it.
    #[arg(long, short = 'b', value_parser = clap::value_parser!(u8).range(1..=8))]
    bits: Option<u8>,
    /// Print ea_non_iid's JSON (the schema of its -o output) instead of a
    /// table.
    #[arg(long)]
    json: bool,
    /// Comma-separated estimators to run (default all): mcv, collision,
    /// markov, compression, t-tuple, lrs, multi-mcw, lag, multi-mmc, lz78y.
    #[arg(long, short = 'e', value_delimiter = ',', value_parser = parse_estimator)]
    estimators: Option<Vec<Estimator>>,
    /// Assess only the first 1,000,000 bits of the bitstring, like
    /// ea_non_iid -t (default: all bits, like -a).
    #[arg(long, short = 't')]
    truncate: bool,
    /// Skip estimators that need more samples than the file has (as
    /// ea_non_iid does silently) instead of failing.
    #[arg(long)]
    skip_short: bool,
    /// Threads running the estimators (default: the machine's cores, one
    /// below 65,536 symbols); the result is the same for any count.
    #[arg(long, value_name = "N")]
    threads: Option<std::num::NonZeroUsize>,
}

fn parse_estimator(s: &str) -> Result<Estimator, String> {
    Estimator::from_key(s).ok_or_else(|| {
        let keys: Vec<&str> = Estimator::ALL.iter().map(|e| e.key()).collect();
        format!(
            "unknown estimator `{s}`; expected one of {}",
            keys.join(", ")
        )
    })
}

/// The most samples a file may hold: what the t-Tuple and LRS suffix sort
/// indexes, on the bitstring (8 bits a sample) unless only its first
/// million bits are kept or the data is one bit wide. Bigger files are
/// refused before they are read.
fn max_samples(truncate: bool, bits: Option<u8>) -> u64 {
    let max = kqseed::assess::tuple::TUPLE_MAX_LEN as u64;
    if truncate || bits == Some(1) {
        max
    } else {
        max / 8
    }
}

/// Reads a file of samples (or standard input for `-`), refusing what the
/// estimators could not take; every error is one line naming the file.
pub fn read_samples(path: &Path, max: u64) -> Result<Vec<u8>, Failure> {
    let name = path.display();
    let too_big = |len: u64| {
        Failure::Failed(format!(
            "{name} holds {len} samples, more than the {max} the estimators take"
        ))
    };
    let mut data = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(max + 1)
            .read_to_end(&mut data)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
    } else {
        let file = std::fs::File::open(path).map_err(|e| format!("cannot read {name}: {e}"))?;
        let meta = file
            .metadata()
            .map_err(|e| format!("cannot read {name}: {e}"))?;
        if meta.is_dir() {
            return Err(format!("cannot read {name}: it is a directory").into());
        }
        if meta.len() > max {
            return Err(too_big(meta.len()));
        }
        (&file)
            .take(max + 1)
            .read_to_end(&mut data)
            .map_err(|e| format!("cannot read {name}: {e}"))?;
    }
    if data.len() as u64 > max {
        return Err(too_big(data.len() as u64));
    }
    Ok(data)
}

/// A spinner on stderr naming the estimator at work, when stderr is a
/// terminal.
pub fn spinner() -> Option<ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    })
}

/// The estimators asked for with `--estimators` (default all).
fn chosen(args: &Args) -> Vec<Estimator> {
    args.estimators
        .clone()
        .unwrap_or_else(|| Estimator::ALL.to_vec())
}

/// Runs `kqseed assess`.
pub fn run(args: &Args) -> CliResult {
    if let Some(path) = &args.restart {
        let h_initial = args
            .h_initial
            .ok_or_else(|| Failure::Usage("--restart needs --h-initial".into()))?;
        return crate::restart::run(&crate::restart::Request {
            path,
            h_initial,
            rows: args.rows,
            bits: args.bits,
            estimators: chosen(args),
            json: args.json,
        });
    }
    let Some(path) = &args.file else {
        return Err(Failure::Usage(
            "give a FILE to assess, or --restart FILE".into(),
        ));
    };
    let data = read_samples(path, max_samples(args.truncate, args.bits))?;
    let sha256 = hex(&Sha256::digest(&data));
    let bits = args.bits.unwrap_or_else(|| inferred_width(&data));
    if !data.is_empty() && inferred_width(&data) < bits {
        // As ea_non_iid warns: the samples may have been recorded narrower.
        out::note(format_args!(
            "warning: symbols appear narrower than {bits} bits"
        ));
    }
    let options = AssessOptions::default()
        .with_estimators(chosen(args))
        .with_bitstring_limit(args.truncate.then_some(TRUNCATED_BITS))
        .with_skip_too_short(args.skip_short)
        .with_threads(args.threads);

    let progress = spinner();
    let result = assess_with_progress(&data, bits, &options, &mut |set, est| {
        if let Some(bar) = &progress {
            bar.set_message(format!("{set} {est}"));
        }
    });
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }

    let file_name = path.display().to_string();
    match result {
        Ok(report) => {
            if args.json {
                out::print(&json(&file_name, &sha256, Ok(&report)))
            } else {
                out::print(&table(&file_name, &sha256, &report))
            }
        }
        Err(e) => {
            if args.json {
                out::print(&json(&file_name, &sha256, Err(&e)))?;
            }
            Err(advice(e).into())
        }
    }
}

/// The error message, with what to do about it where that is clear.
fn advice(e: AssessError) -> String {
    match &e {
        AssessError::TooFewSamples { estimator, .. } => format!(
            "{e}; \
             hint: record more samples, leave it out with --estimators (its key is `{}`), \
             or pass --skip-short to skip such estimators as ea_non_iid does",
            estimator.key()
        ),
        AssessError::SymbolTooWide { .. } => format!("{e} (check --bits)"),
        _ => e.to_string(),
    }
}

/// The symbol width `ea_non_iid` infers: the highest bit set in any sample
/// (at least 1).
pub fn inferred_width(data: &[u8]) -> u8 {
    let all = data.iter().fold(0u8, |acc, &b| acc | b);
    (8 - all.leading_zeros() as u8).max(1)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The human-readable table.
fn table(file: &str, sha256: &str, r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "File: {file} (SHA-256 {sha256})");
    let _ = write!(
        out,
        "{} samples of {} bit(s), {} distinct values",
        r.samples, r.bits, r.distinct
    );
    if r.bitstring_len > 0 {
        let _ = write!(out, "; bitstring of {} bits (MSB first)", r.bitstring_len);
    }
    out.push('\n');
    if r.samples < RECOMMENDED_SAMPLES {
        let _ = writeln!(
            out,
            "Warning: fewer than {RECOMMENDED_SAMPLES} samples (SP 800-90B asks for at least that many)"
        );
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "{:<22} {:<7} {:>17} {:>17}",
        "Estimator", "Section", "Literal (/sample)", "Bitstring (/bit)"
    );
    let cell = |set: DataSet, e: Estimator| {
        r.get(set, e)
            .map_or_else(|| "-".to_string(), |x| format!("{:.6}", x.min_entropy))
    };
    for e in Estimator::ALL {
        let lit = cell(DataSet::Literal, e);
        let bit = cell(DataSet::Bitstring, e);
        if lit == "-" && bit == "-" {
            continue;
        }
        let name = e.name().trim_end_matches(" Prediction");
        let _ = writeln!(out, "{name:<22} {:<7} {lit:>17} {bit:>17}", e.section());
    }
    for s in &r.skipped {
        let _ = writeln!(out, "({} data set: {})", s.data_set, s.reason);
    }
    out.push('\n');
    if let Some(h) = r.h_original {
        let _ = writeln!(out, "H_original:  {h:.6} bits per sample");
    }
    if let Some(h) = r.h_bitstring {
        let _ = writeln!(
            out,
            "H_bitstring: {h:.6} bits per bit ({:.6} per sample)",
            h * f64::from(r.bits)
        );
    }
    let _ = writeln!(
        out,
        "Assessed min-entropy: {:.6} bits per sample",
        r.assessed
    );
    out
}

/// The `testCaseDesc` names of `ea_non_iid`, per estimator.
pub fn description(e: Estimator) -> &'static str {
    match e {
        Estimator::Mcv => "Most Common Value",
        Estimator::Collision => "Collision Test (for bit strings only)",
        Estimator::Markov => "Markov Test (for bit strings only)",
        Estimator::Compression => "Compression Test (for bit strings only)",
        Estimator::TTuple => "T-Tuple Test",
        Estimator::Lrs => "LRS Test",
        Estimator::MultiMcw => "Multi Most Common in Window Test",
        Estimator::Lag => "Lag Prediction Test",
        Estimator::MultiMmc => "Multi Markov Model with Counting Test (MultiMMC)",
        Estimator::Lz78y => "LZ78Y Test",
    }
}

/// The fields every NIST-tool document starts with; `kind` is its "type".
pub fn run_header(file: &str, sha256: &str, kind: &str) -> BTreeMap<&'static str, Json> {
    let mut run = BTreeMap::new();
    run.insert("IID", Json::Bool(false));
    run.insert("commandline", Json::Str(command_line()));
    run.insert("dateTimeStamp", Json::Str(timestamp(SystemTime::now())));
    run.insert("filename", Json::Str(file.to_string()));
    run.insert("sha256", Json::Str(sha256.to_string()));
    run.insert(
        "toolVersion",
        Json::Str(format!("kqseed {}", env!("CARGO_PKG_VERSION"))),
    );
    run.insert("type", Json::Str(kind.to_string()));
    run
}

/// The document `ea_non_iid -o` writes, for a report or an error.
fn json(file: &str, sha256: &str, result: Result<&Report, &AssessError>) -> String {
    let mut run = run_header(file, sha256, "");
    match result {
        Err(e) => {
            run.insert("errorLevel", Json::Int(-1));
            run.insert("errorMsg", Json::Str(e.to_string()));
        }
        Ok(r) => {
            run.insert("errorLevel", Json::Int(0));
            run.insert("testCases", Json::Arr(test_cases(r)));
        }
    }
    let mut out = String::new();
    Json::Obj(run).write(&mut out, 0);
    out.push('\n');
    out
}

/// One test case per estimator, in the tool's order and with its keys, then
/// "Overall".
fn test_cases(r: &Report) -> Vec<Json> {
    let mut cases = Vec::new();
    for e in Estimator::ALL {
        let mut case = BTreeMap::new();
        case.insert("testCaseDesc", Json::Str(description(e).to_string()));
        let lit = r.get(DataSet::Literal, e).map(|x| x.min_entropy);
        let bit = r.get(DataSet::Bitstring, e).map(|x| x.min_entropy);
        let (lit_key, bit_key) = match e {
            Estimator::TTuple => ("tTupleRes", "binTTupleRes"),
            Estimator::Lrs => ("lrsRes", "binLrsRes"),
            _ => ("hOriginal", "hBitstring"),
        };
        if let Some(h) = lit {
            case.insert(lit_key, Json::Num(h));
        }
        if let Some(h) = bit {
            case.insert(bit_key, Json::Num(h));
        }
        // The tool stores the literal run's values (the bitstring's when
        // only the bitstring ran).
        if e == Estimator::Mcv
            && let Some(d) = r.mcv_literal.or(r.mcv_bitstring)
        {
            case.insert("mcvEstimateMode", Json::Num(d.mode_count as f64));
            case.insert("mcvEstimatePHat", Json::Num(d.p_hat));
            case.insert("mcvEstimatePU", Json::Num(d.p_u));
        }
        cases.push(Json::Obj(case));
    }
    let mut overall = BTreeMap::new();
    overall.insert("testCaseDesc", Json::Str("Overall".to_string()));
    overall.insert("dataWordSize", Json::Num(f64::from(r.bits)));
    overall.insert("hAssessed", Json::Num(r.assessed));
    if let Some(h) = r.h_original {
        overall.insert("hOriginal", Json::Num(h));
    }
    if let Some(h) = r.h_bitstring {
        overall.insert("hBitstring", Json::Num(h));
    }
    cases.push(Json::Obj(overall));
    cases
}

/// The command line as typed, non-UTF-8 arguments shown lossily.
pub fn command_line() -> String {
    let words: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    words.join(" ")
}

/// `YYYYMMDDhhmmss` in UTC (the tool uses local time; UTC is unambiguous).
pub fn timestamp(now: SystemTime) -> String {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_civil_utc() {
        let t = UNIX_EPOCH + Duration::from_secs(1_796_000_000);
        assert_eq!(timestamp(t), "20261130005320");
        assert_eq!(timestamp(UNIX_EPOCH), "19700101000000");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

        /// The reader gives back exactly the file's bytes, or (past the
        /// limit) a one-line error naming the file; never a panic.
        #[test]
        fn the_sample_reader_round_trips_or_refuses(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
            max in 0u64..2048,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("samples.bin");
            std::fs::write(&path, &bytes).unwrap();
            match read_samples(&path, max) {
                Ok(data) => {
                    proptest::prop_assert!(bytes.len() as u64 <= max);
                    proptest::prop_assert_eq!(data, bytes);
                }
                Err(Failure::Failed(m)) => {
                    proptest::prop_assert!(bytes.len() as u64 > max);
                    proptest::prop_assert!(!m.contains('\n'));
                    proptest::prop_assert!(m.contains("samples.bin"), "{}", m);
                }
                Err(other) => proptest::prop_assert!(false, "unexpected {:?}", other),
            }
        }

        /// Any bytes, any width: the assessment behind `assess` reports or
        /// refuses in one line, never panics (a short run of estimators,
        /// skipping those the data is too short for).
        #[test]
        fn any_file_assesses_or_explains(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            bits in 0u8..10,
        ) {
            let options = AssessOptions::default()
                .with_estimators([Estimator::Mcv, Estimator::Collision, Estimator::Markov, Estimator::Lag])
                .with_skip_too_short(true);
            match assess_with_progress(&bytes, bits, &options, &mut |_, _| {}) {
                Ok(report) => {
                    proptest::prop_assert!(report.assessed >= 0.0 && report.assessed <= f64::from(bits));
                    let text = table("f", "0", &report);
                    proptest::prop_assert!(text.contains("Assessed min-entropy"));
                }
                Err(e) => proptest::prop_assert!(!advice(e).is_empty()),
            }
        }
    }

    #[test]
    fn missing_and_directory_paths_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let Err(Failure::Failed(m)) = read_samples(dir.path(), 10) else {
            panic!("a directory was read");
        };
        assert!(m.contains("is a directory"), "{m}");
        let Err(Failure::Failed(m)) = read_samples(&dir.path().join("none"), 10) else {
            panic!("a missing file was read");
        };
        assert!(m.starts_with("cannot read"), "{m}");
    }

    #[test]
    fn width_is_inferred_from_the_highest_bit() {
        assert_eq!(inferred_width(&[0, 1, 0]), 1);
        assert_eq!(inferred_width(&[0, 0]), 1);
        assert_eq!(inferred_width(&[3, 9]), 4);
        assert_eq!(inferred_width(&[0x80]), 8);
    }
}
