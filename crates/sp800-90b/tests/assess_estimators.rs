//! Our own cases for the SP 800-90B section 6.3 estimators and the
//! `assess` framework: degenerate data with known answers, a brute-force
//! cross-check of the suffix-array t-Tuple/LRS, and every input error.

use std::collections::HashMap;

use sp800_90b::assess::{
    AssessError, AssessOptions, DataSet, Estimator, Report, assess, assess_with,
    assess_with_progress, collision, compression, lrs, markov, mcv, mcv_detail, t_tuple,
    t_tuple_and_lrs,
};

/// SplitMix64, for reproducible test data without a rand dependency.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// `n` symbols in `0..k`, symbol 0 with probability about `bias`.
fn biased(seed: u64, n: usize, k: u8, bias: f64) -> Vec<u8> {
    let mut g = SplitMix(seed);
    (0..n)
        .map(|_| {
            let u = (g.next() >> 11) as f64 / (1u64 << 53) as f64;
            if u < bias {
                0
            } else {
                (g.next() % u64::from(k)) as u8
            }
        })
        .collect()
}

/// `Z` of SP 800-90B 6.3 as in ea_non_iid (same f64 as the crate's, shorter spelling).
const Z: f64 = 2.575_829_303_548_901;

fn bound(p_hat: f64, n: usize) -> f64 {
    (p_hat + Z * (p_hat * (1.0 - p_hat) / (n as f64 - 1.0)).sqrt()).min(1.0)
}

/// t-Tuple and LRS straight from the definitions of 6.3.5 and 6.3.6, by
/// counting every tuple of every length in a hash map (quadratic).
fn naive_tuple_lrs(data: &[u8]) -> (Option<f64>, Option<f64>) {
    let n = data.len();
    let mut q = vec![0u64]; // q[t]
    let mut s = vec![0u64]; // s[t]
    for t in 1..n {
        let mut counts: HashMap<&[u8], u64> = HashMap::new();
        for w in data.windows(t) {
            *counts.entry(w).or_default() += 1;
        }
        let max = counts.values().copied().max().unwrap_or(0);
        if max < 2 {
            break;
        }
        q.push(max);
        s.push(counts.values().map(|&c| c * (c - 1) / 2).sum());
    }
    let v = q.len() - 1;
    let u = (1..=v).find(|&t| q[t] < 35).unwrap_or(v + 1);
    let tuple = (u > 1).then(|| {
        let p = (1..u)
            .map(|i| (q[i] as f64 / (n - i + 1) as f64).powf(1.0 / i as f64))
            .fold(0.0, f64::max);
        -bound(p, n).log2()
    });
    let lrs = (v >= u).then(|| {
        let p = (u..=v)
            .map(|w| {
                let pairs = ((n - w) * (n - w + 1) / 2) as f64;
                (s[w] as f64 / pairs).powf(1.0 / w as f64)
            })
            .fold(0.0, f64::max);
        -bound(p, n).log2()
    });
    (tuple, lrs)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1e-300)
}

#[test]
fn suffix_array_tuple_counts_match_brute_force() {
    let mut compared = 0;
    for (seed, n, k, bias) in [
        (1, 3000, 2, 0.0),
        (2, 2500, 2, 0.6),
        (3, 2000, 4, 0.3),
        (4, 1500, 16, 0.5),
        (5, 1200, 255, 0.9),
    ] {
        let data = biased(seed, n, k, bias);
        let (t_ref, l_ref) = naive_tuple_lrs(&data);
        let (t, l) = t_tuple_and_lrs(&data, usize::from(k));
        match (t_ref, t.clone()) {
            (Some(r), Ok(e)) => {
                assert!(
                    close(e.min_entropy, r, 1e-12),
                    "t-Tuple {seed}: {} vs {r}",
                    e.min_entropy
                );
                compared += 1;
            }
            (None, Err(AssessError::NoEstimate { .. })) => {}
            (r, e) => panic!("t-Tuple seed {seed}: reference {r:?}, ours {e:?}"),
        }
        match (l_ref, l.clone()) {
            (Some(r), Ok(e)) => {
                assert!(
                    close(e.min_entropy, r, 1e-12),
                    "LRS {seed}: {} vs {r}",
                    e.min_entropy
                );
                compared += 1;
            }
            (None, Err(AssessError::NoEstimate { .. })) => {}
            (r, e) => panic!("LRS seed {seed}: reference {r:?}, ours {e:?}"),
        }
        // The separate entry points agree with the shared one.
        assert_eq!(
            t_tuple(&data, usize::from(k)).ok(),
            t.as_ref().ok().copied()
        );
        assert_eq!(lrs(&data, usize::from(k)).ok(), l.as_ref().ok().copied());
    }
    // Most cases have tuples repeated 35 times and a longer LRS.
    assert!(compared >= 8, "only {compared} estimates compared");
}

