//! The release policy, as one piece of pure code: samples -> start-up ->
//! health tests -> credit -> conditioner -> blocks, with the fork rule.
//!
//! The pipeline does no I/O: samples are pushed into it ([`Pipeline::push`])
//! or pulled from an injected [`SampleSource`] ([`Pipeline::fill`]). The
//! seeder is a thin `rand_core` adapter over it; tests drive the same code
//! with recorded deltas.
//!
//! # Policy
//!
//! * **Warm-up.** The first `credit.warmup_samples` samples of a source
//!   instance go into the pool credited with nothing, and more until the
//!   source's timers are settled ([`SampleSource::timers_settled`]): a new
//!   queue's first passes assess higher than the steady state the credits
//!   apply to, and the collector may still shorten its timers.
//! * **Start-up.** The next `health.startup_samples` samples are held, in a
//!   buffer wiped when freed, until [`startup_checks`] has decided every
//!   noise source's credit on them; then they go through their sources'
//!   health tests (the SP 800-90B start-up test: all of them must pass) and
//!   into the pool. No block is released before both passed. A refusal
//!   throws the held samples away and is returned; after
//!   [`MAX_STARTUP_REFUSALS`] refusals of one source instance the refusal
//!   latches, so that a caller's retry loop cannot turn the check into
//!   "pass once by chance". When start-up takes whole passes
//!   ([`StartupReport::whole_passes`]), every sample goes into the pool
//!   uncredited, each pass's samples summed are tested and credited as one
//!   sample (or, cut in thirds, as three: [`StartupReport::thirds`]), and
//!   nothing is released before [`STARTUP_TEST_WHOLE_PASSES`] such samples
//!   have passed their tests.
//! * **Health.** Every later sample passes its own source's RCT, APT and
//!   predictor test (cut for that source's credit) before it is credited,
//!   and the online margin check ([`NoiseSources`]) may lower a source's
//!   credit. An intermittent failure discards the pool; a permanent one
//!   latches: every later call returns it.
//! * **Release.** A block comes out as soon as the pool holds 320 credited
//!   bits (each sample credited its own source's credit), so no finished
//!   block waits in memory between calls.
//! * **Fork.** In a forked child the pipeline discards its copy of the pool,
//!   absorbs a labelled fork record (pid, fork generation, forks started),
//!   credited with nothing, and runs start-up again: the child's rebuilt
//!   queue is a new instance of the noise source.
//! * **Hedge** (opt-in, `hedge_with_os_entropy`): each pool takes 32 bytes
//!   of OS entropy before its first sample, credited with nothing.
//! * **Empty requests** return at once (after the latch check), collecting
//!   nothing, so no block is left waiting in the pool.

use zeroize::{Zeroize, Zeroizing};

use crate::collector::{KernelPath, Sample};
use crate::conditioner::{BLOCK_LEN, Conditioner, FULL_ENTROPY_CREDIT_MILLIBITS, share_millibits};
use crate::config::SeederConfig;
use crate::credit::CREDIT_STEP;
use crate::error::{Error, Result, StartupFailure};
use crate::health::{HealthFailure, HealthStats, PassRepetition, PositionRepetition};
use crate::seeder::SeederStats;
use crate::sources::{LoweredBy, NoiseSources};
use crate::startup::{PassCut, STARTUP_TEST_WHOLE_PASSES, StartupReport, startup_checks_cut};
use crate::sys::{EventCounts, fork};

/// Start-up refusals of one source instance before the refusal latches.
///
/// A source refused this often is not retried into passing: a borderline
/// source whose estimate crosses the requirement now and then would
/// otherwise pass the check once a caller retried often enough. A fork (a
/// new source instance) starts the count again.
pub const MAX_STARTUP_REFUSALS: u32 = 3;

/// Where samples come from: the event queue, or a recording in tests.
pub(crate) trait SampleSource: Send + Sync {
    /// The next raw sample.
    fn next_sample(&mut self) -> Result<Sample>;
    /// The next raw sample if one is ready now (async seeding).
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    fn try_next_sample(&mut self) -> Result<Option<Sample>>;
    /// The next delta must not span a pause (async seeding).
    fn restart_pair(&mut self);
    /// Returns of the wait call so far that gave no sample
    /// ([`Collector::waits_lost`](crate::Collector)); a recording loses
    /// none.
    fn waits_lost(&self) -> u64 {
        0
    }
    /// Whether the source's timers are settled: false while the collector
    /// still measures its pace and may shorten them
    /// ([`Collector::timers_settled`](crate::Collector::timers_settled));
    /// a recording's are. Once true, it stays true.
    fn timers_settled(&self) -> bool {
        true
    }
    /// An fd that is readable when `try_next_sample` has something, if any.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    fn readiness_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>>;
}

impl SampleSource for crate::Collector {
    fn next_sample(&mut self) -> Result<Sample> {
        self.step()
    }

    fn try_next_sample(&mut self) -> Result<Option<Sample>> {
        self.try_step()
    }

    fn restart_pair(&mut self) {
        crate::Collector::restart_pair(self);
    }

    fn waits_lost(&self) -> u64 {
        crate::Collector::waits_lost(self)
    }

    fn timers_settled(&self) -> bool {
        crate::Collector::timers_settled(self)
    }

    fn readiness_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        self.queue_fd()
    }
}

/// The start-up window's samples, held until the decision: deltas in wiped
/// memory, and the paths they measured.
struct Held {
    deltas: Zeroizing<Vec<u64>>,
    paths: Vec<KernelPath>,
    /// The held samples' wakeups' event counts, summed.
    events: EventCounts,
    /// Where the source restarted its pairing while the window was held:
    /// the index of the first sample after each restart. A whole pass is
    /// never summed across one (the pass that lost its wait's return would
    /// span two).
    restarts: Vec<usize>,
    /// Where the source lost a pass's wait (per path): the index of the
    /// sample after it, for the pass repetition test.
    lost_waits: Vec<usize>,
}

impl Held {
    /// Room for `n` samples, so that holding them never reallocates (a
    /// reallocation would free a copy of samples unwiped).
    fn with_capacity(n: usize) -> Result<Held> {
        let mut held = Held {
            deltas: Zeroizing::new(Vec::new()),
            paths: Vec::new(),
            events: EventCounts::default(),
            restarts: Vec::new(),
            lost_waits: Vec::new(),
        };
        held.reserve(n)?;
        Ok(held)
    }

    fn reserve(&mut self, n: usize) -> Result<()> {
        let too_large = || Error::TooLarge {
            what: "start-up samples",
            requested: n,
            max: crate::health::MAX_STARTUP_SAMPLES as usize,
        };
        self.deltas.try_reserve_exact(n).map_err(|_| too_large())?;
        self.paths.try_reserve_exact(n).map_err(|_| too_large())?;
        Ok(())
    }

    fn clear(&mut self) {
        self.deltas.zeroize();
        self.paths.clear();
        self.events = EventCounts::default();
        self.restarts.clear();
        self.lost_waits.clear();
    }
}

/// The decided state of a started source: its report, its sources, and
/// the test over all of them at once.
struct Started {
    report: StartupReport,
    sources: NoiseSources,
    passes: PassRepetition,
    /// When start-up took whole passes: the pass under way, and how many
    /// more must pass their tests before anything is released.
    whole: Option<WholePasses>,
}

/// Whole passes summed from the collector's per-path samples
/// ([`StartupReport::whole_passes`]), whole or in thirds.
struct WholePasses {
    sums: PassCut,
    /// The per-path samples' own stuck test: no source sees them alone.
    positions: PositionRepetition,
    /// Passes still to pass the pass source's tests before the start-up
    /// test is over ([`STARTUP_TEST_WHOLE_PASSES`]).
    untested: u32,
}

impl WholePasses {
    /// The collector restarted its pairs of marks: the pass under way is
    /// dropped, and positions count again from the next wait's return.
    fn restart(&mut self) {
        self.sums.restart();
        self.positions.restart();
    }
}

impl Started {
    /// Whether the start-up test is still running: the window's samples
    /// are in, but not yet [`STARTUP_TEST_WHOLE_PASSES`] credited whole
    /// passes (or thirds) have passed their tests.
    fn testing(&self) -> bool {
        self.whole.as_ref().is_some_and(|w| w.untested > 0)
    }
}

/// The release policy's state. Keep it boxed: it holds the pool.
pub(crate) struct Pipeline {
    config: SeederConfig,
    startup_samples: usize,
    /// Warm-up samples still to absorb before the start-up window.
    warmup_left: u32,
    pool: Box<Conditioner>,
    held: Held,
    started: Option<Started>,
    refusals: u32,
    owner: fork::Owner,
    latched: Option<Error>,
    samples: u64,
    credited_millibits: u64,
    blocks: u64,
    /// Shares released ([`fill_shares`](Self::fill_shares)).
    shares: u64,
    /// The credit of the shares released since the health tests were last
    /// told of an output, in millibits.
    shared_since_output: u64,
    discards: u64,
    forks: u64,
    os_entropy_absorbed: u64,
    /// The source's lost waits as last seen ([`note_waits_lost`](Self::note_waits_lost)).
    waits_lost_seen: u64,
    /// The next sample is the first of a pass that lost its wait.
    wait_lost: bool,
    /// Whether the source's timers may still change
    /// ([`SampleSource::timers_settled`]), as of its latest sample.
    source_settling: bool,
}

impl Pipeline {
    /// A pipeline for a validated `config`, owned by this process.
    pub(crate) fn new(config: &SeederConfig) -> Result<Pipeline> {
        let startup_samples = config.health.startup_samples as usize;
        Ok(Pipeline {
            config: config.clone(),
            startup_samples,
            warmup_left: config.credit.warmup_samples,
            pool: Conditioner::boxed(),
            held: Held::with_capacity(startup_samples)?,
            started: None,
            refusals: 0,
            owner: fork::Owner::current()?,
            latched: None,
            samples: 0,
            credited_millibits: 0,
            blocks: 0,
            shares: 0,
            shared_since_output: 0,
            discards: 0,
            forks: 0,
            os_entropy_absorbed: 0,
            waits_lost_seen: 0,
            wait_lost: false,
            source_settling: false,
        })
    }

    /// Fills `dst` with conditioned blocks pulled through `source`, or fails
    /// and leaves `dst` zeroed. A partial last block is wiped, never reused.
    pub(crate) fn fill(&mut self, dst: &mut [u8], source: &mut dyn SampleSource) -> Result<()> {
        self.fill_at(dst, source, 1)
    }

    /// Like [`fill`](Self::fill), but each 32-byte chunk is this
    /// collector's share of a block of `collectors` collectors, released
    /// once the pool holds [`share_millibits`](crate::conditioner::share_millibits)
    /// at this pipeline's fault latency. Shares are only ever output joined
    /// with the other collectors' shares
    /// ([`join_shares`](crate::conditioner::join_shares)).
    pub(crate) fn fill_shares(
        &mut self,
        dst: &mut [u8],
        source: &mut dyn SampleSource,
        collectors: usize,
    ) -> Result<()> {
        self.fill_at(dst, source, collectors)
    }

    fn fill_at(
        &mut self,
        dst: &mut [u8],
        source: &mut dyn SampleSource,
        collectors: usize,
    ) -> Result<()> {
        let result = self.fill_blocks(dst, source, collectors);
        if result.is_err() {
            dst.zeroize();
        }
        result
    }

