//! Databricks Vector Search as MCP tools: endpoints and indexes (list, get, create, delete),
//! syncing an index with its source table, and similarity queries by text or by vector, with
//! filters, chosen columns and a top k.
//!
//! Indexes are Delta Sync indexes over a Unity Catalog table whose text column the workspace
//! embeds with a model serving endpoint, so a query can be plain text. Creating an endpoint or an
//! index returns at once while it provisions; `get_vector_search_index` shows when it is ready.

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request, segment};

const ENDPOINTS: &str = "/api/2.0/vector-search/endpoints";
const INDEXES: &str = "/api/2.0/vector-search/indexes";

fn endpoint_path(name: &str) -> String {
    format!("{ENDPOINTS}/{}", segment(name))
}

fn index_path(name: &str) -> String {
    format!("{INDEXES}/{}", segment(name))
}

// ---------------------------------------------------------------------------------------------
// Endpoints

/// A vector search endpoint.
#[schema]
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The endpoint's name.
    pub name: String,
    /// `STANDARD` or `STORAGE_OPTIMIZED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_type: Option<String>,
    /// `{state: PROVISIONING|ONLINE|OFFLINE|..., message}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_status: Option<Value>,
    /// How many indexes it hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_indexes: Option<u64>,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
}

impl Endpoint {
    fn state(&self) -> &str {
        self.endpoint_status.as_ref().and_then(|s| s["state"].as_str()).unwrap_or("UNKNOWN")
    }

    fn line(&self) -> String {
        format!(
            "{}: {} ({}), {} index(es)",
            self.name,
            self.state(),
            self.endpoint_type.as_deref().unwrap_or("STANDARD"),
            self.num_indexes.unwrap_or(0)
        )
    }
}

