//! MLflow tracking (`/api/2.0/mlflow/...`): experiments, runs (metrics, params, tags) and metric
//! histories, as the Databricks-hosted MLflow serves them.
//!
//! Experiment names are absolute workspace paths (`/Users/<you>/name`); ids are numeric strings.
//! Searches are POSTs with `max_results` and `page_token` in the body; metric history pages with
//! query parameters. Filters and order-by follow MLflow's grammar (the subset in `filter`).
//! Deleting an experiment marks it (and its runs) `deleted`: searches then need
//! `view_type: DELETED_ONLY` or `ALL`, and the name stays taken.
//!
//! Permissions (`CAN_READ` < `CAN_EDIT` < `CAN_MANAGE`): the creator manages; admins hold all;
//! searches show what the caller can read; deleting takes `CAN_MANAGE`. Errors: a missing
//! experiment or run is 404 `RESOURCE_DOES_NOT_EXIST`, a taken name 400 `RESOURCE_ALREADY_EXISTS`,
//! a bad name or filter 400 `INVALID_PARAMETER_VALUE`. The seed is described in `seed`.

pub(crate) mod filter;
mod handlers;
pub(crate) mod seed;

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Router,
    routing::{get, post},
};
use serde_json::{Value, json};

use crate::{acl::ObjectKind, workspace::AppState};

/// Experiments: read, edit, manage.
pub(crate) const EXPERIMENT: ObjectKind = ObjectKind {
    api_name: "experiments",
    object_type: "mlflowExperiment",
    levels: &[
        ("CAN_READ", "Can read the experiment", "Read"),
        ("CAN_EDIT", "Can edit the experiment", "Edit"),
        ("CAN_MANAGE", "Can manage the experiment", "Manage"),
    ],
};

#[derive(Debug, Clone)]
pub(crate) struct Experiment {
    pub id: String,
    pub name: String,
    pub artifact_location: String,
    pub deleted: bool,
    pub created: u64,
    pub updated: u64,
    pub creator: String,
    pub tags: BTreeMap<String, String>,
}

impl Experiment {
    pub fn render(&self) -> Value {
        let mut tags: Vec<Value> = self.tags.iter().map(|(k, v)| json!({"key": k, "value": v})).collect();
        tags.push(json!({"key": "mlflow.ownerEmail", "value": self.creator}));
        json!({
            "experiment_id": self.id,
            "name": self.name,
            "artifact_location": self.artifact_location,
            "lifecycle_stage": if self.deleted { "deleted" } else { "active" },
            "creation_time": self.created,
            "last_update_time": self.updated,
            "tags": tags,
        })
    }
}

/// One logged value of a metric.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Point {
    pub value: f64,
    pub timestamp: u64,
    pub step: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub id: String,
    pub experiment_id: String,
    pub name: String,
    pub user: String,
    /// `RUNNING`, `SCHEDULED`, `FINISHED`, `FAILED` or `KILLED`.
    pub status: &'static str,
    pub start: u64,
    pub end: Option<u64>,
    pub deleted: bool,
    /// Each metric's full history, in logging order.
    pub metrics: BTreeMap<String, Vec<Point>>,
    pub params: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

impl Run {
    /// The latest value of each metric, as runs report them.
    pub fn latest(&self, key: &str) -> Option<Point> {
        self.metrics.get(key).and_then(|h| h.last().copied())
    }

    pub fn render(&self, artifact_root: &str) -> Value {
        let kv =
            |m: &BTreeMap<String, String>| m.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>();
        let metrics: Vec<Value> = self
            .metrics
            .keys()
            .filter_map(|k| {
                self.latest(k).map(|p| json!({"key": k, "value": p.value, "timestamp": p.timestamp, "step": p.step}))
            })
            .collect();
        let mut tags = kv(&self.tags);
        tags.push(json!({"key": "mlflow.runName", "value": self.name}));
        tags.push(json!({"key": "mlflow.user", "value": self.user}));
        let mut info = json!({
            "run_id": self.id,
            "run_uuid": self.id,
            "run_name": self.name,
            "experiment_id": self.experiment_id,
            "user_id": self.user,
            "status": self.status,
            "start_time": self.start,
            "artifact_uri": format!("{artifact_root}/{}/artifacts", self.id),
            "lifecycle_stage": if self.deleted { "deleted" } else { "active" },
        });
        if let Some(end) = self.end {
            info["end_time"] = json!(end);
        }
        json!({
            "info": info,
            "data": {"metrics": metrics, "params": kv(&self.params), "tags": tags},
            "inputs": {},
        })
    }
}

/// Experiments by id, runs by id.
#[derive(Debug, Default)]
pub(crate) struct Mlflow {
    pub experiments: BTreeMap<String, Experiment>,
    pub runs: BTreeMap<String, Run>,
    /// The next experiment id to hand out.
    pub next_id: u64,
}

/// The endpoints, to be nested under `/api/2.0/mlflow`.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/experiments/search", post(handlers::search_experiments))
        .route("/experiments/get", get(handlers::get_experiment))
        .route("/experiments/get-by-name", get(handlers::get_experiment_by_name))
        .route("/experiments/create", post(handlers::create_experiment))
        .route("/experiments/delete", post(handlers::delete_experiment))
        .route("/runs/search", post(handlers::search_runs))
        .route("/runs/get", get(handlers::get_run))
        .route("/metrics/get-history", get(handlers::metric_history))
}
