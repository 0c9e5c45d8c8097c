//! Lakeflow Declarative Pipelines (Delta Live Tables) as MCP tools: list, inspect, create,
//! update and delete pipelines; start an update (all tables, selected tables, full refresh,
//! validation), stop it, list and inspect updates, read the event log filtered by level, and
//! wait for an update with progress.
//!
//! Names say `pipeline` so they cannot be confused with jobs or clusters. Lists take `limit` and
//! `page_token` and return one page at a time. Waits are bounded: when one runs out, the update
//! goes on and the tool says how to keep waiting, which is a result, not an error.
//!
//! Cancelling: `start_pipeline_update` with `wait` stops the update it started if the call is
//! cancelled, because the user asked for that update and then abandoned it (as `run_job` does).
//! `wait_for_pipeline_update` only watches: the update may be someone else's, or a scheduled
//! production run, so cancelling the wait leaves it running.

mod events;
mod model;
mod settings;
mod updates;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::serde_json::Map;
use databricks_mcp_sdk::{Method, Request, segment};

use events::list_pipeline_events;
use model::Pipeline;
use settings::{Settings, merge};
use updates::{
    get_pipeline_update, list_pipeline_updates, start_pipeline_update, stop_pipeline, wait_for_pipeline_update,
};

const API: &str = "/api/2.0/pipelines";

/// The path of a pipeline, or of one of its sub-resources (`updates`, `events`, `stop`).
fn path(pipeline_id: &str, rest: &[&str]) -> String {
    let mut path = format!("{API}/{}", segment(pipeline_id));
    for part in rest {
        path.push('/');
        path.push_str(part);
    }
    path
}