    fn fill_blocks(
        &mut self,
        dst: &mut [u8],
        source: &mut dyn SampleSource,
        collectors: usize,
    ) -> Result<()> {
        self.check_latch()?;
        if dst.is_empty() {
            return Ok(());
        }
        self.check_fork()?;
        // The source may have been idle since the last call (a service's
        // worker waits on a condvar between refills): no delta spans that.
        self.restart_pair(source);
        for chunk in dst.chunks_mut(BLOCK_LEN) {
            let block = loop {
                if let Some(block) = self.take_block_at(collectors) {
                    break block;
                }
                let sample = source.next_sample()?;
                self.note_source(source);
                self.push(sample)?;
            };
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    }

    /// Restarts `source`'s pairing ([`SampleSource::restart_pair`]) at the
    /// start of a request, and drops a whole pass under way: a pass that
    /// lost a sample to the pause (or to an error that ended the last
    /// request) would span two. (The wait it loses per path is reported by
    /// the source, [`SampleSource::waits_lost`].)
    pub(crate) fn restart_pair(&mut self, source: &mut dyn SampleSource) {
        source.restart_pair();
        match self.started.as_mut() {
            Some(started) => {
                if let Some(whole) = started.whole.as_mut() {
                    whole.restart();
                }
            }
            // Holding the window: start-up cuts its passes there.
            None if !self.held.deltas.is_empty() => {
                let at = self.held.deltas.len();
                if self.held.restarts.last() != Some(&at) {
                    self.held.restarts.push(at);
                }
            }
            None => {}
        }
    }

    /// The source's count of lost waits ([`SampleSource::waits_lost`])
    /// after its latest sample: if it grew, that sample is the first of a
    /// pass that lost its wait (call before pushing it).
    pub(crate) fn note_waits_lost(&mut self, total: u64) {
        if total > self.waits_lost_seen {
            self.wait_lost = true;
        }
        self.waits_lost_seen = total;
    }

    /// What the source says as of its latest sample (call before pushing
    /// it): the waits it lost ([`note_waits_lost`](Self::note_waits_lost))
    /// and whether its timers are still settling.
    pub(crate) fn note_source(&mut self, source: &dyn SampleSource) {
        self.note_waits_lost(source.waits_lost());
        self.source_settling = !source.timers_settled();
    }

    /// Tells the pass repetition test that a pass lost its wait (per path;
    /// whole passes are dropped at a restart instead): a failure there is
    /// handled as a sample's.
    fn lose_wait(&mut self) -> Result<Option<HealthFailure>> {
        let health = &self.config.health;
        let alphas = (health.alpha_intermittent_log2, health.alpha_permanent_log2);
        let Some(started) = self.started.as_mut().filter(|s| s.whole.is_none()) else {
            return Ok(None);
        };
        match started.passes.lost_wait(alphas) {
            None => Ok(None),
            Some(failure) => self.fail_sample(failure),
        }
    }

    /// The latched failure, if any.
    pub(crate) fn check_latch(&self) -> Result<()> {
        match &self.latched {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// One sample in: absorbed during the warm-up, held for start-up, or
    /// tested and pooled.
    pub(crate) fn push(&mut self, sample: Sample) -> Result<()> {
        self.check_latch()?;
        self.samples += 1;
        let wait_lost = core::mem::take(&mut self.wait_lost);
        if let Some(started) = self.started.as_mut() {
            started.sources.note_wakeup(&sample.events);
            let testing = started.testing();
            if wait_lost {
                // Per path only, so never during whole passes' start-up
                // test: an intermittent failure only empties the pool.
                self.lose_wait()?;
            }
            return match self.test_and_pool(sample.delta, sample.path) {
                Err(e @ Error::Startup(_)) => self.refuse(e),
                // Whole passes still in their start-up test: every one must
                // pass.
                Ok(Some(intermittent)) if testing => self.refuse(Error::Health(intermittent)),
                other => other.map(|_| ()),
            };
        }
        // The warm-up lasts until the source's timers are settled too, so
        // that the window sees the timers the credits will run under.
        // (A source's timers only ever go from settling to settled, so no
        // window is held while they settle.)
        if self.warmup_left > 0 || self.source_settling {
            self.warmup_left = self.warmup_left.saturating_sub(1);
            return self.absorb(sample.delta, 0);
        }
        if self.held.deltas.capacity() < self.startup_samples
            || self.held.paths.capacity() < self.startup_samples
        {
            // A refusal under an allocation failure left no room: make it
            // for the whole window before its first sample, so that no
            // push reallocates (which would free a copy of held samples
            // unwiped).
            debug_assert!(self.held.deltas.is_empty());
            if let Err(e) = self.held.reserve(self.startup_samples) {
                self.wait_lost = wait_lost;
                return Err(e);
            }
        }
        if wait_lost {
            self.held.lost_waits.push(self.held.deltas.len());
        }
        self.held.deltas.push(sample.delta);
        self.held.paths.push(sample.path);
        self.held.events.add_paced(&sample.events);
        if self.held.deltas.len() < self.startup_samples {
            return Ok(());
        }
        let held = &self.held;
        let decision = startup_checks_cut(
            &held.deltas,
            &held.paths,
            &held.restarts,
            &held.events,
            &self.config.credit,
        )
        .map_err(Error::Startup)
        .and_then(|report| {
            let sources = NoiseSources::new(&report, &self.config.health, &self.config.credit)?;
            Ok(Started {
                report,
                sources,
                passes: PassRepetition::new()
                    .with_max_intermittent_retries(self.config.health.max_intermittent_retries),
                whole: report.whole_passes.then(|| WholePasses {
                    sums: PassCut::new(report.thirds),
                    positions: PositionRepetition::new(&self.config.health),
                    untested: STARTUP_TEST_WHOLE_PASSES,
                }),
            })
        });
        let started = match decision {
            Ok(started) => started,
            Err(e) => return self.refuse(e),
        };
        self.started = Some(started);
        // New health tests: no share counts towards their first output.
        self.shared_since_output = 0;
        // The held samples now take the start-up test proper: every one must
        // pass its source's tests.
        let deltas = Zeroizing::new(core::mem::take(&mut *self.held.deltas));
        let paths = core::mem::take(&mut self.held.paths);
        let restarts = core::mem::take(&mut self.held.restarts);
        let lost_waits = core::mem::take(&mut self.held.lost_waits);
        for (i, (&delta, &path)) in deltas.iter().zip(&paths).enumerate() {
            if restarts.contains(&i)
                && let Some(whole) = self.started.as_mut().and_then(|s| s.whole.as_mut())
            {
                whole.restart();
            }
            if lost_waits.contains(&i) {
                match self.lose_wait() {
                    Ok(None) => {}
                    Ok(Some(intermittent)) => return self.refuse(Error::Health(intermittent)),
                    Err(e) => return self.refuse(e),
                }
            }
            match self.test_and_pool(delta, path) {
                Ok(None) => {}
                Ok(Some(intermittent)) => return self.refuse(Error::Health(intermittent)),
                Err(e) => return self.refuse(e),
            }
        }
        self.held = Held::with_capacity(0)?;
        Ok(())
    }

    /// A start-up refusal: the held samples and the decision go, the pool
    /// is emptied, and the refusal latches after the limit.
    fn refuse(&mut self, e: Error) -> Result<()> {
        self.held.clear();
        self.started = None;
        self.shared_since_output = 0;
        self.pool.discard();
        self.refusals += 1;
        if self.refusals >= MAX_STARTUP_REFUSALS {
            // An intermittent failure that latches is permanent from here
            // on, and says so (the refusals before it may have had other
            // causes: `escalated_after` is left as the test set it).
            let latched = match e {
                Error::Health(mut failure) if !failure.is_permanent() => {
                    failure.level = crate::health::FailureLevel::Permanent;
                    Error::Health(failure)
                }
                ref other => other.clone(),
            };
            self.latched = Some(latched.clone());
            return self.reserve_after_refusal(latched);
        }
        self.reserve_after_refusal(e)
    }

    /// Room for the next window after a refusal; the refusal is returned
    /// either way (without the room, the next sample held asks again).
    fn reserve_after_refusal(&mut self, e: Error) -> Result<()> {
        let capacity = self.startup_samples;
        // The refusal is what the caller must see; an allocation failure
        // here would hide it.
        let _ = self.held.reserve(capacity);
        Err(e)
    }

    /// Whether [`take_block`](Pipeline::take_block) would release a block.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn block_ready(&self) -> bool {
        self.latched.is_none()
            && self.started.as_ref().is_some_and(|s| !s.testing())
            && self.pool.is_ready()
    }

    /// The next block, once start-up passed and the pool holds enough
    /// credit.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn take_block(&mut self) -> Option<Zeroizing<[u8; BLOCK_LEN]>> {
        self.take_block_at(1)
    }

    /// [`take_block`](Self::take_block), or with `collectors` above 1 this
    /// collector's share of a block.
    fn take_block_at(&mut self, collectors: usize) -> Option<Zeroizing<[u8; BLOCK_LEN]>> {
        if self.latched.is_some() {
            return None;
        }
        let alpha = f64::from(self.config.health.alpha_intermittent_log2);
        let pooled = self.pool.stats().pool_credit_millibits;
        let started = self.started.as_mut().filter(|s| !s.testing())?;
        let millibits = if collectors <= 1 {
            FULL_ENTROPY_CREDIT_MILLIBITS
        } else {
            // Called before every sample: a pool under the share's floor
            // (its part of 320 bits) needs no latency worked out.
            if pooled < FULL_ENTROPY_CREDIT_MILLIBITS / collectors as u64 {
                return None;
            }
            // The most credit a fault of every source at once (the clock)
            // can bring into the pool before the pass test catches it:
            // under `alpha + 2 H_pass` (the conditioner's "Accounting"),
            // H_pass a pass's start-up credit, which the online check only
            // lowers.
            share_millibits(collectors, alpha + 2.0 * started.report.bits_per_pass())
        };
        let block = self.pool.try_take_share(millibits)?;
        // The tests' count of intermittent failures without an output
        // restarts once a block's worth has gone out, as with one
        // collector: shares of a third of it must not restart it thrice.
        let output = if millibits >= FULL_ENTROPY_CREDIT_MILLIBITS {
            self.blocks += 1;
            true
        } else {
            self.shares += 1;
            self.shared_since_output += millibits;
            self.shared_since_output >= FULL_ENTROPY_CREDIT_MILLIBITS
        };
        if output {
            self.shared_since_output = 0;
            started.sources.note_output();
            started.passes.note_output();
            if let Some(whole) = started.whole.as_mut() {
                whole.positions.note_output();
            }
        }
        Some(block)
    }

    /// One sample through its source's health tests and, if it passes, into
    /// the pool with its source's credit. An intermittent failure empties
    /// the pool and is returned as `Ok(Some)`; a permanent one latches. A
    /// credit the online margin check lowered empties the pool too (its
    /// credit stood on samples the check no longer backs), and when no
    /// source is credited any more the result is
    /// [`StartupFailure::NoCreditLeft`], for the caller to refuse.
    fn test_and_pool(&mut self, delta: u64, path: KernelPath) -> Result<Option<HealthFailure>> {
        let Some(started) = self.started.as_mut() else {
            return Ok(None);
        };
        // Whole passes: each sample goes into the pool uncredited (the pass
        // it belongs to carries it), and the pass it completes, if any, is
        // what is tested and credited, as a per-wakeup sample would be;
        // cut in thirds, each third of it in turn. A failure leaves the
        // pass's other thirds untested: the pool they would go to is gone.
        // The sample itself takes the position repetition test first: a
        // stuck path would only shift its sum. A failing sample takes its
        // pass with it: the one it completed (a wait) or the one under way,
        // so that it is not summed into a pass the fresh pool would credit.
        let Some(whole) = started.whole.as_mut() else {
            return self.test_and_pool_one(delta, path);
        };
        let completed = whole.sums.add(delta, path);
        started.sources.watch_clock(delta);
        if let Err(mut failure) = whole.positions.feed(path, started.sources.symbol(delta)) {
            failure.during_startup = whole.untested > 0;
            if path != KernelPath::Wait {
                whole.sums.restart();
            }
            return self.fail_sample(failure);
        }
        self.absorb(delta, 0)?;
        for (sum, path) in completed.into_iter().flatten().flatten() {
            if let Some(failure) = self.test_and_pool_one(sum, path)? {
                return Ok(Some(failure));
            }
        }
        Ok(None)
    }

    /// [`test_and_pool`](Self::test_and_pool) for a sample of a source
    /// start-up decided (a whole pass or third where it took them).
    fn test_and_pool_one(&mut self, delta: u64, path: KernelPath) -> Result<Option<HealthFailure>> {
        let health = &self.config.health;
        let alphas = (health.alpha_intermittent_log2, health.alpha_permanent_log2);
        let Some(started) = self.started.as_mut() else {
            return Ok(None);
        };
        let s = started.sources.symbol(delta);
        let own = started.sources.feed(path, delta);
        let fed = started.passes.feed(path, s, own, alphas);
        // A sample of a source credited nothing ran no tests: it does not
        // count towards the start-up test.
        if matches!(fed, Ok(millibits) if millibits > 0)
            && let Some(whole) = started.whole.as_mut()
        {
            whole.untested = whole.untested.saturating_sub(1);
        }
        match fed {
            Ok(millibits) => {
                if started.sources.take_clock_change() {
                    // The pool's credit stood on ceilings for more steps
                    // than its samples span.
                    self.pool.discard();
                    self.discards += 1;
                }
                // Absorbed before the lowering is taken: should the hedge's
                // OS entropy fail, the lowering waits for the next sample.
                self.absorb(delta, millibits)?;
                let Some(started) = self.started.as_mut() else {
                    return Ok(None);
                };
                let lowering = started.sources.take_lowering();
                let none_credited = !started.sources.any_credited();
                let min_steps = lowering.map(|l| started.sources.min_credited_steps(l.path));
                if let Some(lowering) = lowering {
                    self.pool.discard();
                    self.discards += 1;
                    if none_credited {
                        let path = lowering.path;
                        return Err(Error::Startup(match lowering.cause {
                            LoweredBy::Estimate {
                                estimator,
                                estimate,
                            } => StartupFailure::NoCreditLeft {
                                path,
                                estimator,
                                estimate,
                                required: 2.0 * self.config.credit.allowance * CREDIT_STEP,
                            },
                            LoweredBy::Pace {
                                expirations_per_timer_event,
                            } => StartupFailure::WaitsForTimer {
                                expirations_per_timer_event,
                            },
                            LoweredBy::Steps { band } => StartupFailure::TooFewSteps {
                                path,
                                median_band_steps: band,
                                min_median_steps: min_steps.unwrap_or(f64::INFINITY),
                            },
                        }));
                    }
                }
                Ok(None)
            }
            Err(failure) => self.fail_sample(failure),
        }
    }

    /// A sample failed a health test: the pool goes with it; a permanent
    /// failure latches and is returned, an intermittent one is handed back.
    fn fail_sample(&mut self, failure: HealthFailure) -> Result<Option<HealthFailure>> {
        // Shares since the last output count towards none after a failure,
        // as a block's credit does not.
        self.shared_since_output = 0;
        self.pool.discard();
        self.discards += 1;
        if failure.is_permanent() {
            let e = Error::Health(failure);
            self.latched = Some(e.clone());
            Err(e)
        } else {
            Ok(Some(failure))
        }
    }

    /// One sample into the pool with `millibits` of credit; with the hedge
    /// on, a pool's first sample brings the OS entropy in first.
    fn absorb(&mut self, delta: u64, millibits: u32) -> Result<()> {
        if self.config.hedge_with_os_entropy && self.pool.stats().pool_samples == 0 {
            let mut os = Zeroizing::new([0u8; crate::conditioner::OS_ENTROPY_LEN]);
            crate::sys::os_entropy(&mut os)?;
            self.pool.absorb_os_entropy(&os);
            self.os_entropy_absorbed += 1;
        }
        self.pool.absorb_millibits(delta, millibits);
        self.credited_millibits += u64::from(millibits);
        Ok(())
    }

    /// In a forked child: never continue the parent's pool (see the module
    /// documentation).
    pub(crate) fn check_fork(&mut self) -> Result<()> {
        if self.owner.is_current() {
            return Ok(());
        }
        let record = fork::fork_record()?;
        self.owner = fork::Owner::current()?;
        self.restart_as_new_source(record)
    }

    fn restart_as_new_source(&mut self, record: fork::ForkRecord) -> Result<()> {
        self.shared_since_output = 0;
        self.pool.discard();
        self.pool
            .absorb_fork_record(record.pid, record.generation, record.forks);
        self.started = None;
        self.warmup_left = self.config.credit.warmup_samples;
        self.held.clear();
        self.held.reserve(self.startup_samples)?;
        self.refusals = 0;
        self.wait_lost = false;
        self.discards += 1;
        self.forks += 1;
        Ok(())
    }

    /// Counters, health, the start-up report and every source's figures.
    pub(crate) fn stats(&self) -> SeederStats {
        let sources = self
            .started
            .as_ref()
            .map(|s| s.sources.stats())
            .unwrap_or_default();
        let passes = self.started.as_ref().map(|s| *s.passes.stats());
        let positions = self
            .started
            .as_ref()
            .and_then(|s| s.whole.as_ref())
            .map(|w| *w.positions.stats());
        let mut health = HealthStats::sum(
            sources
                .values()
                .map(|s| &s.health)
                .chain(passes.as_ref())
                .chain(positions.as_ref()),
        );
        // Whole passes still in their start-up test have not started yet.
        health.started =
            self.started.as_ref().is_some_and(|s| !s.testing()) && self.latched.is_none();
        SeederStats {
            samples: self.samples,
            credited_bits: self.credited_millibits as f64 / 1000.0,
            blocks: self.blocks,
            shares: self.shares,
            discards: self.discards,
            forks: self.forks,
            startup_refusals: self.refusals,
            os_entropy_absorbed: self.os_entropy_absorbed,
            health,
            conditioner: self.pool.stats(),
            startup: self.started.as_ref().map(|s| s.report),
            step_resolution_ticks: self
                .started
                .as_ref()
                .map(|s| s.sources.step_resolution_ticks()),
            pace_lost: self.started.as_ref().and_then(|s| s.sources.pace_lost()),
            sources,
        }
    }
}

/// Recorded deltas played back in a loop. Test-only: compiled for the
/// crate's own tests and under `--cfg kqseed_replay`, which no dependent can
/// turn on through a feature.
#[cfg(any(test, kqseed_replay))]
pub(crate) struct Replay {
    deltas: Vec<u64>,
    paths: Vec<KernelPath>,
    next: usize,
    /// Indices of the samples that follow a lost wait, and the waits
    /// lost so far (as a collector counts them).
    after_lost_waits: Vec<usize>,
    waits_lost: u64,
}

#[cfg(any(test, kqseed_replay))]
impl Replay {
    /// Deltas of one source, [`KernelPath::Pass`] (per-wakeup sampling of
    /// a loop a timer drives: each pass brings a timer event).
    pub(crate) fn new(deltas: Vec<u64>) -> Replay {
        let paths = vec![KernelPath::Pass; deltas.len()];
        Replay::with_paths(deltas, paths)
    }

