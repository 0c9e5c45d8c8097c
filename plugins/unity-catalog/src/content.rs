//! Resources, prompts and completions of the Unity Catalog plugin: a table's schema as a
//! resource, the "explore a catalog" prompt, and completions for catalog, schema and table names.

use databricks_mcp_sdk::prelude::*;

use crate::model::segment;

const API: &str = "/api/2.1/unity-catalog";

/// Names from one page of a Unity Catalog list (`catalogs`, `schemas`, `tables`): completions and
/// prompts need names, and a first page of up to 1000 is plenty for a menu.
fn names(ctx: &Context, what: &str, query: &[(&str, String)]) -> Result<Vec<String>> {
    let mut query = query.to_vec();
    query.push(("max_results", "1000".into()));
    let page: Value = ctx.get(&format!("{API}/{what}"), &query)?;
    Ok(page[what]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["name"].as_str().map(str::to_string)).collect())
        .unwrap_or_default())
}

/// The variables of the table template.
#[schema]
pub struct TableUri {
    /// Catalog name.
    pub catalog: String,
    /// Schema name.
    pub schema: String,
    /// Table name.
    pub table: String,
}

/// The schema of a Unity Catalog table or view, as JSON: its type, format, owner, comment and
/// columns (name, type, nullability, comment), e.g. `databricks://unity-catalog/table/main/default/trips`.
/// Read it before writing SQL against the table; its first rows are
/// `databricks://sql/table/<catalog>/<schema>/<table>/sample`.
#[resource(uri = "table/{catalog}/{schema}/{table}", title = "Table schema", mime_type = "application/json")]
pub fn table_schema(ctx: &Context, vars: TableUri) -> Result<Contents> {
    let full = format!("{}.{}.{}", vars.catalog, vars.schema, vars.table);
    let table: Value = ctx.get(&format!("{API}/tables/{}", segment(&full)?), &[])?;
    let columns: Vec<Value> = table["columns"]
        .as_array()
        .map(|columns| {
            columns
                .iter()
                .map(|c| {
                    json!({
                        "name": c["name"],
                        "type": c["type_text"],
                        "nullable": c["nullable"],
                        "comment": c["comment"],
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Contents::json(&json!({
        "full_name": table["full_name"],
        "table_type": table["table_type"],
        "data_source_format": table["data_source_format"],
        "owner": table["owner"],
        "comment": table["comment"],
        "columns": columns,
    }))
}

/// Arguments of the `explore_catalog` prompt.
#[schema]
pub struct ExploreCatalog {
    /// The catalog to explore, e.g. `main`.
    pub catalog: String,
}

/// Explore a Unity Catalog catalog: its schemas, their tables and columns, who may use them, and
/// where the data comes from. Lists the catalog's schemas and says which tools and resources to
/// use next.
#[prompt(title = "Explore a catalog")]
pub fn explore_catalog(ctx: &Context, args: ExploreCatalog) -> Result<Prompt> {
    let catalog = args.catalog.trim();
    let info: Value = ctx.get(&format!("{API}/catalogs/{}", segment(catalog)?), &[])?;
    let schemas = names(ctx, "schemas", &[("catalog_name", catalog.to_string())])?;
    let schema_lines = if schemas.is_empty() {
        "It has no schemas yet.".to_string()
    } else {
        format!(
            "Its schemas ({}): {}.",
            schemas.len(),
            schemas.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
        )
    };
    let comment = info["comment"]
        .as_str()
        .filter(|c| !c.is_empty())
        .map(|c| format!(" Its comment: \"{c}\"."))
        .unwrap_or_default();
    Ok(Prompt::new(format!("Explore the catalog {catalog}")).user(format!(
        "Explore the Unity Catalog catalog `{catalog}` (owner: {}).{comment} {schema_lines}\n\n\
         Work through it like this:\n\
         1. For each schema that matters (skip `information_schema`), call `list_table_summaries` with \
         `catalog_name` = `{catalog}` to see its tables at a glance, or `list_tables` for one schema with details.\n\
         2. For a table worth a closer look, read the resource `databricks://unity-catalog/table/{catalog}/<schema>/<table>` \
         (its columns and types) or call `get_table`.\n\
         3. Call `get_table_lineage` on the main tables to see what feeds them and what reads them.\n\
         4. Call `get_effective_grants` on the catalog to see who may use it.\n\
         5. To look at the data, read the resource `databricks://sql/table/{catalog}/<schema>/<table>/sample` (its first \
         rows) or query with `execute_sql` (`SELECT * FROM {catalog}.<schema>.<table> LIMIT 10`).\n\n\
         Finish with a short map of the catalog: each schema, what its tables hold, how they relate, and anything \
         that looks unused, undocumented (no comment) or over-shared.",
        info["owner"].as_str().unwrap_or("unknown"),
    )))
}

/// Catalog names.
pub fn complete_catalogs(ctx: &Context, _request: &CompletionRequest) -> Result<Vec<String>> {
    names(ctx, "catalogs", &[])
}

/// Schema names of the chosen catalog (none until one is chosen).
pub fn complete_schemas(ctx: &Context, request: &CompletionRequest) -> Result<Vec<String>> {
    match request.context("catalog") {
        Some(catalog) => names(ctx, "schemas", &[("catalog_name", catalog.to_string())]),
        None => Ok(Vec::new()),
    }
}

/// Table names of the chosen catalog and schema.
pub fn complete_tables(ctx: &Context, request: &CompletionRequest) -> Result<Vec<String>> {
    match (request.context("catalog"), request.context("schema")) {
        (Some(catalog), Some(schema)) => {
            names(ctx, "tables", &[("catalog_name", catalog.to_string()), ("schema_name", schema.to_string())])
        }
        _ => Ok(Vec::new()),
    }
}
