//! The Statement Execution API (`/api/2.0/sql/statements`).
//!
//! A statement waits in PENDING while its warehouse starts (a STOPPED warehouse is started for
//! it), spends one transition delay RUNNING, then runs against the SQL engine and ends SUCCEEDED or
//! FAILED; a cancel before that ends it CANCELED without running it. Like every state machine here
//! it advances when read. `POST` waits up to `wait_timeout` for the end by polling itself.
//!
//! Results are cut into chunks of [`Sql::chunk_rows`] rows; the first comes with the statement,
//! the rest from `result/chunks/{n}`. SQL errors are not HTTP errors: HTTP 200 with
//! `status.state = FAILED` and `status.error`.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    Sql,
    engine::{self, Context, Outcome, Param, SqlError},
    warehouses::WhState,
};
use crate::{
    acl::WAREHOUSE,
    clock::Moment,
    error::{ApiError, ApiResult},
    extract::ApiJson,
    identity::Caller,
    unity::{Unity, store::stable_uuid},
    workspace::AppState,
};

/// How often a waiting `POST` re-reads its statement.
const POLL: Duration = Duration::from_millis(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StmtState {
    Pending,
    Running,
    Succeeded,
    Failed,
    Canceled,
}

impl StmtState {
    fn as_str(self) -> &'static str {
        match self {
            StmtState::Pending => "PENDING",
            StmtState::Running => "RUNNING",
            StmtState::Succeeded => "SUCCEEDED",
            StmtState::Failed => "FAILED",
            StmtState::Canceled => "CANCELED",
        }
    }

    fn is_terminal(self) -> bool {
        matches!(self, StmtState::Succeeded | StmtState::Failed | StmtState::Canceled)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Statement {
    id: String,
    warehouse_id: String,
    text: String,
    context: Context,
    params: Vec<Param>,
    row_limit: Option<usize>,
    byte_limit: Option<usize>,
    state: StmtState,
    /// When RUNNING began.
    running_since: Option<u64>,
    outcome: Option<Outcome>,
    truncated: bool,
    error: Option<SqlError>,
    chunk_rows: usize,
    /// Who submitted it: only they (and admins) may read or cancel it.
    owner: String,
}

/// All statements, by id.
pub(crate) type Statements = HashMap<String, Statement>;

/// Moves a statement as far as `at` allows; running it when its RUNNING step is over.
fn advance(sql: &mut Sql, uc: &mut Unity, id: &str, at: Moment) {
    let Some(st) = sql.statements.get_mut(id) else { return };
    if st.state == StmtState::Pending {
        match sql.warehouses.by_id.get_mut(&st.warehouse_id) {
            None => {
                st.state = StmtState::Failed;
                st.error = Some(SqlError {
                    message: format!("The SQL warehouse {} was deleted while the statement waited.", st.warehouse_id),
                    sql_state: "08003",
                });
                return;
            }
            Some(w) => {
                w.advance(at.now);
                match w.running_at() {
                    Some(t) if t <= at.now => {
                        st.state = StmtState::Running;
                        // Running begins when both the statement and its warehouse are there.
                        st.running_since = Some(t.max(st.context.now));
                    }
                    Some(_) => return,
                    // Stopped while the statement waited for it.
                    None => {
                        st.state = StmtState::Failed;
                        st.error = Some(SqlError {
                            message: format!(
                                "The SQL warehouse {} was stopped before the statement could run.",
                                st.warehouse_id
                            ),
                            sql_state: "08003",
                        });
                        return;
                    }
                }
            }
        }
    }
    if st.state == StmtState::Running && st.running_since.is_some_and(|t| at.now >= t + at.delay_ms) {
        match engine::execute(uc, &st.text, &st.context, &st.params) {
            Ok(mut outcome) => {
                st.truncated = limit(&mut outcome, st.row_limit, st.byte_limit);
                st.outcome = Some(outcome);
                st.state = StmtState::Succeeded;
            }
            Err(e) => {
                st.error = Some(e);
                st.state = StmtState::Failed;
            }
        }
    }
}

/// Applies `row_limit` and `byte_limit`; true if rows were cut.
fn limit(outcome: &mut Outcome, rows: Option<usize>, bytes: Option<usize>) -> bool {
    let before = outcome.rows.len();
    if let Some(n) = rows {
        outcome.rows.truncate(n);
    }
    if let Some(max) = bytes {
        let mut total = 0;
        let keep = outcome
            .rows
            .iter()
            .take_while(|row| {
                total += json!(row).to_string().len();
                total <= max
            })
            .count();
        outcome.rows.truncate(keep);
    }
    outcome.rows.len() < before
}

fn chunk_json(st: &Statement, outcome: &Outcome, index: usize) -> Value {
    let size = st.chunk_rows.max(1);
    let offset = index * size;
    let rows: Vec<&Vec<Option<String>>> = outcome.rows.iter().skip(offset).take(size).collect();
    let total_chunks = chunk_count(outcome, size);
    let mut out = Map::new();
    out.insert("chunk_index".into(), json!(index));
    out.insert("row_offset".into(), json!(offset));
    out.insert("row_count".into(), json!(rows.len()));
    if !rows.is_empty() {
        out.insert("byte_count".into(), json!(json!(rows).to_string().len()));
        out.insert("data_array".into(), json!(rows));
    }
    if index + 1 < total_chunks {
        out.insert("next_chunk_index".into(), json!(index + 1));
        out.insert(
            "next_chunk_internal_link".into(),
            json!(format!("/api/2.0/sql/statements/{}/result/chunks/{}", st.id, index + 1)),
        );
    }
    Value::Object(out)
}

fn chunk_count(outcome: &Outcome, size: usize) -> usize {
    outcome.rows.len().div_ceil(size.max(1)).max(1)
}

fn render(st: &Statement) -> Value {
    let mut status = Map::new();
    status.insert("state".into(), json!(st.state.as_str()));
    if let Some(e) = &st.error {
        status.insert("error".into(), json!({"error_code": "BAD_REQUEST", "message": e.message}));
        status.insert("sql_state".into(), json!(e.sql_state));
    }
    let mut out = Map::new();
    out.insert("statement_id".into(), json!(st.id));
    out.insert("status".into(), Value::Object(status));
    if let (StmtState::Succeeded, Some(outcome)) = (st.state, &st.outcome) {
        let size = st.chunk_rows.max(1);
        let columns: Vec<Value> = outcome
            .columns
            .iter()
            .enumerate()
            .map(|(position, (name, ty))| {
                let mut c = json!({"name": name, "type_text": ty.text.to_ascii_uppercase(), "type_name": ty.name, "position": position});
                if let (Some(scale), Some(map)) = (ty.decimal_scale(), c.as_object_mut()) {
                    let precision = ty.text.trim_start_matches("decimal(").split(',').next().and_then(|p| p.parse::<u32>().ok());
                    map.insert("type_scale".into(), json!(scale));
                    if let Some(p) = precision {
                        map.insert("type_precision".into(), json!(p));
                    }
                }
                c
            })
            .collect();
        let total = chunk_count(outcome, size);
        let chunks: Vec<Value> = (0..total)
            .map(|i| {
                let offset = i * size;
                let count = outcome.rows.len().saturating_sub(offset).min(size);
                json!({"chunk_index": i, "row_offset": offset, "row_count": count})
            })
            .collect();
        out.insert(
            "manifest".into(),
            json!({
                "format": "JSON_ARRAY",
                "schema": {"column_count": columns.len(), "columns": columns},
                "total_chunk_count": total,
                "chunks": chunks,
                "total_row_count": outcome.rows.len(),
                "truncated": st.truncated,
            }),
        );
        out.insert("result".into(), chunk_json(st, outcome, 0));
    }
    Value::Object(out)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ExecuteBody {
    statement: Option<String>,
    warehouse_id: Option<String>,
    catalog: Option<String>,
    schema: Option<String>,
    parameters: Vec<Param>,
    wait_timeout: Option<String>,
    on_wait_timeout: Option<String>,
    disposition: Option<String>,
    format: Option<String>,
    row_limit: Option<i64>,
    byte_limit: Option<i64>,
}

/// `"0s"` or `"5s"`..=`"50s"`.
fn wait_timeout(value: Option<&str>) -> ApiResult<Duration> {
    let text = value.unwrap_or("10s");
    let secs = text.strip_suffix('s').and_then(|n| n.parse::<u64>().ok());
    match secs {
        Some(s) if s == 0 || (5..=50).contains(&s) => Ok(Duration::from_secs(s)),
        _ => Err(ApiError::invalid_parameter(format!(
            "Invalid wait_timeout '{text}': it must be 0s or between 5s and 50s, e.g. \"10s\""
        ))),
    }
}

fn positive(value: Option<i64>, field: &str) -> ApiResult<Option<usize>> {
    value
        .map(|n| {
            usize::try_from(n)
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ApiError::invalid_parameter(format!("{field} must be positive")))
        })
        .transpose()
}

type App = State<Arc<AppState>>;

/// The statement, if the caller may see it: its submitter and admins may.
fn visible<'a>(sql: &'a mut Sql, id: &str, caller: &Caller) -> ApiResult<&'a mut Statement> {
    let st = sql.statements.get_mut(id).ok_or_else(|| not_found(id))?;
    if !caller.is_admin && !st.owner.eq_ignore_ascii_case(&caller.user_name) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            format!("User {} cannot access statement {id}: it was submitted by another user.", caller.user_name),
        ));
    }
    Ok(st)
}

