//! HTTP handlers of Unity Catalog (`/api/2.1/unity-catalog/...`): catalogs, schemas, tables (and
//! table summaries), volumes and functions.
//!
//! Every handler acts as the request's caller and checks its privileges (`grants`); lists show only
//! what the caller may see. Lists page with `max_results`/`page_token`. SDKs always send `max_results=0` when the caller
//! gives none, and 0 means "the server's page size", never zero rows (reference §0.7).

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    grants::Securable,
    render,
    store::{self, Meta, Volume, split_name, wildcard},
};
use crate::{
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    identity::Caller,
    pagination::{decode_token, page},
    workspace::AppState,
};

type App = State<Arc<AppState>>;

/// The page size when `max_results` is 0 or absent.
const DEFAULT_PAGE_SIZE: usize = 50;
const MAX_PAGE_SIZE: usize = 1000;

fn done() -> ApiResult<Json<Value>> {
    Ok(Json(json!({})))
}

/// One page of `items` under `key` (`{}` when there are none), with `next_page_token` only when
/// more follow.
fn paged(items: Vec<Value>, key: &str, params: &Params) -> ApiResult<Json<Value>> {
    let size = match params.parse::<i64>("max_results")? {
        None | Some(0) => DEFAULT_PAGE_SIZE,
        Some(n) if n < 0 => {
            return Err(ApiError::invalid_parameter("max_results must be greater than or equal to 0"));
        }
        Some(n) => usize::try_from(n).unwrap_or(MAX_PAGE_SIZE).min(MAX_PAGE_SIZE),
    };
    let offset = decode_token(params.get("page_token").unwrap_or_default())?;
    let page = page(items, offset, size);
    let mut out = Map::new();
    if !page.items.is_empty() {
        out.insert(key.into(), Value::Array(page.items));
    }
    if let Some(token) = page.next_page_token {
        out.insert("next_page_token".into(), json!(token));
    }
    Ok(Json(Value::Object(out)))
}

fn flag(params: &Params, key: &str) -> ApiResult<bool> {
    Ok(params.parse::<bool>(key)?.unwrap_or(false))
}

/// `PATCH` bodies: the fields the emulator can change on any securable.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct UpdateBody {
    comment: Option<String>,
    owner: Option<String>,
    new_name: Option<String>,
}

impl UpdateBody {
    /// Applies the update to `meta`; renames are refused, since every table's rows are keyed by name.
    fn apply(self, meta: &mut Meta, user: &str, now: u64) -> ApiResult<()> {
        if self.new_name.is_some() {
            return Err(ApiError::invalid_parameter("The emulator does not support renaming (new_name)."));
        }
        if let Some(owner) = self.owner {
            if owner.trim().is_empty() {
                return Err(ApiError::invalid_parameter("owner must not be empty"));
            }
            meta.owner = owner;
        }
        if let Some(comment) = self.comment {
            meta.comment = Some(comment).filter(|c| !c.is_empty());
        }
        meta.updated_at = now;
        meta.updated_by = user.to_owned();
        Ok(())
    }
}

// ---- catalogs ----

pub(super) async fn list_catalogs(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let ws = app.workspace();
    let uc = &ws.unity;
    let items = uc
        .catalogs
        .values()
        .filter(|c| uc.can_read(&caller, Securable::Catalog, &c.name))
        .map(|c| render::catalog(uc, c))
        .collect();
    paged(items, "catalogs", &params)
}

