//! Databricks Unity Catalog as MCP tools: catalogs, schemas, tables (with their columns),
//! volumes and functions (list, get, create, update, delete as the API allows), table search by
//! pattern, grants (direct and effective, and changing them), and table lineage.
//!
//! Names follow `verb_noun`. Objects are named by their full name (`catalog.schema.table`),
//! which goes into the path as one escaped segment. Lists take `limit` and `page_token` and
//! return one page at a time. The public API cannot create managed tables: tables are created
//! with SQL (`CREATE TABLE`, e.g. through `execute_sql`).

mod content;
mod grants;
mod model;
mod tables;
mod volumes;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::serde::de::DeserializeOwned;
use databricks_mcp_sdk::{Method, Request};

use content::{explore_catalog, table_schema};
use model::{Catalog, Deleted, Schema, full_name, get, list, list_text, path, segment, update_body};

pub use grants::{get_effective_grants, get_grants, get_table_lineage, update_grants};
pub use tables::{delete_table, get_table, list_table_summaries, list_tables, update_table};
pub use volumes::{
    create_volume, delete_function, delete_volume, get_function, get_volume, list_functions, list_volumes,
    update_volume,
};

/// `PATCH path` with a JSON body, decoding the answer.
pub(crate) fn patch<T: DeserializeOwned>(ctx: &Context, path: &str, body: &Value) -> Result<T> {
    ctx.send(Request::new(Method::Patch, path).json(body)?)?.json()
}

/// `DELETE path?query`, which answers `{}`.
pub(crate) fn delete(ctx: &Context, path: &str, query: &[(&str, String)]) -> Result<()> {
    let mut request = Request::new(Method::Delete, path);
    for (k, v) in query {
        request = request.query(*k, v);
    }
    ctx.send(request)?.json::<Value>().map(|_| ())
}

/// The paging arguments shared by lists: the default page is 50, the largest 1000.
pub(crate) fn page_limit(limit: Option<u32>) -> u32 {
    limit.unwrap_or(50).clamp(1, 1000)
}

// ---------------------------------------------------------------------------------------------
// Catalogs

