//! HTTP handlers of the jobs family: parse the request, check the caller's permission (see
//! `access`), run the operation, answer in the wire format. Jobs 2.2 pages the arrays inside
//! `jobs/get` and `runs/get`; 2.1 returns them whole.

use std::sync::Arc;

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, header},
};
use serde_json::{Map, Value, json};

use super::{
    ApiVersion,
    access::{self, MANAGE, MANAGE_RUN, VIEW, authorize_job, authorize_run},
    run::notebook_exit_value,
    store::{RunRequest, run_not_found},
};
use crate::{
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    identity::Caller,
    pagination::{decode_token, encode_token},
    workspace::{AppState, Workspace},
    workspace_tree::store::Kind,
};

type App = State<Arc<AppState>>;
type Body = ApiJson<Map<String, Value>>;

/// Elements per page of the arrays inside a job or run (Jobs 2.2).
const ARRAY_PAGE: usize = 100;
/// Arrays of a job's settings that Jobs 2.2 pages.
const JOB_ARRAYS: [&str; 4] = ["tasks", "job_clusters", "parameters", "environments"];
/// Arrays of a run that Jobs 2.2 pages.
const RUN_ARRAYS: [&str; 5] = ["tasks", "job_clusters", "job_parameters", "repair_history", "iterations"];

fn done() -> ApiResult<Json<Value>> {
    Ok(Json(json!({})))
}

/// The address run pages link to: the host the client called.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

/// An integer id from a JSON body; numeric strings are accepted as the service does.
fn body_id(body: &Map<String, Value>, field: &str) -> Result<i64, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Err(ApiError::missing_field(field)),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| bad_id(field, &n.to_string())),
        Some(Value::String(s)) => s.parse().map_err(|_| bad_id(field, s)),
        Some(other) => Err(bad_id(field, &other.to_string())),
    }
}

fn query_id(params: &Params, field: &str) -> Result<i64, ApiError> {
    let raw = params.required(field)?;
    raw.parse().map_err(|_| bad_id(field, raw))
}

fn bad_id(field: &str, value: &str) -> ApiError {
    ApiError::invalid_parameter(format!("Invalid value for {field}: '{value}' is not an integer"))
}

fn bool_param(params: &Params, field: &str) -> Result<bool, ApiError> {
    Ok(params.parse::<bool>(field)?.unwrap_or(false))
}

fn object(body: &Map<String, Value>, field: &str) -> Result<Option<Map<String, Value>>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map.clone())),
        Some(_) => Err(ApiError::invalid_parameter(format!("{field} must be an object"))),
    }
}

fn strings(body: &Map<String, Value>, field: &str) -> Result<Vec<String>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ApiError::invalid_parameter(format!("{field} must be an array of strings"))),
        Some(_) => Err(ApiError::invalid_parameter(format!("{field} must be an array of strings"))),
    }
}

/// Cuts the named arrays (inside `container`, or at the top level) to one page of Jobs 2.2; later
/// pages leave out the arrays already exhausted. Sets `next_page_token` only when more follow.
fn page_arrays(
    out: &mut Map<String, Value>,
    container: Option<&str>,
    arrays: &[&str],
    params: &Params,
) -> ApiResult<()> {
    let offset = decode_token(params.get("page_token").unwrap_or_default())?;
    let mut more = false;
    let target = match container {
        Some(key) => match out.get_mut(key) {
            Some(Value::Object(inner)) => inner,
            _ => return Ok(()),
        },
        None => &mut *out,
    };
    for array in arrays {
        let Some(Value::Array(items)) = target.get_mut(*array) else { continue };
        more |= items.len() > offset + ARRAY_PAGE;
        let page: Vec<Value> = items.drain(..).skip(offset).take(ARRAY_PAGE).collect();
        if page.is_empty() && offset > 0 {
            target.remove(*array);
        } else {
            *items = page;
        }
    }
    if more {
        out.insert("has_more".into(), json!(true));
        out.insert("next_page_token".into(), json!(encode_token(offset + ARRAY_PAGE)));
    }
    Ok(())
}