/// A page of endpoints.
#[schema]
pub struct EndpointList {
    /// The endpoints on this page.
    pub endpoints: Vec<Json<Endpoint>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the vector search endpoints: state and how many indexes each hosts.
#[tool(read_only, idempotent, title = "List vector search endpoints")]
fn list_vector_search_endpoints(ctx: &Context, args: PageArgs) -> Result<Output<EndpointList>> {
    let page = ctx.page::<Json<Endpoint>>(
        Request::new(Method::Get, ENDPOINTS),
        "endpoints",
        Paging::QueryToken { size_param: "page_size" },
        args.limit_or(25, 100),
        args.page_token.as_deref(),
    )?;
    let mut lines = page.items.iter().map(|e| e.get().map(|e| e.line())).collect::<Result<Vec<_>>>()?;
    if lines.is_empty() {
        lines.push("No vector search endpoints.".into());
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More endpoints: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(lines.join("\n"), EndpointList { endpoints: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one endpoint.
#[schema]
pub struct EndpointName {
    /// The vector search endpoint's name.
    pub name: String,
}

/// Get one vector search endpoint: state (PROVISIONING until it can host indexes, then ONLINE),
/// type, creator and index count.
#[tool(read_only, idempotent, title = "Get vector search endpoint")]
fn get_vector_search_endpoint(ctx: &Context, args: EndpointName) -> Result<Output<Json<Endpoint>>> {
    let raw: Json<Endpoint> = ctx.get(&endpoint_path(&args.name), &[])?;
    Ok(Output::new(raw.get()?.line(), raw))
}

/// Arguments of `create_vector_search_endpoint`.
#[schema]
pub struct CreateEndpoint {
    /// The new endpoint's name (letters, digits, dashes, underscores).
    pub name: String,
    /// `STANDARD` (default) or `STORAGE_OPTIMIZED`.
    #[serde(default)]
    pub endpoint_type: Option<String>,
}

/// Create a vector search endpoint to host indexes. It provisions for a few minutes (state
/// PROVISIONING, then ONLINE); indexes created on it meanwhile start syncing once it is online.
#[tool(title = "Create vector search endpoint")]
fn create_vector_search_endpoint(ctx: &Context, args: CreateEndpoint) -> Result<Output<Json<Endpoint>>> {
    let body = json!({ "name": args.name, "endpoint_type": args.endpoint_type.unwrap_or_else(|| "STANDARD".into()) });
    let raw: Json<Endpoint> = ctx.post(ENDPOINTS, &body)?;
    let text = format!("Created vector search endpoint {}; it is {}.", args.name, raw.get()?.state());
    Ok(Output::new(text, raw))
}

/// What a deletion or sync did.
#[schema]
pub struct Done {
    /// The endpoint or index.
    pub name: String,
    /// What was done.
    pub message: String,
}

/// Delete a vector search endpoint. It must host no indexes (delete them first).
#[tool(destructive, idempotent, title = "Delete vector search endpoint")]
fn delete_vector_search_endpoint(ctx: &Context, args: EndpointName) -> Result<Output<Done>> {
    ctx.send(Request::new(Method::Delete, endpoint_path(&args.name)))?.json::<Value>()?;
    let message = format!("Deleted vector search endpoint {}.", args.name);
    Ok(Output::new(message.clone(), Done { name: args.name, message }))
}

// ---------------------------------------------------------------------------------------------
// Indexes

/// A vector index.
#[schema]
#[derive(Debug, Clone)]
pub struct Index {
    /// `catalog.schema.index`.
    pub name: String,
    /// The endpoint hosting it.
    #[serde(default)]
    pub endpoint_name: String,
    /// The primary key column.
    #[serde(default)]
    pub primary_key: String,
    /// `DELTA_SYNC` or `DIRECT_ACCESS`.
    #[serde(default)]
    pub index_type: String,
    /// Source table, embedding columns and pipeline type (get only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_sync_index_spec: Option<Value>,
    /// `{ready, message, indexed_row_count}` (get only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
}

impl Index {
    fn line(&self) -> String {
        let mut line =
            format!("{} ({}, key {}, on {})", self.name, self.index_type, self.primary_key, self.endpoint_name);
        if let Some(spec) = &self.delta_sync_index_spec {
            line.push_str(&format!(" from {}", spec["source_table"].as_str().unwrap_or("?")));
        }
        if let Some(status) = &self.status {
            let ready = if status["ready"].as_bool() == Some(true) { "ready" } else { "not ready" };
            line.push_str(&format!(
                ": {ready}, {} rows. {}",
                status["indexed_row_count"],
                status["message"].as_str().unwrap_or("")
            ));
        }
        line
    }
}

/// A page of indexes.
#[schema]
pub struct IndexList {
    /// The indexes on this page.
    pub vector_indexes: Vec<Json<Index>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// Arguments of `list_vector_search_indexes`.
#[schema]
pub struct ListIndexes {
    /// The endpoint whose indexes to list.
    pub endpoint_name: String,
    /// How many to return, 1-100 (default 25).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// List the vector indexes an endpoint hosts that you can read.
#[tool(read_only, idempotent, title = "List vector search indexes")]
fn list_vector_search_indexes(ctx: &Context, args: ListIndexes) -> Result<Output<IndexList>> {
    let page = ctx.page::<Json<Index>>(
        Request::new(Method::Get, INDEXES).query("endpoint_name", &args.endpoint_name),
        "vector_indexes",
        Paging::QueryToken { size_param: "page_size" },
        args.limit.unwrap_or(25).clamp(1, 100),
        args.page_token.as_deref(),
    )?;
    let mut lines = page.items.iter().map(|i| i.get().map(|i| i.line())).collect::<Result<Vec<_>>>()?;
    if lines.is_empty() {
        lines.push(format!("No indexes on {} visible to you.", args.endpoint_name));
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More indexes: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(lines.join("\n"), IndexList { vector_indexes: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one index.
#[schema]
pub struct IndexName {
    /// The index's full name, `catalog.schema.index`.
    pub name: String,
}

/// Get one vector index: source table, embedding column and model, pipeline type, and whether it
/// is ready with how many rows indexed.
#[tool(read_only, idempotent, title = "Get vector search index")]
fn get_vector_search_index(ctx: &Context, args: IndexName) -> Result<Output<Json<Index>>> {
    let raw: Json<Index> = ctx.get(&index_path(&args.name), &[])?;
    Ok(Output::new(raw.get()?.line(), raw))
}

/// Arguments of `create_vector_search_index`.
#[schema]
pub struct CreateIndex {
    /// The new index's full name, `catalog.schema.index`.
    pub name: String,
    /// The vector search endpoint to host it.
    pub endpoint_name: String,
    /// The source table, `catalog.schema.table`.
    pub source_table: String,
    /// The source table's primary key column.
    pub primary_key: String,
    /// The STRING column to embed and search.
    pub embedding_source_column: String,
    /// The model serving endpoint computing embeddings, e.g. `databricks-bge-large-en`.
    pub embedding_model_endpoint_name: String,
    /// `TRIGGERED` (default: syncs on request with `sync_vector_search_index`) or `CONTINUOUS`.
    #[serde(default)]
    pub pipeline_type: Option<String>,
    /// Columns to carry into the index for filters and results (default: all).
    #[serde(default)]
    pub columns_to_sync: Option<Vec<String>>,
}

/// Create a Delta Sync vector index over a Unity Catalog table: the workspace embeds the text
/// column with the given embedding endpoint and keeps the index in sync with the table. It
/// returns at once; the initial sync takes a while (`get_vector_search_index` shows `ready`).
#[tool(title = "Create vector search index")]
fn create_vector_search_index(ctx: &Context, args: CreateIndex) -> Result<Output<Json<Index>>> {
    let mut spec = json!({
        "source_table": args.source_table,
        "pipeline_type": args.pipeline_type.unwrap_or_else(|| "TRIGGERED".into()),
        "embedding_source_columns": [{"name": args.embedding_source_column, "embedding_model_endpoint_name": args.embedding_model_endpoint_name}],
    });
    if let Some(c) = args.columns_to_sync.filter(|c| !c.is_empty()) {
        spec["columns_to_sync"] = json!(c);
    }
    let body = json!({
        "name": args.name,
        "endpoint_name": args.endpoint_name,
        "primary_key": args.primary_key,
        "index_type": "DELTA_SYNC",
        "delta_sync_index_spec": spec,
    });
    let raw: Json<Index> = ctx.post(INDEXES, &body)?;
    let text = format!(
        "Created vector index {}; its initial sync is running. Check get_vector_search_index until it is ready, then query it.",
        args.name
    );
    Ok(Output::new(text, raw))
}

/// Delete a vector index (the source table stays).
#[tool(destructive, idempotent, title = "Delete vector search index")]
fn delete_vector_search_index(ctx: &Context, args: IndexName) -> Result<Output<Done>> {
    ctx.send(Request::new(Method::Delete, index_path(&args.name)))?.json::<Value>()?;
    let message = format!("Deleted vector index {}.", args.name);
    Ok(Output::new(message.clone(), Done { name: args.name, message }))
}

/// Sync a TRIGGERED vector index with its source table now (new, changed and deleted rows). It
/// runs in the background; `get_vector_search_index` shows when it is done.
#[tool(idempotent, title = "Sync vector search index")]
fn sync_vector_search_index(ctx: &Context, args: IndexName) -> Result<Output<Done>> {
    ctx.post_empty(&format!("{}/sync", index_path(&args.name)), &json!({}))?;
    let message = format!("Started a sync of {} with its source table.", args.name);
    Ok(Output::new(message.clone(), Done { name: args.name, message }))
}

/// Arguments of `query_vector_search_index`.
#[schema]
pub struct QueryIndex {
    /// The index's full name, `catalog.schema.index`.
    pub name: String,
    /// The columns to return (a `score` column is added).
    pub columns: Vec<String>,
    /// Text to search for (embedded with the index's model). Give this or `query_vector`.
    #[serde(default)]
    pub query_text: Option<String>,
    /// An embedding to search with, of the index's dimension.
    #[serde(default)]
    pub query_vector: Option<Vec<f32>>,
    /// Filters on columns, e.g. `{"category": "billing", "year >=": 2024, "id NOT": [1, 2]}`
    /// (operators after the column: NOT, <, <=, >, >=, LIKE; a list means any of).
    #[serde(default)]
    pub filters: Option<databricks_mcp_sdk::serde_json::Map<String, Value>>,
    /// How many results, 1-1000 (default 10).
    #[serde(default)]
    pub num_results: Option<u32>,
}

/// Results of a query.
#[schema]
pub struct QueryResult {
    /// Column names of the rows, `score` last.
    pub columns: Vec<String>,
    /// The matching rows, most similar first.
    pub rows: Vec<Vec<Value>>,
}

/// Search a vector index for the rows most similar to a text or a vector, optionally filtered,
/// returning the chosen columns and a similarity score, most similar first.
#[tool(read_only, idempotent, title = "Query vector search index")]
fn query_vector_search_index(ctx: &Context, args: QueryIndex) -> Result<Output<QueryResult>> {
    if args.columns.is_empty() {
        return Err(ToolError::invalid("columns is empty: name the columns to return"));
    }
    let mut body = json!({ "columns": args.columns, "num_results": args.num_results.unwrap_or(10).clamp(1, 1000) });
    match (args.query_text.filter(|t| !t.trim().is_empty()), args.query_vector) {
        (Some(t), None) => body["query_text"] = json!(t),
        (None, Some(v)) => body["query_vector"] = json!(v),
        _ => return Err(ToolError::invalid("give exactly one of query_text or query_vector")),
    }
    if let Some(f) = args.filters.filter(|f| !f.is_empty()) {
        body["filters_json"] = json!(Value::Object(f).to_string());
    }
    let raw: Value = ctx.post(&format!("{}/query", index_path(&args.name)), &body)?;
    let columns: Vec<String> = raw["manifest"]["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect();
    let rows: Vec<Vec<Value>> = raw["result"]["data_array"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r.as_array().cloned().unwrap_or_default())
        .collect();
    let mut lines = vec![columns.join(" | ")];
    for r in &rows {
        lines.push(
            r.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).collect::<Vec<_>>().join(" | "),
        );
    }
    lines.push(format!("{} result(s).", rows.len()));
    Ok(Output::new(lines.join("\n"), QueryResult { columns, rows }))
}

databricks_mcp_sdk::plugin! {
    name: "vector-search",
    description: "Databricks Vector Search: list, get, create and delete endpoints and Delta Sync indexes; sync indexes; query by text or vector with filters",
    grants: [
        "GET /api/2.0/vector-search/endpoints",
        "POST /api/2.0/vector-search/endpoints",
        "GET /api/2.0/vector-search/endpoints/*",
        "DELETE /api/2.0/vector-search/endpoints/*",
        "GET /api/2.0/vector-search/indexes",
        "POST /api/2.0/vector-search/indexes",
        "GET /api/2.0/vector-search/indexes/*",
        "DELETE /api/2.0/vector-search/indexes/*",
        "POST /api/2.0/vector-search/indexes/*/sync",
        "POST /api/2.0/vector-search/indexes/*/query",
    ],
    tools: [
        list_vector_search_endpoints,
        get_vector_search_endpoint,
        create_vector_search_endpoint,
        delete_vector_search_endpoint,
        list_vector_search_indexes,
        get_vector_search_index,
        create_vector_search_index,
        delete_vector_search_index,
        sync_vector_search_index,
        query_vector_search_index,
    ],
}
