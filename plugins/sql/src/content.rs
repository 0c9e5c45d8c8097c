//! Resources and prompts of the SQL plugin: a statement's whole result as CSV (what truncated
//! results link to), a table's first rows, and the "optimize a slow query" prompt.

use databricks_mcp_sdk::prelude::*;

use crate::statement::{self, RawStatement, STATEMENTS, StatementState, Window};
use crate::warehouse::WarehouseState;

/// Arguments of `optimize_query`.
#[schema]
pub struct OptimizeQuery {
    /// The slow query, in Databricks SQL.
    pub sql: String,
    /// The warehouse it runs on (default: the plugin's `warehouse_id` setting, or the first
    /// running warehouse).
    #[serde(default)]
    pub warehouse_id: Option<String>,
}

/// Optimize a slow SQL query: names the warehouses available, and walks through reading the
/// plan, the tables' layout and the query's shape, with the tools to use at each step.
#[prompt(title = "Optimize a slow query")]
pub fn optimize_query(ctx: &Context, args: OptimizeQuery) -> Result<Prompt> {
    let page: Value = ctx.get("/api/2.0/sql/warehouses", &[])?;
    let warehouses: Vec<String> = page["warehouses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| {
            format!(
                "- `{}` ({}): {}, size {}, {}-{} clusters",
                w["name"].as_str().unwrap_or("?"),
                w["id"].as_str().unwrap_or("?"),
                w["state"].as_str().unwrap_or("?"),
                w["cluster_size"].as_str().unwrap_or("?"),
                w["min_num_clusters"].as_u64().unwrap_or(1),
                w["max_num_clusters"].as_u64().unwrap_or(1),
            )
        })
        .collect();
    let warehouse = args
        .warehouse_id
        .or_else(|| ctx.setting("warehouse_id"))
        .map(|w| format!("Run on warehouse `{w}`."))
        .unwrap_or_else(|| "Pick a running warehouse from the list.".into());
    Ok(Prompt::new("Optimize a slow query").user(format!(
        "This query is slow; find out why and make it faster.\n\n```sql\n{}\n```\n\n\
         Warehouses:\n{}\n{warehouse}\n\n\
         1. Run `EXPLAIN FORMATTED` followed by the query with `execute_sql` and read the plan: full scans, \
         missing partition or data-skipping filters, exploding joins, large shuffles, sorts.\n\
         2. For each table it reads, read its schema as `databricks://unity-catalog/table/<catalog>/<schema>/<table>` \
         (or call `get_table`): partitioning, clustering columns, format, and the types of the join and filter columns.\n\
         3. Check the data sizes with `SELECT COUNT(*)` or `DESCRIBE DETAIL <table>` through `execute_sql`.\n\
         4. Rewrite the query: filter early on partition or clustering columns, select only the columns needed, \
         replace `SELECT DISTINCT`/`UNION` with cheaper forms where correct, pre-aggregate before joins, and avoid \
         functions on filtered columns.\n\
         5. Compare the old and new queries' timings with `execute_sql`, and if the warehouse is the bottleneck \
         (queued queries, spilling) suggest a size or scaling change with `edit_warehouse`.\n\n\
         Show the rewritten query, why it is faster, and any table change (e.g. `OPTIMIZE ... ZORDER BY`, liquid \
         clustering) worth making.",
        args.sql,
        if warehouses.is_empty() { "- none found".to_string() } else { warehouses.join("\n") },
    )))
}

/// The most CSV one read of a statement's result returns: past it, read windows with
/// `get_statement` or narrow the query.
const MAX_CSV_BYTES: usize = 8 << 20;
/// Rows in a table sample.
const SAMPLE_ROWS: u32 = 20;

/// The variables of the statement result template.
#[schema]
pub struct StatementUri {
    /// The statement id from `execute_sql`.
    pub statement_id: String,
}