#[test]
fn constant_data_has_no_entropy_in_every_estimator() {
    let zeros = vec![0u8; 10_000];
    for e in [
        mcv(&zeros, 2).unwrap(),
        collision(&zeros).unwrap(),
        markov(&zeros).unwrap(),
        t_tuple(&zeros, 2).unwrap(),
        lrs(&zeros, 2).unwrap(),
    ] {
        assert_eq!(e.min_entropy, 0.0, "{e:?}");
        // +0.0, so that it prints as 0 rather than -0.
        assert!(e.min_entropy.is_sign_positive(), "{e:?}");
        assert_eq!(e.p_max, 1.0, "{e:?}");
    }
    // Compression's bisection stops within a hair of p = 1.
    let c = compression(&zeros).unwrap();
    assert!(c.min_entropy < 1e-3, "{c:?}");
}

#[test]
fn constant_data_is_refused_by_assess_like_the_tool() {
    assert_eq!(
        assess(&[7u8; 5000], 8),
        Err(AssessError::SingleSymbol { value: 7 })
    );
}

#[test]
fn alternating_bits() {
    let alt: Vec<u8> = (0..20_000).map(|i| (i % 2) as u8).collect();
    // Markov sees the pattern: the sequence (01)^64 is certain, given its
    // first bit (probability 1/2): 1 bit in 128.
    let m = markov(&alt).unwrap();
    assert!((m.min_entropy - 1.0 / 128.0).abs() < 1e-15, "{m:?}");
    // Collision cannot: every step is 3 long, mean 3 > 2.5, so no p solves
    // the equation and the estimate is the full bit.
    let c = collision(&alt).unwrap();
    assert_eq!(c.min_entropy, 1.0);
    assert_eq!(c.p_max, 0.5);
    // MCV: exactly half zeros.
    let d = mcv_detail(&alt, 2).unwrap();
    assert_eq!(d.mode_count, 10_000);
    assert_eq!(d.p_hat, 0.5);
    assert!(d.estimate.min_entropy < 1.0 && d.estimate.min_entropy > 0.95);
    // t-Tuple: the most common t-tuple covers half the positions for every t.
    let t = t_tuple(&alt, 2).unwrap();
    assert!(t.min_entropy < 0.01, "{t:?}");
    // The assessment takes the minimum: close to Markov's 1/128 or below.
    let r = assess(&alt, 1).unwrap();
    assert!(r.assessed <= 1.0 / 128.0 + 1e-12, "{}", r.assessed);
    assert_eq!(r.h_bitstring, None);
}

#[test]
fn mcv_known_values() {
    // 3 of 4 symbols are 0: p-hat = 0.75, p_u = 0.75 + Z*sqrt(0.75*0.25/3).
    let d = mcv_detail(&[0, 0, 1, 0], 2).unwrap();
    assert_eq!(d.mode_count, 3);
    assert_eq!(d.p_hat, 0.75);
    assert_eq!(d.p_u, 1.0, "the bound is capped at 1");
    let d = mcv_detail(&[0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 0], 4).unwrap();
    let p_hat: f64 = 5.0 / 16.0;
    let p_u = p_hat + Z * (p_hat * (1.0 - p_hat) / 15.0).sqrt();
    assert_eq!(d.p_hat, p_hat);
    assert!((d.p_u - p_u).abs() < 1e-15);
    assert!((d.estimate.min_entropy + p_u.log2()).abs() < 1e-15);
}

