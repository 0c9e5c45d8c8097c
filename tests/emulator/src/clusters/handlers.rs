//! HTTP handlers of the clusters family: parse the request, check the caller's permission on the
//! cluster, run the operation as the caller, answer in the service's wire format (`{}` for
//! operations that return nothing).
//!
//! Permissions: `get`, `list`, `events` need `CAN_ATTACH_TO`; `start`, `restart` need
//! `CAN_RESTART`; every other change needs `CAN_MANAGE`; `change-owner` is for admins. A missing
//! cluster is reported before a missing permission, as the SDKs expect.

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
    acl::CLUSTER,
    clock::Moment,
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    identity::Caller,
    workspace::{AppState, Workspace},
};

const ATTACH: &str = "CAN_ATTACH_TO";
const RESTART: &str = "CAN_RESTART";
const MANAGE: &str = "CAN_MANAGE";

/// `Ok` if the cluster exists and the caller holds `level` on it.
fn authorize(ws: &mut Workspace, caller: &Caller, id: &str, level: &str, at: Moment) -> ApiResult<()> {
    let owner = ws.clusters.get(id, at)?.creator.clone();
    ws.acls.check(&CLUSTER, id, caller, Some(&owner), level)
}

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

pub(super) async fn create(State(app): App, caller: Caller, ApiJson(mut body): Body) -> ApiResult<Json<Value>> {
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let at = app.clock.moment();
    // `clone_from` starts from another cluster's attributes; the request's own fields win.
    if let Some(source) = body.get("clone_from").and_then(|c| c.get("source_cluster_id")).and_then(Value::as_str) {
        authorize(ws, &caller, source, ATTACH, at)?;
        let mut attributes = ws.clusters.get(source, at)?.spec.to_json();
        attributes.append(&mut body);
        body = attributes;
    }
    let spec = ClusterSpec::from_body(&body)?;
    spec.validate()?;
    let id = ws.clusters.create(spec, &caller.user_name, "API", at);
    Ok(Json(json!({ "cluster_id": id })))
}

pub(super) async fn edit(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let id = required_id(body.get("cluster_id").and_then(Value::as_str).map(str::to_owned))?;
    let spec = ClusterSpec::from_body(&body)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    // A wrong id is reported before a bad spec, so clients see the not-found error they look for.
    authorize(ws, &caller, &id, MANAGE, app.clock.moment())?;
    spec.validate()?;
    ws.clusters.edit(&id, spec, &caller.user_name, app.clock.moment())?;
    done()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct UpdateBody {
    cluster_id: Option<String>,
    update_mask: Option<String>,
    cluster: Map<String, Value>,
}

pub(super) async fn update(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Json<Value>> {
    let id = required_id(body.cluster_id)?;
    let mask = body.update_mask.ok_or_else(|| ApiError::missing_field("update_mask"))?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    authorize(ws, &caller, &id, MANAGE, app.clock.moment())?;
    ws.clusters.update(&id, &mask, &body.cluster, &caller.user_name, app.clock.moment())?;
    done()
}

pub(super) async fn get(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let id = params.required("cluster_id")?;
    let mut ws = app.workspace();
    authorize(&mut ws, &caller, id, ATTACH, app.clock.moment())?;
    Ok(Json(ws.clusters.get(id, app.clock.moment())?.details()))
}

pub(super) async fn list_v21(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let query = ListQuery::parse(&params)?;
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let visible = visible(ws, &caller, at);
    Ok(Json(list::page_v21(visible, &query, at.now)))
}

pub(super) async fn list_v20(State(app): App, caller: Caller) -> ApiResult<Json<Value>> {
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let visible = visible(ws, &caller, at);
    Ok(Json(list::all_v20(visible, at.now)))
}

/// The clusters the caller may attach to: what `list` shows.
fn visible<'a>(ws: &'a mut Workspace, caller: &Caller, at: Moment) -> Vec<&'a super::model::Cluster> {
    let acls = &ws.acls;
    ws.clusters.all(at).into_iter().filter(|c| acls.allows(&CLUSTER, &c.id, caller, Some(&c.creator), ATTACH)).collect()
}