/// Gives a new run's notebook tasks the exit values of their notebooks in the workspace tree.
fn script_notebooks(ws: &mut Workspace, run_id: i64) {
    let tree = &ws.workspace_tree;
    ws.jobs.script_notebooks(run_id, |path| {
        let object = tree.get(path).ok().filter(|o| o.kind == Kind::Notebook)?;
        notebook_exit_value(&String::from_utf8_lossy(&object.content))
    });
}

pub(super) async fn create(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let job_id = ws.jobs.create(body, &caller.user_name, app.clock.now_ms())?;
    Ok(Json(json!({ "job_id": job_id })))
}

pub(super) async fn get(app: App, caller: Caller, params: Params, version: ApiVersion) -> ApiResult<Json<Value>> {
    let job_id = query_id(&params, "job_id")?;
    let ws = app.workspace();
    authorize_job(&ws, &caller, job_id, VIEW)?;
    let mut job = ws.jobs.job(job_id)?.to_json(true);
    drop(ws);
    if version == ApiVersion::V2_2 {
        page_arrays(&mut job, Some("settings"), &JOB_ARRAYS, &params)?;
    }
    Ok(Json(Value::Object(job)))
}

pub(super) async fn list(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let limit = params.parse::<usize>("limit")?.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid_parameter(format!("limit must be between 1 and 100, got {limit}")));
    }
    let offset = match params.get("page_token").filter(|t| !t.is_empty()) {
        Some(token) => decode_token(token)?,
        None => params.parse::<usize>("offset")?.unwrap_or(0),
    };
    let expand = bool_param(&params, "expand_tasks")?;
    let name = params.get("name").map(str::to_lowercase);
    let ws = app.workspace();
    let matching: Vec<_> = ws
        .jobs
        .jobs()
        .filter(|j| name.as_ref().is_none_or(|n| j.name().to_lowercase() == *n))
        .filter(|j| access::can_view_job(&ws, &caller, j.job_id, &j.creator))
        .collect();
    let more = offset + limit < matching.len();
    let jobs: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|job| {
            let mut item = job.to_json(expand);
            if expand {
                let params = Params::default();
                // A job with more than a page of tasks says so; clients then call jobs/get.
                let _ = page_arrays(&mut item, Some("settings"), &JOB_ARRAYS, &params);
                item.remove("next_page_token");
            }
            Value::Object(item)
        })
        .collect();
    Ok(offset_page("jobs", jobs, offset, limit, more))
}

pub(super) async fn reset(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let job_id = body_id(&body, "job_id")?;
    let settings = object(&body, "new_settings")?.ok_or_else(|| ApiError::missing_field("new_settings"))?;
    let mut ws = app.workspace();
    authorize_job(&ws, &caller, job_id, MANAGE)?;
    ws.jobs.reset(job_id, settings)?;
    done()
}

pub(super) async fn update(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let job_id = body_id(&body, "job_id")?;
    let changes = object(&body, "new_settings")?.unwrap_or_default();
    let remove = strings(&body, "fields_to_remove")?;
    let mut ws = app.workspace();
    authorize_job(&ws, &caller, job_id, MANAGE)?;
    ws.jobs.update(job_id, changes, &remove)?;
    done()
}

pub(super) async fn delete(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let job_id = body_id(&body, "job_id")?;
    let mut ws = app.workspace();
    authorize_job(&ws, &caller, job_id, MANAGE)?;
    ws.jobs.delete(job_id, app.clock.moment())?;
    ws.acls.forget(&access::JOB, &job_id.to_string());
    done()
}

/// The parameter fields of `run-now` that a run reports back as `overriding_parameters`.
const OVERRIDES: [&str; 9] = [
    "notebook_params",
    "python_params",
    "jar_params",
    "spark_submit_params",
    "python_named_params",
    "sql_params",
    "dbt_commands",
    "pipeline_params",
    "job_parameters",
];

