//! Admission control: a shard holds at most a configured number of bytes.
//!
//! Every byte a shard has taken in and not yet seen committed (or, with the
//! write-ahead log, safely on disk) is counted in its [`Budget`]: request bodies while
//! they are read and decoded, the column buffers of its batch, and the sealed chunks on
//! their way to ClickHouse, until the inserter lets them go. A [`Held`] is one such
//! amount; dropping it gives the bytes back, from whichever thread holds it then.
//!
//! When the budget is spent, a new request waits up to `limits.admission_wait_ms` for
//! room, then is refused with retry information (HTTP 503 with `Retry-After`, gRPC
//! `UNAVAILABLE` with `RetryInfo`); and a request being read is read no further
//! while the budget is spent (gRPC releases no HTTP/2 flow-control window to its
//! stream, OTLP/HTTP leaves the rest in the socket or, on h2c, in hyper's unreleased
//! window), so a slow or absent ClickHouse turns into pressure on the clients, never
//! into unbounded memory.
//!
//! The bound is soft by one step: a request that was admitted may finish reading
//! (it waits only while others fill the budget) and decoding, and a sealed batch
//! always leaves (its bytes move from the batch to its chunks), so the shard can
//! always make progress towards giving memory back.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// One shard's byte budget.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    used: AtomicUsize,
    freed: Notify,
}

/// Bytes counted against a budget until dropped.
#[derive(Debug)]
pub struct Held {
    budget: Arc<Budget>,
    bytes: usize,
}

/// The budget stayed spent for the whole wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full {
    pub used: usize,
    pub limit: usize,
}

impl Budget {
    pub fn new(limit: usize) -> Arc<Budget> {
        Arc::new(Budget {
            limit,
            used: AtomicUsize::new(0),
            freed: Notify::new(),
        })
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Whether anything may be admitted now.
    pub fn has_room(&self) -> bool {
        self.has_room_besides(0)
    }

    /// Whether what others hold leaves room: a request being read, which holds
    /// `own` bytes, goes on reading while only its own bytes fill the budget (the
    /// bound is soft by one request).
    pub fn has_room_besides(&self, own: usize) -> bool {
        self.used().saturating_sub(own) < self.limit
    }

    /// Counts `bytes` whatever the budget says (bytes already in hand).
    pub fn hold(self: &Arc<Self>, bytes: usize) -> Held {
        self.used.fetch_add(bytes, Ordering::Relaxed);
        Held {
            budget: Arc::clone(self),
            bytes,
        }
    }

    /// Counts `bytes` once there is room, waiting up to `wait` for it.
    pub async fn reserve(self: &Arc<Self>, bytes: usize, wait: Duration) -> Result<Held, Full> {
        self.wait_for_room(wait).await?;
        Ok(self.hold(bytes))
    }

    /// Waits up to `wait` until the budget has room.
    pub async fn wait_for_room(&self, wait: Duration) -> Result<(), Full> {
        self.wait_for_room_besides(0, wait).await
    }

    /// Waits up to `wait` until the budget has room besides `own` bytes (those of
    /// the request that waits).
    pub async fn wait_for_room_besides(&self, own: usize, wait: Duration) -> Result<(), Full> {
        let room = || self.has_room_besides(own);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Register before checking, so a release in between is not missed.
            let freed = self.freed.notified();
            if room() {
                return Ok(());
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                return if room() {
                    Ok(())
                } else {
                    Err(Full {
                        used: self.used(),
                        limit: self.limit,
                    })
                };
            }
        }
    }
}

impl Held {
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Grows or shrinks what is held to `bytes`.
    pub fn resize(&mut self, bytes: usize) {
        if bytes >= self.bytes {
            self.budget
                .used
                .fetch_add(bytes - self.bytes, Ordering::Relaxed);
        } else {
            self.release(self.bytes - bytes);
        }
        self.bytes = bytes;
    }

    fn release(&self, bytes: usize) {
        let before = self.budget.used.fetch_sub(bytes, Ordering::Relaxed);
        // While the budget is spent, every release may be the one a waiter needs
        // (one that waits besides its own bytes has a higher threshold).
        if before >= self.budget.limit && bytes > 0 {
            self.budget.freed.notify_waiters();
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.release(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn a_full_budget_refuses_after_the_wait_and_admits_once_freed() {
        let b = Budget::new(100);
        let big = b.hold(150);
        assert!(!b.has_room());
        let refused = b.reserve(10, Duration::from_millis(50)).await;
        assert_eq!(
            refused.unwrap_err(),
            Full {
                used: 150,
                limit: 100
            }
        );
        // Freed while a request waits: it is admitted.
        let waiter = {
            let b = Arc::clone(&b);
            tokio::spawn(async move {
                b.reserve(10, Duration::from_secs(5))
                    .await
                    .map(|h| h.bytes())
            })
        };
        tokio::task::yield_now().await;
        drop(big);
        assert_eq!(waiter.await.unwrap(), Ok(10));
        assert_eq!(b.used(), 0, "the waiter's hold was dropped too");
        let mut h = b.hold(10);
        h.resize(40);
        assert_eq!(b.used(), 40);
        h.resize(5);
        assert_eq!(b.used(), 5);
    }
}
