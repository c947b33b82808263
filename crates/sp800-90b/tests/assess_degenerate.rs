//! Degenerate inputs on which an estimator's arithmetic breaks down (0/0,
//! NaN, nothing to estimate): every one must fail closed (no entropy, or an
//! error), never report full entropy. Security review, item 6.

use sp800_90b::assess::compression::COMPRESSION_MIN_BITS;
use sp800_90b::assess::{AssessError, AssessOptions, Estimator, assess_with, compression, markov};

fn alternating(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 2) as u8).collect()
}

fn only(estimators: &[Estimator]) -> AssessOptions {
    AssessOptions::default().with_estimators(estimators.iter().copied())
}

/// 6,006 to 6,011 bits hold one test block after the 1000-block
/// dictionary: `σ̂` would be 0/0 (NaN), which NIST's tool turns into 1 bit.
#[test]
fn compression_needs_two_test_blocks() {
    assert_eq!(COMPRESSION_MIN_BITS, 6012);
    for len in 6006..6012 {
        for data in [alternating(len), vec![0u8; len]] {
            assert_eq!(
                compression(&data),
                Err(AssessError::TooFewSamples {
                    estimator: Estimator::Compression,
                    needed: 6012,
                    got: len
                }),
                "len {len}"
            );
        }
    }
}

/// What `kqseed assess FILE --bits 1 --estimators compression` runs on the
/// review's file of 6,006 alternating bits: an error, not 1 bit.
#[test]
fn assessing_6006_alternating_bits_with_compression_is_refused() {
    let r = assess_with(&alternating(6006), 1, &only(&[Estimator::Compression]));
    assert!(
        matches!(
            r,
            Err(AssessError::TooFewSamples {
                estimator: Estimator::Compression,
                ..
            })
        ),
        "{r:?}"
    );
}

/// From two test blocks on, periodic and constant data get (almost) none.
#[test]
fn compression_on_short_periodic_data_has_almost_no_entropy() {
    for len in [6012, 6013, 6100, 7000] {
        for data in [alternating(len), vec![0u8; len]] {
            let e = compression(&data).expect("estimate");
            assert!(e.min_entropy < 0.01, "len {len}: {e:?}");
            assert!(e.min_entropy.is_finite() && e.p_max.is_finite());
        }
    }
}

/// `[0, 1]` and `[1, 0]`: one transition out of the first bit, none out of
/// the second, so none of the six 128-bit sequences is possible in the
/// model. NIST's tool keeps its starting value and says 1 bit; no entropy.
#[test]
fn markov_with_no_possible_sequence_has_no_entropy() {
    for data in [[0u8, 1], [1, 0]] {
        let e = markov(&data).expect("estimate");
        assert_eq!(e.min_entropy, 0.0, "{data:?}: {e:?}");
        assert_eq!(e.p_max, 1.0, "{data:?}: {e:?}");
    }
    // Two equal bits: the constant sequence is certain.
    assert_eq!(markov(&[1, 1]).expect("estimate").min_entropy, 0.0);
}

