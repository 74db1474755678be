//! Lookup limits per principal (R22.1: no bulk extraction). Counters live
//! in Redis when configured, so every gateway replica shares them; the
//! embedded default counts in process. A limiter that cannot count refuses
//! (fail closed).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use shebao_kernel::ApiError;

/// Counts lookups per key in fixed windows.
#[async_trait]
pub trait RateLimiter: Send + Sync + std::fmt::Debug {
    /// Counts one lookup for `key` at `now_seconds` (Unix time); returns
    /// RESOURCE_EXHAUSTED past the limit and UNAVAILABLE when the counter
    /// store cannot be reached.
    async fn check(&self, key: &str, now_seconds: u64) -> Result<(), ApiError>;
}

/// The fixed-window limit shared by both implementations.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Lookups allowed per window.
    pub per_window: u32,
    /// Window length in seconds.
    pub window_seconds: u64,
}

impl Limit {
    fn window(&self, now_seconds: u64) -> u64 {
        now_seconds / self.window_seconds.max(1)
    }

    fn exceeded(&self, key: &str) -> ApiError {
        ApiError::ResourceExhausted(format!(
            "{key} exceeded {} lookups per {} s; try later",
            self.per_window, self.window_seconds
        ))
    }
}

/// An in-process limiter for a single gateway.
#[derive(Debug)]
pub struct InProcessLimiter {
    limit: Limit,
    counts: Mutex<HashMap<String, (u64, u32)>>,
}

impl InProcessLimiter {
    /// A limiter enforcing `limit`.
    pub fn new(limit: Limit) -> Self {
        Self {
            limit,
            counts: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait]
impl RateLimiter for InProcessLimiter {
    async fn check(&self, key: &str, now_seconds: u64) -> Result<(), ApiError> {
        let window = self.limit.window(now_seconds);
        let mut counts = self
            .counts
            .lock()
            .map_err(|_| ApiError::Unavailable("rate limiter unavailable".into()))?;
        if counts.len() > 100_000 {
            counts.retain(|_, (w, _)| *w == window);
        }
        let entry = counts.entry(key.to_string()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        if entry.1 >= self.limit.per_window {
            return Err(self.limit.exceeded(key));
        }
        entry.1 += 1;
        Ok(())
    }
}

/// A limiter whose counters are in Redis, shared by every replica.
#[derive(Clone)]
pub struct RedisLimiter {
    limit: Limit,
    namespace: String,
    connection: ConnectionManager,
}

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("limit", &self.limit)
            .finish()
    }
}

impl RedisLimiter {
    /// Connects to `url`; fails when Redis cannot be reached at start.
    pub async fn connect(
        url: &str,
        namespace: &str,
        limit: Limit,
    ) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)));
        let connection = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self {
            limit,
            namespace: namespace.to_string(),
            connection,
        })
    }
}

#[async_trait]
impl RateLimiter for RedisLimiter {
    async fn check(&self, key: &str, now_seconds: u64) -> Result<(), ApiError> {
        let window = self.limit.window(now_seconds);
        let counter = format!("{}:ratelimit:{key}:{window}", self.namespace);
        let mut connection = self.connection.clone();
        let (count,): (u64,) = redis::pipe()
            .atomic()
            .incr(&counter, 1u64)
            .expire(
                &counter,
                i64::try_from(self.limit.window_seconds * 2).unwrap_or(i64::MAX),
            )
            .ignore()
            .query_async(&mut connection)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "rate limiter cannot reach redis; refusing");
                ApiError::Unavailable("rate limiter unavailable; lookup refused".into())
            })?;
        if count > u64::from(self.limit.per_window) {
            return Err(self.limit.exceeded(key));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Limit = Limit {
        per_window: 3,
        window_seconds: 60,
    };

    async fn limits_per_key_and_window(limiter: &dyn RateLimiter, key: &str) {
        // R22.1: no bulk extraction through repeated lookups
        for _ in 0..3 {
            limiter.check(key, 120).await.expect("within the limit");
        }
        let err = limiter.check(key, 130).await.expect_err("over the limit");
        assert!(matches!(err, ApiError::ResourceExhausted(_)));
        limiter
            .check(&format!("{key}-other"), 130)
            .await
            .expect("another key has its own count");
        limiter
            .check(key, 180)
            .await
            .expect("a new window starts afresh");
    }

    #[tokio::test]
    async fn the_in_process_limiter_refuses_past_the_limit() {
        limits_per_key_and_window(&InProcessLimiter::new(LIMIT), "org/court").await;
    }

    #[tokio::test]
    async fn the_redis_limiter_refuses_past_the_limit() {
        let Ok(url) = std::env::var("SHEBAO_TEST_REDIS_URL") else {
            eprintln!("SHEBAO_TEST_REDIS_URL not set; the redis limiter is tested in CI");
            return;
        };
        let limiter = RedisLimiter::connect(&url, "shebao-test", LIMIT)
            .await
            .expect("redis");
        let key = format!(
            "org/test-{}",
            std::process::id() as u64 * 1_000_000
                + u64::from(chrono::Utc::now().timestamp_subsec_nanos())
        );
        limits_per_key_and_window(&limiter, &key).await;
    }

    #[tokio::test]
    async fn an_unreachable_redis_refuses_instead_of_allowing() {
        // fail closed: a limiter that cannot count must not let lookups through
        let client = RedisLimiter::connect("redis://127.0.0.1:1", "shebao-test", LIMIT).await;
        assert!(client.is_err());
    }
}
