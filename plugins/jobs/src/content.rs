//! Resources and prompts of the jobs plugin: a job's definition and a run's output as
//! resources, and the "debug a failing job run" and "set up a scheduled notebook job" prompts.

use databricks_mcp_sdk::prelude::*;

const API: &str = "/api/2.2/jobs";

/// The variables of the job template.
#[schema]
pub struct JobUri {
    /// The job id.
    pub job_id: String,
}

/// The definition of a job as JSON: its settings (tasks, schedule, clusters, notifications,
/// parameters), creator and creation time. E.g. `databricks://jobs/job/101`.
#[resource(uri = "job/{job_id}", title = "Job definition", mime_type = "application/json")]
pub fn job_definition(ctx: &Context, vars: JobUri) -> Result<Contents> {
    let job: Value = ctx.get(&format!("{API}/get"), &[("job_id", vars.job_id)])?;
    Contents::json(&job)
}

/// The variables of the run output template.
#[schema]
pub struct RunUri {
    /// The run id of a task run (a single-task job's run id works too).
    pub run_id: String,
}

/// The output of a task run, whole, as text: the notebook's exit value or the task's logs, then
/// the error and its stack trace when it failed. E.g. `databricks://jobs/run/2001/output`.
#[resource(uri = "run/{run_id}/output", title = "Run output", mime_type = "text/plain")]
pub fn run_output(ctx: &Context, vars: RunUri) -> Result<Contents> {
    let output: Value = ctx.get(&format!("{API}/runs/get-output"), &[("run_id", vars.run_id.clone())])?;
    let mut text = String::new();
    if let Some(result) = output["notebook_output"]["result"].as_str() {
        text.push_str(result);
        text.push('\n');
    }
    if let Some(logs) = output["logs"].as_str() {
        text.push_str(logs);
        text.push('\n');
    }
    if let Some(error) = output["error"].as_str() {
        text.push_str(&format!("\nError: {error}\n"));
    }
    if let Some(trace) = output["error_trace"].as_str() {
        text.push_str(&format!("\n{trace}\n"));
    }
    if text.is_empty() {
        text = format!("Run {} has no output (yet).", vars.run_id);
    }
    Ok(Contents::text(text))
}

/// Arguments of `debug_job_run`.
#[schema]
pub struct DebugRun {
    /// The run to debug (a job run id from `list_runs`).
    pub run_id: String,
}

/// Debug a failing job run: fetches the run, its tasks' states and the errors of the failed
/// tasks, and says which tools to use to find the cause and repair the run.
#[prompt(title = "Debug a failing job run")]
pub fn debug_job_run(ctx: &Context, args: DebugRun) -> Result<Prompt> {
    let run: Value = ctx.get(&format!("{API}/runs/get"), &[("run_id", args.run_id.clone())])?;
    let state = &run["state"];
    let mut facts = vec![format!(
        "Run {} of job {} ({}): {} / {}{}",
        args.run_id,
        run["job_id"],
        run["run_name"].as_str().unwrap_or("unnamed"),
        state["life_cycle_state"].as_str().unwrap_or("?"),
        state["result_state"].as_str().unwrap_or("no result yet"),
        state["state_message"].as_str().filter(|m| !m.is_empty()).map(|m| format!(": {m}")).unwrap_or_default(),
    )];
    let mut prompt = Prompt::new(format!("Debug job run {}", args.run_id));
    let mut failed = Vec::new();
    for task in run["tasks"].as_array().into_iter().flatten() {
        let result = task["state"]["result_state"].as_str().unwrap_or("");
        facts.push(format!(
            "- task `{}` (run {}): {} / {}",
            task["task_key"].as_str().unwrap_or("?"),
            task["run_id"],
            task["state"]["life_cycle_state"].as_str().unwrap_or("?"),
            if result.is_empty() { "no result yet" } else { result },
        ));
        if matches!(result, "FAILED" | "TIMEDOUT" | "INTERNAL_ERROR") {
            failed.push(task["run_id"].to_string());
        }
    }
    let mut errors = Vec::new();
    for task_run in failed.iter().take(5) {
        let output: Value = ctx.get(&format!("{API}/runs/get-output"), &[("run_id", task_run.clone())])?;
        if let Some(error) = output["error"].as_str() {
            errors.push(format!("Task run {task_run} failed with: {error}"));
        }
    }
    prompt = prompt.user(format!(
        "Find out why this job run failed and how to fix it.\n\n{}\n\n{}\
         Steps:\n\
         1. Read each failed task's whole output: the resource `databricks://jobs/run/<task run id>/output` (or \
         call `get_run_output`), including the stack trace.\n\
         2. Call `get_job` (or read `databricks://jobs/job/{}`) to see the task's code, parameters and cluster.\n\
         3. If the error points at the cluster (library, driver or out-of-memory errors), call `get_cluster` and \
         `list_cluster_events` on it.\n\
         4. If it is a notebook error, `export_workspace_object` the notebook (or read it as \
         `databricks://workspace/<path>`) and find the failing cell.\n\
         5. Compare with the last successful run from `list_runs` (`completed_only`) to see what changed.\n\n\
         Explain the cause in a few sentences, propose the fix, and once it is applied offer `repair_run` \
         to re-run only the failed tasks.",
        facts.join("\n"),
        if errors.is_empty() { String::new() } else { format!("{}\n\n", errors.join("\n")) },
        run["job_id"],
    ));
    for task_run in failed.iter().take(5) {
        prompt = prompt.link(
            ResourceLink::new(format!("run/{task_run}/output"), format!("output of task run {task_run}"))
                .mime_type("text/plain"),
        );
    }
    Ok(prompt)
}

