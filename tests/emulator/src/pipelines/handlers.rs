//! HTTP handlers of the pipelines family: parse the request, run the operation on the workspace,
//! answer in the service's wire format (`{}` for operations that return nothing).

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State, rejection::PathRejection},
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    access::{self, MANAGE, RUN, VIEW},
    events, list, render,
    spec::Settings,
    store::{self, StartRequest},
};
use crate::{
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    identity::Caller,
    workspace::AppState,
};

type App = State<Arc<AppState>>;
type Body = ApiJson<Map<String, Value>>;

fn path<T>(path: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    path.map(|Path(p)| p).map_err(|e| ApiError::invalid_parameter(format!("Invalid path: {e}")))
}

fn flag(body: &Map<String, Value>, key: &str) -> Result<bool, ApiError> {
    match body.get(key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ApiError::invalid_parameter(format!("Invalid value for {key}: expected a boolean"))),
    }
}

pub(super) async fn create(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let settings = Settings::from_body(&body)?;
    let allow_duplicates = flag(&body, "allow_duplicate_names")?;
    let id = match body.get("id") {
        None => None,
        Some(Value::String(id)) if !id.is_empty() => Some(id.clone()),
        Some(_) => return Err(ApiError::invalid_parameter("Invalid value for id: expected a non-empty string")),
    };
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    if flag(&body, "dry_run")? {
        // Validated but not created: only the settings the pipeline would get.
        let preview = store::new_pipeline(id.as_deref().unwrap_or("dry-run"), settings, &caller.user_name, now);
        return Ok(Json(json!({ "effective_settings": render::spec(&preview) })));
    }
    let id = ws.pipelines.create(settings, id, allow_duplicates, &caller.user_name, now)?;
    let pipeline = ws.pipelines.get(&id, app.clock.moment())?;
    Ok(Json(json!({ "pipeline_id": id, "effective_settings": render::spec(pipeline) })))
}

pub(super) async fn get(
    State(app): App,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let id = path(id)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let pipeline = ws.pipelines.get(&id, app.clock.moment())?;
    access::check(&ws.acls, &caller, pipeline, VIEW)?;
    Ok(Json(render::details(pipeline)))
}

pub(super) async fn list(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let visible = ws.pipelines.all(app.clock.moment()).into_iter().filter(|p| access::can_view(&ws.acls, &caller, p));
    Ok(Json(list::pipelines(visible.collect(), &params)?))
}

pub(super) async fn edit(
    State(app): App,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    ApiJson(body): Body,
) -> ApiResult<Json<Value>> {
    let id = path(id)?;
    if let Some(other) = body.get("pipeline_id").or_else(|| body.get("id"))
        && other.as_str() != Some(id.as_str())
    {
        return Err(ApiError::invalid_parameter(format!(
            "The pipeline id in the body ({other}) does not match the one in the path ({id})."
        )));
    }
    let expected_last_modified = match body.get("expected_last_modified") {
        None => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            ApiError::invalid_parameter("Invalid value for expected_last_modified: expected epoch milliseconds")
        })?),
    };
    let mut ws = app.workspace();
    let ws = &mut *ws;
    // A wrong id is reported before bad settings, so clients see the not-found error they look for.
    access::check(&ws.acls, &caller, ws.pipelines.get(&id, app.clock.moment())?, MANAGE)?;
    let settings = Settings::from_body(&body)?;
    let allow_duplicates = flag(&body, "allow_duplicate_names")?;
    ws.pipelines.edit(
        &id,
        settings,
        allow_duplicates,
        expected_last_modified,
        &caller.user_name,
        app.clock.moment(),
    )?;
    Ok(Json(json!({})))
}

pub(super) async fn delete(
    State(app): App,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let id = path(id)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    access::check(&ws.acls, &caller, ws.pipelines.get(&id, app.clock.moment())?, MANAGE)?;
    ws.pipelines.remove(&id)?;
    ws.acls.forget(&access::PIPELINE, &id);
    Ok(Json(json!({})))
}

/// The `start_update` body; fields the emulator does not act on are accepted and ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct StartBody {
    cause: Option<String>,
    full_refresh: Option<bool>,
    refresh_selection: Option<Vec<String>>,
    full_refresh_selection: Option<Vec<String>>,
    validate_only: Option<bool>,
}

pub(super) async fn start_update(
    State(app): App,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<StartBody>,
) -> ApiResult<Json<Value>> {
    let id = path(id)?;
    let request = StartRequest {
        cause: body.cause,
        full_refresh: body.full_refresh.unwrap_or(false),
        refresh_selection: body.refresh_selection.unwrap_or_default(),
        full_refresh_selection: body.full_refresh_selection.unwrap_or_default(),
        validate_only: body.validate_only.unwrap_or(false),
    };
    let mut ws = app.workspace();
    let ws = &mut *ws;
    access::check(&ws.acls, &caller, ws.pipelines.get(&id, app.clock.moment())?, RUN)?;
    let update_id = ws.pipelines.start_update(&id, request, app.clock.moment())?;
    Ok(Json(json!({ "update_id": update_id })))
}

pub(super) async fn stop(
    State(app): App,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let id = path(id)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    access::check(&ws.acls, &caller, ws.pipelines.get(&id, app.clock.moment())?, RUN)?;
    ws.pipelines.stop(&id, &caller.user_name, app.clock.moment())?;
    Ok(Json(json!({})))
}

pub(super) async fn list_updates(
    State(app): App,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let id = path(id)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let pipeline = ws.pipelines.get(&id, app.clock.moment())?;
    access::check(&ws.acls, &caller, pipeline, VIEW)?;
    Ok(Json(list::updates(pipeline, &params)?))
}

pub(super) async fn get_update(
    State(app): App,
    caller: Caller,
    ids: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let (id, update_id) = path(ids)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let pipeline = ws.pipelines.get(&id, app.clock.moment())?;
    access::check(&ws.acls, &caller, pipeline, VIEW)?;
    let update = pipeline.update(&update_id).ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "RESOURCE_DOES_NOT_EXIST",
            format!("The specified update {update_id} was not found in pipeline {id}."),
        )
    })?;
    Ok(Json(json!({ "update": render::update(&id, update) })))
}

pub(super) async fn list_events(
    State(app): App,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let id = path(id)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let pipeline = ws.pipelines.get(&id, app.clock.moment())?;
    access::check(&ws.acls, &caller, pipeline, VIEW)?;
    Ok(Json(events::query(&pipeline.events, &params)?))
}
