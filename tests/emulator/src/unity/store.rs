//! The Unity Catalog of one workspace: catalogs, schemas, tables, volumes and functions, plus the
//! SQLite database that holds every table's rows.
//!
//! Metadata (owners, comments, column types as Databricks spells them) lives here in Rust; rows live
//! in SQLite, one table per Unity Catalog table, named `"catalog.schema.table"`. Names are
//! case-insensitive in Unity Catalog, so every name is stored in lower case.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use rusqlite::Connection;

use super::{grants::Grants, lineage::Edge};
use crate::error::ApiError;

/// Who made a securable and when; the same fields on every Unity Catalog object.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub owner: String,
    pub comment: Option<String>,
    pub created_at: u64,
    pub created_by: String,
    pub updated_at: u64,
    pub updated_by: String,
    pub id: String,
}

impl Meta {
    pub fn new(user: &str, comment: Option<String>, now: u64, id_seed: &str) -> Self {
        Meta {
            owner: user.to_owned(),
            comment,
            created_at: now,
            created_by: user.to_owned(),
            updated_at: now,
            updated_by: user.to_owned(),
            id: stable_uuid(id_seed),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Catalog {
    pub name: String,
    pub meta: Meta,
}

#[derive(Debug, Clone)]
pub(crate) struct Schema {
    pub catalog: String,
    pub name: String,
    pub meta: Meta,
}

/// A column as Unity Catalog describes it; `type_text` is Databricks' lower-case spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    pub name: String,
    pub type_text: String,
    pub nullable: bool,
    pub comment: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub catalog: String,
    pub schema: String,
    pub name: String,
    pub meta: Meta,
    /// `MANAGED` or `VIEW`.
    pub table_type: &'static str,
    pub view_definition: Option<String>,
    pub columns: Vec<Column>,
}

impl Table {
    pub fn full_name(&self) -> String {
        format!("{}.{}.{}", self.catalog, self.schema, self.name)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Volume {
    pub catalog: String,
    pub schema: String,
    pub name: String,
    pub meta: Meta,
    /// `MANAGED` or `EXTERNAL`.
    pub volume_type: String,
    pub storage_location: Option<String>,
}

/// A SQL function; only seeded, so its definition is kept as the service returns it.
#[derive(Debug, Clone)]
pub(crate) struct Function {
    pub catalog: String,
    pub schema: String,
    pub name: String,
    pub meta: Meta,
    pub params: Vec<(String, String)>,
    pub returns: String,
    pub definition: String,
}

/// Everything Unity Catalog knows, and the rows of its tables.
#[derive(Debug)]
pub(crate) struct Unity {
    pub metastore_id: String,
    pub catalogs: BTreeMap<String, Catalog>,
    pub schemas: BTreeMap<(String, String), Schema>,
    pub tables: BTreeMap<(String, String, String), Table>,
    pub volumes: BTreeMap<(String, String, String), Volume>,
    pub functions: BTreeMap<(String, String, String), Function>,
    /// Registered models and their versions (see `models`).
    pub models: super::models::Models,
    /// Privileges granted on each securable (see `grants`).
    pub grants: Grants,
    /// Table lineage edges (see `lineage`).
    pub lineage: Vec<Edge>,
    pub db: Connection,
}

impl Default for Unity {
    fn default() -> Self {
        // An in-memory database cannot fail to open short of allocation failure, which aborts anyway.
        let db = Connection::open_in_memory().expect("an in-memory SQLite database");
        Unity {
            metastore_id: stable_uuid("metastore"),
            catalogs: BTreeMap::new(),
            schemas: BTreeMap::new(),
            tables: BTreeMap::new(),
            volumes: BTreeMap::new(),
            functions: BTreeMap::new(),
            models: BTreeMap::new(),
            grants: Grants::new(),
            lineage: Vec::new(),
            db,
        }
    }
}

/// A deterministic UUID-shaped id from a name, so seeded ids never change between runs.
pub(crate) fn stable_uuid(seed: &str) -> String {
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in seed.bytes() {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B);
    }
    let hex = format!("{h:032x}");
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// The SQLite name of a table's rows.
pub(crate) fn sqlite_name(catalog: &str, schema: &str, table: &str) -> String {
    format!("\"{catalog}.{schema}.{table}\"")
}

/// Splits a full name into exactly `n` lower-cased, non-empty parts.
pub(crate) fn split_name(full: &str, n: usize, what: &str) -> Result<Vec<String>, ApiError> {
    let parts: Vec<String> = full.split('.').map(str::to_ascii_lowercase).collect();
    if parts.len() != n || parts.iter().any(String::is_empty) {
        return Err(ApiError::invalid_parameter(format!("Invalid {what} name '{full}'")));
    }
    Ok(parts)
}

pub(crate) fn catalog_not_found(name: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "CATALOG_DOES_NOT_EXIST", format!("Catalog '{name}' does not exist."))
}

pub(crate) fn schema_not_found(full: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "SCHEMA_DOES_NOT_EXIST", format!("Schema '{full}' does not exist."))
}

pub(crate) fn table_not_found(full: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "TABLE_DOES_NOT_EXIST", format!("Table '{full}' does not exist."))
}

fn not_found(kind: &str, full: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", format!("{kind} '{full}' does not exist."))
}

fn already_exists(code: &'static str, kind: &str, full: &str) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, code, format!("{kind} '{full}' already exists"))
}

fn sqlite_error(e: rusqlite::Error) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", format!("Storage error: {e}"))
}

