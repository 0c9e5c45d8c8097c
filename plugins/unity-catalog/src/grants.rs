//! Grants (privileges on a securable: direct, effective, and changing them) and table lineage.

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request};

use crate::model::{full_name, path, segment};
use crate::patch;

/// The kinds of object that carry grants.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SecurableType {
    /// A catalog; `full_name` is `catalog`.
    Catalog,
    /// A schema; `full_name` is `catalog.schema`.
    Schema,
    /// A table or view; `full_name` is `catalog.schema.table`.
    Table,
    /// A volume; `full_name` is `catalog.schema.volume`.
    Volume,
    /// A function; `full_name` is `catalog.schema.function`.
    Function,
}

impl SecurableType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Catalog => "catalog",
            Self::Schema => "schema",
            Self::Table => "table",
            Self::Volume => "volume",
            Self::Function => "function",
        }
    }

    fn parts(self) -> usize {
        match self {
            Self::Catalog => 1,
            Self::Schema => 2,
            _ => 3,
        }
    }
}

/// Arguments naming a securable, optionally one principal.
#[schema]
pub struct GetGrants {
    /// What kind of object: `catalog`, `schema`, `table`, `volume` or `function`.
    pub securable_type: SecurableType,
    /// Its full name: `main`, `main.default`, `main.default.trips`...
    pub full_name: String,
    /// Only this principal's grants: a user name (e-mail), service principal application id,
    /// or group name.
    #[serde(default)]
    pub principal: Option<String>,
}

impl GetGrants {
    fn target(&self) -> Result<String> {
        full_name(&self.full_name, self.securable_type.parts(), "full_name")
    }

    fn request(&self, endpoint: &str) -> Result<Request> {
        let name = self.target()?;
        let request = Request::new(
            Method::Get,
            path(&format!("{endpoint}/{}/{}", self.securable_type.as_str(), segment(&name)?)),
        );
        Ok(request.query_opt("principal", self.principal.as_deref().map(str::trim).filter(|p| !p.is_empty())))
    }
}

/// The privileges of one principal.
#[schema]
pub struct PrivilegeAssignment {
    /// A user name, service principal application id, or group name.
    pub principal: String,
    /// Privileges such as `USE_CATALOG`, `USE_SCHEMA`, `SELECT`, `MODIFY`, `READ_VOLUME`.
    #[serde(default)]
    pub privileges: Vec<String>,
}

/// Grants on an object.
#[schema]
pub struct GrantList {
    /// One entry per principal with privileges granted on the object itself.
    #[serde(default)]
    pub privilege_assignments: Vec<PrivilegeAssignment>,
}

fn grants_text(what: &str, assignments: &[PrivilegeAssignment]) -> String {
    if assignments.is_empty() {
        return format!("No privileges are granted on {what}.");
    }
    let mut lines = vec![format!("Grants on {what}:")];
    lines.extend(assignments.iter().map(|a| format!("{}: {}", a.principal, a.privileges.join(", "))));
    lines.join("\n")
}

/// Show the privileges granted directly on a catalog, schema, table, volume or function, one
/// line per principal. Privileges inherited from the catalog or schema are not included: use
/// `get_effective_grants` for those.
#[tool(read_only, idempotent, title = "Get grants")]
pub fn get_grants(ctx: &Context, args: GetGrants) -> Result<Output<GrantList>> {
    let list: GrantList = ctx.send(args.request("permissions")?)?.json()?;
    let what = format!("{} {}", args.securable_type.as_str(), args.target()?);
    Ok(Output::new(grants_text(&what, &list.privilege_assignments), list))
}

/// A privilege and where it comes from.
#[schema]
pub struct EffectivePrivilege {
    /// The privilege, e.g. `SELECT`.
    pub privilege: String,
    /// When inherited: the type of the object it was granted on, e.g. `CATALOG`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherited_from_type: Option<String>,
    /// When inherited: the full name of the object it was granted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherited_from_name: Option<String>,
}

/// The effective privileges of one principal.
#[schema]
pub struct EffectiveAssignment {
    /// A user name, service principal application id, or group name.
    pub principal: String,
    /// Its privileges on the object, granted there or inherited.
    #[serde(default)]
    pub privileges: Vec<EffectivePrivilege>,
}

/// Effective grants on an object.
#[schema]
pub struct EffectiveGrantList {
    /// One entry per principal.
    #[serde(default)]
    pub privilege_assignments: Vec<EffectiveAssignment>,
}

