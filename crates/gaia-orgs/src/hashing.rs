//! Where password hashing runs: a few threads of its own, at the lowest scheduling priority.
//!
//! argon2id is built to be slow (~20 ms of CPU per hash in a release build). On a request thread each
//! sign-in stalled every request that thread serves; on tokio's blocking pool it no longer stalls them, but
//! a storm of sign-ins still takes whole cores from them. So hashing gets its own threads — half the
//! machine's cores, at least one — each lowered to the lowest priority of the normal scheduler (niceness 19
//! on Linux): the kernel then runs request threads first and gives hashing what is left, and at most half
//! the cores even when nothing else runs. Callers wait asynchronously for a free thread (a semaphore), so
//! the queue of sign-ins costs no thread and no request thread waits.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use gaia_core::GaiaError;
use tokio::sync::{Semaphore, oneshot};

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    jobs: mpsc::Sender<Job>,
    /// One permit per thread: at most that many jobs are handed over at once.
    permits: Semaphore,
}

fn pool() -> Option<&'static Pool> {
    static POOL: OnceLock<Option<Pool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let wanted = (cores / 2).max(1);
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let mut started = 0;
        for i in 0..wanted {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("gaia-hashing-{i}"))
                .spawn(move || worker(&rx));
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::warn!(error = %e, "could not start a password-hashing thread"),
            }
        }
        (started > 0).then(|| Pool {
            jobs: tx,
            permits: Semaphore::new(started),
        })
    })
    .as_ref()
}

fn worker(jobs: &Mutex<mpsc::Receiver<Job>>) {
    if let Err(e) =
        thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min)
    {
        tracing::warn!(error = ?e, "could not lower the priority of a password-hashing thread");
    }
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return, // the pool is gone
        }
    }
}

/// Runs `work` on a hashing thread and waits (asynchronously) for its result. Without hashing threads
/// (none could be started) it runs on tokio's blocking pool instead.
pub async fn run<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, GaiaError> {
    let failed = |e: &dyn std::fmt::Display| GaiaError::internal(format!("password hashing: {e}"));
    let Some(pool) = pool() else {
        return tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| failed(&e));
    };
    let _permit = pool.permits.acquire().await.map_err(|e| failed(&e))?;
    let (tx, rx) = oneshot::channel();
    pool.jobs
        .send(Box::new(move || {
            let _ = tx.send(work());
        }))
        .map_err(|e| failed(&e))?;
    rx.await.map_err(|e| failed(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The niceness of the calling thread, from `/proc/thread-self/stat` (field 19).
    fn niceness() -> Option<i64> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        let after_name = stat.rsplit_once(')')?.1;
        after_name.split_whitespace().nth(16)?.parse().ok()
    }

    #[tokio::test]
    async fn work_runs_on_a_lowest_priority_thread_of_its_own() {
        let (name, nice) = run(|| (std::thread::current().name().map(str::to_owned), niceness()))
            .await
            .unwrap();
        assert!(name.is_some_and(|n| n.starts_with("gaia-hashing-")));
        if let Some(nice) = nice {
            assert_eq!(nice, 19, "the hashing thread's niceness");
        }
        // The caller's own thread is untouched.
        assert_ne!(niceness(), Some(19));
    }

    #[tokio::test]
    async fn many_callers_all_get_their_own_result() {
        let tasks: Vec<_> = (0..32u64)
            .map(|i| tokio::spawn(run(move || i * 2)))
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap().unwrap(), i as u64 * 2);
        }
    }
}