pub(super) async fn run_now(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let job_id = body_id(&body, "job_id")?;
    let mut request = RunRequest {
        job_parameters: object(&body, "job_parameters")?.unwrap_or_default(),
        idempotency_token: body.get("idempotency_token").and_then(Value::as_str).map(str::to_owned),
        only: strings(&body, "only")?,
        ..RunRequest::default()
    };
    for field in OVERRIDES {
        if let Some(value) = body.get(field).filter(|v| !v.is_null()) {
            request.overriding_parameters.insert(field.into(), value.clone());
        }
    }
    let mut ws = app.workspace();
    let ws = &mut *ws;
    authorize_job(ws, &caller, job_id, MANAGE_RUN)?;
    let run_id = ws.jobs.run_now(job_id, request, &caller.user_name, app.clock.moment())?;
    script_notebooks(ws, run_id);
    Ok(Json(json!({ "run_id": run_id, "number_in_job": run_id })))
}

pub(super) async fn submit(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let run_id = ws.jobs.submit(body, &caller.user_name, app.clock.moment())?;
    script_notebooks(ws, run_id);
    Ok(Json(json!({ "run_id": run_id })))
}

pub(super) async fn get_run(
    app: App,
    caller: Caller,
    params: Params,
    headers: HeaderMap,
    version: ApiVersion,
) -> ApiResult<Json<Value>> {
    let run_id = query_id(&params, "run_id")?;
    let base = base_url(&headers);
    let mut ws = app.workspace();
    authorize_run(&ws, &caller, run_id, VIEW)?;
    let (run, task_id) = ws.jobs.run(run_id, app.clock.moment())?;
    let mut out = match task_id.and_then(|id| run.task(id)) {
        Some(task) => task_run_json(run, task, &base),
        None => run.to_json(&base, true),
    };
    if version == ApiVersion::V2_2 {
        page_arrays(&mut out, None, &RUN_ARRAYS, &params)?;
    }
    Ok(Json(Value::Object(out)))
}

/// A task run read on its own: the task's fields plus the job and run it belongs to.
fn task_run_json(run: &super::run::Run, task: &super::run::TaskRun, base: &str) -> Map<String, Value> {
    let mut out = run.task_json(task, base);
    if let Some(job_id) = run.job_id {
        out.insert("job_id".into(), json!(job_id));
    }
    out.insert("run_name".into(), json!(run.run_name));
    out.insert("run_type".into(), json!(run.run_type.as_str()));
    out.insert("creator_user_name".into(), json!(run.creator));
    out.insert("parent_run_id".into(), json!(run.run_id));
    out
}