/// Arguments of `schedule_notebook_job`.
#[schema]
pub struct ScheduleNotebook {
    /// The notebook to run, absolute workspace path, e.g. `/Users/me@example.com/etl`.
    pub notebook_path: String,
    /// When, as a Quartz cron expression (default `0 0 6 * * ?`, every day at 06:00).
    #[serde(default)]
    pub cron: Option<String>,
    /// Time zone of the schedule, e.g. `Europe/Amsterdam` (default `UTC`).
    #[serde(default)]
    pub timezone: Option<String>,
}

/// Set up a job that runs a notebook on a schedule: says how to check the notebook and pick compute,
/// gives the exact `create_job` settings and the steps to test and watch it.
#[prompt(title = "Set up a scheduled notebook job")]
pub fn schedule_notebook_job(_ctx: &Context, args: ScheduleNotebook) -> Result<Prompt> {
    let cron = args.cron.unwrap_or_else(|| "0 0 6 * * ?".into());
    let timezone = args.timezone.unwrap_or_else(|| "UTC".into());
    let name = args.notebook_path.rsplit('/').next().unwrap_or("notebook");
    let settings = json!({
        "name": format!("Scheduled: {name}"),
        "tasks": [{
            "task_key": "main",
            "notebook_task": {"notebook_path": args.notebook_path, "source": "WORKSPACE"},
        }],
        "schedule": {"quartz_cron_expression": cron, "timezone_id": timezone, "pause_status": "UNPAUSED"},
        "max_concurrent_runs": 1,
        "email_notifications": {"on_failure": []},
    });
    let settings = databricks_mcp_sdk::serde_json::to_string_pretty(&settings)?;
    Ok(Prompt::new(format!("Schedule {}", args.notebook_path)).user(format!(
        "Set up a job that runs the notebook `{}` on the schedule `{cron}` ({timezone}).\n\n\
         1. Check the notebook exists with `get_workspace_object_status` (and read it as \
         `databricks://workspace/<path>` if its parameters are unclear).\n\
         2. Pick compute: serverless if the workspace has it, else an existing cluster from `list_clusters` \
         (`existing_cluster_id`), or a `new_cluster` for isolation.\n\
         3. Create the job with `create_job` and these settings, adding the compute and the people to notify on \
         failure:\n```json\n{settings}\n```\n\
         4. Test it once with `run_job` and `wait_for_run`; on failure use the `debug_job_run` prompt.\n\
         5. Confirm the schedule with `get_job` (or read `databricks://jobs/job/<job_id>`).",
        args.notebook_path
    )))
}
