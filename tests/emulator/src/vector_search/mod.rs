//! Vector search (`/api/2.0/vector-search/...`): endpoints, and Delta Sync indexes over Unity
//! Catalog tables with embeddings computed by a serving endpoint.
//!
//! An index reads its source table through the SQL engine when it syncs, and embeds each row's
//! embedding source column with the emulated embedding model (`serving::model::embed`, feature
//! hashing), so a query ranks rows by cosine similarity: rows sharing words with `query_text` come
//! first, and a `query_vector` from the embeddings endpoint finds the same rows. Filters
//! (`filters_json`: `{"col": v}`, `{"col": [v1, v2]}`, `{"col NOT": v}`, `{"col >": n}`, `<`, `<=`,
//! `>=`, `{"col LIKE": "word"}`) narrow the rows before ranking.
//!
//! State machines (lazy): an endpoint is `PROVISIONING` for one transition delay, then `ONLINE`;
//! an index becomes ready (its first sync done) one delay after it was created and its endpoint is
//! online; `sync` of a `TRIGGERED` index re-reads the table one delay later.
//!
//! Permissions: endpoints have `CAN_USE` < `CAN_MANAGE` (the creator manages); reading or querying
//! an index takes read access to its source table in Unity Catalog, creating one `CREATE_TABLE` on
//! its schema. Errors: missing endpoints and indexes are 404 `RESOURCE_DOES_NOT_EXIST`, duplicates
//! 409 `RESOURCE_ALREADY_EXISTS`, bad specs and queries 400 `INVALID_PARAMETER_VALUE`, queries of
//! an index that is not ready 400 `INVALID_STATE`.

mod handlers;
pub(crate) mod seed;

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Router,
    routing::{get, post},
};
use serde_json::{Map, Value, json};

use crate::{acl::ObjectKind, clock::Moment, serving::model::embed, sql::engine, unity::Unity, workspace::AppState};

/// Vector search endpoints: use, manage.
pub(crate) const VS_ENDPOINT: ObjectKind = ObjectKind {
    api_name: "vector-search-endpoints",
    object_type: "vector-search-endpoint",
    levels: &[("CAN_USE", "Can use the endpoint", "Use"), ("CAN_MANAGE", "Can manage the endpoint", "Manage")],
};

#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub name: String,
    pub id: String,
    pub endpoint_type: String,
    pub creator: String,
    pub created: u64,
}

impl Endpoint {
    pub fn online_at(&self, delay_ms: u64) -> u64 {
        self.created + delay_ms
    }

    pub fn render(&self, at: Moment, num_indexes: usize) -> Value {
        let online = at.now >= self.online_at(at.delay_ms);
        json!({
            "name": self.name,
            "id": self.id,
            "endpoint_type": self.endpoint_type,
            "endpoint_status": if online {
                json!({"state": "ONLINE", "message": "Endpoint is online."})
            } else {
                json!({"state": "PROVISIONING", "message": "Endpoint is being provisioned."})
            },
            "creator": self.creator,
            "creation_timestamp": self.created,
            "last_updated_timestamp": if online { self.online_at(at.delay_ms) } else { self.created },
            "last_updated_user": self.creator,
            "num_indexes": num_indexes,
        })
    }
}

/// One indexed row: its typed columns and its embedding.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub values: Map<String, Value>,
    pub vector: Vec<f32>,
}

#[derive(Debug, Clone)]
pub(crate) struct Index {
    pub name: String,
    pub endpoint: String,
    pub primary_key: String,
    pub source_table: String,
    pub text_column: String,
    pub model_endpoint: String,
    pub pipeline_type: String,
    pub columns_to_sync: Option<Vec<String>>,
    pub creator: String,
    /// When the last requested sync runs (the first is at creation).
    pub sync_due: Option<u64>,
    pub synced_at: Option<u64>,
    pub rows: Vec<Row>,
    pub sync_error: Option<String>,
}

impl Index {
    pub fn ready(&self) -> bool {
        self.synced_at.is_some()
    }

