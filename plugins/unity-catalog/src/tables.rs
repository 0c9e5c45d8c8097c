//! Tables and views: list, get (with the columns), search by pattern, change owner, delete.
//! The public API does not create managed tables; `CREATE TABLE` in SQL does.

use databricks_mcp_sdk::prelude::*;

use crate::model::{Deleted, Table, TableSummary, full_name, get, list, list_text, path, segment};
use crate::{delete, page_limit, patch};

/// Arguments of `list_tables`.
#[schema]
pub struct ListTables {
    /// The catalog, e.g. `main`.
    pub catalog_name: String,
    /// The schema in that catalog, e.g. `default`.
    pub schema_name: String,
    /// Also return every table's columns in the structured result (default false: names,
    /// types and owners only, which is faster). Use `get_table` for one table's columns.
    #[serde(default)]
    pub include_columns: bool,
    /// How many tables to return, 1-1000 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call, to get the next page.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of tables.
#[schema]
pub struct TableList {
    /// The tables and views on this page, as the workspace returned them.
    pub tables: Vec<Json<Table>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the tables and views of a schema that you can see, one page at a time, one line each
/// with the full name (`catalog.schema.table`), type, format, owner and comment. To search
/// across schemas by name pattern use `list_table_summaries`; for columns use `get_table`.
#[tool(read_only, idempotent, title = "List tables")]
pub fn list_tables(ctx: &Context, args: ListTables) -> Result<Output<TableList>> {
    let catalog = full_name(&args.catalog_name, 1, "catalog_name")?;
    let schema = full_name(&args.schema_name, 1, "schema_name")?;
    let mut request = get("tables").query("catalog_name", &catalog).query("schema_name", &schema);
    if !args.include_columns {
        request = request.query("omit_columns", true);
    }
    let page = list::<Table>(ctx, request, "tables", page_limit(args.limit), args.page_token.as_deref())?;
    let none = format!("No tables in {catalog}.{schema} that you can see.");
    let text = list_text(&page.items, Table::line, &none, "tables", page.next_page_token.as_deref())?;
    Ok(Output::new(text, TableList { tables: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one table.
#[schema]
pub struct TableName {
    /// The table's full name `catalog.schema.table`, e.g. `main.default.trips`.
    pub full_name: String,
}

pub(crate) fn table_path(name: &str) -> Result<String> {
    Ok(path(&format!("tables/{}", segment(&full_name(name, 3, "full_name")?)?)))
}

/// Get one table or view: type, format, owner, comment, storage, and its columns (shown as a
/// compact table: name | type | nullable | comment), or a view's query. Use the column names
/// in SQL (`execute_sql`).
#[tool(read_only, idempotent, title = "Get table")]
pub fn get_table(ctx: &Context, args: TableName) -> Result<Output<Json<Table>>> {
    let raw: Json<Table> = ctx.get(&table_path(&args.full_name)?, &[])?;
    let table = raw.get()?;
    let mut text = format!("{}\n{}", table.line(), table.columns_table());
    if let Some(definition) = &table.view_definition {
        text.push_str(&format!("\nView definition: {definition}"));
    }
    Ok(Output::new(text, raw))
}

/// Arguments of `list_table_summaries`.
#[schema]
pub struct ListTableSummaries {
    /// The catalog to search, e.g. `main`.
    pub catalog_name: String,
    /// SQL LIKE pattern for schema names (`%` any run of characters, `_` one character), e.g.
    /// `sales%`; default all schemas.
    #[serde(default)]
    pub schema_name_pattern: Option<String>,
    /// SQL LIKE pattern for table names, e.g. `%trip%`; default all tables.
    #[serde(default)]
    pub table_name_pattern: Option<String>,
    /// How many tables to return, 1-1000 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call, to get the next page.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of table summaries.
#[schema]
pub struct TableSummaryList {
    /// The matching tables: full name and type.
    pub tables: Vec<Json<TableSummary>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// Find tables in a catalog by schema and table name patterns (SQL LIKE), across schemas, one
/// page at a time: a cheap search that returns full names and types only. Use `get_table` on a
/// result for its columns.
#[tool(read_only, idempotent, title = "Search tables")]
pub fn list_table_summaries(ctx: &Context, args: ListTableSummaries) -> Result<Output<TableSummaryList>> {
    let catalog = full_name(&args.catalog_name, 1, "catalog_name")?;
    let request = get("table-summaries")
        .query("catalog_name", &catalog)
        .query_opt("schema_name_pattern", args.schema_name_pattern.as_deref().filter(|p| !p.is_empty()))
        .query_opt("table_name_pattern", args.table_name_pattern.as_deref().filter(|p| !p.is_empty()));
    let page = list::<TableSummary>(ctx, request, "tables", page_limit(args.limit), args.page_token.as_deref())?;
    let line = |t: &TableSummary| match &t.table_type {
        Some(kind) => format!("{} ({kind})", t.full_name),
        None => t.full_name.clone(),
    };
    let none = format!("No tables in catalog {catalog} match.");
    let text = list_text(&page.items, line, &none, "tables", page.next_page_token.as_deref())?;
    Ok(Output::new(text, TableSummaryList { tables: page.items, next_page_token: page.next_page_token }))
}

/// Arguments of `update_table`.
#[schema]
pub struct UpdateTable {
    /// The table's full name `catalog.schema.table`.
    pub full_name: String,
    /// The new owner: a user name (e-mail), service principal application id, or group name.
    pub owner: String,
}

/// Change a table's owner, the one table property the API changes. For the comment, columns or
/// anything else use SQL (`COMMENT ON TABLE`, `ALTER TABLE`) through `execute_sql`.
#[tool(destructive, idempotent, title = "Change table owner")]
pub fn update_table(ctx: &Context, args: UpdateTable) -> Result<Output<Json<Table>>> {
    let owner = args.owner.trim();
    if owner.is_empty() {
        return Err(ToolError::invalid("owner must not be empty"));
    }
    let table_path = table_path(&args.full_name)?;
    patch::<Value>(ctx, &table_path, &json!({ "owner": owner }))?;
    // The API answers `{}`: read the table back to show the result. The change is made even if
    // the new owner's rights no longer let us read it.
    let name = full_name(&args.full_name, 3, "full_name")?;
    let raw: Json<Table> = ctx.get(&table_path, &[]).unwrap_or_else(|_| {
        let short = name.rsplit('.').next().unwrap_or_default();
        Json::new(json!({ "name": short, "full_name": name, "owner": owner }))
    });
    Ok(Output::new(format!("Changed the owner of {} to {owner}.", raw.get()?.full()), raw))
}

/// Delete a table or view. A managed table's data is deleted with it (recoverable with
/// `UNDROP TABLE` for a few days on Databricks); an external table's files stay.
#[tool(destructive, title = "Delete table")]
pub fn delete_table(ctx: &Context, args: TableName) -> Result<Output<Deleted>> {
    let name = full_name(&args.full_name, 3, "full_name")?;
    delete(ctx, &table_path(&name)?, &[])?;
    Ok(Deleted::output("table", &name, ""))
}
