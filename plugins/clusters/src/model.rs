//! The clusters API's data, as the tools read and return it. Known fields are typed (so the
//! output schema says what a program can rely on); everything else the workspace sends is kept
//! under the same names, so structured output is complete.

use std::collections::BTreeMap;

use databricks_mcp_sdk::prelude::*;

/// Cluster lifecycle states.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClusterState {
    /// Being created or started.
    Pending,
    /// Up and accepting work.
    Running,
    /// Restarting.
    Restarting,
    /// Adding or removing workers.
    Resizing,
    /// Shutting down.
    Terminating,
    /// Stopped; can be started again.
    Terminated,
    /// Failed to create or start.
    Error,
    /// State unknown.
    Unknown,
}

impl ClusterState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Running => "RUNNING",
            Self::Restarting => "RESTARTING",
            Self::Resizing => "RESIZING",
            Self::Terminating => "TERMINATING",
            Self::Terminated => "TERMINATED",
            Self::Error => "ERROR",
            Self::Unknown => "UNKNOWN",
        }
    }
}

/// Autoscaling bounds.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Autoscale {
    /// Fewest workers.
    pub min_workers: u32,
    /// Most workers.
    pub max_workers: u32,
}

/// Why a cluster stopped.
#[schema]
#[derive(Debug, Clone)]
pub struct TerminationReason {
    /// Reason code, e.g. `USER_REQUEST`, `INACTIVITY`, `DRIVER_UNREACHABLE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `SUCCESS`, `CLIENT_ERROR`, `SERVICE_FAULT` or `CLOUD_FAILURE`.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub kind: Option<String>,
    /// Details such as the user who terminated it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<BTreeMap<String, String>>,
}

/// A cluster: its configuration and current state (`ClusterDetails` in the API). The fields
/// below are the ones tools and programs rely on; every other field the workspace returns is
/// kept as well.
#[schema]
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Cluster id, e.g. `0123-456789-abcdefgh`.
    pub cluster_id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    /// Current state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ClusterState>,
    /// Why it is in that state, when the workspace says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_message: Option<String>,
    /// Databricks Runtime version key, e.g. `15.4.x-scala2.12`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_version: Option<String>,
    /// Worker node type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_type_id: Option<String>,
    /// Driver node type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_node_type_id: Option<String>,
    /// Fixed number of workers (absent when autoscaling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_workers: Option<u32>,
    /// Autoscaling bounds (absent for fixed size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<Autoscale>,
    /// Minutes of inactivity before automatic termination; 0 means never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autotermination_minutes: Option<u32>,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_user_name: Option<String>,
    /// What created it: `UI`, `API`, `JOB`, `PIPELINE`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_source: Option<String>,
    /// Start time, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// Termination time, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated_time: Option<i64>,
    /// Why it was terminated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_reason: Option<TerminationReason>,
    /// Access mode: `SINGLE_USER`, `USER_ISOLATION`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_security_mode: Option<String>,
    /// `STANDARD` or `PHOTON`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_engine: Option<String>,
    /// Memory of all nodes, MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_memory_mb: Option<i64>,
    /// Cores of all nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_cores: Option<f64>,
    /// User tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_tags: Option<BTreeMap<String, String>>,
    /// Spark configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_conf: Option<BTreeMap<String, String>>,
}

impl Cluster {
    pub fn name(&self) -> &str {
        self.cluster_name.as_deref().unwrap_or("(unnamed)")
    }

    pub fn state_str(&self) -> &'static str {
        self.state.map_or("UNKNOWN", ClusterState::as_str)
    }

    /// "4 workers" or "2-8 workers (autoscaling)".
    pub fn size(&self) -> String {
        match (self.autoscale, self.num_workers) {
            (Some(a), _) => format!("{}-{} workers (autoscaling)", a.min_workers, a.max_workers),
            (None, Some(0)) => "single node".to_string(),
            (None, Some(1)) => "1 worker".to_string(),
            (None, Some(n)) => format!("{n} workers"),
            (None, None) => "size unknown".to_string(),
        }
    }

    /// One line a model can read at a glance.
    pub fn line(&self) -> String {
        let mut line = format!("{} ({}): {}, {}", self.name(), self.cluster_id, self.state_str(), self.size());
        for part in [&self.spark_version, &self.node_type_id].into_iter().flatten() {
            line.push_str(", ");
            line.push_str(part);
        }
        if let Some(reason) = self.termination_reason.as_ref().and_then(|r| r.code.as_ref())
            && self.state == Some(ClusterState::Terminated)
        {
            line.push_str(&format!(", terminated: {reason}"));
        }
        line
    }
}
