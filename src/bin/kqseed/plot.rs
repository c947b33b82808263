//! `kqseed report --plot FILE.svg`: one SVG of four panels, drawn with
//! plotters' SVG backend: the delta histogram (log counts), the symbol
//! histogram, the symbols' autocorrelation for lags 1-128 with its 99% band,
//! and every noise source's assessed figure against twice its credit (the
//! verdict's bound), with the verdict in the title.

use std::path::Path;

use plotters::prelude::*;

use crate::report::{Findings, MAX_LAG};

/// Bins of the delta histogram.
const DELTA_BINS: usize = 200;

type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Draws the four panels into `path`. Drawn into memory and written in one
/// checked write: plotters' file backend drops its buffered writer without
/// flushing it, so a failed last write (a full disk) went unreported.
pub fn draw(path: &Path, f: &Findings, deltas: &[u64], symbols: &[u8]) -> DrawResult {
    let mut svg = String::new();
    render(&mut svg, f, deltas, symbols)?;
    std::fs::write(path, svg)?;
    Ok(())
}

fn render(svg: &mut String, f: &Findings, deltas: &[u64], symbols: &[u8]) -> DrawResult {
    let root = SVGBackend::with_string(svg, (1400, 1000)).into_drawing_area();
    root.fill(&WHITE)?;
    let verdict = match f.verdict() {
        Ok(_) => "verdict OK".to_string(),
        Err(_) => "verdict WARNING: a credit is over half its figure".to_string(),
    };
    let title = format!(
        "kqseed report: {} samples, {} backend; {verdict}",
        f.samples, f.backend
    );
    let root = root.titled(&title, ("sans-serif", 18))?;
    let panels = root.split_evenly((2, 2));
    deltas_panel(&panels[0], f, deltas)?;
    symbols_panel(&panels[1], symbols)?;
    autocorrelation_panel(&panels[2], f)?;
    estimates_panel(&panels[3], f)?;
    root.present()?;
    Ok(())
}

fn deltas_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    f: &Findings,
    deltas: &[u64],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    // Log-spaced bins from the shortest delta to the longest, in
    // microseconds: the narrow peak of ordinary wakeups and the long tail
    // of preempted waits both show.
    let us_per_tick = f.clock.nanos_per_tick / 1000.0;
    let lo = deltas.iter().copied().min().unwrap_or(1).max(1) as f64 * us_per_tick;
    let hi = (deltas.iter().copied().max().unwrap_or(1) as f64 * us_per_tick).max(lo * 1.01);
    let (ln_lo, ln_hi) = (lo.ln(), hi.ln());
    let width = (ln_hi - ln_lo) / DELTA_BINS as f64;
    let mut counts = vec![0u64; DELTA_BINS];
    let mut zeros = 0u64;
    for &d in deltas {
        if d == 0 {
            zeros += 1;
            continue;
        }
        let x = (d as f64 * us_per_tick).ln();
        let bin = (((x - ln_lo) / width) as usize).min(DELTA_BINS - 1);
        counts[bin] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 2.0;
    let caption = if zeros > 0 {
        format!("Raw deltas ({zeros} zero deltas not shown)")
    } else {
        "Raw deltas".to_string()
    };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((lo..hi).log_scale(), (0.8f64..top).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("delta (us, log)")
        .y_desc("samples (log)")
        .x_label_formatter(&|x| format!("{x}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    chart.draw_series(
        counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, &c)| {
                let x0 = (ln_lo + i as f64 * width).exp();
                let x1 = (ln_lo + (i + 1) as f64 * width).exp();
                Rectangle::new([(x0, 0.8), (x1, c as f64)], BLUE.mix(0.7).filled())
            }),
    )?;
    Ok(())
}

