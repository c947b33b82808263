//! SP 800-90B section 6.3.1: the Most Common Value estimate.

use zeroize::Zeroize;

use super::{AssessError, Estimate, Estimator, Z_99, bits_of, check_alphabet, check_len};

/// The intermediate values of the Most Common Value estimate, as
/// `ea_non_iid` prints and stores them (`mcvEstimateMode`, `...PHat`, `...PU`).
///
/// Made by [`mcv_detail`]; fields may be added (the struct is
/// `#[non_exhaustive]`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct McvDetail {
    /// The number of occurrences of the most common symbol.
    pub mode_count: u64,
    /// `p̂ = mode_count / L`.
    pub p_hat: f64,
    /// `p_u = min(1, p̂ + Z·sqrt(p̂(1 − p̂)/(L − 1)))`.
    pub p_u: f64,
    /// The estimate itself, `−log2 p_u`.
    pub estimate: Estimate,
}

/// The Most Common Value estimate of SP 800-90B section 6.3.1, with its
/// intermediate values.
///
/// `data` holds symbols in `0..k`; needs at least 2 of them (the bound divides
/// by `L − 1`).
pub fn mcv_detail(data: &[u8], k: usize) -> Result<McvDetail, AssessError> {
    check_len(Estimator::Mcv, data, 2)?;
    check_alphabet(data, k)?;
    // Four histograms, so that a run of one symbol (all of binary data's
    // are runs of two) does not make each count wait on the one before.
    let mut counts = [[0u64; 256]; 4];
    let mut quads = data.chunks_exact(4);
    for q in &mut quads {
        for (lane, &s) in counts.iter_mut().zip(q) {
            lane[usize::from(s)] += 1;
        }
    }
    for &s in quads.remainder() {
        counts[0][usize::from(s)] += 1;
    }
    let mode_count = (0..256)
        .map(|s| counts.iter().map(|lane| lane[s]).sum::<u64>())
        .max()
        .unwrap_or(0);
    // The histogram of the samples (the seeder's first secret block): wipe
    // the stack copy.
    counts.zeroize();
    let len = data.len() as f64;
    let p_hat = mode_count as f64 / len;
    // Step 2: the 99% upper bound on the most common value's probability.
    let p_u = (p_hat + Z_99 * (p_hat * (1.0 - p_hat) / (len - 1.0)).sqrt()).min(1.0);
    Ok(McvDetail {
        mode_count,
        p_hat,
        p_u,
        estimate: Estimate {
            estimator: Estimator::Mcv,
            p_max: p_u,
            min_entropy: bits_of(p_u),
        },
    })
}

/// The Most Common Value estimate of SP 800-90B section 6.3.1:
/// `p̂` = frequency of the most common symbol, `p_u = min(1, p̂ + Z·sqrt(p̂(1 − p̂)/(L − 1)))`,
/// min-entropy `−log2 p_u` per symbol.
///
/// `data` holds symbols in `0..k`; needs at least 2 of them.
pub fn mcv(data: &[u8], k: usize) -> Result<Estimate, AssessError> {
    mcv_detail(data, k).map(|d| d.estimate)
}