    /// Deltas with the paths they measured (per-path sampling); the shorter
    /// of the two sets the length.
    pub(crate) fn with_paths(mut deltas: Vec<u64>, mut paths: Vec<KernelPath>) -> Replay {
        let n = deltas.len().min(paths.len());
        deltas.truncate(n);
        paths.truncate(n);
        Replay {
            deltas,
            paths,
            next: 0,
            after_lost_waits: Vec::new(),
            waits_lost: 0,
        }
    }

    /// As a collector that lost a pass's wait just before each of these
    /// samples (their indices).
    #[cfg(test)]
    pub(crate) fn with_lost_waits(mut self, after_lost_waits: Vec<usize>) -> Replay {
        self.after_lost_waits = after_lost_waits;
        self
    }
}

/// When `pass`, what the wakeup of a timer-driven pass brings: one timer
/// event, three expirations (a pass as long as the default's on these
/// guests, 3.3-3.8 timer intervals, the kind the ceilings rest on; see
/// [`MIN_EXPIRATIONS_PER_TIMER_EVENT`](crate::MIN_EXPIRATIONS_PER_TIMER_EVENT))
/// and the default's kernel paths (the recordings are of the default).
#[cfg(any(test, kqseed_replay))]
fn timer_event_if(pass: bool) -> crate::EventCounts {
    crate::EventCounts {
        timer: u64::from(pass),
        timer_expirations: 3 * u64::from(pass),
        wakeups: u64::from(pass),
        kernel_paths: u64::from(crate::PASS_ROW_KERNEL_PATHS) * u64::from(pass),
        ..crate::EventCounts::default()
    }
}

#[cfg(any(test, kqseed_replay))]
impl SampleSource for Replay {
    fn next_sample(&mut self) -> Result<Sample> {
        let i = self.next;
        self.next = (self.next + 1) % self.deltas.len().max(1);
        if self.after_lost_waits.contains(&i) {
            self.waits_lost += 1;
        }
        let path = self.paths.get(i).copied().unwrap_or(KernelPath::Pass);
        Ok(Sample {
            delta: self.deltas.get(i).copied().unwrap_or(0),
            path,
            // The wakeup's sample: the wait's (per path) or the pass's.
            events: timer_event_if(matches!(path, KernelPath::Pass | KernelPath::Wait)),
        })
    }

    fn try_next_sample(&mut self) -> Result<Option<Sample>> {
        self.next_sample().map(Some)
    }

    fn restart_pair(&mut self) {}

    fn waits_lost(&self) -> u64 {
        self.waits_lost
    }

    fn readiness_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        None
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    use crate::health::{FailureLevel, HealthTest};
    use crate::test_util::SplitMix64;

    /// Deltas of a fine clock with about 10 bits of spread.
    fn good(rng: &mut SplitMix64) -> u64 {
        30_000 + (rng.next() >> 54)
    }

    /// The start-up window of the default configuration.
    const WINDOW: usize = crate::health::DEFAULT_STARTUP_SAMPLES as usize;