#[test]
fn two_valued_wide_samples_are_assessed_as_binary_literal_data() {
    // ea_non_iid keys the bitstring on the number of distinct values, not the
    // width: two values in 8-bit samples are renumbered to 0/1, no bitstring.
    let bits = biased(9, 20_000, 2, 0.3);
    let wide: Vec<u8> = bits
        .iter()
        .map(|&b| if b == 0 { 0x10 } else { 0xf0 })
        .collect();
    let opts = AssessOptions::default().with_estimators(Estimator::ALL[..6].iter().copied());
    let r = assess_with(&wide, 8, &opts).unwrap();
    assert_eq!(r.distinct, 2);
    assert_eq!(r.bitstring_len, 0);
    assert_eq!(r.h_bitstring, None);
    assert!(r.bitstring.is_empty());
    for e in [
        Estimator::Collision,
        Estimator::Markov,
        Estimator::Compression,
    ] {
        assert!(
            r.get(DataSet::Literal, e).is_some(),
            "{e:?} runs on the literal set"
        );
    }
    // The same as assessing the 0/1 data at 1 bit per symbol.
    let r1 = assess_with(&bits, 1, &opts).unwrap();
    assert_eq!(r.literal, r1.literal);
}

#[test]
fn renumbering_keeps_order_and_counts() {
    let base = biased(11, 5000, 3, 0.4);
    let sparse: Vec<u8> = base
        .iter()
        .map(|&s| [3u8, 7, 200][usize::from(s)])
        .collect();
    let opts = AssessOptions::default()
        .with_estimators([Estimator::Mcv, Estimator::TTuple, Estimator::Lrs])
        .with_bitstring(false);
    let a = assess_with(&sparse, 8, &opts).unwrap();
    let b = assess_with(&base, 8, &opts).unwrap();
    assert_eq!(a.distinct, 3);
    assert_eq!(a.literal, b.literal);
}

#[test]
fn bitstring_is_msb_first_and_can_be_truncated() {
    let data = biased(12, 4000, 4, 0.2);
    let msb: Vec<u8> = data.iter().flat_map(|&s| [(s >> 1) & 1, s & 1]).collect();
    let lsb: Vec<u8> = data.iter().flat_map(|&s| [s & 1, (s >> 1) & 1]).collect();
    let opts = AssessOptions::default()
        .with_estimators([Estimator::Markov, Estimator::Collision])
        .with_literal(true);
    let r = assess_with(&data, 2, &opts).unwrap();
    assert_eq!(r.bitstring_len, 8000);
    assert_eq!(
        r.get(DataSet::Bitstring, Estimator::Markov).copied(),
        Some(markov(&msb).unwrap())
    );
    assert_ne!(
        markov(&msb).unwrap(),
        markov(&lsb).unwrap(),
        "the test data tells the orders apart"
    );

    let truncated = opts.with_bitstring_limit(Some(1001));
    let r = assess_with(&data, 2, &truncated).unwrap();
    assert_eq!(r.bitstring_len, 1001);
    assert_eq!(
        r.get(DataSet::Bitstring, Estimator::Markov).copied(),
        Some(markov(&msb[..1001]).unwrap())
    );
}

