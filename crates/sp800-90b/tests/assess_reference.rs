//! Agreement with NIST's `ea_non_iid` 1.1.7 on the reference vectors in
//! `tests/data/sp800-90b/` (see its README): every estimate on both data sets,
//! `H_original`, `H_bitstring` and the assessed value, parsed from the tool's
//! `-vv` output.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use sp800_90b::assess::{DataSet, Estimator, Report, assess};

/// Relative. NIST's self-test accepts |Δ| < 1e-6, but the tool prints 17
/// digits and these files agree to 1.52e-13 (its long double against
/// `f64`): 1e-12 here, so that a drift far inside the tool's own tolerance
/// still fails.
const TOLERANCE: f64 = 1e-12;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/sp800-90b")
}

/// What the tool printed: `(data set, estimator name, quantity) -> value`,
/// plus the summary lines under `(None, "", key)`.
struct Nist {
    values: BTreeMap<(String, String, String), f64>,
}

impl Nist {
    fn parse(name: &str) -> Nist {
        let text = fs::read_to_string(data_dir().join(format!("{name}.results.txt")))
            .expect("reference output is shipped with the tests");
        let mut values = BTreeMap::new();
        for line in text.lines() {
            if line.starts_with('#') {
                continue;
            }
            // "Literal MultiMCW Prediction Estimate: P_global' = 0.53..."
            if let Some((head, rest)) = line.split_once(" Estimate: ") {
                let Some((set, est)) = head.split_once(' ') else {
                    continue;
                };
                let Some((key, value)) = rest.split_once(" = ") else {
                    continue;
                };
                if let Ok(v) = value.trim().parse::<f64>() {
                    values.insert((set.to_string(), est.to_string(), key.to_string()), v);
                }
                continue;
            }
            for (prefix, key) in [
                ("H_original = ", "H_original"),
                ("H_bitstring = ", "H_bitstring"),
                ("Assessed min entropy: ", "assessed"),
            ] {
                if let Some(v) = line.strip_prefix(prefix) {
                    let v: f64 = v.trim().parse().expect("a number");
                    values.insert((String::new(), String::new(), key.to_string()), v);
                }
            }
        }
        Nist { values }
    }

    fn get(&self, set: &str, est: &str, key: &str) -> Option<f64> {
        self.values
            .get(&(set.to_string(), est.to_string(), key.to_string()))
            .copied()
    }
}

fn rel(ours: f64, theirs: f64) -> f64 {
    if theirs == 0.0 {
        ours.abs()
    } else {
        ((ours - theirs) / theirs).abs()
    }
}

/// Checks one reference file; returns the number of values compared.
fn check(name: &str, bits: u8) -> usize {
    let data = fs::read(data_dir().join(format!("{name}.bin"))).expect("reference input");
    let nist = Nist::parse(name);
    let report: Report = assess(&data, bits).expect("assessable");
    let mut compared = 0;
    let mut failures = Vec::new();
    for (set, label) in [
        (DataSet::Literal, "Literal"),
        (DataSet::Bitstring, "Bitstring"),
    ] {
        for est in Estimator::ALL {
            let theirs = nist.get(label, est.name(), "min entropy");
            let ours = report.get(set, est);
            match (theirs, ours) {
                (Some(t), Some(o)) => {
                    let d = rel(o.min_entropy, t);
                    println!(
                        "{name} {label} {:<22} ours {:.17} nist {:.17} rel {:.2e}",
                        est.name(),
                        o.min_entropy,
                        t,
                        d
                    );
                    if d > TOLERANCE {
                        failures.push(format!(
                            "{label} {}: ours {} nist {t}",
                            est.name(),
                            o.min_entropy
                        ));
                    }
                    compared += 1;
                }
                (Some(_), None) => {
                    failures.push(format!("{label} {}: NIST has it, we do not", est.name()))
                }
                (None, Some(o)) => failures.push(format!(
                    "{label} {}: we have {}, NIST has none",
                    est.name(),
                    o.min_entropy
                )),
                (None, None) => {}
            }
        }
    }
    for (key, ours) in [
        ("H_original", report.h_original),
        ("H_bitstring", report.h_bitstring),
        ("assessed", Some(report.assessed)),
    ] {
        let theirs = nist.get("", "", key);
        match (theirs, ours) {
            (Some(t), Some(o)) => {
                let d = rel(o, t);
                println!("{name} {key} ours {o:.17} nist {t:.17} rel {d:.2e}");
                if d > TOLERANCE {
                    failures.push(format!("{key}: ours {o} nist {t}"));
                }
                compared += 1;
            }
            (None, None) => {}
            (t, o) => failures.push(format!("{key}: ours {o:?} nist {t:?}")),
        }
    }
    assert!(failures.is_empty(), "{name}: {failures:#?}");
    compared
}

#[test]
fn uniform8_matches_ea_non_iid() {
    // 7 literal estimates (no binary-only ones), 10 bitstring, 3 summaries.
    assert_eq!(check("uniform8", 8), 20);
}

#[test]
fn biased8_matches_ea_non_iid() {
    assert_eq!(check("biased8", 8), 20);
}

#[test]
fn markov1_matches_ea_non_iid() {
    // Binary: all ten on the literal set, no bitstring; H_original, assessed.
    assert_eq!(check("markov1", 1), 12);
}
