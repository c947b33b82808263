//! SP 800-90B section 6.3.3: the Markov estimate (binary data only).

use super::{AssessError, Estimate, Estimator, check_binary, check_len};

/// The Markov estimate of SP 800-90B section 6.3.3, for binary data.
///
/// Fits a first-order Markov model: `P0 = C0/L` over all `L` bits, and the
/// transition probabilities `P_ab = C_ab / C_a` with `C_a` counted over the
/// first `L − 1` bits. Of the 128-bit sequences `0^128`, `(01)^64`, `01^127`,
/// `10^127`, `(10)^64`, `1^128` it takes the most likely, `p_max`, and returns
/// `min(−log2(p_max)/128, 1)` per bit. Sequences that need a transition of
/// probability 0 are left out, as `ea_non_iid` does (their probability is 0).
///
/// If all six are left out, which happens only for the two-bit inputs
/// `[0, 1]` and `[1, 0]` (one transition seen, none from the second bit),
/// the model has nothing to say and the estimate fails closed: `p_max = 1`,
/// no entropy. `ea_non_iid` 1.1.7 keeps its starting value there and reports
/// the full 1 bit per bit; this deliberately differs.
///
/// `data` holds 0/1 symbols; needs at least 2 of them.
pub fn markov(data: &[u8]) -> Result<Estimate, AssessError> {
    check_len(Estimator::Markov, data, 2)?;
    check_binary(Estimator::Markov, data)?;
    let len = data.len();
    // Counted without branches: on noisy bits each one would be a coin
    // flip the CPU cannot predict.
    let (mut c0, mut c00, mut c10) = (0u64, 0u64, 0u64);
    for w in data.windows(2) {
        let (zero, next_zero) = (u64::from(w[0] == 0), u64::from(w[1] == 0));
        c0 += zero;
        c00 += zero & next_zero;
        c10 += (1 - zero) & next_zero;
    }
    let c1 = (len as u64 - 1) - c0;
    let (p00, p01) = if c0 > 0 {
        let p00 = c00 as f64 / c0 as f64;
        (p00, 1.0 - p00)
    } else {
        (0.0, 0.0)
    };
    let (p10, p11) = if c1 > 0 {
        let p10 = c10 as f64 / c1 as f64;
        (p10, 1.0 - p10)
    } else {
        (0.0, 0.0)
    };
    if data[len - 1] == 0 {
        c0 += 1;
    }
    let p0 = c0 as f64 / len as f64;
    let p1 = 1.0 - p0;

    // -log2 of each candidate sequence's probability; the smallest wins.
    // None applicable: no 128-bit sequence the model allows, no entropy.
    let mut h: Option<f64> = None;
    let mut consider = |ok: bool, bits: f64| {
        if ok && h.is_none_or(|best| bits < best) {
            h = Some(bits);
        }
    };
    consider(p00 > 0.0, -p0.log2() - 127.0 * p00.log2());
    consider(
        p01 > 0.0 && p10 > 0.0,
        -p0.log2() - 64.0 * p01.log2() - 63.0 * p10.log2(),
    );
    consider(
        p01 > 0.0 && p11 > 0.0,
        -p0.log2() - p01.log2() - 126.0 * p11.log2(),
    );
    consider(
        p10 > 0.0 && p00 > 0.0,
        -p1.log2() - p10.log2() - 126.0 * p00.log2(),
    );
    consider(
        p10 > 0.0 && p01 > 0.0,
        -p1.log2() - 64.0 * p10.log2() - 63.0 * p01.log2(),
    );
    consider(p11 > 0.0, -p1.log2() - 127.0 * p11.log2());
    let h = h.unwrap_or(0.0).min(128.0);

    Ok(Estimate {
        estimator: Estimator::Markov,
        p_max: (-h).exp2(),
        // `+ 0.0` turns the -0.0 of a certain sequence into 0.
        min_entropy: (h / 128.0).min(1.0) + 0.0,
    })
}
