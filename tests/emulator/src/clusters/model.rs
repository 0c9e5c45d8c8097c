//! A cluster and its state machine.
//!
//! Transitions follow reference §1.5 (PENDING → RUNNING, RUNNING → RESTARTING → RUNNING, ...). An
//! operation enters its first state at once and queues the rest as a *plan*; each queued phase
//! starts one transition delay after the previous one. [`Cluster::advance`] replays the plan up to
//! "now" whenever the cluster is read, so there is no background ticking and a zero delay means the
//! next read already sees the final state.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;
use serde_json::Value;

use super::{
    events::{ClusterEvent, EventType},
    spec::ClusterSpec,
};

/// Cluster `state`, as in the `compute.State` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum State {
    Pending,
    Running,
    Restarting,
    Resizing,
    Terminating,
    Terminated,
    Error,
    Unknown,
}

impl State {
    pub const ALL: [State; 8] = [
        State::Pending,
        State::Running,
        State::Restarting,
        State::Resizing,
        State::Terminating,
        State::Terminated,
        State::Error,
        State::Unknown,
    ];

    /// The wire name, e.g. `RUNNING`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "PENDING",
            State::Running => "RUNNING",
            State::Restarting => "RESTARTING",
            State::Resizing => "RESIZING",
            State::Terminating => "TERMINATING",
            State::Terminated => "TERMINATED",
            State::Error => "ERROR",
            State::Unknown => "UNKNOWN",
        }
    }

    /// The name the service uses inside messages, e.g. `Running`.
    pub fn title(self) -> &'static str {
        match self {
            State::Pending => "Pending",
            State::Running => "Running",
            State::Restarting => "Restarting",
            State::Resizing => "Resizing",
            State::Terminating => "Terminating",
            State::Terminated => "Terminated",
            State::Error => "Error",
            State::Unknown => "Unknown",
        }
    }

    pub fn parse(name: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the cluster has a live driver (so `driver`, `executors` and a Spark context exist).
    pub fn is_up(self) -> bool {
        matches!(self, State::Running | State::Resizing)
    }
}

/// Why a cluster terminated: `termination_reason {code, type, parameters}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TerminationReason {
    pub code: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
}

impl TerminationReason {
    pub fn new(code: &str, kind: &str, parameters: &[(&str, &str)]) -> Self {
        TerminationReason {
            code: code.to_owned(),
            kind: kind.to_owned(),
            parameters: parameters.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        }
    }

    /// A user asked for the termination (`clusters/delete`).
    pub fn user_request(username: &str) -> Self {
        Self::new("USER_REQUEST", "SUCCESS", &[("username", username)])
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// What entering a phase does to the cluster besides changing its state.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Effect {
    None,
    /// The driver came up: a new Spark context and the target number of workers.
    Started {
        spark_context_id: i64,
    },
    /// The Spark context is going away (restart).
    LostState,
    /// Workers now match the spec.
    Resized,
    /// The cluster is gone until started again.
    Terminated(TerminationReason),
}

/// One step of a plan: the state to enter, its message, the event it logs and its effect.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Phase {
    pub state: State,
    pub message: String,
    pub event: Option<(EventType, Value)>,
    pub effect: Effect,
}

impl Phase {
    pub fn new(state: State, message: &str) -> Self {
        Phase { state, message: message.to_owned(), event: None, effect: Effect::None }
    }

    pub fn event(mut self, kind: EventType, details: Value) -> Self {
        self.event = Some((kind, details));
        self
    }

    pub fn effect(mut self, effect: Effect) -> Self {
        self.effect = effect;
        self
    }
}

/// A cluster as the emulator keeps it.
#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    pub id: String,
    /// The attributes the user asked for, as last created, edited or updated.
    pub spec: ClusterSpec,
    pub creator: String,
    /// `cluster_source`: `UI`, `API`, `JOB`, ...
    pub source: String,
    pub state: State,
    pub state_message: String,
    /// When the current state was entered (epoch ms); the next phase is due a delay after this.
    pub state_since: u64,
    /// Phases still to come, in order.
    pub plan: VecDeque<Phase>,
    /// When the cluster was created (epoch ms).
    pub start_time: u64,
    pub last_restarted_time: Option<u64>,
    pub last_state_loss_time: Option<u64>,
    pub terminated_time: Option<u64>,
    pub termination_reason: Option<TerminationReason>,
    pub spark_context_id: Option<i64>,
    /// Workers currently up; equals the target once a start or resize completes.
    pub workers: u32,
    pub pinned: bool,
    /// Tags the service adds beyond Vendor/Creator/ClusterName/ClusterId (job clusters get JobId, RunName).
    pub extra_default_tags: BTreeMap<String, String>,
    /// Every event, oldest first.
    pub events: Vec<ClusterEvent>,
}

