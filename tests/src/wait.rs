//! Waiting for work without sleeping a fixed time: [`eventually`] polls a condition until it
//! holds or a deadline passes, and [`crate::TestApp::until_queues_idle`] waits until every
//! queued job has run.

use std::time::{Duration, Instant};

/// How often a condition is looked at again.
const POLL: Duration = Duration::from_millis(25);

/// Awaits `check` until it gives `Some`, looking again every 25 ms; panics naming `what` (and
/// the last value seen, when `check` gives one through `Err`) once `within` has passed.
pub async fn eventually<T>(
    what: &str,
    within: Duration,
    mut check: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        let last = match check().await {
            Ok(value) => return value,
            Err(last) => last,
        };
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {within:?}; last seen: {last}"
        );
        tokio::time::sleep(POLL).await;
    }
}
