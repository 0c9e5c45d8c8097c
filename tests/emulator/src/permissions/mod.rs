//! The Permissions API (`iam.PermissionsAPI`) under `/api/2.0/permissions/{type}/{id}`: read,
//! replace (`PUT`) and merge (`PATCH`) an object's access control list, and list its levels.
//!
//! The rules live in [`crate::acl`]; this module only maps a `{type}` path segment to the family
//! that owns such objects (see [`object`]). A family adds its objects by adding an arm there, or,
//! without touching this module, by listing its kind in [`acl::REGISTERED_KINDS`] and calling
//! [`acl::Acls::register`] when it creates an object (serving endpoints do).
//! Reading needs the weakest level on the object, changing it the strongest (for cluster
//! policies, whose one level is `CAN_USE`, being an admin).
//!
//! Served types: `clusters`, `warehouses`, `jobs`, `pipelines`, `instance-pools`,
//! `cluster-policies`, `experiments`, `vector-search-endpoints` (by endpoint id), `genie` (spaces),
//! `notebooks` and `directories` (workspace object ids), and the registered kinds. Grants on notebooks and directories are
//! kept and reported; the Workspace API itself still decides access by its default folder
//! permissions (see `workspace_tree::access`), which also let a caller manage the ACL of anything
//! in their home folder or `/Shared`.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
};
use serde::Deserialize;
use serde_json::Value;

use crate::{
    acl::{self, Grantee, ObjectKind},
    error::{ApiError, ApiResult},
    extract::ApiJson,
    identity::{ADMINS_GROUP, Caller},
    workspace::{AppState, Workspace},
};

/// The permissions endpoints, to be nested under `/api/2.0/permissions`.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/{object_type}/{object_id}", get(get_permissions).put(set_permissions).patch(update_permissions))
        .route("/{object_type}/{object_id}/permissionLevels", get(permission_levels))
}

/// The object a path names, as the Permissions API sees it.
struct Target {
    kind: &'static ObjectKind,
    /// Who holds the strongest level by owning it.
    owner: Option<String>,
    /// The caller manages it by the workspace tree's default folder permissions (home folder,
    /// `/Shared`), whatever the grants say.
    managed_by_default: bool,
    /// Only admins change its grants, whatever level the caller holds: the type's strongest
    /// level is not management (cluster policies have one level, `CAN_USE`).
    changed_by_admins_only: bool,
}

impl Target {
    fn owned(kind: &'static ObjectKind, owner: String) -> Self {
        Target { kind, owner: Some(owner), managed_by_default: false, changed_by_admins_only: false }
    }
}

fn missing(what: &str, id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", format!("{what} {id} does not exist."))
}

