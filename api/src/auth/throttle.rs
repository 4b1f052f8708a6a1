//! Slows password guessing: after `LOGIN_MAX_FAILURES` failed logins for one email within
//! `LOGIN_FAILURE_WINDOW_SECONDS`, further attempts for it are refused until the window ends.
//!
//! Kept in process memory: each API process counts on its own, which bounds guessing per
//! process without a shared store.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries kept before expired ones are swept out.
const SWEEP_AT: usize = 10_000;

/// Failure counts per email.
#[derive(Debug)]
pub struct LoginThrottle {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    /// At most `max_failures` failures per `window` (0 disables the throttle).
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` when `key` has used up its failures for the current window.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        if self.max_failures == 0 {
            return Ok(());
        }
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match failures.get(key) {
            Some(&(count, since))
                if count >= self.max_failures && since.elapsed() < self.window =>
            {
                Err(self.window.saturating_sub(since.elapsed()))
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed attempt.
    pub fn record_failure(&self, key: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= SWEEP_AT {
            let window = self.window;
            failures.retain(|_, (_, since)| since.elapsed() < window);
        }
        let entry = failures
            .entry(key.to_owned())
            .or_insert((0, Instant::now()));
        if entry.1.elapsed() >= self.window {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    /// Forgets the failures after a successful login.
    pub fn reset(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_and_only_that_key() {
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        t.record_failure("a");
        assert!(t.check("a").is_ok());
        t.record_failure("a");
        let wait = t.check("a").expect_err("blocked");
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        assert!(t.check("b").is_ok());
        t.reset("a");
        assert!(t.check("a").is_ok());
    }

    #[test]
    fn the_window_expires_and_zero_disables() {
        let t = LoginThrottle::new(1, Duration::ZERO);
        t.record_failure("a");
        assert!(t.check("a").is_ok(), "an elapsed window no longer blocks");
        let off = LoginThrottle::new(0, Duration::from_secs(60));
        off.record_failure("a");
        assert!(off.check("a").is_ok());
    }
}
