//! `KqRng` and `kqseed::rng()`: ChaCha20 reseeded from conditioned blocks,
//! fed by one process-wide seeding service.
//!
//! # Shape
//!
//! * **One seeding service per process.** A background thread owns one
//!   [`KqSeeder`] (one event queue, whatever the number of generators) and
//!   keeps a small stock of 32-byte seeds (eight), refilled in one batch once
//!   it is down to two. A
//!   generator takes a seed without waiting when one is in stock; only the
//!   very first seed of a process (with the warm-up and the start-up checks:
//!   about 11.5 ms cold on the AMD EPYC guest in the README's Speed table),
//!   a generator past its hard limit, and a reseed on request wait for one. Under contention the
//!   threads queue on one mutex for a pop, which takes nanoseconds; the
//!   supply is one seed per 320 credited bits (about 1,100 samples, 3.6 ms
//!   warm on the AMD EPYC guest: same table), shared.
//! * **Per-generator state.** ChaCha20 (the `chacha20` crate's
//!   `ChaCha20Rng`, which wipes its key and buffer on drop and is not
//!   `Clone`; `rand_chacha`'s is `Clone` and wipes nothing), held 64-byte
//!   aligned on the heap, where chacha20 runs fastest.
//! * **Fast key erasure.** After every `fill_bytes` request, and after
//!   every 256 bytes taken through `next_u32`/`next_u64`, the generator
//!   rekeys from its own keystream, so a later compromise of its state does
//!   not reveal output from before the last rekey: no earlier `fill_bytes`
//!   request, and at most the last 252 bytes of word output.
//! * **Reseeding.** After [`GeneratorConfig::reseed_after_bytes`] or
//!   [`GeneratorConfig::reseed_after`], whichever comes first, the next key
//!   is `SHA-256("kqseed/v1/reseed" || keystream || seed [|| os])`. If no
//!   seed is in stock yet, output goes on with the current key (no stall)
//!   until the hard limit, `hard_limit_factor` times either budget; then the
//!   generator waits for a seed.
//! * **Fork.** Every call compares the generator's owner stamp with the
//!   process ([`crate::fork_detection`]: one atomic load on Linux and the
//!   BSDs). In a child, the parent's key is never used again: the child
//!   reseeds from its own service (a new queue, a new start-up test) before
//!   any output, and fails rather than fall back.
//! * **Reseed on request.** [`reseed`] discards the stock and any seed
//!   being collected, and bumps an epoch that every generator compares on
//!   each call (one more atomic load): a generator seeded before it waits
//!   for a fresh seed before any output, like a forked child.
//!   [`KqRng::reseed`] does the same for one generator, now. For VM
//!   snapshots: README, "VM snapshots and clones".
//! * **Re-entry.** The thread that collects for the service (the worker, or
//!   a taker collecting inline when no thread can start) is marked
//!   (`InService`): a call back into the generator from what collection
//!   runs (tempfile calls getrandom after three name collisions) gets
//!   `EDEADLK` at once instead of waiting for its own thread.
//!
//! # Failure policy
//!
//! * [`KqRng`] (fallible): a reseed that is due and meets a failed source
//!   returns the error at once; so does every later due reseed until the
//!   service recovers. Nothing is output from a key past its budget while
//!   the source is known to fail.
//! * [`ThreadRng`] (infallible, for rand's APIs): a failed reseed is
//!   counted and output goes on with the current key, still rekeyed after
//!   every request, up to the hard limit; past it, or at a first seed, a
//!   reseed after fork or a reseed on request that fails, it panics with a
//!   message naming the failure. A key is never used past the hard limit,
//!   and a failure never passes silently ([`ThreadRng::stats`] counts
//!   them).

use core::cell::{Cell, RefCell};
use core::fmt;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chacha20::ChaCha20Rng;
use rand_core::{Rng, TryCryptoRng, TryRng};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::config::SeederConfig;
use crate::error::{ConfigError, Error, Result};
use crate::seeder::KqSeeder;
use crate::sys;

/// Default byte budget: 64 MiB between reseeds.
///
/// rand's `ThreadRng` reseeds from the OS every 64 KiB, which costs it half
/// a microsecond. A kqseed seed costs 320 credited bits, about 3.6 ms of
/// one core on the AMD EPYC guest (README, Speed): a 64 KiB budget would
/// ask a thread drawing 1 GiB/s for 16,000 seeds a second, far more than a
/// source can give. 64 MiB asks it for 16, and
/// ChaCha20's security does not depend on the budget (it is safe for 2^64
/// blocks per key); the budget bounds how long a compromised state predicts
/// output.
pub const DEFAULT_RESEED_AFTER_BYTES: u64 = 64 << 20;
/// Default time budget: 60 s between reseeds, Linux's CRNG reseed interval.
pub const DEFAULT_RESEED_AFTER: Duration = Duration::from_secs(60);
/// Default hard limit: 16 times either budget without a fresh seed.
pub const DEFAULT_HARD_LIMIT_FACTOR: u32 = 16;

/// Seeds the service keeps ready.
const STOCK: usize = 8;
/// The worker refills only once the stock is down to this many, then fills
/// it in one batch: fewer wake-ups, and the queue's pairs are not broken
/// between every seed.
const LOW_WATER: usize = 2;
const KEY_LEN: usize = 32;
/// 32-bit words drawn through `next_u32`/`next_u64` between rekeys (256
/// bytes, chacha20's block buffer).
const REKEY_WORDS: u32 = 64;

/// The generator's budgets and options, and where its seeds come from.
///
/// Start from [`GeneratorConfig::default`] and change what you need with
/// the `with_*` methods (the fields are public to read and to assign):
///
/// ```
/// use kqseed::{GeneratorConfig, SeederConfig};
/// use std::time::Duration;
///
/// let config = GeneratorConfig::default()
///     .with_reseed_after(Duration::from_secs(10))
///     .with_seeder(SeederConfig::default().with_temp_dir(std::env::current_dir()?));
/// let mut rng = kqseed::KqRng::with_config(config)?;
/// # use rand_core::TryRng;
/// # let _ = rng.try_next_u64()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GeneratorConfig {
    /// Output after which a reseed is due. Default
    /// [`DEFAULT_RESEED_AFTER_BYTES`] (64 MiB).
    pub reseed_after_bytes: u64,
    /// Time after which a reseed is due. Default [`DEFAULT_RESEED_AFTER`]
    /// (60 s).
    pub reseed_after: Duration,
    /// Output continues without a fresh seed up to this many times either
    /// budget; then the generator waits for one (or, where it cannot, fails).
    /// At least 1; default [`DEFAULT_HARD_LIMIT_FACTOR`] (16).
    pub hard_limit_factor: u32,
    /// Mixes 32 bytes from the operating system's generator into every key,
    /// credited with nothing: the key is then never weaker than either the
    /// jitter or the OS. Off by default, and shown in `Debug` and the
    /// stats, so that nobody mistakes hedged output for pure jitter.
    ///
    /// This hedges each generator key; the seeder's own
    /// [`SeederConfig::hedge_with_os_entropy`] (in [`seeder`](Self::seeder))
    /// hedges each conditioned block of the seeds themselves. Either, both
    /// or neither can be on.
    pub hedge_with_os_entropy: bool,
    /// The seeder that collects this generator's seeds: its event sources
    /// and temporary directory, health tests and credit. Default
    /// [`SeederConfig::default`], which is the process-wide seeding
    /// service's (the one [`kqseed::rng()`](crate::rng) uses).
    ///
    /// Any other configuration gets a seeding service of its own, shared by
    /// every generator with an equal configuration and kept for the life of
    /// the process: one more event queue (with its temporary directory)
    /// and one more worker thread per distinct configuration.
    pub seeder: SeederConfig,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            reseed_after_bytes: DEFAULT_RESEED_AFTER_BYTES,
            reseed_after: DEFAULT_RESEED_AFTER,
            hard_limit_factor: DEFAULT_HARD_LIMIT_FACTOR,
            hedge_with_os_entropy: false,
            seeder: SeederConfig::default(),
        }
    }
}

impl GeneratorConfig {
    /// With [`reseed_after_bytes`](Self::reseed_after_bytes) set.
    #[must_use]
    pub fn with_reseed_after_bytes(mut self, bytes: u64) -> Self {
        self.reseed_after_bytes = bytes;
        self
    }

    /// With [`reseed_after`](Self::reseed_after) set.
    #[must_use]
    pub fn with_reseed_after(mut self, interval: Duration) -> Self {
        self.reseed_after = interval;
        self
    }

    /// With [`hard_limit_factor`](Self::hard_limit_factor) set.
    #[must_use]
    pub fn with_hard_limit_factor(mut self, factor: u32) -> Self {
        self.hard_limit_factor = factor;
        self
    }

    /// With [`hedge_with_os_entropy`](Self::hedge_with_os_entropy) set.
    #[must_use]
    pub fn with_hedge_with_os_entropy(mut self, hedge: bool) -> Self {
        self.hedge_with_os_entropy = hedge;
        self
    }

    /// With the [`seeder`](Self::seeder) configuration set.
    #[must_use]
    pub fn with_seeder(mut self, seeder: SeederConfig) -> Self {
        self.seeder = seeder;
        self
    }