fn symbols_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    symbols: &[u8],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let mut counts = [0u64; 256];
    for &s in symbols {
        counts[usize::from(s)] += 1;
    }
    let expected = symbols.len() as f64 / 256.0;
    let top = (counts.iter().copied().max().unwrap_or(1) as f64).max(expected) * 1.15;
    let mut chart = ChartBuilder::on(area)
        .caption(
            "8-bit symbols (low byte of delta / step)",
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..256f64, 0f64..top)?;
    chart
        .configure_mesh()
        .x_desc("symbol")
        .y_desc("samples")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    chart.draw_series(counts.iter().enumerate().map(|(i, &c)| {
        Rectangle::new(
            [(i as f64, 0.0), (i as f64 + 0.9, c as f64)],
            BLUE.mix(0.7).filled(),
        )
    }))?;
    chart
        .draw_series(LineSeries::new(
            [(0.0, expected), (256.0, expected)],
            RED.stroke_width(2),
        ))?
        .label("uniform")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;
    Ok(())
}

fn autocorrelation_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    f: &Findings,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let max = f.autocorrelation.iter().fold(f.band, |m, r| m.max(r.abs())) * 1.25;
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("Autocorrelation of the symbols, lags 1-{MAX_LAG}"),
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..(MAX_LAG as f64 + 1.0), -max..max)?;
    chart
        .configure_mesh()
        .x_desc("lag")
        .y_desc("r(lag)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()?;
    chart
        .draw_series(LineSeries::new(
            f.autocorrelation
                .iter()
                .enumerate()
                .map(|(i, &r)| (i as f64 + 1.0, r)),
            BLUE.stroke_width(2),
        ))?
        .label("r(lag)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    for sign in [1.0, -1.0] {
        let band = chart.draw_series(LineSeries::new(
            [(0.0, sign * f.band), (MAX_LAG as f64 + 1.0, sign * f.band)],
            RED.stroke_width(1),
        ))?;
        if sign > 0.0 {
            band.label("99% band for independent symbols")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED));
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;
    Ok(())
}

fn estimates_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    f: &Findings,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    // One bar per stream: the interleaved one, then each source's own,
    // with a red tick at twice the credit the verdict judges (the bar
    // must reach it).
    let mut streams: Vec<(String, Option<f64>, f64)> = vec![(
        "interleaved".to_string(),
        f.assessment.as_ref().ok().map(|r| r.assessed),
        f.judged_credit(),
    )];
    for p in &f.paths {
        streams.push((
            p.path.name().to_string(),
            p.assessed.as_ref().ok().copied(),
            p.judged_credit(),
        ));
    }
    let n = streams.len();
    let top = streams
        .iter()
        .filter_map(|s| s.1)
        .fold(1.0f64, f64::max)
        .max(8.0);
    let names: Vec<String> = streams.iter().map(|s| s.0.clone()).collect();
    let mut chart = ChartBuilder::on(area)
        .caption(
            "Each stream's assessed min-entropy against 2 x its credit (bits per sample)",
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 0.01 && i >= 0.0 && (i as usize) < n {
                names[i as usize].clone()
            } else {
                String::new()
            }
        })
        .y_desc("bits per sample")
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    chart
        .draw_series(streams.iter().enumerate().filter_map(|(i, s)| {
            let h = s.1?;
            let x = i as f64;
            let colour = if 2.0 * s.2 <= h { BLUE } else { RED };
            Some(Rectangle::new(
                [(x - 0.3, 0.0), (x + 0.3, h)],
                colour.mix(0.6).filled(),
            ))
        }))?
        .label("assessed (all ten estimators, 1 stream each)")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], BLUE.mix(0.6).filled()));
    chart
        .draw_series(streams.iter().enumerate().map(|(i, s)| {
            let x = i as f64;
            PathElement::new(
                [(x - 0.4, 2.0 * s.2), (x + 0.4, 2.0 * s.2)],
                RED.stroke_width(3),
            )
        }))?
        .label("2 x credit (the verdict's bound)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(3)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .draw()?;
    Ok(())
}