    /// A pipeline whose one source (`Pass`, the deltas below) is credited
    /// `cap` bits a sample: the good deltas back far more, so the cap
    /// decides. No warm-up, so that sample counts are exact.
    fn pipeline(cap: f64) -> Box<Pipeline> {
        let config = SeederConfig {
            credit: crate::CreditPolicy {
                warmup_samples: 0,
                ..crate::CreditPolicy::capped(cap)
            },
            ..SeederConfig::default()
        };
        Box::new(Pipeline::new(&config).expect("config"))
    }

    /// As [`pipeline`] uncapped, but start-up keeps every path a source
    /// ([`CreditPolicy::whole_passes`](crate::CreditPolicy::whole_passes)
    /// off): for the per-path checks on windows whose whole passes would
    /// be credited more.
    fn per_path_pipeline() -> Box<Pipeline> {
        let config = SeederConfig {
            credit: crate::CreditPolicy {
                warmup_samples: 0,
                ..crate::CreditPolicy::default().with_whole_passes(false)
            },
            ..SeederConfig::default()
        };
        Box::new(Pipeline::new(&config).expect("config"))
    }

    /// Pushes one sample of the `Pass` source (a pass a timer drove) and
    /// returns the block it completed, if any.
    fn push(p: &mut Pipeline, delta: u64) -> Result<Option<[u8; BLOCK_LEN]>> {
        p.push(Sample {
            delta,
            path: KernelPath::Pass,
            events: timer_event_if(true),
        })?;
        Ok(p.take_block().map(|b| *b))
    }

    /// The cutoffs guarding a credit of `h`.
    fn cutoffs(h: f64) -> crate::health::HealthCutoffs {
        crate::HealthConfig::default().cutoffs(h).expect("cutoffs")
    }

    #[test]
    fn nothing_is_released_before_start_up() {
        let mut p = pipeline(1.5);
        let mut rng = SplitMix64(1);
        for i in 0..WINDOW - 1 {
            assert_eq!(push(&mut p, good(&mut rng)).unwrap(), None, "sample {i}");
        }
        assert!(p.stats().startup.is_none());
        // The window's last sample runs the checks and the start-up test;
        // the whole window is credited by then, so a block is due at once.
        assert!(push(&mut p, good(&mut rng)).unwrap().is_some());
        assert!(p.stats().startup.is_some());
    }

    /// A source that only says whether its timers are settled.
    struct Timers {
        settled: bool,
    }

    impl SampleSource for Timers {
        fn next_sample(&mut self) -> Result<Sample> {
            Err(Error::WaitTimedOut {
                timeout: std::time::Duration::ZERO,
            })
        }

        fn try_next_sample(&mut self) -> Result<Option<Sample>> {
            Ok(None)
        }

        fn restart_pair(&mut self) {}

        fn timers_settled(&self) -> bool {
            self.settled
        }

        fn readiness_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
            None
        }
    }

    /// Pushes `n` good samples, each noted with whether the source's
    /// timers are `settled`; none may complete start-up.
    fn push_noted(p: &mut Pipeline, rng: &mut SplitMix64, n: usize, settled: bool) {
        for i in 0..n {
            p.note_source(&Timers { settled });
            assert_eq!(push(p, good(rng)).unwrap(), None, "sample {i}");
            assert!(p.stats().startup.is_none(), "sample {i}");
        }
    }

    #[test]
    fn samples_before_the_timers_settle_are_warm_up() {
        // No warm-up of its own: every sample until the timers settle is
        // absorbed, and the window starts after.
        let mut p = pipeline(1.5);
        let mut rng = SplitMix64(7);
        push_noted(&mut p, &mut rng, WINDOW + 100, false);
        push_noted(&mut p, &mut rng, WINDOW - 1, true);
        p.note_source(&Timers { settled: true });
        assert!(push(&mut p, good(&mut rng)).unwrap().is_some());
        assert!(p.stats().startup.is_some());
    }

    #[test]
    fn settling_counts_towards_the_warm_up_and_outlasts_it() {
        let config = |warmup_samples| SeederConfig {
            credit: crate::CreditPolicy {
                warmup_samples,
                ..crate::CreditPolicy::capped(1.5)
            },
            ..SeederConfig::default()
        };
        let mut rng = SplitMix64(8);
        // Settled after 100 of a 256-sample warm-up: 156 more, then the
        // window.
        let mut p = Box::new(Pipeline::new(&config(256)).expect("config"));
        push_noted(&mut p, &mut rng, 100, false);
        push_noted(&mut p, &mut rng, 156 + WINDOW - 1, true);
        assert!(push(&mut p, good(&mut rng)).unwrap().is_some());
        // Settled only after 300: the window starts there.
        let mut p = Box::new(Pipeline::new(&config(256)).expect("config"));
        push_noted(&mut p, &mut rng, 300, false);
        push_noted(&mut p, &mut rng, WINDOW - 1, true);
        assert!(push(&mut p, good(&mut rng)).unwrap().is_some());
    }

    #[test]
    fn passes_without_a_timer_event_are_credited_at_most_a_sixteenth() {
        // The same good deltas, as passes of an always-ready loop: no
        // wakeup brings a timer event, so a whole pass is no timer's.
        for (timer, most) in [(true, f64::INFINITY), (false, CREDIT_STEP)] {
            let mut p = pipeline(8.0);
            let mut rng = SplitMix64(3);
            for _ in 0..WINDOW {
                let events = timer_event_if(timer);
                let sample = Sample {
                    delta: good(&mut rng),
                    path: KernelPath::Pass,
                    events,
                };
                p.push(sample).expect("sample");
            }
            let credit = p.stats().startup.expect("started").credit(KernelPath::Pass);
            assert!(credit > 0.0 && credit <= most, "timer {timer}: {credit}");
            if timer {
                assert!(credit > CREDIT_STEP, "a timer's pass: {credit}");
            }
        }
    }

    #[test]
    fn an_online_check_that_leaves_no_credit_refuses_instead_of_hanging() {
        // One source at 1/16 bit, then 93% one value: no health test fires
        // (no run reaches the RCT's cutoff), but the online check lowers
        // the credit to 0, and nothing would ever be released.
        let mut p = pipeline(CREDIT_STEP);
        let mut rng = SplitMix64(1);
        for _ in 0..WINDOW {
            push(&mut p, 30_000 + (rng.next() >> 54)).expect("good samples");
        }
        let mut refusal = None;
        for i in 0..100_000u32 {
            let d = if rng.next() % 100 < 93 {
                30_000
            } else {
                30_000 + (rng.next() >> 54)
            };
            match push(&mut p, d) {
                Ok(_) => {}
                Err(e) => {
                    refusal = Some((i, e));
                    break;
                }
            }
        }
        let (at, e) = refusal.expect("never refused: a fill would wait for ever");
        match e {
            Error::Startup(StartupFailure::NoCreditLeft {
                path,
                estimate,
                required,
                ..
            }) => {
                assert_eq!(path, KernelPath::Pass);
                assert!(estimate < required, "{estimate} {required}");
            }
            other => panic!("{other:?}"),
        }
        // Within the online check's first windows (4096 samples each).
        assert!(at < 3 * 4096, "{at}");
        // Start-up runs again: nothing is latched after one refusal, and
        // the next samples are held for a new window.
        assert!(p.check_latch().is_ok());
        assert!(p.stats().startup.is_none());
        push(&mut p, 30_000 + (rng.next() >> 54)).expect("held for a new start-up");
    }

    /// A pipeline started on passes of 2000-3023 ns of a 1 ns clock (the
    /// band from 1024 steps: a pass's ceiling, [`top_pass_credit`], which
    /// the cap does not lower), and the generator that made them.
    fn started_on_long_passes(seed: u64) -> (Box<Pipeline>, SplitMix64) {
        let mut p = pipeline(8.0);
        let mut rng = SplitMix64(seed);
        for _ in 0..WINDOW {
            push(&mut p, 2000 + (rng.next() >> 54)).expect("good");
        }
        (p, rng)
    }

    /// A whole pass's ceiling in the band from 1024 steps.
    fn top_pass_credit() -> f64 {
        crate::ceiling(KernelPath::Pass, 1024.0, true)
    }

    /// A whole pass's ceiling in the band from 96 steps, below the top's.
    fn short_pass_credit() -> f64 {
        let short = crate::ceiling(KernelPath::Pass, 96.0, true);
        assert!(short > 0.0 && short < top_pass_credit());
        short
    }

    #[test]
    fn a_path_that_gets_shorter_loses_the_credit_its_steps_no_longer_carry() {
        // Passes of 2000-3023 ns on a 1 ns clock: the band from 1024 steps,
        // whose ceiling the cap does not lower. Then passes of 90-121 ns:
        // 32 symbols, enough for the estimators to back the credit, but
        // every window's median in the band from 96 steps, whose ceiling
        // for a pass is lower.
        let (mut p, mut rng) = started_on_long_passes(21);
        let startup = p.stats().startup.expect("started");
        assert_eq!(startup.credit(KernelPath::Pass), top_pass_credit());
        let discards = p.stats().discards;
        for i in 0..3 * 4096 {
            push(&mut p, 90 + (rng.next() >> 59)).expect("no refusal");
            let stats = p.stats();
            let pass = stats.sources.get(KernelPath::Pass).expect("source");
            if pass.credit < top_pass_credit() {
                assert_eq!(pass.credit, short_pass_credit(), "at {i}");
                assert_eq!(pass.lowest_online_median_band, Some(96.0));
                assert!(stats.discards > discards, "lowered at {i}, pool kept");
                // The estimators alone would have kept it.
                assert!(pass.lowest_online_estimate.expect("checked") > 2.5 * top_pass_credit());
                // Within the first windows all of whose median is short.
                assert!(i < 2 * 4096, "{i}");
                return;
            }
        }
        panic!("the shorter passes kept their credit");
    }

    #[test]
    fn paths_too_short_for_any_credit_refuse_and_start_again() {
        // As above, then passes of 5-12 ns: under the first band (16
        // steps; a whole pass's row starts at 20), so nothing can be
        // credited.
        let (mut p, mut rng) = started_on_long_passes(22);
        for i in 0..3 * 4096 {
            match push(&mut p, 5 + (rng.next() >> 61)) {
                Ok(_) => {}
                Err(Error::Startup(StartupFailure::TooFewSteps {
                    path,
                    median_band_steps,
                    min_median_steps,
                })) => {
                    assert_eq!(path, KernelPath::Pass);
                    assert_eq!(median_band_steps, 0.0);
                    assert_eq!(min_median_steps, crate::MIN_SHORT_MEDIAN_STEPS);
                    assert!(i < 2 * 4096, "{i}");
                    assert!(p.stats().startup.is_none(), "start-up runs again");
                    return;
                }
                Err(other) => panic!("{other:?}"),
            }
        }
        panic!("passes too short for any credit were still credited");
    }