    /// Checks every field, the seeder's configuration included.
    pub fn validate(&self) -> Result<()> {
        let err = |field, reason: &str| {
            Err(Error::Config(ConfigError {
                field,
                reason: reason.into(),
            }))
        };
        if self.reseed_after_bytes == 0 {
            return err(
                "reseed_after_bytes",
                "a zero budget would reseed every call",
            );
        }
        if self.reseed_after.is_zero() {
            return err("reseed_after", "a zero interval would reseed every call");
        }
        if self.hard_limit_factor == 0 {
            return err("hard_limit_factor", "must be at least 1");
        }
        self.seeder.validate()
    }
}

/// Counters of a generator (no secret in them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GeneratorStats {
    /// Bytes output.
    pub bytes: u64,
    /// Reseeds done (the first seed included).
    pub reseeds: u64,
    /// Due reseeds that found no seed in stock and went on with the current
    /// key (no stall).
    pub deferred_reseeds: u64,
    /// Waits for a seed (the first seed, a reseed after fork, the hard
    /// limit).
    pub waits: u64,
    /// Reseeds that failed (the source reported an error).
    pub failed_reseeds: u64,
    /// Forks seen: each made the child reseed before any output.
    pub forks: u64,
    /// Whether OS entropy is mixed into every key.
    pub hedged_with_os_entropy: bool,
}

// ---------------------------------------------------------------------------
// The seeding service
// ---------------------------------------------------------------------------

/// A seeding service: a stock of seeds and the worker that fills it, with
/// one seeder of one configuration.
struct Service {
    state: Mutex<Stock>,
    /// Wakes the worker: the stock fell below full, or a retry is wanted.
    refill: Condvar,
    /// Wakes takers: a seed or a failure arrived.
    arrived: Condvar,
    /// The configuration of the seeder it makes.
    config: SeederConfig,
}

struct Stock {
    seeds: Zeroizing<[[u8; KEY_LEN]; STOCK]>,
    count: usize,
    /// The seeder, parked here while nobody collects. `None` while someone
    /// collects, before the first use, and after shutdown.
    seeder: Option<KqSeeder>,
    /// Whether the seeder was made: it is never replaced by a fresh one,
    /// which would drop a latched failure.
    seeder_made: bool,
    /// A failure nothing can recover from (a collection panicked, or the
    /// service shut down at exit): every take returns it.
    broken: Option<Error>,
    /// The last failure, until a seed arrives again.
    failure: Option<Error>,
    /// A failure the seeder latched (a permanent health failure, or
    /// start-up refused too often): every take returns it, also after the
    /// seeder is dropped at exit, so that no seeder made then (for a taker
    /// after shutdown) replaces it.
    latched: Option<Error>,
    /// Whether the worker is filling a batch (it goes on past the low
    /// water mark until the stock is full).
    filling: bool,
    /// Bumped by takers that want the worker to try again after a failure.
    retries_asked: u64,
    retries_done: u64,
    worker: bool,
    shutdown: bool,
    /// Bumped when the stock is discarded (a reseed on request): a seed
    /// whose collection began before is dropped when it arrives.
    era: u64,
    /// Workers started in this process's service (one, unless a worker
    /// ended: a broken or shut-down service starts none).
    workers_started: u64,
}

/// The process-wide service, with the default seeder configuration.
static SERVICE: sys::fork::PerProcess<Service> = sys::fork::PerProcess::new();

/// The services of generators configured with another seeder
/// configuration: one per distinct configuration, made on first use and
/// never freed (a worker thread holds each).
#[derive(Default)]
struct Configured {
    services: Mutex<Vec<&'static Service>>,
}

static CONFIGURED: sys::fork::PerProcess<Configured> = sys::fork::PerProcess::new();

impl Configured {
    fn all(&self) -> Vec<&'static Service> {
        self.services
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// In a forked child: retire every inherited service, unless a thread
    /// of the parent held the list at the fork (then leave it alone).
    fn retire_in_child(&self) {
        if let Ok(services) = self.services.try_lock() {
            for service in services.iter() {
                service.retire_in_child();
            }
        }
    }
}

/// Bumped by [`reseed`]: a generator seeded before the current value
/// reseeds, waiting for a seed, before its next output.
static RESEED_EPOCH: AtomicU64 = AtomicU64::new(0);

/// Where a generator's seeds come from: the process's service, or a test
/// supply.
trait Supply: Sync {
    /// A seed if one is ready, without waiting.
    fn try_take(&'static self) -> Take;
    /// A seed, waiting for one; the failure if the source fails.
    fn take(&'static self) -> Result<Zeroizing<[u8; KEY_LEN]>>;
    /// A seed collected after this call: the stock, and any seed being
    /// collected, are discarded first.
    fn take_fresh(&'static self) -> Result<Zeroizing<[u8; KEY_LEN]>>;
}

thread_local! {
    // The initializer is const already; clippy 1.96 says otherwise on
    // OpenBSD, where std's thread_local! expands without native TLS.
    #[allow(clippy::missing_const_for_thread_local)]
    /// Set while this thread collects for the service (the worker, or a
    /// taker collecting inline). What collection calls (tempfile, after
    /// three name collisions, calls getrandom, which may be kqseed's
    /// backend) must not wait for a seed: the service would be waiting for
    /// itself.
    static IN_SERVICE: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is collecting for the service.
fn in_service() -> bool {
    IN_SERVICE.try_with(Cell::get).unwrap_or(false)
}

/// Marks this thread as the service's collector until dropped.
struct InService {
    was: bool,
}

impl InService {
    fn enter() -> InService {
        InService {
            was: IN_SERVICE.try_with(|f| f.replace(true)).unwrap_or(false),
        }
    }
}

impl Drop for InService {
    fn drop(&mut self) {
        let _ = IN_SERVICE.try_with(|f| f.set(self.was));
    }
}

/// Looks up the supply for a seeder configuration in this process (a child
/// gets its own services).
type SupplyFn = fn(&SeederConfig) -> Result<&'static dyn Supply>;

fn shared_supply(seeder: &SeederConfig) -> Result<&'static dyn Supply> {
    Ok(service_for(seeder)?)
}

/// What a non-blocking take found.
enum Take {
    Seed(Zeroizing<[u8; KEY_LEN]>),
    Empty,
    Failed(Error),
}

fn service() -> Result<&'static Service> {
    let (service, inherited) =
        SERVICE.get_or_try_init(|| Ok(Service::new(SeederConfig::default())))?;
    if let Some(old) = inherited {
        old.retire_in_child();
    }
    Ok(service)
}

/// The service for generators whose seeder is configured as `config`: the
/// process-wide one for the default configuration, else the one made for
/// an equal configuration, else a new one.
fn service_for(config: &SeederConfig) -> Result<&'static Service> {
    let default = service()?;
    if *config == default.config {
        return Ok(default);
    }
    let (registry, inherited) = CONFIGURED.get_or_try_init(|| Ok(Configured::default()))?;
    if let Some(old) = inherited {
        old.retire_in_child();
    }
    let mut services = registry.services.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&service) = services.iter().find(|s| s.config == *config) {
        return Ok(service);
    }
    let service: &'static Service = Box::leak(Box::new(Service::new(config.clone())));
    services.push(service);
    Ok(service)
}