impl Cluster {
    /// A cluster that has just been created; nothing happened to it yet.
    pub fn new(id: String, spec: ClusterSpec, creator: &str, source: &str, now: u64) -> Self {
        Cluster {
            id,
            spec,
            creator: creator.to_owned(),
            source: source.to_owned(),
            state: State::Pending,
            state_message: String::new(),
            state_since: now,
            plan: VecDeque::new(),
            start_time: now,
            last_restarted_time: None,
            last_state_loss_time: None,
            terminated_time: None,
            termination_reason: None,
            spark_context_id: None,
            workers: 0,
            pinned: false,
            extra_default_tags: BTreeMap::new(),
            events: Vec::new(),
        }
    }

    /// Enters the first phase now and queues the others, replacing any plan in progress.
    pub fn begin(&mut self, now: u64, phases: impl IntoIterator<Item = Phase>) {
        self.plan.clear();
        let mut phases = phases.into_iter();
        if let Some(first) = phases.next() {
            self.enter(first, now);
        }
        self.plan.extend(phases);
    }

    /// Applies every queued phase that is due by `now`, each `delay_ms` after the one before.
    pub fn advance(&mut self, now: u64, delay_ms: u64) {
        while !self.plan.is_empty() {
            let due = self.state_since.saturating_add(delay_ms);
            if now < due {
                break;
            }
            if let Some(phase) = self.plan.pop_front() {
                self.enter(phase, due);
            }
        }
    }

    /// Logs an event that does not change the state (EDITED, PINNED, ...).
    pub fn log(&mut self, at: u64, kind: EventType, details: Value) {
        self.events.push(ClusterEvent { timestamp: at, kind, details });
    }

    /// The number of workers the spec asks for; an autoscaling cluster starts at its minimum.
    pub fn target_workers(&self) -> u32 {
        self.spec.target_workers()
    }

    fn enter(&mut self, phase: Phase, at: u64) {
        self.state = phase.state;
        self.state_message = phase.message;
        self.state_since = at;
        if let Some((kind, details)) = phase.event {
            self.log(at, kind, details);
        }
        match phase.effect {
            Effect::None => {}
            Effect::Started { spark_context_id } => {
                self.spark_context_id = Some(spark_context_id);
                self.last_restarted_time = Some(at);
                self.workers = self.target_workers();
                self.terminated_time = None;
                self.termination_reason = None;
            }
            Effect::LostState => self.last_state_loss_time = Some(at),
            Effect::Resized => self.workers = self.target_workers(),
            Effect::Terminated(reason) => {
                self.terminated_time = Some(at);
                self.termination_reason = Some(reason);
                self.last_state_loss_time = Some(at);
                self.workers = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn cluster() -> Cluster {
        let spec = ClusterSpec { num_workers: Some(2), ..ClusterSpec::default() };
        Cluster::new("0101-000000-test0001".into(), spec, "me@example.com", "API", 1_000)
    }

    fn start_plan() -> Vec<Phase> {
        vec![
            Phase::new(State::Pending, "Starting").event(EventType::Starting, json!({})),
            Phase::new(State::Running, "")
                .event(EventType::Running, json!({}))
                .effect(Effect::Started { spark_context_id: 7 }),
        ]
    }

    #[test]
    fn phases_wait_one_delay_each() {
        let mut c = cluster();
        c.begin(1_000, start_plan());
        c.advance(1_499, 500);
        assert_eq!(c.state, State::Pending);
        c.advance(1_500, 500);
        assert_eq!(c.state, State::Running);
        assert_eq!(c.last_restarted_time, Some(1_500));
        assert_eq!(c.workers, 2);
        assert_eq!(c.spark_context_id, Some(7));
    }

    #[test]
    fn zero_delay_reaches_the_end_on_the_next_read() {
        let mut c = cluster();
        c.begin(1_000, start_plan());
        c.advance(1_000, 0);
        assert_eq!(c.state, State::Running);
        let kinds: Vec<_> = c.events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, vec![EventType::Starting, EventType::Running]);
    }

    #[test]
    fn a_new_plan_replaces_the_old_one() {
        let mut c = cluster();
        c.begin(1_000, start_plan());
        let reason = TerminationReason::user_request("me@example.com");
        c.begin(
            1_100,
            vec![
                Phase::new(State::Terminating, ""),
                Phase::new(State::Terminated, "").effect(Effect::Terminated(reason.clone())),
            ],
        );
        c.advance(10_000, 500);
        assert_eq!(c.state, State::Terminated);
        assert_eq!(c.terminated_time, Some(1_600));
        assert_eq!(c.termination_reason, Some(reason));
        assert_eq!(c.spark_context_id, None);
    }
}
