//! Unity Catalog privileges: the grants on each securable, what a caller may do because of them,
//! and the Grants API (`/permissions/{securable_type}/{full_name}`, `/effective-permissions/...`).
//!
//! As on the service, data is secure by default. Metastore admins (the workspace `admins` group
//! here) may do anything; the owner of a securable, or of its catalog or schema, may do anything
//! to it; everyone else needs privileges, granted on the object or inherited from its catalog
//! and schema:
//! - to see a catalog: `USE_CATALOG` (or `BROWSE`) on it; a schema: that, plus `USE_SCHEMA` (or
//!   `BROWSE`); a table: both, plus `SELECT`, `MODIFY` or `BROWSE`; a volume: `READ_VOLUME` or
//!   `WRITE_VOLUME`; a function: `EXECUTE`. Lists show only what the caller may see.
//! - to create a schema: `USE_CATALOG` and `CREATE_SCHEMA`; a volume: `USE_CATALOG`, `USE_SCHEMA`
//!   and `CREATE_VOLUME`; a catalog: metastore admin.
//! - to update, delete or change the grants of an object: ownership (direct or through its
//!   parents) or `MANAGE`. `ALL_PRIVILEGES` covers every privilege except `MANAGE`.
//!
//! A principal is a user name, a service principal's application id, or a group name (the
//! account-level `account users` group included). Refusals are 403 `PERMISSION_DENIED`
//! `"User does not have USE CATALOG on Catalog 'main'."`.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::store::{Unity, split_name};
use crate::{
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    identity::{Caller, Directory},
    workspace::AppState,
};

/// The group every account principal is in.
pub(crate) const ACCOUNT_USERS: &str = "account users";

/// The kinds of securable the emulator keeps grants on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Securable {
    Catalog,
    Schema,
    Table,
    Volume,
    Function,
}

const COMMON: &[&str] = &["ALL_PRIVILEGES", "APPLY_TAG", "BROWSE", "MANAGE"];
const CONTAINER: &[&str] = &[
    "USE_SCHEMA",
    "SELECT",
    "MODIFY",
    "REFRESH",
    "READ_VOLUME",
    "WRITE_VOLUME",
    "EXECUTE",
    "CREATE_TABLE",
    "CREATE_VOLUME",
    "CREATE_FUNCTION",
    "CREATE_MATERIALIZED_VIEW",
    "CREATE_MODEL",
];

impl Securable {
    /// The path segment (`catalog`, `TABLE`, ... in any case).
    pub fn parse(text: &str) -> ApiResult<Securable> {
        Ok(match text.to_ascii_lowercase().as_str() {
            "catalog" => Securable::Catalog,
            "schema" => Securable::Schema,
            "table" => Securable::Table,
            "volume" => Securable::Volume,
            "function" => Securable::Function,
            _ => {
                return Err(ApiError::invalid_parameter(format!(
                    "Invalid securable type '{text}': expected catalog, schema, table, volume or function."
                )));
            }
        })
    }

    /// As the API names it in bodies (`inherited_from_type`).
    pub fn api_name(self) -> &'static str {
        match self {
            Securable::Catalog => "CATALOG",
            Securable::Schema => "SCHEMA",
            Securable::Table => "TABLE",
            Securable::Volume => "VOLUME",
            Securable::Function => "FUNCTION",
        }
    }

    /// As error messages name it.
    fn title(self) -> &'static str {
        match self {
            Securable::Catalog => "Catalog",
            Securable::Schema => "Schema",
            Securable::Table => "Table",
            Securable::Volume => "Volume",
            Securable::Function => "Function",
        }
    }

    fn parts(self) -> usize {
        match self {
            Securable::Catalog => 1,
            Securable::Schema => 2,
            _ => 3,
        }
    }

    /// Whether `privilege` can be granted on this kind of securable.
    pub fn applies(self, privilege: &str) -> bool {
        COMMON.contains(&privilege)
            || match self {
                Securable::Catalog => {
                    privilege == "USE_CATALOG" || privilege == "CREATE_SCHEMA" || CONTAINER.contains(&privilege)
                }
                Securable::Schema => CONTAINER.contains(&privilege),
                Securable::Table => ["SELECT", "MODIFY", "REFRESH"].contains(&privilege),
                Securable::Volume => ["READ_VOLUME", "WRITE_VOLUME"].contains(&privilege),
                Securable::Function => privilege == "EXECUTE",
            }
    }

    /// What lets a caller see an object of this kind (besides its parents' `USE_*`).
    fn read_privileges(self) -> &'static [&'static str] {
        match self {
            Securable::Catalog => &["USE_CATALOG", "BROWSE"],
            Securable::Schema => &["USE_SCHEMA", "BROWSE"],
            Securable::Table => &["SELECT", "MODIFY", "BROWSE"],
            Securable::Volume => &["READ_VOLUME", "WRITE_VOLUME", "BROWSE"],
            Securable::Function => &["EXECUTE", "BROWSE"],
        }
    }
}