impl Service {
    fn new(config: SeederConfig) -> Service {
        Service {
            state: Mutex::new(Stock {
                seeds: Zeroizing::new([[0; KEY_LEN]; STOCK]),
                count: 0,
                seeder: None,
                seeder_made: false,
                broken: None,
                filling: false,
                failure: None,
                latched: None,
                retries_asked: 0,
                retries_done: 0,
                worker: false,
                shutdown: false,
                era: 0,
                workers_started: 0,
            }),
            refill: Condvar::new(),
            arrived: Condvar::new(),
            config,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Stock> {
        // A panic while holding the lock leaves consistent data (counts and
        // options): go on.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// In a forked child: the parent's stock and seeder must not be used.
    /// Wipe the stock and let go of the seeder (its queue's drop abandons
    /// what is the parent's) if no thread of the parent held the lock at
    /// the fork; otherwise leave it all alone.
    fn retire_in_child(&self) {
        if let Ok(mut stock) = self.state.try_lock() {
            stock.seeds.zeroize();
            stock.count = 0;
            drop(stock.seeder.take());
            stock.shutdown = true;
            stock.broken = Some(sys::service_broken(
                "the seeding service (inherited across fork)",
            ));
        }
    }
}

impl Supply for Service {
    /// A seed if one is in stock; asks for a refill either way.
    fn try_take(&'static self) -> Take {
        let mut stock = self.lock();
        let taken = stock.pop();
        let failure = (stock.latched.clone())
            .or_else(|| stock.broken.clone())
            .or_else(|| stock.failure.clone());
        // A latched seeder would only fail again: no retry for it.
        if failure.is_some() && stock.latched.is_none() && stock.retries_done >= stock.retries_asked
        {
            // Let the worker try the source again, once per failure seen.
            stock.retries_asked += 1;
        }
        self.ensure_worker(&mut stock);
        drop(stock);
        self.refill.notify_one();
        match (taken, failure) {
            (Some(seed), _) => Take::Seed(seed),
            (None, Some(e)) => Take::Failed(e),
            (None, None) => Take::Empty,
        }
    }

    /// A seed, waiting for the worker if none is in stock; the failure if
    /// the source fails (after one retry).
    fn take(&'static self) -> Result<Zeroizing<[u8; KEY_LEN]>> {
        self.wait_for_seed(false)
    }

    fn take_fresh(&'static self) -> Result<Zeroizing<[u8; KEY_LEN]>> {
        self.wait_for_seed(true)
    }
}

impl Service {
    /// [`Supply::take`], or with `fresh` [`Supply::take_fresh`].
    fn wait_for_seed(&'static self, fresh: bool) -> Result<Zeroizing<[u8; KEY_LEN]>> {
        if in_service() {
            // The seed would have to come from this very thread.
            return Err(sys::service_reentered());
        }
        let mut stock = self.lock();
        if fresh {
            stock.discard();
        }
        let mut retried = false;
        loop {
            if let Some(seed) = stock.pop() {
                self.refill.notify_one();
                return Ok(seed);
            }
            if let Some(e) = &stock.latched {
                return Err(e.clone());
            }
            if stock.shutdown {
                drop(stock);
                return self.collect_at_exit();
            }
            if let Some(e) = &stock.broken {
                return Err(e.clone());
            }
            if let Some(e) = &stock.failure {
                if retried && stock.retries_done >= stock.retries_asked {
                    return Err(e.clone());
                }
                if !retried {
                    stock.retries_asked += 1;
                    retried = true;
                }
            }
            if !self.ensure_worker(&mut stock) && (stock.seeder.is_some() || !stock.seeder_made) {
                // No thread could be started, and nobody collects: collect
                // here. (If another taker holds the seeder, wait for it.)
                drop(stock);
                self.collect_one();
                stock = self.lock();
                continue;
            }
            self.refill.notify_one();
            stock = self.arrived.wait(stock).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Starts the worker if it is not running; false if it cannot be, or
    /// must not be: a broken service would only start threads that end at
    /// once.
    fn ensure_worker(&'static self, stock: &mut Stock) -> bool {
        if stock.worker {
            return true;
        }
        if stock.shutdown || stock.broken.is_some() {
            return false;
        }
        let spawned = std::thread::Builder::new()
            .name("kqseed-seeder".into())
            .spawn(move || self.work());
        stock.worker = spawned.is_ok();
        if stock.worker {
            stock.workers_started += 1;
            // Once per process image (a forked child inherits the
            // registration). A flag, not a `Once`: a fork while another
            // thread ran a `Once` would leave the child waiting for it
            // forever. Best effort: without the hook the directory of the
            // watched files outlives the process, nothing worse.
            static EXIT_HOOK: AtomicBool = AtomicBool::new(false);
            if !EXIT_HOOK.swap(true, Ordering::AcqRel) {
                let _ = sys::at_exit(shut_down_at_exit);
            }
        }
        stock.worker
    }

    fn work(&'static self) {
        loop {
            {
                let mut stock = self.lock();
                // Also waits while a taker collects inline with the seeder
                // (its thread could not start this one in time): spinning
                // on the lock for the whole collection would burn a CPU.
                while !stock.shutdown
                    && (stock.count > LOW_WATER && !stock.filling
                        || stock.count == STOCK
                        || (stock.failure.is_some() && stock.retries_done >= stock.retries_asked)
                        || (stock.broken.is_none() && stock.seeder_made && stock.seeder.is_none())
                        || stock.latched.is_some())
                {
                    stock.filling = false;
                    stock = self.refill.wait(stock).unwrap_or_else(|e| e.into_inner());
                }
                // A batch: go on until the stock is full.
                stock.filling = true;
                if stock.shutdown || stock.broken.is_some() {
                    stock.worker = false;
                    self.arrived.notify_all();
                    return;
                }
            }
            self.collect_one();
        }
    }

    /// Collects one seed with the parked seeder and stocks it (or records
    /// the failure), waking takers. Does nothing if another thread holds
    /// the seeder (it will wake the takers) or the service is broken.
    /// A seed for a taker after the service shut down at exit (an `atexit`
    /// handler registered before the service's own hook, a late
    /// destructor): its seeder is gone, so the call collects with a seeder
    /// of its own, dropped, with its directory, before it returns.
    fn collect_at_exit(&self) -> Result<Zeroizing<[u8; KEY_LEN]>> {
        let _collecting = InService::enter();
        // As in `collect_one`: a panic in collection is this taker's
        // failure, not its panic.
        std::panic::catch_unwind(|| KqSeeder::with_config(self.config.clone())?.key::<KEY_LEN>())
            .unwrap_or_else(|_| {
                Err(sys::service_broken(
                    "the seeding at exit (its collection panicked)",
                ))
            })
    }

    fn collect_one(&self) {
        let _collecting = InService::enter();
        let (mut seeder, era) = {
            let mut stock = self.lock();
            if stock.broken.is_some() {
                return;
            }
            let seeder = match stock.seeder.take() {
                Some(seeder) => seeder,
                None if !stock.seeder_made => match KqSeeder::with_config(self.config.clone()) {
                    Ok(seeder) => {
                        stock.seeder_made = true;
                        seeder
                    }
                    // Validated when the generator was configured, so not
                    // expected; if it happens, a failure like any other.
                    Err(e) => {
                        stock.retries_done = stock.retries_asked;
                        stock.failure = Some(e);
                        drop(stock);
                        self.arrived.notify_all();
                        return;
                    }
                },
                None => return,
            };
            (seeder, stock.era)
        };
        // A panic in collection must not leave takers waiting for a worker
        // that is gone: it becomes a failure every take returns.
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| seeder.key::<KEY_LEN>()));
        let mut stock = self.lock();
        stock.retries_done = stock.retries_asked;
        match result {
            Ok(Ok(seed)) => {
                stock.seeder = Some(seeder);
                stock.push_from(era, &seed);
                stock.failure = None;
            }
            Ok(Err(e)) => {
                stock.latched = seeder.latched();
                stock.seeder = Some(seeder);
                stock.failure = Some(e);
            }
            Err(_) => stock.broken = Some(sys::service_broken("the seeding thread (it panicked)")),
        }
        // Shut down meanwhile (the exit hook's wait ran out): the seeder
        // goes now, with its directory, rather than parked for nobody.
        let late = if stock.shutdown {
            stock.seeder.take()
        } else {
            None
        };
        drop(stock);
        self.arrived.notify_all();
        // The worker, if a taker collected inline, waits for the seeder.
        self.refill.notify_one();
        drop(late);
    }
}

impl Service {
    /// [`reseed`]: discards the stock, asks every generator to reseed, and
    /// waits until a seed collected after the call is in stock.
    fn reseed_all(&'static self) -> Result<()> {
        let era = {
            let mut stock = self.lock();
            stock.discard();
            // Under the lock, after the discard: a generator that sees the
            // new value takes its seed after the discard.
            RESEED_EPOCH.fetch_add(1, Ordering::AcqRel);
            stock.era
        };
        // Every seed stocked from now on was collected after the discard.
        let seed = self.take()?;
        let mut stock = self.lock();
        stock.push_from(era, &seed);
        drop(stock);
        self.arrived.notify_all();
        Ok(())
    }
}

impl Stock {
    fn pop(&mut self) -> Option<Zeroizing<[u8; KEY_LEN]>> {
        self.count = self.count.checked_sub(1)?;
        let slot = &mut self.seeds[self.count];
        let seed = Zeroizing::new(*slot);
        slot.zeroize();
        Some(seed)
    }

    fn push(&mut self, seed: &[u8; KEY_LEN]) {
        if let Some(slot) = self.seeds.get_mut(self.count) {
            slot.copy_from_slice(seed);
            self.count += 1;
        }
    }

    /// Stocks a seed whose collection began in `era`, unless the stock was
    /// discarded since: part of its samples would predate the discard.
    fn push_from(&mut self, era: u64, seed: &[u8; KEY_LEN]) {
        if era == self.era {
            self.push(seed);
        }
    }

    /// Wipes the stock, and makes any collection under way count for
    /// nothing: the next seeds are collected wholly after this call.
    fn discard(&mut self) {
        self.seeds.zeroize();
        self.count = 0;
        self.era = self.era.wrapping_add(1);
    }
}

/// At exit: stop every service's worker and drop its seeder, so that its
/// private directory is removed. Waits at most 200 ms in all for seeds
/// being collected.
fn shut_down_at_exit() {
    shut_down_services(Instant::now() + Duration::from_millis(200));
}

/// Stops the worker of every service made in this process and drops its
/// seeder, waiting until `deadline` for seeds being collected.
fn shut_down_services(deadline: Instant) {
    // Only what was made in this process.
    if let Some(service) = SERVICE.get() {
        service.shut_down(deadline);
    }
    if let Some(registry) = CONFIGURED.get() {
        for service in registry.all() {
            service.shut_down(deadline);
        }
    }
}

impl Service {
    /// Stops the worker and drops the seeder, waiting until `deadline` for
    /// a seed being collected.
    fn shut_down(&self, deadline: Instant) {
        // A poisoned lock still guards a consistent stock (collection runs
        // outside it): wipe and stop as usual.
        let mut stock = self.lock();
        stock.shutdown = true;
        self.refill.notify_all();
        while stock.seeder.is_none() && stock.worker {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // The collection under way drops its seeder itself when
                // it ends (`collect_one`), and its seed with the era.
                break;
            }
            stock = match self.arrived.wait_timeout(stock, left) {
                Ok((s, _)) => s,
                Err(e) => e.into_inner().0,
            };
        }
        stock.discard();
        stock.broken = Some(sys::service_broken(
            "the seeding service (the process is exiting)",
        ));
        let seeder = stock.seeder.take();
        drop(stock);
        self.arrived.notify_all();
        drop(seeder);
    }
}

// ---------------------------------------------------------------------------
// The generator core
// ---------------------------------------------------------------------------

/// ChaCha20 at a 64-byte boundary, where chacha20 runs fastest.
#[repr(align(64))]
struct Aligned(ChaCha20Rng);

/// What to do when a due reseed fails.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Face {
    /// Return the failure.
    Fallible,
    /// Go on with the current key up to the hard limit.
    Infallible,
}

struct Core {
    /// `None` until the first seed; boxed so the key never moves.
    chacha: Option<Box<Aligned>>,
    supply: SupplyFn,
    config: GeneratorConfig,
    owner: sys::fork::Owner,
    /// Output since the last reseed.
    since_reseed: u64,
    /// Words drawn since the last rekey.
    words_since_rekey: u32,
    reseeded_at: Instant,
    stats: GeneratorStats,
    /// The reseed requests to follow ([`RESEED_EPOCH`]; tests give a core
    /// one of its own), and the value read before this key's last waited
    /// seed.
    epochs: &'static AtomicU64,
    epoch: u64,
}

impl Core {
    fn new(config: GeneratorConfig, supply: SupplyFn) -> Result<Core> {
        config.validate()?;
        let stats = GeneratorStats {
            hedged_with_os_entropy: config.hedge_with_os_entropy,
            ..GeneratorStats::default()
        };
        Ok(Core {
            chacha: None,
            supply,
            config,
            owner: sys::fork::Owner::current()?,
            since_reseed: 0,
            words_since_rekey: 0,
            reseeded_at: Instant::now(),
            epochs: &RESEED_EPOCH,
            epoch: 0,
            stats,
        })
    }

