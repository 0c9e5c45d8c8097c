//! Updates: start (with an optional bounded wait), stop, list, get, and wait.

use std::time::Duration;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request, segment};

use crate::events::errors_of;
use crate::model::{Event, Update};
use crate::{fetch, path};

/// The timeout of a wait: `seconds` (default 600), at most 1200 s.
fn wait_timeout(seconds: Option<u32>) -> Duration {
    Duration::from_secs(u64::from(seconds.unwrap_or(600).clamp(1, 1200)))
}

fn fetch_update(ctx: &Context, pipeline_id: &str, update_id: &str) -> Result<Json<Update>> {
    #[databricks_mcp_sdk::schema]
    struct Got {
        update: Json<Update>,
    }
    let got: Got = ctx.get(&path(pipeline_id, &["updates", &segment(update_id)]), &[])?;
    Ok(got.update)
}

/// An update a tool started, read or waited for.
#[schema]
pub struct UpdateResult {
    /// The pipeline.
    pub pipeline_id: String,
    /// The update id: poll it with `wait_for_pipeline_update` or `get_pipeline_update`.
    pub update_id: String,
    /// True when the update is over (COMPLETED, FAILED or CANCELED), or is a continuous update
    /// that has reached RUNNING (it runs until stopped).
    pub finished: bool,
    /// The update as it stands.
    pub update: Json<Update>,
    /// The ERROR events of a failed update, newest first (at most 5).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Json<Event>>,
}

/// Whether a wait for this update is over.
fn settled(update: &Update) -> bool {
    update.is_terminal() || (update.is_continuous() && update.state() == "RUNNING")
}

/// The text and result for an update as it stands, with the errors of a failed one.
fn describe(
    ctx: &Context,
    pipeline_id: &str,
    raw: Json<Update>,
    waited: Option<Duration>,
) -> Result<Output<UpdateResult>> {
    let update = raw.get()?;
    let finished = settled(&update);
    let mut lines = vec![format!("Update {}", update.line())];
    let errors = if update.state() == "FAILED" { errors_of(ctx, pipeline_id, &update.update_id)? } else { Vec::new() };
    for error in &errors {
        lines.push(error.get()?.line());
    }
    if update.state() == "FAILED" && errors.is_empty() {
        lines.push(format!(
            "See list_pipeline_events with pipeline_id {pipeline_id} and update_id {} for why.",
            update.update_id
        ));
    }
    if finished && !update.is_terminal() {
        lines.push("This is a continuous pipeline: the update keeps running until stop_pipeline.".into());
    }
    if let (false, Some(waited)) = (finished, waited) {
        lines.push(format!(
            "The update is still {} after waiting {:.0} s; it keeps running. Call wait_for_pipeline_update with pipeline_id {pipeline_id} and update_id {} to keep waiting, or stop_pipeline to stop it.",
            update.state(),
            waited.as_secs_f64(),
            update.update_id
        ));
    }
    Ok(Output::new(
        lines.join("\n"),
        UpdateResult {
            pipeline_id: pipeline_id.to_string(),
            update_id: update.update_id.clone(),
            finished,
            update: raw,
            errors,
        },
    ))
}

/// Poll the update until it settles or `timeout` runs out, reporting its state as progress.
fn wait(ctx: &Context, pipeline_id: &str, update_id: &str, timeout: Duration) -> Result<(Json<Update>, Duration)> {
    let wait = Wait::new(format!("update {update_id} of pipeline {pipeline_id} to finish"), timeout);
    let started = std::time::Instant::now();
    let waited = ctx.wait_for(&wait, || {
        let raw = fetch_update(ctx, pipeline_id, update_id)?;
        let update = raw.get()?;
        Ok(if settled(&update) { Poll::Ready(raw) } else { Poll::Pending(update.state().to_string()) })
    })?;
    let raw = match waited {
        Waited::Done(raw) => raw,
        Waited::StillRunning { .. } => fetch_update(ctx, pipeline_id, update_id)?,
    };
    Ok((raw, started.elapsed()))
}

/// Arguments of `start_pipeline_update`.
#[schema]
pub struct StartUpdate {
    /// The pipeline id.
    pub pipeline_id: String,
    /// Recompute every table from scratch (truncates streaming tables and reprocesses all
    /// input). Excludes `full_refresh_tables`.
    #[serde(default)]
    pub full_refresh: bool,
    /// Refresh only these tables (by name as the pipeline defines them); the others are left as
    /// they are.
    #[serde(default)]
    pub refresh_tables: Vec<String>,
    /// Fully recompute these tables from scratch (and refresh those in `refresh_tables`).
    #[serde(default)]
    pub full_refresh_tables: Vec<String>,
    /// Only check that the pipeline's code is valid and its tables can be set up; process no data.
    #[serde(default)]
    pub validate_only: bool,
    /// Wait for the update to finish (default false: return once it is started). Cancelling
    /// this call while it waits stops the update.
    #[serde(default)]
    pub wait: bool,
    /// With `wait`: give up waiting after this many seconds (default 600, at most 1200). The
    /// update goes on; call `wait_for_pipeline_update` to keep waiting.
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
}