/// The object a path names: its kind and owner, or the family's not-found error.
fn object(ws: &mut Workspace, object_type: &str, id: &str, caller: &Caller, app: &AppState) -> ApiResult<Target> {
    match object_type {
        "clusters" => match ws.clusters.get(id, app.clock.moment()) {
            Ok(cluster) => Ok(Target::owned(&acl::CLUSTER, cluster.creator.clone())),
            Err(_) => Err(missing("Cluster", id)),
        },
        "warehouses" => match ws.sql.warehouses.get(id, app.clock.now_ms()) {
            Ok(w) => Ok(Target::owned(&acl::WAREHOUSE, w.creator_name.clone())),
            Err(e) => Err(e),
        },
        "jobs" => match id.parse::<i64>().ok().and_then(|job_id| ws.jobs.job(job_id).ok()) {
            Some(job) => Ok(Target::owned(&crate::jobs::JOB, job.creator.clone())),
            None => Err(missing("Job", id)),
        },
        "experiments" => match ws.mlflow.experiments.get(id) {
            Some(experiment) => Ok(Target::owned(&crate::mlflow::EXPERIMENT, experiment.creator.clone())),
            None => Err(missing("Experiment", id)),
        },
        "vector-search-endpoints" => match ws.vector_search.endpoints.values().find(|e| e.id == id) {
            Some(endpoint) => Ok(Target::owned(&crate::vector_search::VS_ENDPOINT, endpoint.creator.clone())),
            None => Err(missing("Vector search endpoint", id)),
        },
        "genie" => match ws.genie.spaces.get(id) {
            Some(space) => Ok(Target::owned(&crate::genie::GENIE_SPACE, space.creator.clone())),
            None => Err(missing("Genie space", id)),
        },
        // No owner: admins create policies, and admins use every policy anyway.
        "cluster-policies" if ws.compute_policy.has_policy(id) => Ok(Target {
            kind: &crate::compute_policy::CLUSTER_POLICY,
            owner: None,
            managed_by_default: false,
            changed_by_admins_only: true,
        }),
        "cluster-policies" => Err(missing("Cluster policy", id)),
        "instance-pools" => match ws.compute_policy.pool_owner(id) {
            Some(owner) => Ok(Target::owned(&crate::compute_policy::INSTANCE_POOL, owner.to_owned())),
            None => Err(missing("Instance pool", id)),
        },
        "pipelines" => match crate::pipelines::owner_of(&mut ws.pipelines, id, app.clock.moment()) {
            Some(owner) => Ok(Target::owned(&crate::pipelines::access::PIPELINE, owner)),
            None => Err(crate::pipelines::not_found(id)),
        },
        "notebooks" | "directories" => {
            let (kind, noun) =
                if object_type == "notebooks" { (&acl::NOTEBOOK, "Notebook") } else { (&acl::DIRECTORY, "Directory") };
            let found = id.parse::<i64>().ok().and_then(|object_id| ws.workspace_tree.by_id(object_id));
            let Some((path, object)) = found else { return Err(missing(noun, id)) };
            let is_folder = object.kind.is_folder();
            if is_folder != (object_type == "directories") {
                return Err(ApiError::invalid_parameter(format!(
                    "Object {id} ({path}) is a {}, not a {}.",
                    object.kind.as_str().to_lowercase(),
                    kind.object_type
                )));
            }
            // Whoever's home folder holds it owns it, as the service shows the creator.
            let owner = path.strip_prefix("/Users/").and_then(|rest| rest.split('/').next()).map(str::to_owned);
            let managed_by_default =
                crate::workspace_tree::access::access(caller, path) == crate::workspace_tree::access::Access::Manage;
            Ok(Target { kind, owner, managed_by_default, changed_by_admins_only: false })
        }
        other => {
            if let Some(kind) = acl::REGISTERED_KINDS.iter().find(|k| k.api_name == other) {
                return match ws.acls.registered_owner(kind, id) {
                    Some(owner) => Ok(Target::owned(kind, owner.to_owned())),
                    None => Err(missing(kind.object_type, id)),
                };
            }
            Err(ApiError::invalid_parameter(format!("Object type '{other}' is not supported.")))
        }
    }
}

/// `Ok` if the caller holds `level` on the object.
fn authorize(ws: &Workspace, target: &Target, id: &str, caller: &Caller, level: &str) -> ApiResult<()> {
    if target.managed_by_default {
        return Ok(());
    }
    ws.acls.check(target.kind, id, caller, target.owner.as_deref(), level)
}

type Ids = Path<(String, String)>;

async fn get_permissions(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Path((ty, id)): Ids,
) -> ApiResult<Json<Value>> {
    let mut ws = app.workspace();
    let target = object(&mut ws, &ty, &id, &caller, &app)?;
    authorize(&ws, &target, &id, &caller, target.kind.levels[0].0)?;
    Ok(Json(ws.acls.render(target.kind, &id, target.owner.as_deref(), &ws.identity)))
}

async fn permission_levels(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Path((ty, id)): Ids,
) -> ApiResult<Json<Value>> {
    let mut ws = app.workspace();
    let target = object(&mut ws, &ty, &id, &caller, &app)?;
    authorize(&ws, &target, &id, &caller, target.kind.levels[0].0)?;
    Ok(Json(target.kind.levels_json()))
}