    /// Makes sure the key may be used for the next output: first seed,
    /// fork, a reseed request, budgets. Cheap when nothing is due: two
    /// atomic loads, three compares and (on `fill_bytes` only,
    /// `check_time`) a clock read.
    fn prepare(&mut self, face: Face, check_time: bool) -> Result<()> {
        if self.chacha.is_none() || !self.owner.is_current() {
            return self.first_seed(false);
        }
        if self.epochs.load(Ordering::Acquire) != self.epoch {
            // `kqseed::reseed()` was called since this key's last waited
            // seed: the key may be shared with a VM clone. Wait, whatever
            // the face, as after a fork.
            return self.reseed_now(false);
        }
        let c = &self.config;
        let over_bytes = self.since_reseed >= c.reseed_after_bytes;
        let elapsed = if check_time || over_bytes {
            Some(self.reseeded_at.elapsed())
        } else {
            None
        };
        let over_time = elapsed.is_some_and(|e| e >= c.reseed_after);
        if !(over_bytes || over_time) {
            return Ok(());
        }
        let factor = u64::from(c.hard_limit_factor);
        let hard = self.since_reseed >= c.reseed_after_bytes.saturating_mul(factor)
            || elapsed.is_some_and(|e| e >= c.reseed_after.saturating_mul(c.hard_limit_factor));
        let supply = (self.supply)(&self.config.seeder)?;
        let seed = if hard {
            self.stats.waits += 1;
            supply.take()
        } else {
            match supply.try_take() {
                Take::Seed(seed) => Ok(seed),
                Take::Empty => {
                    self.stats.deferred_reseeds += 1;
                    return Ok(());
                }
                Take::Failed(e) => Err(e),
            }
        };
        // A seed the OS hedge then fails to join is a failed reseed too.
        match seed.and_then(|seed| self.rekey(Some(&seed))) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.stats.failed_reseeds += 1;
                if face == Face::Infallible && !hard {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }

    /// The first seed of this generator, or of this process after a fork:
    /// waits for the service (with `fresh`, for a seed collected after the
    /// call). No key exists until the whole derivation succeeded, so a
    /// failure (the seed, or the hedge's OS call) leaves the generator
    /// unusable rather than keyed with anything predictable.
    fn first_seed(&mut self, fresh: bool) -> Result<()> {
        if !self.owner.is_current() {
            // A forked child: the parent's key, if it made one, must never
            // produce output, and a core made before the fork but never
            // seeded takes this process's stamp with its first seed (or
            // its next call would take that seed for a fork's and throw it
            // away).
            self.chacha = None;
            self.owner = sys::fork::Owner::current()?;
            self.stats.forks += 1;
        }
        let epoch = self.epochs.load(Ordering::Acquire);
        let seed = self.wait_for_seed(fresh)?;
        let key = self.derive_key(&[0; KEY_LEN], Some(&seed))?;
        self.chacha = Some(Box::new(Aligned(chacha_from_key(&key))));
        self.epoch = epoch;
        self.reseeded()
    }

    /// A reseed that waits for its seed (with `fresh`, one collected after
    /// the call), whatever the face: after `kqseed::reseed()`, or asked
    /// for by `KqRng::reseed`. A fork or a missing key makes it a first
    /// seed.
    fn reseed_now(&mut self, fresh: bool) -> Result<()> {
        if self.chacha.is_none() || !self.owner.is_current() {
            return self.first_seed(fresh);
        }
        // Read before the take: a request that comes during it is seen by
        // the next call.
        let epoch = self.epochs.load(Ordering::Acquire);
        let seed = self.wait_for_seed(fresh)?;
        self.rekey(Some(&seed))?;
        self.epoch = epoch;
        Ok(())
    }

    fn wait_for_seed(&mut self, fresh: bool) -> Result<Zeroizing<[u8; KEY_LEN]>> {
        self.stats.waits += 1;
        let supply = (self.supply)(&self.config.seeder)?;
        let seed = if fresh {
            supply.take_fresh()
        } else {
            supply.take()
        };
        seed.inspect_err(|_| self.stats.failed_reseeds += 1)
    }

    /// `SHA-256("kqseed/v1/reseed" || keystream || seed [|| os])`, or the
    /// keystream itself without a seed (fast key erasure).
    fn derive_key(
        &self,
        keystream: &[u8; KEY_LEN],
        seed: Option<&[u8; KEY_LEN]>,
    ) -> Result<Zeroizing<[u8; KEY_LEN]>> {
        let mut key = Zeroizing::new(*keystream);
        if let Some(seed) = seed {
            let mut hash = Sha256::new();
            hash.update(b"kqseed/v1/reseed");
            hash.update(keystream);
            hash.update(seed);
            if self.config.hedge_with_os_entropy {
                let mut os = Zeroizing::new([0u8; KEY_LEN]);
                sys::os_entropy(&mut os)?;
                hash.update(os.as_slice());
            }
            hash.finalize_into((&mut *key).into());
        }
        Ok(key)
    }

    fn reseeded(&mut self) -> Result<()> {
        self.since_reseed = 0;
        self.words_since_rekey = 0;
        self.reseeded_at = Instant::now();
        self.stats.reseeds += 1;
        Ok(())
    }

    /// Replaces the key by one derived from the keystream (fast key
    /// erasure), and from `seed` (a reseed) and OS entropy (the hedge). On a
    /// failure the current key stays, and the error is returned.
    fn rekey(&mut self, seed: Option<&[u8; KEY_LEN]>) -> Result<()> {
        // Every caller has a key; if not, fail closed.
        let no_key = || sys::service_broken("the generator (no key to rekey)");
        let Some(chacha) = self.chacha.as_mut() else {
            return Err(no_key());
        };
        let mut keystream = Zeroizing::new([0u8; KEY_LEN]);
        chacha.0.fill_bytes(keystream.as_mut());
        let key = self.derive_key(&keystream, seed)?;
        let Some(chacha) = self.chacha.as_mut() else {
            return Err(no_key());
        };
        // The old state (key and buffer) is wiped as it is dropped here; the
        // new one is written into the same aligned box.
        chacha.0 = chacha_from_key(&key);
        self.words_since_rekey = 0;
        if seed.is_some() {
            self.reseeded()?;
        }
        Ok(())
    }

    // Inlined into the caller's crate, where chacha20's generic block code is
    // instantiated beside the caller's own: its speed depends on that
    // placement by up to 15% on the reference VM.
    #[inline]
    fn fill(&mut self, dst: &mut [u8], face: Face) -> Result<()> {
        // A key serves at most what is left of its byte budget before the
        // budget (and the hard limit) are checked again, even within a
        // single large request, and across requests.
        let mut rest = dst;
        while !rest.is_empty() {
            self.prepare(face, true)?;
            let n = rest.len().min(self.room());
            let (chunk, tail) = rest.split_at_mut(n);
            let Some(chacha) = self.chacha.as_mut() else {
                // Unreachable (prepare made the key); if not, fail closed.
                return Err(sys::service_broken("the generator (no key after a reseed)"));
            };
            chacha.0.fill_bytes(chunk);
            self.count(n);
            rest = tail;
        }
        self.rekey(None)
    }

    /// Bytes the key may serve before the budgets are checked again: the
    /// rest of the byte budget, or past it (a reseed deferred for want of
    /// a seed) one more budget's worth, up to the hard limit; at least 1
    /// (`prepare` has just reseeded a key at its hard limit, or failed).
    fn room(&self) -> usize {
        let c = &self.config;
        let budget = c.reseed_after_bytes;
        let room = if self.since_reseed < budget {
            budget - self.since_reseed
        } else {
            let hard = budget.saturating_mul(u64::from(c.hard_limit_factor));
            budget.min(hard.saturating_sub(self.since_reseed))
        };
        usize::try_from(room).unwrap_or(usize::MAX).max(1)
    }

    fn next_word<T>(&mut self, face: Face, draw: impl FnOnce(&mut ChaCha20Rng) -> T) -> Result<T> {
        // The clock is read once per 256 bytes of words, not per word.
        self.prepare(face, self.words_since_rekey == 0)?;
        let Some(chacha) = self.chacha.as_mut() else {
            // Unreachable (prepare made the key); if not, fail closed.
            return Err(sys::service_broken("the generator (no key after a reseed)"));
        };
        let value = draw(&mut chacha.0);
        self.count(size_of::<T>());
        // Counted, not read off the stream position: a u64 that straddles
        // chacha20's buffer leaves the position odd for good.
        self.words_since_rekey += (size_of::<T>() / 4) as u32;
        if self.words_since_rekey >= REKEY_WORDS {
            self.rekey(None)?;
        }
        Ok(value)
    }

    fn count(&mut self, n: usize) {
        let n = n as u64;
        self.stats.bytes = self.stats.bytes.saturating_add(n);
        self.since_reseed = self.since_reseed.saturating_add(n);
    }
}

/// ChaCha20 keyed with `key`, stream 0, position 0: what `from_seed` makes,
/// built from a reference. `from_seed(*key)` would copy the key into an
/// argument on the stack, out of reach of `Zeroizing`.
fn chacha_from_key(key: &[u8; KEY_LEN]) -> ChaCha20Rng {
    let mut state = Zeroizing::new([0u8; size_of::<chacha20::SerializedRngState>()]);
    state[..KEY_LEN].copy_from_slice(key);
    ChaCha20Rng::deserialize_state(&state)
}

// ---------------------------------------------------------------------------
// The two faces
// ---------------------------------------------------------------------------

/// A ChaCha20 generator reseeded from event-queue jitter: the fallible face.
///
/// Every reseed failure is returned (`TryRng<Error = kqseed::Error>`). See
/// the [crate documentation](crate#use-it-as-your-generator) for budgets, fork safety and key
/// erasure; [`kqseed::rng()`](crate::rng) is the infallible, thread-local
/// face for rand's APIs.
///
/// ```
/// use rand_core::TryRng;
///
/// let mut rng = kqseed::KqRng::new()?;
/// let mut key = [0u8; 32];
/// rng.try_fill_bytes(&mut key)?;
/// # assert_ne!(key, [0u8; 32]);
/// # Ok::<(), kqseed::Error>(())
/// ```
///
/// # With rand's `RngExt`
///
/// rand's extension methods (`random`, `random_range`, `shuffle`, ...) need
/// an infallible [`rand_core::Rng`]; `KqRng` is a [`TryRng`] whose error is
/// [`kqseed::Error`](crate::Error). Wrap it in [`rand_core::UnwrapErr`],
/// which panics on an error, or use [`kqseed::rng()`](crate::rng), which
/// goes on with its key up to the hard limit:
///
/// ```
/// use rand::RngExt;
///
/// let mut rng = rand_core::UnwrapErr(kqseed::KqRng::new()?);
/// let die: u8 = rng.random_range(1..=6);
/// # assert!((1..=6).contains(&die));
/// # Ok::<(), kqseed::Error>(())
/// ```
pub struct KqRng {
    core: Core,
}

impl KqRng {
    /// A generator with the default budgets, seeded now from the
    /// process-wide service (this waits for the service's first seed if it
    /// has none yet).
    ///
    /// # Errors
    ///
    /// The source's failure if the first seed cannot be collected (for
    /// instance [`Error::TempDir`] when `TMPDIR` names no directory: see
    /// [`KqRng::with_config`]).
    pub fn new() -> Result<KqRng> {
        KqRng::with_config(GeneratorConfig::default())
    }

