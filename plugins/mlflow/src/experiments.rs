//! Experiments, runs and metric histories (`/api/2.0/mlflow/...`).

use std::collections::BTreeMap;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request, format_time};

use crate::tag_map;

const API: &str = "/api/2.0/mlflow";

fn path(endpoint: &str) -> String {
    format!("{API}/{endpoint}")
}

/// Which objects a search shows by lifecycle stage.
#[schema]
#[derive(Debug, Clone, Copy, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ViewType {
    /// Active only (default).
    #[default]
    ActiveOnly,
    /// Deleted only.
    DeletedOnly,
    /// Both.
    All,
}

impl ViewType {
    fn as_str(self) -> &'static str {
        match self {
            Self::ActiveOnly => "ACTIVE_ONLY",
            Self::DeletedOnly => "DELETED_ONLY",
            Self::All => "ALL",
        }
    }
}

/// An MLflow experiment.
#[schema]
#[derive(Debug, Clone)]
pub struct Experiment {
    /// The experiment id (a number, as a string).
    pub experiment_id: String,
    /// Its workspace path, e.g. `/Users/you@example.com/churn`.
    #[serde(default)]
    pub name: String,
    /// `active` or `deleted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<String>,
    /// Where its runs' artifacts go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_location: Option<String>,
    /// Last change, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<i64>,
    /// `[{key, value}]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value>,
}

impl Experiment {
    fn line(&self) -> String {
        let stage = match self.lifecycle_stage.as_deref() {
            Some("deleted") => " [deleted]",
            _ => "",
        };
        let updated = self.last_update_time.map(|t| format!(", updated {}", format_time(t))).unwrap_or_default();
        format!("{} (id {}){stage}{updated}", self.name, self.experiment_id)
    }
}

