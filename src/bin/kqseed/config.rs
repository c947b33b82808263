//! The collector and seeder configuration that every collecting subcommand
//! takes, turned into the library's [`SeederConfig`] and checked by the
//! library's own validation.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args as ClapArgs, ValueEnum};
use kqseed::{ConfigError, CreditPolicy, KqueueEventsConfig, Sampling, SeederConfig};

use crate::out::Failure;

/// Timer intervals as given on the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Timers(pub Vec<Duration>);

/// Parses `--timers-us`: comma-separated microseconds (fractions allowed);
/// an empty list means no timer. The range is the library's to check; only
/// what cannot be a duration at all is refused here.
pub fn parse_timers(s: &str) -> Result<Timers, String> {
    s.split(',')
        .map(str::trim)
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let us: f64 = piece
                .parse()
                .map_err(|_| format!("`{piece}` is not a number of microseconds"))?;
            Duration::try_from_secs_f64(us / 1e6)
                .map_err(|_| format!("`{piece}` microseconds is not a duration"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Timers)
}

/// Parses a credit in bits per sample; the range is the library's to check.
fn parse_credit(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of bits"))?;
    Ok(x)
}

/// Where the collector reads the clock (`--sampling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SamplingArg {
    /// One sample per return of the wait call (the whole pass).
    PerWakeup,
    /// One sample per kernel path of the pass (wait, timer read, socket and
    /// file drains, socket poke, file touch).
    PerPath,
}

impl From<SamplingArg> for Sampling {
    fn from(arg: SamplingArg) -> Sampling {
        match arg {
            SamplingArg::PerWakeup => Sampling::PerWakeup,
            SamplingArg::PerPath => Sampling::PerPath,
        }
    }
}

/// The library's sampling, in the CLI's spelling.
pub fn sampling_name(sampling: Sampling) -> &'static str {
    match sampling {
        Sampling::PerPath => "per-path",
        _ => "per-wakeup",
    }
}

/// The event sources, the wait, and the credit (defaults: the library's).
///
/// Each help text names the default it reads from the library (see
/// [`defaults`]), so the help cannot drift from what runs.
#[derive(Debug, Clone, Default, ClapArgs)]
pub struct SourceArgs {
    /// Timer intervals in microseconds, comma-separated, e.g. `20,26,34`;
    /// `--timers-us ''` runs without timers. Intervals given are kept: the
    /// collector does not shorten them (`adapt_timers`).
    #[arg(long, value_name = "US,...", value_parser = parse_timers, allow_hyphen_values = true,
          help = defaults::timers())]
    pub timers_us: Option<Timers>,
    /// Socket pairs.
    #[arg(long, value_name = "N", help = defaults::sockets())]
    pub sockets: Option<usize>,
    /// Watched files.
    #[arg(long, value_name = "N", help = defaults::files())]
    pub files: Option<usize>,
    /// How long one wait may block before it is an error, in milliseconds.
    #[arg(long, value_name = "MS", help = defaults::timeout_ms())]
    pub timeout_ms: Option<u64>,
    /// Most events one wait call returns.
    #[arg(long, value_name = "N", help = defaults::max_events())]
    pub max_events: Option<usize>,
    /// Parent directory of the watched files' private directory (default:
    /// the system's temporary directory).
    #[arg(long, value_name = "DIR")]
    pub temp_dir: Option<PathBuf>,
    /// One sample per return of the wait call, or one per kernel path of
    /// each pass.
    #[arg(long, value_enum, help = defaults::sampling())]
    pub sampling: Option<SamplingArg>,
    /// The most min-entropy any noise source (kernel path) is credited per
    /// sample, in bits.
    #[arg(long, value_name = "BITS", value_parser = parse_credit, allow_hyphen_values = true,
          help = defaults::credit())]
    pub credit: Option<f64>,
    /// Keep every kernel path a noise source: start-up may not take whole
    /// passes instead, even where they would be credited more a pass (the
    /// library's `CreditPolicy::whole_passes`, on by default).
    #[arg(long)]
    pub no_whole_passes: bool,
}

/// The help texts of [`SourceArgs`], each with the library's default.
pub mod defaults {
    use kqseed::{KqueueEventsConfig, SeederConfig};

    use super::sampling_name;

    fn events() -> KqueueEventsConfig {
        KqueueEventsConfig::default()
    }

