//! Polling until a long-running operation reaches a state, as the Databricks SDK waiters do,
//! with progress reports and cancellation.
//!
//! Two flavours share one schedule:
//! - [`Context::wait_until`] treats running out of time as a failure ([`ToolError::Timeout`]),
//!   for a tool that cannot answer without the final state.
//! - [`Context::wait_for`] treats it as a result ([`Waited::StillRunning`]), for a tool that
//!   started something that goes on without it (a job run, a statement, a library install):
//!   the tool then answers with where things stand and how to keep polling, not with an error.

use std::time::Duration;

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

/// How a [`Context::wait_for`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waited<T> {
    /// The poll returned [`Poll::Ready`] with this value.
    Done(T),
    /// The wait's timeout (or the call's deadline) came first. The operation may well still be
    /// running: tell the model how to poll on rather than failing.
    StillRunning {
        /// The status of the last [`Poll::Pending`], e.g. `RUNNING`.
        last: String,
        /// How long the wait lasted.
        waited: Duration,
    },
}

impl<T> Waited<T> {
    /// True for [`Waited::Done`].
    pub fn is_done(&self) -> bool {
        matches!(self, Self::Done(_))
    }
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
    /// Use [`Context::wait_for`] when running out of time is an answer, not a failure.
    pub fn wait_until<T>(&self, wait: &Wait, poll: impl FnMut() -> Result<Poll<T>>) -> Result<T> {
        match self.wait_for(wait, poll)? {
            Waited::Done(value) => Ok(value),
            Waited::StillRunning { last, waited } => Err(ToolError::Timeout(format!(
                "gave up after {:.0} s waiting for {}; last seen: {last}. Call again to keep waiting.",
                waited.as_secs_f64(),
                wait.what
            ))),
        }
    }

    /// Like [`Context::wait_until`] (same schedule, progress and cancellation), but when
    /// `wait.timeout` or the call's deadline comes first it returns [`Waited::StillRunning`]
    /// with the last status seen instead of failing. Errors from `poll` and
    /// [`ToolError::Cancelled`] still fail the wait.
    ///
    /// ```ignore
    /// let wait = Wait::new(format!("run {run_id} to finish"), Duration::from_secs(600));
    /// match ctx.wait_for(&wait, || {
    ///     let run = get_run(ctx, run_id)?;
    ///     Ok(if run.is_terminal() { Poll::Ready(run) } else { Poll::Pending(run.state()) })
    /// })? {
    ///     Waited::Done(run) => Ok(Output::new(run.summary(), run)),
    ///     Waited::StillRunning { last, .. } => Ok(Output::new(
    ///         format!("Run {run_id} is still {last}; call wait_for_run to keep waiting."),
    ///         get_run(ctx, run_id)?,
    ///     )),
    /// }
    /// ```
    pub fn wait_for<T>(&self, wait: &Wait, poll: impl FnMut() -> Result<Poll<T>>) -> Result<Waited<T>> {
        poll_until(
            wait,
            || self.elapsed(),
            || self.remaining(),
            |pause| self.sleep(pause),
            |progress, message| self.progress(progress, Some(wait.timeout.as_secs_f64()), message),
            poll,
        )
    }
}

