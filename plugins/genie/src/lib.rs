//! Databricks Genie (AI/BI) as MCP tools: find a Genie space, ask it a question in words (a new
//! conversation or a follow-up), wait for the answer with progress, and read the data behind it.
//!
//! Genie answers by writing SQL over the space's tables and running it on the space's warehouse.
//! Asking returns once the answer is ready or the wait (bounded) runs out; then the result names
//! the ids to pass to `get_genie_message`, which picks up the wait. Answers carry Genie's text, the
//! SQL it ran and the first rows of the result; `get_genie_query_result` reads more rows.

use std::time::Duration;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request, segment};

const SPACES: &str = "/api/2.0/genie/spaces";

fn space_path(space_id: &str) -> String {
    format!("{SPACES}/{}", segment(space_id))
}

fn message_path(space_id: &str, conversation_id: &str, message_id: &str) -> String {
    format!("{}/conversations/{}/messages/{}", space_path(space_id), segment(conversation_id), segment(message_id))
}

// ---------------------------------------------------------------------------------------------
// Spaces

/// A Genie space.
#[schema]
#[derive(Debug, Clone)]
pub struct Space {
    /// The space id: pass it to `start_genie_conversation`.
    pub space_id: String,
    /// Its title.
    #[serde(default)]
    pub title: String,
    /// What it answers about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The SQL warehouse its queries run on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<String>,
}

/// A page of spaces.
#[schema]
pub struct SpaceList {
    /// The spaces on this page.
    pub spaces: Vec<Json<Space>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the Genie spaces you can see: id, title and what each answers about. Ask one a question
/// with `start_genie_conversation`.
#[tool(read_only, idempotent, title = "List Genie spaces")]
fn list_genie_spaces(ctx: &Context, args: PageArgs) -> Result<Output<SpaceList>> {
    let page = ctx.page::<Json<Space>>(
        Request::new(Method::Get, SPACES),
        "spaces",
        Paging::QueryToken { size_param: "page_size" },
        args.limit_or(50, 100),
        args.page_token.as_deref(),
    )?;
    let mut lines = Vec::new();
    for s in &page.items {
        let s = s.get()?;
        let about = s.description.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
        lines.push(format!("{} ({}){about}", s.title, s.space_id));
    }
    if lines.is_empty() {
        lines.push("No Genie spaces visible to you.".into());
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More spaces: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(lines.join("\n"), SpaceList { spaces: page.items, next_page_token: page.next_page_token }))
}

// ---------------------------------------------------------------------------------------------
// Messages

/// A column of a query result.
#[schema]
#[derive(Debug, Clone)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Databricks type name (`LONG`, `STRING`, `DECIMAL`, ...).
    #[serde(default)]
    pub type_name: String,
}

/// Rows of a Genie query result.
#[schema]
#[derive(Debug, Clone, Default)]
pub struct ResultRows {
    /// The result's columns.
    pub columns: Vec<Column>,
    /// Rows as arrays, typed (numbers, booleans; decimals and dates as strings).
    pub rows: Vec<Vec<Value>>,
    /// Rows the whole result has.
    pub total_row_count: u64,
    /// The row the first returned row is (0-based).
    pub row_offset: u64,
    /// True when more rows follow those returned.
    pub truncated: bool,
    /// The SQL statement holding the result (readable with the sql plugin's `get_statement`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_id: Option<String>,
}

/// Genie's answer to one message, as far as it has got.
#[schema]
pub struct Answer {
    /// The space.
    pub space_id: String,
    /// The conversation: pass it to `send_genie_message` for a follow-up.
    pub conversation_id: String,
    /// The message.
    pub message_id: String,
    /// `SUBMITTED`, `ASKING_AI`, `EXECUTING_QUERY`, ..., `COMPLETED` or `FAILED`.
    pub status: String,
    /// True once Genie has finished (completed or failed).
    pub done: bool,
    /// Genie's reply in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The SQL Genie wrote and ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// What the SQL does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The query attachment: pass it to `get_genie_query_result`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_id: Option<String>,
    /// The first rows of the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultRows>,
    /// Why Genie failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn is_done(status: &str) -> bool {
    matches!(status, "COMPLETED" | "FAILED" | "CANCELLED" | "QUERY_RESULT_EXPIRED")
}

