//! HTTP handlers of vector search: endpoints, indexes, sync and query.

use std::{cmp::Ordering, sync::Arc};

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Endpoint, Index, VS_ENDPOINT};
use crate::{
    clock::Moment,
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    identity::Caller,
    pagination::{decode_token, page},
    serving::{Task, model},
    unity::grants::Securable,
    workspace::{AppState, Workspace},
};

type App = State<Arc<AppState>>;

const PAGE_SIZE: usize = 25;

fn not_found(what: &str, name: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", format!("{what} '{name}' does not exist."))
}

/// Runs whatever syncs are due.
fn advance(ws: &mut Workspace, at: Moment) {
    let vs = &mut ws.vector_search;
    for index in vs.indexes.values_mut() {
        let online = vs.endpoints.get(&index.endpoint).map_or(u64::MAX, |e| e.online_at(at.delay_ms));
        index.advance(online, &mut ws.unity, at);
    }
}

fn paged(items: Vec<Value>, key: &str, params: &Params) -> ApiResult<Json<Value>> {
    let size = params.parse::<usize>("page_size")?.filter(|n| *n > 0).unwrap_or(PAGE_SIZE).min(100);
    let cut = page(items, decode_token(params.get("page_token").unwrap_or_default())?, size);
    let mut out = Map::new();
    out.insert(key.into(), Value::Array(cut.items));
    if let Some(t) = cut.next_page_token {
        out.insert("next_page_token".into(), json!(t));
    }
    Ok(Json(Value::Object(out)))
}

fn num_indexes(ws: &Workspace, endpoint: &str) -> usize {
    ws.vector_search.indexes.values().filter(|i| i.endpoint == endpoint).count()
}

pub(super) async fn list_endpoints(State(app): App, params: Params) -> ApiResult<Json<Value>> {
    let at = app.clock.moment();
    let ws = app.workspace();
    let items = ws.vector_search.endpoints.values().map(|e| e.render(at, num_indexes(&ws, &e.name))).collect();
    paged(items, "endpoints", &params)
}

pub(super) async fn get_endpoint(State(app): App, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let at = app.clock.moment();
    let ws = app.workspace();
    let e = ws.vector_search.endpoints.get(&name).ok_or_else(|| not_found("Vector search endpoint", &name))?;
    Ok(Json(e.render(at, num_indexes(&ws, &name))))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CreateEndpoint {
    name: Option<String>,
    endpoint_type: Option<String>,
}

pub(super) async fn create_endpoint(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<CreateEndpoint>,
) -> ApiResult<Json<Value>> {
    let name = body.name.filter(|n| !n.is_empty()).ok_or_else(|| ApiError::missing_field("name"))?;
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') || name.len() > 49 {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid endpoint name '{name}': use letters, digits, dashes and underscores, at most 49 characters."
        )));
    }
    let endpoint_type = body.endpoint_type.unwrap_or_else(|| "STANDARD".into());
    if !["STANDARD", "STORAGE_OPTIMIZED"].contains(&endpoint_type.as_str()) {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid endpoint_type '{endpoint_type}': expected STANDARD or STORAGE_OPTIMIZED."
        )));
    }
    let at = app.clock.moment();
    let mut ws = app.workspace();
    if ws.vector_search.endpoints.contains_key(&name) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "RESOURCE_ALREADY_EXISTS",
            format!("Vector search endpoint '{name}' already exists."),
        ));
    }
    let e = Endpoint {
        id: crate::genie::genie_id(&format!("vs-endpoint:{name}")),
        name: name.clone(),
        endpoint_type,
        creator: caller.user_name.clone(),
        created: at.now,
    };
    let out = e.render(at, 0);
    ws.vector_search.endpoints.insert(name, e);
    Ok(Json(out))
}

pub(super) async fn delete_endpoint(
    State(app): App,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let e = ws.vector_search.endpoints.get(&name).ok_or_else(|| not_found("Vector search endpoint", &name))?;
    ws.acls.check(&VS_ENDPOINT, &e.id, &caller, Some(&e.creator), "CAN_MANAGE")?;
    let n = num_indexes(ws, &name);
    if n > 0 {
        return Err(ApiError::invalid_state(format!(
            "Vector search endpoint '{name}' still hosts {n} index(es); delete them first."
        )));
    }
    let id = e.id.clone();
    ws.vector_search.endpoints.remove(&name);
    ws.acls.forget(&VS_ENDPOINT, &id);
    Ok(Json(json!({})))
}

