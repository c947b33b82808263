//! The cutoffs in force for one credit, at the two failure levels, and the
//! level a count reaches. The arithmetic behind them is SP 800-90B's, in
//! [`sp800_90b::cutoffs`].

use super::FailureLevel;

/// The cutoffs in force for one credit (see [`rct_cutoff`](super::rct_cutoff),
/// [`apt_cutoff`](super::apt_cutoff) and
/// [`predictor_count_cutoff`](super::predictor_count_cutoff)), from
/// [`HealthConfig::cutoffs`](super::HealthConfig::cutoffs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HealthCutoffs {
    /// The APT window these cutoffs are for: the configured one, or a
    /// larger one where the credit is so low that no count in it could fail.
    pub apt_window: u32,
    /// RCT run length that is an intermittent failure.
    pub rct_intermittent: u32,
    /// RCT run length that is a permanent failure.
    pub rct_permanent: u32,
    /// APT count in one window that is an intermittent failure.
    pub apt_intermittent: u32,
    /// APT count in one window that is a permanent failure.
    pub apt_permanent: u32,
    /// Correct predictions in a row that are an intermittent failure.
    pub predictor_run_intermittent: u32,
    /// Correct predictions in a row that are a permanent failure.
    pub predictor_run_permanent: u32,
    /// Correct predictions in one window that are an intermittent failure.
    pub predictor_count_intermittent: u32,
    /// Correct predictions in one window that are a permanent failure.
    pub predictor_count_permanent: u32,
}

/// The failure level a count reaches against its two cutoffs, with the
/// cutoff reached.
pub(super) fn level_of(
    count: u32,
    intermittent: u32,
    permanent: u32,
) -> Option<(FailureLevel, u32)> {
    if count >= permanent {
        Some((FailureLevel::Permanent, permanent))
    } else if count >= intermittent {
        Some((FailureLevel::Intermittent, intermittent))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{
        DEFAULT_ALPHA_INTERMITTENT_LOG2, DEFAULT_ALPHA_PERMANENT_LOG2, DEFAULT_APT_WINDOW,
        DEFAULT_PREDICTOR_WINDOW, HealthConfig, MAX_APT_WINDOW, apt_cutoff, predictor_count_cutoff,
        rct_cutoff,
    };

    fn cutoffs_h(h: f64) -> HealthCutoffs {
        HealthConfig::default().cutoffs(h).expect("valid credit")
    }

    #[test]
    fn config_cutoffs_are_recomputed_from_the_formulas() {
        let config = HealthConfig::default();
        let (ai, ap) = (
            DEFAULT_ALPHA_INTERMITTENT_LOG2,
            DEFAULT_ALPHA_PERMANENT_LOG2,
        );
        for h in [0.375, 1.0, 1.75] {
            let w = DEFAULT_APT_WINDOW;
            let recomputed = HealthCutoffs {
                apt_window: w,
                rct_intermittent: rct_cutoff(h, ai).unwrap(),
                rct_permanent: rct_cutoff(h, ap).unwrap(),
                apt_intermittent: apt_cutoff(w, h, ai).unwrap(),
                apt_permanent: apt_cutoff(w, h, ap).unwrap(),
                predictor_run_intermittent: rct_cutoff(h, ai).unwrap(),
                predictor_run_permanent: rct_cutoff(h, ap).unwrap(),
                predictor_count_intermittent: predictor_count_cutoff(
                    DEFAULT_PREDICTOR_WINDOW,
                    h,
                    ai,
                )
                .unwrap(),
                predictor_count_permanent: predictor_count_cutoff(DEFAULT_PREDICTOR_WINDOW, h, ap)
                    .unwrap(),
            };
            assert_eq!(config.cutoffs(h), Ok(recomputed), "H={h}");
        }
    }

    #[test]
    fn a_low_credit_widens_the_apt_window_until_the_test_can_fail() {
        let config = HealthConfig::default();
        // H = 1/16: no count of one symbol in 512 could reach the cutoff.
        assert!(apt_cutoff(512, 0.0625, 60).is_err());
        let c = config.cutoffs(0.0625).expect("a wider window");
        assert!(c.apt_window > 512 && c.apt_window <= MAX_APT_WINDOW);
        assert!(c.apt_permanent <= c.apt_window);
        assert_eq!(
            c.apt_permanent,
            apt_cutoff(c.apt_window, 0.0625, 60).unwrap()
        );
        // A credit so low that even the widest window cannot fail: refused.
        assert!(config.cutoffs(0.001).is_err());
    }

    #[test]
    fn cutoffs_at_default_alphas_for_several_h() {
        // (H, RCT 2^-30, RCT 2^-60, APT 2^-30, APT 2^-60, predictor count
        // 2^-30, 2^-60), W = 512, W_P = 4096. The predictor counts were
        // computed with mpmath at 80 digits: the smallest k + 1 with
        // P[B(4096, 2^-H) > k] <= alpha.
        let table = [
            (0.375, 81, 161, 449, 471, 3318, 3388),
            (1.0, 31, 61, 325, 355, 2241, 2329),
            (2.0, 16, 31, 190, 220, 1194, 1274),
            (3.0, 11, 21, 114, 139, 644, 708),
            (4.0, 9, 16, 71, 91, 355, 403),
            (6.5, 6, 11, 26, 37, 92, 116),
        ];
        for (h, ri, rp, ai, ap, pi, pp) in table {
            let c = cutoffs_h(h);
            assert_eq!(
                c,
                HealthCutoffs {
                    apt_window: 512,
                    rct_intermittent: ri,
                    rct_permanent: rp,
                    apt_intermittent: ai,
                    apt_permanent: ap,
                    predictor_run_intermittent: ri,
                    predictor_run_permanent: rp,
                    predictor_count_intermittent: pi,
                    predictor_count_permanent: pp,
                },
                "H={h}"
            );
        }
    }
}
