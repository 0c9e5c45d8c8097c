//! HTTP handlers of MLflow tracking: experiments, runs and metric histories.

use std::{cmp::Ordering, sync::Arc};

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    EXPERIMENT, Experiment, Run,
    filter::{self, Key, Literal},
};
use crate::{
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    identity::Caller,
    pagination::{decode_token, page},
    workspace::{AppState, Workspace},
};

type App = State<Arc<AppState>>;

/// The most a search returns per page, and its default.
const MAX_RESULTS: usize = 1000;

fn experiment_not_found(id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", format!("Node ID {id} does not exist."))
}

fn run_not_found(id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", format!("Run '{id}' not found."))
}

fn can(ws: &Workspace, e: &Experiment, caller: &Caller, level: &str) -> bool {
    ws.acls.allows(&EXPERIMENT, &e.id, caller, Some(&e.creator), level)
}

/// The experiment if the caller may `level` it; one they cannot read does not exist to them.
fn experiment<'a>(ws: &'a Workspace, id: &str, caller: &Caller, level: &str) -> ApiResult<&'a Experiment> {
    let e = ws
        .mlflow
        .experiments
        .get(id)
        .filter(|e| can(ws, e, caller, "CAN_READ"))
        .ok_or_else(|| experiment_not_found(id))?;
    ws.acls.check(&EXPERIMENT, id, caller, Some(&e.creator), level)?;
    Ok(e)
}

/// `ACTIVE_ONLY` (default), `DELETED_ONLY` or `ALL`: whether an object with `deleted` is shown.
fn view(value: Option<&str>, deleted: bool) -> ApiResult<bool> {
    Ok(match value.unwrap_or("ACTIVE_ONLY") {
        "ACTIVE_ONLY" => !deleted,
        "DELETED_ONLY" => deleted,
        "ALL" => true,
        other => {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid view type '{other}': expected ACTIVE_ONLY, DELETED_ONLY or ALL"
            )));
        }
    })
}

fn page_size(max: Option<i64>) -> ApiResult<usize> {
    match max {
        None => Ok(MAX_RESULTS),
        Some(n) if n < 1 || n as usize > 50_000 => {
            Err(ApiError::invalid_parameter(format!("Invalid value {n} for parameter 'max_results' supplied.")))
        }
        Some(n) => Ok((n as usize).min(MAX_RESULTS)),
    }
}