pub(crate) type Key3 = (String, String, String);

impl Unity {
    pub fn catalog(&self, name: &str) -> Result<&Catalog, ApiError> {
        self.catalogs.get(&name.to_ascii_lowercase()).ok_or_else(|| catalog_not_found(name))
    }

    pub fn schema(&self, catalog: &str, name: &str) -> Result<&Schema, ApiError> {
        self.catalog(catalog)?;
        let key = (catalog.to_ascii_lowercase(), name.to_ascii_lowercase());
        self.schemas.get(&key).ok_or_else(|| schema_not_found(&format!("{catalog}.{name}")))
    }

    pub fn table(&self, catalog: &str, schema: &str, name: &str) -> Result<&Table, ApiError> {
        self.schema(catalog, schema)?;
        self.tables
            .get(&key3(catalog, schema, name))
            .ok_or_else(|| table_not_found(&format!("{catalog}.{schema}.{name}")))
    }

    pub fn volume(&self, catalog: &str, schema: &str, name: &str) -> Result<&Volume, ApiError> {
        self.schema(catalog, schema)?;
        self.volumes
            .get(&key3(catalog, schema, name))
            .ok_or_else(|| not_found("Volume", &format!("{catalog}.{schema}.{name}")))
    }

    pub fn function(&self, catalog: &str, schema: &str, name: &str) -> Result<&Function, ApiError> {
        self.schema(catalog, schema)?;
        self.functions
            .get(&key3(catalog, schema, name))
            .ok_or_else(|| not_found("Routine or Model", &format!("{catalog}.{schema}.{name}")))
    }

    pub fn create_catalog(
        &mut self,
        name: &str,
        comment: Option<String>,
        user: &str,
        now: u64,
    ) -> Result<&Catalog, ApiError> {
        let name = valid_name(name)?;
        if self.catalogs.contains_key(&name) {
            return Err(already_exists("CATALOG_ALREADY_EXISTS", "Catalog", &name));
        }
        let meta = Meta::new(user, comment, now, &format!("catalog:{name}"));
        Ok(self.catalogs.entry(name.clone()).or_insert(Catalog { name, meta }))
    }

    /// Drops a catalog; without `force` it must hold nothing but `information_schema`/`default`-less
    /// emptiness, as on the service.
    pub fn delete_catalog(&mut self, name: &str, force: bool) -> Result<(), ApiError> {
        let name = self.catalog(name)?.name.clone();
        let schemas: Vec<String> = self.schemas.keys().filter(|(c, _)| *c == name).map(|(_, s)| s.clone()).collect();
        if !force && schemas.iter().any(|s| s != "default" && s != "information_schema") {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "CATALOG_NOT_EMPTY",
                format!(
                    "Cannot delete catalog '{name}' because it is not empty. Use force=true (or CASCADE) to drop it."
                ),
            ));
        }
        for schema in schemas {
            self.delete_schema(&name, &schema, true)?;
        }
        self.catalogs.remove(&name);
        self.forget_grants(&name);
        Ok(())
    }

    pub fn create_schema(
        &mut self,
        catalog: &str,
        name: &str,
        comment: Option<String>,
        user: &str,
        now: u64,
    ) -> Result<&Schema, ApiError> {
        let catalog = self.catalog(catalog)?.name.clone();
        let name = valid_name(name)?;
        let key = (catalog.clone(), name.clone());
        if self.schemas.contains_key(&key) {
            return Err(already_exists("SCHEMA_ALREADY_EXISTS", "Schema", &format!("{catalog}.{name}")));
        }
        let meta = Meta::new(user, comment, now, &format!("schema:{catalog}.{name}"));
        Ok(self.schemas.entry(key).or_insert(Schema { catalog, name, meta }))
    }

    pub fn delete_schema(&mut self, catalog: &str, name: &str, force: bool) -> Result<(), ApiError> {
        let schema = self.schema(catalog, name)?;
        let (catalog, name) = (schema.catalog.clone(), schema.name.clone());
        let in_schema = |k: &Key3| k.0 == catalog && k.1 == name;
        let tables: Vec<Key3> = self.tables.keys().filter(|k| in_schema(k)).cloned().collect();
        let busy = !tables.is_empty() || self.volumes.keys().any(in_schema) || self.functions.keys().any(in_schema);
        if busy && !force {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "SCHEMA_NOT_EMPTY",
                format!(
                    "Cannot delete schema '{catalog}.{name}' because it is not empty. Use force=true (or CASCADE) to drop it."
                ),
            ));
        }
        for (c, s, t) in tables {
            self.drop_table(&c, &s, &t)?;
        }
        self.volumes.retain(|k, _| !in_schema(k));
        self.functions.retain(|k, _| !in_schema(k));
        self.forget_grants(&format!("{catalog}.{name}"));
        self.schemas.remove(&(catalog, name));
        Ok(())
    }

    /// Creates an empty managed table (or a view over `definition`) in SQLite and records it.
    pub fn create_table(&mut self, mut table: Table, sqlite_ddl: &str) -> Result<(), ApiError> {
        table.catalog = table.catalog.to_ascii_lowercase();
        table.schema = table.schema.to_ascii_lowercase();
        table.name = valid_name(&table.name)?;
        self.schema(&table.catalog, &table.schema)?;
        let key = key3(&table.catalog, &table.schema, &table.name);
        if self.tables.contains_key(&key) {
            return Err(already_exists("TABLE_ALREADY_EXISTS", "Table", &table.full_name()));
        }
        self.db.execute_batch(sqlite_ddl).map_err(sqlite_error)?;
        self.tables.insert(key, table);
        Ok(())
    }

    pub fn drop_table(&mut self, catalog: &str, schema: &str, name: &str) -> Result<(), ApiError> {
        let table = self.table(catalog, schema, name)?;
        let kind = if table.table_type == "VIEW" { "VIEW" } else { "TABLE" };
        let ddl = format!("DROP {kind} IF EXISTS {}", sqlite_name(&table.catalog, &table.schema, &table.name));
        self.db.execute_batch(&ddl).map_err(sqlite_error)?;
        let key = key3(catalog, schema, name);
        self.forget_grants(&format!("{}.{}.{}", key.0, key.1, key.2));
        self.tables.remove(&key);
        Ok(())
    }

    pub fn create_volume(&mut self, volume: Volume) -> Result<&Volume, ApiError> {
        let name = valid_name(&volume.name)?;
        let schema = self.schema(&volume.catalog, &volume.schema)?;
        let key = (schema.catalog.clone(), schema.name.clone(), name.clone());
        if self.volumes.contains_key(&key) {
            return Err(already_exists("RESOURCE_ALREADY_EXISTS", "Volume", &format!("{}.{}.{}", key.0, key.1, key.2)));
        }
        let volume = Volume { catalog: key.0.clone(), schema: key.1.clone(), name, ..volume };
        Ok(self.volumes.entry(key).or_insert(volume))
    }
}

