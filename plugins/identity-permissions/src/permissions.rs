//! Object permissions (the Permissions API): read an object's access control list, replace it,
//! add to it, and list the levels an object type has.

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request, segment};

/// The kinds of object whose permissions these tools manage.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ObjectType {
    /// A cluster, by cluster id. Levels: CAN_ATTACH_TO, CAN_RESTART, CAN_MANAGE.
    Cluster,
    /// A job, by job id. Levels: CAN_VIEW, CAN_MANAGE_RUN, IS_OWNER, CAN_MANAGE.
    Job,
    /// A pipeline, by pipeline id. Levels: CAN_VIEW, CAN_RUN, CAN_MANAGE, IS_OWNER.
    Pipeline,
    /// A notebook, by workspace path or object id. Levels: CAN_READ, CAN_RUN, CAN_EDIT, CAN_MANAGE.
    Notebook,
    /// A workspace folder, by path or object id; applies to everything inside. Levels as notebooks.
    Directory,
    /// A SQL warehouse, by warehouse id. Levels: CAN_VIEW, CAN_USE, CAN_MONITOR, CAN_MANAGE, IS_OWNER.
    Warehouse,
    /// A model serving endpoint, by endpoint id (not its name). Levels: CAN_VIEW, CAN_QUERY, CAN_MANAGE.
    ServingEndpoint,
    /// An instance pool, by instance pool id. Levels: CAN_ATTACH_TO, CAN_MANAGE.
    InstancePool,
    /// A cluster policy, by policy id. Level: CAN_USE (who may create clusters with it); only
    /// workspace admins change it.
    ClusterPolicy,
    /// An MLflow experiment, by experiment id. Levels: CAN_READ, CAN_EDIT, CAN_MANAGE.
    Experiment,
    /// A vector search endpoint, by endpoint id (not its name). Levels: CAN_USE, CAN_MANAGE.
    VectorSearchEndpoint,
    /// A Genie space, by space id. Levels: CAN_VIEW, CAN_RUN (ask questions), CAN_EDIT, CAN_MANAGE.
    GenieSpace,
}

impl ObjectType {
    /// The path segment of the Permissions API.
    fn api_name(self) -> &'static str {
        match self {
            Self::Cluster => "clusters",
            Self::Job => "jobs",
            Self::Pipeline => "pipelines",
            Self::Notebook => "notebooks",
            Self::Directory => "directories",
            Self::Warehouse => "warehouses",
            Self::ServingEndpoint => "serving-endpoints",
            Self::InstancePool => "instance-pools",
            Self::ClusterPolicy => "cluster-policies",
            Self::Experiment => "experiments",
            Self::VectorSearchEndpoint => "vector-search-endpoints",
            Self::GenieSpace => "genie",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Cluster => "cluster",
            Self::Job => "job",
            Self::Pipeline => "pipeline",
            Self::Notebook => "notebook",
            Self::Directory => "folder",
            Self::Warehouse => "warehouse",
            Self::ServingEndpoint => "serving endpoint",
            Self::InstancePool => "instance pool",
            Self::ClusterPolicy => "cluster policy",
            Self::Experiment => "experiment",
            Self::VectorSearchEndpoint => "vector search endpoint",
            Self::GenieSpace => "Genie space",
        }
    }

    /// Notebooks and folders are also named by path.
    fn in_workspace_tree(self) -> bool {
        matches!(self, Self::Notebook | Self::Directory)
    }
}

/// Arguments naming one object.
#[schema]
pub struct ObjectRef {
    /// What kind of object.
    pub object_type: ObjectType,
    /// Its id: cluster id, job id, pipeline id, warehouse id, serving endpoint id, or a notebook's
    /// or folder's object id. For notebooks and folders, `path` may be given instead.
    #[serde(default)]
    pub object_id: Option<String>,
    /// For notebooks and folders: the workspace path, e.g. `/Users/me@example.com/etl`.
    #[serde(default)]
    pub path: Option<String>,
}

