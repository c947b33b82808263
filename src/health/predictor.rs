//! kqseed's predictor test: a lag predictor in the manner of SP 800-90B
//! section 6.3.8 over the last [`PREDICTOR_LAGS`] symbols, whose runs of
//! correct predictions and count of them per window are bounded as the RCT
//! and the APT bound theirs (see the [health module](super)).

use super::levels::{HealthCutoffs, level_of};
use super::{FailureLevel, HealthFailure, HealthStats, HealthTest, reached};

/// Lags the predictor test follows: periods up to 32 symbols are learnt.
pub const PREDICTOR_LAGS: usize = 32;

// The lags that predicted a symbol are the bits of a u32.
const _: () = assert!(PREDICTOR_LAGS <= 32);

/// The lag predictor and its failure state.
pub(super) struct Predictor {
    /// The last `PREDICTOR_LAGS` symbols, the latest first: `history[d]` is
    /// the symbol `d + 1` back, so that one pass over it compares a new
    /// symbol with every lag's prediction (a loop the compiler turns into
    /// a vector compare). Low bytes of pooled samples: wiped on drop.
    history: zeroize::Zeroizing<[u8; PREDICTOR_LAGS]>,
    filled: usize,
    /// Hits per lag (`scores[d]` for lag `d + 1`) in this window.
    scores: [u32; PREDICTOR_LAGS],
    best: usize,
    window: u32,
    /// Predictions made in this window.
    made: u32,
    /// Correct ones among them.
    hits: u32,
    run: u32,
    run_failed: Option<HealthFailure>,
    count_failed: Option<HealthFailure>,
    /// Whether the previous window failed the count.
    previous_window_failed: bool,
    /// The longest run of correct predictions in this window.
    window_longest_run: u32,
    /// The last full window's predictions, hits and longest run of hits,
    /// until taken.
    closed_window: Option<(u32, u32, u32)>,
}

impl Predictor {
    pub(super) fn new(window: u32) -> Predictor {
        Predictor {
            history: zeroize::Zeroizing::new([0; PREDICTOR_LAGS]),
            filled: 0,
            scores: [0; PREDICTOR_LAGS],
            best: 0,
            window,
            made: 0,
            hits: 0,
            run: 0,
            run_failed: None,
            count_failed: None,
            previous_window_failed: false,
            window_longest_run: 0,
            closed_window: None,
        }
    }

    /// Scores the prediction for `symbol`, learns from it, and returns
    /// whether a prediction was made and was right.
    fn observe(&mut self, symbol: u8) -> Option<bool> {
        // Bit d set: lag d + 1 predicted `symbol`. Only lags with history.
        let mut matches: u32 = 0;
        for (d, &past) in self.history.iter().enumerate() {
            matches |= u32::from(past == symbol) << d;
        }
        matches &= u32::MAX
            .checked_shr(PREDICTOR_LAGS as u32 - self.filled as u32)
            .unwrap_or(0);
        let correct = (self.filled > self.best).then(|| matches >> self.best & 1 == 1);
        if let Some(correct) = correct {
            self.made += 1;
            if correct {
                self.hits += 1;
                self.run = self.run.saturating_add(1);
                self.window_longest_run = self.window_longest_run.max(self.run);
            } else {
                self.run = 0;
                self.run_failed = None;
            }
        }
        // The lags that scored, shortest first, as a loop over all of them
        // would take them.
        let mut scored = matches;
        while scored != 0 {
            let d = scored.trailing_zeros() as usize;
            scored &= scored - 1;
            self.scores[d] += 1;
            // As SP 800-90B 6.3.8: a tie goes to the longer lag.
            if self.scores[d] >= self.scores[self.best] {
                self.best = d;
            }
        }
        self.history.copy_within(..PREDICTOR_LAGS - 1, 1);
        self.history[0] = symbol;
        self.filled = (self.filled + 1).min(PREDICTOR_LAGS);
        correct
    }

    /// Called after the failures of a prediction were reported: a full
    /// window starts afresh, scores included.
    fn end_window_if_full(&mut self) {
        if self.made >= self.window {
            self.closed_window = Some((self.made, self.hits, self.window_longest_run));
            self.window_longest_run = 0;
            self.previous_window_failed = self.count_failed.is_some();
            self.made = 0;
            self.hits = 0;
            self.scores = [0; PREDICTOR_LAGS];
            self.best = 0;
            self.count_failed = None;
        }
    }

