//! Command execution API 1.2 (`compute.CommandExecutionAPI`) under `/api/1.2`: execution
//! contexts on a RUNNING cluster, and commands run in them. Wire names are camelCase
//! (`clusterId`, `contextId`, `commandId`, `resultType`).
//!
//! A context goes `Pending → Running` and a command `Queued → Running → Finished | Error`, one
//! transition delay per step, advanced when read; cancelling goes `Cancelling → Cancelled`. The
//! emulator evaluates nothing real: see `output` for what a command answers.

mod output;

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Json, Router,
    extract::State,
    routing::{get, post},
};
use serde_json::{Map, Value, json};

use crate::{
    clusters,
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    workspace::AppState,
};

const LANGUAGES: [&str; 4] = ["python", "scala", "sql", "r"];

/// One step of a lazily-advancing status: the status, and when it was entered.
#[derive(Debug, Clone)]
struct Status {
    steps: Vec<&'static str>,
    since: u64,
}

impl Status {
    fn new(steps: Vec<&'static str>, now: u64) -> Self {
        Status { steps, since: now }
    }

    /// The current status after advancing to `now`.
    fn at(&mut self, now: u64, delay_ms: u64) -> &'static str {
        while self.steps.len() > 1 && now >= self.since.saturating_add(delay_ms) {
            self.since = self.since.saturating_add(delay_ms);
            self.steps.remove(0);
        }
        self.steps.first().copied().unwrap_or("Error")
    }
}

#[derive(Debug)]
struct Command {
    status: Status,
    results: Value,
}

#[derive(Debug)]
struct Context {
    cluster_id: String,
    language: String,
    status: Status,
    commands: BTreeMap<String, Command>,
}

/// The execution contexts of the workspace, by id.
#[derive(Debug, Default)]
pub(crate) struct Contexts {
    by_id: BTreeMap<String, Context>,
    next: u64,
}

impl Contexts {
    fn new_id(&mut self) -> String {
        self.next += 1;
        format!("{}", 1_234_567_890_000_000_000u64 + self.next * 7_919)
    }
}

/// The endpoints, to be nested under `/api/1.2`.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/contexts/create", post(create_context))
        .route("/contexts/status", get(context_status))
        .route("/contexts/destroy", post(destroy_context))
        .route("/commands/execute", post(execute))
        .route("/commands/status", get(command_status))
        .route("/commands/cancel", post(cancel))
}

type App = State<Arc<AppState>>;
type Body = ApiJson<Map<String, Value>>;

fn field<'a>(body: &'a Map<String, Value>, name: &str) -> Result<&'a str, ApiError> {
    body.get(name).and_then(Value::as_str).filter(|v| !v.is_empty()).ok_or_else(|| ApiError::missing_field(name))
}

/// The cluster must exist and be RUNNING, as on the service.
fn require_running(app: &AppState, cluster_id: &str) -> Result<(), ApiError> {
    match clusters::state_of(app, cluster_id).as_deref() {
        None => Err(ApiError::invalid_parameter(format!("Cluster {cluster_id} does not exist"))),
        Some("RUNNING") => Ok(()),
        Some(state) => Err(ApiError::invalid_state(format!(
            "Cluster {cluster_id} is in state {state}; it must be running to execute commands"
        ))),
    }
}

fn context<'a>(contexts: &'a mut Contexts, cluster_id: &str, context_id: &str) -> Result<&'a mut Context, ApiError> {
    contexts
        .by_id
        .get_mut(context_id)
        .filter(|c| c.cluster_id == cluster_id)
        .ok_or_else(|| ApiError::invalid_parameter(format!("Context {context_id} does not exist")))
}

fn language(body: &Map<String, Value>) -> Result<String, ApiError> {
    let language = body.get("language").and_then(Value::as_str).unwrap_or("python");
    if !LANGUAGES.contains(&language) {
        return Err(ApiError::invalid_parameter(format!("Unsupported language: {language}")));
    }
    Ok(language.to_owned())
}

async fn create_context(State(app): App, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let cluster_id = field(&body, "clusterId")?.to_owned();
    let language = language(&body)?;
    require_running(&app, &cluster_id)?;
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    let id = ws.contexts.new_id();
    let status = Status::new(vec!["Pending", "Running"], now);
    ws.contexts.by_id.insert(id.clone(), Context { cluster_id, language, status, commands: BTreeMap::new() });
    Ok(Json(json!({ "id": id })))
}

async fn context_status(State(app): App, params: Params) -> ApiResult<Json<Value>> {
    let (cluster_id, context_id) = (params.required("clusterId")?, params.required("contextId")?);
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let context = context(&mut ws.contexts, cluster_id, context_id)?;
    Ok(Json(json!({ "id": context_id, "status": context.status.at(at.now, at.delay_ms) })))
}

async fn destroy_context(State(app): App, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let (cluster_id, context_id) = (field(&body, "clusterId")?, field(&body, "contextId")?);
    let mut ws = app.workspace();
    context(&mut ws.contexts, cluster_id, context_id)?;
    ws.contexts.by_id.remove(context_id);
    Ok(Json(json!({})))
}

async fn execute(State(app): App, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let (cluster_id, context_id) = (field(&body, "clusterId")?, field(&body, "contextId")?);
    let command = body.get("command").and_then(Value::as_str).ok_or_else(|| ApiError::missing_field("command"))?;
    require_running(&app, cluster_id)?;
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let id = ws.contexts.new_id();
    let context = context(&mut ws.contexts, cluster_id, context_id)?;
    if context.status.at(at.now, at.delay_ms) != "Running" {
        return Err(ApiError::invalid_state(format!("Context {context_id} is not running yet")));
    }
    let language = if body.contains_key("language") { language(&body)? } else { context.language.clone() };
    let (ok, results) = output::results(&language, command);
    let status = Status::new(vec!["Queued", "Running", if ok { "Finished" } else { "Error" }], at.now);
    context.commands.insert(id.clone(), Command { status, results });
    Ok(Json(json!({ "id": id })))
}

async fn command_status(State(app): App, params: Params) -> ApiResult<Json<Value>> {
    let (cluster_id, context_id) = (params.required("clusterId")?, params.required("contextId")?);
    let command_id = params.required("commandId")?;
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let context = context(&mut ws.contexts, cluster_id, context_id)?;
    let command = context
        .commands
        .get_mut(command_id)
        .ok_or_else(|| ApiError::invalid_parameter(format!("Command {command_id} does not exist")))?;
    let status = command.status.at(at.now, at.delay_ms);
    let mut out = json!({ "id": command_id, "status": status });
    if matches!(status, "Finished" | "Error") {
        out["results"] = command.results.clone();
    }
    Ok(Json(out))
}

async fn cancel(State(app): App, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let (cluster_id, context_id) = (field(&body, "clusterId")?, field(&body, "contextId")?);
    let command_id = field(&body, "commandId")?;
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let context = context(&mut ws.contexts, cluster_id, context_id)?;
    let command = context
        .commands
        .get_mut(command_id)
        .ok_or_else(|| ApiError::invalid_parameter(format!("Command {command_id} does not exist")))?;
    if !matches!(command.status.at(at.now, at.delay_ms), "Finished" | "Error" | "Cancelled") {
        command.status = Status::new(vec!["Cancelling", "Cancelled"], at.now);
        command.results =
            json!({"resultType": "error", "summary": "Command cancelled", "cause": "CommandCancelledException"});
    }
    Ok(Json(json!({})))
}