#[test]
fn combined_values_follow_the_tool() {
    let data = biased(13, 30_000, 16, 0.5);
    let opts = AssessOptions::default().with_estimators(Estimator::ALL[..6].iter().copied());
    let r = assess_with(&data, 4, &opts).unwrap();
    let h_orig = r.literal.iter().map(|e| e.min_entropy).fold(4.0, f64::min);
    let h_bits = r
        .bitstring
        .iter()
        .map(|e| e.min_entropy)
        .fold(1.0, f64::min);
    assert_eq!(r.h_original, Some(h_orig));
    assert_eq!(r.h_bitstring, Some(h_bits));
    assert_eq!(r.assessed, h_orig.min(4.0 * h_bits));
    // Binary-only estimators ran on the bitstring only.
    assert!(r.get(DataSet::Literal, Estimator::Collision).is_none());
    assert!(r.get(DataSet::Bitstring, Estimator::Collision).is_some());
    // Literal MCV detail is kept for the JSON output.
    assert_eq!(
        r.mcv_literal.map(|d| d.estimate),
        r.get(DataSet::Literal, Estimator::Mcv).copied()
    );
}

/// A report rebuilt from an assessment's own lists is the same report:
/// `Report::from_estimates` is the combination `assess_with` uses.
#[test]
fn a_report_rebuilt_from_its_estimates_is_the_same() {
    let opts = AssessOptions::default()
        .with_estimators(Estimator::ALL[..6].iter().copied())
        .with_skip_too_short(true);
    for (data, bits) in [
        (biased(13, 30_000, 16, 0.5), 4),
        (biased(14, 5_000, 2, 0.3), 1),
        (biased(15, 3_000, 200, 0.1), 8),
    ] {
        let r = assess_with(&data, bits, &opts).unwrap();
        let mut rebuilt = Report::from_estimates(
            r.bits,
            r.literal.clone(),
            r.bitstring.clone(),
            r.skipped.clone(),
        )
        .unwrap()
        .with_samples(r.samples)
        .with_distinct(r.distinct)
        .with_bitstring_len(r.bitstring_len);
        if let Some(d) = r.mcv_literal {
            rebuilt = rebuilt.with_mcv_literal(d);
        }
        if let Some(d) = r.mcv_bitstring {
            rebuilt = rebuilt.with_mcv_bitstring(d);
        }
        assert_eq!(rebuilt, r);
    }
}

#[test]
fn input_errors_are_typed() {
    assert_eq!(assess(&[], 8), Err(AssessError::Empty));
    assert_eq!(assess(&[0, 1], 0), Err(AssessError::BadWidth { bits: 0 }));
    assert_eq!(assess(&[0, 1], 9), Err(AssessError::BadWidth { bits: 9 }));
    assert_eq!(
        assess(&[0, 1, 7, 8, 1], 3),
        Err(AssessError::SymbolTooWide {
            index: 3,
            value: 8,
            bits: 3
        })
    );
    assert_eq!(
        mcv(&[0], 2),
        Err(AssessError::TooFewSamples {
            estimator: Estimator::Mcv,
            needed: 2,
            got: 1
        })
    );
    assert_eq!(
        mcv(&[0, 1, 2], 2),
        Err(AssessError::SymbolOutOfAlphabet {
            index: 2,
            value: 2,
            k: 2
        })
    );
    assert_eq!(mcv(&[0, 1], 0), Err(AssessError::BadAlphabet { k: 0 }));
    assert_eq!(
        collision(&[0, 1, 2, 0, 1, 0]),
        Err(AssessError::NotBinary {
            estimator: Estimator::Collision
        })
    );
    assert_eq!(
        collision(&[0, 1, 0, 1, 0]),
        Err(AssessError::TooFewSamples {
            estimator: Estimator::Collision,
            needed: 6,
            got: 5
        })
    );
    assert_eq!(
        markov(&[1]),
        Err(AssessError::TooFewSamples {
            estimator: Estimator::Markov,
            needed: 2,
            got: 1
        })
    );
    // Two test blocks after the 1000-block dictionary (one would make the
    // variance 0/0; see tests/assess_degenerate.rs).
    assert_eq!(
        compression(&vec![0u8; 6011]),
        Err(AssessError::TooFewSamples {
            estimator: Estimator::Compression,
            needed: 6012,
            got: 6011
        })
    );
    assert!(compression(&vec![0u8; 6012]).is_ok());
    // Distinct symbols: nothing repeats 35 times.
    let distinct: Vec<u8> = (0..=255).collect();
    assert!(matches!(
        t_tuple(&distinct, 256),
        Err(AssessError::NoEstimate {
            estimator: Estimator::TTuple,
            ..
        })
    ));
    assert!(matches!(
        lrs(&distinct, 256),
        Err(AssessError::NoEstimate {
            estimator: Estimator::Lrs,
            ..
        })
    ));
    let opts = AssessOptions::default().with_estimators([]);
    assert_eq!(
        assess_with(&[0, 1], 1, &opts),
        Err(AssessError::NothingToRun)
    );
}