    /// A generator with `config`, validated, seeded now from the seeding
    /// service of `config.seeder` (see [`GeneratorConfig::seeder`]).
    ///
    /// This is the way to choose the seeder's temporary directory, event
    /// sources and credit, and the way to learn of a failure as an error
    /// where [`kqseed::rng()`](crate::rng) would panic: with `TMPDIR`
    /// naming a directory that does not exist, the first seed fails with
    /// [`Error::TempDir`] unless the seeder is given a directory that does
    /// (or no watched files):
    ///
    /// ```
    /// use kqseed::{GeneratorConfig, KqRng, SeederConfig};
    ///
    /// let seeder = SeederConfig::default().with_temp_dir(std::env::current_dir()?);
    /// let rng = KqRng::with_config(GeneratorConfig::default().with_seeder(seeder))?;
    /// # let _ = rng;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a configuration that does not validate, and
    /// the source's failure if the first seed cannot be collected.
    pub fn with_config(config: GeneratorConfig) -> Result<KqRng> {
        let mut core = Core::new(config, shared_supply)?;
        core.first_seed(false)?;
        Ok(KqRng { core })
    }

    /// Reseeds this generator now from a seed collected after the call,
    /// waiting for it (a few milliseconds): the service's stock, and any
    /// seed being collected, are discarded first, so other generators'
    /// next budget reseeds find fresh seeds too. The new key is derived
    /// from the old key's keystream and the seed.
    ///
    /// To reseed every generator of the process (after a VM snapshot is
    /// restored, say) call [`kqseed::reseed()`](crate::reseed) instead;
    /// see [VM snapshots and clones](crate#vm-snapshots-and-clones).
    ///
    /// # Errors
    ///
    /// The source's failure, if no fresh seed can be collected. The old
    /// key then stays and the generator goes on as before (its budgets
    /// unchanged), except in a forked child, which never keeps its
    /// parent's key.
    pub fn reseed(&mut self) -> Result<()> {
        self.core.reseed_now(true)
    }

    /// Counters (no secret).
    pub fn stats(&self) -> GeneratorStats {
        self.core.stats
    }

    /// The configuration.
    pub fn config(&self) -> &GeneratorConfig {
        &self.core.config
    }
}

impl fmt::Debug for KqRng {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KqRng")
            .field("config", &self.core.config)
            .field("stats", &self.core.stats)
            .finish_non_exhaustive()
    }
}

/// rand_core 0.10's fallible generator: every failed reseed as kqseed's
/// [`Error`]. For rand's `RngExt`, wrap it in [`rand_core::UnwrapErr`].
impl TryRng for KqRng {
    type Error = Error;

    fn try_next_u32(&mut self) -> Result<u32> {
        self.core.next_word(Face::Fallible, |c| c.next_u32())
    }

    fn try_next_u64(&mut self) -> Result<u64> {
        self.core.next_word(Face::Fallible, |c| c.next_u64())
    }