    /// The predictions, hits and longest run of hits of the last full
    /// window, once.
    pub(super) fn take_closed_window(&mut self) -> Option<(u32, u32, u32)> {
        self.closed_window.take()
    }

    /// Scores `symbol`, then fails on a long run of correct guesses or too
    /// many in a window.
    pub(super) fn step(
        &mut self,
        symbol: u8,
        c: &HealthCutoffs,
        during_startup: bool,
        stats: &mut HealthStats,
    ) -> Option<HealthFailure> {
        let correct = self.observe(symbol);
        stats.max_predictor_run = stats.max_predictor_run.max(self.run);
        stats.max_predictor_count = stats.max_predictor_count.max(self.hits);
        let run = level_of(
            self.run,
            c.predictor_run_intermittent,
            c.predictor_run_permanent,
        );
        let count = level_of(
            self.hits,
            c.predictor_count_intermittent,
            c.predictor_count_permanent,
        );
        let mut worst = None;
        if let Some((level, cutoff)) = run.filter(|_| correct == Some(true)) {
            worst = reached(
                &mut self.run_failed,
                stats,
                HealthTest::PredictorRun,
                level,
                self.run,
                cutoff,
                during_startup,
                0,
            );
        }
        if let Some((mut level, cutoff)) = count {
            // Blocks released early in a window reset the escalation count,
            // so a source that fails every window would never escalate: a
            // second window in a row is permanent (a good source fails two
            // in a row with probability alpha^2).
            let escalated = level == FailureLevel::Intermittent && self.previous_window_failed;
            if escalated {
                level = FailureLevel::Permanent;
            }
            let count_failure = reached(
                &mut self.count_failed,
                stats,
                HealthTest::PredictorCount,
                level,
                self.hits,
                cutoff,
                during_startup,
                u32::from(escalated) * 2,
            );
            // Every further sample of a failing window fails too.
            if worst.is_none_or(|w: HealthFailure| !w.is_permanent()) {
                worst = count_failure.or(worst);
            }
        }
        self.end_window_if_full();
        worst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lag predictor as SP 800-90B 6.3.8 words it: a ring of the last
    /// symbols, every lag compared in turn.
    struct Reference {
        ring: Vec<u8>,
        scores: [u32; PREDICTOR_LAGS],
        best: usize,
    }

    impl Reference {
        fn observe(&mut self, symbol: u8) -> Option<bool> {
            let back = |ring: &Vec<u8>, lag: usize| ring[ring.len() - lag];
            let correct =
                (self.ring.len() > self.best).then(|| back(&self.ring, self.best + 1) == symbol);
            for d in 0..self.ring.len().min(PREDICTOR_LAGS) {
                if back(&self.ring, d + 1) == symbol {
                    self.scores[d] += 1;
                    if self.scores[d] >= self.scores[self.best] {
                        self.best = d;
                    }
                }
            }
            self.ring.push(symbol);
            correct
        }
    }

    #[test]
    fn the_match_mask_predicts_and_scores_as_the_lag_by_lag_loop() {
        // Small alphabets (many matches and ties), periodic stretches (one
        // lag wins) and a wide alphabet, from a fixed xorshift.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for k in [2u64, 3, 5, 16, 256] {
            let mut fast = Predictor::new(u32::MAX);
            let mut reference = Reference {
                ring: Vec::new(),
                scores: [0; PREDICTOR_LAGS],
                best: 0,
            };
            for i in 0..20_000u64 {
                let symbol = if (i / 1000) % 3 == 1 {
                    (i % 7) as u8
                } else {
                    (next() % k) as u8
                };
                assert_eq!(
                    fast.observe(symbol),
                    reference.observe(symbol),
                    "k {k}, symbol {i}"
                );
                assert_eq!(fast.best, reference.best, "k {k}, symbol {i}");
                assert_eq!(fast.scores, reference.scores, "k {k}, symbol {i}");
            }
        }
    }
}
