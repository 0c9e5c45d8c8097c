//! The Statement Execution API as the tools use it: submit, poll until done (with progress and
//! a cancel hook), and read the result one row window at a time within a row and byte budget.
//!
//! Results are read with `INLINE` disposition and `JSON_ARRAY` format: values arrive as strings
//! (or null) and are turned into JSON numbers and booleans where the column type says so, so a
//! program reading the structured output need not parse them again. Large results come in
//! chunks; a window that starts at `row_offset` reads only the chunks it needs.

use std::time::Duration;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Compensation, Method, Request, segment};

pub const STATEMENTS: &str = "/api/2.0/sql/statements";

/// Rows returned when the caller does not say.
pub const DEFAULT_ROWS: u32 = 100;
/// Most rows one call returns.
pub const MAX_ROWS: u32 = 5000;
/// Bytes of row data (as JSON) returned when the caller does not say, and at most.
pub const DEFAULT_BYTES: u32 = 64 * 1024;
pub const MAX_BYTES: u32 = 256 * 1024;
/// Longest cell in the text table; the structured output has the whole value.
const MAX_CELL: usize = 80;

/// The lifecycle of a statement.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StatementState {
    /// Waiting for the warehouse.
    Pending,
    /// Running.
    Running,
    /// Finished; the result can be read.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Cancelled.
    Canceled,
    /// Finished, but the result is no longer available.
    Closed,
}

impl StatementState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Running => "RUNNING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::Canceled => "CANCELED",
            Self::Closed => "CLOSED",
        }
    }

    pub fn is_done(self) -> bool {
        !matches!(self, Self::Pending | Self::Running)
    }
}

/// A result column.
#[schema]
#[derive(Debug, Clone)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// SQL type as written, e.g. `BIGINT`, `DECIMAL(10,2)`, `ARRAY<STRING>`.
    #[serde(default)]
    pub type_text: String,
    /// Type family, e.g. `LONG`, `DECIMAL`, `STRING`, `TIMESTAMP`.
    #[serde(default)]
    pub type_name: String,
}

/// The parts of the API's `StatementResponse` the tools read.
#[schema]
#[derive(Debug, Clone)]
pub struct RawStatement {
    pub statement_id: String,
    pub status: RawStatus,
    #[serde(default)]
    pub manifest: Option<RawManifest>,
    #[serde(default)]
    pub result: Option<RawChunk>,
}

#[schema]
#[derive(Debug, Clone)]
pub struct RawStatus {
    pub state: StatementState,
    #[serde(default)]
    pub error: Option<RawError>,
    #[serde(default)]
    pub sql_state: Option<String>,
}

#[schema]
#[derive(Debug, Clone)]
pub struct RawError {
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

#[schema]
#[derive(Debug, Clone, Default)]
pub struct RawManifest {
    #[serde(default)]
    pub schema: Option<RawSchema>,
    #[serde(default)]
    pub total_row_count: Option<u64>,
    #[serde(default)]
    pub chunks: Vec<RawChunkInfo>,
    /// The service cut the result (its own size limit), not this tool.
    #[serde(default)]
    pub truncated: bool,
}

#[schema]
#[derive(Debug, Clone)]
pub struct RawSchema {
    #[serde(default)]
    pub columns: Vec<Column>,
}

#[schema]
#[derive(Debug, Clone)]
pub struct RawChunkInfo {
    pub chunk_index: u64,
    #[serde(default)]
    pub row_offset: u64,
    #[serde(default)]
    pub row_count: u64,
}

#[schema]
#[derive(Debug, Clone)]
pub struct RawChunk {
    #[serde(default)]
    pub chunk_index: Option<u64>,
    #[serde(default)]
    pub row_offset: Option<u64>,
    #[serde(default)]
    pub data_array: Vec<Vec<Option<String>>>,
}

/// What a statement tool returns: where the statement stands and, once it succeeded, a window
/// of its rows.
#[schema]
pub struct StatementResult {
    /// The statement id, for `get_statement` and `cancel_statement`.
    pub statement_id: String,
    /// PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED or CLOSED.
    pub state: StatementState,
    /// The warehouse it runs on, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<String>,
    /// Result columns (once SUCCEEDED).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<Column>,
    /// The rows of this window, one array per row in column order. Numbers and booleans are
    /// JSON numbers and booleans; DECIMAL, dates, timestamps and complex types are strings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<Vec<Value>>,
    /// The result row the window starts at (0-based).
    #[serde(default)]
    pub row_offset: u64,
    /// Rows in the whole result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_row_count: Option<u64>,
    /// True when the window stops before the end of the result (row or byte budget); read on
    /// with `get_statement` and `row_offset` = `next_row_offset`.
    #[serde(default)]
    pub truncated: bool,
    /// Where the next window starts, when there is more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_row_offset: Option<u64>,
    /// True when the warehouse itself cut the result at its size limit: rows past it cannot be
    /// read; narrow the query.
    #[serde(default)]
    pub result_truncated_by_service: bool,
    /// The error of a FAILED statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// SQLSTATE of a FAILED statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_state: Option<String>,
}

/// How much of a result to return.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub row_offset: u64,
    pub max_rows: u32,
    pub max_bytes: u32,
}

