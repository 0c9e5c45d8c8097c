//! HTTP handlers of the Libraries API: parse, check the caller's permission on the cluster, act,
//! answer (`{}` for install and uninstall).

use std::sync::Arc;

use axum::{Json, extract::State};
use serde_json::{Map, Value, json};

use super::library::Library;
use crate::{
    acl::CLUSTER,
    clusters::{self, Runtime},
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    identity::Caller,
    workspace::{AppState, Workspace},
};

type App = State<Arc<AppState>>;
type Body = ApiJson<Map<String, Value>>;

/// The cluster's runtime, if it exists and the caller holds `level` on it.
fn authorize(ws: &mut Workspace, app: &AppState, caller: &Caller, id: &str, level: &str) -> ApiResult<Runtime> {
    let cluster = clusters::runtime(&mut ws.clusters, id, app.clock.moment())?;
    ws.acls.check(&CLUSTER, id, caller, Some(&cluster.owner), level)?;
    Ok(cluster)
}

fn cluster_id(body: &Map<String, Value>) -> ApiResult<&str> {
    match body.get("cluster_id") {
        Some(Value::String(id)) if !id.is_empty() => Ok(id),
        None | Some(Value::String(_)) => Err(ApiError::missing_field("cluster_id")),
        Some(_) => Err(ApiError::invalid_parameter("cluster_id must be a string")),
    }
}

pub(super) async fn install(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let id = cluster_id(&body)?;
    let libraries = Library::parse_all(&body)?;
    let mut ws = app.workspace();
    authorize(&mut ws, &app, &caller, id, "CAN_MANAGE")?;
    ws.libraries.install(id, libraries, app.clock.now_ms());
    Ok(Json(json!({})))
}

pub(super) async fn uninstall(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let id = cluster_id(&body)?;
    let libraries = Library::parse_all(&body)?;
    let mut ws = app.workspace();
    let cluster = authorize(&mut ws, &app, &caller, id, "CAN_MANAGE")?;
    ws.libraries.uninstall(id, &libraries, &cluster);
    Ok(Json(json!({})))
}

pub(super) async fn cluster_status(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let id = params.required("cluster_id")?;
    let mut ws = app.workspace();
    let cluster = authorize(&mut ws, &app, &caller, id, "CAN_ATTACH_TO")?;
    Ok(Json(ws.libraries.cluster_statuses(id, &cluster, app.clock.moment())))
}

pub(super) async fn all_cluster_statuses(State(app): App, caller: Caller) -> ApiResult<Json<Value>> {
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let at = app.clock.moment();
    let statuses: Vec<Value> = clusters::runtimes(&mut ws.clusters, at)
        .into_iter()
        .filter(|(id, c)| ws.acls.allows(&CLUSTER, id, &caller, Some(&c.owner), "CAN_ATTACH_TO"))
        .map(|(id, c)| ws.libraries.cluster_statuses(&id, &c, at))
        .filter(|s| s.get("library_statuses").is_some())
        .collect();
    if statuses.is_empty() {
        return Ok(Json(json!({})));
    }
    Ok(Json(json!({ "statuses": statuses })))
}
