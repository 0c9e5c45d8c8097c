//! Job tools: list, get, create, update, reset, delete, and run now.

use std::collections::BTreeMap;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::serde_json::Map;
use databricks_mcp_sdk::{Method, Request};

use crate::model::{Job, JobParameter, Run, Schedule, task_line};
use crate::{cancel_on_abort, fetch_job, fetch_run, path, still_running, wait_for, wait_timeout};
use databricks_mcp_sdk::format_time;

// ---------------------------------------------------------------------------------------------
// Reading

/// Arguments of `list_jobs`.
#[schema]
pub struct ListJobs {
    /// Only the job with exactly this name (case-insensitive), e.g. `nightly-etl`.
    #[serde(default)]
    pub name: Option<String>,
    /// Include each job's tasks (their keys are shown on each line).
    #[serde(default)]
    pub expand_tasks: bool,
    /// How many jobs to return, 1-100 (default 20).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call, to get the next page.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of jobs.
#[schema]
pub struct JobList {
    /// The jobs on this page, as the workspace returned them.
    pub jobs: Vec<Json<Job>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the workspace's jobs one page at a time, optionally only the job with a given name. Each
/// line shows name, job id, schedule and creator (and task keys with `expand_tasks`).
#[tool(read_only, idempotent, title = "List jobs")]
pub(crate) fn list_jobs(ctx: &Context, args: ListJobs) -> Result<Output<JobList>> {
    let mut request = Request::new(Method::Get, path("list")).query_opt("name", args.name.as_deref());
    if args.expand_tasks {
        request = request.query("expand_tasks", true);
    }
    let limit = args.limit.unwrap_or(20).clamp(1, 100);
    let page = ctx.page::<Json<Job>>(
        request,
        "jobs",
        Paging::QueryToken { size_param: "limit" },
        limit,
        args.page_token.as_deref(),
    )?;
    let mut text = if page.items.is_empty() {
        match &args.name {
            Some(name) => format!("No job is named \"{name}\" (or you may not view it)."),
            None => "No jobs.".to_string(),
        }
    } else {
        page.items.iter().map(|j| j.get().map(|j| j.line())).collect::<Result<Vec<_>>>()?.join("\n")
    };
    if let Some(token) = &page.next_page_token {
        text.push_str(&format!("\nMore jobs: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(text, JobList { jobs: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one job.
#[schema]
pub struct JobId {
    /// The job id, e.g. `123456789` (see `list_jobs`).
    pub job_id: i64,
}

/// Get one job's settings: tasks (every page of them), schedule, parameters, clusters, owner.
#[tool(read_only, idempotent, title = "Get job")]
pub(crate) fn get_job(ctx: &Context, args: JobId) -> Result<Output<Json<Job>>> {
    let raw = fetch_job(ctx, args.job_id)?;
    let job = raw.get()?;
    let settings = job.settings.clone().unwrap_or_default();
    let mut lines = vec![format!("{} (job {})", job.name(), job.job_id)];
    let mut who = Vec::new();
    if let Some(creator) = &job.creator_user_name {
        who.push(format!("created by {creator}"));
    }
    if let Some(created) = job.created_time {
        who.push(format!("on {}", format_time(created)));
    }
    if let Some(run_as) = &job.run_as_user_name {
        who.push(format!("runs as {run_as}"));
    }
    if !who.is_empty() {
        lines.push(who.join(", "));
    }
    lines.push(match &settings.schedule {
        Some(s) => format!("Schedule: {}", s.describe()),
        None => "No schedule: runs when started (run_job) or triggered.".to_string(),
    });
    if let Some(max) = settings.max_concurrent_runs {
        lines.push(format!("Max concurrent runs: {max}"));
    }
    if let Some(params) = settings.parameters.as_ref().filter(|p| !p.is_empty()) {
        let list: Vec<String> = params.iter().map(|p| format!("{}={}", p.name, p.default)).collect();
        lines.push(format!("Parameters (defaults): {}", list.join(", ")));
    }
    let tasks = settings.tasks.unwrap_or_default();
    lines.push(format!("Tasks ({}):", tasks.len()));
    lines.extend(tasks.iter().map(task_line));
    Ok(Output::new(lines.join("\n"), raw))
}

// ---------------------------------------------------------------------------------------------
// Changing

/// What a job tool did.
#[schema]
pub struct JobChange {
    /// The job acted on.
    pub job_id: i64,
    /// What was done.
    pub message: String,
    /// The job as it is now, when it was read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<Json<Job>>,
}

fn changed(ctx: &Context, job_id: i64, message: String) -> Output<JobChange> {
    // The change already happened; a failed read-back is not an error.
    let job = fetch_job(ctx, job_id).ok();
    let text = match job.as_ref().and_then(|j| j.get().ok()) {
        Some(j) => format!("{message}\n{}", j.line()),
        None => message.clone(),
    };
    Output::new(text, JobChange { job_id, message, job })
}

/// Check tasks given as JSON: each an object with a unique, non-empty `task_key`.
fn check_tasks(tasks: &[Map<String, Value>]) -> Result<()> {
    let mut keys = std::collections::BTreeSet::new();
    for (i, task) in tasks.iter().enumerate() {
        let key = task.get("task_key").and_then(Value::as_str).filter(|k| !k.is_empty());
        let Some(key) = key else {
            return Err(ToolError::invalid(format!("task {} has no task_key", i + 1)));
        };
        if !keys.insert(key) {
            return Err(ToolError::invalid(format!("task_key \"{key}\" is used by two tasks")));
        }
    }
    Ok(())
}

/// Arguments of `create_job`.
#[schema]
pub struct CreateJob {
    /// Job name.
    pub name: String,
    /// The tasks, as Jobs API `Task` objects. Each needs a `task_key` and one task type, e.g.
    /// `{"task_key": "ingest", "notebook_task": {"notebook_path": "/Workspace/Users/me/ingest", "base_parameters": {"date": "2024-01-01"}}, "existing_cluster_id": "0123-456789-abcdefgh"}`.
    /// Other types: `spark_python_task {python_file, parameters}`, `python_wheel_task`, `sql_task`,
    /// `pipeline_task {pipeline_id}`, `run_job_task {job_id}`. Compute: `existing_cluster_id`,
    /// `job_cluster_key` (see `job_clusters`), `new_cluster`, or none for serverless. Order with
    /// `depends_on: [{"task_key": "ingest"}]`; also `timeout_seconds`, `max_retries`, `libraries`.
    pub tasks: Vec<Map<String, Value>>,
    /// Shared clusters for the tasks: `[{"job_cluster_key": "main", "new_cluster": {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 2}}]`.
    #[serde(default)]
    pub job_clusters: Option<Vec<Value>>,
    /// Job parameters and their defaults; runs can override them (`run_job` `job_parameters`).
    #[serde(default)]
    pub parameters: Option<Vec<JobParameter>>,
    /// Run on a cron schedule.
    #[serde(default)]
    pub schedule: Option<Schedule>,
    /// How many runs may be active at once (default 1).
    #[serde(default)]
    pub max_concurrent_runs: Option<u32>,
    /// Fail a run that takes longer than this, seconds (default: no limit).
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
    /// Tags, e.g. `{"team": "data-eng"}`.
    #[serde(default)]
    pub tags: Option<BTreeMap<String, String>>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Any other `JobSettings` field of the API, as JSON, e.g. `{"email_notifications": {"on_failure": ["me@example.com"]}, "queue": {"enabled": true}}`.
    #[serde(default)]
    pub extra: Option<Map<String, Value>>,
}

/// Create a job from its name and tasks (and optionally clusters, parameters, schedule...).
/// Returns the new job id; start it with `run_job`.
#[tool(title = "Create job")]
pub(crate) fn create_job(ctx: &Context, args: CreateJob) -> Result<Output<JobChange>> {
    if args.name.trim().is_empty() {
        return Err(ToolError::invalid("name must not be empty"));
    }
    if args.tasks.is_empty() {
        return Err(ToolError::invalid("give at least one task"));
    }
    check_tasks(&args.tasks)?;
    let mut body = args.extra.clone().unwrap_or_default();
    body.insert("name".into(), json!(args.name));
    body.insert("tasks".into(), json!(args.tasks));
    let optional = [
        ("job_clusters", args.job_clusters.as_ref().map(|v| json!(v))),
        ("parameters", args.parameters.as_ref().map(|v| json!(v))),
        ("schedule", args.schedule.as_ref().map(|v| json!(v))),
        ("max_concurrent_runs", args.max_concurrent_runs.map(|v| json!(v))),
        ("timeout_seconds", args.timeout_seconds.map(|v| json!(v))),
        ("tags", args.tags.as_ref().map(|v| json!(v))),
        ("description", args.description.as_ref().map(|v| json!(v))),
    ];
    for (field, value) in optional {
        if let Some(value) = value {
            body.insert(field.into(), value);
        }
    }
    #[databricks_mcp_sdk::schema]
    struct Created {
        job_id: i64,
    }
    let created: Created = ctx.post(&path("create"), &body)?;
    Ok(changed(ctx, created.job_id, format!("Created job {} ({}).", args.name, created.job_id)))
}

/// Arguments of `update_job`.
#[schema]
pub struct UpdateJob {
    /// The job id.
    pub job_id: i64,
    /// The settings to change, as `JobSettings` fields, e.g. `{"max_concurrent_runs": 2}` or
    /// `{"schedule": {"quartz_cron_expression": "0 0 6 * * ?", "timezone_id": "UTC", "pause_status": "PAUSED"}}`.
    /// Top-level fields replace the current ones; `tasks`, `job_clusters`, `parameters` and
    /// `environments` are merged element by element by their key (`task_key`...).
    #[serde(default)]
    pub new_settings: Map<String, Value>,
    /// Settings to remove: top-level fields such as `schedule`, or one element of an array by key,
    /// e.g. `tasks/cleanup`, `job_clusters/main`.
    #[serde(default)]
    pub fields_to_remove: Vec<String>,
}

/// Change some of a job's settings and keep the rest: set fields with `new_settings` (tasks are
/// merged by `task_key`), remove fields or single tasks with `fields_to_remove`. To pause a
/// schedule, set `schedule` with `pause_status` `PAUSED`.
#[tool(destructive, idempotent, title = "Update job")]
pub(crate) fn update_job(ctx: &Context, args: UpdateJob) -> Result<Output<JobChange>> {
    if args.new_settings.is_empty() && args.fields_to_remove.is_empty() {
        return Err(ToolError::invalid("nothing to change: give new_settings or fields_to_remove"));
    }
    if let Some(Value::Array(tasks)) = args.new_settings.get("tasks") {
        let tasks: Vec<Map<String, Value>> = tasks.iter().filter_map(|t| t.as_object().cloned()).collect();
        check_tasks(&tasks)?;
    }
    let mut body = json!({ "job_id": args.job_id, "new_settings": args.new_settings });
    if !args.fields_to_remove.is_empty() {
        body["fields_to_remove"] = json!(args.fields_to_remove);
    }
    ctx.post_empty(&path("update"), &body)?;
    let mut parts = Vec::new();
    if !args.new_settings.is_empty() {
        parts.push(format!("set {}", args.new_settings.keys().cloned().collect::<Vec<_>>().join(", ")));
    }
    if !args.fields_to_remove.is_empty() {
        parts.push(format!("removed {}", args.fields_to_remove.join(", ")));
    }
    Ok(changed(ctx, args.job_id, format!("Updated job {}: {}.", args.job_id, parts.join("; "))))
}

/// Arguments of `reset_job`.
#[schema]
pub struct ResetJob {
    /// The job id.
    pub job_id: i64,
    /// The job's complete new settings (`JobSettings`: `name`, `tasks`, `schedule`, ...). Every
    /// setting not given is removed or reset to its default.
    pub new_settings: Map<String, Value>,
}

/// Replace ALL of a job's settings with `new_settings`: anything not given (schedule, clusters,
/// notifications, tasks...) is lost. Prefer `update_job` to change a few settings; read the job
/// with `get_job` first if you reset it.
#[tool(destructive, idempotent, title = "Reset job settings")]
pub(crate) fn reset_job(ctx: &Context, args: ResetJob) -> Result<Output<JobChange>> {
    let current = fetch_job(ctx, args.job_id)?.get()?;
    let current_tasks = current.settings.as_ref().and_then(|s| s.tasks.as_ref()).map_or(0, Vec::len);
    match args.new_settings.get("tasks") {
        Some(Value::Array(tasks)) if !tasks.is_empty() => {
            let tasks: Vec<Map<String, Value>> = tasks.iter().filter_map(|t| t.as_object().cloned()).collect();
            check_tasks(&tasks)?;
        }
        _ if current_tasks > 0 => {
            return Err(ToolError::invalid(format!(
                "new_settings has no tasks, so the reset would delete all {current_tasks} tasks of job {}; \
                 include the tasks (see get_job), or use update_job to change only some settings",
                args.job_id
            )));
        }
        _ => {}
    }
    if args.new_settings.get("name").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(ToolError::invalid(format!(
            "new_settings has no name; the job is now named \"{}\", give it again to keep it",
            current.name()
        )));
    }
    ctx.post_empty(&path("reset"), &json!({ "job_id": args.job_id, "new_settings": args.new_settings }))?;
    Ok(changed(ctx, args.job_id, format!("Reset all settings of job {}.", args.job_id)))
}

/// Delete a job. Its active runs are cancelled; its run history stays readable for 60 days.
#[tool(destructive, title = "Delete job")]
pub(crate) fn delete_job(ctx: &Context, args: JobId) -> Result<Output<JobChange>> {
    let job = fetch_job(ctx, args.job_id)?.get()?;
    ctx.post_empty(&path("delete"), &json!({ "job_id": args.job_id }))?;
    let message = format!("Deleted job {} ({}).", job.name(), args.job_id);
    Ok(Output::new(message.clone(), JobChange { job_id: args.job_id, message, job: None }))
}

// ---------------------------------------------------------------------------------------------
// Running

/// Arguments of `run_job`.
#[schema]
pub struct RunJob {
    /// The job id.
    pub job_id: i64,
    /// Values of the job's parameters (see `get_job`), e.g. `{"run_date": "2024-06-01"}`.
    #[serde(default)]
    pub job_parameters: Option<BTreeMap<String, String>>,
    /// For jobs with notebook tasks and no job parameters: widget values, e.g. `{"env": "dev"}`.
    #[serde(default)]
    pub notebook_params: Option<BTreeMap<String, String>>,
    /// For Python file tasks: command-line arguments, e.g. `["--date", "2024-06-01"]`.
    #[serde(default)]
    pub python_params: Option<Vec<String>>,
    /// For Python wheel tasks: named arguments.
    #[serde(default)]
    pub python_named_params: Option<BTreeMap<String, String>>,
    /// For JAR tasks: arguments of `main`.
    #[serde(default)]
    pub jar_params: Option<Vec<String>>,
    /// For spark-submit tasks: arguments.
    #[serde(default)]
    pub spark_submit_params: Option<Vec<String>>,
    /// For SQL tasks: parameter values.
    #[serde(default)]
    pub sql_params: Option<BTreeMap<String, String>>,
    /// Run only these tasks (by task key).
    #[serde(default)]
    pub only: Option<Vec<String>>,
    /// A token that makes the call safe to repeat: the same token starts at most one run.
    #[serde(default)]
    pub idempotency_token: Option<String>,
    /// Wait for the run to finish (default false: return once it is started).
    #[serde(default)]
    pub wait: bool,
    /// With `wait`: give up waiting after this many seconds (default 600, at most 1200). The run
    /// goes on; call `wait_for_run` to keep waiting.
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
}

/// A run that a tool started or waited for.
#[schema]
pub struct RunResult {
    /// The run id: poll it with `wait_for_run` or `get_run`.
    pub run_id: i64,
    /// True when the run has finished (TERMINATED, SKIPPED or INTERNAL_ERROR).
    pub finished: bool,
    /// The run as it stands, with all its tasks.
    pub run: Json<Run>,
}

/// Start a run of a job now ("Run now"), optionally with parameters, and optionally wait for it
/// to finish, reporting progress. If this call is cancelled while waiting, the run is cancelled
/// too. When the wait runs out, the run goes on and the result says so.
#[tool(title = "Run job now")]
pub(crate) fn run_job(ctx: &Context, args: RunJob) -> Result<Output<RunResult>> {
    if args.timeout_seconds.is_some() && !args.wait {
        return Err(ToolError::invalid("timeout_seconds applies only with wait: true"));
    }
    let mut body = json!({ "job_id": args.job_id });
    let params = [
        ("job_parameters", args.job_parameters.as_ref().map(|v| json!(v))),
        ("notebook_params", args.notebook_params.as_ref().map(|v| json!(v))),
        ("python_params", args.python_params.as_ref().map(|v| json!(v))),
        ("python_named_params", args.python_named_params.as_ref().map(|v| json!(v))),
        ("jar_params", args.jar_params.as_ref().map(|v| json!(v))),
        ("spark_submit_params", args.spark_submit_params.as_ref().map(|v| json!(v))),
        ("sql_params", args.sql_params.as_ref().map(|v| json!(v))),
        ("only", args.only.as_ref().map(|v| json!(v))),
        ("idempotency_token", args.idempotency_token.as_ref().map(|v| json!(v))),
    ];
    for (field, value) in params {
        if let Some(value) = value {
            body[field] = value;
        }
    }
    #[databricks_mcp_sdk::schema]
    struct Started {
        run_id: i64,
    }
    let started: Started = ctx.post(&path("run-now"), &body)?;
    let run_id = started.run_id;
    if !args.wait {
        let raw = fetch_run(ctx, run_id)?;
        let run = raw.get()?;
        let text = format!(
            "Started run {run_id} of job {}: {}. Call wait_for_run with run_id {run_id} to wait for it.",
            args.job_id,
            run.state().summary()
        );
        return Ok(Output::new(text, RunResult { run_id, finished: run.is_terminal(), run: raw }));
    }
    // Cancelling this call cancels the run it started; once the wait is over, the run is the
    // model's to manage.
    let guard = cancel_on_abort(ctx, run_id)?;
    let waited = wait_for(ctx, run_id, wait_timeout(args.timeout_seconds))?;
    guard.disarm();
    let text = if waited.finished { waited.run.details() } else { still_running(&waited.run, waited.waited) };
    Ok(Output::new(text, RunResult { run_id, finished: waited.finished, run: waited.raw }))
}
