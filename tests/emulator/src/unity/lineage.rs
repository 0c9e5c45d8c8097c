//! Table lineage (`GET /api/2.0/lineage-tracking/table-lineage?table_name=&include_entity_lineage=`).
//!
//! Lineage is a list of edges: a source table (or none, when only an entity read the target) to a
//! target table (or none, when an entity only read the source), with the notebook, job, pipeline
//! or query that moved the data. Edges come from the seeds and from SQL: every `CREATE TABLE ...
//! AS SELECT` and `CREATE VIEW ... AS` records an edge from each table its query reads.
//!
//! The answer has the service's shape: `{upstreams: [...], downstreams: [...]}`, each entry
//! `{tableInfo: {name, catalog_name, schema_name, table_type, lineage_timestamp}, notebookInfos,
//! jobInfos, pipelineInfos, queryInfos}` (camelCase keys, as the service sends them). Entries
//! without a table appear only with `include_entity_lineage=true`. Tables the caller cannot see
//! are left out, and asking about one is 403.

use std::{collections::BTreeMap, sync::Arc};

use axum::{Json, extract::State};
use serde_json::{Map, Value, json};

use super::{
    grants::Securable,
    store::{Key3, Unity, split_name},
};
use crate::{
    error::ApiResult,
    extract::Params,
    identity::{Caller, WORKSPACE_ID},
    workspace::AppState,
};

/// What moved the data along an edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entity {
    Notebook(i64),
    Job(i64),
    Pipeline(String),
}

/// One lineage edge.
#[derive(Debug, Clone)]
pub(crate) struct Edge {
    pub source: Option<Key3>,
    pub target: Option<Key3>,
    pub entity: Option<Entity>,
    pub at: u64,
}

/// Lower-cased table names a query reads: the names after `FROM` and `JOIN`, qualified with the
/// default catalog and schema, that are tables Unity Catalog knows.
pub(crate) fn tables_read(uc: &Unity, query: &str, catalog: &str, schema: &str) -> Vec<Key3> {
    let words: Vec<String> = query
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '`' || c == '-'))
        .filter(|w| !w.is_empty())
        .map(|w| w.replace('`', "").to_ascii_lowercase())
        .collect();
    let mut out = Vec::new();
    for pair in words.windows(2) {
        if pair[0] != "from" && pair[0] != "join" {
            continue;
        }
        let parts: Vec<&str> = pair[1].split('.').collect();
        let key = match parts.as_slice() {
            [t] => (catalog.to_ascii_lowercase(), schema.to_ascii_lowercase(), (*t).to_owned()),
            [s, t] => (catalog.to_ascii_lowercase(), (*s).to_owned(), (*t).to_owned()),
            [c, s, t] => ((*c).to_owned(), (*s).to_owned(), (*t).to_owned()),
            _ => continue,
        };
        if uc.tables.contains_key(&key) && !out.contains(&key) {
            out.push(key);
        }
    }
    out
}

impl Unity {
    /// Records that `target` was made from what `query` reads (CTAS and views).
    pub(crate) fn record_query_lineage(&mut self, target: &Key3, query: &str, catalog: &str, schema: &str, at: u64) {
        for source in tables_read(self, query, catalog, schema) {
            if &source != target {
                self.lineage.push(Edge { source: Some(source), target: Some(target.clone()), entity: None, at });
            }
        }
    }
}

