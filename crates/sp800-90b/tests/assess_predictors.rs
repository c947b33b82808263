//! The prediction estimators (SP 800-90B 6.3.7-6.3.10) through the public
//! API. Exact agreement with `ea_non_iid` (C, r, N) is checked by the unit
//! tests in `src/assess/predictors.rs`; the entropies by `assess_reference`.

use std::path::PathBuf;

use sp800_90b::assess::{
    AssessError, Estimate, Estimator, assess, lag, lrs, lz78y, mcv, multi_mcw, multi_mmc, t_tuple,
    t_tuple_and_lrs,
};

type Predictor = fn(&[u8], usize) -> Result<Estimate, AssessError>;

const PREDICTORS: [(Estimator, Predictor); 4] = [
    (Estimator::MultiMcw, multi_mcw),
    (Estimator::Lag, lag),
    (Estimator::MultiMmc, multi_mmc),
    (Estimator::Lz78y, lz78y),
];

fn markov1() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/sp800-90b/markov1.bin");
    std::fs::read(path).expect("reference input")
}

/// Bits take a flat-table path (k = 2), wider alphabets a hash-map path.
/// On the same bits with k = 3 the counts must not change, and with
/// p_max between 0.67 and 0.76 the 1/k floor plays no part: same estimate.
#[test]
fn binary_and_general_paths_give_the_same_estimate() {
    let data = markov1();
    for (estimator, f) in PREDICTORS {
        let bits = f(&data, 2).expect("estimate");
        let general = f(&data, 3).expect("estimate");
        assert_eq!(bits.estimator, estimator);
        assert_eq!(bits, general, "{estimator:?}");
        assert!(bits.p_max > 0.6 && bits.p_max < 0.8, "{bits:?}");
    }
}

#[test]
fn rejects_symbols_outside_the_alphabet() {
    let data = markov1();
    for (estimator, f) in PREDICTORS {
        let first_one = data.iter().position(|&b| b == 1).expect("a one");
        assert_eq!(
            f(&data, 1),
            Err(AssessError::SymbolOutOfAlphabet {
                index: first_one,
                value: 1,
                k: 1
            }),
            "{estimator:?}"
        );
    }
}

/// Review item 15: symbols are bytes, so no alphabet has more than 256
/// values; a larger `k` would lower the `1/k` floor below 2^-8 and let a
/// predictor that is always wrong claim more than 8 bits per symbol
/// (MultiMCW on alternating bits: C = 0, so the floor decides).
#[test]
fn alphabets_beyond_256_symbols_are_refused() {
    let alternating: Vec<u8> = (0..10_000).map(|i| (i % 2) as u8).collect();
    for (estimator, f) in PREDICTORS {
        for k in [0, 257, 1024, usize::MAX] {
            assert_eq!(
                f(&alternating, k),
                Err(AssessError::BadAlphabet { k }),
                "{estimator:?} k={k}"
            );
        }
        // The largest alphabet is fine, and stays within 8 bits.
        let e = f(&alternating, 256).expect("k = 256");
        assert!(e.min_entropy <= 8.0, "{estimator:?}: {e:?}");
    }
    // MCV, t-Tuple and LRS take `k` too, and check it the same way.
    for k in [0, 257] {
        assert_eq!(mcv(&alternating, k), Err(AssessError::BadAlphabet { k }));
        assert_eq!(
            t_tuple(&alternating, k),
            Err(AssessError::BadAlphabet { k })
        );
        assert_eq!(lrs(&alternating, k), Err(AssessError::BadAlphabet { k }));
        let (t, l) = t_tuple_and_lrs(&alternating, k);
        assert_eq!(
            (t, l),
            (
                Err(AssessError::BadAlphabet { k }),
                Err(AssessError::BadAlphabet { k })
            )
        );
    }
}

/// The alphabet `assess` hands the estimators is the number of distinct
/// values, at most `2^bits` (and 256).
#[test]
fn assess_never_claims_more_than_the_sample_width() {
    let all: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let r = assess(&all, 8).expect("assessable");
    assert_eq!(r.distinct, 256);
    assert!(r.assessed <= 8.0);
    let narrow: Vec<u8> = all.iter().map(|&b| b & 7).collect();
    let r = assess(&narrow, 3).expect("assessable");
    assert_eq!(r.distinct, 8);
    assert!(r.literal.iter().all(|e| e.min_entropy <= 3.0), "{r:?}");
}