    #[test]
    fn a_pass_of_fewer_kernel_paths_too_short_for_credit_names_its_own_least_steps() {
        // Passes of six kernel paths (a pass of the row's fifteen scaled to
        // 6/15), 2000-3023 ns on a 1 ns clock; then passes long enough for
        // the row's credit (from 20 steps) but not for the scaled one: the
        // refusal names the steps the scaled pass needs, not the row's.
        let six_paths = crate::EventCounts {
            kernel_paths: 6,
            ..timer_event_if(true)
        };
        let least = crate::credit::min_credited_steps(KernelPath::Pass, true, Some(6.0));
        assert!(
            least > crate::MIN_SHORT_MEDIAN_STEPS && least.is_finite(),
            "{least}"
        );
        let mut p = pipeline(8.0);
        let mut rng = SplitMix64(24);
        let push_six = |p: &mut Pipeline, delta| {
            p.push(Sample {
                delta,
                path: KernelPath::Pass,
                events: six_paths,
            })
        };
        for _ in 0..WINDOW {
            push_six(&mut p, 2000 + (rng.next() >> 54)).expect("good");
        }
        let startup = p.stats().startup.expect("started");
        let credit = startup.credit(KernelPath::Pass);
        assert_eq!(credit, crate::pass_ceiling(1024.0, true, 6.0));
        assert!(credit > 0.0);
        // Medians from 20 steps up to under the scaled pass's least.
        let span = (least as u64 - 20).min(64);
        for i in 0..3 * 4096 {
            match push_six(&mut p, 20 + rng.next() % span) {
                Ok(()) => {}
                Err(Error::Startup(StartupFailure::TooFewSteps {
                    path,
                    min_median_steps,
                    ..
                })) => {
                    assert_eq!(path, KernelPath::Pass);
                    assert_eq!(min_median_steps, least);
                    assert!(i < 2 * 4096, "{i}");
                    return;
                }
                Err(other) => panic!("{other:?}"),
            }
        }
        panic!("passes too short for the scaled credit were still credited");
    }

    #[test]
    fn a_clock_found_coarser_lowers_credits_to_its_steps() {
        // Started on a 1 ns clock, passes of 2000-3023 ns: the band from
        // 1024 steps. Then a 24 MHz counter read in ns: passes of 50-177
        // of its steps, 2083-7375 ns, still the top band in 1 ns steps;
        // once two re-measurements in a row find the 41.67 ns step, the
        // steps counted are its, the median falls in the band from 96
        // steps, and the credit drops to that band's. No refusal: the
        // samples go on being credited.
        let (mut p, mut rng) = started_on_long_passes(23);
        let fine = p.stats().startup.expect("started").resolution_ticks;
        assert_eq!(fine, 1.0);
        assert_eq!(p.stats().step_resolution_ticks, Some(fine));
        let recheck = crate::resolution::RECHECK_SAMPLES as usize;
        let mut found = None;
        for i in 0..3 * recheck {
            let steps = 50 + (rng.next() >> 57);
            let delta = (steps as f64 * 41.6667).round() as u64;
            let before = p.stats();
            push(&mut p, delta).expect("no refusal");
            let stats = p.stats();
            if found.is_none() && stats.step_resolution_ticks != Some(fine) {
                // The change empties the pool.
                assert!(stats.discards > before.discards, "pool kept at {i}");
                found = Some(i);
            }
            if found.is_some() {
                // Nothing is credited until the new steps' window decides.
                let pass = stats.sources.get(KernelPath::Pass).expect("source");
                if pass.credit == top_pass_credit() {
                    assert_eq!(stats.credited_bits, before.credited_bits, "credited at {i}");
                }
            }
            let pass = stats.sources.get(KernelPath::Pass).expect("source");
            if pass.credit < top_pass_credit() {
                assert!(found.is_some(), "lowered at {i} before the change");
                assert_eq!(pass.credit, short_pass_credit(), "at {i}");
                assert_eq!(pass.lowest_online_median_band, Some(96.0));
                let coarser = stats.step_resolution_ticks.expect("started");
                assert!((coarser - 41.6667).abs() < 0.1, "{coarser}");
                // The second re-measurement over the coarse clock comes at
                // 2 x 65,536 samples, the held window's 2048 among them;
                // the first window (4096 samples) wholly after it lowers.
                assert!(i >= 2 * recheck - WINDOW, "{i}");
                assert!(i < 2 * recheck - WINDOW + 2 * 4096, "{i}");
                // Symbols still count start-up's steps.
                assert_eq!(stats.startup.expect("started").resolution_ticks, fine);
                return;
            }
        }
        panic!("the coarser clock kept its credit");
    }

    /// A per-path sample: its wait brings the pass's timer event.
    fn per_path_sample(delta: u64, path: KernelPath) -> Sample {
        Sample {
            delta,
            path,
            events: timer_event_if(path == KernelPath::Wait),
        }
    }

    /// A pass on a coarse clock, sampled per path: a wait of 10-17 ticks
    /// and twelve socket drains of 10-25, each under its row's least steps
    /// (20 and 30), summed 130-317 ticks.
    fn coarse_pass(rng: &mut SplitMix64) -> Vec<(u64, KernelPath)> {
        let mut pass = vec![(10 + rng.next() % 8, KernelPath::Wait)];
        pass.extend((0..12).map(|_| (10 + rng.next() % 16, KernelPath::SocketDrain)));
        pass
    }

    #[test]
    fn whole_passes_are_credited_where_no_path_is_and_only_after_their_start_up_test() {
        let mut p = pipeline(8.0);
        let mut rng = SplitMix64(31);
        let mut pushed = 0;
        while p.stats().startup.is_none() {
            for (delta, path) in coarse_pass(&mut rng) {
                p.push(per_path_sample(delta, path)).expect("no refusal");
                pushed += 1;
            }
        }
        let report = p.stats().startup.expect("started");
        assert!(report.whole_passes, "{report:?}");
        assert_eq!(report.other_bits_per_pass, Some(0.0));
        let pass = report.sources.get(KernelPath::Pass).expect("pass source");
        assert!(pass.credit > 0.0 && pass.credit <= pass.ceiling, "{pass:?}");
        assert_eq!(report.sources.iter().count(), 1);
        assert_eq!(report.samples, (WINDOW - 1) / 13);
        assert!(!p.stats().health.started, "started before the passes' test");
        // The window's passes are credited already, but nothing comes out
        // before STARTUP_TEST_WHOLE_PASSES of them passed their tests.
        let mut passes = report.samples;
        let released = loop {
            for (delta, path) in coarse_pass(&mut rng) {
                p.push(per_path_sample(delta, path)).expect("no failure");
                pushed += 1;
            }
            passes += 1;
            if p.block_ready() {
                break p.take_block().is_some();
            }
            assert!(p.take_block().is_none(), "released after {passes} passes");
        };
        assert!(released);
        assert!(passes >= STARTUP_TEST_WHOLE_PASSES as usize, "{passes}");
        assert!(passes <= STARTUP_TEST_WHOLE_PASSES as usize + 2, "{passes}");
        let stats = p.stats();
        assert_eq!(stats.samples, pushed as u64);
        // Every pass credited at the pass source's credit (in whole
        // millibits), and nothing else.
        let pass_stats = stats.sources.get(KernelPath::Pass).expect("pass");
        assert_eq!(stats.credited_bits, pass_stats.credited_bits);
        let n = pass_stats.samples as f64;
        assert!(
            (n * pass.credit - stats.credited_bits).abs() <= n * 1e-3,
            "{stats:?}"
        );
        assert!(stats.health.started);
    }

    /// A pipeline crediting whole passes of [`coarse_pass`], past their
    /// start-up test (where a failure would be a refusal), and its draws.
    fn whole_passes_past_their_start_up_test(seed: u64) -> (Box<Pipeline>, SplitMix64) {
        let mut p = pipeline(8.0);
        let mut rng = SplitMix64(seed);
        while !p.stats().health.started {
            for (delta, path) in coarse_pass(&mut rng) {
                p.push(per_path_sample(delta, path)).expect("no failure");
            }
        }
        assert!(p.stats().startup.expect("started").whole_passes);
        (p, rng)
    }

    /// Whole passes tested so far.
    fn passes_tested(p: &Pipeline) -> u64 {
        p.stats()
            .sources
            .get(KernelPath::Pass)
            .expect("pass")
            .samples
    }

    /// Pushes `passes` passes of twelve socket drains of 10-25 ticks and
    /// a wait, each delta a multiple of `step` ticks; with `lattice`, each
    /// wait (22-42 ticks) makes its pass's sum a multiple of it.
    fn push_passes(
        p: &mut Pipeline,
        rng: &mut SplitMix64,
        passes: usize,
        step: u64,
        lattice: Option<u64>,
    ) {
        for _ in 0..passes {
            let drains: Vec<u64> = (0..12).map(|_| (10 + rng.next() % 16) * step).collect();
            let sum: u64 = drains.iter().sum();
            let wait = match lattice {
                Some(l) => 2 * l - sum % l,
                None => (10 + rng.next() % 8) * step,
            };
            for delta in drains {
                p.push(per_path_sample(delta, KernelPath::SocketDrain))
                    .expect("no failure");
            }
            p.push(per_path_sample(wait, KernelPath::Wait))
                .expect("no failure");
            let _ = p.take_block();
        }
    }

    #[test]
    fn whole_passes_re_measure_the_clock_on_their_per_path_samples() {
        // Every pass summed to a multiple of 21 ticks, its own samples on
        // a 1-tick clock: windows of sums alone would fit a 21-tick
        // lattice (as real thirds' windows did on a 24 MHz clock), and
        // two re-measurements in a row would count steps of 21. The
        // per-path samples keep the clock at 1 tick, past two
        // re-measurements over the sums too.
        let (mut p, mut rng) = whole_passes_past_their_start_up_test(37);
        let sums_to_two_checks = 2 * crate::resolution::RECHECK_SAMPLES as usize;
        push_passes(&mut p, &mut rng, sums_to_two_checks + 100, 1, Some(21));
        assert_eq!(p.stats().step_resolution_ticks, Some(1.0));
        // A clock that did turn coarser (every per-path delta a multiple
        // of 3 ticks) is found within two re-measurements of them (13
        // samples a pass); the change empties the pool, and nothing is
        // credited until a window in the new steps decides.
        let raw_to_two_checks = sums_to_two_checks / 13 + 100;
        let mut changed_at = None;
        for i in 0..raw_to_two_checks {
            let before = p.stats();
            push_passes(&mut p, &mut rng, 1, 3, None);
            let after = p.stats();
            match changed_at {
                None if after.step_resolution_ticks != Some(1.0) => {
                    assert!(after.discards > before.discards, "pool kept at pass {i}");
                    changed_at = Some(i);
                }
                Some(at) if i < at + 50 => {
                    assert_eq!(after.credited_bits, before.credited_bits, "pass {i}");
                }
                _ => {}
            }
        }
        assert!(changed_at.is_some(), "the coarser clock was not found");
        let coarser = p.stats().step_resolution_ticks.expect("started");
        assert!((coarser - 3.0).abs() < 0.01, "{coarser}");
    }