/// Epoch ms as the lineage service writes times: `2024-02-29 13:45:07.0`.
fn lineage_time(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (i64::try_from(secs / 86_400).unwrap_or(0), secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.0", rem / 3600, rem % 3600 / 60, rem % 60)
}

fn workspace_id() -> i64 {
    WORKSPACE_ID.parse().unwrap_or_default()
}

fn entity_info(entity: &Entity, at: u64) -> (&'static str, Value) {
    let ts = lineage_time(at);
    match entity {
        Entity::Notebook(id) => {
            ("notebookInfos", json!({"workspace_id": workspace_id(), "notebook_id": id, "lineage_timestamp": ts}))
        }
        Entity::Job(id) => ("jobInfos", json!({"workspace_id": workspace_id(), "job_id": id, "lineage_timestamp": ts})),
        Entity::Pipeline(id) => {
            ("pipelineInfos", json!({"workspace_id": workspace_id(), "pipeline_id": id, "lineage_timestamp": ts}))
        }
    }
}

/// The entries on one side: grouped by related table (`None`: entity-only), newest time wins.
fn side(uc: &Unity, caller: &Caller, edges: Vec<(&Option<Key3>, &Edge)>, with_entities: bool) -> Vec<Value> {
    let mut groups: BTreeMap<Option<Key3>, (u64, Map<String, Value>)> = BTreeMap::new();
    for (related, edge) in edges {
        if let Some(key) = related {
            let full = format!("{}.{}.{}", key.0, key.1, key.2);
            if !uc.tables.contains_key(key) || !uc.can_read(caller, Securable::Table, &full) {
                continue;
            }
        } else if !with_entities || edge.entity.is_none() {
            continue;
        }
        let (latest, entry) = groups.entry(related.clone()).or_default();
        *latest = (*latest).max(edge.at);
        if let (true, Some(entity)) = (with_entities, &edge.entity) {
            let (key, info) = entity_info(entity, edge.at);
            if let Value::Array(list) = entry.entry(key).or_insert_with(|| json!([])) {
                list.push(info);
            }
        }
    }
    groups
        .into_iter()
        .map(|(related, (latest, mut entry))| {
            if let Some(key) = related.as_ref().and_then(|k| uc.tables.get(k).map(|t| (k, t))) {
                let (k, table) = key;
                entry.insert(
                    "tableInfo".into(),
                    json!({
                        "name": k.2, "catalog_name": k.0, "schema_name": k.1,
                        "table_type": if table.table_type == "VIEW" { "VIEW" } else { "TABLE" },
                        "lineage_timestamp": lineage_time(latest),
                    }),
                );
            }
            Value::Object(entry)
        })
        .collect()
}

/// `GET /api/2.0/lineage-tracking/table-lineage`.
pub(crate) async fn table_lineage(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let name = params.required("table_name")?;
    let with_entities = params.parse::<bool>("include_entity_lineage")?.unwrap_or(false);
    let parts = split_name(name, 3, "table")?;
    let ws = app.workspace();
    let uc = &ws.unity;
    let table = uc.table(&parts[0], &parts[1], &parts[2])?;
    let key: Key3 = (table.catalog.clone(), table.schema.clone(), table.name.clone());
    uc.check_read(&caller, Securable::Table, &parts.join("."))?;
    let ups = uc.lineage.iter().filter(|e| e.target.as_ref() == Some(&key)).map(|e| (&e.source, e)).collect();
    let downs = uc.lineage.iter().filter(|e| e.source.as_ref() == Some(&key)).map(|e| (&e.target, e)).collect();
    let mut out = Map::new();
    let upstreams = side(uc, &caller, ups, with_entities);
    let downstreams = side(uc, &caller, downs, with_entities);
    if !upstreams.is_empty() {
        out.insert("upstreams".into(), Value::Array(upstreams));
    }
    if !downstreams.is_empty() {
        out.insert("downstreams".into(), Value::Array(downstreams));
    }
    Ok(Json(Value::Object(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lineage_times_look_like_the_service() {
        assert_eq!(lineage_time(1_709_214_307_000), "2024-02-29 13:45:07.0");
    }

    #[test]
    fn queries_read_the_tables_after_from_and_join() {
        let mut uc = Unity::default();
        uc.create_catalog("c", None, "u", 1).expect("catalog");
        uc.create_schema("c", "s", None, "u", 1).expect("schema");
        for t in ["a", "b"] {
            let table = super::super::store::Table {
                catalog: "c".into(),
                schema: "s".into(),
                name: t.into(),
                meta: super::super::store::Meta::new("u", None, 1, t),
                table_type: "MANAGED",
                view_definition: None,
                columns: vec![],
            };
            uc.create_table(table, &format!("CREATE TABLE \"c.s.{t}\" (x INT)")).expect("table");
        }
        let read = tables_read(&uc, "SELECT * FROM a JOIN `c`.`s`.`b` ON 1=1 JOIN nope", "c", "s");
        assert_eq!(read, [("c".into(), "s".into(), "a".into()), ("c".into(), "s".into(), "b".into())]);
    }
}
