//! `run_notebook`: a one-time run of one notebook (`runs/submit`), waited for, with its exit
//! value or its error.

use std::collections::BTreeMap;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::serde_json::Map;

use crate::model::{Run, RunOutput, tail, truncate};
use crate::{cancel_on_abort, path, still_running, wait_for, wait_timeout};

/// Arguments of `run_notebook`.
#[schema]
pub struct RunNotebook {
    /// Absolute workspace path of the notebook, e.g. `/Workspace/Users/me@example.com/analysis` or `/Shared/report`.
    pub notebook_path: String,
    /// Widget values the notebook reads with `dbutils.widgets.get`, e.g. `{"date": "2024-06-01"}`.
    #[serde(default)]
    pub base_parameters: Option<BTreeMap<String, String>>,
    /// Run on this all-purpose cluster (see `list_clusters`). Give this, or `new_cluster`, or
    /// neither to run on serverless compute.
    #[serde(default)]
    pub existing_cluster_id: Option<String>,
    /// Run on a new cluster with this spec, e.g. `{"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}`.
    #[serde(default)]
    pub new_cluster: Option<Map<String, Value>>,
    /// Name of the run (default: `MCP: <notebook name>`).
    #[serde(default)]
    pub run_name: Option<String>,
    /// Give up waiting after this many seconds (default 600, at most 1200). The run goes on; call
    /// `wait_for_run` to keep waiting.
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
    /// A token that makes the call safe to repeat: the same token starts at most one run.
    #[serde(default)]
    pub idempotency_token: Option<String>,
}

/// A notebook run's outcome.
#[schema]
pub struct NotebookResult {
    /// The one-time run.
    pub run_id: i64,
    /// The notebook task's run id (for `get_run_output` and `export_run`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_run_id: Option<i64>,
    /// True when the run has finished.
    pub finished: bool,
    /// `SUCCESS` once it succeeded; the life cycle state while it runs.
    pub state: String,
    /// The value the notebook passed to `dbutils.notebook.exit()`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_value: Option<String>,
    /// Whether the workspace truncated the exit value.
    #[serde(default)]
    pub exit_value_truncated: bool,
    /// The run's page in the workspace UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_page_url: Option<String>,
    /// The run, with its task.
    pub run: Json<Run>,
}

/// Run a notebook once (a one-time run, not a job) on an existing cluster, a new cluster or
/// serverless compute, wait for it with progress, and return the value it passed to
/// `dbutils.notebook.exit()`. If the notebook fails, the call fails with its error and the end of
/// its stack trace. If this call is cancelled, the run is cancelled. When the wait runs out, the
/// run goes on and the result says how to keep waiting.
#[tool(title = "Run notebook")]
pub(crate) fn run_notebook(ctx: &Context, args: RunNotebook) -> Result<Output<NotebookResult>> {
    if !args.notebook_path.starts_with('/') {
        return Err(ToolError::invalid(format!(
            "notebook_path must be an absolute workspace path such as /Workspace/Users/<you>/<notebook>, not \"{}\"",
            args.notebook_path
        )));
    }
    if args.existing_cluster_id.is_some() && args.new_cluster.is_some() {
        return Err(ToolError::invalid(
            "give existing_cluster_id or new_cluster, not both (or neither for serverless)",
        ));
    }
    let name = args.notebook_path.rsplit('/').next().unwrap_or(&args.notebook_path).to_string();
    let mut notebook_task = json!({ "notebook_path": args.notebook_path, "source": "WORKSPACE" });
    if let Some(params) = &args.base_parameters {
        notebook_task["base_parameters"] = json!(params);
    }
    let mut task = json!({ "task_key": "notebook", "notebook_task": notebook_task });
    if let Some(id) = &args.existing_cluster_id {
        task["existing_cluster_id"] = json!(id);
    }
    if let Some(spec) = &args.new_cluster {
        task["new_cluster"] = json!(spec);
    }
    let mut body = json!({
        "run_name": args.run_name.clone().unwrap_or_else(|| format!("MCP: {name}")),
        "tasks": [task],
    });
    if let Some(token) = &args.idempotency_token {
        body["idempotency_token"] = json!(token);
    }
    #[databricks_mcp_sdk::schema]
    struct Submitted {
        run_id: i64,
    }
    let submitted: Submitted = ctx.post(&path("runs/submit"), &body)?;
    let run_id = submitted.run_id;

    // The run exists only for this call: cancelling the call cancels it.
    let guard = cancel_on_abort(ctx, run_id)?;
    let waited = wait_for(ctx, run_id, wait_timeout(args.timeout_seconds))?;
    guard.disarm();
    let run = &waited.run;
    let task_run_id = run.tasks.as_ref().and_then(|t| t.first()).map(|t| t.run_id);
    let state = run.state();
    let mut result = NotebookResult {
        run_id,
        task_run_id,
        finished: waited.finished,
        state: state.summary(),
        exit_value: None,
        exit_value_truncated: false,
        run_page_url: run.run_page_url.clone(),
        run: waited.raw.clone(),
    };
    if !waited.finished {
        return Ok(Output::new(still_running(run, waited.waited), result));
    }
    let output: Option<RunOutput> = match task_run_id {
        Some(id) => Some(ctx.get(&path("runs/get-output"), &[("run_id", id.to_string())])?),
        None => None,
    };
    let page = run.run_page_url.as_deref().map(|u| format!("\nRun page: {u}")).unwrap_or_default();
    if !state.succeeded() {
        let mut message =
            format!("notebook {} did not succeed: run {run_id} ended {}", args.notebook_path, state.summary());
        if let Some(text) = state.message() {
            message.push_str(&format!(" ({text})"));
        }
        if let Some(error) = output.as_ref().and_then(|o| o.error.as_deref()) {
            message.push_str(&format!(".\nError: {}", truncate(error, 2000).0));
        }
        if let Some(trace) = output.as_ref().and_then(|o| o.error_trace.as_deref()) {
            message.push_str(&format!("\nTrace (end):\n{}", tail(trace, 3000)));
        }
        message.push_str(&format!("{page}\nSee get_run_output with run_id {run_id} for the full output."));
        return Err(ToolError::Failed(message));
    }
    let notebook = output.and_then(|o| o.notebook_output);
    result.exit_value = notebook.as_ref().and_then(|n| n.result.clone());
    result.exit_value_truncated = notebook.and_then(|n| n.truncated).unwrap_or(false);
    let text = match &result.exit_value {
        Some(value) => {
            let (shown, cut) = truncate(value, 20_000);
            let note = if cut { " [cut here; the structured result has all of it]" } else { "" };
            format!("Notebook {} succeeded (run {run_id}). Exit value:\n{shown}{note}{page}", args.notebook_path)
        }
        None => format!(
            "Notebook {} succeeded (run {run_id}); it returned no value (it did not call dbutils.notebook.exit).{page}",
            args.notebook_path
        ),
    };
    Ok(Output::new(text, result))
}