pub(super) async fn execute(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<ExecuteBody>,
) -> ApiResult<Json<Value>> {
    let text = body.statement.filter(|s| !s.trim().is_empty()).ok_or_else(|| ApiError::missing_field("statement"))?;
    let warehouse_id =
        body.warehouse_id.filter(|s| !s.is_empty()).ok_or_else(|| ApiError::missing_field("warehouse_id"))?;
    let wait = wait_timeout(body.wait_timeout.as_deref())?;
    let cancel_on_timeout = match body.on_wait_timeout.as_deref().unwrap_or("CONTINUE") {
        "CONTINUE" => false,
        "CANCEL" => true,
        other => {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid on_wait_timeout '{other}': expected CONTINUE or CANCEL"
            )));
        }
    };
    match body.disposition.as_deref().unwrap_or("INLINE") {
        "INLINE" => {}
        "EXTERNAL_LINKS" => {
            return Err(ApiError::new(
                StatusCode::NOT_IMPLEMENTED,
                "NOT_IMPLEMENTED",
                "The emulator does not serve EXTERNAL_LINKS results; use disposition INLINE.",
            ));
        }
        other => return Err(ApiError::invalid_parameter(format!("Invalid disposition '{other}'"))),
    }
    match body.format.as_deref().unwrap_or("JSON_ARRAY") {
        "JSON_ARRAY" => {}
        "ARROW_STREAM" | "CSV" => {
            return Err(ApiError::invalid_parameter("Inline disposition only supports JSON_ARRAY format"));
        }
        other => return Err(ApiError::invalid_parameter(format!("Invalid format '{other}'"))),
    }
    let row_limit = positive(body.row_limit, "row_limit")?;
    let byte_limit = positive(body.byte_limit, "byte_limit")?;
    if body.parameters.iter().any(|p| p.name.is_empty()) {
        return Err(ApiError::invalid_parameter("Every parameter needs a name"));
    }
    let started = Instant::now();
    let id = {
        let at = app.clock.moment();
        let mut ws = app.workspace();
        let ws = &mut *ws;
        let owner = ws.sql.warehouses.get(&warehouse_id, at.now)?.creator_name.clone();
        ws.acls.check(&WAREHOUSE, &warehouse_id, &caller, Some(&owner), "CAN_USE")?;
        let warehouse = ws.sql.warehouses.get(&warehouse_id, at.now)?;
        if warehouse.state != WhState::Running {
            warehouse.start(at);
        }
        let id = stable_uuid(&format!("statement:{}:{}", ws.sql.statements.len(), at.now));
        let statement = Statement {
            id: id.clone(),
            warehouse_id,
            text,
            context: Context {
                catalog: body.catalog.filter(|c| !c.is_empty()).unwrap_or_else(|| "main".into()),
                schema: body.schema.filter(|s| !s.is_empty()).unwrap_or_else(|| "default".into()),
                user: caller.user_name.clone(),
                now: at.now,
            },
            params: body.parameters,
            row_limit,
            byte_limit,
            state: StmtState::Pending,
            running_since: None,
            outcome: None,
            truncated: false,
            error: None,
            chunk_rows: ws.sql.chunk_rows,
            owner: caller.user_name.clone(),
        };
        ws.sql.statements.insert(id.clone(), statement);
        id
    };
    loop {
        {
            let at = app.clock.moment();
            let mut ws = app.workspace();
            let ws = &mut *ws;
            advance(&mut ws.sql, &mut ws.unity, &id, at);
            let Some(st) = ws.sql.statements.get_mut(&id) else {
                return Err(not_found(&id));
            };
            if st.state.is_terminal() || started.elapsed() >= wait {
                if !st.state.is_terminal() && cancel_on_timeout {
                    st.state = StmtState::Canceled;
                }
                return Ok(Json(render(st)));
            }
        }
        tokio::time::sleep(POLL.min(wait.saturating_sub(started.elapsed()))).await;
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", format!("Statement {id} not found."))
}