pub fn get(ctx: &Context, statement_id: &str) -> Result<RawStatement> {
    ctx.get(&format!("{STATEMENTS}/{}", segment(statement_id)), &[])
}

pub fn chunk(ctx: &Context, statement_id: &str, index: u64) -> Result<RawChunk> {
    ctx.get(&format!("{STATEMENTS}/{}/result/chunks/{index}", segment(statement_id)), &[])
}

/// The request that cancels a statement, for `cancel_statement` and the cancel hook.
pub fn cancel_request(statement_id: &str) -> Result<Request> {
    Request::new(Method::Post, format!("{STATEMENTS}/{}/cancel", segment(statement_id))).json(&json!({}))
}

/// Poll `first` until it is done or `timeout` passes, reporting progress, and return the last
/// state seen (still PENDING or RUNNING if the wait ran out). While it polls, a cancel of the call
/// cancels the statement; once the wait is over (done, or given up on so the caller can poll
/// later) the hook is cleared.
pub fn wait(ctx: &Context, first: RawStatement, timeout: Duration) -> Result<RawStatement> {
    if first.status.state.is_done() || timeout.is_zero() {
        return Ok(first);
    }
    let id = first.statement_id.clone();
    let hook: Compensation = ctx.on_cancel(cancel_request(&id)?)?;
    // Short pauses first: most statements finish in well under a second.
    let wait = Wait {
        timeout,
        step: Duration::from_millis(250),
        max_interval: Duration::from_secs(5),
        what: format!("statement {id}"),
    };
    let mut last = first;
    let outcome = ctx.wait_for(&wait, || {
        let now = get(ctx, &id)?;
        let state = now.status.state;
        last = now.clone();
        Ok(if state.is_done() { Poll::Ready(now) } else { Poll::Pending(state.as_str().to_string()) })
    });
    match outcome? {
        Waited::Done(done) => {
            hook.disarm();
            Ok(done)
        }
        // Out of patience but not cancelled: the statement keeps running for a later poll.
        Waited::StillRunning { .. } => {
            hook.disarm();
            Ok(last)
        }
    }
}