/// Show the effective privileges on an object: those granted on it plus those inherited from
/// its catalog and schema, each marked with where it comes from. Use it to answer "who can read
/// this table?" (group membership is not expanded: a user may also hold privileges through the
/// groups listed).
#[tool(read_only, idempotent, title = "Get effective grants")]
pub fn get_effective_grants(ctx: &Context, args: GetGrants) -> Result<Output<EffectiveGrantList>> {
    let list: EffectiveGrantList = ctx.send(args.request("effective-permissions")?)?.json()?;
    let what = format!("{} {}", args.securable_type.as_str(), args.target()?);
    let text = if list.privilege_assignments.is_empty() {
        format!("No privileges on {what}, granted or inherited (owners and admins have all).")
    } else {
        let mut lines = vec![format!("Effective grants on {what}:")];
        for a in &list.privilege_assignments {
            let privileges: Vec<String> = a
                .privileges
                .iter()
                .map(|p| match (&p.inherited_from_type, &p.inherited_from_name) {
                    (Some(kind), Some(name)) => format!("{} (from {} {name})", p.privilege, kind.to_lowercase()),
                    _ => p.privilege.clone(),
                })
                .collect();
            lines.push(format!("{}: {}", a.principal, privileges.join(", ")));
        }
        lines.join("\n")
    };
    Ok(Output::new(text, list))
}

/// One principal's change.
#[schema]
pub struct GrantChange {
    /// A user name (e-mail), service principal application id, or group name (e.g.
    /// `data-engineers`, `account users`).
    pub principal: String,
    /// Privileges to grant, e.g. `["USE_CATALOG", "SELECT"]`.
    #[serde(default)]
    pub add: Vec<String>,
    /// Privileges to revoke.
    #[serde(default)]
    pub remove: Vec<String>,
}

/// Arguments of `update_grants`.
#[schema]
pub struct UpdateGrants {
    /// What kind of object: `catalog`, `schema`, `table`, `volume` or `function`.
    pub securable_type: SecurableType,
    /// Its full name: `main`, `main.default`, `main.default.trips`...
    pub full_name: String,
    /// The changes, one per principal. Privileges: `ALL_PRIVILEGES`, `USE_CATALOG`,
    /// `USE_SCHEMA`, `SELECT`, `MODIFY`, `CREATE_SCHEMA`, `CREATE_TABLE`, `CREATE_VOLUME`,
    /// `CREATE_FUNCTION`, `READ_VOLUME`, `WRITE_VOLUME`, `EXECUTE`, `BROWSE`, `MANAGE`...
    pub changes: Vec<GrantChange>,
}

/// `use catalog` → `USE_CATALOG`.
fn privilege(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join("_").to_uppercase()
}

/// Grant and revoke privileges on a catalog, schema, table, volume or function, for one or more
/// principals at once (needs ownership or MANAGE). Reading a table takes USE_CATALOG on its
/// catalog, USE_SCHEMA on its schema and SELECT on the table (or on the schema or catalog, which
/// covers every table in it). Returns the grants afterwards.
#[tool(destructive, idempotent, title = "Update grants")]
pub fn update_grants(ctx: &Context, args: UpdateGrants) -> Result<Output<GrantList>> {
    let name = full_name(&args.full_name, args.securable_type.parts(), "full_name")?;
    if args.changes.is_empty() {
        return Err(ToolError::invalid("changes is empty: give at least one principal with add or remove"));
    }
    let mut changes = Vec::new();
    for change in &args.changes {
        let principal = change.principal.trim();
        if principal.is_empty() {
            return Err(ToolError::invalid("every change needs a principal"));
        }
        if change.add.is_empty() && change.remove.is_empty() {
            return Err(ToolError::invalid(format!("the change for {principal} neither adds nor removes a privilege")));
        }
        let add: Vec<String> = change.add.iter().map(|p| privilege(p)).collect();
        let remove: Vec<String> = change.remove.iter().map(|p| privilege(p)).collect();
        if let Some(both) = add.iter().find(|p| remove.contains(p)) {
            return Err(ToolError::invalid(format!("{both} is both added and removed for {principal}")));
        }
        changes.push(json!({ "principal": principal, "add": add, "remove": remove }));
    }
    let endpoint = path(&format!("permissions/{}/{}", args.securable_type.as_str(), segment(&name)?));
    let list: GrantList = patch(ctx, &endpoint, &json!({ "changes": changes }))?;
    let what = format!("{} {name}", args.securable_type.as_str());
    let text = format!("Updated grants.\n{}", grants_text(&what, &list.privilege_assignments));
    Ok(Output::new(text, list))
}

// ---------------------------------------------------------------------------------------------
// Lineage

