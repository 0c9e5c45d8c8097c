//! Unity Catalog (`/api/2.1/unity-catalog/...`): catalogs, schemas, tables, volumes and functions.
//!
//! Tables are real: their rows live in the workspace's SQLite database, so a table created with SQL
//! through the Statement Execution API (`sql` module) shows up here, and one dropped here is gone
//! from SQL. Modules:
//! - `store`: the metadata, the SQLite connection and the rules (exists, not empty, ...).
//! - `types`: Databricks column types and their SQLite declarations.
//! - `render`: `CatalogInfo`, `SchemaInfo`, `TableInfo`, ... as JSON.
//! - `handlers`: one function per endpoint.
//! - `seed`: the catalogs a fresh emulator starts with (see there for the Test ids).
//! - `grants`: privileges, the checks every handler makes, and the Grants API.
//! - `lineage`: table lineage edges and `/api/2.0/lineage-tracking/table-lineage`.
//! - `models`: registered models (MLflow models in Unity Catalog), their versions and aliases.
//!
//! Errors follow the service: a missing catalog is 404 `CATALOG_DOES_NOT_EXIST`, a schema 404
//! `SCHEMA_DOES_NOT_EXIST`, a table 404 `TABLE_DOES_NOT_EXIST`, a volume or function 404
//! `RESOURCE_DOES_NOT_EXIST`; duplicates are 409 `*_ALREADY_EXISTS`. A caller without the
//! privileges an operation needs gets 403 `PERMISSION_DENIED` (rules in `grants`).

pub(crate) mod grants;
mod handlers;
pub(crate) mod lineage;
pub(crate) mod models;
pub(crate) mod render;
pub(crate) mod seed;
pub(crate) mod store;
pub(crate) mod types;

use std::sync::Arc;

use axum::{Router, routing::get};

pub(crate) use store::Unity;

use crate::workspace::AppState;

/// The Unity Catalog endpoints, to be nested under `/api/2.1/unity-catalog`.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/catalogs", get(handlers::list_catalogs).post(handlers::create_catalog))
        .route(
            "/catalogs/{name}",
            get(handlers::get_catalog).patch(handlers::update_catalog).delete(handlers::delete_catalog),
        )
        .route("/schemas", get(handlers::list_schemas).post(handlers::create_schema))
        .route(
            "/schemas/{full_name}",
            get(handlers::get_schema).patch(handlers::update_schema).delete(handlers::delete_schema),
        )
        .route("/tables", get(handlers::list_tables))
        .route(
            "/tables/{full_name}",
            get(handlers::get_table).patch(handlers::update_table).delete(handlers::delete_table),
        )
        .route("/tables/{full_name}/exists", get(handlers::table_exists))
        .route("/table-summaries", get(handlers::table_summaries))
        .route("/volumes", get(handlers::list_volumes).post(handlers::create_volume))
        .route(
            "/volumes/{full_name}",
            get(handlers::get_volume).patch(handlers::update_volume).delete(handlers::delete_volume),
        )
        .route("/functions", get(handlers::list_functions))
        .route("/functions/{full_name}", get(handlers::get_function).delete(handlers::delete_function))
        .route(
            "/permissions/{securable_type}/{full_name}",
            get(grants::get_permissions).patch(grants::update_permissions),
        )
        .route("/effective-permissions/{securable_type}/{full_name}", get(grants::get_effective_permissions))
        .route("/models", get(models::list))
        .route("/models/{full_name}", get(models::get))
        .route("/models/{full_name}/versions", get(models::list_versions))
        .route("/models/{full_name}/versions/{version}", get(models::get_version))
        .route(
            "/models/{full_name}/aliases/{alias}",
            get(models::get_by_alias).put(models::set_alias).delete(models::delete_alias),
        )
}

/// Lineage, to be nested under `/api/2.0/lineage-tracking`.
pub(crate) fn lineage_router() -> Router<Arc<AppState>> {
    Router::new().route("/table-lineage", get(lineage::table_lineage))
}
