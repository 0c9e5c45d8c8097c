//! Databricks SQL as MCP tools: run statements on a SQL warehouse and read their results a
//! window at a time, and manage the warehouses themselves.
//!
//! `execute_sql` submits a statement without blocking, then polls it with progress; if the call
//! is cancelled the statement is cancelled too, and if the wait runs out the statement keeps
//! running and the result says how to pick it up (`get_statement`). Results come back as a
//! compact table for the model plus typed rows for programs, within a row and byte budget, with
//! `truncated` and `next_row_offset` when there is more.
//!
//! A truncated result links the whole result as the resource
//! `databricks://sql/statement/<id>/result` (CSV); `databricks://sql/table/<catalog>/<schema>/<table>/sample`
//! reads a table's first rows.
//!
//! The warehouse defaults to the operator's setting `warehouse_id` (`[plugins.sql.settings]` in
//! the host's configuration) when a call does not name one.

mod content;
mod statement;
mod warehouse;

use std::time::Duration;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request, segment};

use content::{optimize_query, statement_result, table_sample};
use statement::{DEFAULT_BYTES, DEFAULT_ROWS, MAX_BYTES, MAX_ROWS, STATEMENTS, StatementResult, Window};
use warehouse::{EDITABLE_FIELDS, WAREHOUSES, Warehouse, WarehouseSpec, WarehouseState};

// ---------------------------------------------------------------------------------------------
// Statements

/// A named parameter, referenced in the statement as `:name`.
#[schema]
pub struct SqlParameter {
    /// The name, without the colon.
    pub name: String,
    /// The value: a string, number, boolean or null.
    pub value: Value,
    /// The SQL type to bind it as, e.g. `INT`, `BIGINT`, `DOUBLE`, `DATE`, `TIMESTAMP`,
    /// `DECIMAL(10,2)` (default `STRING`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub sql_type: Option<String>,
}

/// Arguments of `execute_sql`.
#[schema]
pub struct ExecuteSql {
    /// One SQL statement (Databricks SQL). Reference parameters as `:name`, e.g.
    /// `SELECT * FROM main.sales.orders WHERE region = :region LIMIT 100`.
    pub statement: String,
    /// The SQL warehouse to run on (see `list_warehouses`). Optional when the operator configured
    /// a default warehouse.
    #[serde(default)]
    pub warehouse_id: Option<String>,
    /// Default catalog for unqualified names (the workspace default otherwise).
    #[serde(default)]
    pub catalog: Option<String>,
    /// Default schema for unqualified names.
    #[serde(default)]
    pub schema: Option<String>,
    /// Named parameters, bound safely instead of pasted into the SQL text.
    #[serde(default)]
    pub parameters: Vec<SqlParameter>,
    /// Rows to return, 1-5000 (default 100). The rest is read with `get_statement` and `row_offset`.
    #[serde(default)]
    pub max_rows: Option<u32>,
    /// Bytes of row data to return, 1024-262144 (default 65536).
    #[serde(default)]
    pub max_bytes: Option<u32>,
    /// Seconds to wait for the statement to finish (default 120, at most 840). 0 submits it and
    /// returns at once with its `statement_id`. A statement still running when the wait ends keeps
    /// running; get its result later with `get_statement`.
    #[serde(default)]
    pub wait_seconds: Option<u32>,
}

fn window(row_offset: Option<u64>, max_rows: Option<u32>, max_bytes: Option<u32>) -> Window {
    Window {
        row_offset: row_offset.unwrap_or(0),
        max_rows: max_rows.unwrap_or(DEFAULT_ROWS).clamp(1, MAX_ROWS),
        max_bytes: max_bytes.unwrap_or(DEFAULT_BYTES).clamp(1024, MAX_BYTES),
    }
}

/// The first 20 warehouses the caller can see.
fn first_warehouses(ctx: &Context) -> Result<Vec<Warehouse>> {
    #[databricks_mcp_sdk::schema]
    struct List {
        #[serde(default)]
        warehouses: Vec<Warehouse>,
    }
    let list: List = ctx.get(WAREHOUSES, &[("page_size", "20".to_string())])?;
    Ok(list.warehouses)
}

