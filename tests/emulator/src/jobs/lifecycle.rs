//! The life cycle one run (or one task of a run) goes through, advanced lazily by the clock:
//! `QUEUED? → PENDING → RUNNING → TERMINATING → TERMINATED`, each step taking the transition delay
//! (a RUNNING step at least `min_running_ms`, so a seeded run can stay running for a while).

use serde_json::{Map, Value, json};

/// `state.life_cycle_state` (and, except SKIPPED, `status.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Queued,
    Pending,
    Running,
    Terminating,
    Terminated,
    Skipped,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Queued => "QUEUED",
            Phase::Pending => "PENDING",
            Phase::Running => "RUNNING",
            Phase::Terminating => "TERMINATING",
            Phase::Terminated => "TERMINATED",
            Phase::Skipped => "SKIPPED",
        }
    }

    fn next(self) -> Option<Phase> {
        match self {
            Phase::Queued => Some(Phase::Pending),
            Phase::Pending => Some(Phase::Running),
            Phase::Running => Some(Phase::Terminating),
            Phase::Terminating => Some(Phase::Terminated),
            Phase::Terminated | Phase::Skipped => None,
        }
    }

    fn message(self) -> &'static str {
        match self {
            Phase::Queued => "Waiting for the run to start: the job's concurrent run limit has been reached.",
            Phase::Pending => "Waiting for cluster",
            Phase::Running => "In run",
            _ => "",
        }
    }
}

/// How a finished run or task ended: `state.result_state` and `status.termination_details`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    Failed,
    Canceled,
    UpstreamFailed,
    UpstreamCanceled,
    MaxConcurrentRuns,
}

impl Outcome {
    pub fn result_state(self) -> &'static str {
        match self {
            Outcome::Success => "SUCCESS",
            Outcome::Failed => "FAILED",
            Outcome::Canceled => "CANCELED",
            Outcome::UpstreamFailed => "UPSTREAM_FAILED",
            Outcome::UpstreamCanceled => "UPSTREAM_CANCELED",
            Outcome::MaxConcurrentRuns => "MAXIMUM_CONCURRENT_RUNS_REACHED",
        }
    }

    /// `(code, type)` of `status.termination_details`.
    fn termination(self) -> (&'static str, &'static str) {
        match self {
            Outcome::Success => ("SUCCESS", "SUCCESS"),
            Outcome::Failed => ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
            Outcome::Canceled => ("USER_CANCELED", "SUCCESS"),
            Outcome::UpstreamFailed | Outcome::UpstreamCanceled => ("SKIPPED", "SUCCESS"),
            Outcome::MaxConcurrentRuns => ("MAX_CONCURRENT_RUNS_EXCEEDED", "CLIENT_ERROR"),
        }
    }

    pub fn is_success(self) -> bool {
        self == Outcome::Success
    }
}

/// Where a run or task is in its life cycle, with the times and durations the wire reports.
#[derive(Debug, Clone)]
pub(crate) struct Lifecycle {
    pub phase: Phase,
    /// When the current phase began (epoch ms).
    since: u64,
    pub start_time: u64,
    pub setup_ms: u64,
    pub execution_ms: u64,
    pub cleanup_ms: u64,
    pub end_time: Option<u64>,
    /// The RUNNING phase lasts at least this long, whatever the transition delay.
    pub min_running_ms: u64,
    /// Set once terminal.
    pub result: Option<Outcome>,
    /// `state_message` once terminal (the phase's own message before).
    pub message: String,
    pub user_cancelled: bool,
}

impl Lifecycle {
    /// A run that starts now, optionally waiting in the queue first.
    pub fn start(now: u64, queued: bool) -> Self {
        Lifecycle {
            phase: if queued { Phase::Queued } else { Phase::Pending },
            since: now,
            start_time: now,
            setup_ms: 0,
            execution_ms: 0,
            cleanup_ms: 0,
            end_time: None,
            min_running_ms: 0,
            result: None,
            message: String::new(),
            user_cancelled: false,
        }
    }

    /// A run that already ended (seed history): phases of the given lengths from `start`.
    pub fn finished(start: u64, setup_ms: u64, execution_ms: u64, outcome: Outcome, message: &str) -> Self {
        let cleanup_ms = 4_000;
        Lifecycle {
            phase: Phase::Terminated,
            since: start + setup_ms + execution_ms + cleanup_ms,
            start_time: start,
            setup_ms,
            execution_ms,
            cleanup_ms,
            end_time: Some(start + setup_ms + execution_ms + cleanup_ms),
            min_running_ms: 0,
            result: Some(outcome),
            message: message.to_owned(),
            user_cancelled: outcome == Outcome::Canceled,
        }
    }