/// Arguments of `list_catalogs`.
#[schema]
pub struct ListCatalogs {
    /// How many catalogs to return, 1-1000 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call, to get the next page.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of catalogs.
#[schema]
pub struct CatalogList {
    /// The catalogs on this page, as the workspace returned them.
    pub catalogs: Vec<Json<Catalog>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the Unity Catalog catalogs you can use, one page at a time. Each line shows the name,
/// type, owner and comment. Next: `list_schemas` with a catalog name.
#[tool(read_only, idempotent, title = "List catalogs")]
fn list_catalogs(ctx: &Context, args: ListCatalogs) -> Result<Output<CatalogList>> {
    let page = list::<Catalog>(ctx, get("catalogs"), "catalogs", page_limit(args.limit), args.page_token.as_deref())?;
    let text = list_text(&page.items, Catalog::line, "No catalogs.", "catalogs", page.next_page_token.as_deref())?;
    Ok(Output::new(text, CatalogList { catalogs: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one catalog.
#[schema]
pub struct CatalogName {
    /// The catalog name, e.g. `main` (see `list_catalogs`).
    pub catalog_name: String,
}

fn catalog_path(name: &str) -> Result<String> {
    Ok(path(&format!("catalogs/{}", segment(&full_name(name, 1, "catalog_name")?)?)))
}

/// Get one catalog: type, owner, comment, storage root, properties.
#[tool(read_only, idempotent, title = "Get catalog")]
fn get_catalog(ctx: &Context, args: CatalogName) -> Result<Output<Json<Catalog>>> {
    let raw: Json<Catalog> = ctx.get(&catalog_path(&args.catalog_name)?, &[])?;
    Ok(Output::new(raw.get()?.line(), raw))
}

/// Arguments of `create_catalog`.
#[schema]
pub struct CreateCatalog {
    /// The new catalog's name: letters, digits and underscores, e.g. `analytics`.
    pub name: String,
    /// What the catalog is for.
    #[serde(default)]
    pub comment: Option<String>,
}

/// Create a managed catalog (metastore admins, or principals with CREATE CATALOG, only). It
/// gets the `default` and `information_schema` schemas; you become its owner.
#[tool(title = "Create catalog")]
fn create_catalog(ctx: &Context, args: CreateCatalog) -> Result<Output<Json<Catalog>>> {
    let name = full_name(&args.name, 1, "name")?;
    let mut body = json!({ "name": name });
    if let Some(comment) = &args.comment {
        body["comment"] = json!(comment);
    }
    let raw: Json<Catalog> = ctx.post(&path("catalogs"), &body)?;
    Ok(Output::new(format!("Created catalog {}", raw.get()?.line()), raw))
}

/// Arguments of `update_catalog`: the catalog and only what changes.
#[schema]
pub struct UpdateCatalog {
    /// The catalog name.
    pub catalog_name: String,
    /// New description (an empty string removes it).
    #[serde(default)]
    pub comment: Option<String>,
    /// New owner: a user name (e-mail), service principal application id, or group name.
    #[serde(default)]
    pub owner: Option<String>,
}

/// Change a catalog's comment and/or owner. Giving away ownership may leave you unable to
/// manage it.
#[tool(destructive, idempotent, title = "Update catalog")]
fn update_catalog(ctx: &Context, args: UpdateCatalog) -> Result<Output<Json<Catalog>>> {
    let body = update_body(args.comment.as_ref(), args.owner.as_ref())?;
    let raw: Json<Catalog> = patch(ctx, &catalog_path(&args.catalog_name)?, &body)?;
    Ok(Output::new(format!("Updated catalog {}", raw.get()?.line()), raw))
}

/// Arguments of `delete_catalog`.
#[schema]
pub struct DeleteCatalog {
    /// The catalog name.
    pub catalog_name: String,
    /// Also delete every schema, table, volume and function in it. Without it, a catalog that
    /// holds anything besides `default` and `information_schema` is not deleted.
    #[serde(default)]
    pub force: bool,
}

/// Delete a catalog. Refused when it is not empty unless `force` is true, which deletes
/// everything in it (tables and their data included). Cannot be undone.
#[tool(destructive, title = "Delete catalog")]
fn delete_catalog(ctx: &Context, args: DeleteCatalog) -> Result<Output<Deleted>> {
    let name = full_name(&args.catalog_name, 1, "catalog_name")?;
    let query = if args.force { vec![("force", "true".to_string())] } else { Vec::new() };
    delete(ctx, &catalog_path(&name)?, &query)?;
    let extra = if args.force { " Everything in it was deleted too." } else { "" };
    Ok(Deleted::output("catalog", &name, extra))
}

// ---------------------------------------------------------------------------------------------
// Schemas

/// Arguments of `list_schemas`.
#[schema]
pub struct ListSchemas {
    /// The catalog whose schemas to list, e.g. `main`.
    pub catalog_name: String,
    /// How many schemas to return, 1-1000 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call, to get the next page.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of schemas.
#[schema]
pub struct SchemaList {
    /// The schemas on this page, as the workspace returned them.
    pub schemas: Vec<Json<Schema>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the schemas of a catalog that you can use, one page at a time, one line each with the
/// full name (`catalog.schema`), owner and comment. Next: `list_tables`, `list_volumes`,
/// `list_functions`.
#[tool(read_only, idempotent, title = "List schemas")]
fn list_schemas(ctx: &Context, args: ListSchemas) -> Result<Output<SchemaList>> {
    let catalog = full_name(&args.catalog_name, 1, "catalog_name")?;
    let request = get("schemas").query("catalog_name", &catalog);
    let page = list::<Schema>(ctx, request, "schemas", page_limit(args.limit), args.page_token.as_deref())?;
    let none = format!("No schemas in catalog {catalog} that you can see.");
    let text = list_text(&page.items, Schema::line, &none, "schemas", page.next_page_token.as_deref())?;
    Ok(Output::new(text, SchemaList { schemas: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one schema.
#[schema]
pub struct SchemaName {
    /// The schema's full name `catalog.schema`, e.g. `main.default`.
    pub full_name: String,
}

fn schema_path(name: &str) -> Result<String> {
    Ok(path(&format!("schemas/{}", segment(&full_name(name, 2, "full_name")?)?)))
}

/// Get one schema: owner, comment, properties.
#[tool(read_only, idempotent, title = "Get schema")]
fn get_schema(ctx: &Context, args: SchemaName) -> Result<Output<Json<Schema>>> {
    let raw: Json<Schema> = ctx.get(&schema_path(&args.full_name)?, &[])?;
    Ok(Output::new(raw.get()?.line(), raw))
}

/// Arguments of `create_schema`.
#[schema]
pub struct CreateSchema {
    /// The catalog to create it in, e.g. `main`.
    pub catalog_name: String,
    /// The new schema's name (without the catalog), e.g. `sales`.
    pub name: String,
    /// What the schema is for.
    #[serde(default)]
    pub comment: Option<String>,
}

/// Create a schema in a catalog (needs USE CATALOG and CREATE SCHEMA on it); you become its
/// owner.
#[tool(title = "Create schema")]
fn create_schema(ctx: &Context, args: CreateSchema) -> Result<Output<Json<Schema>>> {
    let catalog = full_name(&args.catalog_name, 1, "catalog_name")?;
    let name = full_name(&args.name, 1, "name")?;
    let mut body = json!({ "catalog_name": catalog, "name": name });
    if let Some(comment) = &args.comment {
        body["comment"] = json!(comment);
    }
    let raw: Json<Schema> = ctx.post(&path("schemas"), &body)?;
    Ok(Output::new(format!("Created schema {}", raw.get()?.line()), raw))
}

/// Arguments of `update_schema`: the schema and only what changes.
#[schema]
pub struct UpdateSchema {
    /// The schema's full name `catalog.schema`.
    pub full_name: String,
    /// New description (an empty string removes it).
    #[serde(default)]
    pub comment: Option<String>,
    /// New owner: a user name (e-mail), service principal application id, or group name.
    #[serde(default)]
    pub owner: Option<String>,
}

/// Change a schema's comment and/or owner; give only what changes. Giving away ownership may
/// leave you unable to manage it.
#[tool(destructive, idempotent, title = "Update schema")]
fn update_schema(ctx: &Context, args: UpdateSchema) -> Result<Output<Json<Schema>>> {
    let body = update_body(args.comment.as_ref(), args.owner.as_ref())?;
    let raw: Json<Schema> = patch(ctx, &schema_path(&args.full_name)?, &body)?;
    Ok(Output::new(format!("Updated schema {}", raw.get()?.line()), raw))
}

/// Arguments of `delete_schema`.
#[schema]
pub struct DeleteSchema {
    /// The schema's full name `catalog.schema`.
    pub full_name: String,
    /// Also delete every table, volume and function in it. Without it, a schema that is not
    /// empty is not deleted.
    #[serde(default)]
    pub force: bool,
}

/// Delete a schema. Refused when it is not empty unless `force` is true, which deletes its
/// tables (with their data), volumes and functions too. Cannot be undone.
#[tool(destructive, title = "Delete schema")]
fn delete_schema(ctx: &Context, args: DeleteSchema) -> Result<Output<Deleted>> {
    let name = full_name(&args.full_name, 2, "full_name")?;
    let query = if args.force { vec![("force", "true".to_string())] } else { Vec::new() };
    delete(ctx, &schema_path(&name)?, &query)?;
    let extra = if args.force { " Everything in it was deleted too." } else { "" };
    Ok(Deleted::output("schema", &name, extra))
}

databricks_mcp_sdk::plugin! {
    name: "unity-catalog",
    description: "Databricks Unity Catalog: catalogs, schemas, tables and columns, volumes, functions, grants and table lineage",
    grants: [
        "GET /api/2.1/unity-catalog/catalogs",
        "POST /api/2.1/unity-catalog/catalogs",
        "GET /api/2.1/unity-catalog/catalogs/*",
        "PATCH /api/2.1/unity-catalog/catalogs/*",
        "DELETE /api/2.1/unity-catalog/catalogs/*",
        "GET /api/2.1/unity-catalog/schemas",
        "POST /api/2.1/unity-catalog/schemas",
        "GET /api/2.1/unity-catalog/schemas/*",
        "PATCH /api/2.1/unity-catalog/schemas/*",
        "DELETE /api/2.1/unity-catalog/schemas/*",
        "GET /api/2.1/unity-catalog/tables",
        "GET /api/2.1/unity-catalog/tables/*",
        "PATCH /api/2.1/unity-catalog/tables/*",
        "DELETE /api/2.1/unity-catalog/tables/*",
        "GET /api/2.1/unity-catalog/table-summaries",
        "GET /api/2.1/unity-catalog/volumes",
        "POST /api/2.1/unity-catalog/volumes",
        "GET /api/2.1/unity-catalog/volumes/*",
        "PATCH /api/2.1/unity-catalog/volumes/*",
        "DELETE /api/2.1/unity-catalog/volumes/*",
        "GET /api/2.1/unity-catalog/functions",
        "GET /api/2.1/unity-catalog/functions/*",
        "DELETE /api/2.1/unity-catalog/functions/*",
        "GET /api/2.1/unity-catalog/permissions/*/*",
        "PATCH /api/2.1/unity-catalog/permissions/*/*",
        "GET /api/2.1/unity-catalog/effective-permissions/*/*",
        "GET /api/2.0/lineage-tracking/table-lineage",
    ],
    tools: [
        list_catalogs,
        get_catalog,
        create_catalog,
        update_catalog,
        delete_catalog,
        list_schemas,
        get_schema,
        create_schema,
        update_schema,
        delete_schema,
        list_tables,
        get_table,
        list_table_summaries,
        update_table,
        delete_table,
        list_volumes,
        get_volume,
        create_volume,
        update_volume,
        delete_volume,
        list_functions,
        get_function,
        delete_function,
        get_grants,
        get_effective_grants,
        update_grants,
        get_table_lineage,
    ],
    resources: [table_schema],
    prompts: [explore_catalog],
    completions: [
        catalog => content::complete_catalogs,
        schema => content::complete_schemas,
        table => content::complete_tables,
    ],
}
