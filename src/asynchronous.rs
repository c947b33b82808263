//! Async seeding (feature `tokio`): the same pipeline as the blocking
//! calls, fed without blocking the runtime.
//!
//! Seeding takes milliseconds of collection; done inline it would stall
//! every task on a runtime thread. Here samples are taken with
//! non-blocking polls of the queue ([`Collector::try_step`]). After at most
//! a quarter of a millisecond of collection the task yields to the runtime
//! even if the queue is still ready (with the default 5 us timer it always
//! is), and the next delta starts from the next return, so no delta measures
//! a yield. (A whole seed takes a few milliseconds: with one-millisecond
//! slices a task ticking on tokio's millisecond timer ran only twice during
//! two seeds.)
//! When the queue has no event, the task waits for the queue's fd to become
//! readable on tokio's blocking pool (`spawn_blocking`, a `poll()` of a dup
//! of the fd), not on the runtime's threads; like a blocking wait, the next
//! delta runs across it. After every await the fork check runs again. The
//! samples go through the same start-up checks, health tests and
//! conditioning as the blocking calls.
//!
//! Why not `tokio::io::unix::AsyncFd`: registering one needs the runtime's
//! IO driver, and on a runtime built without `enable_io` (a current-thread
//! runtime with only `enable_time`, say) tokio panics there, with no public
//! way to ask beforehand. The blocking pool exists on every runtime. Off a
//! tokio runtime (another executor) the wait happens in place.
//!
//! [`Collector::try_step`]: crate::Collector::try_step

use std::time::{Duration, Instant};

use rand_core::SeedableRng;
use zeroize::{Zeroize, Zeroizing};

use crate::conditioner::BLOCK_LEN;
use crate::error::{Error, Result};
use crate::pipeline::{Pipeline, SampleSource};
use crate::seeder::{KqSeeder, WipeOnDrop};

/// The longest stretch of collection between two yields to the runtime.
const SLICE: Duration = Duration::from_micros(250);