pub(super) async fn get(State(app): App, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    visible(&mut ws.sql, &id, &caller)?;
    advance(&mut ws.sql, &mut ws.unity, &id, at);
    let st = ws.sql.statements.get(&id).ok_or_else(|| not_found(&id))?;
    Ok(Json(render(st)))
}

pub(super) async fn chunk(
    State(app): App,
    caller: Caller,
    Path((id, index)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let index: usize =
        index.parse().map_err(|_| ApiError::invalid_parameter(format!("Invalid chunk_index '{index}'")))?;
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    visible(&mut ws.sql, &id, &caller)?;
    advance(&mut ws.sql, &mut ws.unity, &id, at);
    let st = ws.sql.statements.get(&id).ok_or_else(|| not_found(&id))?;
    let Some(outcome) = st.outcome.as_ref().filter(|_| st.state == StmtState::Succeeded) else {
        return Err(ApiError::invalid_state(format!(
            "Statement {id} is {}; results are only available once it has SUCCEEDED.",
            st.state.as_str()
        )));
    };
    if index >= chunk_count(outcome, st.chunk_rows) {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid chunk_index {index}: the result has {} chunk(s)",
            chunk_count(outcome, st.chunk_rows)
        )));
    }
    Ok(Json(chunk_json(st, outcome, index)))
}