/// The warehouse to use: the argument, else the operator's default, else an error that lists
/// the warehouses the caller can pick from.
fn warehouse_for(ctx: &Context, given: Option<String>) -> Result<String> {
    if let Some(id) = given.filter(|id| !id.trim().is_empty()).or_else(|| ctx.setting("warehouse_id")) {
        return Ok(id);
    }
    let choices: Vec<String> = first_warehouses(ctx)?.iter().map(Warehouse::line).collect();
    Err(ToolError::invalid(if choices.is_empty() {
        "no warehouse_id given, no default warehouse configured, and no SQL warehouse is visible to you; create one with create_warehouse".to_string()
    } else {
        format!(
            "no warehouse_id given and no default warehouse configured (the operator can set `warehouse_id` under [plugins.sql.settings]). Pass warehouse_id; RUNNING ones answer fastest:\n{}",
            choices.join("\n")
        )
    }))
}

/// Run a SQL statement on a SQL warehouse and return its result: a compact table for reading
/// and typed rows in the structured output, up to `max_rows` rows / `max_bytes` bytes, with
/// `truncated` and `next_row_offset` when there is more. Long statements report progress; if the
/// wait runs out the statement keeps running and the result gives its `statement_id` for
/// `get_statement`. Use named `parameters` for values, not string pasting. Runs with your
/// permissions: writes (INSERT, CREATE, DROP...) change data.
#[tool(destructive, title = "Execute SQL")]
fn execute_sql(ctx: &Context, args: ExecuteSql) -> Result<Output<StatementResult>> {
    if args.statement.trim().is_empty() {
        return Err(ToolError::invalid("statement is empty"));
    }
    let warehouse_id = warehouse_for(ctx, args.warehouse_id)?;
    let parameters: Vec<Value> = args
        .parameters
        .iter()
        .map(|p| {
            let value = match &p.value {
                Value::Null => Value::Null,
                Value::String(s) => json!(s),
                Value::Number(_) | Value::Bool(_) => json!(p.value.to_string()),
                _ => {
                    return Err(ToolError::invalid(format!(
                        "parameter `{}`: the value must be a string, number, boolean or null",
                        p.name
                    )));
                }
            };
            let mut out = json!({ "name": p.name, "value": value });
            if let Some(t) = &p.sql_type {
                out["type"] = json!(t);
            }
            Ok(out)
        })
        .collect::<Result<_>>()?;
    let mut body = json!({
        "statement": args.statement,
        "warehouse_id": warehouse_id,
        "parameters": parameters,
        // Return at once with the id, so a cancel of this call can cancel the statement.
        "wait_timeout": "0s",
        "on_wait_timeout": "CONTINUE",
        "disposition": "INLINE",
        "format": "JSON_ARRAY",
    });
    if let Some(c) = args.catalog.filter(|c| !c.is_empty()) {
        body["catalog"] = json!(c);
    }
    if let Some(s) = args.schema.filter(|s| !s.is_empty()) {
        body["schema"] = json!(s);
    }
    let submitted: statement::RawStatement = ctx.post(STATEMENTS, &body)?;
    let wait = statement::budget(ctx, args.wait_seconds.unwrap_or(120).min(840));
    let raw = statement::wait(ctx, submitted, wait)?;
    let (text, result) = statement::result(ctx, raw, Some(warehouse_id), window(None, args.max_rows, args.max_bytes))?;
    Ok(Output::new(link_whole_result(ctx, text, &result), result))
}

/// A window that stops before the end of the result links the whole result as a resource
/// (CSV), so a client can read it in one go instead of paging.
fn link_whole_result(ctx: &Context, mut text: String, result: &StatementResult) -> String {
    if result.truncated {
        let uri = format!("statement/{}/result", result.statement_id);
        text.push_str(&format!("\nThe whole result is the resource databricks://sql/{uri} (CSV)."));
        ctx.link_resource(
            ResourceLink::new(uri, format!("result of statement {}", result.statement_id))
                .title("SQL statement result")
                .description(format!(
                    "All {} rows of statement {} as CSV",
                    result.total_row_count.unwrap_or(0),
                    result.statement_id
                ))
                .mime_type("text/csv"),
        );
    }
    text
}

/// Arguments of `get_statement`.
#[schema]
pub struct GetStatement {
    /// The statement id from `execute_sql`.
    pub statement_id: String,
    /// The result row to start at (0-based), e.g. the `next_row_offset` of the previous call.
    #[serde(default)]
    pub row_offset: Option<u64>,
    /// Rows to return, 1-5000 (default 100).
    #[serde(default)]
    pub max_rows: Option<u32>,
    /// Bytes of row data to return, 1024-262144 (default 65536).
    #[serde(default)]
    pub max_bytes: Option<u32>,
    /// Seconds to wait for a statement that is still running (default 0: report where it stands; at most 840).
    #[serde(default)]
    pub wait_seconds: Option<u32>,
}

