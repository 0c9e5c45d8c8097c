//! Serving endpoints as the API describes them (`ServingEndpoint`, `ServingEndpointDetailed`),
//! with the fields tools rely on typed and everything else kept.

use databricks_mcp_sdk::prelude::*;

pub const ENDPOINTS: &str = "/api/2.0/serving-endpoints";

/// `state` of an endpoint.
#[schema]
#[derive(Debug, Clone, Default)]
pub struct EndpointState {
    /// `READY` (serving its config) or `NOT_READY` (no config deployed yet).
    #[serde(default)]
    pub ready: Option<String>,
    /// `NOT_UPDATING`, `IN_PROGRESS`, `UPDATE_FAILED` or `UPDATE_CANCELED`.
    #[serde(default)]
    pub config_update: Option<String>,
}

/// One served entity (model, foundation model or external model).
#[schema]
#[derive(Debug, Clone)]
pub struct ServedEntity {
    /// The served entity's name: use it for logs and traffic routes.
    #[serde(default)]
    pub name: String,
    /// The Unity Catalog model or foundation model (`system.ai.*`) served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_name: Option<String>,
    /// The model version served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_version: Option<String>,
    /// An external model (provider, name, task), when one is served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_model: Option<Value>,
    /// `Small`, `Medium` or `Large`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_size: Option<String>,
    /// Deployment state (`deployment`, `deployment_state_message`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Value>,
}

impl ServedEntity {
    pub fn what(&self) -> String {
        match (&self.entity_name, &self.entity_version, &self.external_model) {
            (Some(n), Some(v), _) if !n.starts_with("system.ai.") => format!("{n} v{v}"),
            (Some(n), _, _) => n.clone(),
            (None, _, Some(m)) => {
                format!("{} ({})", m["name"].as_str().unwrap_or("?"), m["provider"].as_str().unwrap_or("external"))
            }
            _ => self.name.clone(),
        }
    }
}

/// A config (live or pending).
#[schema]
#[derive(Debug, Clone, Default)]
pub struct EndpointConfig {
    /// The entities it serves.
    #[serde(default)]
    pub served_entities: Vec<ServedEntity>,
    /// How traffic splits between them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_config: Option<Value>,
    /// Increases with every config update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_version: Option<u64>,
}

/// A serving endpoint.
#[schema]
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The endpoint's name (its id in every tool).
    pub name: String,
    /// Readiness and config update state.
    #[serde(default)]
    pub state: EndpointState,
    /// `llm/v1/chat`, `llm/v1/completions` or `llm/v1/embeddings`; absent for custom models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// The config being served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<EndpointConfig>,
    /// The config being deployed, during an update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_config: Option<EndpointConfig>,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    /// Your permission on it (`CAN_VIEW`, `CAN_QUERY`, `CAN_MANAGE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_level: Option<String>,
}

impl Endpoint {
    pub fn ready(&self) -> &str {
        self.state.ready.as_deref().unwrap_or("UNKNOWN")
    }

    pub fn update(&self) -> &str {
        self.state.config_update.as_deref().unwrap_or("NOT_UPDATING")
    }

    /// `READY`, or `READY, update IN_PROGRESS`, ...
    pub fn status(&self) -> String {
        match self.update() {
            "NOT_UPDATING" => self.ready().to_string(),
            update => format!("{}, config update {update}", self.ready()),
        }
    }

    pub fn kind(&self) -> &str {
        match self.task.as_deref() {
            Some("llm/v1/chat") => "chat",
            Some("llm/v1/completions") => "completions",
            Some("llm/v1/embeddings") => "embeddings",
            Some(other) => other,
            None => "custom model",
        }
    }

    /// One line for lists.
    pub fn line(&self) -> String {
        let served: Vec<String> = self.config.iter().flat_map(|c| &c.served_entities).map(ServedEntity::what).collect();
        let served = if served.is_empty() { "nothing deployed yet".to_string() } else { served.join(", ") };
        format!("{}: {} ({}), serves {served}", self.name, self.status(), self.kind())
    }

    /// Lines for a single endpoint.
    pub fn details(&self) -> String {
        let mut lines = vec![self.line()];
        if let Some(creator) = &self.creator {
            lines.push(format!("Created by {creator}"));
        }
        for e in self.config.iter().flat_map(|c| &c.served_entities) {
            lines.push(format!("- live: {} = {} [{}]", e.name, e.what(), deployment(e)));
        }
        for e in self.pending_config.iter().flat_map(|c| &c.served_entities) {
            lines.push(format!("- pending: {} = {} [{}]", e.name, e.what(), deployment(e)));
        }
        if let Some(level) = &self.permission_level {
            lines.push(format!("Your permission: {level}"));
        }
        lines.join("\n")
    }
}

fn deployment(e: &ServedEntity) -> String {
    e.state
        .as_ref()
        .and_then(|s| s["deployment"].as_str())
        .map_or_else(|| "state unknown".to_string(), |d| d.trim_start_matches("DEPLOYMENT_").to_lowercase())
}