/// Turn a statement into the tool's result, reading the row window it asks for.
pub fn result(
    ctx: &Context,
    raw: RawStatement,
    warehouse_id: Option<String>,
    window: Window,
) -> Result<(String, StatementResult)> {
    let id = raw.statement_id.clone();
    let state = raw.status.state;
    let mut out = StatementResult {
        statement_id: id.clone(),
        state,
        warehouse_id,
        columns: Vec::new(),
        rows: Vec::new(),
        row_offset: window.row_offset,
        total_row_count: None,
        truncated: false,
        next_row_offset: None,
        result_truncated_by_service: false,
        error: None,
        sql_state: None,
    };
    match state {
        StatementState::Pending | StatementState::Running => {
            let text = format!(
                "Statement {id} is still {} after the wait. Call get_statement with statement_id \"{id}\" (and wait_seconds) to get its result, or cancel_statement to stop it.",
                state.as_str()
            );
            return Ok((text, out));
        }
        StatementState::Failed => {
            let message = raw.status.error.as_ref().and_then(|e| e.message.clone()).unwrap_or_default();
            let sql_state = raw.status.sql_state.clone();
            return Err(ToolError::Failed(format!(
                "statement {id} failed{}: {message}",
                sql_state.as_deref().map(|s| format!(" (SQLSTATE {s})")).unwrap_or_default()
            )));
        }
        StatementState::Canceled => {
            return Err(ToolError::Failed(format!("statement {id} was cancelled before it finished")));
        }
        StatementState::Closed => {
            return Err(ToolError::Failed(format!(
                "statement {id} finished, but its result is no longer available (results are kept about an hour); run it again"
            )));
        }
        StatementState::Succeeded => {}
    }
    let manifest = raw.manifest.clone().unwrap_or(RawManifest {
        schema: None,
        total_row_count: Some(0),
        chunks: Vec::new(),
        truncated: false,
    });
    let columns = manifest.schema.clone().map(|s| s.columns).unwrap_or_default();
    let total = manifest.total_row_count.unwrap_or(0);
    out.total_row_count = Some(total);
    out.result_truncated_by_service = manifest.truncated;

    // Collect rows from the chunk holding `row_offset` on, until a budget is reached.
    let mut budget = window.max_bytes as usize;
    let mut next = window.row_offset;
    let mut first_chunk = raw.result.clone();
    'chunks: while next < total && out.rows.len() < window.max_rows as usize {
        let Some(info) = manifest.chunks.iter().find(|c| c.row_offset <= next && next < c.row_offset + c.row_count)
        else {
            break;
        };
        let data = match first_chunk.take().filter(|c| c.chunk_index.unwrap_or(0) == info.chunk_index) {
            Some(c) => c,
            None => chunk(ctx, &id, info.chunk_index)?,
        };
        let start = data.row_offset.unwrap_or(info.row_offset);
        for row in data.data_array.into_iter().skip(usize::try_from(next - start).unwrap_or(usize::MAX)) {
            let row: Vec<Value> = row.into_iter().zip(&columns).map(|(v, c)| typed(v, &c.type_name)).collect();
            let size = Value::Array(row.clone()).to_string().len();
            // Always return at least one row, however wide, so a window makes progress.
            if size > budget && !out.rows.is_empty() {
                break 'chunks;
            }
            budget = budget.saturating_sub(size);
            out.rows.push(row);
            next += 1;
            if out.rows.len() >= window.max_rows as usize {
                break 'chunks;
            }
        }
        if next < info.row_offset + info.row_count {
            // The chunk had fewer rows than announced; do not loop on it.
            break;
        }
    }
    if next < total {
        out.truncated = true;
        out.next_row_offset = Some(next);
    }
    out.columns = columns;
    Ok((text_of(&out), out))
}

/// A JSON_ARRAY cell as the JSON value its column type suggests.
fn typed(value: Option<String>, type_name: &str) -> Value {
    let Some(text) = value else { return Value::Null };
    match type_name {
        "BYTE" | "SHORT" | "INT" | "LONG" => text.parse::<i64>().map_or(Value::String(text), Value::from),
        "FLOAT" | "DOUBLE" => match text.parse::<f64>() {
            Ok(x) if x.is_finite() => json!(x),
            _ => Value::String(text),
        },
        "BOOLEAN" => match text.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(text),
        },
        _ => Value::String(text),
    }
}

/// A compact table for the model: a header, one line per row, and what is left.
fn text_of(r: &StatementResult) -> String {
    let id = &r.statement_id;
    let total = r.total_row_count.unwrap_or(0);
    if r.columns.is_empty() {
        return format!("Statement {id} succeeded (no result set).");
    }
    let mut lines = Vec::with_capacity(r.rows.len() + 3);
    lines.push(r.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(" | "));
    for row in &r.rows {
        lines.push(row.iter().map(cell).collect::<Vec<_>>().join(" | "));
    }
    let shown = r.rows.len() as u64;
    if total == 0 {
        lines.push("(no rows)".to_string());
    } else if r.truncated || r.row_offset > 0 {
        lines.push(format!("Rows {}-{} of {total}.", r.row_offset + u64::from(shown > 0), r.row_offset + shown));
    } else {
        lines.push(format!("{total} row{}.", if total == 1 { "" } else { "s" }));
    }
    if let Some(next) = r.next_row_offset {
        lines.push(format!(
            "Truncated: more rows remain. Call get_statement with statement_id \"{id}\" and row_offset {next} for the next rows."
        ));
    }
    if r.result_truncated_by_service {
        lines.push("The warehouse cut this result at its size limit; narrow the query (LIMIT, filters, fewer columns) to see the rest.".to_string());
    }
    lines.push(format!("statement_id: {id}"));
    lines.join("\n")
}

fn cell(value: &Value) -> String {
    let text = match value {
        Value::Null => "NULL".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let text = text.replace('\n', "\\n").replace('|', "\\|");
    if text.chars().count() > MAX_CELL {
        let cut: String = text.chars().take(MAX_CELL - 1).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// Seconds as a wait budget bounded by what the call has left.
pub fn budget(ctx: &Context, seconds: u32) -> Duration {
    Duration::from_secs(u64::from(seconds)).min(ctx.remaining().saturating_sub(Duration::from_secs(2)))
}