#[test]
fn tiny_inputs_name_the_estimator_that_needs_more() {
    // 100 8-bit samples: 800 bits, too few for Compression's 1000 blocks.
    let data = biased(14, 100, 255, 0.0);
    let err = assess(&data, 8).unwrap_err();
    assert_eq!(
        err,
        AssessError::TooFewSamples {
            estimator: Estimator::Compression,
            needed: 6012,
            got: 800
        }
    );
    assert!(err.to_string().contains("Compression (6.3.4)"), "{err}");
    // MultiMCW needs 4096 symbols (its largest window plus one).
    let no_compression = AssessOptions::default().with_estimators(
        Estimator::ALL
            .iter()
            .copied()
            .filter(|&e| e != Estimator::Compression),
    );
    assert!(matches!(
        assess_with(&data, 8, &no_compression),
        Err(AssessError::TooFewSamples {
            estimator: Estimator::MultiMcw,
            needed: 4096,
            ..
        })
    ));
    // Without those two the rest runs; t-Tuple and LRS on the literal set
    // have no tuple repeated 35 times, and are skipped as by the tool.
    let opts = AssessOptions::default().with_estimators(
        Estimator::ALL
            .iter()
            .copied()
            .filter(|&e| e != Estimator::Compression && e != Estimator::MultiMcw),
    );
    let r = assess_with(&data, 8, &opts).unwrap();
    assert!(r.get(DataSet::Literal, Estimator::TTuple).is_none());
    assert!(r.skipped.iter().any(|s| s.data_set == DataSet::Literal
        && matches!(
            s.reason,
            AssessError::NoEstimate {
                estimator: Estimator::TTuple,
                ..
            }
        )));
    assert!(r.assessed >= 0.0 && r.assessed <= 8.0);
    // Two samples are enough for MCV alone.
    let r = assess_with(
        &[0, 1],
        1,
        &AssessOptions::default().with_estimators([Estimator::Mcv]),
    )
    .unwrap();
    assert_eq!(r.literal.len(), 1);
    assert_eq!(r.assessed, 0.0, "p_u is capped at 1 for two samples");
}

#[test]
fn errors_display_and_are_std_errors() {
    let e: Box<dyn std::error::Error> = Box::new(AssessError::SymbolTooWide {
        index: 4,
        value: 0x80,
        bits: 7,
    });
    assert_eq!(
        e.to_string(),
        "sample 4 is 0x80, which does not fit in 7 bit(s) per symbol"
    );
    assert_eq!(Estimator::from_key("Multi_MCW"), Some(Estimator::MultiMcw));
    assert_eq!(Estimator::from_key("nope"), None);
    for e in Estimator::ALL {
        assert_eq!(Estimator::from_key(e.key()), Some(e));
    }
}

