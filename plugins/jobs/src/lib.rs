//! Databricks jobs as MCP tools: list, inspect, create, update, reset and delete jobs; run them
//! (with parameters), run a notebook once and get its exit value, list and inspect runs, read
//! their output task by task, cancel, repair, export, wait with progress, and summarize how a
//! job's latest runs went.
//!
//! Names follow `verb_noun`. Lists take `limit` and `page_token` and return one page at a time.
//! Everything goes through Jobs API 2.2, whose `jobs/get` and `runs/get` page the arrays inside a
//! job or run (`tasks`, `job_clusters`, ...) 100 at a time: `get_job` and `get_run` follow those
//! pages and return the whole object. Waits are bounded: when one runs out, the tool says the run
//! is still going and how to keep waiting, and that is a result, not an error.

mod content;
mod export;
mod jobs;
mod model;
mod notebook;
mod runs;
mod status;

use std::time::Duration;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::serde_json::Map;
use databricks_mcp_sdk::{Method, Request};

use content::{debug_job_run, job_definition, run_output, schedule_notebook_job};
use export::export_run;
use jobs::{create_job, delete_job, get_job, list_jobs, reset_job, run_job, update_job};
use model::{Job, Run};
use notebook::run_notebook;
use runs::{cancel_all_runs, cancel_run, get_run, get_run_output, list_runs, repair_run, wait_for_run};
use status::job_status;

const API: &str = "/api/2.2/jobs";

fn path(endpoint: &str) -> String {
    format!("{API}/{endpoint}")
}

/// Arrays of a job's settings that Jobs 2.2 pages.
const JOB_ARRAYS: [&str; 4] = ["tasks", "job_clusters", "parameters", "environments"];
/// Arrays of a run that Jobs 2.2 pages.
const RUN_ARRAYS: [&str; 5] = ["tasks", "job_clusters", "job_parameters", "repair_history", "iterations"];
/// More pages than any job or run has (1000 tasks at 100 a page); a guard against a server loop.
const MAX_ARRAY_PAGES: usize = 50;

/// `GET` an object whose arrays Jobs 2.2 pages, following `next_page_token` and appending each
/// page's arrays (inside `container`, or at the top level) to the first page's.
fn get_all_pages(
    ctx: &Context,
    endpoint: &str,
    query: &[(&str, String)],
    container: Option<&str>,
    arrays: &[&str],
) -> Result<Map<String, Value>> {
    let mut whole: Map<String, Value> = ctx.get(&path(endpoint), query)?;
    for _ in 0..MAX_ARRAY_PAGES {
        let Some(token) = whole.remove("next_page_token").and_then(|t| t.as_str().map(str::to_string)) else { break };
        whole.remove("has_more");
        if token.is_empty() {
            break;
        }
        let mut query = query.to_vec();
        query.push(("page_token", token));
        let mut page: Map<String, Value> = ctx.get(&path(endpoint), &query)?;
        let next = page.remove("next_page_token");
        let source = match container {
            Some(key) => page.remove(key).and_then(|v| match v {
                Value::Object(map) => Some(map),
                _ => None,
            }),
            None => Some(page),
        };
        let target = match container {
            Some(key) => whole.entry(key).or_insert_with(|| Value::Object(Map::new())).as_object_mut(),
            None => Some(&mut whole),
        };
        if let (Some(source), Some(target)) = (source, target) {
            for array in arrays {
                if let Some(Value::Array(items)) = source.get(*array) {
                    match target.get_mut(*array) {
                        Some(Value::Array(existing)) => existing.extend(items.iter().cloned()),
                        _ => {
                            target.insert((*array).to_string(), Value::Array(items.clone()));
                        }
                    }
                }
            }
        }
        if let Some(next) = next {
            whole.insert("next_page_token".into(), next);
        }
    }
    whole.remove("next_page_token");
    whole.remove("has_more");
    Ok(whole)
}

/// A job with every page of its tasks, job clusters, parameters and environments.
fn fetch_job(ctx: &Context, job_id: i64) -> Result<Json<Job>> {
    let job = get_all_pages(ctx, "get", &[("job_id", job_id.to_string())], Some("settings"), &JOB_ARRAYS)?;
    Ok(Json::new(Value::Object(job)))
}

