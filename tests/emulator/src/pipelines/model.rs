//! A pipeline, its updates and the lazily-advancing state machine that drives both.
//!
//! Starting or stopping an update enters its first [`Step`] at once and queues the rest; each queued
//! step is due one transition delay after the previous one, and [`Pipeline::advance`] replays the
//! due steps whenever the pipeline is read (as clusters do). A step sets the update's state, the
//! pipeline's state and logs the events of that moment.

use std::collections::VecDeque;

use serde_json::{Map, Value};

use super::events::{Draft, Event};

/// Pipeline `state` (`pipelines.PipelineState`).
#[allow(dead_code, reason = "the whole wire enum; the emulator never deploys, recovers or fails a pipeline itself")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PipelineState {
    Deploying,
    Starting,
    Running,
    Stopping,
    Deleted,
    Recovering,
    Failed,
    Resetting,
    Idle,
}

impl PipelineState {
    pub fn as_str(self) -> &'static str {
        match self {
            PipelineState::Deploying => "DEPLOYING",
            PipelineState::Starting => "STARTING",
            PipelineState::Running => "RUNNING",
            PipelineState::Stopping => "STOPPING",
            PipelineState::Deleted => "DELETED",
            PipelineState::Recovering => "RECOVERING",
            PipelineState::Failed => "FAILED",
            PipelineState::Resetting => "RESETTING",
            PipelineState::Idle => "IDLE",
        }
    }
}

/// Update `state` (`pipelines.UpdateInfoState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpdateState {
    Queued,
    Created,
    WaitingForResources,
    Initializing,
    Resetting,
    SettingUpTables,
    Running,
    Stopping,
    Completed,
    Failed,
    Canceled,
}

impl UpdateState {
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateState::Queued => "QUEUED",
            UpdateState::Created => "CREATED",
            UpdateState::WaitingForResources => "WAITING_FOR_RESOURCES",
            UpdateState::Initializing => "INITIALIZING",
            UpdateState::Resetting => "RESETTING",
            UpdateState::SettingUpTables => "SETTING_UP_TABLES",
            UpdateState::Running => "RUNNING",
            UpdateState::Stopping => "STOPPING",
            UpdateState::Completed => "COMPLETED",
            UpdateState::Failed => "FAILED",
            UpdateState::Canceled => "CANCELED",
        }
    }

    /// Whether the update is over; an update that is not is the pipeline's *active* update.
    pub fn is_terminal(self) -> bool {
        matches!(self, UpdateState::Completed | UpdateState::Failed | UpdateState::Canceled)
    }
}

/// One update (a run of the pipeline).
#[derive(Debug, Clone)]
pub(crate) struct Update {
    pub id: String,
    pub state: UpdateState,
    /// `cause`: `API_CALL`, `USER_ACTION`, `JOB_TASK`, ...
    pub cause: String,
    /// Epoch ms.
    pub creation_time: u64,
    pub full_refresh: bool,
    pub refresh_selection: Vec<String>,
    pub full_refresh_selection: Vec<String>,
    pub validate_only: bool,
    pub cluster_id: Option<String>,
    /// The pipeline's settings when the update started.
    pub config: Map<String, Value>,
}

/// What entering a step does to the pipeline's compute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Compute {
    Keep,
    /// The update's cluster came up.
    Acquire(String),
    /// The update is over; its cluster goes away.
    Release,
}

/// One moment of an update's life.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub update: UpdateState,
    pub pipeline: PipelineState,
    pub compute: Compute,
    pub events: Vec<Draft>,
}

impl Step {
    pub fn new(update: UpdateState, pipeline: PipelineState) -> Self {
        Step { update, pipeline, compute: Compute::Keep, events: Vec::new() }
    }

    pub fn compute(mut self, compute: Compute) -> Self {
        self.compute = compute;
        self
    }

    pub fn event(mut self, draft: Draft) -> Self {
        self.events.push(draft);
        self
    }

    pub fn events(mut self, drafts: impl IntoIterator<Item = Draft>) -> Self {
        self.events.extend(drafts);
        self
    }
}

/// A pipeline as the emulator keeps it.
#[derive(Debug, Clone)]
pub(crate) struct Pipeline {
    pub id: String,
    /// The settings as last created or edited, without `id` (rendering adds it).
    pub spec: Map<String, Value>,
    pub creator: String,
    pub run_as: String,
    pub state: PipelineState,
    /// Epoch ms of the last create or edit.
    pub last_modified: u64,
    /// The datasets its updates refresh, in definition order.
    pub flows: Vec<String>,
    /// Whether its updates fail (the name or a library path mentions "fail").
    pub fails: bool,
    /// Every update, oldest first.
    pub updates: Vec<Update>,
    /// Every event, oldest first.
    pub events: Vec<Event>,
    /// The cluster of the active update, while it has one.
    pub cluster_id: Option<String>,
    /// Steps still to come for the latest update, in order.
    pub plan: VecDeque<Step>,
    /// When the latest step was entered (epoch ms).
    pub step_since: u64,
}

impl Pipeline {
    /// The update that has not finished yet, if any.
    pub fn active_update(&self) -> Option<&Update> {
        self.updates.last().filter(|u| !u.state.is_terminal())
    }

    pub fn update(&self, update_id: &str) -> Option<&Update> {
        self.updates.iter().find(|u| u.id == update_id)
    }

    /// `HEALTHY` unless the latest finished update failed.
    pub fn health(&self) -> &'static str {
        match self.updates.iter().rev().find(|u| u.state.is_terminal()) {
            Some(u) if u.state == UpdateState::Failed => "UNHEALTHY",
            _ => "HEALTHY",
        }
    }

    /// Enters the first step now and queues the others, replacing any plan in progress.
    pub fn begin(&mut self, now: u64, steps: impl IntoIterator<Item = Step>) {
        self.plan.clear();
        let mut steps = steps.into_iter();
        if let Some(first) = steps.next() {
            self.enter(first, now);
        }
        self.plan.extend(steps);
    }

    /// Applies every queued step that is due by `now`, each `delay_ms` after the one before.
    pub fn advance(&mut self, now: u64, delay_ms: u64) {
        while !self.plan.is_empty() {
            let due = self.step_since.saturating_add(delay_ms);
            if now < due {
                break;
            }
            if let Some(step) = self.plan.pop_front() {
                self.enter(step, due);
            }
        }
    }

    /// Logs an event now; `update_id` ties it to an update.
    pub fn log(&mut self, at: u64, draft: Draft, update_id: Option<&str>) {
        let sequence = self.events.len() as u64 + 1;
        let event = Event::new(draft, &self.id, self.spec_name(), update_id, self.cluster_id.as_deref(), at, sequence);
        self.events.push(event);
    }

    /// The pipeline's `name` setting.
    pub fn spec_name(&self) -> &str {
        self.spec.get("name").and_then(Value::as_str).unwrap_or_default()
    }

    fn enter(&mut self, step: Step, at: u64) {
        self.step_since = at;
        self.state = step.pipeline;
        match step.compute {
            Compute::Keep => {}
            Compute::Acquire(cluster_id) => self.cluster_id = Some(cluster_id),
            Compute::Release => self.cluster_id = None,
        }
        let cluster_id = self.cluster_id.clone();
        let update_id = self.updates.last_mut().map(|u| {
            u.state = step.update;
            if u.cluster_id.is_none() {
                u.cluster_id.clone_from(&cluster_id);
            }
            u.id.clone()
        });
        for draft in step.events {
            self.log(at, draft, update_id.as_deref());
        }
    }
}