/// Start an update of a pipeline: all tables, only selected tables, a full refresh of all or
/// some tables, or a validation. Optionally wait for it with progress; if this call is cancelled
/// while waiting, the update is stopped (it was started for this call). Only one update runs at
/// a time: stop the active one first, or wait for it.
#[tool(title = "Start pipeline update")]
pub(crate) fn start_pipeline_update(ctx: &Context, args: StartUpdate) -> Result<Output<UpdateResult>> {
    if args.timeout_seconds.is_some() && !args.wait {
        return Err(ToolError::invalid("timeout_seconds applies only with wait: true"));
    }
    if args.full_refresh && !args.full_refresh_tables.is_empty() {
        return Err(ToolError::invalid(
            "full_refresh already refreshes every table from scratch; give full_refresh or full_refresh_tables, not both",
        ));
    }
    let mut body = json!({ "cause": "API_CALL" });
    if args.full_refresh {
        body["full_refresh"] = json!(true);
    }
    if !args.refresh_tables.is_empty() {
        body["refresh_selection"] = json!(args.refresh_tables);
    }
    if !args.full_refresh_tables.is_empty() {
        body["full_refresh_selection"] = json!(args.full_refresh_tables);
    }
    if args.validate_only {
        body["validate_only"] = json!(true);
    }
    #[databricks_mcp_sdk::schema]
    struct Started {
        update_id: String,
    }
    let started: Started = match ctx.post(&path(&args.pipeline_id, &["updates"]), &body) {
        Ok(started) => started,
        Err(e) if e.api_error().is_some_and(|a| a.error_code == "RESOURCE_CONFLICT") => {
            return Err(ToolError::Failed(format!(
                "{e}. Wait for it with wait_for_pipeline_update, or stop it with stop_pipeline, then start again."
            )));
        }
        Err(e) => return Err(e),
    };
    let update_id = started.update_id;
    if !args.wait {
        let mut output = describe(ctx, &args.pipeline_id, fetch_update(ctx, &args.pipeline_id, &update_id)?, None)?;
        output.text = format!(
            "Started update {update_id} of pipeline {}. Call wait_for_pipeline_update with pipeline_id {} and update_id {update_id} to wait for it.\n{}",
            args.pipeline_id, args.pipeline_id, output.text
        );
        return Ok(output);
    }
    // Cancelling this call stops the update it started; once the wait is over, the update is
    // the model's to manage.
    let stop = Request::new(Method::Post, path(&args.pipeline_id, &["stop"])).json(&json!({}))?;
    let guard = ctx.on_cancel(stop)?;
    let (raw, waited) = wait(ctx, &args.pipeline_id, &update_id, wait_timeout(args.timeout_seconds))?;
    guard.disarm();
    describe(ctx, &args.pipeline_id, raw, Some(waited))
}

/// Arguments of `wait_for_pipeline_update`.
#[schema]
pub struct WaitForUpdate {
    /// The pipeline id.
    pub pipeline_id: String,
    /// The update id (see `list_pipeline_updates`); default: the pipeline's latest update.
    #[serde(default)]
    pub update_id: Option<String>,
    /// Give up waiting after this many seconds (default 600, at most 1200). The update goes on.
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
}

/// Wait until a pipeline update finishes (COMPLETED, FAILED or CANCELED; a continuous update
/// until it is RUNNING), reporting its state as progress, then show how it ended with the
/// errors of a failed update. When the wait runs out, the update goes on and the result says
/// so (call again to keep waiting). Cancelling this wait leaves the update running: it only
/// watches.
#[tool(read_only, idempotent, title = "Wait for pipeline update")]
pub(crate) fn wait_for_pipeline_update(ctx: &Context, args: WaitForUpdate) -> Result<Output<UpdateResult>> {
    let update_id = match args.update_id {
        Some(id) => id,
        None => latest_update(ctx, &args.pipeline_id)?,
    };
    let (raw, waited) = wait(ctx, &args.pipeline_id, &update_id, wait_timeout(args.timeout_seconds))?;
    describe(ctx, &args.pipeline_id, raw, Some(waited))
}

