//! `KqSeeder`: the `rand_core` 0.10 adapter over the release pipeline and a
//! collector.

use core::fmt;

use rand_core::{SeedableRng, TryCryptoRng, TryRng};
use zeroize::{Zeroize, Zeroizing};

use crate::collector::{ClockInfo, Collector, alloc_samples};
use crate::conditioner::{BLOCK_LEN, ConditionerStats, join_shares};
use crate::config::SeederConfig;
use crate::error::{Error, Result};
use crate::health::HealthStats;
use crate::pipeline::{Pipeline, SampleSource};
use crate::resolution::{detect_resolution, symbol};
use crate::sources::{PerPath, SourceStats};
use crate::startup::StartupReport;
use crate::sys;

/// Counters and health of a [`KqSeeder`] (no secret in it).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct SeederStats {
    /// Samples taken from the source.
    pub samples: u64,
    /// Min-entropy credited to the conditioner, in bits.
    pub credited_bits: f64,
    /// 32-byte blocks released.
    pub blocks: u64,
    /// Shares of blocks released, with several
    /// [`collectors`](SeederConfig::collectors).
    pub shares: u64,
    /// Times the pool was emptied: once per sample that failed a health
    /// test, once per fork seen, once per credit the online check lowered,
    /// and once per change of the clock's step resolution it measured.
    pub discards: u64,
    /// Forks seen: each made this (child) process discard its copy of the
    /// pool and run start-up again.
    pub forks: u64,
    /// Start-up refusals of the current source instance (see
    /// [`MAX_STARTUP_REFUSALS`](crate::MAX_STARTUP_REFUSALS)).
    pub startup_refusals: u32,
    /// Times 32 bytes of OS entropy were absorbed (one per pool) under
    /// [`SeederConfig::hedge_with_os_entropy`]; 0 when it is off.
    pub os_entropy_absorbed: u64,
    /// The health tests' counters, summed over every source (maxima: the
    /// largest of any source).
    pub health: HealthStats,
    /// The conditioner's counters.
    pub conditioner: ConditionerStats,
    /// The start-up report, once start-up has passed: the clock's
    /// effective resolution and every source's decided credit.
    pub startup: Option<StartupReport>,
    /// The clock's effective resolution, in ticks, whose steps the online
    /// check counts for the ceilings: start-up's, or a coarser one it
    /// measured since ([`NoiseSources::step_resolution_ticks`](crate::NoiseSources::step_resolution_ticks));
    /// `None` before start-up.
    pub step_resolution_ticks: Option<f64>,
    /// The expirations per timer event of the window in which the passes
    /// stopped running ahead of their timer, which lowered every credit
    /// ([`NoiseSources::note_wakeup`](crate::NoiseSources::note_wakeup));
    /// `None` while they run ahead, or before start-up.
    pub pace_lost: Option<f64>,
    /// Each noise source's counters and credit now (the paths start-up
    /// saw).
    pub sources: PerPath<SourceStats>,
}

/// The live state, made on first use. Both parts are boxed, so moving it
/// moves two pointers and no secret.
struct Core {
    pipeline: Box<Pipeline>,
    source: Box<dyn SampleSource>,
}

/// Seeds from event-queue timing jitter, through SP 800-90B health tests and
/// SHA-256 conditioning.
///
/// * [`new`](KqSeeder::new) is cheap and cannot fail: the queue opens on first
///   use. [`with_config`](KqSeeder::with_config) validates a configuration.
/// * Before the first output byte, the start-up test runs on
///   `health.startup_samples` (2048) consecutive samples, and the start-up
///   checks ([`StartupFailure`](crate::StartupFailure)) look at the clock and
///   run the fast section 6.3 estimators on them. After
///   [`MAX_STARTUP_REFUSALS`](crate::MAX_STARTUP_REFUSALS) refusals the
///   refusal latches.
/// * Every sample then passes the Repetition Count, Adaptive Proportion and
///   predictor tests ([`health`](crate::health)) before it is credited. Each
///   32-byte block is one SHA-256 over samples crediting 320 bits (256 + 64,
///   SP 800-90C's rule for full entropy). An intermittent failure discards
///   what was pooled since the last block; a permanent one makes every later
///   call fail.
/// * In a forked child the seeder never continues its parent's pool: it
///   rebuilds its queue, mixes in a fork record, and runs start-up again.
///
/// It implements [`TryRng`] and [`TryCryptoRng`], so
/// `R::try_from_rng(&mut seeder)` seeds any [`SeedableRng`];
/// [`seed_rng`](KqSeeder::seed_rng) does the same and wipes its copy of the
/// seed. `KqSeeder` is `Send + Sync` on every backend.
///
/// Every request takes whole 32-byte blocks: `try_next_u32` and
/// `try_next_u64` each cost a whole block (320 credited bits, about 3.6 ms
/// warm on the AMD EPYC guest: README, Speed), and so
/// does every call through [`rand_core::UnwrapErr`]. Draw a seed, or use
/// [`KqRng`](crate::KqRng), for many small values.
///
/// ```
/// use rand_chacha::ChaCha20Rng;
/// use rand_core::Rng;
///
/// let mut rng: ChaCha20Rng = kqseed::KqSeeder::new().seed_rng()?;
/// let _ = rng.next_u64();
/// # Ok::<(), kqseed::Error>(())
/// ```
pub struct KqSeeder {
    config: SeederConfig,
    /// The first collector, on the caller's thread.
    core: Option<Core>,
    /// The other [`SeederConfig::collectors`], each run on a thread of its
    /// own during a request; empty with one collector.
    helpers: Vec<Core>,
    /// Blocks joined from the collectors' shares.
    joined_blocks: u64,
    /// Whether the collectors may run at once: as many CPUs as collectors
    /// for this thread (`available_parallelism`, which honours the CPU
    /// affinity mask and cgroup quotas), as of the first request. Else they
    /// take turns.
    at_once: Option<bool>,
}