/// One entry of a `PUT`/`PATCH` body.
#[derive(Debug, Deserialize)]
struct AccessControlRequest {
    user_name: Option<String>,
    group_name: Option<String>,
    service_principal_name: Option<String>,
    permission_level: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AclBody {
    access_control_list: Vec<AccessControlRequest>,
}

async fn set_permissions(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Path((ty, id)): Ids,
    ApiJson(body): ApiJson<AclBody>,
) -> ApiResult<Json<Value>> {
    change(&app, &caller, &ty, &id, body, true)
}

async fn update_permissions(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Path((ty, id)): Ids,
    ApiJson(body): ApiJson<AclBody>,
) -> ApiResult<Json<Value>> {
    change(&app, &caller, &ty, &id, body, false)
}

/// `PUT` replaces the direct grants, `PATCH` adds to them; both answer the resulting list.
fn change(app: &AppState, caller: &Caller, ty: &str, id: &str, body: AclBody, replace: bool) -> ApiResult<Json<Value>> {
    let mut ws = app.workspace();
    let target = object(&mut ws, ty, id, caller, app)?;
    let kind = target.kind;
    authorize(&ws, &target, id, caller, kind.levels[kind.levels.len() - 1].0)?;
    if target.changed_by_admins_only && !caller.is_admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            format!(
                "Only workspace admins can change the permissions of a {}. {} is not an admin.",
                kind.object_type, caller.user_name
            ),
        ));
    }
    let mut grants = Vec::new();
    for entry in body.access_control_list {
        let level = entry.permission_level.ok_or_else(|| ApiError::missing_field("permission_level"))?;
        let rank = kind.rank(&level).ok_or_else(|| {
            let valid: Vec<&str> = kind.levels.iter().map(|l| l.0).collect();
            ApiError::invalid_parameter(format!(
                "Permission level {level} is not supported for {}. Supported levels: {}",
                kind.object_type,
                valid.join(", ")
            ))
        })?;
        let who = match (entry.user_name, entry.group_name, entry.service_principal_name) {
            (Some(user), None, None) => match ws.identity.by_user_name(&user) {
                Some(p) if !ws.identity.caller(p).is_service_principal => Grantee::User(p.user_name.clone()),
                _ => return Err(ApiError::invalid_parameter(format!("Principal: UserName({user}) does not exist"))),
            },
            (None, Some(group), None) => {
                if ws.identity.group(&group).is_none() {
                    return Err(ApiError::invalid_parameter(format!("Principal: GroupName({group}) does not exist")));
                }
                // Admins always manage everything; the service refuses to change that.
                if group == ADMINS_GROUP {
                    if rank + 1 == kind.levels.len() {
                        continue;
                    }
                    return Err(ApiError::invalid_parameter(format!(
                        "Permissions of group {ADMINS_GROUP} on a {} cannot be changed",
                        kind.object_type
                    )));
                }
                Grantee::Group(group)
            }
            (None, None, Some(app_id)) => match ws.identity.by_user_name(&app_id) {
                Some(p) if ws.identity.caller(p).is_service_principal => Grantee::ServicePrincipal(p.user_name.clone()),
                _ => {
                    return Err(ApiError::invalid_parameter(format!(
                        "Principal: ServicePrincipalName({app_id}) does not exist"
                    )));
                }
            },
            _ => {
                return Err(ApiError::invalid_parameter(
                    "Each access control entry needs exactly one of user_name, group_name, service_principal_name",
                ));
            }
        };
        grants.push((who, kind.levels[rank].0));
    }
    if replace {
        ws.acls.replace(kind, id, grants);
    } else {
        for (who, level) in grants {
            ws.acls.grant(kind, id, who, level);
        }
    }
    Ok(Json(ws.acls.render(kind, id, target.owner.as_deref(), &ws.identity)))
}