/// A page of experiments.
#[schema]
pub struct ExperimentList {
    /// The experiments on this page.
    pub experiments: Vec<Json<Experiment>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// Arguments of `search_mlflow_experiments`.
#[schema]
pub struct SearchExperiments {
    /// MLflow filter, e.g. `name LIKE '%churn%'` or `tags.team = 'ml'` (clauses joined by AND).
    #[serde(default)]
    pub filter: Option<String>,
    /// Sort keys, e.g. `["name ASC"]` or `["last_update_time DESC"]` (the default).
    #[serde(default)]
    pub order_by: Option<Vec<String>>,
    /// `ACTIVE_ONLY` (default), `DELETED_ONLY` or `ALL`.
    #[serde(default)]
    pub view_type: ViewType,
    /// How many to return, 1-200 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// Search the MLflow experiments you can read, newest activity first, optionally filtered by name
/// or tags; one line each with the id to pass to the run tools.
#[tool(read_only, idempotent, title = "Search MLflow experiments")]
pub(crate) fn search_mlflow_experiments(ctx: &Context, args: SearchExperiments) -> Result<Output<ExperimentList>> {
    let mut body = json!({ "view_type": args.view_type.as_str() });
    if let Some(f) = args.filter.filter(|f| !f.trim().is_empty()) {
        body["filter"] = json!(f);
    }
    if let Some(o) = args.order_by.filter(|o| !o.is_empty()) {
        body["order_by"] = json!(o);
    }
    let page = ctx.page::<Json<Experiment>>(
        Request::new(Method::Post, path("experiments/search")).json(&body)?,
        "experiments",
        Paging::BodyToken { size_param: "max_results" },
        args.limit.unwrap_or(50).clamp(1, 200),
        args.page_token.as_deref(),
    )?;
    let mut lines = page.items.iter().map(|e| e.get().map(|e| e.line())).collect::<Result<Vec<_>>>()?;
    if lines.is_empty() {
        lines.push("No experiments match.".into());
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More experiments: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(lines.join("\n"), ExperimentList { experiments: page.items, next_page_token: page.next_page_token }))
}

/// Arguments of `get_mlflow_experiment`: the id or the name.
#[schema]
pub struct GetExperiment {
    /// The experiment id.
    #[serde(default)]
    pub experiment_id: Option<String>,
    /// Or its full name (workspace path).
    #[serde(default)]
    pub name: Option<String>,
}

/// Get one MLflow experiment by id or by name: path, lifecycle stage, artifact location, tags.
#[tool(read_only, idempotent, title = "Get MLflow experiment")]
pub(crate) fn get_mlflow_experiment(ctx: &Context, args: GetExperiment) -> Result<Output<Json<Experiment>>> {
    #[databricks_mcp_sdk::schema]
    struct Wrapped {
        experiment: Json<Experiment>,
    }
    let wrapped: Wrapped = match (args.experiment_id.filter(|i| !i.is_empty()), args.name.filter(|n| !n.is_empty())) {
        (Some(id), None) => ctx.get(&path("experiments/get"), &[("experiment_id", id)])?,
        (None, Some(name)) => ctx.get(&path("experiments/get-by-name"), &[("experiment_name", name)])?,
        _ => return Err(ToolError::invalid("give exactly one of experiment_id or name")),
    };
    let e = wrapped.experiment.get()?;
    let mut lines = vec![e.line()];
    if let Some(loc) = &e.artifact_location {
        lines.push(format!("Artifacts: {loc}"));
    }
    for (k, v) in tag_map(e.tags.as_ref().unwrap_or(&Value::Null)) {
        lines.push(format!("Tag {k} = {v}"));
    }
    Ok(Output::new(lines.join("\n"), wrapped.experiment))
}

/// Arguments of `create_mlflow_experiment`.
#[schema]
pub struct CreateExperiment {
    /// The experiment's workspace path, e.g. `/Users/you@example.com/churn-v2`.
    pub name: String,
    /// Where runs store artifacts (default: the workspace's MLflow storage).
    #[serde(default)]
    pub artifact_location: Option<String>,
    /// Tags, key to value.
    #[serde(default)]
    pub tags: Option<BTreeMap<String, String>>,
}

/// What an experiment change did.
#[schema]
pub struct ExperimentChange {
    /// The experiment.
    pub experiment_id: String,
    /// What was done.
    pub message: String,
}

/// Create an MLflow experiment at a workspace path; returns its id for logging runs to it.
#[tool(title = "Create MLflow experiment")]
pub(crate) fn create_mlflow_experiment(ctx: &Context, args: CreateExperiment) -> Result<Output<ExperimentChange>> {
    let mut body = json!({ "name": args.name });
    if let Some(a) = args.artifact_location.filter(|a| !a.is_empty()) {
        body["artifact_location"] = json!(a);
    }
    if let Some(tags) = args.tags {
        body["tags"] = tags.into_iter().map(|(key, value)| json!({"key": key, "value": value})).collect();
    }
    #[databricks_mcp_sdk::schema]
    struct Created {
        experiment_id: String,
    }
    let created: Created = ctx.post(&path("experiments/create"), &body)?;
    let message = format!("Created experiment {} (id {}).", args.name, created.experiment_id);
    Ok(Output::new(message.clone(), ExperimentChange { experiment_id: created.experiment_id, message }))
}

/// Arguments naming one experiment.
#[schema]
pub struct ExperimentId {
    /// The experiment id.
    pub experiment_id: String,
}

/// Delete an MLflow experiment and its runs (moved to the deleted stage; the name stays taken and
/// an admin can restore it within 30 days).
#[tool(destructive, title = "Delete MLflow experiment")]
pub(crate) fn delete_mlflow_experiment(ctx: &Context, args: ExperimentId) -> Result<Output<ExperimentChange>> {
    ctx.post_empty(&path("experiments/delete"), &json!({ "experiment_id": args.experiment_id }))?;
    let message = format!("Deleted experiment {} and its runs.", args.experiment_id);
    Ok(Output::new(message.clone(), ExperimentChange { experiment_id: args.experiment_id, message }))
}

// ---------------------------------------------------------------------------------------------
// Runs

/// A metric's latest value.
#[schema]
#[derive(Debug, Clone)]
pub struct Metric {
    /// Metric name.
    pub key: String,
    /// Its value.
    pub value: f64,
    /// Training step it was logged at.
    #[serde(default)]
    pub step: i64,
    /// When, epoch milliseconds.
    #[serde(default)]
    pub timestamp: i64,
}

/// A run's data.
#[schema]
#[derive(Debug, Clone, Default)]
pub struct RunData {
    /// Latest value of each metric.
    #[serde(default)]
    pub metrics: Vec<Metric>,
    /// Parameters, `[{key, value}]`.
    #[serde(default)]
    pub params: Value,
    /// Tags, `[{key, value}]`.
    #[serde(default)]
    pub tags: Value,
}

/// A run's metadata.
#[schema]
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// The run id.
    pub run_id: String,
    /// Its name.
    #[serde(default)]
    pub run_name: Option<String>,
    /// Its experiment.
    #[serde(default)]
    pub experiment_id: String,
    /// `RUNNING`, `SCHEDULED`, `FINISHED`, `FAILED` or `KILLED`.
    #[serde(default)]
    pub status: String,
    /// Start, epoch milliseconds.
    #[serde(default)]
    pub start_time: Option<i64>,
    /// End, epoch milliseconds.
    #[serde(default)]
    pub end_time: Option<i64>,
    /// Where its artifacts are.
    #[serde(default)]
    pub artifact_uri: Option<String>,
}

/// An MLflow run.
#[schema]
#[derive(Debug, Clone)]
pub struct MlflowRun {
    /// Metadata.
    pub info: RunInfo,
    /// Metrics, params and tags.
    #[serde(default)]
    pub data: RunData,
}

impl MlflowRun {
    fn line(&self) -> String {
        let metrics: Vec<String> = self.data.metrics.iter().map(|m| format!("{}={}", m.key, m.value)).collect();
        let name = self.info.run_name.as_deref().unwrap_or("(unnamed)");
        let started = self.info.start_time.map(|t| format!(", started {}", format_time(t))).unwrap_or_default();
        format!("{name} ({}): {}{started}; {}", self.info.run_id, self.info.status, metrics.join(", "))
    }
}

/// A page of runs.
#[schema]
pub struct RunList {
    /// The runs on this page.
    pub runs: Vec<Json<MlflowRun>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// Arguments of `search_mlflow_runs`.
#[schema]
pub struct SearchRuns {
    /// The experiments to search (ids; see `search_mlflow_experiments`).
    pub experiment_ids: Vec<String>,
    /// MLflow filter, e.g. `metrics.auc > 0.85 AND params.model = 'xgboost'` or
    /// `attributes.status = 'FAILED'`.
    #[serde(default)]
    pub filter: Option<String>,
    /// Sort keys, e.g. `["metrics.auc DESC"]` (default: newest first).
    #[serde(default)]
    pub order_by: Option<Vec<String>>,
    /// `ACTIVE_ONLY` (default), `DELETED_ONLY` or `ALL`.
    #[serde(default)]
    pub run_view_type: ViewType,
    /// How many to return, 1-200 (default 25).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// Search the runs of one or more MLflow experiments, filtered by metrics, params, tags or status
/// and sorted (e.g. best `auc` first); one line per run with its status and latest metrics.
#[tool(read_only, idempotent, title = "Search MLflow runs")]
pub(crate) fn search_mlflow_runs(ctx: &Context, args: SearchRuns) -> Result<Output<RunList>> {
    if args.experiment_ids.is_empty() {
        return Err(ToolError::invalid("experiment_ids is empty: give at least one experiment id"));
    }
    let mut body = json!({ "experiment_ids": args.experiment_ids, "run_view_type": args.run_view_type.as_str() });
    if let Some(f) = args.filter.filter(|f| !f.trim().is_empty()) {
        body["filter"] = json!(f);
    }
    if let Some(o) = args.order_by.filter(|o| !o.is_empty()) {
        body["order_by"] = json!(o);
    }
    let page = ctx.page::<Json<MlflowRun>>(
        Request::new(Method::Post, path("runs/search")).json(&body)?,
        "runs",
        Paging::BodyToken { size_param: "max_results" },
        args.limit.unwrap_or(25).clamp(1, 200),
        args.page_token.as_deref(),
    )?;
    let mut lines = page.items.iter().map(|r| r.get().map(|r| r.line())).collect::<Result<Vec<_>>>()?;
    if lines.is_empty() {
        lines.push("No runs match.".into());
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More runs: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(lines.join("\n"), RunList { runs: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one run.
#[schema]
pub struct RunId {
    /// The MLflow run id.
    pub run_id: String,
}

/// Get one MLflow run: status, times, artifact location, and all its metrics (latest values),
/// params and tags.
#[tool(read_only, idempotent, title = "Get MLflow run")]
pub(crate) fn get_mlflow_run(ctx: &Context, args: RunId) -> Result<Output<Json<MlflowRun>>> {
    #[databricks_mcp_sdk::schema]
    struct Wrapped {
        run: Json<MlflowRun>,
    }
    let wrapped: Wrapped = ctx.get(&path("runs/get"), &[("run_id", args.run_id.clone())])?;
    let run = wrapped.run.get()?;
    let mut lines = vec![run.line()];
    if let Some(uri) = &run.info.artifact_uri {
        lines.push(format!("Artifacts: {uri}"));
    }
    let params = tag_map(&run.data.params);
    if !params.is_empty() {
        lines
            .push(format!("Params: {}", params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")));
    }
    let tags: Vec<String> = tag_map(&run.data.tags)
        .into_iter()
        .filter(|(k, _)| !k.starts_with("mlflow."))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !tags.is_empty() {
        lines.push(format!("Tags: {}", tags.join(", ")));
    }
    Ok(Output::new(lines.join("\n"), wrapped.run))
}

/// Arguments of `get_mlflow_metric_history`.
#[schema]
pub struct MetricHistory {
    /// The MLflow run id.
    pub run_id: String,
    /// The metric, e.g. `loss`.
    pub metric_key: String,
    /// How many points to return, 1-1000 (default 200).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of a metric's history.
#[schema]
pub struct History {
    /// The points, in logging order.
    pub metrics: Vec<Metric>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// Read every logged value of one metric of an MLflow run (step, value, time), e.g. to see a
/// loss curve, a page at a time.
#[tool(read_only, idempotent, title = "MLflow metric history")]
pub(crate) fn get_mlflow_metric_history(ctx: &Context, args: MetricHistory) -> Result<Output<History>> {
    let request = Request::new(Method::Get, path("metrics/get-history"))
        .query("run_id", &args.run_id)
        .query("metric_key", &args.metric_key);
    let page = ctx.page::<Metric>(
        request,
        "metrics",
        Paging::QueryToken { size_param: "max_results" },
        args.limit.unwrap_or(200).clamp(1, 1000),
        args.page_token.as_deref(),
    )?;
    let mut lines = vec![format!("{} of run {}: {} point(s)", args.metric_key, args.run_id, page.items.len())];
    lines.extend(page.items.iter().map(|m| format!("step {}: {}", m.step, m.value)));
    if page.items.is_empty() {
        lines[0] = format!("Run {} has no values of metric {}.", args.run_id, args.metric_key);
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More points: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(lines.join("\n"), History { metrics: page.items, next_page_token: page.next_page_token }))
}