impl fmt::Debug for KqSeeder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failed = self.latched();
        f.debug_struct("KqSeeder")
            .field("config", &self.config)
            .field("stats", &self.stats())
            .field("failed", &failed)
            .finish_non_exhaustive()
    }
}

impl Default for KqSeeder {
    fn default() -> Self {
        KqSeeder::new()
    }
}

impl KqSeeder {
    /// A seeder with the default configuration. Nothing is opened yet.
    pub fn new() -> KqSeeder {
        KqSeeder {
            config: SeederConfig::default(),
            core: None,
            helpers: Vec::new(),
            joined_blocks: 0,
            at_once: None,
        }
    }

    /// A seeder with `config`, validated now. Nothing is opened yet.
    pub fn with_config(config: SeederConfig) -> Result<KqSeeder> {
        config.validate()?;
        Ok(KqSeeder {
            config,
            core: None,
            helpers: Vec::new(),
            joined_blocks: 0,
            at_once: None,
        })
    }

    /// A seeder that plays back recorded deltas instead of collecting.
    /// Test-only: compiled for the crate's tests and under
    /// `--cfg kqseed_replay`, which no dependent can turn on.
    /// Every delta is one source's, [`KernelPath::Pass`], as with per-wakeup
    /// sampling.
    #[doc(hidden)]
    #[cfg(any(test, kqseed_replay))]
    pub fn from_replay(config: SeederConfig, deltas: Vec<u64>) -> Result<KqSeeder> {
        Self::replaying(config, crate::pipeline::Replay::new(deltas))
    }

    /// As [`from_replay`](KqSeeder::from_replay), with the kernel path each
    /// delta measured (per-path sampling, `kqseed raw --path-labels`).
    #[doc(hidden)]
    #[cfg(any(test, kqseed_replay))]
    pub fn from_replay_paths(
        config: SeederConfig,
        deltas: Vec<u64>,
        paths: Vec<crate::KernelPath>,
    ) -> Result<KqSeeder> {
        Self::replaying(config, crate::pipeline::Replay::with_paths(deltas, paths))
    }

    /// A seeder of [`SeederConfig::collectors`] collectors, each playing
    /// back its own recording (one per collector, the first first).
    #[cfg(test)]
    pub(crate) fn from_replays(
        config: SeederConfig,
        replays: Vec<crate::pipeline::Replay>,
    ) -> Result<KqSeeder> {
        assert_eq!(replays.len(), config.collectors, "one replay a collector");
        let mut replays = replays.into_iter();
        let first = replays.next().expect("one collector at least");
        let mut seeder = Self::replaying(config, first)?;
        for replay in replays {
            seeder.helpers.push(Core {
                pipeline: Box::new(Pipeline::new(&seeder.config)?),
                source: Box::new(replay),
            });
        }
        Ok(seeder)
    }

    #[cfg(any(test, kqseed_replay))]
    fn replaying(config: SeederConfig, replay: crate::pipeline::Replay) -> Result<KqSeeder> {
        config.validate()?;
        let core = Core {
            pipeline: Box::new(Pipeline::new(&config)?),
            source: Box::new(replay),
        };
        Ok(KqSeeder {
            config,
            core: Some(core),
            helpers: Vec::new(),
            joined_blocks: 0,
            at_once: None,
        })
    }

    /// The configuration it was made with (its collector may since have
    /// shortened its timers: [`KqueueEventsConfig::adapt_timers`](crate::KqueueEventsConfig::adapt_timers)).
    pub fn config(&self) -> &SeederConfig {
        &self.config
    }

    /// Counters, health and the start-up report: the first collector's,
    /// with [`blocks`](SeederStats::blocks) every block this seeder
    /// released (with several [`collectors`](SeederConfig::collectors),
    /// those joined from their shares too;
    /// [`collector_stats`](Self::collector_stats) has each collector's
    /// own).
    pub fn stats(&self) -> SeederStats {
        let mut stats = self
            .core
            .as_ref()
            .map_or_else(SeederStats::default, |c| c.pipeline.stats());
        stats.blocks += self.joined_blocks;
        stats
    }