    /// A run skipped at once (for example over the concurrent run limit).
    pub fn skipped(now: u64, outcome: Outcome, message: &str) -> Self {
        Lifecycle {
            phase: Phase::Skipped,
            end_time: Some(now),
            result: Some(outcome),
            message: message.to_owned(),
            ..Lifecycle::start(now, false)
        }
    }

    /// Restarts an ended life cycle for a repair, keeping its original start time.
    pub fn restart(&mut self, now: u64) {
        let start_time = self.start_time;
        *self = Lifecycle { start_time, ..Lifecycle::start(now, false) };
    }

    pub fn is_terminal(&self) -> bool {
        matches!(self.phase, Phase::Terminated | Phase::Skipped)
    }

    /// Steps through every phase that has run its course by `now`; true if this call reached
    /// TERMINATED (the caller then decides the result).
    pub fn advance(&mut self, now: u64, delay_ms: u64) -> bool {
        let mut terminated = false;
        while let Some(next) = self.phase.next() {
            let step = if self.phase == Phase::Running { delay_ms.max(self.min_running_ms) } else { delay_ms };
            let due = self.since.saturating_add(step);
            if now < due {
                break;
            }
            let spent = due - self.since;
            match self.phase {
                Phase::Pending => self.setup_ms += spent,
                Phase::Running => self.execution_ms += spent,
                Phase::Terminating => self.cleanup_ms += spent,
                _ => {}
            }
            self.phase = next;
            self.since = due;
            if next == Phase::Terminated {
                self.end_time = Some(due);
                terminated = true;
            }
        }
        terminated
    }

    /// Ends the life cycle now with `outcome` (cancellation).
    pub fn end(&mut self, now: u64, outcome: Outcome, message: &str) {
        if self.is_terminal() {
            return;
        }
        let spent = now.saturating_sub(self.since);
        match self.phase {
            Phase::Pending => self.setup_ms += spent,
            Phase::Running => self.execution_ms += spent,
            Phase::Terminating => self.cleanup_ms += spent,
            _ => {}
        }
        self.phase = Phase::Terminated;
        self.since = now;
        self.end_time = Some(now);
        self.result = Some(outcome);
        self.message = message.to_owned();
        self.user_cancelled = outcome == Outcome::Canceled;
    }

    /// Sets the result of a life cycle that has just terminated.
    pub fn conclude(&mut self, outcome: Outcome, message: &str) {
        self.result = Some(outcome);
        self.message = message.to_owned();
    }

    /// `state` (RunState) and `status` (RunStatus), both of which current clients read.
    pub fn state_json(&self) -> (Value, Value) {
        let mut state = Map::new();
        state.insert("life_cycle_state".into(), json!(self.phase.as_str()));
        let message = if self.is_terminal() { self.message.as_str() } else { self.phase.message() };
        if let Some(result) = self.result {
            state.insert("result_state".into(), json!(result.result_state()));
        }
        state.insert("state_message".into(), json!(message));
        state.insert("user_cancelled_or_timedout".into(), json!(self.user_cancelled));

        let mut status = Map::new();
        let v2 = if self.phase == Phase::Skipped { "TERMINATED" } else { self.phase.as_str() };
        status.insert("state".into(), json!(v2));
        if let Some(result) = self.result {
            let (code, kind) = result.termination();
            status.insert("termination_details".into(), json!({"code": code, "type": kind, "message": message}));
        }
        if self.phase == Phase::Queued {
            status.insert("queue_details".into(), json!({"code": "ACTIVE_RUNS_LIMIT_REACHED", "message": message}));
        }
        (Value::Object(state), Value::Object(status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_delay_reaches_terminated_on_the_next_read() {
        let mut life = Lifecycle::start(1_000, false);
        assert!(life.advance(1_000, 0));
        assert_eq!(life.phase, Phase::Terminated);
        assert_eq!(life.end_time, Some(1_000));
    }

    #[test]
    fn each_step_takes_the_delay() {
        let mut life = Lifecycle::start(1_000, true);
        assert!(!life.advance(1_150, 100));
        assert_eq!(life.phase, Phase::Pending);
        assert!(!life.advance(1_250, 100));
        assert_eq!(life.phase, Phase::Running);
        assert!(life.advance(1_400, 100));
        assert_eq!((life.setup_ms, life.execution_ms, life.cleanup_ms), (100, 100, 100));
        assert_eq!(life.end_time, Some(1_400));
    }

    #[test]
    fn a_minimum_running_time_holds_the_run() {
        let mut life = Lifecycle { min_running_ms: 10_000, ..Lifecycle::start(0, false) };
        life.advance(5_000, 0);
        assert_eq!(life.phase, Phase::Running);
        life.advance(10_000, 0);
        assert_eq!(life.phase, Phase::Terminated);
    }
}