    /// `--timers-us`.
    pub fn timers() -> String {
        let timers = events().timer_intervals;
        let list = if timers.is_empty() {
            "none".to_string()
        } else {
            timers
                .iter()
                .map(|t| format!("{}", t.as_secs_f64() * 1e6))
                .collect::<Vec<_>>()
                .join(",")
        };
        format!(
            "Timer intervals in microseconds, comma-separated, e.g. `20,26,34`; \
             `--timers-us ''` runs without timers (default {list}, which the collector shortens \
             where its first passes do not outrun it; intervals given here are kept)"
        )
    }

    /// `--sockets`.
    pub fn sockets() -> String {
        format!("Socket pairs (default {})", events().num_sockets)
    }

    /// `--files`.
    pub fn files() -> String {
        format!("Watched files (default {})", events().num_file_watchers)
    }

    /// `--timeout-ms`.
    pub fn timeout_ms() -> String {
        format!(
            "How long one wait may block before it is an error, in milliseconds (default {})",
            events().timeout.as_millis()
        )
    }

    /// `--max-events`.
    pub fn max_events() -> String {
        format!(
            "Most events one wait call returns (default {})",
            events().max_events
        )
    }

    /// `--sampling`.
    pub fn sampling() -> String {
        format!(
            "One sample per return of the wait call, or one per kernel path of each pass \
             (default {})",
            sampling_name(events().sampling)
        )
    }

    /// `--credit`.
    pub fn credit() -> String {
        let cap = SeederConfig::default().credit.cap;
        format!(
            "The most min-entropy any noise source (kernel path) is credited per sample, in bits \
             (default {cap}: no cap beyond each path's ceiling and its start-up estimate, which \
             decide every path's own credit; `kqseed report` shows them)"
        )
    }
}

impl SourceArgs {
    /// The configuration these flags give, validated by the library.
    pub fn seeder_config(&self) -> Result<SeederConfig, Failure> {
        let mut events = KqueueEventsConfig::default();
        if let Some(Timers(t)) = &self.timers_us {
            // Intervals asked for are kept as they are.
            events.timer_intervals = t.clone();
            events.adapt_timers = false;
        }
        if let Some(n) = self.sockets {
            events.num_sockets = n;
        }
        if let Some(n) = self.files {
            events.num_file_watchers = n;
        }
        if let Some(ms) = self.timeout_ms {
            events.timeout = Duration::from_millis(ms);
        }
        if let Some(n) = self.max_events {
            events.max_events = n;
        }
        if let Some(dir) = &self.temp_dir {
            events.temp_dir = Some(dir.clone());
        }
        if let Some(sampling) = self.sampling {
            events.sampling = sampling.into();
        }
        let mut config = SeederConfig::default().with_events(events);
        if let Some(h) = self.credit {
            config.credit = CreditPolicy::capped(h);
        }
        if self.no_whole_passes {
            config.credit.whole_passes = false;
        }
        config.validate().map_err(Failure::from)?;
        Ok(config)
    }
}

/// The flag that sets a configuration field, for messages.
fn flag_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "timer_intervals" => "--timers-us",
        "num_sockets" => "--sockets",
        "num_file_watchers" => "--files",
        "timeout" => "--timeout-ms",
        "max_events" => "--max-events",
        "temp_dir" => "--temp-dir",
        "cap" => "--credit",
        _ => return None,
    })
}

/// The library's message, with the flag to change.
pub fn explain(e: &ConfigError) -> String {
    match flag_of(e.field) {
        Some(flag) => format!("{e} (set by {flag})"),
        None => e.to_string(),
    }
}

/// A number of bits in words: "1 bit", "2.5 bits".
pub fn bits(x: f64) -> String {
    if x == 1.0 {
        "1 bit".to_string()
    } else {
        format!("{x} bits")
    }
}