pub(super) async fn list_runs(
    State(app): App,
    caller: Caller,
    params: Params,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let limit = match params.parse::<usize>("limit")?.unwrap_or(20) {
        0 => 25,
        n if n <= 25 => n,
        n => return Err(ApiError::invalid_parameter(format!("limit must be between 0 and 25, got {n}"))),
    };
    let offset = match params.get("page_token").filter(|t| !t.is_empty()) {
        Some(token) => decode_token(token)?,
        None => params.parse::<usize>("offset")?.unwrap_or(0),
    };
    let active_only = bool_param(&params, "active_only")?;
    let completed_only = bool_param(&params, "completed_only")?;
    if active_only && completed_only {
        return Err(ApiError::invalid_parameter("active_only and completed_only cannot both be true"));
    }
    let job_id = params.parse::<i64>("job_id")?;
    let run_type = params.get("run_type");
    if let Some(kind) = run_type
        && !["JOB_RUN", "SUBMIT_RUN", "WORKFLOW_RUN"].contains(&kind)
    {
        return Err(ApiError::invalid_parameter(format!("Invalid value for run_type: '{kind}'")));
    }
    let from = params.parse::<u64>("start_time_from")?;
    let to = params.parse::<u64>("start_time_to")?;
    let expand = bool_param(&params, "expand_tasks")?;
    let base = base_url(&headers);
    let mut ws = app.workspace();
    let ws = &mut *ws;
    // What the caller may see: runs of the jobs it can view, and its own runs without a job.
    let existing: std::collections::HashSet<i64> = ws.jobs.jobs().map(|j| j.job_id).collect();
    let viewable: std::collections::HashSet<i64> =
        ws.jobs.jobs().filter(|j| access::can_view_job(ws, &caller, j.job_id, &j.creator)).map(|j| j.job_id).collect();
    let matching: Vec<_> = ws
        .jobs
        .runs(app.clock.moment())
        .into_iter()
        .filter(|r| match r.job_id.filter(|id| existing.contains(id)) {
            Some(id) => viewable.contains(&id),
            None => caller.is_admin || r.creator.eq_ignore_ascii_case(&caller.user_name),
        })
        .filter(|r| job_id.is_none_or(|id| r.job_id == Some(id)))
        .filter(|r| !active_only || r.is_active())
        .filter(|r| !completed_only || !r.is_active())
        .filter(|r| run_type.is_none_or(|t| r.run_type.as_str() == t))
        .filter(|r| from.is_none_or(|f| r.life.start_time >= f))
        .filter(|r| to.is_none_or(|t| r.life.start_time <= t))
        .collect();
    let more = offset + limit < matching.len();
    let runs: Vec<Value> =
        matching.iter().skip(offset).take(limit).map(|r| Value::Object(r.to_json(&base, expand))).collect();
    Ok(offset_page("runs", runs, offset, limit, more))
}

/// One page of a jobs or runs list: the items under `key` (left out when empty), `has_more`, and
/// tokens for the pages around it (no `next_page_token` on the last page).
fn offset_page(key: &str, items: Vec<Value>, offset: usize, limit: usize, more: bool) -> Json<Value> {
    let mut out = Map::new();
    if !items.is_empty() {
        out.insert(key.into(), json!(items));
    }
    out.insert("has_more".into(), json!(more));
    if more {
        out.insert("next_page_token".into(), json!(encode_token(offset + limit)));
    }
    if offset > 0 {
        out.insert("prev_page_token".into(), json!(encode_token(offset.saturating_sub(limit))));
    }
    Json(Value::Object(out))
}

pub(super) async fn cancel_run(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let run_id = body_id(&body, "run_id")?;
    let mut ws = app.workspace();
    authorize_run(&ws, &caller, run_id, MANAGE_RUN)?;
    ws.jobs.cancel(run_id, app.clock.moment())?;
    done()
}

pub(super) async fn cancel_all(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let job_id = if body.get("job_id").is_some_and(|v| !v.is_null()) { Some(body_id(&body, "job_id")?) } else { None };
    let all_queued = body.get("all_queued_runs").and_then(Value::as_bool).unwrap_or(false);
    let mut ws = app.workspace();
    match job_id {
        Some(job_id) => authorize_job(&ws, &caller, job_id, MANAGE_RUN)?,
        // Every queued run of the workspace: an admin's operation.
        None if !caller.is_admin && all_queued => {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "PERMISSION_DENIED",
                format!("User {} cannot cancel the queued runs of every job; give a job_id", caller.user_name),
            ));
        }
        None => {}
    }
    ws.jobs.cancel_all(job_id, all_queued, app.clock.moment())?;
    done()
}

pub(super) async fn delete_run(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let run_id = body_id(&body, "run_id")?;
    let mut ws = app.workspace();
    authorize_run(&ws, &caller, run_id, MANAGE_RUN)?;
    ws.jobs.delete_run(run_id, app.clock.moment())?;
    done()
}

pub(super) async fn repair(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let run_id = body_id(&body, "run_id")?;
    let rerun_tasks = strings(&body, "rerun_tasks")?;
    let all_failed = body.get("rerun_all_failed_tasks").and_then(Value::as_bool).unwrap_or(false);
    let dependents = body.get("rerun_dependent_tasks").and_then(Value::as_bool).unwrap_or(false);
    let latest = if body.get("latest_repair_id").is_some_and(|v| !v.is_null()) {
        Some(body_id(&body, "latest_repair_id")?)
    } else {
        None
    };
    let mut ws = app.workspace();
    authorize_run(&ws, &caller, run_id, MANAGE_RUN)?;
    let repair_id = ws.jobs.repair(run_id, &rerun_tasks, all_failed, dependents, latest, app.clock.moment())?;
    Ok(Json(json!({ "repair_id": repair_id })))
}

