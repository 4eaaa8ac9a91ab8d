//! Counting database statements, split by where they ran: on a request's path or in the background.
//!
//! The gateway promises that serving a request with a cached key costs no database round-trip: usage is
//! written by a background writer, limits are claimed ahead, keys come from a cache. [`on_request_path`]
//! marks a future (the chat and model endpoints wrap their whole service call in it); every statement
//! the [`Store`](crate::Store) executes while such a future is being polled counts as a request-path
//! statement. Work the request hands to spawned tasks does not inherit the mark — that is the point.
//! The counts are published on `GET /metrics` and asserted by the API tests.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

tokio::task_local! {
    static REQUEST_PATH: ();
}

/// Runs `f` as part of serving a request: statements it executes count as request-path statements.
pub async fn on_request_path<F: Future>(f: F) -> F::Output {
    REQUEST_PATH.scope((), f).await
}

/// Whether the current task is serving a request (inside [`on_request_path`]).
pub fn is_on_request_path() -> bool {
    REQUEST_PATH.try_with(|_| ()).is_ok()
}

/// Statements executed so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatementCounts {
    /// Executed while serving a request (inside [`on_request_path`]).
    pub request_path: u64,
    /// Executed by everything else: background writers, refresh loops, management endpoints.
    pub other: u64,
}

#[derive(Debug, Default)]
pub(crate) struct StatementCounters {
    request_path: AtomicU64,
    other: AtomicU64,
}

impl StatementCounters {
    pub(crate) fn count(&self) {
        let counter = if is_on_request_path() {
            &self.request_path
        } else {
            &self.other
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> StatementCounts {
        StatementCounts {
            request_path: self.request_path.load(Ordering::Relaxed),
            other: self.other.load(Ordering::Relaxed),
        }
    }
}

pub(crate) fn counters() -> Arc<StatementCounters> {
    Arc::new(StatementCounters::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::memory_store;

    #[tokio::test]
    async fn statements_are_counted_by_where_they_run() {
        let store = memory_store().await;
        let before = store.statement_counts();
        let query =
            |s: crate::Store| async move { s.admitted("key", "k1", "2026-11").await.unwrap() };
        query(store.clone()).await;
        on_request_path(query(store.clone())).await;
        // A task spawned from the request path is not on it.
        let s = store.clone();
        on_request_path(async move { tokio::spawn(query(s)).await })
            .await
            .unwrap();
        let after = store.statement_counts();
        assert_eq!(after.request_path - before.request_path, 1);
        assert_eq!(after.other - before.other, 2);
    }
}