pub(super) async fn start(State(app): App, caller: Caller, ApiJson(body): ApiJson<IdBody>) -> ApiResult<Json<Value>> {
    let id = required_id(body.cluster_id)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    authorize(ws, &caller, &id, RESTART, app.clock.moment())?;
    ws.clusters.start(&id, &caller.user_name, app.clock.moment())?;
    done()
}

pub(super) async fn restart(State(app): App, caller: Caller, ApiJson(body): ApiJson<IdBody>) -> ApiResult<Json<Value>> {
    let id = required_id(body.cluster_id)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    authorize(ws, &caller, &id, RESTART, app.clock.moment())?;
    ws.clusters.restart(&id, &caller.user_name, app.clock.moment())?;
    done()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ResizeBody {
    cluster_id: Option<String>,
    num_workers: Option<u32>,
    autoscale: Option<AutoScale>,
}

pub(super) async fn resize(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<ResizeBody>,
) -> ApiResult<Json<Value>> {
    let id = required_id(body.cluster_id)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    authorize(ws, &caller, &id, MANAGE, app.clock.moment())?;
    ws.clusters.resize(&id, body.num_workers, body.autoscale, &caller.user_name, app.clock.moment())?;
    done()
}

pub(super) async fn delete(State(app): App, caller: Caller, ApiJson(body): ApiJson<IdBody>) -> ApiResult<Json<Value>> {
    let id = required_id(body.cluster_id)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    authorize(ws, &caller, &id, MANAGE, app.clock.moment())?;
    let reason = TerminationReason::user_request(&caller.user_name);
    ws.clusters.terminate(&id, reason, Some(&caller.user_name), app.clock.moment())?;
    done()
}

pub(super) async fn permanent_delete(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<IdBody>,
) -> ApiResult<Json<Value>> {
    let id = required_id(body.cluster_id)?;
    let mut ws = app.workspace();
    authorize(&mut ws, &caller, &id, MANAGE, app.clock.moment())?;
    ws.clusters.remove(&id)?;
    ws.acls.forget(&CLUSTER, &id);
    done()
}

pub(super) async fn pin(State(app): App, caller: Caller, ApiJson(body): ApiJson<IdBody>) -> ApiResult<Json<Value>> {
    set_pinned(&app, &caller, body, true)
}

pub(super) async fn unpin(State(app): App, caller: Caller, ApiJson(body): ApiJson<IdBody>) -> ApiResult<Json<Value>> {
    set_pinned(&app, &caller, body, false)
}

fn set_pinned(app: &AppState, caller: &Caller, body: IdBody, pinned: bool) -> ApiResult<Json<Value>> {
    let id = required_id(body.cluster_id)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    authorize(ws, caller, &id, MANAGE, app.clock.moment())?;
    ws.clusters.set_pinned(&id, pinned, &caller.user_name, app.clock.moment())?;
    done()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ChangeOwnerBody {
    cluster_id: Option<String>,
    owner_username: Option<String>,
}

pub(super) async fn change_owner(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<ChangeOwnerBody>,
) -> ApiResult<Json<Value>> {
    let id = required_id(body.cluster_id)?;
    let owner =
        body.owner_username.filter(|o| !o.is_empty()).ok_or_else(|| ApiError::missing_field("owner_username"))?;
    let mut ws = app.workspace();
    authorize(&mut ws, &caller, &id, ATTACH, app.clock.moment())?;
    if !caller.is_admin {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            format!("Only workspace admins can change the owner of cluster {id}"),
        ));
    }
    ws.clusters.change_owner(&id, &owner, app.clock.moment())?;
    done()
}

pub(super) async fn events(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let request: EventsRequest = serde_json::from_value(Value::Object(body.clone()))
        .map_err(|e| ApiError::invalid_parameter(format!("Invalid request: {e}")))?;
    let id = required_id(request.cluster_id.clone())?;
    let mut ws = app.workspace();
    authorize(&mut ws, &caller, &id, ATTACH, app.clock.moment())?;
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