    #[inline]
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<()> {
        let result = self.core.fill(dst, Face::Fallible);
        if result.is_err() {
            dst.zeroize();
        }
        result
    }
}

/// rand_core 0.10's marker: ChaCha20 keyed from conditioned blocks.
impl TryCryptoRng for KqRng {}

/// Reseeds every generator of the process (every [`KqRng`] and every
/// thread's [`kqseed::rng()`](crate::rng)) from seeds collected after this
/// call: the seeding service's stock, and any seed being collected, are
/// discarded, and each generator's next draw waits for a fresh seed before
/// any output. Returns once a fresh seed is ready, so those draws wait
/// little.
///
/// Call it when the process's memory may have been copied by other means
/// than `fork()`: after a VM snapshot is restored or cloned, a CRIU
/// restore. See [VM snapshots and clones](crate#vm-snapshots-and-clones).
///
/// # Errors
///
/// The source's failure, if no fresh seed can be collected. The request
/// stands all the same: each generator's next draw still waits for a fresh
/// seed, and fails (`KqRng`) or panics (`rng()`) if it gets none.
pub fn reseed() -> Result<()> {
    // The services of other seeder configurations first: their stocks are
    // discarded before the epoch moves, so a generator that sees the new
    // epoch finds only seeds collected after the call.
    if let Some(registry) = CONFIGURED.get() {
        for service in registry.all() {
            service.lock().discard();
        }
    }
    service()?.reseed_all()
}

thread_local! {
    // The initializer is const already; clippy 1.96 says otherwise on
    // OpenBSD, where std's thread_local! expands without native TLS.
    #[allow(clippy::missing_const_for_thread_local)]
    static THREAD_RNG: RefCell<Option<Rc<RefCell<Core>>>> = const { RefCell::new(None) };
}

/// A handle to this thread's generator: the infallible face, for rand's
/// APIs (`rand::RngExt`, `random()`, `shuffle`). Made by
/// [`kqseed::rng()`](crate::rng); not `Send` (each thread has its own).
///
/// Panics, with a message that says what failed, only where no key may be
/// used: the first seed of the thread (or of a forked child, or after
/// [`kqseed::reseed()`](crate::reseed)) fails, or the source has failed for
/// longer than the hard limit (see the
/// [crate documentation](crate#use-it-as-your-generator)).
#[derive(Clone)]
pub struct ThreadRng {
    core: Rc<RefCell<Core>>,
}

/// This thread's generator, made on first use, reseeded from the
/// process-wide service.
///
/// During the thread's teardown (a thread-local destructor, an `atexit`
/// handler after the main thread's thread-locals are gone) the cached
/// generator may be gone: each call then gets a generator of its own, not
/// cached, seeded from the service's stock on its first draw.
///
/// ```
/// use rand_core::Rng;
///
/// let mut rng = kqseed::rng();
/// let _ = rng.next_u64();
/// ```
///
/// # Panics
///
/// `rng()` itself panics only if the generator cannot be set up: fork
/// detection could not be (`ENOMEM`), or the default configuration does not
/// validate on this system (the process may open too few file descriptors
/// for the default sources), where nothing could be seeded. Draws from the
/// handle panic as [`ThreadRng`] says: a first seed (of the thread, of a
/// forked child, after [`reseed`]) that fails, or a source failed past the
/// hard limit.
///
/// A first seed fails, for instance, when `TMPDIR` names a directory that
/// does not exist: the seeder cannot make the private directory of its
/// watched files there, and the draw panics with a message naming
/// [`Error::TempDir`], where [`KqSeeder`] and [`KqRng::new`] return that
/// error. Where that can happen, or a panic is not acceptable, use
/// [`KqRng::with_config`] with a temporary directory of your choice
/// ([`SeederConfig::with_temp_dir`]), and [`rand_core::UnwrapErr`] if rand's
/// `RngExt` is wanted on it.
pub fn rng() -> ThreadRng {
    // The core is made outside any borrow of the cell: making it can panic
    // (above), and the panic hook may call getrandom, which looks in this
    // very cell (a borrow held there would turn the hook's call into a
    // second panic, and the process would abort).
    let cached = THREAD_RNG.try_with(|cell| cell.try_borrow().ok().and_then(|c| c.clone()));
    let core = match cached {
        Ok(Some(core)) => core,
        Ok(None) => {
            let core = Rc::new(RefCell::new(new_thread_core()));
            // Kept for the thread's next calls; if a getrandom call stored
            // one meanwhile, that one, so the thread has a single generator.
            THREAD_RNG
                .try_with(|cell| match cell.try_borrow_mut() {
                    Ok(mut slot) => slot.get_or_insert_with(|| core.clone()).clone(),
                    Err(_) => core.clone(),
                })
                .unwrap_or(core)
        }
        // Thread-local teardown: a generator for this call only.
        Err(_) => Rc::new(RefCell::new(new_thread_core())),
    };
    ThreadRng { core }
}

/// A core for [`rng()`].
fn new_thread_core() -> Core {
    // The default budgets always validate, and the default seeder's
    // configuration fails only where it could not collect either (too few
    // file descriptors allowed); the stamp cannot fail after the crate's
    // fork detection is up, and where it cannot be set up (ENOMEM) nothing
    // can be seeded.
    Core::new(GeneratorConfig::default(), shared_supply)
        .unwrap_or_else(|e| panic!("kqseed::rng(): cannot set up the generator: {e}"))
}

/// Fills `dst` from this thread's generator through the fallible path, for
/// the getrandom backend: a failure comes back as an error.
#[cfg(feature = "getrandom-custom")]
pub(crate) fn fill_for_getrandom(dst: &mut [u8]) -> Result<()> {
    if in_service() {
        // Called from the service's own collection (tempfile's name
        // collision path calls getrandom, and its getrandom feature may be
        // on through another crate: features unify). Waiting for a seed
        // here would wait for this thread; tempfile goes on without it.
        dst.zeroize();
        return Err(sys::service_reentered());
    }
    // During thread-local teardown (getrandom called from a destructor)
    // there is no generator to use: an error, not a panic.
    let handle = THREAD_RNG
        .try_with(|cell| {
            if let Some(core) = cell.borrow().as_ref() {
                return Ok(core.clone());
            }
            let core = Rc::new(RefCell::new(Core::new(
                GeneratorConfig::default(),
                shared_supply,
            )?));
            *cell.borrow_mut() = Some(core.clone());
            Ok::<_, Error>(core)
        })
        .map_err(|_| sys::service_broken("the thread's generator (thread exiting)"))??;
    // Re-entered only if this thread's generator called getrandom while
    // drawing, which it never does: its hedge calls the OS directly, and a
    // collection it runs inline marks the thread as the service's (above).
    let Ok(mut core) = handle.try_borrow_mut() else {
        return Err(sys::service_broken("the thread's generator (re-entered)"));
    };
    let result = core.fill(dst, Face::Fallible);
    if result.is_err() {
        dst.zeroize();
    }
    result
}

impl ThreadRng {
    /// Counters of this thread's generator (no secret).
    ///
    /// # Panics
    ///
    /// If called while this thread's generator is drawing: only from a
    /// panic hook that runs during a draw's panic.
    pub fn stats(&self) -> GeneratorStats {
        self.core.borrow().stats
    }

    #[inline]
    fn with<T>(&mut self, f: impl FnOnce(&mut Core) -> Result<T>) -> T {
        // The borrow ends before any panic, so that a panic hook that draws
        // from `rng()` finds the core free.
        let result = f(&mut self.core.borrow_mut());
        match result {
            Ok(v) => v,
            Err(e) => panic!("kqseed::rng(): refusing to produce output without a fresh seed: {e}"),
        }
    }
}

impl fmt::Debug for ThreadRng {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("ThreadRng");
        // Borrowed only by a draw under way: a panic hook formatting the
        // handle during one must not panic again.
        if let Ok(core) = self.core.try_borrow() {
            s.field("config", &core.config).field("stats", &core.stats);
        }
        s.finish_non_exhaustive()
    }
}

/// rand_core 0.10's generator, infallible (`Error = Infallible`), so
/// rand_core's `Rng` and rand's `RngExt` apply; it panics where
/// [`ThreadRng`] says.
impl TryRng for ThreadRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.with(|c| c.next_word(Face::Infallible, |r| r.next_u32())))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.with(|c| c.next_word(Face::Infallible, |r| r.next_u64())))
    }

    #[inline]
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.with(|c| c.fill(dst, Face::Infallible));
        Ok(())
    }
}

/// rand_core 0.10's marker: ChaCha20 keyed from conditioned blocks.
impl TryCryptoRng for ThreadRng {}

#[cfg(test)]
mod tests {
    use rand_core::SeedableRng;
    use std::collections::VecDeque;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;

    use super::*;
    use crate::sys::fork::test_support::{exit_child, fork, wait_ok};

    /// A supply that hands out scripted answers, one per call.
    struct Script {
        answers: Mutex<VecDeque<Option<Result<[u8; KEY_LEN]>>>>,
        takes: AtomicU64,
    }

    impl Supply for Script {
        fn try_take(&'static self) -> Take {
            match self.answers.lock().unwrap().pop_front() {
                Some(Some(Ok(seed))) => Take::Seed(Zeroizing::new(seed)),
                Some(Some(Err(e))) => Take::Failed(e),
                _ => Take::Empty,
            }
        }

        fn take(&'static self) -> Result<Zeroizing<[u8; KEY_LEN]>> {
            self.takes.fetch_add(1, Ordering::Relaxed);
            match self.answers.lock().unwrap().pop_front() {
                Some(Some(answer)) => answer.map(Zeroizing::new),
                _ => Err(Error::WaitTimedOut {
                    timeout: Duration::from_millis(1),
                }),
            }
        }

        fn take_fresh(&'static self) -> Result<Zeroizing<[u8; KEY_LEN]>> {
            self.take()
        }
    }

    /// Reseed requests that only the test owning them makes: other tests'
    /// `kqseed::reseed()` must not disturb a core whose output is compared.
    static NO_REQUESTS: AtomicU64 = AtomicU64::new(0);

    fn failure() -> Error {
        Error::Os {
            syscall: "epoll_wait",
            errno: 5,
        }
    }

