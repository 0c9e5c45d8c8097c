//! HTTP handlers of the clusters family: parse the request, run the operation on the workspace,
//! answer in the service's wire format (`{}` for operations that return nothing).

use std::sync::Arc;

use axum::{Json, extract::State};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    catalog,
    events::{self, EventsRequest},
    list::{self, ListQuery},
    model::TerminationReason,
    spec::{AutoScale, ClusterSpec},
};
use crate::{
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    workspace::AppState,
};

type App = State<Arc<AppState>>;
type Body = ApiJson<Map<String, Value>>;

fn done() -> ApiResult<Json<Value>> {
    Ok(Json(json!({})))
}

fn required_id(id: Option<String>) -> Result<String, ApiError> {
    id.filter(|id| !id.is_empty()).ok_or_else(|| ApiError::missing_field("cluster_id"))
}

/// Bodies that carry only a cluster id (`start`, `delete`, `pin`, ...); other fields are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct IdBody {
    cluster_id: Option<String>,
}

pub(super) async fn create(State(app): App, ApiJson(mut body): Body) -> ApiResult<Json<Value>> {
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let at = app.clock.moment();
    // `clone_from` starts from another cluster's attributes; the request's own fields win.
    if let Some(source) = body.get("clone_from").and_then(|c| c.get("source_cluster_id")).and_then(Value::as_str) {
        let mut attributes = ws.clusters.get(source, at)?.spec.to_json();
        attributes.append(&mut body);
        body = attributes;
    }
    let spec = ClusterSpec::from_body(&body)?;
    spec.validate()?;
    let id = ws.clusters.create(spec, &ws.current_user, "API", at);
    Ok(Json(json!({ "cluster_id": id })))
}

pub(super) async fn edit(State(app): App, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let id = required_id(body.get("cluster_id").and_then(Value::as_str).map(str::to_owned))?;
    let spec = ClusterSpec::from_body(&body)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    // A wrong id is reported before a bad spec, so clients see the not-found error they look for.
    ws.clusters.get(&id, app.clock.moment())?;
    spec.validate()?;
    ws.clusters.edit(&id, spec, &ws.current_user, app.clock.moment())?;
    done()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct UpdateBody {
    cluster_id: Option<String>,
    update_mask: Option<String>,
    cluster: Map<String, Value>,
}

pub(super) async fn update(State(app): App, ApiJson(body): ApiJson<UpdateBody>) -> ApiResult<Json<Value>> {
    let id = required_id(body.cluster_id)?;
    let mask = body.update_mask.ok_or_else(|| ApiError::missing_field("update_mask"))?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    ws.clusters.update(&id, &mask, &body.cluster, &ws.current_user, app.clock.moment())?;
    done()
}

pub(super) async fn get(State(app): App, params: Params) -> ApiResult<Json<Value>> {
    let id = params.required("cluster_id")?;
    let mut ws = app.workspace();
    Ok(Json(ws.clusters.get(id, app.clock.moment())?.details()))
}

pub(super) async fn list_v21(State(app): App, params: Params) -> ApiResult<Json<Value>> {
    let query = ListQuery::parse(&params)?;
    let at = app.clock.moment();
    let mut ws = app.workspace();
    Ok(Json(list::page_v21(ws.clusters.all(at), &query, at.now)))
}

pub(super) async fn list_v20(State(app): App) -> ApiResult<Json<Value>> {
    let at = app.clock.moment();
    let mut ws = app.workspace();
    Ok(Json(list::all_v20(ws.clusters.all(at), at.now)))
}

pub(super) async fn start(State(app): App, ApiJson(body): ApiJson<IdBody>) -> ApiResult<Json<Value>> {
    let id = required_id(body.cluster_id)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    ws.clusters.start(&id, &ws.current_user, app.clock.moment())?;
    done()
}

pub(super) async fn restart(State(app): App, ApiJson(body): ApiJson<IdBody>) -> ApiResult<Json<Value>> {
    let id = required_id(body.cluster_id)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    ws.clusters.restart(&id, &ws.current_user, app.clock.moment())?;
    done()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ResizeBody {
    cluster_id: Option<String>,
    num_workers: Option<u32>,
    autoscale: Option<AutoScale>,
}

pub(super) async fn resize(State(app): App, ApiJson(body): ApiJson<ResizeBody>) -> ApiResult<Json<Value>> {
    let id = required_id(body.cluster_id)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    ws.clusters.resize(&id, body.num_workers, body.autoscale, &ws.current_user, app.clock.moment())?;
    done()
}

pub(super) async fn delete(State(app): App, ApiJson(body): ApiJson<IdBody>) -> ApiResult<Json<Value>> {
    let id = required_id(body.cluster_id)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let reason = TerminationReason::user_request(&ws.current_user);
    ws.clusters.terminate(&id, reason, Some(&ws.current_user), app.clock.moment())?;
    done()
}

pub(super) async fn permanent_delete(State(app): App, ApiJson(body): ApiJson<IdBody>) -> ApiResult<Json<Value>> {
    let id = required_id(body.cluster_id)?;
    app.workspace().clusters.remove(&id)?;
    done()
}

pub(super) async fn pin(State(app): App, ApiJson(body): ApiJson<IdBody>) -> ApiResult<Json<Value>> {
    set_pinned(&app, body, true)
}

pub(super) async fn unpin(State(app): App, ApiJson(body): ApiJson<IdBody>) -> ApiResult<Json<Value>> {
    set_pinned(&app, body, false)
}

fn set_pinned(app: &AppState, body: IdBody, pinned: bool) -> ApiResult<Json<Value>> {
    let id = required_id(body.cluster_id)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    ws.clusters.set_pinned(&id, pinned, &ws.current_user, app.clock.moment())?;
    done()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ChangeOwnerBody {
    cluster_id: Option<String>,
    owner_username: Option<String>,
}

pub(super) async fn change_owner(State(app): App, ApiJson(body): ApiJson<ChangeOwnerBody>) -> ApiResult<Json<Value>> {
    let id = required_id(body.cluster_id)?;
    let owner =
        body.owner_username.filter(|o| !o.is_empty()).ok_or_else(|| ApiError::missing_field("owner_username"))?;
    app.workspace().clusters.change_owner(&id, &owner, app.clock.moment())?;
    done()
}

pub(super) async fn events(State(app): App, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let request: EventsRequest = serde_json::from_value(Value::Object(body.clone()))
        .map_err(|e| ApiError::invalid_parameter(format!("Invalid request: {e}")))?;
    let id = required_id(request.cluster_id.clone())?;
    let mut ws = app.workspace();
    let cluster = ws.clusters.get(&id, app.clock.moment())?;
    Ok(Json(events::query(&id, &cluster.events, &request, &body)?))
}

pub(super) async fn spark_versions() -> Json<Value> {
    Json(catalog::spark_versions_json())
}

pub(super) async fn list_node_types() -> Json<Value> {
    Json(catalog::node_types_json())
}

pub(super) async fn list_zones() -> Json<Value> {
    Json(catalog::zones_json())
}
