//! Model serving (`/api/2.0/serving-endpoints`) and endpoint queries
//! (`POST /serving-endpoints/{name}/invocations`, outside `/api` as on the service).
//!
//! An endpoint serves one or more entities: a Unity Catalog model version (a custom model, answering
//! `dataframe_records`/`dataframe_split`/`instances`/`inputs` with `predictions`), a foundation model
//! (`system.ai.*`: chat, or embeddings for `bge`/`gte` models) or an external model (its `task`).
//! What each answers is in `model`.
//!
//! State machine (lazy, like every family here): `create` leaves the endpoint `NOT_READY` with
//! `config_update: IN_PROGRESS` and its config pending; after two transition delays (build, then
//! deploy) the config is live and the endpoint `READY`/`NOT_UPDATING`. `update config` sets a new
//! pending config while the old one keeps serving; after two delays it swaps in. A served model
//! version whose registration failed (`FAILED_REGISTRATION`) fails the build: the update ends
//! `UPDATE_FAILED`, the old config (if any) keeps serving, and the build logs say why.
//!
//! Permissions (`CAN_VIEW` < `CAN_QUERY` < `CAN_MANAGE`): the creator manages, admins hold all;
//! lists show what the caller can view; querying takes `CAN_QUERY`, changing or deleting `CAN_MANAGE`.
//!
//! Errors: a missing endpoint is 404 `RESOURCE_DOES_NOT_EXIST`, a duplicate name 409
//! `RESOURCE_ALREADY_EXISTS`, an update while one is in progress 409 `RESOURCE_CONFLICT`, a query
//! of the wrong shape 400 `BAD_REQUEST`, a query before the endpoint is ready 400 `INVALID_STATE`.

mod handlers;
pub(crate) mod model;
pub(crate) mod seed;

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Router,
    routing::{get, post, put},
};
use serde_json::{Value, json};

use crate::{clock::Moment, workspace::AppState};

/// Serving endpoints: view, query, manage. The kind is registered with the Permissions API
/// (`acl::REGISTERED_KINDS`): each endpoint is registered when created and forgotten when deleted.
pub(crate) use crate::acl::SERVING_ENDPOINT;

/// Transition steps from an accepted config to a live one: build, then deploy.
const STEPS: u64 = 2;

/// What kind of model an entity is, which decides what queries it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Task {
    Chat,
    Completions,
    Embeddings,
    /// A Unity Catalog (MLflow) model: dataframe in, predictions out.
    Custom,
}

impl Task {
    pub fn api_name(self) -> Option<&'static str> {
        match self {
            Task::Chat => Some("llm/v1/chat"),
            Task::Completions => Some("llm/v1/completions"),
            Task::Embeddings => Some("llm/v1/embeddings"),
            Task::Custom => None,
        }
    }
}

/// One served entity as the API describes it (`ServedEntityOutput`), plus what it answers.
#[derive(Debug, Clone)]
pub(crate) struct Entity {
    /// The name routes and logs use.
    pub name: String,
    pub spec: serde_json::Map<String, Value>,
    pub task: Task,
    /// Why its build fails, if it does.
    pub build_error: Option<String>,
    pub created: u64,
    pub creator: String,
    /// Lines of its server log (queries append).
    pub log: Vec<String>,
}

/// A config: the served entities and how traffic splits between them.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub entities: Vec<Entity>,
    pub traffic: Value,
    pub version: u64,
    /// When it was submitted.
    pub start: u64,
}

