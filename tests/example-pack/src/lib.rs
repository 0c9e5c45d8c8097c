//! `job-conventions`: an example tool pack a company could write for its own Databricks rules.
//!
//! - `check_job_names` pages through the workspace's jobs and reports which names break the
//!   company's naming rules ([`rules`]); the operator may list the allowed teams in the
//!   `teams` setting.
//! - `run_conforming_job` runs a job only if its name keeps the rules, waits for the run with
//!   progress reports, and cancels the run if the call is cancelled.
//!
//! It is also the SDK's worked example: typed arguments and output, pagination, a long wait
//! with progress and a cancel hook, an error path, and tests with the SDK's test kit
//! (`src/tests.rs`).

mod rules;
#[cfg(test)]
mod tests;

use std::time::Duration;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request};

const JOBS: &str = "/api/2.2/jobs";

/// Arguments of `check_job_names`.
#[schema]
pub struct CheckJobNames {
    /// How many jobs to check, 1-100 (default 25).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call, to check the next page.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// One job and its verdict.
#[schema]
#[derive(Debug)]
pub struct Verdict {
    /// The job id.
    pub job_id: i64,
    /// The job's name.
    pub name: String,
    /// Why the name breaks the rules; absent when it keeps them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// A page of verdicts.
#[schema]
#[derive(Debug)]
pub struct NameReport {
    /// The jobs on this page.
    pub jobs: Vec<Verdict>,
    /// Pass as `page_token` to check the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// A job as the list and get endpoints return it (only the fields this pack reads).
#[schema]
struct Job {
    job_id: i64,
    #[serde(default)]
    settings: JobSettings,
}

#[schema]
#[derive(Default)]
struct JobSettings {
    #[serde(default)]
    name: String,
}

/// Check the names of the workspace's jobs against the company's naming rules
/// (`team-purpose`, lower-case words joined by dashes), one page at a time. Each line names a
/// job and, when its name breaks the rules, why.
#[tool(read_only, idempotent, title = "Check job names")]
fn check_job_names(ctx: &Context, args: CheckJobNames) -> Result<Output<NameReport>> {
    let teams = rules::teams(ctx.setting("teams"));
    let page = ctx.page::<Job>(
        Request::new(Method::Get, format!("{JOBS}/list")),
        "jobs",
        Paging::QueryToken { size_param: "limit" },
        args.limit.unwrap_or(25).clamp(1, 100),
        args.page_token.as_deref(),
    )?;
    let jobs: Vec<Verdict> = page
        .items
        .into_iter()
        .map(|job| {
            let problem = rules::problem(&job.settings.name, &teams);
            Verdict { job_id: job.job_id, name: job.settings.name, problem }
        })
        .collect();
    let broken = jobs.iter().filter(|j| j.problem.is_some()).count();
    let mut text = format!("{} job(s) checked, {broken} break the naming rules.", jobs.len());
    for job in &jobs {
        match &job.problem {
            Some(problem) => text.push_str(&format!("\n- {} `{}`: {problem}", job.job_id, job.name)),
            None => text.push_str(&format!("\n- {} `{}`: ok", job.job_id, job.name)),
        }
    }
    if let Some(token) = &page.next_page_token {
        text.push_str(&format!("\nMore jobs: call again with page_token `{token}`."));
    }
    Ok(Output::new(text, NameReport { jobs, next_page_token: page.next_page_token }))
}

/// Arguments of `run_conforming_job`.
#[schema]
pub struct RunConformingJob {
    /// The job to run.
    pub job_id: i64,
    /// How long to wait for the run to finish, 1-3600 seconds (default 600). The run goes on
    /// after that; the result says where it stands.
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
}

/// Where a run stands.
#[schema]
#[derive(Debug)]
pub struct RunOutcome {
    /// The run id.
    pub run_id: i64,
    /// True when the run finished within the wait.
    pub finished: bool,
    /// The run's life-cycle state, e.g. `RUNNING` or `TERMINATED`.
    pub state: String,
    /// How a finished run ended, e.g. `SUCCESS` or `FAILED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_state: Option<String>,
}

#[schema]
struct Started {
    run_id: i64,
}

#[schema]
struct Run {
    #[serde(default)]
    state: RunState,
}

#[schema]
#[derive(Default)]
struct RunState {
    #[serde(default)]
    life_cycle_state: Option<String>,
    #[serde(default)]
    result_state: Option<String>,
}

/// Run a job now, but only if its name keeps the company's naming rules, and wait for the run
/// to finish (with progress). A job whose name breaks the rules is not run: rename it first.
/// Cancelling the call cancels the run.
#[tool(title = "Run a conforming job")]
fn run_conforming_job(ctx: &Context, args: RunConformingJob) -> Result<Output<RunOutcome>> {
    let job: Job = ctx.get(&format!("{JOBS}/get"), &[("job_id", args.job_id.to_string())])?;
    if let Some(problem) = rules::problem(&job.settings.name, &rules::teams(ctx.setting("teams"))) {
        return Err(ToolError::Failed(format!(
            "job {} `{}` breaks the naming rules ({problem}); rename it before running it",
            job.job_id, job.settings.name
        )));
    }
    let started: Started = ctx.post(&format!("{JOBS}/run-now"), &json!({"job_id": args.job_id}))?;
    let run_id = started.run_id;
    // If the client cancels (or the call runs out of time) while we wait, the host cancels the
    // run for us; once the wait is over the guard is dropped and nothing is sent.
    let _cancel_run =
        ctx.on_cancel(Request::new(Method::Post, format!("{JOBS}/runs/cancel")).json(&json!({"run_id": run_id}))?)?;
    let timeout = Duration::from_secs(u64::from(args.timeout_seconds.unwrap_or(600).clamp(1, 3600)));
    let wait = Wait::new(format!("run {run_id} of job {}", args.job_id), timeout);
    let waited = ctx.wait_for(&wait, || {
        let run: Run = ctx.get(&format!("{JOBS}/runs/get"), &[("run_id", run_id.to_string())])?;
        let state = run.state.life_cycle_state.unwrap_or_else(|| "UNKNOWN".into());
        Ok(match state.as_str() {
            "TERMINATED" | "SKIPPED" | "INTERNAL_ERROR" => Poll::Ready((state, run.state.result_state)),
            _ => Poll::Pending(state),
        })
    })?;
    let outcome = match waited {
        Waited::Done((state, result_state)) => RunOutcome { run_id, finished: true, state, result_state },
        Waited::StillRunning { last, .. } => RunOutcome { run_id, finished: false, state: last, result_state: None },
    };
    let text = if outcome.finished {
        format!(
            "Run {run_id} of job {} `{}` finished: {}.",
            args.job_id,
            job.settings.name,
            outcome.result_state.as_deref().unwrap_or(&outcome.state)
        )
    } else {
        format!("Run {run_id} of job {} is still {}; it goes on without this call.", args.job_id, outcome.state)
    };
    Ok(Output::new(text, outcome))
}

/// The variables of the naming-verdict template.
#[schema]
pub struct JobUri {
    /// The job id.
    pub job_id: String,
}

/// Whether one job's name keeps the company's naming rules, and why not, as JSON. E.g.
/// `databricks://job-conventions/job/7/naming`.
#[resource(uri = "job/{job_id}/naming", title = "Job naming verdict", mime_type = "application/json")]
fn job_naming(ctx: &Context, vars: JobUri) -> Result<Contents> {
    let job: Job = ctx.get(&format!("{JOBS}/get"), &[("job_id", vars.job_id)])?;
    let problem = rules::problem(&job.settings.name, &rules::teams(ctx.setting("teams")));
    Contents::json(&Verdict { job_id: job.job_id, name: job.settings.name, problem })
}

/// Arguments of the `rename_job` prompt.
#[schema]
pub struct RenameJob {
    /// The job to rename.
    pub job_id: String,
}

/// Rename a job so that it keeps the naming rules: says what is wrong with its name now and
/// how to fix it.
#[prompt(title = "Rename a job to the rules")]
fn rename_job(ctx: &Context, args: RenameJob) -> Result<Prompt> {
    let job: Job = ctx.get(&format!("{JOBS}/get"), &[("job_id", args.job_id.clone())])?;
    let name = job.settings.name;
    Ok(match rules::problem(&name, &rules::teams(ctx.setting("teams"))) {
        None => Prompt::new("Nothing to rename")
            .user(format!("Job {} `{name}` already keeps the naming rules.", args.job_id)),
        Some(problem) => Prompt::new(format!("Rename job {}", args.job_id)).user(format!(
            "Job {} is named `{name}`, which breaks our naming rules: {problem}. Propose a `team-purpose` name \
             (lower-case words joined by dashes) and rename it with `update_job`.",
            args.job_id
        )),
    })
}

/// Job ids of the first page of jobs.
fn job_ids(ctx: &Context, _request: &CompletionRequest) -> Result<Vec<String>> {
    let page: Value = ctx.get(&format!("{JOBS}/list"), &[("limit", "100".into())])?;
    Ok(page["jobs"].as_array().into_iter().flatten().map(|j| j["job_id"].to_string()).collect())
}

databricks_mcp_sdk::plugin! {
    name: "job-conventions",
    description: "Our job naming rules: find jobs that break them, and run only jobs that keep them",
    grants: [
        "GET /api/2.2/jobs/list",
        "GET /api/2.2/jobs/get",
        "POST /api/2.2/jobs/run-now",
        "GET /api/2.2/jobs/runs/get",
        "POST /api/2.2/jobs/runs/cancel",
    ],
    tools: [check_job_names, run_conforming_job],
    resources: [job_naming],
    prompts: [rename_job],
    completions: [job_id => job_ids],
}