/// Get a statement's state and, once it has succeeded, a window of its result rows starting at
/// `row_offset`: use it to read on past a truncated result, or to pick up a statement that was
/// still running when `execute_sql` stopped waiting (optionally waiting with `wait_seconds`).
#[tool(read_only, idempotent, title = "Get statement result")]
fn get_statement(ctx: &Context, args: GetStatement) -> Result<Output<StatementResult>> {
    let raw = statement::get(ctx, &args.statement_id)?;
    let raw = statement::wait(ctx, raw, statement::budget(ctx, args.wait_seconds.unwrap_or(0).min(840)))?;
    let total = raw.manifest.as_ref().and_then(|m| m.total_row_count);
    if let (Some(offset), Some(total)) = (args.row_offset, total)
        && offset > 0
        && offset >= total
    {
        return Err(ToolError::invalid(format!("row_offset {offset} is past the end of the result ({total} rows)")));
    }
    let (text, result) = statement::result(ctx, raw, None, window(args.row_offset, args.max_rows, args.max_bytes))?;
    Ok(Output::new(link_whole_result(ctx, text, &result), result))
}

/// Arguments naming one statement.
#[schema]
pub struct StatementId {
    /// The statement id from `execute_sql`.
    pub statement_id: String,
}

/// What `cancel_statement` did.
#[schema]
pub struct CancelResult {
    /// The statement.
    pub statement_id: String,
    /// Its state after the cancel request.
    pub state: statement::StatementState,
}

/// Cancel a running statement. A statement that already finished keeps its result.
#[tool(idempotent, title = "Cancel statement")]
fn cancel_statement(ctx: &Context, args: StatementId) -> Result<Output<CancelResult>> {
    ctx.send(statement::cancel_request(&args.statement_id)?)?.json::<Value>()?;
    let state = statement::get(ctx, &args.statement_id)?.status.state;
    let text = match state {
        statement::StatementState::Canceled => format!("Cancelled statement {}.", args.statement_id),
        s => format!("Statement {} had already finished: {}.", args.statement_id, s.as_str()),
    };
    Ok(Output::new(text, CancelResult { statement_id: args.statement_id, state }))
}

// ---------------------------------------------------------------------------------------------
// Warehouses