/// Arguments of `get_table_lineage`.
#[schema]
pub struct GetTableLineage {
    /// The table's full name `catalog.schema.table`.
    pub table_name: String,
    /// Also list the notebooks, jobs, pipelines and queries that read or write the table
    /// (default true).
    #[serde(default)]
    pub include_entity_lineage: Option<bool>,
}

/// A table on the other end of a lineage edge.
#[schema]
pub struct LineageTable {
    /// Table name.
    pub name: String,
    /// Its catalog.
    pub catalog_name: String,
    /// Its schema.
    pub schema_name: String,
    /// `TABLE`, `VIEW`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_type: Option<String>,
    /// When data last moved along this edge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineage_timestamp: Option<String>,
}

/// One upstream or downstream entry: a table and/or the entities that moved data.
#[schema]
pub struct LineageEntry {
    /// The related table, when there is one.
    #[serde(rename = "tableInfo", default, skip_serializing_if = "Option::is_none")]
    pub table_info: Option<LineageTable>,
    /// Notebooks (`notebook_id`).
    #[serde(rename = "notebookInfos", default, skip_serializing_if = "Vec::is_empty")]
    pub notebook_infos: Vec<Value>,
    /// Jobs (`job_id`).
    #[serde(rename = "jobInfos", default, skip_serializing_if = "Vec::is_empty")]
    pub job_infos: Vec<Value>,
    /// Pipelines (`pipeline_id`).
    #[serde(rename = "pipelineInfos", default, skip_serializing_if = "Vec::is_empty")]
    pub pipeline_infos: Vec<Value>,
    /// SQL queries (`query_id`).
    #[serde(rename = "queryInfos", default, skip_serializing_if = "Vec::is_empty")]
    pub query_infos: Vec<Value>,
}

impl LineageEntry {
    fn line(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = &self.table_info {
            let kind = t.table_type.as_deref().map_or_else(String::new, |k| format!(" ({k})"));
            let when = t.lineage_timestamp.as_deref().map_or_else(String::new, |w| format!(", last {w}"));
            parts.push(format!("{}.{}.{}{kind}{when}", t.catalog_name, t.schema_name, t.name));
        }
        let mut via = Vec::new();
        for (infos, kind, key) in [
            (&self.notebook_infos, "notebook", "notebook_id"),
            (&self.job_infos, "job", "job_id"),
            (&self.pipeline_infos, "pipeline", "pipeline_id"),
            (&self.query_infos, "query", "query_id"),
        ] {
            for info in infos {
                let id = match &info[key] {
                    Value::String(s) => s.clone(),
                    Value::Null => "?".to_string(),
                    other => other.to_string(),
                };
                via.push(format!("{kind} {id}"));
            }
        }
        match (parts.is_empty(), via.is_empty()) {
            (true, _) => via.join(", "),
            (false, true) => parts.join(""),
            (false, false) => format!("{} via {}", parts.join(""), via.join(", ")),
        }
    }
}

/// A table's lineage.
#[schema]
pub struct TableLineage {
    /// What the table is made from.
    #[serde(default)]
    pub upstreams: Vec<Json<LineageEntry>>,
    /// What is made from the table, or reads it.
    #[serde(default)]
    pub downstreams: Vec<Json<LineageEntry>>,
}

/// Show a table's lineage: the tables it is derived from (upstream) and the tables derived from
/// it (downstream), with the notebooks, jobs, pipelines and queries that read or write it.
/// Only objects you can see are shown.
#[tool(read_only, idempotent, title = "Get table lineage")]
pub fn get_table_lineage(ctx: &Context, args: GetTableLineage) -> Result<Output<TableLineage>> {
    let name = full_name(&args.table_name, 3, "table_name")?;
    let request = Request::new(Method::Get, "/api/2.0/lineage-tracking/table-lineage")
        .query("table_name", &name)
        .query("include_entity_lineage", args.include_entity_lineage.unwrap_or(true));
    let lineage: TableLineage = ctx.send(request)?.json()?;
    let side = |title: &str, entries: &[Json<LineageEntry>]| -> Result<String> {
        if entries.is_empty() {
            return Ok(format!("{title}: none"));
        }
        let lines = entries.iter().map(|e| e.get().map(|e| format!("  {}", e.line()))).collect::<Result<Vec<_>>>()?;
        Ok(format!("{title}:\n{}", lines.join("\n")))
    };
    let text = format!(
        "Lineage of {name}\n{}\n{}",
        side("Upstream (read from)", &lineage.upstreams)?,
        side("Downstream (written to or read by)", &lineage.downstreams)?
    );
    Ok(Output::new(text, lineage))
}
