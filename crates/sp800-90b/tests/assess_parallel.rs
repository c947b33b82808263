//! Issue 12: the estimators run on several threads with the same results,
//! bit for bit, as on one; errors and skips come out the same too.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use sp800_90b::assess::{AssessOptions, DataSet, Estimator, assess_with, assess_with_progress};

fn reference(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sp800-90b")
        .join(format!("{name}.bin"));
    std::fs::read(path).expect("reference input")
}

/// SplitMix64 symbols in `0..k`.
fn random(seed: u64, n: usize, k: u64) -> Vec<u8> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) % k) as u8
        })
        .collect()
}

fn with_threads(options: &AssessOptions, threads: usize) -> AssessOptions {
    options.clone().with_threads(NonZeroUsize::new(threads))
}

/// Runs `options` on one thread and on 2, 3 and 16, and demands identical
/// outcomes: `==` on the reports and errors, and the same `{:?}` text,
/// which spells every f64 out to the last bit.
fn same_everywhere(data: &[u8], bits: u8, options: &AssessOptions) {
    let one = assess_with(data, bits, &with_threads(options, 1));
    for threads in [2, 3, 16] {
        let many = assess_with(data, bits, &with_threads(options, threads));
        assert_eq!(one, many, "{threads} threads");
        assert_eq!(format!("{one:?}"), format!("{many:?}"), "{threads} threads");
        if let (Ok(a), Ok(b)) = (&one, &many) {
            for (x, y) in a
                .literal
                .iter()
                .chain(&a.bitstring)
                .zip(b.literal.iter().chain(&b.bitstring))
            {
                assert_eq!(x.min_entropy.to_bits(), y.min_entropy.to_bits());
                assert_eq!(x.p_max.to_bits(), y.p_max.to_bits());
            }
        }
    }
}

#[test]
fn reference_files_give_the_same_report_on_any_number_of_threads() {
    let defaults = AssessOptions::default();
    same_everywhere(&reference("uniform8"), 8, &defaults);
    same_everywhere(&reference("biased8"), 8, &defaults);
    same_everywhere(&reference("markov1"), 1, &defaults);
    let truncated = AssessOptions::default().with_bitstring_limit(Some(100_001));
    same_everywhere(&reference("biased8"), 8, &truncated);
}

#[test]
fn other_inputs_and_options_give_the_same_outcome() {
    let four_bit = random(7, 30_000, 16);
    let skewed: Vec<u8> = random(8, 20_000, 4)
        .iter()
        .map(|&s| if s == 3 { 0 } else { s })
        .collect();
    let defaults = AssessOptions::default();
    let subsets = [
        vec![Estimator::Lrs, Estimator::Lag],
        vec![Estimator::TTuple],
        vec![
            Estimator::Compression,
            Estimator::Markov,
            Estimator::MultiMmc,
        ],
    ];
    for data in [&four_bit, &skewed] {
        same_everywhere(data, 4, &defaults);
        for estimators in &subsets {
            let options = AssessOptions::default().with_estimators(estimators.clone());
            same_everywhere(data, 4, &options);
        }
        let literal_only = AssessOptions::default().with_bitstring(false);
        same_everywhere(data, 4, &literal_only);
        let bitstring_only = AssessOptions::default().with_literal(false);
        same_everywhere(data, 4, &bitstring_only);
    }
    // Too short for some: the same first error, or the same skips.
    let short = random(9, 1000, 16);
    assert!(assess_with(&short, 4, &defaults).is_err());
    same_everywhere(&short, 4, &defaults);
    let skip = AssessOptions::default().with_skip_too_short(true);
    same_everywhere(&short, 4, &skip);
    // Nothing to estimate at all: the same error.
    let distinct: Vec<u8> = (0..=255).collect();
    same_everywhere(
        &distinct,
        8,
        &AssessOptions::default()
            .with_estimators([Estimator::TTuple, Estimator::Lrs])
            .with_bitstring(false),
    );
}

/// With several threads, progress still comes on the caller's thread, once
/// for every estimator and data set, the same calls as on one thread.
#[test]
fn progress_reports_every_estimator_once_on_any_number_of_threads() {
    let data = random(10, 100_000, 256);
    let calls = |threads: usize| {
        let caller = std::thread::current().id();
        let mut calls: Vec<(DataSet, Estimator)> = Vec::new();
        let options = with_threads(&AssessOptions::default(), threads);
        let report = assess_with_progress(&data, 8, &options, &mut |set, e| {
            assert_eq!(std::thread::current().id(), caller);
            calls.push((set, e));
        })
        .expect("assessable");
        (calls, report)
    };
    let (sequential, report_one) = calls(1);
    assert_eq!(
        sequential.len(),
        10 + 7 - 2,
        "t-Tuple and LRS share one call"
    );
    for threads in [2, 4] {
        let (mut parallel, report) = calls(threads);
        assert_eq!(report, report_one);
        // Longest first: MultiMMC on the 800,000 bits is taken up first
        // (the suffix sort was, until its binary route).
        assert_eq!(parallel[0], (DataSet::Bitstring, Estimator::MultiMmc));
        let mut expected = sequential.clone();
        parallel.sort_by_key(|&(set, e)| (set == DataSet::Literal, e));
        expected.sort_by_key(|&(set, e)| (set == DataSet::Literal, e));
        assert_eq!(parallel, expected, "{threads} threads");
    }
}