fn fetch(ctx: &Context, pipeline_id: &str) -> Result<Json<Pipeline>> {
    ctx.get(&path(pipeline_id, &[]), &[])
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Arguments of `list_pipelines`.
#[schema]
pub struct ListPipelines {
    /// Only pipelines whose name contains this text (case-insensitive).
    #[serde(default)]
    pub name_contains: Option<String>,
    /// A filter in the API's syntax, e.g. `notebook = '/Users/me/dlt/bronze'` or
    /// `creator_user_name = 'me@example.com'`; combined with `name_contains` by AND.
    #[serde(default)]
    pub filter: Option<String>,
    /// How many pipelines to return, 1-100 (default 25).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call, to get the next page.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of pipelines.
#[schema]
pub struct PipelineList {
    /// The pipelines on this page, as the workspace returned them.
    pub pipelines: Vec<Json<Pipeline>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the workspace's pipelines (Lakeflow Declarative Pipelines / DLT), one page at a time,
/// optionally by name or another filter. Each line shows name, id, state, health and the last
/// update's state.
#[tool(read_only, idempotent, title = "List pipelines")]
fn list_pipelines(ctx: &Context, args: ListPipelines) -> Result<Output<PipelineList>> {
    let mut clauses = Vec::new();
    if let Some(text) = args.name_contains.as_deref().filter(|t| !t.is_empty()) {
        if text.contains('\'') {
            return Err(ToolError::invalid("name_contains must not contain a single quote"));
        }
        clauses.push(format!("name LIKE '%{text}%'"));
    }
    if let Some(filter) = args.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        clauses.push(filter.to_string());
    }
    let request = Request::new(Method::Get, API.to_string())
        .query_opt("filter", (!clauses.is_empty()).then(|| clauses.join(" AND ")));
    let limit = args.limit.unwrap_or(25).clamp(1, 100);
    let page = ctx.page::<Json<Pipeline>>(
        request,
        "statuses",
        Paging::QueryToken { size_param: "max_results" },
        limit,
        args.page_token.as_deref(),
    )?;
    let mut lines = page.items.iter().map(|p| p.get().map(|p| p.line())).collect::<Result<Vec<_>>>()?;
    if lines.is_empty() {
        lines.push("No pipelines match.".to_string());
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More pipelines: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(lines.join("\n"), PipelineList { pipelines: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one pipeline.
#[schema]
pub struct PipelineId {
    /// The pipeline id, a UUID (see `list_pipelines`).
    pub pipeline_id: String,
}

/// The paths of a spec's libraries, for the text.
fn library_paths(spec: &Value) -> Vec<String> {
    spec.get("libraries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| {
            l.as_object()?.iter().find_map(|(kind, v)| {
                let place = v.get("path").or_else(|| v.get("include")).and_then(Value::as_str)?;
                Some(format!("{kind} {place}"))
            })
        })
        .collect()
}

/// Get one pipeline: state, health, settings (target catalog and schema, source code, compute,
/// configuration) and its latest updates.
#[tool(read_only, idempotent, title = "Get pipeline")]
fn get_pipeline(ctx: &Context, args: PipelineId) -> Result<Output<Json<Pipeline>>> {
    let raw = fetch(ctx, &args.pipeline_id)?;
    let pipeline = raw.get()?;
    let mut lines = vec![pipeline.line()];
    if let Some(creator) = &pipeline.creator_user_name {
        lines.push(format!("Created by {creator}"));
    }
    if let Some(spec) = &pipeline.spec {
        let text = |k: &str| spec.get(k).and_then(Value::as_str);
        match (text("catalog"), text("schema").or_else(|| text("target"))) {
            (Some(catalog), Some(schema)) => lines.push(format!("Publishes to {catalog}.{schema}")),
            (None, Some(schema)) => lines.push(format!("Publishes to schema {schema} (Hive metastore)")),
            _ => {}
        }
        let flag = |k: &str| spec.get(k).and_then(Value::as_bool).unwrap_or(false);
        let mut mode = vec![if flag("continuous") { "continuous" } else { "triggered" }];
        if flag("serverless") {
            mode.push("serverless");
        }
        if flag("development") {
            mode.push("development mode");
        }
        lines.push(format!("Mode: {}", mode.join(", ")));
        let libraries = library_paths(spec);
        if !libraries.is_empty() {
            lines.push(format!("Source: {}", libraries.join("; ")));
        }
    }
    for update in pipeline.latest_updates.iter().flatten() {
        lines.push(format!(
            "Update {} {} at {}",
            update.update_id,
            update.state.as_deref().unwrap_or("UNKNOWN"),
            update.creation_time.as_deref().unwrap_or("unknown time")
        ));
    }
    Ok(Output::new(lines.join("\n"), raw))
}

// ---------------------------------------------------------------------------------------------
// Changing

/// Arguments of `create_pipeline`.
#[schema]
pub struct CreatePipeline {
    /// The settings; `name` and at least one notebook or file are needed.
    #[serde(flatten)]
    pub settings: Settings,
    /// Only validate the settings and show what the pipeline would get; create nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// What a create, update or delete did.
#[schema]
pub struct PipelineChange {
    /// The pipeline.
    pub pipeline_id: String,
    /// What was done.
    pub message: String,
    /// The settings the pipeline has now (absent after a delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<Value>,
}

/// Create a pipeline from notebooks or files, publishing to a Unity Catalog catalog and schema,
/// on serverless or classic compute, triggered or continuous. It starts IDLE; start it with
/// `start_pipeline_update`. `dry_run` validates without creating.
#[tool(title = "Create pipeline")]
fn create_pipeline(ctx: &Context, args: CreatePipeline) -> Result<Output<PipelineChange>> {
    let mut body = args.settings.to_patch()?;
    if body.get("name").and_then(Value::as_str).is_none() {
        return Err(ToolError::invalid("name is required"));
    }
    if body.get("libraries").and_then(Value::as_array).is_none_or(|l| l.is_empty()) {
        return Err(ToolError::invalid("give the pipeline's source: notebooks or files (or settings.libraries)"));
    }
    // A create takes the configuration whole; nulls only make sense as removals on update.
    if let Some(Value::Object(config)) = body.get_mut("configuration") {
        config.retain(|_, v| !v.is_null());
    }
    if args.dry_run {
        body.insert("dry_run".into(), json!(true));
    }
    #[databricks_mcp_sdk::schema]
    struct Created {
        #[serde(default)]
        pipeline_id: Option<String>,
        #[serde(default)]
        effective_settings: Option<Value>,
    }
    let created: Created = ctx.post(API, &body)?;
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
    match created.pipeline_id {
        Some(id) if !args.dry_run => Ok(Output::new(
            format!("Created pipeline {name} ({id}). Start it with start_pipeline_update."),
            PipelineChange { pipeline_id: id, message: "created".into(), settings: created.effective_settings },
        )),
        _ => Ok(Output::new(
            format!("The settings of {name} are valid (dry run: nothing was created)."),
            PipelineChange {
                pipeline_id: String::new(),
                message: "validated (dry run)".into(),
                settings: created.effective_settings,
            },
        )),
    }
}

/// Arguments of `update_pipeline`: the pipeline and only the settings to change.
#[schema]
pub struct UpdatePipeline {
    /// The pipeline id.
    pub pipeline_id: String,
    /// The settings to change; everything not given keeps its current value.
    #[serde(flatten)]
    pub changes: Settings,
    /// Refuse the change if the pipeline was modified after this time (its `last_modified` from
    /// `get_pipeline`). Without it, the tool still refuses to overwrite a change made between its
    /// own read and write.
    #[serde(default)]
    pub expected_last_modified: Option<i64>,
}

/// Change a pipeline's settings (name, target, source code, compute, configuration, mode...).
/// Give only what changes: `configuration` is merged key by key (null removes a key); the rest
/// replaces. A running update carries on with the settings it started with.
#[tool(destructive, idempotent, title = "Update pipeline")]
fn update_pipeline(ctx: &Context, args: UpdatePipeline) -> Result<Output<PipelineChange>> {
    let changes = args.changes.to_patch()?;
    if changes.is_empty() {
        return Err(ToolError::invalid("nothing to change: give at least one setting besides pipeline_id"));
    }
    let current = fetch(ctx, &args.pipeline_id)?.get()?;
    // The API replaces the whole spec, so start from what the pipeline has now and patch it.
    let mut spec: Map<String, Value> = match current.spec {
        Some(Value::Object(spec)) => spec,
        _ => Map::new(),
    };
    spec.remove("id");
    let changed: Vec<String> = changes.keys().cloned().collect();
    merge(&mut spec, changes);
    let expected = args.expected_last_modified.or(current.last_modified);
    let mut body = spec.clone();
    body.insert("pipeline_id".into(), json!(args.pipeline_id));
    if let Some(expected) = expected {
        body.insert("expected_last_modified".into(), json!(expected));
    }
    let request = Request::new(Method::Put, path(&args.pipeline_id, &[])).json(&body)?;
    match ctx.send(request)?.json::<Value>() {
        Ok(_) => {}
        Err(e) if e.api_error().is_some_and(|a| a.error_code == "ABORTED") => {
            return Err(ToolError::Failed(format!(
                "pipeline {} was changed by someone else since it was read; call get_pipeline and try again ({e})",
                args.pipeline_id
            )));
        }
        Err(e) => return Err(e),
    }
    let name = spec.get("name").and_then(Value::as_str).unwrap_or(current.name.as_deref().unwrap_or("")).to_string();
    let mut settings = spec;
    settings.insert("id".into(), json!(args.pipeline_id));
    Ok(Output::new(
        format!("Updated pipeline {name} ({}): {}.", args.pipeline_id, changed.join(", ")),
        PipelineChange {
            pipeline_id: args.pipeline_id,
            message: format!("updated {}", changed.join(", ")),
            settings: Some(Value::Object(settings)),
        },
    ))
}

/// Delete a pipeline, with its running update. The tables it published stay (a Unity Catalog
/// pipeline's materialized views and streaming tables are dropped by the workspace).
#[tool(destructive, title = "Delete pipeline")]
fn delete_pipeline(ctx: &Context, args: PipelineId) -> Result<Output<PipelineChange>> {
    ctx.send(Request::new(Method::Delete, path(&args.pipeline_id, &[])))?.json::<Value>()?;
    Ok(Output::new(
        format!("Deleted pipeline {}.", args.pipeline_id),
        PipelineChange { pipeline_id: args.pipeline_id, message: "deleted".into(), settings: None },
    ))
}

databricks_mcp_sdk::plugin! {
    name: "pipelines",
    description: "Lakeflow Declarative Pipelines (DLT): list, inspect, create, update and delete pipelines, start updates (all, selected or fully refreshed tables), stop them, list and inspect updates, read the event log, and wait for an update",
    grants: [
        "GET /api/2.0/pipelines",
        "POST /api/2.0/pipelines",
        "GET /api/2.0/pipelines/*",
        "PUT /api/2.0/pipelines/*",
        "DELETE /api/2.0/pipelines/*",
        "GET /api/2.0/pipelines/*/updates",
        "POST /api/2.0/pipelines/*/updates",
        "GET /api/2.0/pipelines/*/updates/*",
        "POST /api/2.0/pipelines/*/stop",
        "GET /api/2.0/pipelines/*/events",
    ],
    tools: [
        list_pipelines,
        get_pipeline,
        create_pipeline,
        update_pipeline,
        delete_pipeline,
        start_pipeline_update,
        stop_pipeline,
        list_pipeline_updates,
        get_pipeline_update,
        wait_for_pipeline_update,
        list_pipeline_events,
    ],
}