impl Config {
    fn build_error(&self) -> Option<String> {
        self.entities.iter().find_map(|e| e.build_error.clone())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Update {
    NotUpdating,
    InProgress,
    Failed,
}

impl Update {
    fn as_str(self) -> &'static str {
        match self {
            Update::NotUpdating => "NOT_UPDATING",
            Update::InProgress => "IN_PROGRESS",
            Update::Failed => "UPDATE_FAILED",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub name: String,
    pub id: String,
    pub creator: String,
    pub created: u64,
    pub updated: u64,
    pub description: Option<String>,
    pub tags: Vec<Value>,
    /// The live config, once one has deployed.
    pub config: Option<Config>,
    /// The config being built and deployed.
    pub pending: Option<Config>,
    pub update: Update,
    /// The last failed config, kept for its build logs.
    pub failed: Option<Config>,
}

impl Endpoint {
    /// Moves the endpoint as far as `at` allows.
    pub fn advance(&mut self, at: Moment) {
        let Some(pending) = &self.pending else { return };
        if at.now < pending.start + STEPS * at.delay_ms {
            return;
        }
        let pending = self.pending.take().expect("checked above");
        self.updated = pending.start + STEPS * at.delay_ms;
        if let Some(error) = pending.build_error() {
            tracing::debug!(endpoint = %self.name, error, "serving config failed to build");
            self.update = Update::Failed;
            self.failed = Some(pending);
        } else {
            self.update = Update::NotUpdating;
            self.failed = None;
            self.config = Some(pending);
        }
    }

    pub fn ready(&self) -> bool {
        self.config.is_some()
    }

    /// The task of the live config (its first entity's).
    pub fn task(&self) -> Option<Task> {
        self.config.as_ref().or(self.pending.as_ref())?.entities.first().map(|e| e.task)
    }

    /// Any entity of any config by name (live, pending or failed), for logs.
    pub fn entity(&self, name: &str) -> Option<&Entity> {
        [&self.config, &self.pending, &self.failed]
            .into_iter()
            .flatten()
            .flat_map(|c| &c.entities)
            .find(|e| e.name == name)
    }

    fn entities_json(config: &Config, detailed: bool, deployment: &str) -> Vec<Value> {
        config
            .entities
            .iter()
            .map(|e| {
                let mut out = Value::Object(e.spec.clone());
                out["name"] = json!(e.name);
                if detailed {
                    out["creator"] = json!(e.creator);
                    out["creation_timestamp"] = json!(e.created);
                    let message = match deployment {
                        "DEPLOYMENT_READY" => "Served entity is ready to receive traffic.".to_string(),
                        "DEPLOYMENT_FAILED" => e.build_error.clone().unwrap_or_else(|| "Deployment failed.".into()),
                        _ => "Building the served entity's container image.".to_string(),
                    };
                    out["state"] = json!({"deployment": deployment, "deployment_state_message": message});
                }
                out
            })
            .collect()
    }

    fn config_json(config: &Config, detailed: bool, deployment: &str) -> Value {
        let mut out = json!({
            "served_entities": Self::entities_json(config, detailed, deployment),
            "config_version": config.version,
        });
        if detailed {
            out["traffic_config"] = config.traffic.clone();
        }
        out
    }

    /// `ServingEndpoint` (list) or `ServingEndpointDetailed` (get, create, update).
    pub fn render(&self, detailed: bool, permission_level: Option<&str>) -> Value {
        let mut out = json!({
            "name": self.name,
            "id": self.id,
            "creator": self.creator,
            "creation_timestamp": self.created,
            "last_updated_timestamp": self.updated,
            "state": {
                "ready": if self.ready() { "READY" } else { "NOT_READY" },
                "config_update": self.update.as_str(),
            },
            "tags": self.tags,
            "route_optimized": false,
        });
        if let Some(task) = self.task().and_then(Task::api_name) {
            out["task"] = json!(task);
        }
        if let Some(d) = &self.description {
            out["description"] = json!(d);
        }
        if let Some(config) = &self.config {
            out["config"] = Self::config_json(config, detailed, "DEPLOYMENT_READY");
        }
        if detailed {
            // A failed update stays visible as the pending config, its entities DEPLOYMENT_FAILED.
            let shown = match (&self.pending, &self.failed) {
                (Some(p), _) => Some((p, "DEPLOYMENT_CREATING")),
                (None, Some(f)) if self.update == Update::Failed => Some((f, "DEPLOYMENT_FAILED")),
                _ => None,
            };
            if let Some((pending, deployment)) = shown {
                let mut p = Self::config_json(pending, true, deployment);
                p["start_time"] = json!(pending.start);
                out["pending_config"] = p;
            }
            if let Some(level) = permission_level {
                out["permission_level"] = json!(level);
            }
        }
        out
    }
}

/// Serving endpoints by name.
#[derive(Debug, Default)]
pub(crate) struct Serving {
    pub endpoints: BTreeMap<String, Endpoint>,
}

/// The management endpoints, to be nested under `/api/2.0/serving-endpoints`.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(handlers::list).post(handlers::create))
        .route("/{name}", get(handlers::get).delete(handlers::delete))
        .route("/{name}/config", put(handlers::update_config))
        .route("/{name}/served-models/{served}/logs", get(handlers::server_logs))
        .route("/{name}/served-models/{served}/build-logs", get(handlers::build_logs))
}

/// The query endpoint, to be nested under `/serving-endpoints`.
pub(crate) fn invocations_router() -> Router<Arc<AppState>> {
    Router::new().route("/{name}/invocations", post(handlers::invoke))
}