pub(super) async fn list_indexes(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let endpoint = params.required("endpoint_name")?.to_owned();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    if !ws.vector_search.endpoints.contains_key(&endpoint) {
        return Err(not_found("Vector search endpoint", &endpoint));
    }
    let items = ws
        .vector_search
        .indexes
        .values()
        .filter(|i| i.endpoint == endpoint && ws.unity.can_read(&caller, Securable::Table, &i.source_table))
        .map(|i| i.render(false))
        .collect();
    paged(items, "vector_indexes", &params)
}

/// The index, synced as far as now allows, if the caller may read its source table.
fn index<'a>(ws: &'a mut Workspace, name: &str, caller: &Caller, at: Moment) -> ApiResult<&'a Index> {
    if !ws.vector_search.indexes.contains_key(name) {
        return Err(not_found("Vector index", name));
    }
    advance(ws, at);
    let i = &ws.vector_search.indexes[name];
    ws.unity.check_read(caller, Securable::Table, &i.source_table)?;
    Ok(i)
}

pub(super) async fn get_index(State(app): App, caller: Caller, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let at = app.clock.moment();
    let mut ws = app.workspace();
    Ok(Json(index(&mut ws, &name, &caller, at)?.render(true)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CreateIndex {
    name: Option<String>,
    endpoint_name: Option<String>,
    primary_key: Option<String>,
    index_type: Option<String>,
    delta_sync_index_spec: Option<Value>,
}

pub(super) async fn create_index(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<CreateIndex>,
) -> ApiResult<Json<Value>> {
    let name = body.name.filter(|n| !n.is_empty()).ok_or_else(|| ApiError::missing_field("name"))?.to_ascii_lowercase();
    let endpoint =
        body.endpoint_name.filter(|n| !n.is_empty()).ok_or_else(|| ApiError::missing_field("endpoint_name"))?;
    let primary_key =
        body.primary_key.filter(|n| !n.is_empty()).ok_or_else(|| ApiError::missing_field("primary_key"))?;
    match body.index_type.as_deref() {
        Some("DELTA_SYNC") => {}
        Some("DIRECT_ACCESS") => {
            return Err(ApiError::new(
                StatusCode::NOT_IMPLEMENTED,
                "NOT_IMPLEMENTED",
                "The emulator serves DELTA_SYNC indexes only; DIRECT_ACCESS indexes need upsert-data, which it does not take.",
            ));
        }
        Some(other) => {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid index_type '{other}': expected DELTA_SYNC or DIRECT_ACCESS."
            )));
        }
        None => return Err(ApiError::missing_field("index_type")),
    }
    let spec = body.delta_sync_index_spec.ok_or_else(|| ApiError::missing_field("delta_sync_index_spec"))?;
    let source = spec["source_table"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing_field("delta_sync_index_spec.source_table"))?
        .to_ascii_lowercase();
    let embedding = spec["embedding_source_columns"].as_array().and_then(|a| a.first()).ok_or_else(|| {
        ApiError::invalid_parameter("delta_sync_index_spec.embedding_source_columns is required (the emulator computes embeddings; self-managed embedding_vector_columns are not served)")
    })?;
    let text_column = embedding["name"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing_field("embedding_source_columns.name"))?
        .to_owned();
    let model_endpoint = embedding["embedding_model_endpoint_name"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing_field("embedding_source_columns.embedding_model_endpoint_name"))?
        .to_owned();
    let pipeline_type = spec["pipeline_type"].as_str().unwrap_or("TRIGGERED").to_owned();
    if !["TRIGGERED", "CONTINUOUS"].contains(&pipeline_type.as_str()) {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid pipeline_type '{pipeline_type}': expected TRIGGERED or CONTINUOUS."
        )));
    }
    let columns_to_sync = spec["columns_to_sync"]
        .as_array()
        .map(|c| c.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect::<Vec<_>>());
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(ApiError::invalid_parameter(format!("Invalid index name '{name}': use catalog.schema.index.")));
    }
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    if !ws.vector_search.endpoints.contains_key(&endpoint) {
        return Err(not_found("Vector search endpoint", &endpoint));
    }
    if ws.vector_search.indexes.contains_key(&name) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "RESOURCE_ALREADY_EXISTS",
            format!("Vector index '{name}' already exists."),
        ));
    }
    ws.unity.schema(parts[0], parts[1])?;
    ws.unity.check_create(&caller, Securable::Schema, &format!("{}.{}", parts[0], parts[1]), "CREATE_TABLE")?;
    let tp: Vec<&str> = source.split('.').collect();
    if tp.len() != 3 {
        return Err(ApiError::invalid_parameter(format!("Invalid source_table '{source}': use catalog.schema.table.")));
    }
    let table = ws.unity.table(tp[0], tp[1], tp[2])?;
    ws.unity.check_read(&caller, Securable::Table, &source)?;
    let column = |c: &str| table.columns.iter().find(|col| col.name.eq_ignore_ascii_case(c));
    if column(&primary_key).is_none() {
        return Err(ApiError::invalid_parameter(format!(
            "Primary key column '{primary_key}' is not a column of {source}."
        )));
    }
    match column(&text_column) {
        None => {
            return Err(ApiError::invalid_parameter(format!(
                "Embedding source column '{text_column}' is not a column of {source}."
            )));
        }
        Some(c) if c.type_text != "string" => {
            return Err(ApiError::invalid_parameter(format!(
                "Embedding source column '{text_column}' must be a STRING column, not {}.",
                c.type_text
            )));
        }
        Some(_) => {}
    }
    for c in columns_to_sync.iter().flatten() {
        if column(c).is_none() {
            return Err(ApiError::invalid_parameter(format!(
                "Column '{c}' in columns_to_sync is not a column of {source}."
            )));
        }
    }
    match ws.serving.endpoints.get(&model_endpoint).and_then(|e| e.task()) {
        Some(Task::Embeddings) => {}
        Some(_) => {
            return Err(ApiError::invalid_parameter(format!(
                "Serving endpoint '{model_endpoint}' does not serve an embedding model."
            )));
        }
        None => {
            return Err(ApiError::invalid_parameter(format!(
                "Embedding model endpoint '{model_endpoint}' does not exist."
            )));
        }
    }
    let index = Index {
        name: name.clone(),
        endpoint,
        primary_key,
        source_table: source,
        text_column,
        model_endpoint,
        pipeline_type,
        columns_to_sync,
        creator: caller.user_name.clone(),
        sync_due: Some(at.now + at.delay_ms),
        synced_at: None,
        rows: Vec::new(),
        sync_error: None,
    };
    let out = index.render(true);
    ws.vector_search.indexes.insert(name, index);
    Ok(Json(out))
}