/// Grants: securable → principal → privileges.
pub(crate) type Grants = BTreeMap<(Securable, String), BTreeMap<String, BTreeSet<String>>>;

/// The securables from the catalog down to `full_name` (lower case), e.g. catalog `main`, schema
/// `main.default`, table `main.default.trips`.
fn chain(kind: Securable, full_name: &str) -> Vec<(Securable, String)> {
    let parts: Vec<&str> = full_name.split('.').collect();
    let mut out = vec![(Securable::Catalog, parts[0].to_owned())];
    if kind != Securable::Catalog && parts.len() > 1 {
        out.push((Securable::Schema, format!("{}.{}", parts[0], parts[1])));
    }
    if kind.parts() == 3 {
        out.push((kind, full_name.to_owned()));
    }
    out
}

/// `USE_CATALOG` → `USE CATALOG`, as messages spell privileges.
fn spoken(privilege: &str) -> String {
    privilege.replace('_', " ")
}

pub(crate) fn denied(privilege: &str, kind: &str, name: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "PERMISSION_DENIED",
        format!("User does not have {} on {kind} '{name}'.", spoken(privilege)),
    )
}

fn is_principal(caller: &Caller, principal: &str) -> bool {
    principal.eq_ignore_ascii_case(&caller.user_name)
        || principal == ACCOUNT_USERS
        || caller.groups.iter().any(|g| g == principal)
}

impl Unity {
    /// The owner of an existing securable (full name in lower case).
    fn owner(&self, kind: Securable, full_name: &str) -> Option<&str> {
        let p: Vec<&str> = full_name.split('.').collect();
        let key3 = || (p[0].to_owned(), p[1].to_owned(), p[2].to_owned());
        Some(match kind {
            Securable::Catalog => &self.catalogs.get(p[0])?.meta.owner,
            Securable::Schema => &self.schemas.get(&(p[0].to_owned(), p[1].to_owned()))?.meta.owner,
            Securable::Table => &self.tables.get(&key3())?.meta.owner,
            Securable::Volume => &self.volumes.get(&key3())?.meta.owner,
            Securable::Function => &self.functions.get(&key3())?.meta.owner,
        })
    }

    /// Whether the caller owns the object or one of its parents (or is a metastore admin).
    pub fn owns(&self, caller: &Caller, kind: Securable, full_name: &str) -> bool {
        caller.is_admin
            || chain(kind, full_name).iter().any(|(k, n)| {
                self.owner(*k, n).is_some_and(|owner| is_principal(caller, owner) && owner != ACCOUNT_USERS)
            })
    }

    /// Whether the caller holds `privilege` on the object, granted there or on a parent, or owns it.
    pub fn holds(&self, caller: &Caller, kind: Securable, full_name: &str, privilege: &str) -> bool {
        self.owns(caller, kind, full_name)
            || chain(kind, full_name).iter().any(|key| {
                self.grants.get(key).is_some_and(|by_principal| {
                    by_principal.iter().any(|(principal, privileges)| {
                        is_principal(caller, principal)
                            && (privileges.contains(privilege)
                                || (privilege != "MANAGE" && privileges.contains("ALL_PRIVILEGES")))
                    })
                })
            })
    }

    fn require_any(&self, caller: &Caller, kind: Securable, full_name: &str, privileges: &[&str]) -> ApiResult<()> {
        if privileges.iter().any(|p| self.holds(caller, kind, full_name, p)) {
            return Ok(());
        }
        let name = chain(kind, full_name).pop().map(|(_, n)| n).unwrap_or_default();
        Err(denied(privileges[0], kind.title(), &name))
    }

