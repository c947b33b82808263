//! `kqseed assess --restart FILE --h-initial H`: the SP 800-90B section
//! 3.1.4 restart tests, printing the figures `ea_restart FILE BITS H` prints
//! (and, with `--json`, the document its `-o` writes, with the sanity
//! check's figures added).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use kqseed::assess::restart::{RestartReport, restart_test};
use kqseed::assess::{AssessOptions, Estimator};
use sha2::{Digest, Sha256};

use crate::assess::{description, hex, inferred_width, read_samples, spinner};
use crate::json::{Json, number};
use crate::out::{self, CliResult, Failure};

/// What `assess --restart` was asked.
pub struct Request<'a> {
    /// The restart file.
    pub path: &'a Path,
    /// `H_I`.
    pub h_initial: f64,
    /// Restarts (rows) in the file.
    pub rows: usize,
    /// Bits per sample (default: inferred, as `ea_restart` does).
    pub bits: Option<u8>,
    /// The estimators to run on rows and columns.
    pub estimators: Vec<Estimator>,
    /// Print the JSON document instead of text.
    pub json: bool,
}

/// Runs the restart tests and prints their figures; a failed sanity check
/// or validation is exit status 3.
pub fn run(req: &Request<'_>) -> CliResult {
    let data = read_samples(req.path, kqseed::assess::tuple::TUPLE_MAX_LEN as u64)?;
    let sha256 = hex(&Sha256::digest(&data));
    let bits = req.bits.unwrap_or_else(|| inferred_width(&data));
    let options = AssessOptions::default().with_estimators(req.estimators.clone());
    let progress = spinner();
    let result = restart_test(
        &data,
        bits,
        req.rows,
        req.h_initial,
        &options,
        &mut |set, e| {
            if let Some(bar) = &progress {
                bar.set_message(format!("{set} {e}"));
            }
        },
    );
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let report = result.map_err(|e| Failure::Failed(e.to_string()))?;
    let file = req.path.display().to_string();
    if req.json {
        out::print(&json(&file, &sha256, &report, &req.estimators))?;
    } else {
        out::print(&text(&file, &sha256, &report))?;
    }
    if !report.sanity_passed {
        return Err(Failure::Check(format!(
            "restart sanity check failed: X_max {} is above the cutoff {} for H_I = {}",
            report.x_max(),
            report.x_cutoff(),
            report.h_initial
        )));
    }
    if !report.validation_passed() {
        return Err(Failure::Check(format!(
            "restart validation failed: min(H_r, H_c) = {:.6} is below H_I/2 = {:.6}",
            report.h_r().unwrap_or(0.0).min(report.h_c().unwrap_or(0.0)),
            report.h_initial / 2.0
        )));
    }
    Ok(())
}

/// The estimates of one estimator on rows and columns, if it ran.
fn pair(r: &RestartReport, e: Estimator) -> (Option<f64>, Option<f64>) {
    let get = |rep: &Option<kqseed::assess::Report>| {
        rep.as_ref()
            .and_then(|rep| rep.literal.iter().find(|x| x.estimator == e))
            .map(|x| x.min_entropy)
    };
    (get(&r.row_report), get(&r.col_report))
}