#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
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
    /// fails and leaves it zeroed, as the blocking `try_fill_bytes` does
    /// (including [`Error::WaitTimedOut`] when the queue brings no event
    /// for the configured timeout).
    ///
    /// Not cancellation-safe for secrets: a future dropped before it
    /// completes (a `select!`, a timeout) leaves the blocks it copied so
    /// far in `dst`. [`key_async`](Self::key_async) and
    /// [`seed_rng_async`](Self::seed_rng_async) wipe theirs.
    pub async fn fill_bytes_async(&mut self, dst: &mut [u8]) -> Result<()> {
        let timeout = self.config().events.timeout;
        let result = match self.parts(dst.is_empty()) {
            Ok(Some((pipeline, source))) => fill(pipeline, source, dst, timeout).await,
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
    timeout: Duration,
) -> Result<()> {
    pipeline.check_latch()?;
    pipeline.check_fork()?;
    pipeline.restart_pair(source);
    // Whether the last wait for the queue ran out without an event.
    let mut waited_out = false;
    for chunk in dst.chunks_mut(BLOCK_LEN) {
        let block = loop {
            if let Some(block) = pipeline.take_block() {
                break block;
            }
            if let SliceEnd::Empty { samples } = collect_slice(pipeline, source)? {
                if waited_out && samples == 0 {
                    // A wait ran out and the poll after it found nothing
                    // either: the queue has stopped, as the blocking
                    // path's wait reports it.
                    return Err(Error::WaitTimedOut { timeout });
                }
                waited_out = !wait_readable(source, timeout).await?;
                pipeline.check_fork()?;
            } else {
                waited_out = false;
                // The queue is still ready: let the other tasks run, and
                // start the next delta afresh, so none measures the yield.
                tokio::task::yield_now().await;
                pipeline.check_fork()?;
                pipeline.restart_pair(source);
            }
        };
        chunk.copy_from_slice(&block[..chunk.len()]);
    }
    Ok(())
}

/// Why a slice of collection ended.
enum SliceEnd {
    /// A block is ready, or the slice's time is up.
    Yield,
    /// The queue had no event, after `samples` samples in this slice.
    Empty { samples: usize },
}

/// Up to one slice of samples into the pipeline, never waiting. Stops
/// early when a block is ready or the queue is empty.
fn collect_slice(pipeline: &mut Pipeline, source: &mut dyn SampleSource) -> Result<SliceEnd> {
    let end = Instant::now() + SLICE;
    let mut samples = 0;
    while Instant::now() < end {
        match source.try_next_sample()? {
            Some(sample) => {
                samples += 1;
                pipeline.note_source(source);
                pipeline.push(sample)?;
                if pipeline.block_ready() {
                    return Ok(SliceEnd::Yield);
                }
            }
            None => return Ok(SliceEnd::Empty { samples }),
        }
    }
    Ok(SliceEnd::Yield)
}

/// Waits, off the runtime's threads, until the source's queue has an event:
/// true, or false if `timeout` passed first (the caller polls once more,
/// and then fails as the blocking path's wait does).
async fn wait_readable(source: &mut dyn SampleSource, timeout: Duration) -> Result<bool> {
    let Some(fd) = source.readiness_fd() else {
        return Ok(true); // a recording is always ready
    };
    let fd = fd
        .try_clone_to_owned()
        .map_err(|e| crate::sys::os_error("dup", &e))?;
    if tokio::runtime::Handle::try_current().is_err() {
        return crate::sys::wait_readable(std::os::fd::AsFd::as_fd(&fd), timeout);
    }
    tokio::task::spawn_blocking(move || {
        crate::sys::wait_readable(std::os::fd::AsFd::as_fd(&fd), timeout)
    })
    .await
    .map_err(|_| crate::sys::service_broken("the readiness wait (its task was cancelled)"))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::tests::{started_on_four_paths, stuck_passes_losing_waits};

    /// A queue that never has an event: its fd is a socket nobody writes
    /// (the other end is kept open: closed, it would read as ready).
    struct Silent {
        reader: std::os::unix::net::UnixStream,
        _writer: std::os::unix::net::UnixStream,
    }

    impl SampleSource for Silent {
        fn next_sample(&mut self) -> Result<crate::collector::Sample> {
            Err(Error::WaitTimedOut {
                timeout: Duration::ZERO,
            })
        }
        fn try_next_sample(&mut self) -> Result<Option<crate::collector::Sample>> {
            Ok(None)
        }
        fn restart_pair(&mut self) {}
        fn readiness_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
            Some(std::os::fd::AsFd::as_fd(&self.reader))
        }
    }

    #[test]
    fn a_queue_that_stops_times_out_as_the_blocking_wait_does() {
        let (reader, writer) = std::os::unix::net::UnixStream::pair().expect("a socket pair");
        let mut source = Silent {
            reader,
            _writer: writer,
        };
        let mut pipeline =
            Pipeline::new(&crate::SeederConfig::default()).expect("the default config");
        let mut out = [0xa5u8; 32];
        let timeout = Duration::from_millis(20);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime");
        // The outer limit only keeps a regression from hanging the suite.
        let result = runtime.block_on(async {
            let collection = fill(&mut pipeline, &mut source, &mut out, timeout);
            tokio::time::timeout(Duration::from_secs(30), collection).await
        });
        assert_eq!(
            result.expect("returned, not hung"),
            Err(Error::WaitTimedOut { timeout })
        );
    }

    #[test]
    fn async_slices_report_the_waits_their_source_lost_to_the_pass_test() {
        // As through the blocking `fill` (the pipeline's
        // `a_request_reports_the_waits_its_source_lost_to_the_pass_test`):
        // the source's count of lost waits (scripted here; the collector's
        // restarts between slices make them) must reach the pass test
        // through `collect_slice`, or the stuck passes go on until a
        // source's RCT ends them.
        let (mut pipeline, _) = started_on_four_paths();
        while pipeline.take_block().is_some() {}
        let mut source = stuck_passes_losing_waits();
        let mut out = [0u8; 32];
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let timeout = Duration::from_secs(1);
        let e = runtime
            .block_on(fill(&mut pipeline, &mut source, &mut out, timeout))
            .unwrap_err();
        let health = pipeline.stats().health;
        assert!(health.pass_repetition_intermittent > 0, "{e}: {health:?}");
        assert!(health.lost_waits > 0);
    }
}
