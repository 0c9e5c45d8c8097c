//! `job_status`: how a job's latest runs went, with the error of each failed task.

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request};

use crate::model::{Run, RunOutput, format_duration, truncate};
use crate::path;
use databricks_mcp_sdk::format_time;

/// Arguments of `job_status`.
#[schema]
pub struct JobStatusArgs {
    /// The job id.
    pub job_id: i64,
    /// How many of the latest runs to summarize, 1-25 (default 5).
    #[serde(default)]
    pub runs: Option<u32>,
}

/// A task that did not succeed.
#[schema]
pub struct FailedTask {
    /// The task's key.
    pub task_key: String,
    /// Its task run id (for `get_run_output`).
    pub run_id: i64,
    /// `FAILED`, `TIMEDOUT`, `UPSTREAM_FAILED`...
    pub result_state: String,
    /// The error it reported, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One run in a job's status.
#[schema]
pub struct RunSummary {
    /// Run id.
    pub run_id: i64,
    /// `RUNNING`, `SUCCESS`, `FAILED`...
    pub state: String,
    /// Start, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// Duration so far or in all, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    /// What started it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    /// The run's state message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Tasks that did not succeed, with their errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_tasks: Vec<FailedTask>,
}

/// A job's recent history.
#[schema]
pub struct JobStatus {
    /// The job.
    pub job_id: i64,
    /// Its name.
    pub job_name: String,
    /// Its latest runs, newest first.
    pub runs: Vec<RunSummary>,
    /// Runs still going.
    pub active: u32,
    /// Runs that succeeded.
    pub succeeded: u32,
    /// Runs that ended otherwise (failed, timed out, cancelled, skipped).
    pub failed: u32,
}

/// Most `runs/get-output` calls one status makes (one per failed task).
const MAX_ERROR_LOOKUPS: usize = 10;

/// Summarize how a job has been doing: its latest runs with state, start and duration, and for
/// each failed task the error it reported. The first thing to call when asked "is my job OK?"
/// or "why did it fail?".
#[tool(read_only, idempotent, title = "Job status")]
pub(crate) fn job_status(ctx: &Context, args: JobStatusArgs) -> Result<Output<JobStatus>> {
    let job: crate::model::Job = ctx.get(&path("get"), &[("job_id", args.job_id.to_string())])?;
    let count = args.runs.unwrap_or(5).clamp(1, 25);
    let request = Request::new(Method::Get, path("runs/list")).query("job_id", args.job_id).query("expand_tasks", true);
    let page = ctx.page::<Run>(request, "runs", Paging::QueryToken { size_param: "limit" }, count, None)?;
    let mut lookups = 0;
    let mut summaries = Vec::new();
    let (mut active, mut succeeded, mut failed) = (0, 0, 0);
    for run in &page.items {
        let state = run.state();
        match (state.is_terminal(), state.succeeded()) {
            (false, _) => active += 1,
            (true, true) => succeeded += 1,
            (true, false) => failed += 1,
        }
        let mut failed_tasks = Vec::new();
        for task in run.tasks.iter().flatten() {
            let task_state = task.state();
            if !task_state.is_terminal() || task_state.succeeded() {
                continue;
            }
            let result_state = task_state.result_state.clone().unwrap_or_else(|| task_state.summary());
            // Tasks skipped because of another have no error of their own.
            let own_failure = !result_state.starts_with("UPSTREAM_") && result_state != "CANCELED";
            let error = if own_failure && lookups < MAX_ERROR_LOOKUPS {
                lookups += 1;
                let output: RunOutput = ctx.get(&path("runs/get-output"), &[("run_id", task.run_id.to_string())])?;
                output.error.or_else(|| task_state.message().map(str::to_string))
            } else {
                None
            };
            failed_tasks.push(FailedTask { task_key: task.task_key.clone(), run_id: task.run_id, result_state, error });
        }
        let duration_ms = run.run_duration.or_else(|| run.end_time.zip(run.start_time).map(|(e, s)| e - s));
        summaries.push(RunSummary {
            run_id: run.run_id,
            state: state.summary(),
            start_time: run.start_time,
            duration_ms,
            trigger: run.trigger.clone(),
            message: state.message().map(str::to_string),
            failed_tasks,
        });
    }
    let name = job.name().to_string();
    let mut lines = vec![match summaries.len() {
        0 => format!("{name} (job {}) has no runs yet.", args.job_id),
        n => format!(
            "{name} (job {}): last {n} run(s): {active} active, {succeeded} succeeded, {failed} failed or cancelled.",
            args.job_id
        ),
    }];
    if let Some(schedule) = job.settings.as_ref().and_then(|s| s.schedule.as_ref()) {
        lines.push(format!("Schedule: {}", schedule.describe()));
    }
    for s in &summaries {
        let mut line = format!("run {}: {}", s.run_id, s.state);
        if let Some(start) = s.start_time {
            line.push_str(&format!(", started {}", format_time(start)));
        }
        if let Some(ms) = s.duration_ms {
            line.push_str(&format!(", took {}", format_duration(ms)));
        }
        if let Some(trigger) = &s.trigger {
            line.push_str(&format!(" ({trigger})"));
        }
        lines.push(line);
        for t in &s.failed_tasks {
            let error = t.error.as_deref().map(|e| format!(": {}", truncate(e, 400).0)).unwrap_or_default();
            lines.push(format!("  {} (task run {}): {}{error}", t.task_key, t.run_id, t.result_state));
        }
    }
    if page.next_page_token.is_some() {
        lines.push("Older runs: list_runs with this job_id.".to_string());
    }
    Ok(Output::new(
        lines.join("\n"),
        JobStatus { job_id: args.job_id, job_name: name, runs: summaries, active, succeeded, failed },
    ))
}