pub(super) async fn cancel(State(app): App, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    visible(&mut ws.sql, &id, &caller)?;
    advance(&mut ws.sql, &mut ws.unity, &id, at);
    let st = ws.sql.statements.get_mut(&id).ok_or_else(|| not_found(&id))?;
    if !st.state.is_terminal() {
        st.state = StmtState::Canceled;
    }
    Ok(Json(json!({})))
}

/// Records a statement that another family already ran through the engine (Genie runs the SQL it
/// writes), so its result is read back like any statement's: `GET /statements/{id}` and chunks.
/// Returns the statement id.
pub(crate) fn record_finished(
    sql: &mut Sql,
    warehouse_id: &str,
    text: &str,
    context: Context,
    result: Result<Outcome, SqlError>,
) -> String {
    let id = stable_uuid(&format!("statement:{}:{}:{text}", sql.statements.len(), context.now));
    let (state, outcome, error) = match result {
        Ok(o) => (StmtState::Succeeded, Some(o), None),
        Err(e) => (StmtState::Failed, None, Some(e)),
    };
    let statement = Statement {
        id: id.clone(),
        warehouse_id: warehouse_id.to_owned(),
        text: text.to_owned(),
        owner: context.user.clone(),
        running_since: Some(context.now),
        context,
        params: Vec::new(),
        row_limit: None,
        byte_limit: None,
        state,
        outcome,
        truncated: false,
        error,
        chunk_rows: sql.chunk_rows,
    };
    sql.statements.insert(id.clone(), statement);
    id
}

/// The `StatementResponse` of a statement as `GET /statements/{id}` renders it, if it exists.
pub(crate) fn response(sql: &Sql, id: &str) -> Option<Value> {
    sql.statements.get(id).map(render)
}