pub(super) async fn delete_index(State(app): App, caller: Caller, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let mut ws = app.workspace();
    let i = ws.vector_search.indexes.get(&name).ok_or_else(|| not_found("Vector index", &name))?;
    let schema = name.rsplit_once('.').map(|(s, _)| s.to_owned()).unwrap_or_default();
    if !i.creator.eq_ignore_ascii_case(&caller.user_name) {
        ws.unity.check_manage(&caller, Securable::Schema, &schema)?;
    }
    ws.vector_search.indexes.remove(&name);
    Ok(Json(json!({})))
}

pub(super) async fn sync_index(State(app): App, caller: Caller, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let i = index(ws, &name, &caller, at)?;
    if i.pipeline_type != "TRIGGERED" {
        return Err(ApiError::invalid_parameter(format!(
            "Index '{name}' syncs continuously; only TRIGGERED indexes are synced on request."
        )));
    }
    if !i.ready() {
        return Err(ApiError::invalid_state(format!(
            "Index '{name}' is still being provisioned; its initial sync has not finished."
        )));
    }
    if let Some(i) = ws.vector_search.indexes.get_mut(&name) {
        i.sync_due = Some(at.now + at.delay_ms);
    }
    advance(ws, at);
    Ok(Json(json!({})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Query {
    columns: Vec<String>,
    query_text: Option<String>,
    query_vector: Option<Vec<f32>>,
    num_results: Option<i64>,
    filters_json: Option<String>,
    query_type: Option<String>,
}

/// Whether a row passes one filter entry.
fn passes(row: &Map<String, Value>, key: &str, want: &Value) -> ApiResult<bool> {
    let (column, op) = key.split_once(' ').map_or((key, ""), |(c, o)| (c, o.trim()));
    let have = row.get(column).ok_or_else(|| {
        ApiError::invalid_parameter(format!("Filter column '{column}' is not a column of the index."))
    })?;
    let num = |v: &Value| v.as_f64();
    let cmp = |a: &Value, b: &Value| match (num(a), num(b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y),
        _ => a.as_str().zip(b.as_str()).map(|(x, y)| x.cmp(y)),
    };
    let eq = |a: &Value, b: &Value| cmp(a, b) == Some(Ordering::Equal) || a == b;
    Ok(match (op.to_ascii_uppercase().as_str(), want) {
        ("", Value::Array(options)) => options.iter().any(|o| eq(have, o)),
        ("", v) => eq(have, v),
        ("NOT", Value::Array(options)) => !options.iter().any(|o| eq(have, o)),
        ("NOT", v) => !eq(have, v),
        ("<", v) => cmp(have, v) == Some(Ordering::Less),
        ("<=", v) => matches!(cmp(have, v), Some(Ordering::Less | Ordering::Equal)),
        (">", v) => cmp(have, v) == Some(Ordering::Greater),
        (">=", v) => matches!(cmp(have, v), Some(Ordering::Greater | Ordering::Equal)),
        ("LIKE", Value::String(w)) => have.as_str().is_some_and(|h| h.to_lowercase().contains(&w.to_lowercase())),
        (other, _) => {
            return Err(ApiError::invalid_parameter(format!("Unsupported filter operator '{other}' in '{key}'.")));
        }
    })
}

pub(super) async fn query_index(
    State(app): App,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<Query>,
) -> ApiResult<Json<Value>> {
    if body.columns.is_empty() {
        return Err(ApiError::missing_field("columns"));
    }
    let k = match body.num_results.unwrap_or(10) {
        n if (1..=10_000).contains(&n) => n as usize,
        n => return Err(ApiError::invalid_parameter(format!("num_results must be between 1 and 10000, not {n}."))),
    };
    if let Some(t) = body.query_type.as_deref().filter(|t| !["ANN", "HYBRID", "FULL_TEXT"].contains(t)) {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid query_type '{t}': expected ANN, HYBRID or FULL_TEXT."
        )));
    }
    let filters: Map<String, Value> = match body.filters_json.as_deref().filter(|f| !f.trim().is_empty()) {
        None => Map::new(),
        Some(f) => serde_json::from_str(f)
            .map_err(|e| ApiError::invalid_parameter(format!("filters_json is not a JSON object: {e}")))?,
    };
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let i = index(&mut ws, &name, &caller, at)?;
    if !i.ready() {
        return Err(ApiError::invalid_state(format!(
            "Index '{name}' is not ready yet: its initial sync has not finished."
        )));
    }
    let known = i.columns();
    if let Some(c) = body.columns.iter().find(|c| !known.contains(c)) {
        return Err(ApiError::invalid_parameter(format!("Requested column '{c}' is not a column of index '{name}'.")));
    }
    let query = match (&body.query_text, &body.query_vector) {
        (Some(t), None) if !t.trim().is_empty() => model::embed(t),
        (None, Some(v)) if v.len() == model::EMBEDDING_DIM => v.clone(),
        (None, Some(v)) => {
            return Err(ApiError::invalid_parameter(format!(
                "query_vector has {} dimensions; index '{name}' holds {}-dimensional embeddings.",
                v.len(),
                model::EMBEDDING_DIM
            )));
        }
        _ => return Err(ApiError::invalid_parameter("Give exactly one of query_text or query_vector.")),
    };
    let mut scored = Vec::new();
    for row in &i.rows {
        let mut keep = true;
        for (key, want) in &filters {
            keep &= passes(&row.values, key, want)?;
        }
        if keep {
            // Scores are in (0, 1] like the service's: 1 / (1 + distance), from cosine similarity.
            let score = f64::from(1.0 / (1.0 + (1.0 - model::cosine(&query, &row.vector)).max(0.0)));
            scored.push((score, row));
        }
    }
    // Ties (rows with the same text) keep primary-key order.
    let key_order = |a: &Value, b: &Value| match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => a.to_string().cmp(&b.to_string()),
    };
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0).then_with(|| key_order(&a.1.values[&i.primary_key], &b.1.values[&i.primary_key]))
    });
    scored.truncate(k);
    let data: Vec<Value> = scored
        .iter()
        .map(|(score, row)| {
            let mut cells: Vec<Value> = body.columns.iter().map(|c| row.values[c].clone()).collect();
            cells.push(json!((score * 1e6).round() / 1e6));
            Value::Array(cells)
        })
        .collect();
    let mut columns: Vec<Value> = body.columns.iter().map(|c| json!({"name": c})).collect();
    columns.push(json!({"name": "score"}));
    Ok(Json(json!({
        "manifest": {"column_count": columns.len(), "columns": columns},
        "result": {"row_count": data.len(), "data_array": data},
    })))
}
