//! The Pipelines API's data, as the tools read and return it. Known fields are typed (so the
//! output schema says what a program can rely on); everything else the workspace sends is kept
//! under the same names through `Json<T>`.

use databricks_mcp_sdk::format_time;
use databricks_mcp_sdk::prelude::*;

/// One of a pipeline's most recent updates, as `get` and `list` show them.
#[schema]
#[derive(Debug, Clone)]
pub struct LatestUpdate {
    /// The update id.
    pub update_id: String,
    /// Its state, e.g. `RUNNING`, `COMPLETED`, `FAILED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// When it was created (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<String>,
}

/// A pipeline as lists show it (`PipelineStateInfo`), and the common part of `get`.
#[schema]
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The pipeline id (a UUID).
    pub pipeline_id: String,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `IDLE`, `STARTING`, `RUNNING`, `STOPPING`, `FAILED`, `DEPLOYING`, `RECOVERING`, `RESETTING` or `DELETED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `HEALTHY` or `UNHEALTHY` (its last update failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_user_name: Option<String>,
    /// Whom its updates run as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_user_name: Option<String>,
    /// The cluster of the running update, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    /// The most recent updates, newest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_updates: Option<Vec<LatestUpdate>>,
    /// The settings (only from `get`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<Value>,
    /// When the settings last changed, epoch milliseconds (only from `get`); pass it back as
    /// `expected_last_modified` to update only what you read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<i64>,
}

impl Pipeline {
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("(unnamed)")
    }

    /// One line a model can read at a glance.
    pub fn line(&self) -> String {
        let mut line =
            format!("{} ({}): {}", self.name(), self.pipeline_id, self.state.as_deref().unwrap_or("UNKNOWN"));
        if let Some(health) = &self.health {
            line.push_str(&format!(", {health}"));
        }
        if let Some(last) = self.latest_updates.as_ref().and_then(|u| u.first()) {
            line.push_str(&format!(", last update {} {}", last.update_id, last.state.as_deref().unwrap_or("UNKNOWN")));
        }
        line
    }
}

/// Update states that are over.
pub const TERMINAL: [&str; 3] = ["COMPLETED", "FAILED", "CANCELED"];

/// One update (a run of the pipeline), `UpdateInfo` in the API.
#[schema]
#[derive(Debug, Clone)]
pub struct Update {
    /// The pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_id: Option<String>,
    /// The update id.
    pub update_id: String,
    /// `QUEUED`, `CREATED`, `WAITING_FOR_RESOURCES`, `INITIALIZING`, `RESETTING`,
    /// `SETTING_UP_TABLES`, `RUNNING`, `STOPPING`, `COMPLETED`, `FAILED` or `CANCELED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// What started it: `API_CALL`, `USER_ACTION`, `JOB_TASK`, `RETRY_ON_FAILURE`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// When it was created, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<i64>,
    /// Whether every table was recomputed from scratch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_refresh: Option<bool>,
    /// Tables refreshed (empty: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_selection: Option<Vec<String>>,
    /// Tables fully refreshed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_refresh_selection: Option<Vec<String>>,
    /// Whether it only validated the pipeline's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_only: Option<bool>,
    /// The cluster it runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    /// The settings the update runs with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
}

impl Update {
    pub fn state(&self) -> &str {
        self.state.as_deref().unwrap_or("UNKNOWN")
    }

    pub fn is_terminal(&self) -> bool {
        TERMINAL.contains(&self.state())
    }

    /// A continuous pipeline's update stays RUNNING until stopped: reaching RUNNING is as far as
    /// a wait can go.
    pub fn is_continuous(&self) -> bool {
        self.config.as_ref().and_then(|c| c.get("continuous")).and_then(Value::as_bool).unwrap_or(false)
    }

    /// What the update does: "full refresh", "refresh of a, b", "validation"...
    pub fn kind(&self) -> String {
        let selection = |tables: &Option<Vec<String>>| tables.as_ref().filter(|t| !t.is_empty()).map(|t| t.join(", "));
        let mut parts = Vec::new();
        if self.validate_only == Some(true) {
            parts.push("validation only".to_string());
        }
        if self.full_refresh == Some(true) {
            parts.push("full refresh".to_string());
        }
        if let Some(tables) = selection(&self.full_refresh_selection) {
            parts.push(format!("full refresh of {tables}"));
        }
        if let Some(tables) = selection(&self.refresh_selection) {
            parts.push(format!("refresh of {tables}"));
        }
        if parts.is_empty() { "refresh of all tables".to_string() } else { parts.join(", ") }
    }

    /// One line a model can read at a glance.
    pub fn line(&self) -> String {
        let when = self.creation_time.map_or_else(|| "unknown time".to_string(), format_time);
        let cause = self.cause.as_deref().map(|c| format!(", cause {c}")).unwrap_or_default();
        format!("{} {}: {} ({}{cause})", self.update_id, self.state(), when, self.kind())
    }
}

/// An exception in an event's error.
#[schema]
#[derive(Debug, Clone)]
pub struct Exception {
    /// The exception class, e.g. `org.apache.spark.sql.AnalysisException`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    /// Its message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The error an event carries.
#[schema]
#[derive(Debug, Clone)]
pub struct EventError {
    /// The exceptions, outermost first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exceptions: Option<Vec<Exception>>,
    /// Whether it stopped the update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fatal: Option<bool>,
}

/// Where an event comes from.
#[schema]
#[derive(Debug, Clone)]
pub struct Origin {
    /// The update it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_id: Option<String>,
    /// The flow (table) it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_name: Option<String>,
}

/// One event of a pipeline's event log.
#[schema]
#[derive(Debug, Clone)]
pub struct Event {
    /// The event id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When it happened (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// `INFO`, `WARN`, `ERROR` or `METRICS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// e.g. `create_update`, `update_progress`, `flow_progress`, `user_action`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// What happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Which update and flow it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// The error, for ERROR events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<EventError>,
}

impl Event {
    /// One line, with the first exception of an error event.
    pub fn line(&self) -> String {
        let when = self.timestamp.as_deref().unwrap_or("unknown time");
        let level = self.level.as_deref().unwrap_or("INFO");
        let kind = self.event_type.as_deref().unwrap_or("event");
        let message = self.message.as_deref().unwrap_or("");
        let mut line = format!("{when}  {level:<5}  {kind}: {message}");
        if let Some(exception) = self.error.as_ref().and_then(|e| e.exceptions.as_ref()).and_then(|e| e.first()) {
            line.push_str(&format!(
                "\n    {}: {}",
                exception.class_name.as_deref().unwrap_or("error"),
                exception.message.as_deref().unwrap_or("")
            ));
        }
        line
    }
}