/// The waiting loop, apart from the host so it can be tested natively.
fn poll_until<T>(
    wait: &Wait,
    clock: impl Fn() -> Duration,
    remaining: impl Fn() -> Duration,
    mut sleep: impl FnMut(Duration) -> Result<()>,
    mut progress: impl FnMut(f64, String),
    mut poll: impl FnMut() -> Result<Poll<T>>,
) -> Result<Waited<T>> {
    // The call's clock, not the wall clock: under the test kit sleeps take no real time.
    let start = clock();
    let total_secs = wait.timeout.as_secs_f64();
    for attempt in 1u32.. {
        let status = match poll()? {
            Poll::Ready(value) => {
                progress(total_secs, format!("done waiting for {}", wait.what));
                return Ok(Waited::Done(value));
            }
            Poll::Pending(status) => status,
        };
        let elapsed = clock().saturating_sub(start);
        let pause = (wait.step * attempt).min(wait.max_interval);
        // Stop early rather than be killed mid-sleep by the host's deadline: a wait the tool
        // ends itself can say what it was waiting for.
        let budget = wait.timeout.min(elapsed + remaining().saturating_sub(Duration::from_millis(500)));
        if elapsed + pause > budget {
            return Ok(Waited::StillRunning { last: status, waited: elapsed });
        }
        progress(
            elapsed.as_secs_f64(),
            format!("waiting for {}: {status} ({:.0} s)", wait.what, elapsed.as_secs_f64()),
        );
        sleep(pause)?;
    }
    unreachable!("the loop above returns")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick(timeout_ms: u64) -> Wait {
        Wait {
            timeout: Duration::from_millis(timeout_ms),
            step: Duration::from_millis(1),
            max_interval: Duration::from_millis(2),
            what: "thing".into(),
        }
    }

    fn plenty() -> Duration {
        Duration::from_secs(3600)
    }

    fn wall_clock() -> impl Fn() -> Duration {
        let start = std::time::Instant::now();
        move || start.elapsed()
    }

    #[test]
    fn done_when_the_poll_is_ready_with_progress_between() {
        let (mut polls, mut messages) = (0, Vec::new());
        let waited = poll_until(
            &quick(60_000),
            wall_clock(),
            plenty,
            |_| Ok(()),
            |_, m| messages.push(m),
            || {
                polls += 1;
                Ok(if polls == 3 { Poll::Ready(polls) } else { Poll::Pending(format!("step {polls}")) })
            },
        )
        .unwrap();
        assert_eq!(waited, Waited::Done(3));
        assert!(waited.is_done());
        assert_eq!(messages.len(), 3);
        assert!(messages[0].starts_with("waiting for thing: step 1"), "{messages:?}");
        assert_eq!(messages[2], "done waiting for thing");
    }

    #[test]
    fn running_out_of_time_is_a_result_with_the_last_status() {
        let mut polls = 0;
        let waited = poll_until(
            &quick(20),
            wall_clock(),
            plenty,
            |pause| {
                std::thread::sleep(pause);
                Ok(())
            },
            |_, _| {},
            || -> Result<Poll<()>> {
                polls += 1;
                Ok(Poll::Pending(format!("RUNNING {polls}")))
            },
        )
        .unwrap();
        match waited {
            Waited::StillRunning { last, waited } => {
                assert_eq!(last, format!("RUNNING {polls}"));
                assert!(waited <= Duration::from_millis(20) + Duration::from_secs(1), "{waited:?}");
            }
            Waited::Done(()) => panic!("nothing was ever ready"),
        }
        assert!(polls > 1, "it polled more than once before giving up");
    }

    #[test]
    fn the_call_deadline_ends_the_wait_early() {
        let waited = poll_until(
            &quick(60_000),
            wall_clock(),
            || Duration::from_millis(400),
            |_| Ok(()),
            |_, _| {},
            || -> Result<Poll<()>> { Ok(Poll::Pending("PENDING".into())) },
        )
        .unwrap();
        assert!(matches!(waited, Waited::StillRunning { ref last, .. } if last == "PENDING"), "{waited:?}");
    }

    #[test]
    fn poll_errors_and_cancellation_still_fail() {
        let failed = poll_until(
            &quick(60_000),
            wall_clock(),
            plenty,
            |_| Ok(()),
            |_, _| {},
            || -> Result<Poll<()>> { Err(ToolError::NotFound("gone".into())) },
        );
        assert_eq!(failed, Err(ToolError::NotFound("gone".into())));
        let cancelled = poll_until(
            &quick(60_000),
            wall_clock(),
            plenty,
            |_| Err(ToolError::Cancelled),
            |_, _| {},
            || -> Result<Poll<()>> { Ok(Poll::Pending("RUNNING".into())) },
        );
        assert_eq!(cancelled, Err(ToolError::Cancelled));
    }
}