/// `runs/get-output`: the output of one task run (or of a run with a single task). A run of
/// several tasks is refused, as on the service.
pub(super) async fn get_output(
    State(app): App,
    caller: Caller,
    params: Params,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let run_id = query_id(&params, "run_id")?;
    let base = base_url(&headers);
    let mut ws = app.workspace();
    authorize_run(&ws, &caller, run_id, VIEW)?;
    let (run, task_id) = ws.jobs.run(run_id, app.clock.moment())?;
    let (task, metadata) = match task_id {
        Some(id) => {
            let task = run.task(id).ok_or_else(|| run_not_found(run_id))?;
            (task, task_run_json(run, task, &base))
        }
        None => match run.tasks.as_slice() {
            [only] => (only, run.to_json(&base, true)),
            _ => {
                return Err(ApiError::invalid_parameter(format!(
                    "Retrieving the output of runs with multiple tasks is not supported. Please retrieve the \
                     output of each individual task run instead. Run {run_id} has {} tasks.",
                    run.tasks.len()
                )));
            }
        },
    };
    let mut out = Map::new();
    out.insert("metadata".into(), Value::Object(metadata));
    if task.life.is_terminal() {
        if let Some(error) = &task.script.error {
            out.insert("error".into(), json!(error));
            if let Some(trace) = &task.script.error_trace {
                out.insert("error_trace".into(), json!(trace));
            }
        } else if task.life.result.is_some_and(|r| r.is_success()) {
            if task.is_notebook() {
                let mut output = Map::new();
                if let Some(result) = &task.script.result {
                    output.insert("result".into(), json!(result));
                }
                output.insert("truncated".into(), json!(false));
                out.insert("notebook_output".into(), Value::Object(output));
            }
            if let Some(logs) = &task.script.logs {
                out.insert("logs".into(), json!(logs));
                out.insert("logs_truncated".into(), json!(false));
            }
        }
    }
    Ok(Json(Value::Object(out)))
}

/// `runs/export`: the rendered notebook of a notebook task run.
pub(super) async fn export(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let run_id = query_id(&params, "run_id")?;
    let views = params.get("views_to_export").unwrap_or("CODE");
    if !["CODE", "DASHBOARDS", "ALL"].contains(&views) {
        return Err(ApiError::invalid_parameter(format!("Invalid value for views_to_export: '{views}'")));
    }
    let mut ws = app.workspace();
    authorize_run(&ws, &caller, run_id, VIEW)?;
    let (run, task_id) = ws.jobs.run(run_id, app.clock.moment())?;
    let task = match task_id {
        Some(id) => run.task(id),
        None if run.tasks.len() == 1 => run.tasks.first(),
        None => None,
    }
    .ok_or_else(|| {
        ApiError::invalid_parameter(format!("Run {run_id} is not a notebook task run; export a task run"))
    })?;
    let path = task
        .settings
        .get("notebook_task")
        .and_then(|n| n.get("notebook_path"))
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid_parameter(format!("Run {run_id} is not a notebook task run")))?;
    let name = path.rsplit('/').next().unwrap_or(path);
    let mut views_out = Vec::new();
    if views != "DASHBOARDS" {
        let content = format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{name}</title></head><body>\
             <h1>{name}</h1><p>Run {} of task {}: {}</p></body></html>",
            task.run_id,
            task.task_key,
            task.life.result.map_or(task.life.phase.as_str(), |r| r.result_state())
        );
        views_out.push(json!({"content": content, "name": name, "type": "NOTEBOOK"}));
    }
    Ok(Json(json!({ "views": views_out })))
}