/// A value of a `JSON_ARRAY` result cell as JSON of its type.
fn typed(cell: &Value, type_name: &str) -> Value {
    let Some(text) = cell.as_str() else { return cell.clone() };
    match type_name {
        "LONG" | "INT" | "SHORT" | "BYTE" => text.parse::<i64>().map_or_else(|_| cell.clone(), |n| json!(n)),
        "DOUBLE" | "FLOAT" => text.parse::<f64>().map_or_else(|_| cell.clone(), |n| json!(n)),
        "BOOLEAN" => json!(text == "true"),
        _ => cell.clone(),
    }
}

/// Rows `offset..offset+max` of an attachment's query result.
fn query_rows(
    ctx: &Context,
    space: &str,
    conversation: &str,
    message: &str,
    attachment: &str,
    offset: u64,
    max: u64,
) -> Result<ResultRows> {
    let path =
        format!("{}/attachments/{}/query-result", message_path(space, conversation, message), segment(attachment));
    let raw: Value = ctx.get(&path, &[])?;
    let response = &raw["statement_response"];
    if response["status"]["state"].as_str().is_some_and(|s| s != "SUCCEEDED") {
        let why = response["status"]["error"]["message"].as_str().unwrap_or("no result");
        return Err(ToolError::Failed(format!("the query of message {message} has no result: {why}")));
    }
    let columns: Vec<Column> = response["manifest"]["schema"]["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| Column {
            name: c["name"].as_str().unwrap_or_default().into(),
            type_name: c["type_name"].as_str().unwrap_or_default().into(),
        })
        .collect();
    let total = response["manifest"]["total_row_count"].as_u64().unwrap_or(0);
    let data: Vec<Vec<Value>> = response["result"]["data_array"]
        .as_array()
        .into_iter()
        .flatten()
        .skip(offset as usize)
        .take(max as usize)
        .map(|row| {
            row.as_array().into_iter().flatten().zip(&columns).map(|(cell, col)| typed(cell, &col.type_name)).collect()
        })
        .collect();
    let shown = offset + data.len() as u64;
    Ok(ResultRows {
        columns,
        rows: data,
        total_row_count: total,
        row_offset: offset,
        truncated: shown < total,
        statement_id: response["statement_id"].as_str().map(str::to_string),
    })
}

fn table_text(rows: &ResultRows) -> String {
    let mut lines = vec![rows.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(" | ")];
    for row in &rows.rows {
        lines.push(
            row.iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    Value::Null => "NULL".into(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" | "),
        );
    }
    let end = rows.row_offset + rows.rows.len() as u64;
    if rows.truncated {
        lines.push(format!(
            "Rows {}-{end} of {}. More: get_genie_query_result with row_offset {end}.",
            rows.row_offset + 1,
            rows.total_row_count
        ));
    } else {
        lines.push(format!("{} row(s).", rows.total_row_count));
    }
    lines.join("\n")
}

/// The answer a message carries, with the first `max_rows` rows of its query.
fn answer(ctx: &Context, message: &Value, max_rows: u64) -> Result<(String, Answer)> {
    let id = |k: &str| message[k].as_str().unwrap_or_default().to_string();
    let status = id("status");
    let mut a = Answer {
        space_id: id("space_id"),
        conversation_id: id("conversation_id"),
        message_id: message["message_id"].as_str().or(message["id"].as_str()).unwrap_or_default().into(),
        done: is_done(&status),
        status,
        text: None,
        sql: None,
        description: None,
        attachment_id: None,
        result: None,
        error: message["error"]["error"].as_str().map(str::to_string),
    };
    for att in message["attachments"].as_array().into_iter().flatten() {
        if let Some(t) = att["text"]["content"].as_str() {
            a.text = Some(t.to_string());
        }
        if att["query"].is_object() {
            a.sql = att["query"]["query"].as_str().map(str::to_string);
            a.description = att["query"]["description"].as_str().map(str::to_string);
            a.attachment_id = att["attachment_id"].as_str().map(str::to_string);
        }
    }
    if a.status == "COMPLETED"
        && max_rows > 0
        && let Some(att) = &a.attachment_id
    {
        a.result = Some(query_rows(ctx, &a.space_id, &a.conversation_id, &a.message_id, att, 0, max_rows)?);
    }
    let mut lines = Vec::new();
    match a.status.as_str() {
        "COMPLETED" => {
            lines.push(a.text.clone().unwrap_or_else(|| "Genie answered.".into()));
            if let Some(sql) = &a.sql {
                lines.push(format!("SQL: {sql}"));
            }
            if let Some(rows) = &a.result {
                lines.push(table_text(rows));
            }
            lines.push(format!(
                "Follow up with send_genie_message (space_id {}, conversation_id {}).",
                a.space_id, a.conversation_id
            ));
        }
        "FAILED" | "CANCELLED" | "QUERY_RESULT_EXPIRED" => {
            lines.push(format!("Genie {}: {}", a.status.to_lowercase(), a.error.as_deref().unwrap_or("no reason given")));
        }
        status => lines.push(format!(
            "Genie is still working ({status}). Call get_genie_message with space_id {}, conversation_id {}, message_id {} to wait for the answer.",
            a.space_id, a.conversation_id, a.message_id
        )),
    }
    Ok((lines.join("\n"), a))
}

