//! Run tools: list, get, output, cancel, cancel all, repair, and wait.

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request};

use crate::jobs::RunResult;
use crate::model::{Run, RunOutput, RunTask, tail, truncate};
use crate::{cancel_on_abort, fetch_job, fetch_run, path, poll_run, still_running, wait_for, wait_timeout};

// ---------------------------------------------------------------------------------------------
// Reading

/// Kinds of run.
#[schema]
#[derive(Debug, Clone, Copy)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(clippy::enum_variant_names, reason = "the API's names")]
pub enum RunType {
    /// Runs of a job (scheduled, triggered or run now).
    JobRun,
    /// One-time runs (`runs/submit`, e.g. `run_notebook`).
    SubmitRun,
    /// Runs started by a notebook's `dbutils.notebook.run`.
    WorkflowRun,
}

/// Arguments of `list_runs`.
#[schema]
pub struct ListRuns {
    /// Only runs of this job.
    #[serde(default)]
    pub job_id: Option<i64>,
    /// Only runs still going (queued, pending, running, terminating).
    #[serde(default)]
    pub active_only: bool,
    /// Only finished runs.
    #[serde(default)]
    pub completed_only: bool,
    /// Only runs of this kind.
    #[serde(default)]
    pub run_type: Option<RunType>,
    /// Only runs started at or after this time, epoch milliseconds.
    #[serde(default)]
    pub start_time_from: Option<i64>,
    /// Only runs started at or before this time, epoch milliseconds.
    #[serde(default)]
    pub start_time_to: Option<i64>,
    /// Include each run's tasks.
    #[serde(default)]
    pub expand_tasks: bool,
    /// How many runs to return, 1-25 (default 20).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call, to get the next page.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of runs.
#[schema]
pub struct RunList {
    /// The runs on this page, newest first, as the workspace returned them.
    pub runs: Vec<Json<Run>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List runs, newest first, one page at a time: of one job or all, active or finished, of a kind,
/// started in a time range. Each line shows run id, job, state, start and duration.
#[tool(read_only, idempotent, title = "List runs")]
pub(crate) fn list_runs(ctx: &Context, args: ListRuns) -> Result<Output<RunList>> {
    if args.active_only && args.completed_only {
        return Err(ToolError::invalid("active_only and completed_only exclude each other; give at most one"));
    }
    if let (Some(from), Some(to)) = (args.start_time_from, args.start_time_to)
        && from > to
    {
        return Err(ToolError::invalid("start_time_from is after start_time_to"));
    }
    let mut request = Request::new(Method::Get, path("runs/list"))
        .query_opt("job_id", args.job_id)
        .query_opt("start_time_from", args.start_time_from)
        .query_opt("start_time_to", args.start_time_to);
    for (flag, name) in [
        (args.active_only, "active_only"),
        (args.completed_only, "completed_only"),
        (args.expand_tasks, "expand_tasks"),
    ] {
        if flag {
            request = request.query(name, true);
        }
    }
    if let Some(kind) = args.run_type {
        let kind = match kind {
            RunType::JobRun => "JOB_RUN",
            RunType::SubmitRun => "SUBMIT_RUN",
            RunType::WorkflowRun => "WORKFLOW_RUN",
        };
        request = request.query("run_type", kind);
    }
    let limit = args.limit.unwrap_or(20).clamp(1, 25);
    let page = ctx.page::<Json<Run>>(
        request,
        "runs",
        Paging::QueryToken { size_param: "limit" },
        limit,
        args.page_token.as_deref(),
    )?;
    let mut lines = Vec::new();
    for raw in &page.items {
        let run = raw.get()?;
        lines.push(run.line());
        if let Some(tasks) = run.tasks.as_ref().filter(|t| t.len() > 1) {
            lines.extend(tasks.iter().map(RunTask::line));
        }
    }
    if lines.is_empty() {
        lines.push("No runs match.".to_string());
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More runs: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(lines.join("\n"), RunList { runs: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one run.
#[schema]
pub struct RunId {
    /// The run id (see `list_runs`); a task run id also works for reading.
    pub run_id: i64,
}

/// Get one run: state, each task's state and task run id (every page of them), parameters,
/// repair attempts and the run page URL.
#[tool(read_only, idempotent, title = "Get run")]
pub(crate) fn get_run(ctx: &Context, args: RunId) -> Result<Output<Json<Run>>> {
    let raw = fetch_run(ctx, args.run_id)?;
    let run = raw.get()?;
    Ok(Output::new(run.details(), raw))
}

/// Arguments of `get_run_output`.
#[schema]
pub struct GetRunOutput {
    /// A run id or a task run id.
    pub run_id: i64,
    /// For a run of several tasks: only these tasks (default: all, at most 20).
    #[serde(default)]
    pub task_keys: Option<Vec<String>>,
    /// Show at most this many characters of each output, error trace and log in the text (default 2000, at most 20000); the structured result is complete.
    #[serde(default)]
    pub max_chars: Option<u32>,
}

/// The output of one task run.
#[schema]
pub struct TaskOutput {
    /// The task's key.
    pub task_key: String,
    /// The task run id.
    pub run_id: i64,
    /// The task's state: `SUCCESS`, `FAILED`, `RUNNING`...
    pub state: String,
    /// Its output as the workspace returned it.
    pub output: Json<RunOutput>,
}

/// Outputs of a run's tasks.
#[schema]
pub struct RunOutputs {
    /// The run asked about.
    pub run_id: i64,
    /// One output per task.
    pub outputs: Vec<TaskOutput>,
    /// Tasks left out because of the limit of 20 per call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub omitted_task_keys: Vec<String>,
}

const MAX_OUTPUTS: usize = 20;

/// Get what a run produced: for each task, the notebook's exit value, the logs of a Python or JAR
/// task, or the error and stack trace of a failed task. A run of several tasks is read task by
/// task (by task run id); `task_keys` picks some.
#[tool(read_only, idempotent, title = "Get run output")]
pub(crate) fn get_run_output(ctx: &Context, args: GetRunOutput) -> Result<Output<RunOutputs>> {
    let max = args.max_chars.unwrap_or(2000).clamp(100, 20_000) as usize;
    let raw = fetch_run(ctx, args.run_id)?;
    let run = raw.get()?;
    let tasks: Vec<RunTask> = match run.tasks.clone().filter(|t| !t.is_empty()) {
        Some(tasks) => tasks,
        // A task run: its own output.
        None => {
            let key = raw.value().get("task_key").and_then(Value::as_str).unwrap_or("task").to_string();
            vec![RunTask {
                run_id: args.run_id,
                task_key: key,
                state: run.state.clone(),
                start_time: run.start_time,
                end_time: run.end_time,
                execution_duration: None,
                attempt_number: None,
            }]
        }
    };
    let mut wanted: Vec<RunTask> = match &args.task_keys {
        Some(keys) if !keys.is_empty() => {
            let unknown: Vec<&String> = keys.iter().filter(|k| !tasks.iter().any(|t| &&t.task_key == k)).collect();
            if !unknown.is_empty() {
                let known: Vec<&str> = tasks.iter().map(|t| t.task_key.as_str()).collect();
                return Err(ToolError::invalid(format!(
                    "run {} has no task {}; its tasks are {}",
                    args.run_id,
                    unknown.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", "),
                    known.join(", ")
                )));
            }
            tasks.into_iter().filter(|t| keys.contains(&t.task_key)).collect()
        }
        _ => tasks,
    };
    let omitted: Vec<String> =
        wanted.split_off(wanted.len().min(MAX_OUTPUTS)).into_iter().map(|t| t.task_key).collect();
    let mut outputs = Vec::new();
    let mut lines = vec![run.line()];
    for task in wanted {
        let output: Json<RunOutput> = ctx.get(&path("runs/get-output"), &[("run_id", task.run_id.to_string())])?;
        let state = task.state().summary();
        lines.push(format!("{} (task run {}): {state}", task.task_key, task.run_id));
        let (shown, cut) = output_lines(&output.get()?, max, task.state().is_terminal());
        lines.extend(shown);
        if cut {
            // The whole output is one resource read away; link it rather than have the client
            // raise max_chars and call again.
            let uri = format!("run/{}/output", task.run_id);
            lines.push(format!("  [The whole output is the resource databricks://jobs/{uri}.]"));
            ctx.link_resource(
                ResourceLink::new(uri, format!("output of task run {}", task.run_id))
                    .title(format!("Output of {} (task run {})", task.task_key, task.run_id))
                    .description(format!("The whole output of task `{}` of run {}", task.task_key, args.run_id))
                    .mime_type("text/plain"),
            );
        }
        outputs.push(TaskOutput { task_key: task.task_key, run_id: task.run_id, state, output });
    }
    if !omitted.is_empty() {
        lines.push(format!(
            "{} more tasks not shown: call again with task_keys from {}.",
            omitted.len(),
            omitted.join(", ")
        ));
    }
    Ok(Output::new(lines.join("\n"), RunOutputs { run_id: args.run_id, outputs, omitted_task_keys: omitted }))
}

/// The text lines of one task's output, each part cut to `max` characters, and whether any was.
fn output_lines(output: &RunOutput, max: usize, finished: bool) -> (Vec<String>, bool) {
    let mut lines = Vec::new();
    let any_cut = [
        output.error.as_deref(),
        output.error_trace.as_deref(),
        output.notebook_output.as_ref().and_then(|n| n.result.as_deref()),
        output.logs.as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(|t| t.chars().count() > max);
    let cut = |text: &str| {
        let (shown, cut) = truncate(text, max);
        if cut {
            format!("{shown}... [{} characters in all; raise max_chars to see more]", text.chars().count())
        } else {
            shown
        }
    };
    if let Some(error) = &output.error {
        lines.push(format!("  Error: {}", cut(error)));
    }
    if let Some(trace) = output.error_trace.as_deref().filter(|t| Some(*t) != output.error.as_deref()) {
        lines.push(format!("  Trace:\n{}", tail(trace, max)));
    }
    if let Some(result) = output.notebook_output.as_ref().and_then(|n| n.result.as_ref()) {
        lines.push(format!("  Exit value: {}", cut(result)));
    }
    if let Some(logs) = &output.logs {
        lines.push(format!("  Logs:\n{}", tail(logs, max)));
    }
    if lines.is_empty() {
        lines.push(if finished { "  No output." } else { "  No output yet: the task has not finished." }.to_string());
    }
    (lines, any_cut)
}

// ---------------------------------------------------------------------------------------------
// Acting on runs

/// Cancel a run (and its unfinished tasks). Cancelling takes a moment; the run ends CANCELED.
#[tool(destructive, idempotent, title = "Cancel run")]
pub(crate) fn cancel_run(ctx: &Context, args: RunId) -> Result<Output<RunResult>> {
    let before = poll_run(ctx, args.run_id)?;
    if before.is_terminal() {
        let raw = fetch_run(ctx, args.run_id)?;
        let text = format!("Run {} already finished ({}); nothing to cancel.", args.run_id, before.state().summary());
        return Ok(Output::new(text, RunResult { run_id: args.run_id, finished: true, run: raw }));
    }
    ctx.post_empty(&path("runs/cancel"), &json!({ "run_id": args.run_id }))?;
    let raw = fetch_run(ctx, args.run_id)?;
    let run = raw.get()?;
    let text = format!("Cancelling run {}: it is now {}.", args.run_id, run.state().summary());
    Ok(Output::new(text, RunResult { run_id: args.run_id, finished: run.is_terminal(), run: raw }))
}

/// Arguments of `cancel_all_runs`.
#[schema]
pub struct CancelAllRuns {
    /// Cancel the active runs of this job.
    #[serde(default)]
    pub job_id: Option<i64>,
    /// Cancel only queued runs (of `job_id`, or of every job when no job_id is given).
    #[serde(default)]
    pub all_queued_runs: bool,
}

/// Runs cancelled.
#[schema]
pub struct CancelledRuns {
    /// The job, if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<i64>,
    /// Runs that were active (or queued) just before, and are being cancelled (first 25).
    pub run_ids: Vec<i64>,
    /// What was done.
    pub message: String,
}

/// Cancel every active run of a job (or only its queued runs, or every queued run of the
/// workspace with `all_queued_runs` and no job).
#[tool(destructive, idempotent, title = "Cancel all runs")]
pub(crate) fn cancel_all_runs(ctx: &Context, args: CancelAllRuns) -> Result<Output<CancelledRuns>> {
    if args.job_id.is_none() && !args.all_queued_runs {
        return Err(ToolError::invalid("give job_id, or all_queued_runs: true to cancel every queued run"));
    }
    if let Some(job_id) = args.job_id {
        // Reports a missing job, or one the caller cannot see, before anything is cancelled.
        fetch_job(ctx, job_id)?;
    }
    let request =
        Request::new(Method::Get, path("runs/list")).query_opt("job_id", args.job_id).query("active_only", true);
    let active = ctx.page::<Json<Run>>(request, "runs", Paging::QueryToken { size_param: "limit" }, 25, None)?;
    let run_ids: Vec<i64> = active
        .items
        .iter()
        .filter_map(|r| r.get().ok())
        .filter(|r| !args.all_queued_runs || r.state().life_cycle_state.as_deref() == Some("QUEUED"))
        .map(|r| r.run_id)
        .collect();
    let mut body = json!({});
    if let Some(job_id) = args.job_id {
        body["job_id"] = json!(job_id);
    }
    if args.all_queued_runs {
        body["all_queued_runs"] = json!(true);
    }
    ctx.post_empty(&path("runs/cancel-all"), &body)?;
    let what = if args.all_queued_runs { "queued" } else { "active" };
    let scope = args.job_id.map_or_else(|| "of every job".to_string(), |id| format!("of job {id}"));
    let message = if run_ids.is_empty() {
        format!("No {what} runs {scope} to cancel.")
    } else {
        let ids: Vec<String> = run_ids.iter().map(i64::to_string).collect();
        format!("Cancelling {} {what} run(s) {scope}: {}.", run_ids.len(), ids.join(", "))
    };
    Ok(Output::new(message.clone(), CancelledRuns { job_id: args.job_id, run_ids, message }))
}

/// Arguments of `repair_run`.
#[schema]
pub struct RepairRun {
    /// The run id of the finished job run to repair.
    pub run_id: i64,
    /// Rerun these tasks (by task key). Without it, every task that did not succeed is rerun.
    #[serde(default)]
    pub rerun_tasks: Option<Vec<String>>,
    /// Also rerun the tasks that depend on the rerun ones.
    #[serde(default)]
    pub rerun_dependent_tasks: bool,
    /// New values of job parameters for the rerun tasks.
    #[serde(default)]
    pub job_parameters: Option<std::collections::BTreeMap<String, String>>,
    /// New notebook widget values for the rerun tasks.
    #[serde(default)]
    pub notebook_params: Option<std::collections::BTreeMap<String, String>>,
    /// Wait for the repair to finish (default false).
    #[serde(default)]
    pub wait: bool,
    /// With `wait`: give up waiting after this many seconds (default 600, at most 1200).
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
}

/// Repair a finished job run: rerun its failed tasks (or the tasks named), in the same run, with
/// new task run ids. Optionally wait for the repair to finish; if this call is cancelled while
/// waiting, the run is cancelled.
#[tool(title = "Repair run")]
pub(crate) fn repair_run(ctx: &Context, args: RepairRun) -> Result<Output<RunResult>> {
    if args.timeout_seconds.is_some() && !args.wait {
        return Err(ToolError::invalid("timeout_seconds applies only with wait: true"));
    }
    let run = fetch_run(ctx, args.run_id)?.get()?;
    if !run.is_terminal() {
        return Err(ToolError::invalid(format!(
            "run {} is still {}; a run can be repaired once it has finished (wait_for_run)",
            args.run_id,
            run.state().summary()
        )));
    }
    let mut body = json!({ "run_id": args.run_id });
    let rerun: Vec<String> = match args.rerun_tasks.as_ref().filter(|t| !t.is_empty()) {
        Some(keys) => {
            body["rerun_tasks"] = json!(keys);
            keys.clone()
        }
        None => {
            let failed: Vec<String> = run
                .tasks
                .iter()
                .flatten()
                .filter(|t| t.state().is_terminal() && !t.state().succeeded())
                .map(|t| t.task_key.clone())
                .collect();
            if failed.is_empty() {
                return Err(ToolError::invalid(format!(
                    "every task of run {} succeeded; name the tasks to rerun in rerun_tasks",
                    args.run_id
                )));
            }
            body["rerun_all_failed_tasks"] = json!(true);
            failed
        }
    };
    if args.rerun_dependent_tasks {
        body["rerun_dependent_tasks"] = json!(true);
    }
    if let Some(id) = run.latest_repair_id() {
        body["latest_repair_id"] = json!(id);
    }
    if let Some(params) = &args.job_parameters {
        body["job_parameters"] = json!(params);
    }
    if let Some(params) = &args.notebook_params {
        body["notebook_params"] = json!(params);
    }
    #[databricks_mcp_sdk::schema]
    struct Repaired {
        repair_id: i64,
    }
    let repaired: Repaired = ctx.post(&path("runs/repair"), &body)?;
    let started = format!("Repair {} of run {} reruns {}.", repaired.repair_id, args.run_id, rerun.join(", "));
    if !args.wait {
        let raw = fetch_run(ctx, args.run_id)?;
        let finished = raw.get()?.is_terminal();
        let text = format!("{started} Call wait_for_run with run_id {} to wait for it.", args.run_id);
        return Ok(Output::new(text, RunResult { run_id: args.run_id, finished, run: raw }));
    }
    let guard = cancel_on_abort(ctx, args.run_id)?;
    let waited = wait_for(ctx, args.run_id, wait_timeout(args.timeout_seconds))?;
    guard.disarm();
    let text = if waited.finished {
        format!("{started}\n{}", waited.run.details())
    } else {
        format!("{started}\n{}", still_running(&waited.run, waited.waited))
    };
    Ok(Output::new(text, RunResult { run_id: args.run_id, finished: waited.finished, run: waited.raw }))
}

/// Arguments of `wait_for_run`.
#[schema]
pub struct WaitForRun {
    /// The run id.
    pub run_id: i64,
    /// Give up waiting after this many seconds (default 600, at most 1200). The run goes on.
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
}

/// Wait until a run finishes (TERMINATED, SKIPPED or INTERNAL_ERROR), reporting progress, then
/// show how it ended and each task's state. When the wait runs out, the run goes on and the
/// result says so (call again to keep waiting).
#[tool(read_only, idempotent, title = "Wait for run")]
pub(crate) fn wait_for_run(ctx: &Context, args: WaitForRun) -> Result<Output<RunResult>> {
    let waited = wait_for(ctx, args.run_id, wait_timeout(args.timeout_seconds))?;
    let text = if waited.finished { waited.run.details() } else { still_running(&waited.run, waited.waited) };
    Ok(Output::new(text, RunResult { run_id: args.run_id, finished: waited.finished, run: waited.raw }))
}
