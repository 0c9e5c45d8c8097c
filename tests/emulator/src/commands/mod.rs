//! Command execution API 1.2 (`compute.CommandExecutionAPI`) under `/api/1.2`: execution
//! contexts on a RUNNING cluster, and commands run in them. Wire names are camelCase
//! (`clusterId`, `contextId`, `commandId`, `resultType`).
//!
//! A context goes `Pending → Running` and a command `Queued → Running → Finished | Error`, one
//! transition delay per step, advanced when read; cancelling goes `Cancelling → Cancelled`. SQL
//! commands run on the SQL engine over the Unity Catalog tables (a `table` result); other
//! languages evaluate nothing real: see `output` for what they answer.
//!
//! As on the service: creating a context or running a command needs `CAN_ATTACH_TO` on the
//! cluster; a context lives in the cluster's Spark driver, so it is gone once the cluster restarts
//! or terminates; and a cluster holds at most [`MAX_CONTEXTS`] contexts, so clients must destroy
//! what they create.

mod output;

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Json, Router,
    extract::State,
    routing::{get, post},
};
use serde_json::{Map, Value, json};

use crate::{
    acl, clusters,
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    identity::Caller,
    workspace::{AppState, Workspace},
};

/// The most execution contexts one cluster holds at a time.
pub(crate) const MAX_CONTEXTS: usize = 150;

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
    /// The Spark context of the cluster when this context was made; a restart replaces it.
    spark_context_id: Option<i64>,
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

/// The cluster must exist and be RUNNING, and the caller may attach to it, as on the service.
/// Returns the cluster's current Spark context id.
fn require_running(ws: &mut Workspace, app: &AppState, caller: &Caller, cluster_id: &str) -> ApiResult<Option<i64>> {
    let Ok(runtime) = clusters::runtime(&mut ws.clusters, cluster_id, app.clock.moment()) else {
        return Err(ApiError::invalid_parameter(format!("Cluster {cluster_id} does not exist")));
    };
    ws.acls.check(&acl::CLUSTER, cluster_id, caller, Some(&runtime.owner), "CAN_ATTACH_TO")?;
    match clusters::state_in(&mut ws.clusters, cluster_id, app.clock.moment()) {
        Some("RUNNING") => Ok(runtime.spark_context_id),
        Some(state) => Err(ApiError::invalid_state(format!(
            "Cluster {cluster_id} is in state {state}; it must be running to execute commands"
        ))),
        None => Err(ApiError::invalid_parameter(format!("Cluster {cluster_id} does not exist"))),
    }
}

/// Forgets the contexts whose cluster restarted or went down since they were made.
fn drop_stale(ws: &mut Workspace, app: &AppState) {
    let runtimes: BTreeMap<String, clusters::Runtime> =
        clusters::runtimes(&mut ws.clusters, app.clock.moment()).into_iter().collect();
    ws.contexts
        .by_id
        .retain(|_, c| runtimes.get(&c.cluster_id).is_some_and(|r| r.up && r.spark_context_id == c.spark_context_id));
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

async fn create_context(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let cluster_id = field(&body, "clusterId")?.to_owned();
    let language = language(&body)?;
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let spark_context_id = require_running(ws, &app, &caller, &cluster_id)?;
    drop_stale(ws, &app);
    if ws.contexts.by_id.values().filter(|c| c.cluster_id == cluster_id).count() >= MAX_CONTEXTS {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "RESOURCE_EXHAUSTED",
            format!(
                "Too many execution contexts are open right now (Limit set currently to {MAX_CONTEXTS}). Destroy unused contexts on cluster {cluster_id}."
            ),
        ));
    }
    let id = ws.contexts.new_id();
    let status = Status::new(vec!["Pending", "Running"], now);
    ws.contexts
        .by_id
        .insert(id.clone(), Context { cluster_id, spark_context_id, language, status, commands: BTreeMap::new() });
    Ok(Json(json!({ "id": id })))
}

async fn context_status(State(app): App, params: Params) -> ApiResult<Json<Value>> {
    let (cluster_id, context_id) = (params.required("clusterId")?, params.required("contextId")?);
    let at = app.clock.moment();
    let mut ws = app.workspace();
    drop_stale(&mut ws, &app);
    let context = context(&mut ws.contexts, cluster_id, context_id)?;
    Ok(Json(json!({ "id": context_id, "status": context.status.at(at.now, at.delay_ms) })))
}

async fn destroy_context(State(app): App, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let (cluster_id, context_id) = (field(&body, "clusterId")?, field(&body, "contextId")?);
    let mut ws = app.workspace();
    drop_stale(&mut ws, &app);
    context(&mut ws.contexts, cluster_id, context_id)?;
    ws.contexts.by_id.remove(context_id);
    Ok(Json(json!({})))
}

async fn execute(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let (cluster_id, context_id) = (field(&body, "clusterId")?, field(&body, "contextId")?);
    let command = body.get("command").and_then(Value::as_str).ok_or_else(|| ApiError::missing_field("command"))?;
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    require_running(ws, &app, &caller, cluster_id)?;
    drop_stale(ws, &app);
    let id = ws.contexts.new_id();
    let context = context(&mut ws.contexts, cluster_id, context_id)?;
    if context.status.at(at.now, at.delay_ms) != "Running" {
        return Err(ApiError::invalid_state(format!("Context {context_id} is not running yet")));
    }
    let language = if body.contains_key("language") { language(&body)? } else { context.language.clone() };
    let (ok, results) = if language == "sql" {
        output::sql(&mut ws.unity, command, &caller.user_name, at.now)
    } else {
        output::results(&language, command)
    };
    let context = self::context(&mut ws.contexts, cluster_id, context_id)?;
    let status = Status::new(vec!["Queued", "Running", if ok { "Finished" } else { "Error" }], at.now);
    context.commands.insert(id.clone(), Command { status, results });
    Ok(Json(json!({ "id": id })))
}

async fn command_status(State(app): App, params: Params) -> ApiResult<Json<Value>> {
    let (cluster_id, context_id) = (params.required("clusterId")?, params.required("contextId")?);
    let command_id = params.required("commandId")?;
    let at = app.clock.moment();
    let mut ws = app.workspace();
    drop_stale(&mut ws, &app);
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
