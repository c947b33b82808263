//! The prediction estimators (SP 800-90B 6.3.7-6.3.10) through the public
//! API. Exact agreement with `ea_non_iid` (C, r, N) is checked by the unit
//! tests in `src/assess/predictors.rs`; the entropies by `assess_reference`.

use std::path::PathBuf;

use kqseed::assess::{AssessError, Estimate, Estimator, lag, lz78y, multi_mcw, multi_mmc};

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
            Err(AssessError::SymbolTooWide {
                index: first_one,
                value: 1,
                bits: 0
            }),
            "{estimator:?}"
        );
    }
}