/// When every selected estimator is skipped there is no estimate; the
/// minimum over none must not be the cap of 8 bits. A data set without an
/// estimate counts in no minimum.
#[test]
fn a_data_set_without_any_estimate_is_an_error() {
    // 256 distinct values, nothing repeats 35 times: t-Tuple gives nothing.
    let distinct: Vec<u8> = (0..=255).collect();
    let opts = only(&[Estimator::TTuple]).with_bitstring(false);
    assert!(
        matches!(
            assess_with(&distinct, 8, &opts),
            Err(AssessError::NoEstimate {
                estimator: Estimator::TTuple,
                ..
            })
        ),
        "{:?}",
        assess_with(&distinct, 8, &opts)
    );
    // Everything skipped as too short: the first reason is returned.
    let opts = only(&[Estimator::Compression, Estimator::MultiMcw]).with_skip_too_short(true);
    assert!(
        matches!(
            assess_with(&alternating(100), 1, &opts),
            Err(AssessError::TooFewSamples {
                estimator: Estimator::Compression,
                ..
            })
        ),
        "{:?}",
        assess_with(&alternating(100), 1, &opts)
    );
    // One estimate suffices; the skipped ones are listed.
    let opts = only(&[Estimator::Compression, Estimator::Lag]).with_skip_too_short(true);
    let r = assess_with(&alternating(100), 1, &opts).expect("Lag runs");
    assert_eq!(r.literal.len(), 1);
    assert_eq!(r.skipped.len(), 1);
    assert!(r.assessed < 0.5, "{r:?}");
    // Markov alone on 2-bit samples: nothing for the literal set (not
    // binary), so H_original is absent rather than the cap of 2 bits.
    let data: Vec<u8> = (0..4000).map(|i| (i % 4) as u8).collect();
    let r = assess_with(&data, 2, &only(&[Estimator::Markov])).expect("bitstring");
    assert_eq!(r.h_original, None);
    assert!(r.h_bitstring.is_some());
    assert_eq!(r.assessed, 2.0 * r.h_bitstring.unwrap_or(1.0));
    // ... and with the bitstring off there is nothing at all.
    let opts = only(&[Estimator::Markov]).with_bitstring(false);
    assert_eq!(assess_with(&data, 2, &opts), Err(AssessError::NothingToRun));
}

/// Small inputs at every length near the estimators' minimums: estimates
/// are finite and within [0, cap], never NaN.
#[test]
fn estimates_near_minimum_lengths_are_finite() {
    let patterns: [&dyn Fn(usize) -> u8; 4] = [
        &|i| (i % 2) as u8,
        &|_| 0,
        &|i| u8::from(i % 7 == 0),
        &|i| u8::from(i % 3 != 0),
    ];
    let opts = AssessOptions::default().with_skip_too_short(true);
    for len in (2..40).chain(4090..4100).chain(6000..6020) {
        for pattern in patterns {
            let data: Vec<u8> = (0..len).map(pattern).collect();
            match assess_with(&data, 1, &opts) {
                Ok(r) => {
                    for e in &r.literal {
                        assert!(
                            e.min_entropy.is_finite() && (0.0..=1.0).contains(&e.min_entropy),
                            "len {len}: {e:?}"
                        );
                        assert!(e.p_max.is_finite() && e.p_max > 0.0 && e.p_max <= 1.0);
                    }
                    assert!((0.0..=1.0).contains(&r.assessed));
                }
                Err(AssessError::SingleSymbol { .. } | AssessError::NoEstimate { .. }) => {}
                Err(AssessError::TooFewSamples { .. }) => {}
                Err(e) => panic!("len {len}: {e:?}"),
            }
        }
    }
}

#[test]
fn a_bitstring_limit_under_two_bits_is_refused_by_name() {
    // 16 values: the bitstring is assessed, and a limit of 0 or 1 bit
    // leaves no estimator anything, skipping or not.
    let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 16) as u8).collect();
    for limit in [0, 1] {
        for skip in [false, true] {
            let options = AssessOptions::default()
                .with_bitstring_limit(Some(limit))
                .with_skip_too_short(skip);
            assert_eq!(
                assess_with(&data, 4, &options),
                Err(AssessError::BitstringLimitTooSmall { limit }),
                "limit {limit}, skip {skip}"
            );
        }
    }
    // Two bits is what MCV takes: with the rest skipped, it assesses.
    let options = AssessOptions::default()
        .with_bitstring_limit(Some(2))
        .with_skip_too_short(true);
    assert!(assess_with(&data, 4, &options).is_ok());
    // Binary data has no bitstring to cut: the limit does not matter.
    let binary = alternating(20_000);
    let options = AssessOptions::default()
        .with_estimators([Estimator::Mcv])
        .with_bitstring_limit(Some(0));
    assert!(assess_with(&binary, 1, &options).is_ok());
}
