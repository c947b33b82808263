//! `kqseed stream`: random bytes on standard output, until the reader closes
//! it or `-n BYTES` are out. For statistical batteries (dieharder, rngtest,
//! ent) and for piping seeds.

use clap::{Args as ClapArgs, ValueEnum};
use kqseed::{GeneratorConfig, KqSeeder, SeederConfig};
use rand_core::TryRng;

use crate::config::SourceArgs;
use crate::out::{self, CliResult, Failure, Sink};

/// Bytes asked of the source per write: whole 32-byte blocks, few enough
/// that a slow source shows output soon.
const CHUNK: usize = 4096;

/// Where the bytes come from. The help reads the budgets and the credit
/// from the library (see [`help`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Source {
    /// The reseeding ChaCha20 generator (`kqseed::KqRng`) with its default
    /// budgets, reseeded from a seeding service with the configuration
    /// given.
    #[value(help = help::generator())]
    Generator,
    /// The seeder's conditioned, health-tested 32-byte blocks, each
    /// credited with 320 bits of min-entropy: the source's own rate.
    #[value(help = help::seeder())]
    Seeder,
}

/// The help texts of [`Source`], with the library's figures.
mod help {
    use kqseed::conditioner::FULL_ENTROPY_CREDIT_BITS;
    use kqseed::{DEFAULT_RESEED_AFTER, DEFAULT_RESEED_AFTER_BYTES};

    /// `--source generator`.
    pub fn generator() -> String {
        format!(
            "The reseeding ChaCha20 generator (`kqseed::KqRng`), reseeded every {} MiB or {} s \
             from a seeding service with the collector configuration and credit given: as fast \
             as ChaCha20",
            DEFAULT_RESEED_AFTER_BYTES >> 20,
            DEFAULT_RESEED_AFTER.as_secs()
        )
    }

    /// `--source seeder`.
    pub fn seeder() -> String {
        format!(
            "The seeder's conditioned, health-tested 32-byte blocks, each credited with \
             {FULL_ENTROPY_CREDIT_BITS} bits of min-entropy, every noise source credited as \
             start-up decides: the source's own rate, not a generator's"
        )
    }
}

/// Arguments of `kqseed stream`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Write exactly BYTES bytes, then stop (default: until the reader
    /// closes standard output).
    #[arg(short = 'n', long = "bytes", value_name = "BYTES")]
    bytes: Option<u64>,
    /// The source of the bytes.
    #[arg(long, value_enum, default_value_t = Source::Generator)]
    source: Source,
    #[command(flatten)]
    config: SourceArgs,
}

/// What `stream` needs of a source: fill a buffer or say why not.
trait ByteSource {
    fn fill(&mut self, dst: &mut [u8]) -> Result<(), kqseed::Error>;
}

impl<R: TryRng<Error = kqseed::Error>> ByteSource for R {
    fn fill(&mut self, dst: &mut [u8]) -> Result<(), kqseed::Error> {
        self.try_fill_bytes(dst)
    }
}

/// Opens `source` with `config`, and says on stderr what it is.
fn open(source: Source, config: SeederConfig) -> Result<Box<dyn ByteSource>, Failure> {
    match source {
        Source::Generator => {
            out::note(format_args!(
                "streaming the reseeding ChaCha20 generator (reseeded every 64 MiB or 60 s from health-tested blocks)"
            ));
            let config = GeneratorConfig::default().with_seeder(config);
            Ok(Box::new(kqseed::KqRng::with_config(config)?))
        }
        Source::Seeder => {
            out::note(format_args!(
                "streaming the seeder's conditioned, health-tested blocks: 32 bytes per {} credited bits, each noise source credited as start-up decides, so this runs at the source's own rate, a few KB/s, not a generator's (`kqseed report` shows each source's credit)",
                kqseed::conditioner::FULL_ENTROPY_CREDIT_BITS
            ));
            Ok(Box::new(KqSeeder::with_config(config)?))
        }
    }
}

/// Runs `kqseed stream`.
pub fn run(args: &Args) -> CliResult {
    // As `kqseed raw` and `report`: `-n 0` asks for nothing, so it is
    // refused rather than answered with an empty stream.
    if args.bytes == Some(0) {
        return Err(Failure::Usage("-n must be at least 1".into()));
    }
    let config = args.config.seeder_config()?;
    let mut sink = Sink::open(None, true)?;
    let mut source = open(args.source, config)?;
    let mut buf = vec![0u8; CHUNK];
    let mut left = args.bytes;
    while left != Some(0) {
        let k = left.map_or(CHUNK, |l| CHUNK.min(usize::try_from(l).unwrap_or(CHUNK)));
        source
            .fill(&mut buf[..k])
            .map_err(|e| Failure::Failed(format!("stream stopped: {e}")))?;
        sink.write(&buf[..k])?;
        // A slow source: let the reader see each chunk as it comes.
        sink.flush()?;
        if let Some(l) = &mut left {
            *l -= k as u64;
        }
    }
    sink.flush()
}
