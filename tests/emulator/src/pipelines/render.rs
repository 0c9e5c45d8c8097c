//! Pipelines and updates as the service shows them: `GetPipelineResponse`, `PipelineStateInfo`
//! (list entries), `UpdateInfo` and `UpdateStateInfo`.

use serde_json::{Map, Value, json};

use super::{
    events::rfc3339,
    model::{Pipeline, Update},
};

/// How many recent updates `latest_updates` shows.
const LATEST_UPDATES: usize = 5;

/// The settings with the pipeline's `id`, as `spec` and `effective_settings` show them.
pub(crate) fn spec(pipeline: &Pipeline) -> Value {
    let mut spec = Map::new();
    spec.insert("id".into(), json!(pipeline.id));
    spec.extend(pipeline.spec.clone());
    Value::Object(spec)
}

/// `UpdateStateInfo`: newest first. Its `creation_time` is an RFC 3339 string, unlike `UpdateInfo`'s.
fn latest_updates(pipeline: &Pipeline) -> Option<Value> {
    if pipeline.updates.is_empty() {
        return None;
    }
    let latest = pipeline
        .updates
        .iter()
        .rev()
        .take(LATEST_UPDATES)
        .map(|u| json!({"update_id": u.id, "state": u.state.as_str(), "creation_time": rfc3339(u.creation_time)}));
    Some(Value::Array(latest.collect()))
}

/// The fields `get` and `list` share.
fn common(pipeline: &Pipeline) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("pipeline_id".into(), json!(pipeline.id));
    out.insert("name".into(), json!(pipeline.spec_name()));
    out.insert("state".into(), json!(pipeline.state.as_str()));
    out.insert("health".into(), json!(pipeline.health()));
    out.insert("creator_user_name".into(), json!(pipeline.creator));
    out.insert("run_as_user_name".into(), json!(pipeline.run_as));
    if let Some(cluster_id) = &pipeline.cluster_id {
        out.insert("cluster_id".into(), json!(cluster_id));
    }
    if let Some(latest) = latest_updates(pipeline) {
        out.insert("latest_updates".into(), latest);
    }
    out
}

/// `GET /pipelines/{id}`.
pub(crate) fn details(pipeline: &Pipeline) -> Value {
    let mut out = common(pipeline);
    out.insert("spec".into(), spec(pipeline));
    out.insert("last_modified".into(), json!(pipeline.last_modified));
    if pipeline.spec.contains_key("catalog") {
        out.insert("effective_publishing_mode".into(), json!("DEFAULT_PUBLISHING_MODE"));
    }
    Value::Object(out)
}

/// A `statuses` entry of `GET /pipelines`.
pub(crate) fn status(pipeline: &Pipeline) -> Value {
    Value::Object(common(pipeline))
}

/// `UpdateInfo`.
pub(crate) fn update(pipeline_id: &str, update: &Update) -> Value {
    let mut out = json!({
        "pipeline_id": pipeline_id,
        "update_id": update.id,
        "state": update.state.as_str(),
        "cause": update.cause,
        "creation_time": update.creation_time,
        "full_refresh": update.full_refresh,
        "validate_only": update.validate_only,
        "config": Value::Object(update.config.clone()),
    });
    if let Some(cluster_id) = &update.cluster_id {
        out["cluster_id"] = json!(cluster_id);
    }
    if !update.refresh_selection.is_empty() {
        out["refresh_selection"] = json!(update.refresh_selection);
    }
    if !update.full_refresh_selection.is_empty() {
        out["full_refresh_selection"] = json!(update.full_refresh_selection);
    }
    out
}