/// Polls a message until Genie finishes or `wait_seconds` run out; the answer either way.
fn wait_and_answer(ctx: &Context, first: Value, wait_seconds: u32, max_rows: u64) -> Result<Output<Answer>> {
    let id = |k: &str| first[k].as_str().unwrap_or_default().to_string();
    let (space, conversation) = (id("space_id"), id("conversation_id"));
    let message_id = first["message_id"].as_str().or(first["id"].as_str()).unwrap_or_default().to_string();
    let mut last = first;
    if !is_done(last["status"].as_str().unwrap_or_default()) && wait_seconds > 0 {
        let wait =
            Wait::new(format!("Genie to answer message {message_id}"), Duration::from_secs(u64::from(wait_seconds)));
        let path = message_path(&space, &conversation, &message_id);
        let waited = ctx.wait_for(&wait, || {
            let m: Value = ctx.get(&path, &[])?;
            let status = m["status"].as_str().unwrap_or("UNKNOWN").to_string();
            last = m.clone();
            Ok(if is_done(&status) { Poll::Ready(()) } else { Poll::Pending(status) })
        })?;
        let _ = waited;
    }
    let (text, a) = answer(ctx, &last, max_rows)?;
    Ok(Output::new(text, a))
}

/// Arguments of `start_genie_conversation`.
#[schema]
pub struct StartConversation {
    /// The Genie space (see `list_genie_spaces`).
    pub space_id: String,
    /// The question, in words, e.g. "What is the average fare by payment type?".
    pub question: String,
    /// Seconds to wait for the answer (default 120, at most 840; 0 returns at once). If it runs
    /// out, Genie keeps working: pick the answer up with `get_genie_message`.
    #[serde(default)]
    pub wait_seconds: Option<u32>,
    /// Rows of the answer's data to include (default 20, at most 1000; 0 for none).
    #[serde(default)]
    pub max_rows: Option<u32>,
}

/// Ask a Genie space a question in words, starting a new conversation, and wait (bounded, with
/// progress) for its answer: Genie's reply, the SQL it ran and the first rows of the result. Use
/// `send_genie_message` for follow-ups in the same conversation.
#[tool(title = "Ask Genie (new conversation)")]
fn start_genie_conversation(ctx: &Context, args: StartConversation) -> Result<Output<Answer>> {
    if args.question.trim().is_empty() {
        return Err(ToolError::invalid("question is empty"));
    }
    let started: Value =
        ctx.post(&format!("{}/start-conversation", space_path(&args.space_id)), &json!({ "content": args.question }))?;
    let message = started["message"].clone();
    wait_and_answer(
        ctx,
        message,
        args.wait_seconds.unwrap_or(120).min(840),
        u64::from(args.max_rows.unwrap_or(20).min(1000)),
    )
}

/// Arguments of `send_genie_message`.
#[schema]
pub struct SendMessage {
    /// The Genie space.
    pub space_id: String,
    /// The conversation, from `start_genie_conversation`.
    pub conversation_id: String,
    /// The follow-up question, in words.
    pub question: String,
    /// Seconds to wait for the answer (default 120, at most 840; 0 returns at once).
    #[serde(default)]
    pub wait_seconds: Option<u32>,
    /// Rows of the answer's data to include (default 20, at most 1000; 0 for none).
    #[serde(default)]
    pub max_rows: Option<u32>,
}