    /// Each collector's counters, health and start-up report, the first
    /// (the caller's thread) first; a collector not opened yet is left out.
    /// There [`shares`](SeederStats::shares) are the shares a collector
    /// released ([`SeederConfig::collectors`]), and
    /// [`blocks`](SeederStats::blocks) the blocks it released alone (the
    /// first, to async requests).
    pub fn collector_stats(&self) -> Vec<SeederStats> {
        self.core
            .iter()
            .chain(&self.helpers)
            .map(|c| c.pipeline.stats())
            .collect()
    }

    /// The backend (`"kqueue"` or `"epoll"`).
    pub fn backend(&self) -> &'static str {
        sys::NAME
    }

    /// The clock the collector reads.
    pub fn clock(&self) -> Result<ClockInfo> {
        sys::clock_info()
    }

    /// The pipeline and its source, made on first use: the collector is
    /// opened and the pipeline set up. A failure (EMFILE, say) is returned,
    /// and the next call tries again.
    fn core(&mut self) -> Result<&mut Core> {
        match &mut self.core {
            Some(core) => Ok(core),
            slot @ None => Ok(slot.insert(open_core(&self.config)?)),
        }
    }

    /// The first collector and the others, every one opened (a failure is
    /// returned, and the next call opens the ones still missing).
    fn cores(&mut self) -> Result<(&mut Core, &mut [Core])> {
        while self.helpers.len() + 1 < self.config.collectors {
            let core = open_core(&self.config)?;
            self.helpers.push(core);
        }
        let first = match &mut self.core {
            Some(core) => core,
            slot @ None => slot.insert(open_core(&self.config)?),
        };
        Ok((first, &mut self.helpers))
    }

    /// Seeds a new `R` from 32-byte conditioned blocks. The seed is moved
    /// out of this function's memory with `mem::take`, which overwrites it,
    /// so no copy stays behind here (what `R::from_seed` does with it is
    /// `R`'s business).
    ///
    /// Works on a temporary: `KqSeeder::new().seed_rng::<ChaCha20Rng>()`.
    pub fn seed_rng<R: SeedableRng>(&mut self) -> Result<R> {
        let mut seed = WipeOnDrop(R::Seed::default());
        self.try_fill_bytes(seed.0.as_mut())?;
        Ok(R::from_seed(core::mem::take(&mut seed.0)))
    }

    /// `N` bytes of key material, wiped when dropped.
    ///
    /// ```
    /// let key = kqseed::KqSeeder::new().key::<32>()?;
    /// assert_eq!(key.len(), 32);
    /// # Ok::<(), kqseed::Error>(())
    /// ```
    pub fn key<const N: usize>(&mut self) -> Result<Zeroizing<[u8; N]>> {
        let mut key = Zeroizing::new([0u8; N]);
        self.try_fill_bytes(key.as_mut())?;
        Ok(key)
    }

    /// Collects `n` raw samples for assessment, with their 8-bit symbols and
    /// the clock's effective resolution they were counted in. These are
    /// *not* conditioned and must not be used as keys; they do not pass
    /// through the health tests or the pool. They come from the seeder's own
    /// queue, so the next seed's health tests see a pass with samples
    /// missing, which can start the pass repetition test's run again (each
    /// source's own tests are unaffected): call it to assess, not between
    /// every seed.
    ///
    /// `n` above [`MAX_COLLECT_SAMPLES`](crate::MAX_COLLECT_SAMPLES) is
    /// [`Error::TooLarge`], before anything is opened or collected.
    pub fn collect_raw(&mut self, n: usize) -> Result<RawSamples> {
        let mut deltas = alloc_samples(n)?;
        let mut symbols = alloc_samples(n)?;
        let source = &mut self.core()?.source;
        for _ in 0..n {
            deltas.push(source.next_sample()?.delta);
        }
        let resolution = detect_resolution(&deltas);
        symbols.extend(deltas.iter().map(|&d| symbol(d, resolution)));
        Ok(RawSamples {
            deltas,
            symbols,
            resolution,
        })
    }

    /// The failure that latched in any collector, if one did (the first
    /// collector's first): every later request of this seeder returns it.
    pub(crate) fn latched(&self) -> Option<Error> {
        self.core
            .iter()
            .chain(&self.helpers)
            .find_map(|c| c.pipeline.check_latch().err())
    }

    /// The pipeline and its source for a request; `None` for an empty
    /// request (nothing to open), after reporting a latched failure.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn parts(
        &mut self,
        empty: bool,
    ) -> Result<Option<(&mut Pipeline, &mut dyn SampleSource)>> {
        if let Some(e) = self.latched() {
            return Err(e);
        }
        if empty {
            return Ok(None);
        }
        let core = self.core()?;
        Ok(Some((&mut *core.pipeline, &mut *core.source)))
    }

    fn fill(&mut self, dst: &mut [u8]) -> Result<()> {
        if dst.is_empty() {
            // Nothing to make: open nothing, collect nothing, but report a
            // latched failure.
            return self.latched().map_or(Ok(()), Err);
        }
        if self.config.collectors > 1 {
            return self.fill_joined(dst);
        }
        let core = match self.core() {
            Ok(core) => core,
            Err(e) => {
                dst.zeroize();
                return Err(e);
            }
        };
        core.pipeline.fill(dst, &mut *core.source)
    }

    /// [`fill`](Self::fill) with several collectors: a batch of blocks at a
    /// time, each collector fills its shares of them (the first on this
    /// thread, each other on a scoped thread of its own), and each block is
    /// [`join_shares`] of its shares. On an error `dst` is left zeroed and
    /// the first error returned (the first collector's, then the others' in
    /// order); the shares already made are wiped, never reused.
    fn fill_joined(&mut self, dst: &mut [u8]) -> Result<()> {
        // Before any collector collects a share that would go nowhere.
        let result = match self.latched() {
            Some(e) => Err(e),
            None => self.fill_joined_batches(dst),
        };
        if result.is_err() {
            dst.zeroize();
        }
        result
    }

    fn fill_joined_batches(&mut self, dst: &mut [u8]) -> Result<()> {
        let collectors = self.config.collectors;
        // Collectors that time-slice one CPU bring no speed, and each
        // one's delays would be another's running: they take turns there.
        let at_once = *self.at_once.get_or_insert_with(|| {
            std::thread::available_parallelism().is_ok_and(|cpus| cpus.get() >= collectors)
        });
        let (first, helpers) = self.cores()?;
        let mut joined = 0;
        for batch in dst.chunks_mut(JOIN_BATCH_BLOCKS * BLOCK_LEN) {
            let len = batch.len().div_ceil(BLOCK_LEN) * BLOCK_LEN;
            let mut own = Zeroizing::new(vec![0u8; len]);
            let mut others: Vec<Zeroizing<Vec<u8>>> = helpers
                .iter()
                .map(|_| Zeroizing::new(vec![0u8; len]))
                .collect();
            collect_shares(first, helpers, &mut own, &mut others, collectors, at_once)?;
            for (i, chunk) in batch.chunks_mut(BLOCK_LEN).enumerate() {
                let at = i * BLOCK_LEN..(i + 1) * BLOCK_LEN;
                // Slices of the wiped buffers: no copy of a share is made.
                let parts: Vec<&[u8]> = core::iter::once(&own)
                    .chain(&others)
                    .map(|s| &s[at.clone()])
                    .collect();
                let block = join_shares(&parts);
                chunk.copy_from_slice(&block[..chunk.len()]);
                joined += 1;
            }
        }
        self.joined_blocks += joined;
        Ok(())
    }
}