pub(super) async fn get_catalog(State(app): App, caller: Caller, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let ws = app.workspace();
    let catalog = ws.unity.catalog(&name)?;
    ws.unity.check_read(&caller, Securable::Catalog, &catalog.name)?;
    Ok(Json(render::catalog(&ws.unity, catalog)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CreateBody {
    name: Option<String>,
    catalog_name: Option<String>,
    schema_name: Option<String>,
    comment: Option<String>,
    volume_type: Option<String>,
    storage_location: Option<String>,
}

fn required(value: Option<String>, field: &str) -> ApiResult<String> {
    value.filter(|v| !v.is_empty()).ok_or_else(|| ApiError::missing_field(field))
}

pub(super) async fn create_catalog(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<Json<Value>> {
    let name = required(body.name, "name")?;
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    if !caller.is_admin {
        let metastore = ws.unity.metastore_id.clone();
        return Err(super::grants::denied("CREATE_CATALOG", "Metastore", &metastore));
    }
    let catalog = ws.unity.create_catalog(&name, body.comment, &caller.user_name, now)?.clone();
    // The service gives every new catalog `default` and `information_schema`.
    ws.unity.create_schema(
        &catalog.name,
        "default",
        Some("Default schema (auto-created)".into()),
        &caller.user_name,
        now,
    )?;
    ws.unity.create_schema(&catalog.name, "information_schema", None, "System user", now)?;
    Ok(Json(render::catalog(&ws.unity, &catalog)))
}

pub(super) async fn update_catalog(
    State(app): App,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Json<Value>> {
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let key = ws.unity.catalog(&name)?.name.clone();
    ws.unity.check_manage(&caller, Securable::Catalog, &key)?;
    let catalog = ws.unity.catalogs.get_mut(&key).ok_or_else(|| store::catalog_not_found(&name))?;
    body.apply(&mut catalog.meta, &caller.user_name, now)?;
    let catalog = catalog.clone();
    Ok(Json(render::catalog(&ws.unity, &catalog)))
}

pub(super) async fn delete_catalog(
    State(app): App,
    caller: Caller,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let force = flag(&params, "force")?;
    let mut ws = app.workspace();
    let key = ws.unity.catalog(&name)?.name.clone();
    ws.unity.check_manage(&caller, Securable::Catalog, &key)?;
    ws.unity.delete_catalog(&name, force)?;
    done()
}

// ---- schemas ----

pub(super) async fn list_schemas(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let catalog = params.required("catalog_name")?.to_ascii_lowercase();
    let ws = app.workspace();
    let uc = &ws.unity;
    uc.catalog(&catalog)?;
    uc.check_read(&caller, Securable::Catalog, &catalog)?;
    let items = uc
        .schemas
        .values()
        .filter(|s| {
            s.catalog == catalog && uc.can_read(&caller, Securable::Schema, &format!("{}.{}", s.catalog, s.name))
        })
        .map(|s| render::schema(uc, s))
        .collect();
    paged(items, "schemas", &params)
}

pub(super) async fn get_schema(
    State(app): App,
    caller: Caller,
    Path(full_name): Path<String>,
) -> ApiResult<Json<Value>> {
    let parts = split_name(&full_name, 2, "schema")?;
    let ws = app.workspace();
    let schema = ws.unity.schema(&parts[0], &parts[1])?;
    ws.unity.check_read(&caller, Securable::Schema, &parts.join("."))?;
    Ok(Json(render::schema(&ws.unity, schema)))
}

pub(super) async fn create_schema(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<Json<Value>> {
    let name = required(body.name, "name")?;
    let catalog = required(body.catalog_name, "catalog_name")?;
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let key = ws.unity.catalog(&catalog)?.name.clone();
    ws.unity.check_create(&caller, Securable::Catalog, &key, "CREATE_SCHEMA")?;
    let schema = ws.unity.create_schema(&catalog, &name, body.comment, &caller.user_name, now)?.clone();
    Ok(Json(render::schema(&ws.unity, &schema)))
}

pub(super) async fn update_schema(
    State(app): App,
    caller: Caller,
    Path(full_name): Path<String>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Json<Value>> {
    let parts = split_name(&full_name, 2, "schema")?;
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    ws.unity.schema(&parts[0], &parts[1])?;
    ws.unity.check_manage(&caller, Securable::Schema, &parts.join("."))?;
    let key = (parts[0].clone(), parts[1].clone());
    let schema = ws.unity.schemas.get_mut(&key).ok_or_else(|| store::schema_not_found(&full_name))?;
    body.apply(&mut schema.meta, &caller.user_name, now)?;
    let schema = schema.clone();
    Ok(Json(render::schema(&ws.unity, &schema)))
}

pub(super) async fn delete_schema(
    State(app): App,
    caller: Caller,
    Path(full_name): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let parts = split_name(&full_name, 2, "schema")?;
    let force = flag(&params, "force")?;
    let mut ws = app.workspace();
    ws.unity.schema(&parts[0], &parts[1])?;
    ws.unity.check_manage(&caller, Securable::Schema, &parts.join("."))?;
    ws.unity.delete_schema(&parts[0], &parts[1], force)?;
    done()
}

// ---- tables ----

pub(super) async fn list_tables(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let catalog = params.required("catalog_name")?.to_ascii_lowercase();
    let schema = params.required("schema_name")?.to_ascii_lowercase();
    let with_columns = !flag(&params, "omit_columns")?;
    let ws = app.workspace();
    let uc = &ws.unity;
    uc.schema(&catalog, &schema)?;
    uc.check_read(&caller, Securable::Schema, &format!("{catalog}.{schema}"))?;
    let items = uc
        .tables
        .values()
        .filter(|t| t.catalog == catalog && t.schema == schema)
        .filter(|t| uc.can_read(&caller, Securable::Table, &t.full_name()))
        .map(|t| render::table(uc, t, with_columns))
        .collect();
    paged(items, "tables", &params)
}

pub(super) async fn get_table(
    State(app): App,
    caller: Caller,
    Path(full_name): Path<String>,
) -> ApiResult<Json<Value>> {
    let parts = split_name(&full_name, 3, "table")?;
    let ws = app.workspace();
    let table = ws.unity.table(&parts[0], &parts[1], &parts[2])?;
    ws.unity.check_read(&caller, Securable::Table, &parts.join("."))?;
    Ok(Json(render::table(&ws.unity, table, true)))
}

pub(super) async fn table_exists(
    State(app): App,
    caller: Caller,
    Path(full_name): Path<String>,
) -> ApiResult<Json<Value>> {
    let parts = split_name(&full_name, 3, "table")?;
    let ws = app.workspace();
    // A missing catalog or schema is an error; a missing table is `false`.
    ws.unity.schema(&parts[0], &parts[1])?;
    ws.unity.check_read(&caller, Securable::Schema, &format!("{}.{}", parts[0], parts[1]))?;
    Ok(Json(json!({ "table_exists": ws.unity.table(&parts[0], &parts[1], &parts[2]).is_ok() })))
}

/// `PATCH /tables/{full_name}`: only `owner` can change; the answer is `{}`.
pub(super) async fn update_table(
    State(app): App,
    caller: Caller,
    Path(full_name): Path<String>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Json<Value>> {
    let parts = split_name(&full_name, 3, "table")?;
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    ws.unity.table(&parts[0], &parts[1], &parts[2])?;
    ws.unity.check_manage(&caller, Securable::Table, &parts.join("."))?;
    let key = (parts[0].clone(), parts[1].clone(), parts[2].clone());
    let table = ws.unity.tables.get_mut(&key).ok_or_else(|| store::table_not_found(&full_name))?;
    UpdateBody { comment: None, ..body }.apply(&mut table.meta, &caller.user_name, now)?;
    done()
}

pub(super) async fn delete_table(
    State(app): App,
    caller: Caller,
    Path(full_name): Path<String>,
) -> ApiResult<Json<Value>> {
    let parts = split_name(&full_name, 3, "table")?;
    let mut ws = app.workspace();
    ws.unity.table(&parts[0], &parts[1], &parts[2])?;
    ws.unity.check_manage(&caller, Securable::Table, &parts.join("."))?;
    ws.unity.drop_table(&parts[0], &parts[1], &parts[2])?;
    done()
}

/// SQL `LIKE` (`%`, `_`), case-insensitive; `*` also matches anything, as the service allows.
fn like(pattern: &str, name: &str) -> bool {
    wildcard(pattern, name, b"%*", Some(b'_'))
}

pub(super) async fn table_summaries(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let catalog = params.required("catalog_name")?.to_ascii_lowercase();
    let schema_pattern = params.get("schema_name_pattern").filter(|p| !p.is_empty()).unwrap_or("%");
    let table_pattern = params.get("table_name_pattern").filter(|p| !p.is_empty()).unwrap_or("%");
    let ws = app.workspace();
    ws.unity.catalog(&catalog)?;
    ws.unity.check_read(&caller, Securable::Catalog, &catalog)?;
    let items = ws
        .unity
        .tables
        .values()
        .filter(|t| t.catalog == catalog && like(schema_pattern, &t.schema) && like(table_pattern, &t.name))
        .filter(|t| ws.unity.can_read(&caller, Securable::Table, &t.full_name()))
        .map(|t| json!({"full_name": t.full_name(), "table_type": t.table_type}))
        .collect();
    paged(items, "tables", &params)
}

// ---- volumes ----

pub(super) async fn list_volumes(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let catalog = params.required("catalog_name")?.to_ascii_lowercase();
    let schema = params.required("schema_name")?.to_ascii_lowercase();
    let ws = app.workspace();
    let uc = &ws.unity;
    uc.schema(&catalog, &schema)?;
    uc.check_read(&caller, Securable::Schema, &format!("{catalog}.{schema}"))?;
    let items = uc
        .volumes
        .values()
        .filter(|v| v.catalog == catalog && v.schema == schema)
        .filter(|v| uc.can_read(&caller, Securable::Volume, &format!("{}.{}.{}", v.catalog, v.schema, v.name)))
        .map(|v| render::volume(uc, v))
        .collect();
    paged(items, "volumes", &params)
}

pub(super) async fn get_volume(
    State(app): App,
    caller: Caller,
    Path(full_name): Path<String>,
) -> ApiResult<Json<Value>> {
    let parts = split_name(&full_name, 3, "volume")?;
    let ws = app.workspace();
    let volume = ws.unity.volume(&parts[0], &parts[1], &parts[2])?;
    ws.unity.check_read(&caller, Securable::Volume, &parts.join("."))?;
    Ok(Json(render::volume(&ws.unity, volume)))
}

pub(super) async fn create_volume(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<Json<Value>> {
    let catalog = required(body.catalog_name, "catalog_name")?;
    let schema = required(body.schema_name, "schema_name")?;
    let name = required(body.name, "name")?;
    let volume_type = required(body.volume_type, "volume_type")?;
    match (volume_type.as_str(), &body.storage_location) {
        ("MANAGED", None) | ("EXTERNAL", Some(_)) => {}
        ("MANAGED", Some(_)) => {
            return Err(ApiError::invalid_parameter("storage_location cannot be specified for a MANAGED volume."));
        }
        ("EXTERNAL", None) => return Err(ApiError::missing_field("storage_location")),
        (other, _) => {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid volume_type '{other}': expected MANAGED or EXTERNAL."
            )));
        }
    }
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let container = ws.unity.schema(&catalog, &schema)?;
    let container = format!("{}.{}", container.catalog, container.name);
    ws.unity.check_create(&caller, Securable::Schema, &container, "CREATE_VOLUME")?;
    let id_seed = format!("volume:{catalog}.{schema}.{name}:{now}");
    let volume = Volume {
        catalog,
        schema,
        name,
        meta: Meta::new(&caller.user_name, body.comment, now, &id_seed),
        volume_type,
        storage_location: body.storage_location,
    };
    let volume = ws.unity.create_volume(volume)?.clone();
    Ok(Json(render::volume(&ws.unity, &volume)))
}

pub(super) async fn update_volume(
    State(app): App,
    caller: Caller,
    Path(full_name): Path<String>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Json<Value>> {
    let parts = split_name(&full_name, 3, "volume")?;
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    ws.unity.volume(&parts[0], &parts[1], &parts[2])?;
    ws.unity.check_manage(&caller, Securable::Volume, &parts.join("."))?;
    let key = (parts[0].clone(), parts[1].clone(), parts[2].clone());
    let Some(volume) = ws.unity.volumes.get_mut(&key) else {
        return Err(ApiError::invalid_parameter(format!("Volume '{full_name}' does not exist.")));
    };
    body.apply(&mut volume.meta, &caller.user_name, now)?;
    let volume = volume.clone();
    Ok(Json(render::volume(&ws.unity, &volume)))
}

pub(super) async fn delete_volume(
    State(app): App,
    caller: Caller,
    Path(full_name): Path<String>,
) -> ApiResult<Json<Value>> {
    let parts = split_name(&full_name, 3, "volume")?;
    let mut ws = app.workspace();
    ws.unity.volume(&parts[0], &parts[1], &parts[2])?;
    ws.unity.check_manage(&caller, Securable::Volume, &parts.join("."))?;
    ws.unity.volumes.remove(&(parts[0].clone(), parts[1].clone(), parts[2].clone()));
    ws.unity.forget_grants(&parts.join("."));
    done()
}

// ---- functions ----

pub(super) async fn list_functions(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let catalog = params.required("catalog_name")?.to_ascii_lowercase();
    let schema = params.required("schema_name")?.to_ascii_lowercase();
    let ws = app.workspace();
    let uc = &ws.unity;
    uc.schema(&catalog, &schema)?;
    uc.check_read(&caller, Securable::Schema, &format!("{catalog}.{schema}"))?;
    let items = uc
        .functions
        .values()
        .filter(|f| f.catalog == catalog && f.schema == schema)
        .filter(|f| uc.can_read(&caller, Securable::Function, &format!("{}.{}.{}", f.catalog, f.schema, f.name)))
        .map(|f| render::function(uc, f))
        .collect();
    paged(items, "functions", &params)
}

pub(super) async fn get_function(
    State(app): App,
    caller: Caller,
    Path(full_name): Path<String>,
) -> ApiResult<Json<Value>> {
    let parts = split_name(&full_name, 3, "function")?;
    let ws = app.workspace();
    let function = ws.unity.function(&parts[0], &parts[1], &parts[2])?;
    ws.unity.check_read(&caller, Securable::Function, &parts.join("."))?;
    Ok(Json(render::function(&ws.unity, function)))
}

pub(super) async fn delete_function(
    State(app): App,
    caller: Caller,
    Path(full_name): Path<String>,
) -> ApiResult<Json<Value>> {
    let parts = split_name(&full_name, 3, "function")?;
    let mut ws = app.workspace();
    ws.unity.function(&parts[0], &parts[1], &parts[2])?;
    ws.unity.check_manage(&caller, Securable::Function, &parts.join("."))?;
    ws.unity.functions.remove(&(parts[0].clone(), parts[1].clone(), parts[2].clone()));
    ws.unity.forget_grants(&parts.join("."));
    done()
}

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn like_patterns_match_sql_style() {
        assert!(like("tri%", "trips"));
        assert!(like("t_ips", "TRIPS"));
        assert!(like("*", "anything"));
        assert!(!like("trip", "trips"));
    }
}