/// The whole result of a finished statement as CSV (a header line, then one line per row; NULL
/// is an empty field), up to 8 MiB, e.g. `databricks://sql/statement/<statement id>/result`.
/// `execute_sql` and `get_statement` link it when their result window was truncated. Results
/// are kept by the workspace for about an hour.
#[resource(uri = "statement/{statement_id}/result", title = "SQL statement result", mime_type = "text/csv")]
pub fn statement_result(ctx: &Context, vars: StatementUri) -> Result<Contents> {
    let raw = statement::get(ctx, &vars.statement_id)?;
    let id = &raw.statement_id;
    match raw.status.state {
        StatementState::Succeeded => {}
        StatementState::Pending | StatementState::Running => {
            return Err(ToolError::Failed(format!(
                "statement {id} is still {}; wait for it with get_statement (wait_seconds) and read this resource again",
                raw.status.state.as_str()
            )));
        }
        state => {
            let message = raw.status.error.as_ref().and_then(|e| e.message.clone()).unwrap_or_default();
            return Err(ToolError::Failed(format!(
                "statement {id} has no result to read: it is {}{}",
                state.as_str(),
                if message.is_empty() { String::new() } else { format!(" ({message})") }
            )));
        }
    }
    let manifest = raw.manifest.clone().unwrap_or_default();
    let columns = manifest.schema.clone().map(|s| s.columns).unwrap_or_default();
    let mut csv = csv_line(columns.iter().map(|c| Some(c.name.as_str())));
    let mut first = raw.result.clone();
    for info in &manifest.chunks {
        let data = match first.take().filter(|c| c.chunk_index.unwrap_or(0) == info.chunk_index) {
            Some(c) => c,
            None => statement::chunk(ctx, id, info.chunk_index)?,
        };
        for row in &data.data_array {
            csv.push_str(&csv_line(row.iter().map(Option::as_deref)));
            if csv.len() > MAX_CSV_BYTES {
                return Err(ToolError::Failed(format!(
                    "the result of statement {id} ({} rows) is larger than {} MiB as CSV: read it in windows with get_statement and row_offset, or narrow the query",
                    manifest.total_row_count.unwrap_or(0),
                    MAX_CSV_BYTES >> 20
                )));
            }
        }
    }
    Ok(Contents::text(csv))
}

/// One CSV line (RFC 4180): fields with a comma, quote or line break are quoted; `None` is empty.
fn csv_line<'a>(fields: impl Iterator<Item = Option<&'a str>>) -> String {
    let mut line = fields
        .map(|f| match f {
            None => String::new(),
            Some(f) if f.contains([',', '"', '\n', '\r']) => format!("\"{}\"", f.replace('"', "\"\"")),
            Some(f) => f.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// The variables of the table sample template.
#[schema]
pub struct TableSampleUri {
    /// Catalog name.
    pub catalog: String,
    /// Schema name.
    pub schema: String,
    /// Table or view name.
    pub table: String,
}

/// The first 20 rows of a Unity Catalog table or view, as JSON (`columns` with their types, and
/// `rows`), read with `SELECT * ... LIMIT 20` on the operator's default warehouse (`warehouse_id`
/// under [plugins.sql.settings]) or else the first running one, e.g.
/// `databricks://sql/table/main/default/trips/sample`. Its schema is
/// `databricks://unity-catalog/table/<catalog>/<schema>/<table>`. It runs a statement, so
/// read-only mode (GET only for resources) refuses it.
#[resource(uri = "table/{catalog}/{schema}/{table}/sample", title = "Table sample", mime_type = "application/json")]
pub fn table_sample(ctx: &Context, vars: TableSampleUri) -> Result<Contents> {
    let quote = |name: &str| format!("`{}`", name.replace('`', "``"));
    let full = format!("{}.{}.{}", quote(&vars.catalog), quote(&vars.schema), quote(&vars.table));
    let warehouse_id = match ctx.setting("warehouse_id") {
        Some(id) => id,
        None => {
            let running = crate::first_warehouses(ctx)?
                .into_iter()
                .find(|w| w.state == Some(WarehouseState::Running))
                .map(|w| w.id);
            running.ok_or_else(|| {
                ToolError::Failed(
                    "no SQL warehouse is running and no default is configured (`warehouse_id` under [plugins.sql.settings]): start one with start_warehouse, then read the sample again".into(),
                )
            })?
        }
    };
    let submitted: RawStatement = ctx.post(
        STATEMENTS,
        &json!({
            "statement": format!("SELECT * FROM {full} LIMIT {SAMPLE_ROWS}"),
            "warehouse_id": warehouse_id,
            "wait_timeout": "30s",
            "on_wait_timeout": "CONTINUE",
            "disposition": "INLINE",
            "format": "JSON_ARRAY",
        }),
    )?;
    // A missing table or schema fails the statement; to the client that is a resource that does not exist.
    let missing = |e: ToolError| match e {
        ToolError::Failed(m) if ["42P01", "SCHEMA_NOT_FOUND", "CATALOG_NOT_FOUND"].iter().any(|s| m.contains(s)) => {
            ToolError::NotFound(m)
        }
        e => e,
    };
    let raw = statement::wait(ctx, submitted, statement::budget(ctx, 60)).map_err(missing)?;
    let window = Window { row_offset: 0, max_rows: SAMPLE_ROWS, max_bytes: statement::MAX_BYTES };
    let (_, result) = statement::result(ctx, raw, Some(warehouse_id), window).map_err(missing)?;
    if matches!(result.state, StatementState::Pending | StatementState::Running) {
        return Err(ToolError::Failed(format!(
            "the sample query is still running after a minute (statement {}); read the sample again later, or call get_statement",
            result.statement_id
        )));
    }
    Contents::json(&json!({
        "table": format!("{}.{}.{}", vars.catalog, vars.schema, vars.table),
        "warehouse_id": result.warehouse_id,
        "columns": result.columns.iter().map(|c| json!({ "name": c.name, "type": c.type_text })).collect::<Vec<_>>(),
        "rows": result.rows,
    }))
}