    #[test]
    fn a_sample_failing_its_position_test_takes_its_pass_with_it() {
        let (mut p, mut rng) = whole_passes_past_their_start_up_test(33);
        let tested = passes_tested;
        let failures = |p: &Pipeline| p.stats().health.position_repetition_intermittent;
        // The sixth drain stuck at 40 ticks (the others draw 10-25) until
        // its position's run fails; the rest of that pass varies.
        let (rest, before) = 'stuck: loop {
            let pass = coarse_pass(&mut rng);
            for (i, &(delta, path)) in pass.iter().enumerate() {
                let delta = if i == 6 { 40 } else { delta };
                p.push(per_path_sample(delta, path))
                    .expect("an intermittent failure is no error");
                if failures(&p) > 0 {
                    break 'stuck (pass[i + 1..].to_vec(), tested(&p));
                }
            }
        };
        // The failing pass completes at the next wait: it is not tested,
        // nor credited into the pool its failure emptied.
        for (delta, path) in rest {
            p.push(per_path_sample(delta, path)).expect("good");
        }
        let next = coarse_pass(&mut rng);
        p.push(per_path_sample(next[0].0, next[0].1)).expect("good");
        assert_eq!(tested(&p), before, "the failing sample's pass was tested");
        assert_eq!(p.stats().conditioner.pool_credit_millibits, 0);
        // The pass after it is whole again.
        for &(delta, path) in &next[1..] {
            p.push(per_path_sample(delta, path)).expect("good");
        }
        p.push(per_path_sample(12, KernelPath::Wait)).expect("good");
        assert_eq!(tested(&p), before + 1);
        assert_eq!(failures(&p), 1);
    }

    #[test]
    fn a_failing_wait_drops_the_pass_it_completed_and_no_other() {
        let (mut p, mut rng) = whole_passes_past_their_start_up_test(34);
        let tested = passes_tested;
        let failures = |p: &Pipeline| p.stats().health.position_repetition_intermittent;
        // The wait stuck at 40 ticks (otherwise 10-17) until its position's
        // run fails: the wait that fails is the one that completes its pass.
        let before = loop {
            let pass = coarse_pass(&mut rng);
            let before = tested(&p);
            p.push(per_path_sample(40, KernelPath::Wait))
                .expect("an intermittent failure is no error");
            if failures(&p) > 0 {
                break before;
            }
            for &(delta, path) in &pass[1..] {
                p.push(per_path_sample(delta, path)).expect("good");
            }
        };
        assert_eq!(tested(&p), before, "the failing wait's pass was tested");
        // The pass it opened holds no failing sample: it is tested.
        for (delta, path) in coarse_pass(&mut rng).into_iter().skip(1) {
            p.push(per_path_sample(delta, path)).expect("good");
        }
        p.push(per_path_sample(12, KernelPath::Wait)).expect("good");
        assert_eq!(tested(&p), before + 1);
        assert_eq!(failures(&p), 1);
    }

    /// A default pass on a coarse clock, sampled per path: a timer read
    /// of 200-263 ticks, the wait 10-17, every other path 24-39, so that
    /// its thirds span about 357, 158 and 140 steps.
    fn coarse_default_pass(rng: &mut SplitMix64) -> Vec<(u64, KernelPath)> {
        use KernelPath::*;
        let mut pass = vec![
            (10 + rng.next() % 8, Wait),
            (200 + rng.next() % 64, TimerRead),
        ];
        for path in [
            SocketDrain,
            SocketDrain,
            SocketDrain,
            SocketDrain,
            FileDrain,
        ]
        .into_iter()
        .chain([SocketPoke; 4])
        .chain([FileTouch; 4])
        {
            pass.push((24 + rng.next() % 16, path));
        }
        pass
    }

    #[test]
    fn thirds_of_passes_are_credited_each_and_released_after_their_start_up_test() {
        let mut p = pipeline(8.0);
        let mut rng = SplitMix64(35);
        while p.stats().startup.is_none() {
            for (delta, path) in coarse_default_pass(&mut rng) {
                p.push(per_path_sample(delta, path)).expect("no refusal");
            }
        }
        let report = p.stats().startup.expect("started");
        assert!(report.whole_passes && report.thirds, "{report:?}");
        assert_eq!(report.sources.iter().count(), 3);
        let per_pass = report.bits_per_pass();
        assert!(
            per_pass > crate::ceiling(KernelPath::Pass, 400.0, true),
            "{report:?}"
        );
        // Released once 1024 thirds passed their tests and 320 bits are
        // credited, whichever comes last, counting from the window's first
        // pass (the first wait's return closes none).
        let mut passes = report.samples / 3;
        let due = (STARTUP_TEST_WHOLE_PASSES as usize)
            .div_ceil(3)
            .max((320.0 / per_pass).ceil() as usize);
        loop {
            for (delta, path) in coarse_default_pass(&mut rng) {
                p.push(per_path_sample(delta, path)).expect("no failure");
            }
            passes += 1;
            if p.block_ready() {
                assert!(p.take_block().is_some());
                break;
            }
            assert!(passes <= due + 2, "nothing released after {passes} passes");
        }
        assert!(passes >= due, "released after {passes} passes, due {due}");
        let stats = p.stats();
        let thirds: f64 = KernelPath::THIRDS
            .iter()
            .map(|&t| stats.sources.get(t).expect("third").credited_bits)
            .sum();
        assert!((stats.credited_bits - thirds).abs() < 1e-9, "{stats:?}");
        assert!(stats.health.started);
    }

    #[test]
    fn a_restart_while_the_window_is_held_cuts_its_passes_too() {
        // Twenty passes into the window the source restarts, and the next
        // pass comes without its wait's return, as the collector gives it
        // after a pause: the wait after it must open a pass, not close one
        // that spans two.
        let mut p = pipeline(8.0);
        let mut rng = SplitMix64(33);
        let (mut waits, mut passes) = (0, 0);
        while p.stats().startup.is_none() {
            let mut pass = coarse_pass(&mut rng);
            passes += 1;
            if passes == 20 {
                p.restart_pair(&mut Replay::new(vec![1]));
                pass.remove(0);
            }
            for (delta, path) in pass {
                if p.stats().startup.is_some() {
                    break;
                }
                waits += usize::from(path == KernelPath::Wait);
                p.push(per_path_sample(delta, path)).expect("no refusal");
            }
        }
        let report = p.stats().startup.expect("started");
        assert!(report.whole_passes);
        // The first wait's return closes no pass, nor does the one after
        // the restart.
        assert_eq!(report.samples, waits - 2);
        // The passes credited at start-up are the same ones.
        let tested = p
            .stats()
            .sources
            .get(KernelPath::Pass)
            .expect("pass")
            .samples;
        assert_eq!(tested, report.samples as u64);
    }

    #[test]
    fn a_restart_drops_the_whole_pass_under_way() {
        let mut sums = crate::PassSums::default();
        assert_eq!(sums.add(5, KernelPath::Wait), None);
        assert_eq!(sums.add(7, KernelPath::SocketDrain), None);
        sums.restart();
        // The wait that would have closed the pass only opens the next.
        assert_eq!(sums.add(11, KernelPath::SocketDrain), None);
        assert_eq!(sums.add(13, KernelPath::Wait), None);
        assert_eq!(sums.add(17, KernelPath::SocketDrain), None);
        assert_eq!(sums.add(19, KernelPath::Wait), Some(36));
        // Through the pipeline: a request's restart reaches the sums.
        let mut p = pipeline(8.0);
        let mut rng = SplitMix64(32);
        while p.stats().startup.is_none() {
            for (delta, path) in coarse_pass(&mut rng) {
                p.push(per_path_sample(delta, path)).expect("no refusal");
            }
        }
        let tested = |p: &Pipeline| {
            p.stats()
                .sources
                .get(KernelPath::Pass)
                .expect("pass")
                .samples
        };
        let before = tested(&p);
        p.push(per_path_sample(50, KernelPath::SocketDrain))
            .expect("good");
        p.restart_pair(&mut Replay::new(vec![1]));
        p.push(per_path_sample(12, KernelPath::Wait)).expect("good");
        assert_eq!(tested(&p), before, "a pass across the restart was tested");
        for (delta, path) in coarse_pass(&mut rng).into_iter().skip(1) {
            p.push(per_path_sample(delta, path)).expect("good");
        }
        p.push(per_path_sample(12, KernelPath::Wait)).expect("good");
        assert_eq!(tested(&p), before + 1);
    }

    /// The kernel paths of the passes the clock-wide fault tests use.
    const FOUR_PATHS: [KernelPath; 4] = [
        KernelPath::Wait,
        KernelPath::TimerRead,
        KernelPath::SocketDrain,
        KernelPath::FileTouch,
    ];

    /// A pipeline (capped at 8 bits) started per path on good passes of
    /// [`FOUR_PATHS`], and the credit start-up gave a pass.
    pub(crate) fn started_on_four_paths() -> (Box<Pipeline>, f64) {
        let mut p = pipeline(8.0);
        let mut rng = SplitMix64(11);
        for i in 0..WINDOW {
            p.push(per_path_sample(
                30_000 + (rng.next() >> 52),
                FOUR_PATHS[i % 4],
            ))
            .expect("good");
        }
        let report = p.stats().startup.expect("started");
        let per_pass = FOUR_PATHS.iter().map(|&path| report.credit(path)).sum();
        (p, per_pass)
    }

    #[test]
    fn a_clock_wide_fault_is_refused_by_the_pass_test_first() {
        // Per-path passes of four sources, then a clock that advances the
        // same for every syscall: every source repeats at once. Each
        // source's RCT would let C - 1 of its samples through; the pass
        // test stops the credit at fewer than 30 + 2 H_pass bits.
        let shape = FOUR_PATHS;
        let (mut p, per_pass) = started_on_four_paths();
        assert!(per_pass > 1.0, "{per_pass}");
        let before = p.stats();
        for i in 0..10_000 {
            let path = shape[i % 4];
            p.push(per_path_sample(40_000 + 1000 * (i % 4) as u64, path))
                .expect("an intermittent failure first");
            let health = p.stats().health;
            if health.pass_repetition_intermittent > 0 {
                // The pass test came first, and discarded the pool.
                assert_eq!(health.rct_intermittent, before.health.rct_intermittent);
                assert_eq!(health.apt_intermittent, before.health.apt_intermittent);
                assert!(p.stats().discards > before.discards);
                let stuck = p.stats().credited_bits - before.credited_bits;
                assert!(
                    stuck < 30.0 + 2.0 * per_pass,
                    "{stuck} bits credited to stuck passes"
                );
                return;
            }
        }
        panic!("the stuck passes were never refused");
    }

    #[test]
    fn restarts_between_requests_do_not_hide_a_clock_wide_fault() {
        // As above, but the source restarts its pairs during every
        // `every`-th pass, as the async seeder does between its slices: the
        // rest of that pass still comes, the next pass's wait is lost, and
        // the source counts it. The pass test still stops the credit under
        // 30 + 2 H_pass.
        let shape = FOUR_PATHS;
        for (every, cut) in [(1, 0), (1, 2), (2, 1), (3, 3), (5, 0)] {
            let (mut p, per_pass) = started_on_four_paths();
            let before = p.stats();
            let (mut lose_wait, mut lost) = (false, 0);
            let mut refused = false;
            'passes: for pass in 0..2_500 {
                for (k, &path) in shape.iter().enumerate() {
                    if pass % every == 0 && k == cut {
                        p.restart_pair(&mut Replay::new(vec![1]));
                        lose_wait = true;
                    }
                    if k == 0 && std::mem::take(&mut lose_wait) {
                        lost += 1;
                        continue;
                    }
                    // Credited before the sample that brings the failure
                    // (after a lost wait the failure comes ahead of the
                    // sample, which is then credited on its own).
                    let credited = p.stats().credited_bits;
                    p.note_waits_lost(lost);
                    p.push(per_path_sample(40_000 + 1000 * k as u64, path))
                        .expect("an intermittent failure first");
                    let health = p.stats().health;
                    if health.pass_repetition_intermittent > 0 {
                        assert_eq!(health.rct_intermittent, before.health.rct_intermittent);
                        let stuck = credited - before.credited_bits;
                        assert!(
                            stuck < 30.0 + 2.0 * per_pass,
                            "every {every} cut {cut}: {stuck} bits credited to stuck passes"
                        );
                        refused = true;
                        break 'passes;
                    }
                }
            }
            assert!(refused, "every {every} cut {cut}: never refused");
        }
    }

    #[test]
    fn an_online_lowering_empties_the_pool() {
        // Two sources, one of which the online check lowers: the pool's
        // credit, part of it from that source's unbacked samples, goes.
        let mut p = pipeline(2.0 * CREDIT_STEP);
        let mut rng = SplitMix64(5);
        for i in 0..WINDOW {
            let path = [KernelPath::Wait, KernelPath::TimerRead][i % 2];
            p.push(per_path_sample(30_000 + (rng.next() >> 52), path))
                .expect("good");
        }
        let credit = p.stats().startup.expect("started").credit(KernelPath::Wait);
        assert_eq!(credit, 2.0 * CREDIT_STEP);
        let discards = p.stats().discards;
        // The wait turns 90% one value (too few repeats in a row for its
        // RCT, too few in a window for its APT); the timer read stays good.
        for i in 0..40_000u32 {
            let (delta, path) = if i % 2 == 0 {
                let d = if rng.next().is_multiple_of(10) {
                    30_000 + (rng.next() >> 52)
                } else {
                    30_000
                };
                (d, KernelPath::Wait)
            } else {
                (30_000 + (rng.next() >> 52), KernelPath::TimerRead)
            };
            p.push(per_path_sample(delta, path))
                .expect("no health test fires");
            let _ = p.take_block();
            let wait = p.stats().sources.get(KernelPath::Wait).map(|s| s.credit);
            if wait < Some(credit) {
                assert!(p.stats().discards > discards, "lowered at {i}, pool kept");
                return;
            }
        }
        panic!("the wait's credit was never lowered");
    }

    /// A pipeline started on per-path passes of a wait and a timer read,
    /// each wakeup three timer intervals after the last (the replayed
    /// pace), and its generator.
    fn started_on_waits_and_reads() -> (Box<Pipeline>, SplitMix64) {
        started_on_waits_and(KernelPath::TimerRead)
    }

    /// As [`started_on_waits_and_reads`], with `second` after each wait.
    fn started_on_waits_and(second: KernelPath) -> (Box<Pipeline>, SplitMix64) {
        let mut p = per_path_pipeline();
        let mut rng = SplitMix64(9);
        for i in 0..WINDOW {
            let path = [KernelPath::Wait, second][i % 2];
            p.push(per_path_sample(30_000 + (rng.next() >> 52), path))
                .expect("good");
        }
        (p, rng)
    }

    /// A sample of passes that wait for their timer: each wakeup finds it
    /// expired once.
    fn behind_the_timer(rng: &mut SplitMix64, path: KernelPath) -> Sample {
        let mut sample = per_path_sample(30_000 + (rng.next() >> 52), path);
        if path == KernelPath::Wait {
            sample.events = EventCounts {
                timer: 1,
                timer_expirations: 1,
                ..EventCounts::default()
            };
        }
        sample
    }

    #[test]
    fn passes_that_fall_behind_their_timer_lose_their_credits() {
        // Started on passes of three timer intervals (the replayed pace);
        // then every wakeup finds the timer expired once: the passes now
        // wait for it.
        let (mut p, mut rng) = started_on_waits_and_reads();
        let startup = p.stats().startup.expect("started");
        assert_eq!(startup.expirations_per_timer_event, 3.0);
        assert!(startup.credit(KernelPath::Wait) > 0.0);
        assert!(startup.credit(KernelPath::TimerRead) > CREDIT_STEP);
        let discards = p.stats().discards;
        // One window of slow passes is not enough; the second is.
        let window = 2 * crate::sources::PACE_WINDOW_TIMER_EVENTS as usize;
        for i in 0..2 * window {
            let path = [KernelPath::Wait, KernelPath::TimerRead][i % 2];
            p.push(behind_the_timer(&mut rng, path))
                .expect("still credited");
            let _ = p.take_block();
            let stats = p.stats();
            let credit = |path| stats.sources.get(path).map_or(0.0, |s| s.credit);
            // The second window closes at its last wait, two samples before its end.
            if i < 2 * window - 2 {
                assert!(
                    credit(KernelPath::TimerRead) > CREDIT_STEP,
                    "lowered early, at {i}"
                );
            } else {
                assert_eq!(credit(KernelPath::Wait), 0.0);
                assert_eq!(credit(KernelPath::TimerRead), CREDIT_STEP);
                assert_eq!(stats.pace_lost, Some(1.0));
                assert!(stats.discards > discards, "lowered, pool kept");
            }
        }
    }

    #[test]
    fn a_wait_credited_without_a_timer_read_loses_its_credit_with_the_pace() {
        // As kqueue's passes: no timer-read path, so no source is taken as
        // timer-driven, but the window ran ahead of its timer and the wait
        // is credited. Once the passes wait for their timer, it is not.
        let (mut p, mut rng) = started_on_waits_and(KernelPath::SocketDrain);
        let startup = p.stats().startup.expect("started");
        assert_eq!(startup.expirations_per_timer_event, 3.0);
        assert!(startup.credit(KernelPath::Wait) > 0.0, "{startup:?}");
        assert!(
            startup.sources.values().all(|s| !s.timer_driven),
            "{startup:?}"
        );
        let window = 2 * crate::sources::PACE_WINDOW_TIMER_EVENTS as usize;
        for i in 0..2 * window {
            let path = [KernelPath::Wait, KernelPath::SocketDrain][i % 2];
            p.push(behind_the_timer(&mut rng, path))
                .expect("still credited");
            let _ = p.take_block();
        }
        let stats = p.stats();
        assert_eq!(stats.pace_lost, Some(1.0));
        let credit = |path| stats.sources.get(path).map_or(0.0, |s| s.credit);
        assert_eq!(credit(KernelPath::Wait), 0.0);
        assert!(credit(KernelPath::SocketDrain) > 0.0, "{stats:?}");
    }

    /// A pipeline started as above, then fed `windows` pace windows of waits whose timer events carry
    /// the expirations `per_window(w)` gives for window `w` (one entry per
    /// timer event); the pace it lost, if it did.
    fn pace_after(per_window: impl Fn(usize) -> Vec<u64>, windows: usize) -> Option<f64> {
        let (mut p, mut rng) = started_on_waits_and_reads();
        for w in 0..windows {
            for expirations in per_window(w) {
                for path in [KernelPath::Wait, KernelPath::TimerRead] {
                    let mut sample = per_path_sample(30_000 + (rng.next() >> 52), path);
                    if path == KernelPath::Wait {
                        sample.events.timer_expirations = expirations;
                    }
                    p.push(sample).expect("still credited");
                    let _ = p.take_block();
                }
            }
        }
        p.stats().pace_lost
    }

    #[test]
    fn one_stall_a_window_does_not_carry_passes_that_wait() {
        let events = crate::sources::PACE_WINDOW_TIMER_EVENTS as usize;
        // A preempted pass that saw 2000 expirations in each window: summed
        // as they come, each window would average 2.95 and pass.
        let stalled = |_| {
            let mut window = vec![1; events];
            window[events / 2] = 2000;
            window
        };
        let lost = pace_after(stalled, 2).expect("lost");
        assert!(lost < 1.01, "{lost}");
        // A window that outruns the timer in between resets the count.
        let alternating = |w: usize| vec![if w % 2 == 1 { 3 } else { 1 }; events];
        assert_eq!(pace_after(alternating, 3), None);
        assert_eq!(pace_after(|_| vec![1; events], 2), Some(1.0));
    }

    #[test]
    fn a_failure_stops_output_and_latches() {
        let mut p = pipeline(0.5);
        let mut rng = SplitMix64(0x5eed);
        let mut blocks = 0;
        for _ in 0..5000 {
            if push(&mut p, good(&mut rng)).unwrap().is_some() {
                blocks += 1;
            }
        }
        // One block at the end of the window (it takes the whole pool), then
        // one per 640 samples at 1/2 bit.
        assert!(blocks > (5000 - WINDOW) / 640, "{blocks}");
        // A stuck source: the same delta over and over.
        let cutoffs = cutoffs(0.5);
        let mut first_failure = None;
        for n in 1..=cutoffs.rct_permanent {
            match push(&mut p, 0x1234_5678_9abc_de42) {
                Ok(Some(_)) => panic!("block from a stuck run at {n}"),
                Ok(None) => assert!(n < cutoffs.rct_permanent, "passed at {n}"),
                Err(Error::Health(f)) => {
                    assert!(f.is_permanent());
                    assert_eq!(n, cutoffs.rct_permanent);
                    first_failure = Some(f);
                    break;
                }
                Err(other) => panic!("{other:?}"),
            }
        }
        let failure = first_failure.expect("the RCT must fire");
        assert_eq!(failure.test, HealthTest::Rct);
        // Latched: good data back, no output, the same error.
        let released = p.stats().blocks;
        for _ in 0..10_000 {
            assert!(matches!(push(&mut p, good(&mut rng)), Err(Error::Health(f)) if f == failure));
        }
        assert_eq!(p.stats().blocks, released);
        let mut out = [0xaa; 40];
        assert!(p.fill(&mut out, &mut Replay::new(vec![1, 2, 3])).is_err());
        assert_eq!(out, [0; 40], "a failed fill leaves nothing behind");
    }

    #[test]
    fn an_intermittent_failure_discards_the_pool() {
        // H = 1/2: a block per 640 credited samples after start-up.
        let mut p = pipeline(0.5);
        let mut rng = SplitMix64(7);
        while push(&mut p, good(&mut rng)).unwrap().is_none() {}
        for _ in 0..250 {
            assert_eq!(push(&mut p, good(&mut rng)).unwrap(), None);
        }
        // A short stuck run: its first c - 1 samples pass and are credited,
        // as SP 800-90B allows; 250 + c stays below 640.
        let c = cutoffs(0.5).rct_intermittent;
        assert!(250 + c < 640, "{c}");
        for _ in 0..c {
            assert_eq!(push(&mut p, 0x4242).unwrap(), None);
        }
        assert_eq!(p.stats().health.rct_intermittent, 1);
        // Everything before the failure was dropped: 640 fresh samples again.
        for i in 1..640 {
            assert_eq!(push(&mut p, good(&mut rng)).unwrap(), None, "sample {i}");
        }
        assert!(push(&mut p, good(&mut rng)).unwrap().is_some());
    }

    #[test]
    fn a_period_that_rct_and_apt_pass_is_refused_by_the_predictor() {
        // The review's repro: a good start, then a cycle of four symbols
        // (each a quarter of every APT window, no runs for the RCT).
        let mut p = pipeline(1.5);
        let mut rng = SplitMix64(11);
        for _ in 0..WINDOW + 100 {
            push(&mut p, good(&mut rng)).unwrap();
        }
        let mut released = 0;
        let mut failure = None;
        for i in 0..2_000_000u64 {
            match push(&mut p, 30_000 + (i % 4) * 1000) {
                Ok(Some(_)) => released += 1,
                Ok(None) => {}
                Err(Error::Health(f)) => {
                    failure = Some((i, f));
                    break;
                }
                Err(other) => panic!("{other:?}"),
            }
        }
        let (at, f) = failure.expect("the periodic source was never refused");
        assert_eq!(f.test, HealthTest::PredictorRun, "{f}");
        assert_eq!(f.level, FailureLevel::Permanent);
        let credit = p.stats().startup.expect("started").credit(KernelPath::Pass);
        let stats = p.stats().health;
        assert_eq!((stats.rct_intermittent, stats.apt_intermittent), (0, 0));
        assert!(stats.predictor_intermittent >= 1);
        // The intermittent cutoff discarded the pool, the permanent one
        // (after the predictor has learnt the period: about ten samples)
        // refused the source.
        let permanent = cutoffs(credit).predictor_run_permanent as u64;
        assert!(
            at < permanent + 16,
            "refused only after {at} periodic samples (credit {credit}, cutoff {permanent})"
        );
        assert_eq!(released, 0, "a block came out of the periodic stretch");
    }

    #[test]
    fn start_up_refusals_latch_after_the_limit() {
        let mut p = pipeline(1.5);
        let stuck = vec![0u64; WINDOW];
        for attempt in 1..=MAX_STARTUP_REFUSALS {
            let mut out = [0u8; 32];
            let e = p
                .fill(&mut out, &mut Replay::new(stuck.clone()))
                .unwrap_err();
            assert!(matches!(
                e,
                Error::Startup(StartupFailure::StuckClock { .. })
            ));
            assert_eq!(p.stats().startup_refusals, attempt);
        }
        // Good data now: still refused, and nothing collected for it.
        let mut rng = SplitMix64(3);
        let fine: Vec<u64> = (0..4096).map(|_| good(&mut rng)).collect();
        let before = p.stats().samples;
        let mut out = [0u8; 32];
        assert!(matches!(
            p.fill(&mut out, &mut Replay::new(fine)),
            Err(Error::Startup(_))
        ));
        assert_eq!(p.stats().samples, before);
    }

    /// A clock-wide fault on [`FOUR_PATHS`] whose passes lose their waits
    /// two in five (so that passes merged by a lost wait would differ from
    /// one another), as the collector gives it with the losses counted.
    pub(crate) fn stuck_passes_losing_waits() -> Replay {
        let (mut deltas, mut paths, mut after_lost) = (Vec::new(), Vec::new(), Vec::new());
        for pass in 0..400 {
            for (k, &path) in FOUR_PATHS.iter().enumerate() {
                if k == 0 && matches!(pass % 5, 1 | 3) {
                    after_lost.push(deltas.len());
                    continue;
                }
                deltas.push(40_000 + 1000 * k as u64);
                paths.push(path);
            }
        }
        Replay::with_paths(deltas, paths).with_lost_waits(after_lost)
    }

    #[test]
    fn shares_tell_the_health_tests_of_an_output_once_a_block_has_gone_out() {
        // The count of intermittent failures without an output restarts
        // once per 320 bits a collector's shares carried, as it does once
        // per block of one collector: a share of about 180 bits does not.
        let (mut p, _) = started_on_four_paths();
        while p.take_block().is_some() {}
        let mut rng = SplitMix64(12);
        let deltas: Vec<u64> = (0..20_000).map(|_| 30_000 + (rng.next() >> 52)).collect();
        let paths = (0..deltas.len()).map(|i| FOUR_PATHS[i % 4]).collect();
        let mut source = Replay::with_paths(deltas, paths);
        // This pipeline's fault latency: the default alpha and two passes.
        let latency = 30.0 + 2.0 * p.stats().startup.expect("started").bits_per_pass();
        let share = crate::conditioner::share_millibits(2, latency);
        let mut out = Zeroizing::new([0u8; 32]);
        let blocks = p.stats().blocks;
        p.fill_shares(&mut *out, &mut source, 2)
            .expect("first share");
        assert_eq!((p.shares, p.shared_since_output), (1, share));
        p.fill_shares(&mut *out, &mut source, 2)
            .expect("second share");
        assert_eq!((p.shares, p.shared_since_output), (2, 0));
        assert_eq!(p.stats().blocks, blocks, "a share is not a block");
    }

    #[test]
    fn a_request_reports_the_waits_its_source_lost_to_the_pass_test() {
        // Through `fill`, as the seeder pulls samples: the source's count
        // of lost waits reaches the pass test, which stops the stuck
        // passes before any source's RCT would.
        let (mut p, _) = started_on_four_paths();
        // What the window credited goes out first.
        while p.take_block().is_some() {}
        let mut source = stuck_passes_losing_waits();
        let mut out = [0u8; 32];
        let e = p.fill(&mut out, &mut source).unwrap_err();
        let health = p.stats().health;
        // Without the count the merged passes would never repeat: the
        // sources' RCTs alone would end it (as they do here, later).
        assert!(health.pass_repetition_intermittent > 0, "{e}: {health:?}");
        assert!(health.lost_waits > 0);
    }

    #[test]
    fn the_held_window_replays_its_lost_waits_to_the_pass_test() {
        // Start-up holds its window and then runs it through the tests: the
        // waits lost while it was held must reach the pass test, as those
        // lost later do. Every seventh pass here lost its wait (the next
        // sample is the pass's second), reported before that sample as
        // `fill` reports it.
        let mut p = pipeline(8.0);
        let mut rng = SplitMix64(11);
        let (mut lost, mut pass) = (0u64, 0);
        let mut pushed = 0;
        while pushed < WINDOW {
            for (k, &path) in FOUR_PATHS.iter().enumerate() {
                if k == 0 && pass % 7 == 3 {
                    lost += 1;
                    continue;
                }
                if pushed == WINDOW {
                    break;
                }
                p.note_waits_lost(lost);
                p.push(per_path_sample(30_000 + (rng.next() >> 52), path))
                    .expect("good");
                pushed += 1;
            }
            pass += 1;
        }
        let stats = p.stats();
        assert!(stats.startup.is_some_and(|r| !r.whole_passes));
        assert!(lost > 10, "{lost}");
        assert_eq!(stats.health.lost_waits, lost);
        assert_eq!(stats.health.pass_repetition_intermittent, 0);
    }

    #[test]
    fn a_refusal_that_latches_an_intermittent_failure_says_permanent() {
        let mut p = pipeline(1.5);
        let intermittent = HealthFailure {
            test: HealthTest::Rct,
            level: FailureLevel::Intermittent,
            observed: 9,
            cutoff: 9,
            during_startup: true,
            escalated_after: 0,
        };
        for attempt in 1..=MAX_STARTUP_REFUSALS {
            let Err(Error::Health(f)) = p.refuse(Error::Health(intermittent)) else {
                panic!("not a health refusal");
            };
            if attempt < MAX_STARTUP_REFUSALS {
                assert_eq!(f, intermittent);
            } else {
                assert_eq!(f.level, FailureLevel::Permanent, "{f}");
                assert_eq!((f.test, f.observed), (HealthTest::Rct, 9), "{f}");
            }
        }
        let mut out = [0u8; 32];
        match p.fill(&mut out, &mut Replay::new(vec![1; 16])) {
            Err(Error::Health(f)) => assert!(f.is_permanent(), "{f}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fewer_refusals_than_the_limit_can_recover() {
        let mut p = pipeline(1.5);
        let mut out = [0u8; 32];
        assert!(p.fill(&mut out, &mut Replay::new(vec![0; WINDOW])).is_err());
        let mut rng = SplitMix64(5);
        let fine: Vec<u64> = (0..4096).map(|_| good(&mut rng)).collect();
        p.fill(&mut out, &mut Replay::new(fine))
            .expect("second attempt");
        assert_ne!(out, [0; 32]);
    }

    #[test]
    fn an_empty_request_collects_nothing() {
        let mut p = pipeline(1.5);
        p.fill(&mut [], &mut Replay::new(vec![1; 10])).unwrap();
        assert_eq!(p.stats().samples, 0);
    }

    #[test]
    fn the_fork_record_alone_keeps_two_children_apart() {
        // Two pipelines in the same state (same samples) restart as after a
        // fork: with the same record they release the same block, so only
        // the record can keep them apart; with records that differ in one
        // field each, they never match.
        let run = |record: fork::ForkRecord| {
            let mut p = pipeline(1.5);
            let mut rng = SplitMix64(9);
            while push(&mut p, good(&mut rng)).unwrap().is_none() {}
            p.restart_as_new_source(record).unwrap();
            loop {
                if let Some(b) = push(&mut p, good(&mut rng)).unwrap() {
                    return b;
                }
            }
        };
        let base = fork::ForkRecord {
            pid: 100,
            generation: 2,
            forks: 1,
        };
        let same = run(base);
        assert_eq!(same, run(base), "the replay is not deterministic");
        for other in [
            fork::ForkRecord { pid: 101, ..base },
            fork::ForkRecord {
                generation: 3,
                ..base
            },
            // Siblings with a reused pid: only the fork count differs.
            fork::ForkRecord { forks: 2, ..base },
        ] {
            assert_ne!(run(other), same, "{other:?}");
        }
    }

    #[test]
    fn a_fork_restarts_start_up() {
        let mut p = pipeline(1.5);
        let mut rng = SplitMix64(13);
        while push(&mut p, good(&mut rng)).unwrap().is_none() {}
        p.restart_as_new_source(fork::ForkRecord {
            pid: 1,
            generation: 2,
            forks: 3,
        })
        .unwrap();
        assert!(p.stats().startup.is_none());
        assert_eq!(p.stats().forks, 1);
        for _ in 0..WINDOW - 1 {
            assert_eq!(push(&mut p, good(&mut rng)).unwrap(), None);
        }
        assert!(push(&mut p, good(&mut rng)).unwrap().is_some());
    }

    #[test]
    fn the_hedge_goes_into_every_pool_and_changes_the_blocks_not_the_credit() {
        let blocks = |hedge: bool| {
            let config = SeederConfig {
                hedge_with_os_entropy: hedge,
                ..SeederConfig::default()
            };
            let mut p = Box::new(Pipeline::new(&config).unwrap());
            let mut rng = SplitMix64(77);
            let mut out = Vec::new();
            while out.len() < 3 {
                if let Some(b) = push(&mut p, good(&mut rng)).unwrap() {
                    out.push(b);
                }
            }
            (out, p.stats())
        };
        let (plain, plain_stats) = blocks(false);
        let (again, _) = blocks(false);
        let (hedged, hedged_stats) = blocks(true);
        assert_eq!(plain, again, "not deterministic");
        assert!(plain.iter().zip(&hedged).all(|(a, b)| a != b));
        // The same samples were needed for the same blocks: no credit.
        assert_eq!(plain_stats.samples, hedged_stats.samples);
        assert_eq!(plain_stats.os_entropy_absorbed, 0);
        // One per pool: the start-up pool and the next two.
        assert_eq!(hedged_stats.os_entropy_absorbed, 3);
    }
}
