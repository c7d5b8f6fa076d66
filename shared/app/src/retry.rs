//! The one retry policy for commands that lose a race: bounded attempts,
//! exponential backoff with full jitter, so that racers do not collide again
//! in lockstep.

use rand::Rng;
use std::time::Duration;

/// How a command that met a concurrent write is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The backoff ceiling before the second attempt; it doubles per attempt.
    pub base_delay: Duration,
    /// The largest backoff ceiling.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Ten attempts, 2 ms doubling to at most 100 ms: under a second in the
    /// worst case, well inside a request's timeout.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(100),
        }
    }
}

impl RetryPolicy {
    /// The most the wait before attempt `attempt` (0-based, so 1 is the first retry) may be.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        if attempt == 0 {
            return Duration::ZERO;
        }
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// The wait before attempt `attempt`: uniform in `0..=ceiling` ("full jitter").
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self.ceiling(attempt);
        if ceiling.is_zero() {
            return ceiling;
        }
        let micros = u64::try_from(ceiling.as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(rand::thread_rng().gen_range(0..=micros))
    }

    /// Waits before attempt `attempt` (no wait before the first).
    pub async fn pause(&self, attempt: u32) {
        let wait = self.backoff(attempt);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_and_stays_under_the_ceiling() {
        let p = RetryPolicy::default();
        assert_eq!(p.ceiling(0), Duration::ZERO);
        assert_eq!(p.ceiling(1), Duration::from_millis(2));
        assert_eq!(p.ceiling(2), Duration::from_millis(4));
        assert_eq!(p.ceiling(7), Duration::from_millis(100));
        assert_eq!(p.ceiling(40), Duration::from_millis(100));
        for attempt in 0..12 {
            for _ in 0..50 {
                assert!(p.backoff(attempt) <= p.ceiling(attempt));
            }
        }
        // The worst case of all waits together stays under a second.
        let total: Duration = (0..p.max_attempts).map(|a| p.ceiling(a)).sum();
        assert!(total < Duration::from_secs(1), "{total:?}");
    }
}