fn latest_update(ctx: &Context, pipeline_id: &str) -> Result<String> {
    let pipeline = fetch(ctx, pipeline_id)?.get()?;
    pipeline.latest_updates.and_then(|u| u.into_iter().next()).map(|u| u.update_id).ok_or_else(|| {
        ToolError::Failed(format!("pipeline {pipeline_id} has never run; start it with start_pipeline_update"))
    })
}

/// Arguments of `stop_pipeline`.
#[schema]
pub struct StopPipeline {
    /// The pipeline id.
    pub pipeline_id: String,
    /// Wait until the pipeline is IDLE (default false).
    #[serde(default)]
    pub wait: bool,
    /// With `wait`: give up after this many seconds (default 300, at most 1200).
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
}

/// What `stop_pipeline` did.
#[schema]
pub struct Stopped {
    /// The pipeline.
    pub pipeline_id: String,
    /// The update that was stopped, if one was running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_update_id: Option<String>,
    /// The pipeline's state after the stop (or the wait).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// Stop a pipeline: its active update is cancelled (STOPPING, then CANCELED) and the pipeline
/// goes IDLE; a continuous pipeline stops running. A pipeline with no active update is left as
/// it is. Optionally wait until it is IDLE.
#[tool(destructive, idempotent, title = "Stop pipeline")]
pub(crate) fn stop_pipeline(ctx: &Context, args: StopPipeline) -> Result<Output<Stopped>> {
    let before = fetch(ctx, &args.pipeline_id)?.get()?;
    let active = before
        .latest_updates
        .iter()
        .flatten()
        .find(|u| u.state.as_deref().is_some_and(|s| !crate::model::TERMINAL.contains(&s)))
        .map(|u| u.update_id.clone());
    ctx.post_empty(&path(&args.pipeline_id, &["stop"]), &json!({}))?;
    let state = if args.wait {
        let timeout = Duration::from_secs(u64::from(args.timeout_seconds.unwrap_or(300).clamp(1, 1200)));
        let wait = Wait::new(format!("pipeline {} to be IDLE", args.pipeline_id), timeout);
        let waited = ctx.wait_for(&wait, || {
            let p = fetch(ctx, &args.pipeline_id)?.get()?;
            let state = p.state.unwrap_or_default();
            Ok(if state == "IDLE" { Poll::Ready(state) } else { Poll::Pending(state) })
        })?;
        match waited {
            Waited::Done(state) => Some(state),
            Waited::StillRunning { last, .. } => Some(last),
        }
    } else {
        fetch(ctx, &args.pipeline_id)?.get()?.state
    };
    let now = state.as_deref().unwrap_or("UNKNOWN");
    let text = match &active {
        Some(update) => format!("Stopping update {update} of pipeline {}; the pipeline is {now}.", before.name()),
        None => format!("Pipeline {} had no active update; it is {now}.", before.name()),
    };
    Ok(Output::new(text, Stopped { pipeline_id: args.pipeline_id, stopped_update_id: active, state }))
}

/// Arguments of `list_pipeline_updates`.
#[schema]
pub struct ListUpdates {
    /// The pipeline id.
    pub pipeline_id: String,
    /// How many updates to return, 1-100 (default 25).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of updates.
#[schema]
pub struct UpdateList {
    /// The updates on this page, newest first.
    pub updates: Vec<Json<Update>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List a pipeline's updates (its runs), newest first, one page at a time: state, start time,
/// what each refreshed and what started it.
#[tool(read_only, idempotent, title = "List pipeline updates")]
pub(crate) fn list_pipeline_updates(ctx: &Context, args: ListUpdates) -> Result<Output<UpdateList>> {
    let limit = args.limit.unwrap_or(25).clamp(1, 100);
    let page = ctx.page::<Json<Update>>(
        Request::new(Method::Get, path(&args.pipeline_id, &["updates"])),
        "updates",
        Paging::QueryToken { size_param: "max_results" },
        limit,
        args.page_token.as_deref(),
    )?;
    let mut lines = page.items.iter().map(|u| u.get().map(|u| u.line())).collect::<Result<Vec<_>>>()?;
    if lines.is_empty() {
        lines.push(format!("Pipeline {} has no updates.", args.pipeline_id));
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More updates: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(lines.join("\n"), UpdateList { updates: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one update.
#[schema]
pub struct UpdateId {
    /// The pipeline id.
    pub pipeline_id: String,
    /// The update id.
    pub update_id: String,
}

/// Get one update of a pipeline: its state, what it refreshes, what started it, and for a failed
/// update the errors from the event log.
#[tool(read_only, idempotent, title = "Get pipeline update")]
pub(crate) fn get_pipeline_update(ctx: &Context, args: UpdateId) -> Result<Output<UpdateResult>> {
    let raw = fetch_update(ctx, &args.pipeline_id, &args.update_id)?;
    describe(ctx, &args.pipeline_id, raw, None)
}