    /// Runs a due sync: reads the source table as the index's creator and embeds every row.
    pub fn advance(&mut self, endpoint_online_at: u64, uc: &mut Unity, at: Moment) {
        let Some(due) = self.sync_due else { return };
        let due = due.max(endpoint_online_at);
        if at.now < due {
            return;
        }
        self.sync_due = None;
        let ctx =
            engine::Context { catalog: "main".into(), schema: "default".into(), user: self.creator.clone(), now: due };
        match engine::execute(uc, &format!("SELECT * FROM {}", self.source_table), &ctx, &[]) {
            Ok(outcome) => {
                let keep = |name: &str| {
                    name == self.primary_key
                        || name == self.text_column
                        || self.columns_to_sync.as_ref().is_none_or(|c| c.iter().any(|k| k == name))
                };
                self.rows = outcome
                    .rows
                    .iter()
                    .map(|row| {
                        let mut values = Map::new();
                        for ((name, ty), cell) in outcome.columns.iter().zip(row) {
                            if keep(name) {
                                values.insert(name.clone(), typed(cell.as_deref(), ty.name));
                            }
                        }
                        let text = values.get(&self.text_column).and_then(Value::as_str).unwrap_or_default().to_owned();
                        Row { values, vector: embed(&text) }
                    })
                    .collect();
                self.synced_at = Some(due);
                self.sync_error = None;
            }
            Err(e) => self.sync_error = Some(e.message),
        }
    }

    /// The columns a query may ask for.
    pub fn columns(&self) -> Vec<String> {
        self.rows.first().map(|r| r.values.keys().cloned().collect()).unwrap_or_default()
    }

    /// `MiniVectorIndex` (list) or `VectorIndex` (get).
    pub fn render(&self, detailed: bool) -> Value {
        let mut out = json!({
            "name": self.name,
            "endpoint_name": self.endpoint,
            "primary_key": self.primary_key,
            "index_type": "DELTA_SYNC",
            "creator": self.creator,
        });
        if detailed {
            let mut spec = json!({
                "source_table": self.source_table,
                "pipeline_type": self.pipeline_type,
                "embedding_source_columns": [{"name": self.text_column, "embedding_model_endpoint_name": self.model_endpoint}],
                "pipeline_id": crate::genie::genie_id(&format!("vs-pipeline:{}", self.name)),
            });
            if let Some(c) = &self.columns_to_sync {
                spec["columns_to_sync"] = json!(c);
            }
            out["delta_sync_index_spec"] = spec;
            let message = match (&self.sync_error, self.synced_at) {
                (Some(e), _) => format!("Sync failed: {e}"),
                (None, Some(_)) if self.sync_due.is_some() => "Index is ready; a sync is in progress.".to_string(),
                (None, Some(_)) => "Index is ready.".to_string(),
                (None, None) => "Index is being provisioned: the initial sync has not finished.".to_string(),
            };
            out["status"] = json!({
                "ready": self.ready(),
                "message": message,
                "indexed_row_count": self.rows.len(),
                "index_url": format!("vector-search.emulator.local/api/2.0/vector-search/indexes/{}", self.name),
            });
        }
        out
    }
}

/// A cell of an engine result as JSON of its type.
fn typed(cell: Option<&str>, type_name: &str) -> Value {
    let Some(text) = cell else { return Value::Null };
    match type_name {
        "LONG" | "INT" | "SHORT" | "BYTE" => text.parse::<i64>().map_or_else(|_| json!(text), |n| json!(n)),
        "DOUBLE" | "FLOAT" | "DECIMAL" => text.parse::<f64>().map_or_else(|_| json!(text), |n| json!(n)),
        "BOOLEAN" => json!(text == "true"),
        _ => json!(text),
    }
}

/// Endpoints and indexes by name.
#[derive(Debug, Default)]
pub(crate) struct VectorSearch {
    pub endpoints: BTreeMap<String, Endpoint>,
    pub indexes: BTreeMap<String, Index>,
}

/// The endpoints, to be nested under `/api/2.0/vector-search`.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/endpoints", get(handlers::list_endpoints).post(handlers::create_endpoint))
        .route("/endpoints/{name}", get(handlers::get_endpoint).delete(handlers::delete_endpoint))
        .route("/indexes", get(handlers::list_indexes).post(handlers::create_index))
        .route("/indexes/{name}", get(handlers::get_index).delete(handlers::delete_index))
        .route("/indexes/{name}/sync", post(handlers::sync_index))
        .route("/indexes/{name}/query", post(handlers::query_index))
}