/// The configuration in words, one line.
pub fn describe(config: &SeederConfig) -> String {
    let e = &config.events;
    let timers = if e.timer_intervals.is_empty() {
        "no timer".to_string()
    } else {
        let list: Vec<String> = e
            .timer_intervals
            .iter()
            .map(|d| format!("{}", d.as_secs_f64() * 1e6))
            .collect();
        format!("timers {} us", list.join(","))
    };
    let whole = if config.credit.whole_passes && e.sampling == Sampling::PerPath {
        " (or per whole pass or its thirds, unless the paths credit twice as much)"
    } else {
        ""
    };
    let credit = if config.credit.cap < 8.0 {
        format!(
            "credit per path{whole} decided at start-up, at most {}",
            bits(config.credit.cap)
        )
    } else {
        format!("credit per path{whole} decided at start-up")
    };
    format!(
        "{timers}, {} socket pair(s), {} watched file(s), sampling {}, timeout {} ms, max {} events per wait, {credit}",
        e.num_sockets,
        e.num_file_watchers,
        sampling_name(e.sampling),
        e.timeout.as_millis(),
        e.max_events,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn timer_lists_parse_and_empty_means_none() {
        assert_eq!(
            parse_timers("20,26,34").unwrap().0,
            [20_000, 26_000, 34_000].map(Duration::from_nanos)
        );
        assert_eq!(parse_timers("0.5").unwrap().0, [Duration::from_nanos(500)]);
        assert!(parse_timers("").unwrap().0.is_empty());
        assert!(parse_timers(" , ").unwrap().0.is_empty());
        assert!(parse_timers("5,x").unwrap_err().contains("`x`"));
        assert!(parse_timers("-1").is_err());
        assert!(parse_timers("NaN").is_err());
        assert!(parse_timers("1e300").is_err());
    }

    #[test]
    fn the_library_validates_and_names_the_flag() {
        let args = SourceArgs {
            sockets: Some(65),
            ..SourceArgs::default()
        };
        let Err(Failure::Usage(m)) = args.seeder_config() else {
            panic!("65 socket pairs accepted");
        };
        assert!(
            m.contains("`num_sockets`") && m.contains("--sockets"),
            "{m}"
        );
        let args = SourceArgs {
            timers_us: Some(Timers(vec![])),
            sockets: Some(0),
            files: Some(0),
            ..SourceArgs::default()
        };
        assert!(matches!(args.seeder_config(), Err(Failure::Usage(_))));
        let args = SourceArgs {
            credit: Some(9.0),
            ..SourceArgs::default()
        };
        let Err(Failure::Usage(m)) = args.seeder_config() else {
            panic!("a credit of 9 bits accepted");
        };
        assert!(m.contains("--credit"), "{m}");
        assert!(SourceArgs::default().seeder_config().is_ok());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Any text at all: a list of durations or a one-line message, never
        /// a panic.
        #[test]
        fn timer_parsing_never_panics(s in ".*") {
            match parse_timers(&s) {
                Ok(Timers(list)) => prop_assert!(list.len() <= s.split(',').count()),
                Err(m) => prop_assert!(!m.contains('\n')),
            }
        }

        /// Numeric lists round-trip to the nanosecond.
        #[test]
        fn timer_lists_round_trip(us in proptest::collection::vec(0u32..10_000_000, 0..8)) {
            let text: Vec<String> = us.iter().map(u32::to_string).collect();
            let Timers(parsed) = parse_timers(&text.join(",")).unwrap();
            let expected: Vec<Duration> = us.iter().map(|&u| Duration::from_micros(u.into())).collect();
            prop_assert_eq!(parsed, expected);
        }

        /// Any combination of values: the library accepts it or explains it
        /// in one line naming a flag, never a panic.
        #[test]
        fn any_configuration_validates_or_explains(
            timers in proptest::collection::vec(0.0f64..2e7, 0..4),
            sockets in 0usize..100,
            files in 0usize..100,
            timeout_ms in 0u64..5_000_000,
            max_events in 0usize..2000,
            credit in -1.0f64..10.0,
            per_path in proptest::bool::ANY,
        ) {
            let args = SourceArgs {
                timers_us: Some(Timers(timers.iter().map(|&us| Duration::from_secs_f64(us / 1e6)).collect())),
                sockets: Some(sockets),
                files: Some(files),
                timeout_ms: Some(timeout_ms),
                max_events: Some(max_events),
                temp_dir: None,
                sampling: Some(if per_path { SamplingArg::PerPath } else { SamplingArg::PerWakeup }),
                credit: Some(credit),
                no_whole_passes: false,
            };
            match args.seeder_config() {
                Ok(c) => {
                    prop_assert!(c.events.validate().is_ok());
                    prop_assert!(credit > 0.0 && credit <= 8.0);
                }
                Err(Failure::Usage(m)) => {
                    prop_assert!(!m.contains('\n'));
                    prop_assert!(m.contains("(set by --"), "{}", m);
                }
                Err(other) => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }
}
