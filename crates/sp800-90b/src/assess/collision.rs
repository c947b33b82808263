//! SP 800-90B section 6.3.2: the Collision estimate (binary data only).

use super::{AssessError, Estimate, Estimator, Z_99, bits_of, check_binary, check_len};

/// The Collision estimate of SP 800-90B section 6.3.2, for binary data.
///
/// Walks the data in non-overlapping steps, each ending at the first repeated
/// value: a step is 2 long if the next two bits are equal, else 3 (every
/// 3-bit window of binary data holds a collision). From the mean `X̄` and the
/// standard deviation `σ̂` of the step lengths, `X̄' = max(2, X̄ − Z·σ̂/√v)`.
/// For binary data the equation of step 7 reduces to `X̄' = 2 + 2p − 2p²`, so,
/// like `ea_non_iid`, this solves it in closed form:
/// `p = 0.5 + sqrt(1.25 − 0.5·X̄')` when `X̄' < 2.5`; otherwise there is no
/// solution and the estimate is the full 1 bit (`p = 0.5`).
///
/// `data` holds 0/1 symbols; needs at least 6 of them (two steps).
pub fn collision(data: &[u8]) -> Result<Estimate, AssessError> {
    check_len(Estimator::Collision, data, 6)?;
    check_binary(Estimator::Collision, data)?;
    let len = data.len();
    let (mut i, mut v, mut sum_sq) = (0usize, 0u64, 0u64);
    // Step 1-5: the lengths t_v of the collision steps. A last fragment of one
    // or two unequal bits holds no collision and is left out, as in the tool.
    while i + 1 < len {
        let t = if data[i] == data[i + 1] {
            2
        } else if i + 2 < len {
            3
        } else {
            break;
        };
        v += 1;
        sum_sq += t * t;
        i += t as usize;
    }
    // With L >= 6 there are always two steps; keep the guard for the division.
    if v < 2 {
        return Err(AssessError::TooFewSamples {
            estimator: Estimator::Collision,
            needed: 6,
            got: len,
        });
    }
    let (vf, sum) = (v as f64, i as f64);
    let mean = sum / vf;
    // Step 6: sample standard deviation from the sums, as the tool computes it.
    let sigma = ((sum_sq as f64 - sum * mean) / (vf - 1.0)).sqrt();
    let mean_low = (mean - Z_99 * sigma / vf.sqrt()).max(2.0);
    let p = if mean_low < 2.5 {
        0.5 + (1.25 - 0.5 * mean_low).sqrt()
    } else {
        0.5
    };
    Ok(Estimate {
        estimator: Estimator::Collision,
        p_max: p,
        min_entropy: bits_of(p),
    })
}