/// A collector and its pipeline for `config`.
fn open_core(config: &SeederConfig) -> Result<Core> {
    Ok(Core {
        pipeline: Box::new(Pipeline::new(config)?),
        source: Box::new(Collector::new(config.events.clone())?),
    })
}

/// Blocks whose shares one round of threads collects: a long request is
/// cut so that the shares held at once stay small (1 KiB a collector).
const JOIN_BATCH_BLOCKS: usize = 32;

/// Every collector fills its shares: `first` into `own` on this thread,
/// each of `helpers` into its buffer of `others` on a scoped thread, or,
/// unless `at_once`, on this thread after `first`. A helper whose thread
/// cannot be started fills its shares here afterwards (slower, never
/// weaker). A helper that panicked panics here, as it would have on this
/// thread with one collector.
fn collect_shares(
    first: &mut Core,
    helpers: &mut [Core],
    own: &mut [u8],
    others: &mut [Zeroizing<Vec<u8>>],
    collectors: usize,
    at_once: bool,
) -> Result<()> {
    if !at_once {
        first
            .pipeline
            .fill_shares(own, &mut *first.source, collectors)?;
        for (core, buf) in helpers.iter_mut().zip(others.iter_mut()) {
            core.pipeline
                .fill_shares(buf, &mut *core.source, collectors)?;
        }
        return Ok(());
    }
    let mut not_started = Vec::new();
    let results = std::thread::scope(|scope| {
        let mut running = Vec::with_capacity(helpers.len());
        for (i, (core, buf)) in helpers.iter_mut().zip(others.iter_mut()).enumerate() {
            let spawned = std::thread::Builder::new()
                .name("kqseed-collector".into())
                .spawn_scoped(scope, move || {
                    core.pipeline
                        .fill_shares(buf, &mut *core.source, collectors)
                });
            match spawned {
                Ok(handle) => running.push(handle),
                Err(_) => not_started.push(i),
            }
        }
        let mut results = vec![
            first
                .pipeline
                .fill_shares(own, &mut *first.source, collectors),
        ];
        for handle in running {
            match handle.join() {
                Ok(result) => results.push(result),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    });
    results.into_iter().try_for_each(|r| r)?;
    for i in not_started {
        let core = &mut helpers[i];
        core.pipeline
            .fill_shares(&mut others[i], &mut *core.source, collectors)?;
    }
    Ok(())
}

/// A seed that is wiped when it goes out of scope, on every path.
pub(crate) struct WipeOnDrop<S: AsMut<[u8]>>(pub(crate) S);

impl<S: AsMut<[u8]>> Drop for WipeOnDrop<S> {
    fn drop(&mut self) {
        self.0.as_mut().zeroize();
    }
}

/// Raw samples for assessment (see [`KqSeeder::collect_raw`]).
#[derive(Clone, PartialEq)]
pub struct RawSamples {
    /// Deltas in clock ticks.
    pub deltas: Vec<u64>,
    /// Their 8-bit symbols, `symbol(delta, resolution)`.
    pub symbols: Vec<u8>,
    /// The clock's effective resolution detected over these deltas, ticks.
    pub resolution: f64,
}

impl fmt::Debug for RawSamples {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawSamples")
            .field("len", &self.deltas.len())
            .field("resolution", &self.resolution)
            .finish_non_exhaustive()
    }
}

/// rand_core 0.10's fallible generator: every byte from conditioned
/// blocks, every failure as kqseed's [`Error`].
impl TryRng for KqSeeder {
    type Error = Error;

    fn try_next_u32(&mut self) -> Result<u32> {
        let mut bytes = Zeroizing::new([0u8; 4]);
        self.fill(bytes.as_mut())?;
        Ok(u32::from_le_bytes(*bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64> {
        let mut bytes = Zeroizing::new([0u8; 8]);
        self.fill(bytes.as_mut())?;
        Ok(u64::from_le_bytes(*bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<()> {
        self.fill(dst)
    }
}

/// rand_core 0.10's marker: conditioned full-entropy blocks.
impl TryCryptoRng for KqSeeder {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CreditPolicy;
    use crate::StartupFailure;
    use crate::collector::KernelPath;
    use crate::health::{FailureLevel, HealthConfig, HealthTest};
    use std::io::{Read, Write};

    use crate::test_util::recorded_deltas as recorded;

    /// The recorded source credited exactly 1 bit a sample (it backs more,
    /// so the cap decides), after the default warm-up and start-up window.
    fn config() -> SeederConfig {
        SeederConfig {
            credit: CreditPolicy::capped(CREDIT),
            ..SeederConfig::default()
        }
    }

    /// Below the ceiling of the recording's passes, so the cap decides.
    const CREDIT: f64 = 0.5;

    /// Samples before the first credited one: the warm-up and the window.
    fn before_output() -> usize {
        let c = config();
        c.credit.warmup_samples as usize + c.health.startup_samples as usize
    }

    fn replay(deltas: Vec<u64>) -> KqSeeder {
        KqSeeder::from_replay(config(), deltas).expect("config")
    }

    #[test]
    fn a_good_recorded_source_passes_and_seeds() {
        let mut seeder = replay(recorded());
        let key = seeder.key::<64>().expect("recorded data passes");
        assert_ne!(*key, [0u8; 64]);
        let stats = seeder.stats();
        let startup = stats.startup.expect("start-up ran");
        let pass = *startup
            .sources
            .get(KernelPath::Pass)
            .expect("the one source");
        assert_eq!(pass.credit, CREDIT, "{startup:?}");
        assert!(
            pass.estimate >= 2.0 * config().credit.allowance * CREDIT,
            "{pass:?}"
        );
        assert!(stats.health.started);
        assert_eq!(stats.blocks, 2);
        assert!(stats.samples as usize >= before_output());
        let source = stats.sources.get(KernelPath::Pass).expect("the one source");
        assert_eq!(source.credit, CREDIT);
        // 320 credited bits per block, on top of start-up.
        assert!(stats.credited_bits >= 2.0 * 320.0, "{stats:?}");
    }

    /// The recording from `start` on, wrapped round: another collector's
    /// stream of the same shape.
    fn rotated(start: usize) -> crate::pipeline::Replay {
        let mut deltas = recorded();
        deltas.rotate_left(start);
        crate::pipeline::Replay::new(deltas)
    }

    fn two_collectors() -> KqSeeder {
        let config = config().with_collectors(2);
        KqSeeder::from_replays(config, vec![rotated(0), rotated(9_000)]).expect("config")
    }

    #[test]
    fn two_collectors_each_credit_their_share_and_the_blocks_join_them() {
        let mut seeder = two_collectors();
        let key = seeder.key::<64>().expect("both recordings pass");
        // The same recordings through two pipelines by hand, shares joined.
        let config = config().with_collectors(2);
        let mut expected = [0u8; 64];
        let mut shares = Vec::new();
        for mut replay in [rotated(0), rotated(9_000)] {
            let mut pipeline = Pipeline::new(&config).expect("pipeline");
            let mut buf = Zeroizing::new(vec![0u8; 64]);
            pipeline
                .fill_shares(&mut buf, &mut replay, 2)
                .expect("share");
            shares.push(buf);
        }
        for (i, chunk) in expected.chunks_mut(BLOCK_LEN).enumerate() {
            let parts: Vec<&[u8]> = shares.iter().map(|s| &s[i * 32..i * 32 + 32]).collect();
            chunk.copy_from_slice(&*join_shares(&parts));
        }
        assert_eq!(*key, expected);
        assert_ne!(shares[0][..32], shares[1][..32], "two streams, two shares");
        assert_ne!(key[..32], shares[0][..32], "no share is output alone");

        let stats = seeder.stats();
        assert_eq!(stats.blocks, 2, "joined blocks");
        let each = seeder.collector_stats();
        assert_eq!(each.len(), 2);
        for collector in &each {
            assert_eq!(collector.shares, 2, "a share a block: {collector:?}");
            assert_eq!(collector.blocks, 0, "no block alone: {collector:?}");
            // The window's credit on top of two shares of at least 161 bits.
            assert!(collector.credited_bits >= 2.0 * 161.0, "{collector:?}");
        }
        assert_eq!(stats.samples, each[0].samples);
    }

    #[test]
    fn collectors_that_take_turns_make_the_same_blocks_as_at_once() {
        let mut at_once = two_collectors();
        at_once.at_once = Some(true);
        let mut in_turn = two_collectors();
        in_turn.at_once = Some(false);
        assert_eq!(
            *at_once.key::<96>().expect("at once"),
            *in_turn.key::<96>().expect("in turn")
        );
        assert_eq!(at_once.collector_stats(), in_turn.collector_stats());
    }

    #[test]
    fn a_failing_collector_fails_the_request_and_wipes_the_other_shares() {
        // The second collector's clock is stuck: start-up refuses it, so
        // nothing comes out, though the first passes.
        let mut stuck = recorded();
        for d in stuck.iter_mut().step_by(10) {
            *d = 0;
        }
        let config = config().with_collectors(2);
        let mut seeder = KqSeeder::from_replays(
            config,
            vec![rotated(0), crate::pipeline::Replay::new(stuck)],
        )
        .expect("config");
        let mut out = [0xaau8; 64];
        let err = seeder
            .try_fill_bytes(&mut out)
            .expect_err("one collector refused");
        assert!(
            matches!(err, Error::Startup(StartupFailure::StuckClock { .. })),
            "{err:?}"
        );
        assert_eq!(out, [0u8; 64], "a failed call must not leave output");
        assert_eq!(seeder.stats().blocks, 0);
        // The first collector made its shares; they went nowhere.
        assert_eq!(seeder.collector_stats()[0].shares, 2);
    }

    #[test]
    fn a_collector_that_latched_latches_the_seeder() {
        // The second collector's source goes stuck after start-up: its RCT
        // fails for good, and every later request fails with that, though
        // the first collector is sound.
        let mut stuck = recorded();
        stuck.truncate(3000);
        stuck.extend(std::iter::repeat_n(40_000u64, 2000));
        let config = config().with_collectors(2);
        let mut seeder = KqSeeder::from_replays(
            config,
            vec![rotated(0), crate::pipeline::Replay::new(stuck)],
        )
        .expect("config");
        let err = (0..100)
            .find_map(|_| seeder.key::<32>().err())
            .expect("the stuck collector fails");
        assert!(matches!(err, Error::Health(_)), "{err:?}");
        assert_eq!(seeder.latched(), Some(err.clone()));
        assert!(format!("{seeder:?}").contains("Health"), "{seeder:?}");
        // Async requests (through `parts`) and empty ones see it too.
        assert!(matches!(seeder.parts(false), Err(Error::Health(_))));
        assert!(matches!(seeder.parts(true), Err(Error::Health(_))));
        assert_eq!(seeder.try_fill_bytes(&mut []), Err(err.clone()));
        let samples = seeder.collector_stats()[0].samples;
        for _ in 0..3 {
            assert_eq!(seeder.key::<32>().map(|_| ()), Err(err.clone()));
        }
        // The sound collector collected nothing more for them.
        assert_eq!(seeder.collector_stats()[0].samples, samples);
    }

    #[test]
    fn the_shares_of_any_count_of_collectors_sum_past_320_bits() {
        use crate::conditioner::share_millibits;
        assert_eq!(share_millibits(1, 44.0), 320_000);
        assert_eq!(share_millibits(2, 44.0), 183_000);
        for n in 2..=8u64 {
            for latency in [0.0, 31.0, 38.6, 44.0, 63.0 + 2.0 * 16.0] {
                let share = share_millibits(n as usize, latency);
                // A clock fault caught late in every collector costs each
                // share up to its collector's latency, where one
                // collector's block loses it once: after every share's
                // worst case at least 320 - latency is left, and each
                // share's own entropy loss (a trace) has a bit to spare.
                let left = (share * n) as f64 / 1000.0 - n as f64 * latency - n as f64;
                assert!(left >= 320.0 - latency - 1e-9, "{n} {latency}: {share}");
                assert!(left < 320.0 - latency + n as f64, "{n} {latency}: {share}");
            }
        }
    }

    #[test]
    fn collectors_outside_one_to_the_maximum_are_refused() {
        for n in [0, crate::config::MAX_COLLECTORS + 1] {
            match KqSeeder::with_config(SeederConfig::default().with_collectors(n)) {
                Err(Error::Config(e)) => assert_eq!(e.field, "collectors", "{e}"),
                other => panic!("{n} collectors: {other:?}"),
            }
        }
        let max = SeederConfig::default().with_collectors(crate::config::MAX_COLLECTORS);
        assert!(KqSeeder::with_config(max).is_ok());
    }

    #[test]
    fn two_real_collectors_seed() {
        let config = SeederConfig::default().with_collectors(2);
        let mut seeder = KqSeeder::with_config(config).expect("config");
        let key = seeder.key::<32>().expect("two collectors seed");
        assert_ne!(*key, [0u8; 32]);
        let each = seeder.collector_stats();
        assert_eq!(each.len(), 2);
        assert!(
            each.iter().all(|c| c.shares == 1 && c.startup.is_some()),
            "{each:?}"
        );
        assert_eq!(seeder.stats().blocks, 1);
    }

    #[test]
    fn an_intermittent_failure_discards_the_pool_and_goes_on() {
        // A run as long as the intermittent RCT cutoff (shorter than the
        // permanent one) at sample 1200, of a symbol its neighbours do not
        // have. Blocks before it come from samples before it; the credit
        // towards the next block is discarded, so that block needs a full
        // block's worth of good samples after the run.
        let cutoffs = HealthConfig::default().cutoffs(CREDIT).expect("default");
        let run = cutoffs.rct_intermittent as usize;
        assert!(run < cutoffs.rct_permanent as usize);
        let good = recorded();
        let at = before_output() + 500;
        let stuck = (0u64..256)
            .map(|s| 40_000 + s)
            .find(|&d| d as u8 != good[at - 1] as u8 && d as u8 != good[at] as u8)
            .expect("a free symbol");
        let mut deltas = good[..at].to_vec();
        deltas.extend(std::iter::repeat_n(stuck, run));
        deltas.extend_from_slice(&good[at..]);
        let mut seeder = replay(deltas);
        let per_block = (320.0 / CREDIT).ceil() as u64;
        let blocks_before = 3;
        for _ in 0..=blocks_before {
            seeder
                .key::<32>()
                .expect("recovers from one intermittent failure");
        }
        let stats = seeder.stats();
        assert_eq!(stats.health.rct_intermittent, 1, "{:?}", stats.health);
        assert_eq!(stats.health.rct_permanent, 0);
        assert!(stats.discards >= 1, "{}", stats.discards);
        assert!(
            stats.samples >= (at + run) as u64 + per_block,
            "{}",
            stats.samples
        );
    }

    #[test]
    fn constant_source_fails_permanently_and_stops_output() {
        // Varied start-up data, then a stuck symbol: the RCT must stop the
        // output, and the failure must latch.
        let mut deltas = recorded();
        deltas.truncate(3000);
        deltas.extend(std::iter::repeat_n(40_000u64, 2000));
        let mut seeder = replay(deltas);
        let mut released = 0;
        let mut failure = None;
        for _ in 0..100 {
            let mut block = [0xaau8; 32];
            match seeder.try_fill_bytes(&mut block) {
                Ok(()) => released += 1,
                Err(e) => {
                    assert_eq!(block, [0u8; 32], "a failed call must not leave output");
                    failure = Some(e);
                    break;
                }
            }
        }
        // 3000 good samples at 128 a block, minus start-up: well under 100.
        assert!(released < 30, "{released} blocks");
        match failure {
            Some(Error::Health(f)) => {
                assert_eq!(f.test, HealthTest::Rct);
                assert_eq!(f.level, FailureLevel::Permanent);
            }
            other => panic!("expected a permanent RCT failure, got {other:?}"),
        }
        // Latched: even with good data back, nothing comes out again.
        for _ in 0..3 {
            let mut block = [0xaau8; 32];
            assert!(matches!(
                seeder.try_fill_bytes(&mut block),
                Err(Error::Health(_))
            ));
            assert_eq!(block, [0u8; 32]);
            assert!(seeder.try_next_u64().is_err());
        }
    }

    #[test]
    fn biased_source_fails_the_apt() {
        // One symbol in a share of the samples 8 points above what the APT
        // allows in a window at the credit, at random places and in runs
        // shorter than the RCT's: no run for the RCT and no period for the
        // predictor, but more copies per window than the APT allows.
        let cutoffs = HealthConfig::default().cutoffs(CREDIT).expect("default");
        let share = u64::from(cutoffs.apt_intermittent) * 100 / u64::from(cutoffs.apt_window) + 8;
        let longest = cutoffs.rct_intermittent / 2;
        let good = recorded();
        let mut rng = crate::test_util::SplitMix64(72);
        let mut deltas = good[..3000].to_vec();
        let mut run = 0;
        for &d in &good[3000..13000] {
            let biased = run < longest && rng.next() % 100 < share;
            run = if biased { run + 1 } else { 0 };
            deltas.push(if biased { 40_000 } else { d });
        }
        let mut seeder = replay(deltas);
        // The replay starts over at its end: bound the draws.
        let err = (0..1_000_000)
            .find_map(|_| seeder.try_next_u32().err())
            .expect("the biased samples must fail");
        match err {
            Error::Health(f) => assert_eq!(f.test, HealthTest::Apt, "{f}"),
            other => panic!("expected an APT failure, got {other:?}"),
        }
        assert!(seeder.stats().health.apt_intermittent + seeder.stats().health.apt_permanent > 0);
    }

    #[test]
    fn stuck_clock_is_refused_at_start_up() {
        let mut deltas = recorded();
        for d in deltas.iter_mut().step_by(10) {
            *d = 0;
        }
        let mut seeder = replay(deltas);
        assert!(matches!(
            seeder.try_next_u64(),
            Err(Error::Startup(StartupFailure::StuckClock { .. }))
        ));
    }

    #[test]
    fn periodic_source_is_refused_by_the_estimators() {
        // A fine clock and a wide spread, but a pattern a predictor learns
        // (what an always-ready loop or replayed time looks like).
        let deltas: Vec<u64> = (0..4096u64).map(|i| 30_000 + (i % 7) * 977).collect();
        let mut seeder = replay(deltas);
        match seeder.try_next_u64() {
            Err(Error::Startup(StartupFailure::LowEntropy {
                estimate, required, ..
            })) => assert!(estimate < required),
            other => panic!("expected a low-entropy refusal, got {other:?}"),
        }
    }

    #[test]
    fn debug_shows_no_pool_or_samples() {
        let deltas = recorded();
        let mut seeder = replay(deltas.clone());
        seeder.key::<32>().expect("key");
        let shown = format!("{seeder:?}");
        assert!(shown.contains("KqSeeder") && shown.contains("credited_bits"));
        // No sample: a derived Debug of the engine would print the replayed
        // deltas (all five-digit or longer here).
        for d in deltas.iter().take(200).filter(|&&d| d >= 10_000) {
            assert!(!shown.contains(&d.to_string()), "sample {d} in {shown}");
        }
        // No pool or block: a byte array prints as a long bracketed list.
        for list in shown.split('[').skip(1) {
            let inner = list.split(']').next().unwrap_or("");
            assert!(inner.matches(',').count() < 8, "a long list in {shown}");
        }
    }

    #[test]
    fn a_forked_child_drops_its_copy_of_the_pool() {
        // With replayed deltas both sides see the same samples after the
        // fork, so only the child's discard keeps their next blocks apart.
        let mut seeder = replay(recorded());
        seeder.key::<32>().expect("start-up and first block");
        let (mut parent_end, mut child_end) =
            std::os::unix::net::UnixStream::pair().expect("socket pair");
        let pid = sys::fork::test_support::fork().expect("fork");
        if pid == 0 {
            let key = seeder.key::<32>().map(|k| *k).unwrap_or([0; 32]);
            let code = i32::from(child_end.write_all(&key).is_err());
            sys::fork::test_support::exit_child(code);
        }
        let parent = seeder.key::<32>().expect("parent");
        let mut child = [0u8; 32];
        parent_end
            .read_exact(&mut child)
            .expect("the child's block");
        assert!(sys::fork::test_support::wait_ok(pid));
        assert_ne!(child, [0u8; 32], "the child failed to seed");
        assert_ne!(*parent, child, "parent and child released the same block");
    }

    #[test]
    fn invalid_config_is_typed() {
        let config = SeederConfig {
            credit: CreditPolicy {
                allowance: 0.5,
                ..CreditPolicy::default()
            },
            ..SeederConfig::default()
        };
        match KqSeeder::with_config(config) {
            Err(Error::Config(e)) => assert_eq!(e.field, "allowance"),
            other => panic!("{other:?}"),
        }
        let config = SeederConfig {
            credit: CreditPolicy::capped(9.0),
            ..SeederConfig::default()
        };
        assert!(matches!(
            KqSeeder::with_config(config),
            Err(Error::Config(crate::ConfigError { field: "cap", .. }))
        ));
    }
}