impl ObjectRef {
    /// The object's id in the Permissions API, looking a path up in the workspace tree.
    fn resolve(&self, ctx: &Context) -> Result<String> {
        match (&self.object_id, &self.path) {
            (Some(id), None) if !id.trim().is_empty() => Ok(id.clone()),
            (None, Some(path)) if self.object_type.in_workspace_tree() => {
                #[databricks_mcp_sdk::schema]
                struct Status {
                    object_id: i64,
                    object_type: String,
                }
                let status: Status = ctx.get("/api/2.0/workspace/get-status", &[("path", path.clone())])?;
                let is_folder = matches!(status.object_type.as_str(), "DIRECTORY" | "REPO");
                if is_folder != (self.object_type == ObjectType::Directory) {
                    return Err(ToolError::invalid(format!(
                        "{path} is a {}, not a {}; use object_type {}",
                        status.object_type.to_lowercase(),
                        self.object_type.noun(),
                        if is_folder { "directory" } else { "notebook" }
                    )));
                }
                Ok(status.object_id.to_string())
            }
            (None, Some(_)) => {
                Err(ToolError::invalid("path applies to notebooks and directories only; give object_id"))
            }
            _ => Err(ToolError::invalid("give exactly one of object_id or path")),
        }
    }

    fn api_path(&self, id: &str) -> String {
        format!("/api/2.0/permissions/{}/{}", self.object_type.api_name(), segment(id))
    }
}

/// One level a principal holds.
#[schema]
#[derive(Debug, Clone)]
pub struct Permission {
    /// The level, e.g. `CAN_MANAGE`.
    pub permission_level: String,
    /// Whether it comes from a parent object (a folder, or the object type's root for admins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherited: Option<bool>,
    /// Where an inherited level comes from, e.g. `/clusters/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherited_from_object: Option<Vec<String>>,
}

/// One principal's entry of an access control list.
#[schema]
#[derive(Debug, Clone)]
pub struct AccessControl {
    /// A user, by e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// A group, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// A service principal, by application id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_principal_name: Option<String>,
    /// The principal's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Every level it holds, direct and inherited.
    #[serde(default)]
    pub all_permissions: Vec<Permission>,
}

impl AccessControl {
    fn who(&self) -> String {
        match (&self.user_name, &self.group_name, &self.service_principal_name) {
            (Some(user), _, _) => format!("user {user}"),
            (_, Some(group), _) => format!("group {group}"),
            (_, _, Some(sp)) => match &self.display_name {
                Some(name) => format!("service principal {name} ({sp})"),
                None => format!("service principal {sp}"),
            },
            _ => "unknown principal".to_string(),
        }
    }

    fn line(&self) -> String {
        let levels: Vec<String> = self
            .all_permissions
            .iter()
            .map(|p| match (&p.inherited, &p.inherited_from_object) {
                (Some(true), Some(from)) if !from.is_empty() => {
                    format!("{} (inherited from {})", p.permission_level, from.join(", "))
                }
                (Some(true), _) => format!("{} (inherited)", p.permission_level),
                _ => p.permission_level.clone(),
            })
            .collect();
        format!("{}: {}", self.who(), levels.join(", "))
    }
}

/// An object's permissions, as the workspace returns them.
#[schema]
pub struct ObjectPermissions {
    /// The object, e.g. `/clusters/0101-000000-abcdefgh`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// The object type, e.g. `cluster`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_type: Option<String>,
    /// Who holds which levels.
    #[serde(default)]
    pub access_control_list: Vec<AccessControl>,
}

fn describe(
    object: &ObjectRef,
    id: &str,
    raw: Json<ObjectPermissions>,
    heading: &str,
) -> Result<Output<Json<ObjectPermissions>>> {
    let acl = raw.get()?;
    let mut lines = vec![format!("{heading} {} {id}:", object.object_type.noun())];
    lines.extend(acl.access_control_list.iter().map(|a| format!("  {}", a.line())));
    Ok(Output::new(lines.join("\n"), raw))
}

/// Show who may do what with an object (cluster, job, pipeline, notebook, folder, warehouse,
/// serving endpoint, instance pool, cluster policy, MLflow experiment, vector search endpoint or
/// Genie space): every user, group and service principal with its levels, direct and inherited
/// (admins inherit management of everything).
#[tool(read_only, idempotent, title = "Get object permissions")]
pub(crate) fn get_object_permissions(ctx: &Context, args: ObjectRef) -> Result<Output<Json<ObjectPermissions>>> {
    let id = args.resolve(ctx)?;
    let raw: Json<ObjectPermissions> = ctx.get(&args.api_path(&id), &[])?;
    describe(&args, &id, raw, "Permissions of")
}

