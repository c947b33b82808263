//! Async seeding (feature `tokio`): the same pipeline as the blocking
//! calls, fed without blocking the runtime.
//!
//! Seeding takes milliseconds of collection; done inline it would stall
//! every task on a runtime thread. Here the event queue's own fd (a dup of
//! it) is registered with tokio's `AsyncFd`, with `READABLE` interest (a
//! kqueue fd refuses mio's default interest). Polled outside a tokio
//! runtime, the same calls work but wait in place when the queue is empty. Samples are taken with
//! non-blocking polls of the queue ([`Collector::try_step`]) inside
//! `guard.try_io`, so that an empty queue clears readiness without losing
//! an edge (mio registers edge-triggered). After at most one millisecond of
//! collection the task yields to the runtime even if the queue is still
//! ready (with the default 5 us timer it always is), and the next delta
//! starts from the next return: no delta measures a yield. (A wait for
//! readiness is like a blocking wait: the next delta runs across it.) After
//! every await the fork check runs again. The
//! samples go through the same start-up checks, health tests and
//! conditioning as the blocking calls.
//!
//! [`Collector::try_step`]: crate::Collector::try_step

use std::io;
use std::time::{Duration, Instant};

use rand_core::SeedableRng;
use tokio::io::unix::AsyncFd;
use zeroize::{Zeroize, Zeroizing};

use crate::conditioner::BLOCK_LEN;
use crate::error::{Error, Result};
use crate::pipeline::{Pipeline, SampleSource};
use crate::seeder::{KqSeeder, WipeOnDrop};

/// The longest stretch of collection between two yields to the runtime.
const SLICE: Duration = Duration::from_millis(1);

impl KqSeeder {
    /// [`seed_rng`](KqSeeder::seed_rng) without blocking the runtime: the
    /// seed comes from the same health-tested, conditioned blocks.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), kqseed::Error> {
    /// let mut seeder = kqseed::KqSeeder::new();
    /// let rng: rand_chacha::ChaCha20Rng = seeder.seed_rng_async().await?;
    /// # drop(rng);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn seed_rng_async<R: SeedableRng>(&mut self) -> Result<R> {
        let mut seed = WipeOnDrop(R::Seed::default());
        self.fill_bytes_async(seed.0.as_mut()).await?;
        Ok(R::from_seed(core::mem::take(&mut seed.0)))
    }

    /// [`key`](KqSeeder::key) without blocking the runtime.
    pub async fn key_async<const N: usize>(&mut self) -> Result<Zeroizing<[u8; N]>> {
        let mut key = Zeroizing::new([0u8; N]);
        self.fill_bytes_async(key.as_mut()).await?;
        Ok(key)
    }

    /// Fills `dst` from conditioned blocks without blocking the runtime, or
    /// fails and leaves it zeroed, as the blocking `try_fill_bytes` does.
    pub async fn fill_bytes_async(&mut self, dst: &mut [u8]) -> Result<()> {
        let result = match self.parts(dst.is_empty()) {
            Ok(Some((pipeline, source))) => fill(pipeline, source, dst).await,
            Ok(None) => Ok(()),
            Err(e) => Err(e),
        };
        if result.is_err() {
            dst.zeroize();
        }
        result
    }
}

async fn fill(
    pipeline: &mut Pipeline,
    source: &mut dyn SampleSource,
    dst: &mut [u8],
) -> Result<()> {
    pipeline.check_latch()?;
    pipeline.check_fork()?;
    let mut readiness: Option<AsyncFd<std::os::fd::OwnedFd>> = None;
    for chunk in dst.chunks_mut(BLOCK_LEN) {
        let block = loop {
            if let Some(block) = pipeline.take_block() {
                break block;
            }
            let queue_empty = match readiness.as_ref() {
                None if source.readiness_fd().is_none() => {
                    // A source with no fd (a recording) is always ready.
                    collect_slice(pipeline, source)?
                }
                None => {
                    let fd = source
                        .readiness_fd()
                        .map(|fd| fd.try_clone_to_owned())
                        .transpose()
                        .map_err(|e| io_error("dup", &e))?;
                    match fd.and_then(crate::sys::register_readable) {
                        Some(registered) => {
                            readiness =
                                Some(registered.map_err(|e| {
                                    io_error("AsyncFd::register_with_interest", &e)
                                })?);
                            continue;
                        }
                        // Not on a tokio runtime: no reactor to wait with.
                        // Collect a slice; when the queue is empty, wait for
                        // one sample in place (at most one wait call).
                        None => {
                            let empty = collect_slice(pipeline, source)?;
                            if empty {
                                pipeline.push(source.next_delta()?)?;
                            }
                            false
                        }
                    }
                }
                Some(afd) => {
                    let mut guard = afd
                        .readable()
                        .await
                        .map_err(|e| io_error("AsyncFd::readable", &e))?;
                    // Another task may have forked while this one waited.
                    pipeline.check_fork()?;
                    // try_io clears readiness only when the closure saw an
                    // empty queue, after the event tokio reported.
                    match guard.try_io(|_| match collect_slice(pipeline, source) {
                        Ok(true) => Err(io::ErrorKind::WouldBlock.into()),
                        Ok(false) => Ok(Ok(())),
                        Err(e) => Ok(Err(e)),
                    }) {
                        Ok(Ok(Ok(()))) => false,
                        Ok(Ok(Err(e))) => return Err(e),
                        Ok(Err(e)) => return Err(io_error("AsyncFd::try_io", &e)),
                        Err(_would_block) => true,
                    }
                }
            };
            if !queue_empty {
                // The queue is still ready: let the other tasks run, and
                // start the next delta afresh, so none measures the yield.
                tokio::task::yield_now().await;
                pipeline.check_fork()?;
                source.restart_pair();
            }
        };
        chunk.copy_from_slice(&block[..chunk.len()]);
    }
    Ok(())
}

/// Up to one slice of samples into the pipeline, never waiting; true if it
/// stopped because the queue was empty. Stops early when a block is ready.
fn collect_slice(pipeline: &mut Pipeline, source: &mut dyn SampleSource) -> Result<bool> {
    let end = Instant::now() + SLICE;
    while Instant::now() < end {
        match source.try_next_delta()? {
            Some(delta) => {
                pipeline.push(delta)?;
                if pipeline.block_ready() {
                    return Ok(false);
                }
            }
            None => return Ok(true),
        }
    }
    Ok(false)
}

fn io_error(call: &'static str, e: &io::Error) -> Error {
    Error::Os {
        syscall: call,
        errno: e.raw_os_error().unwrap_or(0),
    }
}