    /// 403 unless the caller may see the object (see the module docs).
    pub fn check_read(&self, caller: &Caller, kind: Securable, full_name: &str) -> ApiResult<()> {
        let full_name = full_name.to_ascii_lowercase();
        for (k, name) in chain(kind, &full_name) {
            self.require_any(caller, k, &name, k.read_privileges())?;
        }
        Ok(())
    }

    pub fn can_read(&self, caller: &Caller, kind: Securable, full_name: &str) -> bool {
        self.check_read(caller, kind, full_name).is_ok()
    }

    /// 403 unless the caller may use the parents of a new object and holds `create` on its container.
    pub fn check_create(&self, caller: &Caller, container: Securable, full_name: &str, create: &str) -> ApiResult<()> {
        let full_name = full_name.to_ascii_lowercase();
        self.require_any(
            caller,
            Securable::Catalog,
            full_name.split('.').next().unwrap_or_default(),
            &["USE_CATALOG"],
        )?;
        if container == Securable::Schema {
            self.require_any(caller, Securable::Schema, &full_name, &["USE_SCHEMA"])?;
        }
        self.require_any(caller, container, &full_name, &[create])
    }

    /// 403 unless the caller owns the object (or a parent), is an admin, or holds `MANAGE`.
    pub fn check_manage(&self, caller: &Caller, kind: Securable, full_name: &str) -> ApiResult<()> {
        let full_name = full_name.to_ascii_lowercase();
        if self.holds(caller, kind, &full_name, "MANAGE") {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            format!("User is not an owner of {} '{full_name}' and does not have MANAGE on it.", kind.title()),
        ))
    }

    /// Forget the grants on an object and everything inside it (when it is deleted).
    pub fn forget_grants(&mut self, full_name: &str) {
        let inside = format!("{full_name}.");
        self.grants.retain(|(_, name), _| name != full_name && !name.starts_with(&inside));
    }

    /// Grant privileges (for seeds).
    pub fn grant(&mut self, kind: Securable, full_name: &str, principal: &str, privileges: &[&str]) {
        let entry = self.grants.entry((kind, full_name.to_ascii_lowercase())).or_default();
        entry.entry(principal.to_owned()).or_default().extend(privileges.iter().map(|p| (*p).to_owned()));
    }

    /// The existing securable behind a path, with its canonical (lower-case) full name.
    fn securable(&self, kind: &str, full_name: &str) -> ApiResult<(Securable, String)> {
        let kind = Securable::parse(kind)?;
        let parts = split_name(full_name, kind.parts(), &kind.title().to_ascii_lowercase())?;
        match kind {
            Securable::Catalog => self.catalog(&parts[0]).map(|_| ()),
            Securable::Schema => self.schema(&parts[0], &parts[1]).map(|_| ()),
            Securable::Table => self.table(&parts[0], &parts[1], &parts[2]).map(|_| ()),
            Securable::Volume => self.volume(&parts[0], &parts[1], &parts[2]).map(|_| ()),
            Securable::Function => self.function(&parts[0], &parts[1], &parts[2]).map(|_| ()),
        }?;
        Ok((kind, parts.join(".")))
    }
}

type App = State<Arc<AppState>>;

/// `{privilege_assignments: [{principal, privileges: [...]}]}`, one entry per principal, sorted.
fn assignments(grants: Option<&BTreeMap<String, BTreeSet<String>>>, principal: Option<&str>) -> Value {
    let list: Vec<Value> = grants
        .into_iter()
        .flatten()
        .filter(|(p, privileges)| !privileges.is_empty() && principal.is_none_or(|want| want == p.as_str()))
        .map(|(p, privileges)| json!({"principal": p, "privileges": privileges}))
        .collect();
    if list.is_empty() { json!({}) } else { json!({ "privilege_assignments": list }) }
}