/// A page of warehouses.
#[schema]
pub struct WarehouseList {
    /// The warehouses on this page, as the workspace returned them.
    pub warehouses: Vec<Json<Warehouse>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// Arguments of `list_warehouses`.
#[schema]
pub struct ListWarehouses {
    /// How many warehouses to return, 1-100 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// List the SQL warehouses you can see, one line each: name, id, state, size, type, scaling
/// and auto-stop. Pick a RUNNING one for `execute_sql` to answer fastest.
#[tool(read_only, idempotent, title = "List SQL warehouses")]
fn list_warehouses(ctx: &Context, args: ListWarehouses) -> Result<Output<WarehouseList>> {
    let page = ctx.page::<Json<Warehouse>>(
        Request::new(Method::Get, WAREHOUSES),
        "warehouses",
        Paging::QueryToken { size_param: "page_size" },
        args.limit.unwrap_or(50).clamp(1, 100),
        args.page_token.as_deref(),
    )?;
    let mut lines = page.items.iter().map(|w| w.get().map(|w| w.line())).collect::<Result<Vec<_>>>()?;
    if lines.is_empty() {
        lines.push("No SQL warehouses visible to you.".into());
    }
    if let Some(default) = ctx.setting("warehouse_id") {
        lines.push(format!("Default warehouse for execute_sql: {default}"));
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More warehouses: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(lines.join("\n"), WarehouseList { warehouses: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one warehouse.
#[schema]
pub struct WarehouseId {
    /// The warehouse id, e.g. `5a1f0c0ffee00001` (see `list_warehouses`).
    pub warehouse_id: String,
}

fn fetch(ctx: &Context, id: &str) -> Result<Json<Warehouse>> {
    ctx.get(&format!("{WAREHOUSES}/{}", segment(id)), &[])
}

/// Get one SQL warehouse's configuration, state, health and connection details (host and
/// HTTP path for JDBC/ODBC clients).
#[tool(read_only, idempotent, title = "Get SQL warehouse")]
fn get_warehouse(ctx: &Context, args: WarehouseId) -> Result<Output<Json<Warehouse>>> {
    let raw = fetch(ctx, &args.warehouse_id)?;
    let w = raw.get()?;
    let mut lines = vec![w.line()];
    if let Some(creator) = &w.creator_name {
        lines.push(format!("Created by {creator}"));
    }
    if let Some(summary) = raw.value().pointer("/health/summary").and_then(Value::as_str) {
        lines.push(format!("Health: {summary}"));
    }
    if let Some(path) = w.odbc_params.as_ref().and_then(|p| p.get("path")).and_then(Value::as_str) {
        lines.push(format!("HTTP path: {path}"));
    }
    Ok(Output::new(lines.join("\n"), raw))
}

/// What a warehouse action did.
#[schema]
pub struct WarehouseAction {
    /// The warehouse acted on.
    pub warehouse_id: String,
    /// Its state after the request, when it was read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<WarehouseState>,
    /// What was done.
    pub message: String,
}

fn action(ctx: &Context, id: &str, message: String) -> Result<Output<WarehouseAction>> {
    // The action happened; a failed read-back is not an error.
    let state = fetch(ctx, id).and_then(|w| w.get()).ok().and_then(|w| w.state);
    let text = match state {
        Some(s) => format!("{message} The warehouse is now {}.", s.as_str()),
        None => message.clone(),
    };
    Ok(Output::new(text, WarehouseAction { warehouse_id: id.to_string(), state, message }))
}

/// Create a SQL warehouse. It starts right away; `wait_for_warehouse` waits until it is RUNNING.
#[tool(title = "Create SQL warehouse")]
fn create_warehouse(ctx: &Context, args: WarehouseSpec) -> Result<Output<WarehouseAction>> {
    args.check()?;
    let name =
        args.name.clone().filter(|n| !n.trim().is_empty()).ok_or_else(|| ToolError::invalid("name is required"))?;
    let mut body = args.to_body(None)?;
    body.entry("cluster_size").or_insert_with(|| json!("Small"));
    #[databricks_mcp_sdk::schema]
    struct Created {
        id: String,
    }
    let created: Created = ctx.post(WAREHOUSES, &Value::Object(body))?;
    action(ctx, &created.id, format!("Created SQL warehouse {name} ({}).", created.id))
}

/// Arguments of `edit_warehouse`: the warehouse and only the settings to change.
#[schema]
pub struct EditWarehouse {
    /// The warehouse id.
    pub warehouse_id: String,
    /// The settings to change; everything not given keeps its current value.
    #[serde(flatten)]
    pub changes: WarehouseSpec,
}

/// Change a SQL warehouse's settings (name, size, scaling, auto-stop, type, serverless, tags).
/// Give only what changes; tags merge key by key (null removes one). A RUNNING warehouse
/// restarts to apply the change, interrupting running queries.
#[tool(destructive, idempotent, title = "Edit SQL warehouse")]
fn edit_warehouse(ctx: &Context, args: EditWarehouse) -> Result<Output<WarehouseAction>> {
    args.changes.check()?;
    let raw = fetch(ctx, &args.warehouse_id)?;
    let current = raw.get()?;
    let changes = args.changes.to_body(raw.value().get("tags"))?;
    if changes.is_empty() {
        return Err(ToolError::invalid("nothing to change: give at least one setting besides warehouse_id"));
    }
    let changed: Vec<String> = changes.keys().cloned().collect();
    // The API replaces the whole spec: start from what the warehouse has now.
    let mut body = databricks_mcp_sdk::serde_json::Map::new();
    for field in EDITABLE_FIELDS {
        if let Some(value) = raw.value().get(*field) {
            body.insert((*field).to_string(), value.clone());
        }
    }
    body.extend(changes);
    ctx.post_empty(&format!("{WAREHOUSES}/{}/edit", segment(&args.warehouse_id)), &Value::Object(body))?;
    let restart = if current.state == Some(WarehouseState::Running) { " It restarts to apply the change." } else { "" };
    action(
        ctx,
        &args.warehouse_id,
        format!("Edited {} ({}): {}.{restart}", current.name, args.warehouse_id, changed.join(", ")),
    )
}

/// Start a stopped SQL warehouse (a running one is left as it is). `wait_for_warehouse` waits
/// until it is RUNNING; `execute_sql` also waits for it.
#[tool(idempotent, title = "Start SQL warehouse")]
fn start_warehouse(ctx: &Context, args: WarehouseId) -> Result<Output<WarehouseAction>> {
    let current = fetch(ctx, &args.warehouse_id)?.get()?;
    if matches!(current.state, Some(WarehouseState::Running | WarehouseState::Starting)) {
        return action(
            ctx,
            &args.warehouse_id,
            format!("Warehouse {} is already {}; nothing to start.", current.name, current.state_str()),
        );
    }
    ctx.post_empty(&format!("{WAREHOUSES}/{}/start", segment(&args.warehouse_id)), &json!({}))?;
    action(ctx, &args.warehouse_id, format!("Starting warehouse {} ({}).", current.name, args.warehouse_id))
}

/// Stop a SQL warehouse. Running queries are cancelled; it can be started again.
#[tool(destructive, idempotent, title = "Stop SQL warehouse")]
fn stop_warehouse(ctx: &Context, args: WarehouseId) -> Result<Output<WarehouseAction>> {
    ctx.post_empty(&format!("{WAREHOUSES}/{}/stop", segment(&args.warehouse_id)), &json!({}))?;
    action(ctx, &args.warehouse_id, format!("Stopping warehouse {}.", args.warehouse_id))
}

/// Delete a SQL warehouse for good. Running queries are cancelled.
#[tool(destructive, idempotent, title = "Delete SQL warehouse")]
fn delete_warehouse(ctx: &Context, args: WarehouseId) -> Result<Output<WarehouseAction>> {
    let request = Request::new(Method::Delete, format!("{WAREHOUSES}/{}", segment(&args.warehouse_id)));
    ctx.send(request)?.json::<Value>()?;
    Ok(Output::new(
        format!("Deleted SQL warehouse {}.", args.warehouse_id),
        WarehouseAction { warehouse_id: args.warehouse_id, state: None, message: "deleted".into() },
    ))
}

/// The state to wait for.
#[schema]
#[derive(Debug, Clone, Copy, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WaitTarget {
    /// Running (after create, start or edit).
    #[default]
    Running,
    /// Stopped (after stop).
    Stopped,
}

/// Arguments of `wait_for_warehouse`.
#[schema]
pub struct WaitForWarehouse {
    /// The warehouse id.
    pub warehouse_id: String,
    /// `RUNNING` (default) or `STOPPED`.
    #[serde(default)]
    pub target: WaitTarget,
    /// Give up after this many seconds (default 600, at most 840).
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
}

/// Wait until a SQL warehouse is RUNNING (or STOPPED), reporting progress. Fails if it stops
/// or is deleted while waiting for RUNNING.
#[tool(read_only, idempotent, title = "Wait for SQL warehouse")]
fn wait_for_warehouse(ctx: &Context, args: WaitForWarehouse) -> Result<Output<Json<Warehouse>>> {
    let target = match args.target {
        WaitTarget::Running => WarehouseState::Running,
        WaitTarget::Stopped => WarehouseState::Stopped,
    };
    let timeout = Duration::from_secs(u64::from(args.timeout_seconds.unwrap_or(600).clamp(1, 840)));
    let wait = Wait::new(format!("warehouse {} to be {}", args.warehouse_id, target.as_str()), timeout);
    let (raw, w) = ctx.wait_until(&wait, || {
        let raw = fetch(ctx, &args.warehouse_id)?;
        let w = raw.get()?;
        let state = w.state;
        let gone = matches!(state, Some(WarehouseState::Deleted | WarehouseState::Deleting));
        let stopped = target == WarehouseState::Running && matches!(state, Some(WarehouseState::Stopped));
        if gone || stopped {
            let hint = if stopped { " Start it with start_warehouse." } else { "" };
            return Err(ToolError::Failed(format!(
                "warehouse {} is {}, not going to be {}.{hint}",
                args.warehouse_id,
                w.state_str(),
                target.as_str()
            )));
        }
        Ok(if state == Some(target) { Poll::Ready((raw, w)) } else { Poll::Pending(w.state_str().to_string()) })
    })?;
    Ok(Output::new(w.line(), raw))
}

databricks_mcp_sdk::plugin! {
    name: "sql",
    description: "Databricks SQL: run statements on SQL warehouses and read their results by window; list, create, edit, start, stop, delete and wait for warehouses",
    grants: [
        "POST /api/2.0/sql/statements",
        "GET /api/2.0/sql/statements/*",
        "GET /api/2.0/sql/statements/*/result/chunks/*",
        "POST /api/2.0/sql/statements/*/cancel",
        "GET /api/2.0/sql/warehouses",
        "POST /api/2.0/sql/warehouses",
        "GET /api/2.0/sql/warehouses/*",
        "DELETE /api/2.0/sql/warehouses/*",
        "POST /api/2.0/sql/warehouses/*/edit",
        "POST /api/2.0/sql/warehouses/*/start",
        "POST /api/2.0/sql/warehouses/*/stop",
    ],
    tools: [
        execute_sql,
        get_statement,
        cancel_statement,
        list_warehouses,
        get_warehouse,
        create_warehouse,
        edit_warehouse,
        start_warehouse,
        stop_warehouse,
        delete_warehouse,
        wait_for_warehouse,
    ],
    resources: [statement_result, table_sample],
    prompts: [optimize_query],
}