/// One grant to make.
#[schema]
#[derive(Debug, Clone)]
pub struct Grant {
    /// A user, by e-mail.
    #[serde(default)]
    pub user_name: Option<String>,
    /// A group, by name (e.g. `users` for everyone).
    #[serde(default)]
    pub group_name: Option<String>,
    /// A service principal, by application id.
    #[serde(default)]
    pub service_principal_name: Option<String>,
    /// The level, one of the object type's levels (see `get_permission_levels`).
    pub permission_level: String,
}

/// Arguments of `set_object_permissions` and `update_object_permissions`.
#[schema]
pub struct ChangePermissions {
    /// The object.
    #[serde(flatten)]
    pub object: ObjectRef,
    /// The grants: each names exactly one of user_name, group_name or service_principal_name.
    pub access_control_list: Vec<Grant>,
}

fn body(grants: &[Grant]) -> Result<Value> {
    let mut entries = Vec::new();
    for grant in grants {
        let who = [
            ("user_name", &grant.user_name),
            ("group_name", &grant.group_name),
            ("service_principal_name", &grant.service_principal_name),
        ];
        let named: Vec<(&str, &String)> = who.iter().filter_map(|(k, v)| v.as_ref().map(|v| (*k, v))).collect();
        let [(key, name)] = named.as_slice() else {
            return Err(ToolError::invalid(
                "each grant names exactly one of user_name, group_name or service_principal_name",
            ));
        };
        if grant.permission_level.trim().is_empty() {
            return Err(ToolError::invalid("each grant needs a permission_level"));
        }
        entries.push(json!({ *key: name, "permission_level": grant.permission_level }));
    }
    Ok(json!({ "access_control_list": entries }))
}

fn change(
    ctx: &Context,
    args: ChangePermissions,
    method: Method,
    heading: &str,
) -> Result<Output<Json<ObjectPermissions>>> {
    let id = args.object.resolve(ctx)?;
    let request = Request::new(method, args.object.api_path(&id)).json(&body(&args.access_control_list)?)?;
    let raw: Json<ObjectPermissions> = ctx.send(request)?.json()?;
    describe(&args.object, &id, raw, heading)
}

/// Replace an object's direct permissions with exactly these grants: every direct grant not
/// listed is removed (the owner and the admins keep theirs). Use `update_object_permissions` to
/// add a grant without touching the others. Returns the resulting permissions.
#[tool(destructive, idempotent, title = "Set object permissions")]
pub(crate) fn set_object_permissions(
    ctx: &Context,
    args: ChangePermissions,
) -> Result<Output<Json<ObjectPermissions>>> {
    change(ctx, args, Method::Put, "Permissions replaced; now on")
}

/// Add grants to an object's permissions, keeping every other grant: e.g. let a group run a job
/// or a user attach to a cluster. A principal already holding a level gets the new one as well.
/// Returns the resulting permissions.
#[tool(idempotent, title = "Update object permissions")]
pub(crate) fn update_object_permissions(
    ctx: &Context,
    args: ChangePermissions,
) -> Result<Output<Json<ObjectPermissions>>> {
    if args.access_control_list.is_empty() {
        return Err(ToolError::invalid("give at least one grant in access_control_list"));
    }
    change(ctx, args, Method::Patch, "Permissions updated; now on")
}

/// A level an object type has.
#[schema]
pub struct Level {
    /// The level, e.g. `CAN_RESTART`.
    pub permission_level: String,
    /// What it allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The levels of an object.
#[schema]
pub struct Levels {
    /// Weakest first.
    pub permission_levels: Vec<Level>,
}

/// List the permission levels an object can grant (e.g. for a cluster: CAN_ATTACH_TO,
/// CAN_RESTART, CAN_MANAGE), with what each allows.
#[tool(read_only, idempotent, title = "Get permission levels")]
pub(crate) fn get_permission_levels(ctx: &Context, args: ObjectRef) -> Result<Output<Levels>> {
    let id = args.resolve(ctx)?;
    let levels: Levels = ctx.get(&format!("{}/permissionLevels", args.api_path(&id)), &[])?;
    let mut lines = vec![format!("Levels of {} {id}:", args.object_type.noun())];
    lines.extend(levels.permission_levels.iter().map(|l| match &l.description {
        Some(d) => format!("  {}: {d}", l.permission_level),
        None => format!("  {}", l.permission_level),
    }));
    Ok(Output::new(lines.join("\n"), levels))
}