/// Case-insensitive wildcard match: `many` matches any run of characters, `one` any single one.
/// Greedy with one backtrack point, so it runs in O(pattern × name) whatever the pattern.
pub(crate) fn wildcard(pattern: &str, name: &str, many: &[u8], one: Option<u8>) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && many.contains(&p[pi]) {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && (Some(p[pi]) == one || p[pi].eq_ignore_ascii_case(&n[ni])) {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| many.contains(c))
}

pub(crate) fn key3(c: &str, s: &str, t: &str) -> Key3 {
    (c.to_ascii_lowercase(), s.to_ascii_lowercase(), t.to_ascii_lowercase())
}

/// A new object's name: lower-cased; letters, digits and underscores only, as the emulator can store
/// any of those safely in a quoted SQLite name.
pub(crate) fn valid_name(name: &str) -> Result<String, ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid name '{name}': names must be non-empty and use only letters, digits, '_' and '-'."
        )));
    }
    Ok(name.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_without_backtracking_blowups() {
        assert!(wildcard("tri%", "TRIPS", b"%*", Some(b'_')));
        assert!(wildcard("t_ips", "trips", b"%*", Some(b'_')));
        assert!(!wildcard("trip", "trips", b"%*", Some(b'_')));
        assert!(wildcard("*s", "trips", b"*", None));
        let long = "a".repeat(255);
        assert!(!wildcard(&"%a".repeat(40).replace("%a%a%a%a", "%a%a%a%b"), &long, b"%", None));
    }

    #[test]
    fn stable_uuids_are_uuid_shaped_and_distinct() {
        let a = stable_uuid("catalog:main");
        assert_eq!(a.len(), 36);
        assert_eq!(a, stable_uuid("catalog:main"));
        assert_ne!(a, stable_uuid("catalog:samples"));
    }

    #[test]
    fn deleting_a_schema_with_tables_needs_force() {
        let mut uc = Unity::default();
        uc.create_catalog("c", None, "u", 1).expect("catalog");
        uc.create_schema("c", "s", None, "u", 1).expect("schema");
        let table = Table {
            catalog: "c".into(),
            schema: "s".into(),
            name: "t".into(),
            meta: Meta::new("u", None, 1, "t"),
            table_type: "MANAGED",
            view_definition: None,
            columns: vec![],
        };
        uc.create_table(table, "CREATE TABLE \"c.s.t\" (x INT)").expect("table");
        assert_eq!(uc.delete_schema("c", "s", false).expect_err("not empty").code, "SCHEMA_NOT_EMPTY");
        uc.delete_schema("c", "s", true).expect("forced");
        assert!(uc.tables.is_empty());
    }
}