/// `GET /permissions/{securable_type}/{full_name}?principal=`.
pub(super) async fn get_permissions(
    State(app): App,
    caller: Caller,
    Path((kind, full_name)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let ws = app.workspace();
    let (kind, name) = ws.unity.securable(&kind, &full_name)?;
    ws.unity.check_read(&caller, kind, &name)?;
    Ok(Json(assignments(ws.unity.grants.get(&(kind, name)), params.get("principal"))))
}

/// `GET /effective-permissions/{securable_type}/{full_name}?principal=`: the object's own grants
/// and those inherited from its catalog and schema, each privilege once per source.
pub(super) async fn get_effective_permissions(
    State(app): App,
    caller: Caller,
    Path((kind, full_name)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let ws = app.workspace();
    let uc = &ws.unity;
    let (kind, name) = uc.securable(&kind, &full_name)?;
    uc.check_read(&caller, kind, &name)?;
    let mut by_principal: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (source_kind, source_name) in chain(kind, &name) {
        let inherited = source_kind != kind;
        for (principal, privileges) in uc.grants.get(&(source_kind, source_name.clone())).into_iter().flatten() {
            if params.get("principal").is_some_and(|want| want != principal) {
                continue;
            }
            for privilege in privileges.iter().filter(|p| kind.applies(p)) {
                let mut entry = json!({ "privilege": privilege });
                if inherited {
                    entry["inherited_from_type"] = json!(source_kind.api_name());
                    entry["inherited_from_name"] = json!(source_name);
                }
                by_principal.entry(principal.clone()).or_default().push(entry);
            }
        }
    }
    let list: Vec<Value> = by_principal
        .into_iter()
        .map(|(principal, privileges)| json!({"principal": principal, "privileges": privileges}))
        .collect();
    Ok(Json(if list.is_empty() { json!({}) } else { json!({ "privilege_assignments": list }) }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct UpdateBody {
    changes: Vec<Change>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Change {
    principal: String,
    add: Vec<String>,
    remove: Vec<String>,
}

fn known_principal(directory: &Directory, principal: &str) -> bool {
    principal == ACCOUNT_USERS || directory.by_user_name(principal).is_some() || directory.group(principal).is_some()
}

/// `PATCH /permissions/{securable_type}/{full_name}` `{changes: [{principal, add, remove}]}`;
/// answers with the grants after the change.
pub(super) async fn update_permissions(
    State(app): App,
    caller: Caller,
    Path((kind, full_name)): Path<(String, String)>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Json<Value>> {
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let (kind, name) = ws.unity.securable(&kind, &full_name)?;
    ws.unity.check_manage(&caller, kind, &name)?;
    // Validate everything before changing anything.
    for change in &body.changes {
        if change.principal.is_empty() {
            return Err(ApiError::missing_field("changes.principal"));
        }
        if !known_principal(&ws.identity, &change.principal) {
            return Err(ApiError::invalid_parameter(format!(
                "Could not find principal with name {}.",
                change.principal
            )));
        }
        for privilege in change.add.iter().chain(&change.remove) {
            if !kind.applies(privilege) {
                return Err(ApiError::invalid_parameter(format!(
                    "Privilege {privilege} is not applicable to this entity [{}:{name}]. If the privilege is \
                     spelled with spaces, use underscores instead.",
                    kind.api_name().to_ascii_lowercase()
                )));
            }
        }
    }
    let grants = ws.unity.grants.entry((kind, name.clone())).or_default();
    for change in body.changes {
        let privileges = grants.entry(change.principal.clone()).or_default();
        privileges.extend(change.add);
        for privilege in &change.remove {
            privileges.remove(privilege);
        }
        if privileges.is_empty() {
            grants.remove(&change.principal);
        }
    }
    Ok(Json(assignments(ws.unity.grants.get(&(kind, name)), None)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_run_from_the_catalog_down() {
        assert_eq!(chain(Securable::Catalog, "main"), [(Securable::Catalog, "main".to_owned())]);
        let c = chain(Securable::Volume, "main.default.landing");
        assert_eq!(c.len(), 3);
        assert_eq!(c[1], (Securable::Schema, "main.default".to_owned()));
        assert_eq!(c[2].0, Securable::Volume);
    }

    #[test]
    fn privileges_apply_to_their_kinds() {
        assert!(Securable::Table.applies("SELECT"));
        assert!(!Securable::Table.applies("USE_CATALOG"));
        assert!(Securable::Catalog.applies("SELECT"));
        assert!(!Securable::Volume.applies("SELECT"));
        assert!(Securable::Function.applies("EXECUTE"));
    }
}