#[test]
fn small_random_inputs_never_panic_and_stay_in_range() {
    let mut g = SplitMix(99);
    for round in 0..400 {
        let n = 1 + (g.next() % 300) as usize;
        let bits = 1 + (g.next() % 8) as u8;
        let spread = 1 + g.next() % (1u64 << bits);
        let data: Vec<u8> = (0..n).map(|_| (g.next() % spread) as u8).collect();
        let k = 1usize << bits;
        for (e, r) in [
            (Estimator::Mcv, mcv(&data, k)),
            (Estimator::TTuple, t_tuple(&data, k)),
            (Estimator::Lrs, lrs(&data, k)),
        ] {
            match r {
                Ok(x) => assert!(
                    (0.0..=f64::from(bits)).contains(&x.min_entropy)
                        && x.p_max > 0.0
                        && x.p_max <= 1.0,
                    "round {round}: {e:?} gave {x:?}"
                ),
                Err(AssessError::TooFewSamples { .. } | AssessError::NoEstimate { .. }) => {}
                Err(other) => panic!("round {round}: {e:?}: unexpected {other:?}"),
            }
        }
        let bits01: Vec<u8> = data.iter().map(|&s| s & 1).collect();
        for r in [collision(&bits01), markov(&bits01)] {
            match r {
                Ok(x) => assert!((0.0..=1.0).contains(&x.min_entropy), "round {round}: {x:?}"),
                Err(AssessError::TooFewSamples { .. }) => {}
                Err(other) => panic!("round {round}: unexpected {other:?}"),
            }
        }
        let opts = AssessOptions::default().with_estimators([
            Estimator::Mcv,
            Estimator::Collision,
            Estimator::Markov,
            Estimator::TTuple,
            Estimator::Lrs,
        ]);
        match assess_with(&data, bits, &opts) {
            Ok(r) => assert!(
                (0.0..=f64::from(bits)).contains(&r.assessed),
                "round {round}: {r:?}"
            ),
            Err(AssessError::SingleSymbol { .. } | AssessError::TooFewSamples { .. }) => {}
            Err(other) => panic!("round {round}: unexpected {other:?}"),
        }
    }
}

#[test]
fn progress_is_reported_before_each_estimator_in_the_tools_order() {
    let data = biased(15, 10_000, 16, 0.2);
    let mut calls = Vec::new();
    // On one thread (several: tests/assess_parallel.rs).
    let one_thread = AssessOptions::default().with_threads(std::num::NonZeroUsize::new(1));
    let r =
        assess_with_progress(&data, 4, &one_thread, &mut |set, e| calls.push((set, e))).unwrap();
    // The bitstring first, as ea_non_iid prints it; t-Tuple and LRS share one
    // call; the binary-only estimators appear for the bitstring only.
    let mut expected: Vec<(DataSet, Estimator)> = Estimator::ALL
        .iter()
        .filter(|&&e| e != Estimator::Lrs)
        .map(|&e| (DataSet::Bitstring, e))
        .collect();
    expected.extend(
        Estimator::ALL
            .iter()
            .filter(|&&e| e != Estimator::Lrs && !e.binary_only())
            .map(|&e| (DataSet::Literal, e)),
    );
    assert_eq!(calls, expected);
    assert_eq!(r.bitstring.len(), 10);
    assert_eq!(r.literal.len(), 7);
}

#[test]
fn too_short_estimators_can_be_skipped_like_the_tool() {
    // 1000 4-bit samples: MultiMCW needs 4096 on the literal set; the
    // 4000-bit bitstring is too short for Compression (6012) and fine for
    // MultiMCW.
    let data = biased(16, 1000, 16, 0.3);
    assert!(matches!(
        assess(&data, 4),
        Err(AssessError::TooFewSamples {
            estimator: Estimator::Compression,
            ..
        })
    ));
    let opts = AssessOptions::default().with_skip_too_short(true);
    let r = assess_with(&data, 4, &opts).unwrap();
    let skipped: Vec<(DataSet, Estimator)> = r
        .skipped
        .iter()
        .filter_map(|s| match s.reason {
            AssessError::TooFewSamples { estimator, .. } => Some((s.data_set, estimator)),
            _ => None,
        })
        .collect();
    assert_eq!(
        skipped,
        [
            (DataSet::Bitstring, Estimator::Compression),
            (DataSet::Bitstring, Estimator::MultiMcw),
            (DataSet::Literal, Estimator::MultiMcw)
        ]
    );
    assert!(r.get(DataSet::Literal, Estimator::MultiMcw).is_none());
    assert!(r.get(DataSet::Literal, Estimator::Lag).is_some());
    assert!((0.0..=4.0).contains(&r.assessed));
}
