//! The event log: `list_pipeline_events`, and the errors of a failed update.

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request};

use crate::model::Event;
use crate::path;

/// Event levels.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// Progress and user actions.
    Info,
    /// Problems that did not stop the update (e.g. expectation failures).
    Warn,
    /// Failures, with their exceptions.
    Error,
    /// Metrics (e.g. cluster resources).
    Metrics,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Self::Info => "INFO",
            Self::Warn => "WARN",
            Self::Error => "ERROR",
            Self::Metrics => "METRICS",
        }
    }
}

/// Arguments of `list_pipeline_events`.
#[schema]
pub struct ListEvents {
    /// The pipeline id.
    pub pipeline_id: String,
    /// Only events at these levels, e.g. `["ERROR", "WARN"]`.
    #[serde(default)]
    pub levels: Vec<Level>,
    /// Only events of this update.
    #[serde(default)]
    pub update_id: Option<String>,
    /// Only events of these types, e.g. `["update_progress", "flow_progress"]`.
    #[serde(default)]
    pub event_types: Vec<String>,
    /// Oldest first (default: newest first).
    #[serde(default)]
    pub oldest_first: bool,
    /// How many events to return, 1-250 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of events.
#[schema]
pub struct EventList {
    /// The events on this page, as the workspace returned them.
    pub events: Vec<Json<Event>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// A quoted literal of the filter language; refuses quotes, which it cannot escape.
fn literal(name: &str, value: &str) -> Result<String> {
    if value.contains('\'') {
        return Err(ToolError::invalid(format!("{name} must not contain a single quote")));
    }
    Ok(format!("'{value}'"))
}

/// One page of events matching `filter`.
fn page(
    ctx: &Context,
    pipeline_id: &str,
    filter: Option<String>,
    oldest_first: bool,
    limit: u32,
    page_token: Option<&str>,
) -> Result<databricks_mcp_sdk::Page<Json<Event>>> {
    // Every page repeats the filter and order, as the SDKs' iterators do.
    let mut request = Request::new(Method::Get, path(pipeline_id, &["events"])).query_opt("filter", filter);
    if oldest_first {
        request = request.query("order_by", "timestamp asc");
    }
    ctx.page(request, "events", Paging::QueryToken { size_param: "max_results" }, limit, page_token)
}

/// List a pipeline's event log, newest first, one page at a time: update progress, flow
/// progress, user actions, and errors with their exceptions. Filter by level (e.g. only
/// `ERROR` to see why an update failed), by update, or by event type.
#[tool(read_only, idempotent, title = "List pipeline events")]
pub(crate) fn list_pipeline_events(ctx: &Context, args: ListEvents) -> Result<Output<EventList>> {
    let mut clauses = Vec::new();
    if !args.levels.is_empty() {
        let levels: Vec<String> = args.levels.iter().map(|l| format!("'{}'", l.as_str())).collect();
        clauses.push(format!("level in ({})", levels.join(", ")));
    }
    if let Some(update_id) = &args.update_id {
        clauses.push(format!("origin.update_id = {}", literal("update_id", update_id)?));
    }
    if !args.event_types.is_empty() {
        let types = args.event_types.iter().map(|t| literal("event_types", t)).collect::<Result<Vec<_>>>()?;
        clauses.push(format!("event_type in ({})", types.join(", ")));
    }
    let filter = (!clauses.is_empty()).then(|| clauses.join(" AND "));
    let limit = args.limit.unwrap_or(50).clamp(1, 250);
    let page = page(ctx, &args.pipeline_id, filter, args.oldest_first, limit, args.page_token.as_deref())?;
    let mut lines = page.items.iter().map(|e| e.get().map(|e| e.line())).collect::<Result<Vec<_>>>()?;
    if lines.is_empty() {
        lines.push(format!("No events of pipeline {} match.", args.pipeline_id));
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More events: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(lines.join("\n"), EventList { events: page.items, next_page_token: page.next_page_token }))
}

/// The newest ERROR events of one update (at most 5), to say why it failed.
pub(crate) fn errors_of(ctx: &Context, pipeline_id: &str, update_id: &str) -> Result<Vec<Json<Event>>> {
    let filter = format!("level = 'ERROR' AND origin.update_id = {}", literal("update_id", update_id)?);
    Ok(page(ctx, pipeline_id, Some(filter), false, 5, None)?.items)
}