/// The text, with `ea_restart`'s own lines (`H_I:`, `ALPHA: ..., X_cutoff:`,
/// `X_max:`, `H_r:`, `H_c:`, `min(H_r, H_c, H_I):`) among it.
fn text(file: &str, sha256: &str, r: &RestartReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "File: {file} (SHA-256 {sha256})");
    let _ = writeln!(
        out,
        "{} restarts of {} samples of {} bit(s), {} distinct values",
        r.rows, r.cols, r.bits, r.distinct
    );
    if (r.rows, r.cols)
        != (
            kqseed::assess::restart::RESTARTS,
            kqseed::assess::restart::SAMPLES_PER_RESTART,
        )
    {
        let _ = writeln!(
            out,
            "Warning: SP 800-90B 3.1.4 asks for {} restarts of {} samples",
            kqseed::assess::restart::RESTARTS,
            kqseed::assess::restart::SAMPLES_PER_RESTART
        );
    }
    let _ = writeln!(out, "H_I: {:.6}", r.h_initial);
    let _ = writeln!(
        out,
        "ALPHA: {}, X_cutoff: {}",
        number(r.alpha),
        r.x_cutoff()
    );
    let _ = writeln!(out, "X_max: {}", r.x_max());
    let _ = writeln!(
        out,
        "  (largest count in a row {}, in a column {}; cutoff computed exactly, where ea_restart simulates; the one-symbol binomial bound of the standard's text is {})",
        r.row_max, r.col_max, r.binomial_row_cutoff
    );
    if !r.sanity_passed {
        out.push_str("\n*** Restart Sanity Check Failed ***\n");
        return out;
    }
    out.push_str("Restart Sanity Check Passed...\n\n");
    let _ = writeln!(
        out,
        "{:<22} {:<7} {:>17} {:>17}",
        "Estimator", "Section", "Rows (/sample)", "Columns (/sample)"
    );
    for e in Estimator::ALL {
        let (row, col) = pair(r, e);
        if row.is_none() && col.is_none() {
            continue;
        }
        let cell = |x: Option<f64>| x.map_or_else(|| "-".to_string(), |x| format!("{x:.6}"));
        let name = e.name().trim_end_matches(" Prediction");
        let _ = writeln!(
            out,
            "{name:<22} {:<7} {:>17} {:>17}",
            e.section(),
            cell(row),
            cell(col)
        );
    }
    for (set, rep) in [("rows", &r.row_report), ("columns", &r.col_report)] {
        for s in rep.iter().flat_map(|rep| &rep.skipped) {
            let _ = writeln!(out, "({set}: {})", s.reason);
        }
    }
    let (h_r, h_c) = (r.h_r().unwrap_or(0.0), r.h_c().unwrap_or(0.0));
    let _ = writeln!(
        out,
        "\nH_r: {h_r:.6}\nH_c: {h_c:.6}\nH_I: {:.6}\n",
        r.h_initial
    );
    match r.validated() {
        Some(v) => {
            let _ = writeln!(
                out,
                "Validation Test Passed...\n\nmin(H_r, H_c, H_I): {v:.6}"
            );
        }
        None => out.push_str("*** min(H_r, H_c) < H_I/2, Validation Testing Failed ***\n"),
    }
    out
}

/// `ea_restart -o`'s document (type "Restart"), plus `alpha`, `xCutoff` and
/// `xMax`, which the tool prints but does not store.
fn json(file: &str, sha256: &str, r: &RestartReport, chosen: &[Estimator]) -> String {
    let mut run = crate::assess::run_header(file, sha256, "Restart");
    run.insert("alpha", Json::Num(r.alpha));
    run.insert("xCutoff", Json::Int(i64::from(r.x_cutoff())));
    run.insert("xMax", Json::Int(i64::from(r.x_max())));
    let mut cases = Vec::new();
    if r.sanity_passed {
        let binary = r.distinct == 2;
        for e in Estimator::ALL {
            if e.binary_only() && !binary {
                continue;
            }
            // The tool lists every estimator it runs, estimate or not.
            if !chosen.contains(&e) {
                continue;
            }
            let mut case = BTreeMap::new();
            case.insert("testCaseDesc", Json::Str(description(e).to_string()));
            let width = if e.binary_only() {
                1.0
            } else {
                f64::from(r.bits)
            };
            case.insert("dataWordSize", Json::Num(width));
            let (row, col) = pair(r, e);
            if let Some(h) = row {
                case.insert("h_r", Json::Num(h));
            }
            if let Some(h) = col {
                case.insert("h_c", Json::Num(h));
            }
            cases.push(Json::Obj(case));
        }
    }
    match (r.sanity_passed, r.validation_passed()) {
        (false, _) => {
            run.insert("errorLevel", Json::Int(-1));
            run.insert("errorMsg", Json::Str("Restart Sanity Check Failed.".into()));
        }
        (true, false) => {
            run.insert("errorLevel", Json::Int(-1));
            run.insert(
                "errorMsg",
                Json::Str("min(H_r, H_c) < H_I/2, Validation Testing Failed.".into()),
            );
        }
        (true, true) => {
            run.insert("errorLevel", Json::Int(0));
            let mut overall = BTreeMap::new();
            overall.insert("testCaseDesc", Json::Str("Overall".to_string()));
            if let (Some(h_r), Some(h_c)) = (r.h_r(), r.h_c()) {
                overall.insert("h_r", Json::Num(h_r));
                overall.insert("h_c", Json::Num(h_c));
            }
            overall.insert("h_i", Json::Num(r.h_initial));
            cases.push(Json::Obj(overall));
        }
    }
    run.insert("testCases", Json::Arr(cases));
    let mut out = String::new();
    Json::Obj(run).write(&mut out, 0);
    out.push('\n');
    out
}
