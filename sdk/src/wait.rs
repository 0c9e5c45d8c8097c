//! Polling until a long-running operation reaches a state, as the Databricks SDK waiters do,
//! with progress reports and cancellation.

use std::time::{Duration, Instant};

use crate::context::Context;
use crate::error::{Result, ToolError};

/// What one poll found.
#[derive(Debug)]
pub enum Poll<T> {
    /// The target state was reached; stop with this value.
    Ready(T),
    /// Not yet; the string says where things stand (e.g. the current state), for progress.
    Pending(String),
}

/// How long and how often to poll.
#[derive(Debug, Clone)]
pub struct Wait {
    /// Give up after this long (also bounded by the call's own deadline).
    pub timeout: Duration,
    /// The first pause between polls; it grows by this much after each poll...
    pub step: Duration,
    /// ...up to this much.
    pub max_interval: Duration,
    /// What is being waited for, for messages ("cluster 0101-... to be RUNNING").
    pub what: String,
}

impl Wait {
    /// The SDK's schedule: pauses of 1 s, 2 s, ... up to 10 s, at most `timeout` in all.
    pub fn new(what: impl Into<String>, timeout: Duration) -> Self {
        Self { timeout, step: Duration::from_secs(1), max_interval: Duration::from_secs(10), what: what.into() }
    }
}

impl Context {
    /// Call `poll` until it returns [`Poll::Ready`] or fails, sleeping between calls and
    /// reporting progress after each. Fails with [`ToolError::Timeout`] when `wait.timeout` or
    /// the call's deadline comes first, and [`ToolError::Cancelled`] when the call is cancelled.
    pub fn wait_until<T>(&self, wait: &Wait, mut poll: impl FnMut() -> Result<Poll<T>>) -> Result<T> {
        let start = Instant::now();
        let total_secs = wait.timeout.as_secs_f64();
        for attempt in 1u32.. {
            let status = match poll()? {
                Poll::Ready(value) => {
                    self.progress(total_secs, Some(total_secs), format!("done waiting for {}", wait.what));
                    return Ok(value);
                }
                Poll::Pending(status) => status,
            };
            let elapsed = start.elapsed();
            let pause = (wait.step * attempt).min(wait.max_interval);
            // Stop early rather than be killed mid-sleep by the host's deadline: a timeout the
            // tool reports says what it was waiting for.
            let budget = wait.timeout.min(elapsed + self.remaining().saturating_sub(Duration::from_millis(500)));
            if elapsed + pause > budget {
                return Err(ToolError::Timeout(format!(
                    "gave up after {:.0} s waiting for {}; last seen: {status}. Call again to keep waiting.",
                    elapsed.as_secs_f64(),
                    wait.what
                )));
            }
            self.progress(
                elapsed.as_secs_f64(),
                Some(total_secs),
                format!("waiting for {}: {status} ({:.0} s)", wait.what, elapsed.as_secs_f64()),
            );
            self.sleep(pause)?;
        }
        unreachable!("the loop above returns")
    }
}