/// Ask a follow-up question in an existing Genie conversation (Genie sees the earlier messages)
/// and wait, bounded and with progress, for its answer.
#[tool(title = "Ask Genie (follow-up)")]
fn send_genie_message(ctx: &Context, args: SendMessage) -> Result<Output<Answer>> {
    if args.question.trim().is_empty() {
        return Err(ToolError::invalid("question is empty"));
    }
    let path = format!("{}/conversations/{}/messages", space_path(&args.space_id), segment(&args.conversation_id));
    let message: Value = ctx.post(&path, &json!({ "content": args.question }))?;
    wait_and_answer(
        ctx,
        message,
        args.wait_seconds.unwrap_or(120).min(840),
        u64::from(args.max_rows.unwrap_or(20).min(1000)),
    )
}

/// Arguments of `get_genie_message`.
#[schema]
pub struct GetMessage {
    /// The Genie space.
    pub space_id: String,
    /// The conversation.
    pub conversation_id: String,
    /// The message.
    pub message_id: String,
    /// Seconds to wait for Genie to finish (default 60, at most 840; 0 reports where it stands).
    #[serde(default)]
    pub wait_seconds: Option<u32>,
    /// Rows of the answer's data to include (default 20, at most 1000; 0 for none).
    #[serde(default)]
    pub max_rows: Option<u32>,
}

/// Get a Genie message's status and, once Genie has finished, its answer; waits (bounded, with
/// progress) while Genie is still working. Use it to pick up an answer a question's wait did not
/// see the end of.
#[tool(read_only, idempotent, title = "Get Genie message")]
fn get_genie_message(ctx: &Context, args: GetMessage) -> Result<Output<Answer>> {
    let message: Value = ctx.get(&message_path(&args.space_id, &args.conversation_id, &args.message_id), &[])?;
    wait_and_answer(
        ctx,
        message,
        args.wait_seconds.unwrap_or(60).min(840),
        u64::from(args.max_rows.unwrap_or(20).min(1000)),
    )
}

/// Arguments of `get_genie_query_result`.
#[schema]
pub struct GetQueryResult {
    /// The Genie space.
    pub space_id: String,
    /// The conversation.
    pub conversation_id: String,
    /// The message.
    pub message_id: String,
    /// The query attachment (default: the message's query).
    #[serde(default)]
    pub attachment_id: Option<String>,
    /// The first row to return, 0-based (default 0).
    #[serde(default)]
    pub row_offset: Option<u64>,
    /// Rows to return (default 100, at most 5000).
    #[serde(default)]
    pub max_rows: Option<u32>,
}

/// Read the data behind a Genie answer: the columns and a window of rows of the query Genie ran,
/// as a table and typed rows.
#[tool(read_only, idempotent, title = "Get Genie query result")]
fn get_genie_query_result(ctx: &Context, args: GetQueryResult) -> Result<Output<ResultRows>> {
    let attachment = match args.attachment_id.filter(|a| !a.is_empty()) {
        Some(a) => a,
        None => {
            let message: Value =
                ctx.get(&message_path(&args.space_id, &args.conversation_id, &args.message_id), &[])?;
            let (_, a) = answer(ctx, &message, 0)?;
            if !a.done {
                return Err(ToolError::invalid(format!(
                    "message {} is still {}; wait for it with get_genie_message",
                    args.message_id, a.status
                )));
            }
            a.attachment_id.ok_or_else(|| {
                ToolError::NotFound(format!(
                    "message {} has no query result (Genie answered in words only)",
                    args.message_id
                ))
            })?
        }
    };
    let rows = query_rows(
        ctx,
        &args.space_id,
        &args.conversation_id,
        &args.message_id,
        &attachment,
        args.row_offset.unwrap_or(0),
        u64::from(args.max_rows.unwrap_or(100).clamp(1, 5000)),
    )?;
    Ok(Output::new(table_text(&rows), rows))
}

databricks_mcp_sdk::plugin! {
    name: "genie",
    description: "Databricks Genie (AI/BI): list spaces, ask questions in new or ongoing conversations, wait for answers with progress, and read the data behind them",
    grants: [
        "GET /api/2.0/genie/spaces",
        "POST /api/2.0/genie/spaces/*/start-conversation",
        "POST /api/2.0/genie/spaces/*/conversations/*/messages",
        "GET /api/2.0/genie/spaces/*/conversations/*/messages/*",
        "GET /api/2.0/genie/spaces/*/conversations/*/messages/*/attachments/*/query-result",
    ],
    tools: [
        list_genie_spaces,
        start_genie_conversation,
        send_genie_message,
        get_genie_message,
        get_genie_query_result,
    ],
}