    /// Each test gets its own leaked script, looked up through a function
    /// pointer: one static per test, set before the core is made.
    macro_rules! scripted_core {
        ($config:expr, $answers:expr) => {{
            static SCRIPT: std::sync::OnceLock<Script> = std::sync::OnceLock::new();
            fn supply(_: &SeederConfig) -> Result<&'static dyn Supply> {
                Ok(SCRIPT.get().expect("script set"))
            }
            let script = SCRIPT.get_or_init(|| Script {
                answers: Mutex::new($answers.into_iter().collect()),
                takes: AtomicU64::new(0),
            });
            let mut core = Core::new($config, supply).expect("core");
            core.epochs = &NO_REQUESTS;
            (core, script)
        }};
    }

    fn small_budget() -> GeneratorConfig {
        GeneratorConfig {
            reseed_after_bytes: 1024,
            hard_limit_factor: 4,
            ..GeneratorConfig::default()
        }
    }

    #[test]
    fn a_due_reseed_without_stock_goes_on_then_waits_at_the_hard_limit() {
        let (mut core, script) = scripted_core!(
            small_budget(),
            [Some(Ok([1; 32])), None, None, None, Some(Ok([2; 32]))]
        );
        let mut buf = [0u8; 1024];
        core.fill(&mut buf, Face::Fallible).expect("first seed");
        assert_eq!(core.stats.reseeds, 1);
        // Due now; three calls find the stock empty and go on.
        for _ in 0..3 {
            core.fill(&mut buf, Face::Fallible).expect("deferred");
        }
        assert_eq!(core.stats.deferred_reseeds, 3);
        assert_eq!(core.stats.reseeds, 1);
        // 4 KiB since the reseed: the hard limit (4 x 1 KiB) waits.
        core.fill(&mut buf, Face::Fallible).expect("waited");
        assert_eq!(core.stats.reseeds, 2);
        assert_eq!(
            script.takes.load(Ordering::Relaxed),
            2,
            "first seed and hard limit"
        );
    }

    #[test]
    fn the_fallible_face_returns_every_due_failure() {
        let (mut core, _) = scripted_core!(
            small_budget(),
            [
                Some(Ok([1; 32])),
                Some(Err(failure())),
                Some(Err(failure()))
            ]
        );
        let mut buf = [0u8; 1024];
        core.fill(&mut buf, Face::Fallible).unwrap();
        assert_eq!(core.fill(&mut buf, Face::Fallible), Err(failure()));
        assert_eq!(core.fill(&mut buf, Face::Fallible), Err(failure()));
        assert_eq!(core.stats.failed_reseeds, 2);
    }

    #[test]
    fn the_infallible_face_goes_on_to_the_hard_limit_and_no_further() {
        let (mut core, _) = scripted_core!(
            small_budget(),
            [
                Some(Ok([1; 32])),
                Some(Err(failure())),
                Some(Err(failure())),
                Some(Err(failure())),
                Some(Err(failure())),
            ]
        );
        let mut buf = [0u8; 1024];
        core.fill(&mut buf, Face::Infallible).unwrap();
        for _ in 0..3 {
            core.fill(&mut buf, Face::Infallible)
                .expect("within the limit");
        }
        assert_eq!(core.stats.failed_reseeds, 3);
        // 4 KiB on one key: the limit. The wait fails, and so does the call.
        assert!(core.fill(&mut buf, Face::Infallible).is_err());
    }

    #[test]
    fn a_failed_first_seed_leaves_no_key() {
        let (mut core, _) = scripted_core!(GeneratorConfig::default(), [Some(Err(failure()))]);
        let mut buf = [0u8; 32];
        assert_eq!(core.fill(&mut buf, Face::Fallible), Err(failure()));
        assert!(core.chacha.is_none());
        assert!(core.next_word(Face::Fallible, |c| c.next_u32()).is_err());
    }

    #[test]
    fn every_request_rekeys_and_the_hedge_changes_the_key() {
        // Same seed, same requests: the same output; with the hedge, not.
        let run = |hedge: bool| {
            let config = GeneratorConfig {
                hedge_with_os_entropy: hedge,
                ..GeneratorConfig::default()
            };
            let mut core = Core::new(config, shared_supply).unwrap();
            core.epochs = &NO_REQUESTS;
            core.chacha = Some(Box::new(Aligned(ChaCha20Rng::from_seed([0; 32]))));
            core.rekey(Some(&[9; 32])).unwrap();
            let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
            core.fill(&mut a, Face::Fallible).unwrap();
            core.fill(&mut b, Face::Fallible).unwrap();
            assert_ne!(a, b);
            (a, b)
        };
        let (a1, b1) = run(false);
        assert_eq!((a1, b1), run(false), "not deterministic");
        assert_ne!(a1, run(true).0, "the hedge changed nothing");
    }

    #[test]
    fn each_seeder_configuration_has_one_service() {
        // Looking a service up starts nothing: no worker, no queue.
        let default = service_for(&SeederConfig::default()).unwrap();
        assert!(std::ptr::eq(default, service().unwrap()));
        let dir = std::env::temp_dir();
        let a = SeederConfig::default().with_temp_dir(&dir);
        let mine = service_for(&a).unwrap();
        assert!(!std::ptr::eq(mine, default));
        assert!(std::ptr::eq(mine, service_for(&a.clone()).unwrap()));
        let b = a.clone().with_hedge_with_os_entropy(true);
        assert!(!std::ptr::eq(service_for(&b).unwrap(), mine));
        assert_eq!(mine.config, a);
    }

    #[test]
    fn a_take_after_the_exit_hook_collects_its_own_seed() {
        // What an atexit handler that runs after the service's hook sees:
        // a shut-down service. It must get a seed, not the shutdown (a
        // panic in an atexit handler aborts the process).
        // A configuration of its own: its service is shut down for good.
        let config = SeederConfig::default().with_credit(crate::CreditPolicy::capped(7.9375));
        let service = service_for(&config).unwrap();
        service.shut_down(Instant::now() + Duration::from_millis(200));
        let a = service.take().expect("a seed at exit");
        let b = service.take().expect("another");
        assert_ne!(*a, *b);
        assert!(
            matches!(service.try_take(), Take::Failed(_)),
            "no stock at exit"
        );
    }

    #[test]
    fn word_draws_rekey_once_per_block() {
        let mut core = Core::new(GeneratorConfig::default(), shared_supply).unwrap();
        core.epochs = &NO_REQUESTS;
        core.chacha = Some(Box::new(Aligned(ChaCha20Rng::from_seed([3; 32]))));
        let mut bare = ChaCha20Rng::from_seed([3; 32]);
        // The first 64 words are the bare stream's; the 65th is not.
        for i in 0..64 {
            let w = core.next_word(Face::Fallible, |c| c.next_u32()).unwrap();
            assert_eq!(w, bare.next_u32(), "word {i}");
        }
        assert_ne!(
            core.next_word(Face::Fallible, |c| c.next_u32()).unwrap(),
            bare.next_u32()
        );
    }

    #[test]
    fn mixed_word_draws_still_rekey_every_256_bytes() {
        // One u32, then u64s: the stream position is odd from then on, and a
        // rekey keyed on it would never come again.
        let mut core = Core::new(GeneratorConfig::default(), shared_supply).unwrap();
        core.epochs = &NO_REQUESTS;
        core.chacha = Some(Box::new(Aligned(ChaCha20Rng::from_seed([4; 32]))));
        let mut bare = ChaCha20Rng::from_seed([4; 32]);
        assert_eq!(
            core.next_word(Face::Fallible, |c| c.next_u32()).unwrap(),
            bare.next_u32()
        );
        // 32 u64s reach 1 + 64 words: still the bare stream's, then a rekey.
        for i in 0..32 {
            let w = core.next_word(Face::Fallible, |c| c.next_u64()).unwrap();
            assert_eq!(w, bare.next_u64(), "word pair {i}");
        }
        for _ in 0..3 {
            let w = core.next_word(Face::Fallible, |c| c.next_u64()).unwrap();
            assert_ne!(w, bare.next_u64(), "no rekey after 256 bytes");
        }
        assert_eq!(core.words_since_rekey, 6);
    }

    #[test]
    fn requests_in_a_row_never_run_a_key_past_its_budget() {
        // Budget 1 KiB, hard limit the same: 1023 bytes, then 1024, must
        // reseed after the first byte of the second request.
        let config = GeneratorConfig {
            hard_limit_factor: 1,
            ..small_budget()
        };
        let (mut core, script) = scripted_core!(config, [Some(Ok([1; 32])), Some(Ok([2; 32]))]);
        core.fill(&mut [0u8; 1023], Face::Fallible).expect("first");
        core.fill(&mut [0u8; 1024], Face::Fallible).expect("second");
        assert_eq!(core.stats.reseeds, 2, "{:?}", core.stats);
        assert_eq!(script.takes.load(Ordering::Relaxed), 2);
        assert_eq!(core.since_reseed, 1023);
    }

    #[test]
    fn one_large_request_never_runs_a_key_past_the_hard_limit() {
        // Budget 1 KiB, hard limit 4 KiB, no seed in stock: an 8 KiB fill
        // must wait for a seed when it reaches 4 KiB on one key.
        let (mut core, script) = scripted_core!(
            small_budget(),
            [
                Some(Ok([1; 32])),
                None,
                None,
                None,
                Some(Ok([2; 32])),
                None,
                None,
                None,
            ]
        );
        let mut buf = vec![0u8; 8192];
        core.fill(&mut buf, Face::Fallible).expect("fill");
        assert_eq!(core.stats.reseeds, 2, "{:?}", core.stats);
        assert_eq!(
            script.takes.load(Ordering::Relaxed),
            2,
            "first seed and hard limit"
        );
        assert!(core.since_reseed <= 4096, "{}", core.since_reseed);
    }

    #[test]
    fn kqrng_outputs_differ_and_are_counted() {
        let _serial = serial();
        let mut a = KqRng::new().expect("KqRng");
        let mut b = KqRng::new().expect("KqRng");
        let (mut x, mut y) = ([0u8; 64], [0u8; 64]);
        a.try_fill_bytes(&mut x).unwrap();
        b.try_fill_bytes(&mut y).unwrap();
        assert_ne!(x, y);
        assert_eq!(a.stats().bytes, 64);
        assert_eq!(a.stats().reseeds, 1);
        let shown = format!("{a:?}");
        assert!(shown.contains("hedge_with_os_entropy: false"), "{shown}");
        assert!(!shown.contains("chacha"), "{shown}");
    }

    /// Tests that fork, and tests that make the service's worker collect,
    /// one at a time: a raw `clone()` child inherits every malloc lock
    /// another thread held at that moment (no atfork handler releases
    /// them), and hangs in its first allocation.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn serial() -> MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits (at most 30 s) until the service's worker has finished its
    /// batch and parked the seeder, so that it sleeps while a test forks.
    fn until_the_worker_rests() {
        let service = service().expect("service");
        let mut stock = service.lock();
        let deadline = Instant::now() + Duration::from_secs(30);
        while (stock.filling || stock.seeder.is_none()) && Instant::now() < deadline {
            stock = service
                .arrived
                .wait_timeout(stock, Duration::from_millis(100))
                .map(|(s, _)| s)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    fn parent_and_child_differ(draw: fn() -> [u8; 32], spawn: fn() -> Option<i32>) -> bool {
        let _ = draw(); // the parent's generator exists before the fork
        until_the_worker_rests();
        let (mut parent_end, mut child_end) = UnixStream::pair().unwrap();
        let pid = spawn().expect("fork");
        if pid == 0 {
            let bytes = draw();
            let code = i32::from(child_end.write_all(&bytes).is_err());
            // `_exit` skips the exit hook: drop the child's own seeder, and
            // so remove its directory, as the hook would (with time to
            // spare for a seed being collected).
            shut_down_services(Instant::now() + Duration::from_secs(10));
            exit_child(code);
        }
        let mine = draw();
        let mut theirs = [0u8; 32];
        parent_end
            .read_exact(&mut theirs)
            .expect("the child's bytes");
        assert!(wait_ok(pid));
        mine != theirs && theirs != [0; 32]
    }

    fn thread_draw() -> [u8; 32] {
        let mut b = [0u8; 32];
        rng().fill_bytes(&mut b);
        b
    }

    fn kqrng_draw() -> [u8; 32] {
        static RNG: Mutex<Option<KqRng>> = Mutex::new(None);
        let mut guard = RNG.lock().unwrap_or_else(|e| e.into_inner());
        let rng = guard.get_or_insert_with(|| KqRng::new().expect("KqRng"));
        let mut b = [0u8; 32];
        rng.try_fill_bytes(&mut b).expect("fill");
        b
    }

    #[test]
    fn fork_children_never_repeat_the_parent() {
        let _serial = serial();
        assert!(parent_and_child_differ(thread_draw, fork));
        assert!(parent_and_child_differ(kqrng_draw, fork));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn raw_clone_children_never_repeat_the_parent() {
        let _serial = serial();
        let clone = crate::sys::fork::test_support::raw_clone;
        assert!(parent_and_child_differ(thread_draw, clone));
        assert!(parent_and_child_differ(kqrng_draw, clone));
    }

    #[test]
    fn a_core_made_before_a_fork_and_seeded_after_it_seeds_once() {
        // Made in the parent, first used in the child: its first seed
        // there must take the child's stamp, or its next call takes that
        // seed for the parent's and throws it away.
        let _serial = serial();
        let _ = thread_draw(); // the service's worker is up before the fork
        until_the_worker_rests();
        let mut core = Core::new(GeneratorConfig::default(), shared_supply).unwrap();
        let (mut parent_end, mut child_end) = UnixStream::pair().unwrap();
        let pid = fork().expect("fork");
        if pid == 0 {
            let mut b = [0u8; 64];
            let ok = core.fill(&mut b[..32], Face::Fallible).is_ok()
                && core.fill(&mut b[32..], Face::Fallible).is_ok();
            let seen = [core.stats.reseeds, core.stats.forks, u64::from(ok)];
            let bytes: Vec<u8> = seen.iter().flat_map(|v| v.to_le_bytes()).collect();
            let code = i32::from(child_end.write_all(&bytes).is_err());
            shut_down_services(Instant::now() + Duration::from_secs(10));
            exit_child(code);
        }
        let mut bytes = [0u8; 24];
        parent_end
            .read_exact(&mut bytes)
            .expect("the child's counts");
        assert!(wait_ok(pid));
        let seen: Vec<u64> = bytes
            .chunks(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(seen, [1, 1, 1], "reseeds, forks, both draws ok");
    }

    #[test]
    fn a_latched_failure_outlives_the_exit_hook() {
        // A source that latched (start-up refused too often) stays failed
        // for takers after the exit hook, which would otherwise collect
        // with a new seeder of their own.
        let config = SeederConfig::default();
        let service: &'static Service = Box::leak(Box::new(Service::new(config.clone())));
        let stuck = KqSeeder::from_replay(config, vec![1000; 4096]).expect("a replay seeder");
        {
            let mut stock = service.lock();
            stock.seeder = Some(stuck);
            stock.seeder_made = true;
        }
        let mut last = None;
        for _ in 0..=crate::MAX_STARTUP_REFUSALS {
            last = Some(service.take().expect_err("a stuck source"));
            if service.lock().latched.is_some() {
                break;
            }
        }
        assert!(service.lock().latched.is_some(), "{last:?}");
        service.shut_down(Instant::now() + Duration::from_secs(10));
        assert_eq!(service.take().map(|_| "a seed"), Err(last.unwrap()));
    }

    #[test]
    fn the_key_is_built_from_a_reference_as_from_seed_builds_it() {
        let key = [0x5a; KEY_LEN];
        let (mut a, mut b) = (chacha_from_key(&key), ChaCha20Rng::from_seed(key));
        assert!(a == b, "seed, stream or position differ");
        let (mut x, mut y) = ([0u8; 300], [0u8; 300]);
        a.fill_bytes(&mut x);
        b.fill_bytes(&mut y);
        assert_eq!(x, y);
    }

    #[test]
    fn a_thread_collecting_for_the_service_never_waits_for_it() {
        // The worker (or a taker collecting inline) that calls back into
        // the generator, as tempfile does through getrandom after three
        // name collisions, gets EDEADLK at once instead of waiting for
        // itself.
        std::thread::spawn(|| {
            let service = service().expect("service");
            let collecting = InService::enter();
            let refused = Err(sys::service_reentered());
            assert_eq!(service.take().map(|_| "a seed"), refused);
            assert_eq!(service.take_fresh().map(|_| "a seed"), refused);
            #[cfg(feature = "getrandom-custom")]
            {
                let mut buf = [1u8; 16];
                assert_eq!(fill_for_getrandom(&mut buf), refused.map(|_| ()));
                assert_eq!(buf, [0; 16]);
            }
            drop(collecting);
            assert!(!in_service());
        })
        .join()
        .expect("the collecting thread");
    }

    #[test]
    fn a_broken_service_starts_no_worker() {
        let service: &'static Service = Box::leak(Box::new(Service::new(SeederConfig::default())));
        service.lock().broken = Some(sys::service_broken("a test"));
        for _ in 0..100 {
            assert!(matches!(service.try_take(), Take::Failed(_)));
        }
        assert!(service.take().is_err());
        assert!(service.take_fresh().is_err());
        assert_eq!(service.lock().workers_started, 0);
    }

    #[test]
    fn a_seed_collected_across_a_discard_is_dropped() {
        let mut stock = Service::new(SeederConfig::default())
            .state
            .into_inner()
            .expect("stock");
        let before = stock.era;
        stock.push_from(before, &[1; KEY_LEN]);
        stock.discard();
        assert_eq!(stock.count, 0);
        assert!(stock.seeds.iter().all(|s| *s == [0; KEY_LEN]), "not wiped");
        // A collection that began before the discard ends after it.
        stock.push_from(before, &[2; KEY_LEN]);
        assert_eq!(stock.count, 0);
        stock.push_from(stock.era, &[3; KEY_LEN]);
        assert_eq!(stock.pop().as_deref(), Some(&[3; KEY_LEN]));
    }

    #[test]
    fn a_fresh_take_never_returns_or_leaves_a_seed_stocked_before() {
        let _serial = serial();
        let service = service().expect("service");
        drop(service.take().expect("a seed"));
        // Wait (bounded) for the worker to stock some.
        let mut stock = service.lock();
        let deadline = Instant::now() + Duration::from_secs(30);
        while stock.count == 0 && Instant::now() < deadline {
            stock = service
                .arrived
                .wait_timeout(stock, Duration::from_millis(100))
                .map(|(s, _)| s)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        let old: Vec<[u8; KEY_LEN]> = stock.seeds[..stock.count].to_vec();
        drop(stock);
        assert!(!old.is_empty(), "the worker stocked nothing in 30 s");
        let fresh = service.take_fresh().expect("a fresh seed");
        assert!(!old.contains(&fresh), "a stocked seed was handed out");
        let stock = service.lock();
        assert!(!stock.seeds[..stock.count].iter().any(|s| old.contains(s)));
    }

    thread_local! {
        // Const already; clippy 1.96 disagrees on OpenBSD (see IN_SERVICE).
        #[allow(clippy::missing_const_for_thread_local)]
        static DRAW_ON_DROP: DrawOnDrop = const { DrawOnDrop };
    }

    /// Draws from `rng()` in a thread-local destructor; records whether it
    /// panicked and whether the thread's cached generator was gone by then.
    struct DrawOnDrop;

    static TEARDOWN: Mutex<Vec<(bool, bool)>> = Mutex::new(Vec::new());

    impl Drop for DrawOnDrop {
        fn drop(&mut self) {
            let gone = THREAD_RNG.try_with(|_| ()).is_err();
            let drew = std::panic::catch_unwind(|| rng().next_u64()).is_ok();
            TEARDOWN
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((gone, drew));
        }
    }

    #[test]
    fn rng_works_in_a_thread_local_destructor() {
        let _serial = serial();
        // Both orders of registration: destructors run in one order or
        // its reverse, so in one of the two threads the cached generator
        // is gone when the draw comes.
        std::thread::spawn(|| {
            DRAW_ON_DROP.with(|_| ());
            let _ = rng().next_u64();
        })
        .join()
        .expect("thread 1");
        std::thread::spawn(|| {
            let _ = rng().next_u64();
            DRAW_ON_DROP.with(|_| ());
        })
        .join()
        .expect("thread 2");
        let seen = TEARDOWN.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(
            seen.iter().all(|&(_, drew)| drew),
            "a draw panicked: {seen:?}"
        );
        assert!(
            seen.iter().any(|&(gone, _)| gone),
            "never drew after teardown: {seen:?}"
        );
    }

    #[test]
    fn config_errors_name_the_field() {
        for (config, field) in [
            (
                GeneratorConfig {
                    reseed_after_bytes: 0,
                    ..GeneratorConfig::default()
                },
                "reseed_after_bytes",
            ),
            (
                GeneratorConfig {
                    reseed_after: Duration::ZERO,
                    ..GeneratorConfig::default()
                },
                "reseed_after",
            ),
            (
                GeneratorConfig {
                    hard_limit_factor: 0,
                    ..GeneratorConfig::default()
                },
                "hard_limit_factor",
            ),
        ] {
            match KqRng::with_config(config) {
                Err(Error::Config(e)) => assert_eq!(e.field, field),
                other => panic!("{other:?}"),
            }
        }
    }
}