/// A run (or task run) with every page of its tasks, parameters, repair history and iterations.
fn fetch_run(ctx: &Context, run_id: i64) -> Result<Json<Run>> {
    let run = get_all_pages(ctx, "runs/get", &[("run_id", run_id.to_string())], None, &RUN_ARRAYS)?;
    Ok(Json::new(Value::Object(run)))
}

/// The first page of a run: enough to poll its state.
fn poll_run(ctx: &Context, run_id: i64) -> Result<Run> {
    let run: Json<Run> = ctx.get(&path("runs/get"), &[("run_id", run_id.to_string())])?;
    run.get()
}

/// How a bounded wait for a run ended.
struct Waited {
    raw: Json<Run>,
    run: Run,
    finished: bool,
    waited: Duration,
}

/// The timeout of a wait: `seconds` (default 600), at most 1200 s.
fn wait_timeout(seconds: Option<u32>) -> Duration {
    Duration::from_secs(u64::from(seconds.unwrap_or(600).clamp(1, 1200)))
}

/// Wait until the run is TERMINATED, SKIPPED or INTERNAL_ERROR (as the SDK's waiter), reporting
/// progress. Running out of time is not an error: the run is returned as it stands, unfinished.
fn wait_for(ctx: &Context, run_id: i64, timeout: Duration) -> Result<Waited> {
    let wait = Wait::new(format!("run {run_id} to finish"), timeout);
    let started = std::time::Instant::now();
    let finished = ctx
        .wait_for(&wait, || {
            let run = poll_run(ctx, run_id)?;
            Ok(if run.is_terminal() { Poll::Ready(()) } else { Poll::Pending(run.progress()) })
        })?
        .is_done();
    let raw = fetch_run(ctx, run_id)?;
    let run = raw.get()?;
    Ok(Waited { raw, run, finished, waited: started.elapsed() })
}

/// Send `runs/cancel` for this run if the call is cancelled before the guard goes.
fn cancel_on_abort(ctx: &Context, run_id: i64) -> Result<databricks_mcp_sdk::Compensation> {
    ctx.on_cancel(Request::new(Method::Post, path("runs/cancel")).json(&json!({ "run_id": run_id }))?)
}

/// The sentence that tells the model a wait ran out and how to go on.
fn still_running(run: &Run, waited: Duration) -> String {
    format!(
        "Run {} is still {} after waiting {:.0} s; it keeps running. Call wait_for_run with run_id {} to keep waiting, or get_run to check on it.",
        run.run_id,
        run.progress(),
        waited.as_secs_f64(),
        run.run_id
    )
}

databricks_mcp_sdk::plugin! {
    name: "jobs",
    description: "Databricks jobs: list, inspect, create, update, reset, delete and run jobs, run a notebook once, list and inspect runs and their output, cancel, repair, export, wait, and summarize a job's latest runs",
    grants: [
        "GET /api/2.2/jobs/list",
        "GET /api/2.2/jobs/get",
        "POST /api/2.2/jobs/create",
        "POST /api/2.2/jobs/update",
        "POST /api/2.2/jobs/reset",
        "POST /api/2.2/jobs/delete",
        "POST /api/2.2/jobs/run-now",
        "POST /api/2.2/jobs/runs/submit",
        "GET /api/2.2/jobs/runs/list",
        "GET /api/2.2/jobs/runs/get",
        "GET /api/2.2/jobs/runs/get-output",
        "POST /api/2.2/jobs/runs/cancel",
        "POST /api/2.2/jobs/runs/cancel-all",
        "POST /api/2.2/jobs/runs/repair",
        "GET /api/2.2/jobs/runs/export",
    ],
    tools: [
        list_jobs,
        get_job,
        create_job,
        update_job,
        reset_job,
        delete_job,
        run_job,
        run_notebook,
        list_runs,
        get_run,
        get_run_output,
        cancel_run,
        cancel_all_runs,
        repair_run,
        export_run,
        wait_for_run,
        job_status,
    ],
    resources: [job_definition, run_output],
    prompts: [debug_job_run, schedule_notebook_job],
}