fn paged(items: Vec<Value>, key: &str, max: Option<i64>, token: Option<&str>) -> ApiResult<Json<Value>> {
    let cut = page(items, decode_token(token.unwrap_or_default())?, page_size(max)?);
    let mut out = Map::new();
    if !cut.items.is_empty() {
        out.insert(key.into(), Value::Array(cut.items));
    }
    if let Some(t) = cut.next_page_token {
        out.insert("next_page_token".into(), json!(t));
    }
    Ok(Json(Value::Object(out)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SearchExperiments {
    max_results: Option<i64>,
    page_token: Option<String>,
    filter: Option<String>,
    order_by: Vec<String>,
    view_type: Option<String>,
}

fn experiment_value(e: &Experiment, key: &Key) -> Option<Literal> {
    match key {
        Key::Attribute(a) => match a.as_str() {
            "name" => Some(Literal::Text(e.name.clone())),
            "creation_time" => Some(Literal::Number(e.created as f64)),
            "last_update_time" => Some(Literal::Number(e.updated as f64)),
            "experiment_id" => Some(Literal::Text(e.id.clone())),
            _ => None,
        },
        Key::Tag(t) => e.tags.get(t).map(|v| Literal::Text(v.clone())),
        _ => None,
    }
}

fn cmp_literals(a: Option<Literal>, b: Option<Literal>) -> Ordering {
    match (a, b) {
        (Some(Literal::Number(x)), Some(Literal::Number(y))) => x.total_cmp(&y),
        (Some(Literal::Text(x)), Some(Literal::Text(y))) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

pub(super) async fn search_experiments(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<SearchExperiments>,
) -> ApiResult<Json<Value>> {
    let clauses = filter::parse(body.filter.as_deref().unwrap_or(""))?;
    for c in &clauses {
        if matches!(c.key, Key::Metric(_) | Key::Param(_)) {
            return Err(ApiError::invalid_parameter(
                "Experiments can be filtered by name, creation_time, last_update_time and tags only.",
            ));
        }
    }
    let orders = body.order_by.iter().map(|o| filter::parse_order(o)).collect::<ApiResult<Vec<_>>>()?;
    let ws = app.workspace();
    let mut found: Vec<&Experiment> = Vec::new();
    for e in ws.mlflow.experiments.values() {
        if view(body.view_type.as_deref(), e.deleted)?
            && can(&ws, e, &caller, "CAN_READ")
            && clauses.iter().all(|c| filter::matches(c, experiment_value(e, &c.key).as_ref()))
        {
            found.push(e);
        }
    }
    found.sort_by(|a, b| {
        for (key, desc) in &orders {
            let o = cmp_literals(experiment_value(a, key), experiment_value(b, key));
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        b.updated.cmp(&a.updated).then_with(|| b.id.cmp(&a.id))
    });
    paged(
        found.into_iter().map(Experiment::render).collect(),
        "experiments",
        body.max_results,
        body.page_token.as_deref(),
    )
}

pub(super) async fn get_experiment(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let id = params.required("experiment_id")?;
    let ws = app.workspace();
    Ok(Json(json!({ "experiment": experiment(&ws, id, &caller, "CAN_READ")?.render() })))
}

pub(super) async fn get_experiment_by_name(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let name = params.required("experiment_name")?;
    let ws = app.workspace();
    let e = ws.mlflow.experiments.values().find(|e| e.name == name && can(&ws, e, &caller, "CAN_READ")).ok_or_else(
        || {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "RESOURCE_DOES_NOT_EXIST",
                format!("Could not find experiment with name '{name}'"),
            )
        },
    )?;
    Ok(Json(json!({ "experiment": e.render() })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CreateExperiment {
    name: Option<String>,
    artifact_location: Option<String>,
    tags: Vec<Value>,
}

pub(super) async fn create_experiment(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<CreateExperiment>,
) -> ApiResult<Json<Value>> {
    let name = body.name.filter(|n| !n.is_empty()).ok_or_else(|| ApiError::missing_field("name"))?;
    if !name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return Err(ApiError::invalid_parameter(format!(
            "Got an invalid experiment name '{name}'. An experiment name must be an absolute path within the Databricks workspace, e.g. '/Users/<some-username>/my-experiment'."
        )));
    }
    let mut tags = std::collections::BTreeMap::new();
    for t in &body.tags {
        let key = t["key"].as_str().filter(|k| !k.is_empty()).ok_or_else(|| ApiError::missing_field("tags.key"))?;
        tags.insert(key.to_owned(), t["value"].as_str().unwrap_or_default().to_owned());
    }
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    if let Some(e) = ws.mlflow.experiments.values().find(|e| e.name == name) {
        let deleted =
            if e.deleted { " in deleted state. You can restore the experiment, or permanently delete it" } else { "" };
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "RESOURCE_ALREADY_EXISTS",
            format!("Experiment '{name}' already exists{deleted}."),
        ));
    }
    ws.mlflow.next_id += 1;
    let id = ws.mlflow.next_id.to_string();
    let artifact_location = body
        .artifact_location
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| format!("dbfs:/databricks/mlflow-tracking/{id}"));
    ws.mlflow.experiments.insert(
        id.clone(),
        Experiment {
            id: id.clone(),
            name,
            artifact_location,
            deleted: false,
            created: now,
            updated: now,
            creator: caller.user_name.clone(),
            tags,
        },
    );
    Ok(Json(json!({ "experiment_id": id })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ExperimentId {
    experiment_id: Option<String>,
}

pub(super) async fn delete_experiment(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<ExperimentId>,
) -> ApiResult<Json<Value>> {
    let id = body.experiment_id.filter(|i| !i.is_empty()).ok_or_else(|| ApiError::missing_field("experiment_id"))?;
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    experiment(&ws, &id, &caller, "CAN_MANAGE")?;
    if ws.mlflow.experiments.get(&id).is_some_and(|e| e.deleted) {
        return Err(ApiError::invalid_state(format!("Cannot delete an already deleted experiment: {id}")));
    }
    if let Some(e) = ws.mlflow.experiments.get_mut(&id) {
        e.deleted = true;
        e.updated = now;
    }
    for run in ws.mlflow.runs.values_mut().filter(|r| r.experiment_id == id) {
        run.deleted = true;
    }
    Ok(Json(json!({})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SearchRuns {
    experiment_ids: Vec<String>,
    filter: Option<String>,
    run_view_type: Option<String>,
    max_results: Option<i64>,
    order_by: Vec<String>,
    page_token: Option<String>,
}

fn run_value(r: &Run, key: &Key) -> Option<Literal> {
    match key {
        Key::Metric(m) => r.latest(m).map(|p| Literal::Number(p.value)),
        Key::Param(p) => r.params.get(p).map(|v| Literal::Text(v.clone())),
        Key::Tag(t) if t == "mlflow.runName" => Some(Literal::Text(r.name.clone())),
        Key::Tag(t) => r.tags.get(t).map(|v| Literal::Text(v.clone())),
        Key::Attribute(a) => match a.as_str() {
            "status" => Some(Literal::Text(r.status.into())),
            "run_name" | "runName" => Some(Literal::Text(r.name.clone())),
            "start_time" => Some(Literal::Number(r.start as f64)),
            "end_time" => r.end.map(|e| Literal::Number(e as f64)),
            "run_id" => Some(Literal::Text(r.id.clone())),
            "user_id" => Some(Literal::Text(r.user.clone())),
            _ => None,
        },
    }
}

pub(super) async fn search_runs(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<SearchRuns>,
) -> ApiResult<Json<Value>> {
    if body.experiment_ids.is_empty() {
        return Err(ApiError::invalid_parameter("experiment_ids must contain at least one experiment id"));
    }
    let clauses = filter::parse(body.filter.as_deref().unwrap_or(""))?;
    let orders = body.order_by.iter().map(|o| filter::parse_order(o)).collect::<ApiResult<Vec<_>>>()?;
    let ws = app.workspace();
    let mut roots = std::collections::BTreeMap::new();
    for id in &body.experiment_ids {
        roots.insert(id.clone(), experiment(&ws, id, &caller, "CAN_READ")?.artifact_location.clone());
    }
    let mut found: Vec<&Run> = Vec::new();
    for r in ws.mlflow.runs.values().filter(|r| roots.contains_key(&r.experiment_id)) {
        if view(body.run_view_type.as_deref(), r.deleted)?
            && clauses.iter().all(|c| filter::matches(c, run_value(r, &c.key).as_ref()))
        {
            found.push(r);
        }
    }
    found.sort_by(|a, b| {
        for (key, desc) in &orders {
            let o = cmp_literals(run_value(a, key), run_value(b, key));
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        b.start.cmp(&a.start).then_with(|| a.id.cmp(&b.id))
    });
    let items = found.into_iter().map(|r| r.render(&roots[&r.experiment_id])).collect();
    paged(items, "runs", body.max_results, body.page_token.as_deref())
}

/// The run if the caller may read its experiment.
fn run<'a>(ws: &'a Workspace, params: &Params, caller: &Caller) -> ApiResult<(&'a Run, &'a Experiment)> {
    let id = params
        .get("run_id")
        .or(params.get("run_uuid"))
        .filter(|i| !i.is_empty())
        .ok_or_else(|| ApiError::missing_field("run_id"))?;
    let r = ws.mlflow.runs.get(id).ok_or_else(|| run_not_found(id))?;
    let e = experiment(ws, &r.experiment_id, caller, "CAN_READ")
        .map_err(|e| if e.status == StatusCode::NOT_FOUND { run_not_found(id) } else { e })?;
    Ok((r, e))
}

pub(super) async fn get_run(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let ws = app.workspace();
    let (r, e) = run(&ws, &params, &caller)?;
    Ok(Json(json!({ "run": r.render(&e.artifact_location) })))
}

pub(super) async fn metric_history(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let key = params.required("metric_key")?.to_owned();
    let ws = app.workspace();
    let (r, _) = run(&ws, &params, &caller)?;
    let points: Vec<Value> = r
        .metrics
        .get(&key)
        .into_iter()
        .flatten()
        .map(|p| json!({"key": key, "value": p.value, "timestamp": p.timestamp, "step": p.step}))
        .collect();
    let max = params.parse::<i64>("max_results")?;
    let size = match max {
        None => 25_000,
        Some(n) if (1..=25_000).contains(&n) => n as usize,
        Some(n) => {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid value {n} for parameter 'max_results' supplied."
            )));
        }
    };
    let cut = page(points, decode_token(params.get("page_token").unwrap_or_default())?, size);
    let mut out = json!({ "metrics": cut.items });
    if let Some(t) = cut.next_page_token {
        out["next_page_token"] = json!(t);
    }
    Ok(Json(out))
}
