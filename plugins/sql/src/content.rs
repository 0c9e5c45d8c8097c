//! The "optimize a slow query" prompt of the SQL plugin.

use databricks_mcp_sdk::prelude::*;

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
