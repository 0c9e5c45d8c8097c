//! Instance pools: idle cloud instances kept ready so clusters start fast. A pool is ACTIVE from
//! creation; it keeps `min_idle_instances` idle (its stats say so) and never grows past
//! `max_capacity`. Editing may change the name, sizes, auto-termination and tags, never the node
//! type. Deleting removes it from the list; `get` then answers 404.

use std::sync::Arc;

use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Map, Value, json};

use super::{count, flag, required};
use crate::{
    acl::ObjectKind,
    clusters,
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    identity::Caller,
    workspace::AppState,
};

/// Instance pools in the Permissions API: attach, manage.
pub(crate) const INSTANCE_POOL: ObjectKind = ObjectKind {
    api_name: "instance-pools",
    object_type: "instance-pool",
    levels: &[
        ("CAN_ATTACH_TO", "Can attach clusters to the instance pool", "Attach"),
        ("CAN_MANAGE", "Can manage the instance pool", "Manage"),
    ],
};

/// Fields kept as given (cloud attributes and the like), besides those the rules look at.
const PASSED_THROUGH: &[&str] =
    &["aws_attributes", "azure_attributes", "gcp_attributes", "disk_spec", "preloaded_docker_images"];

/// One instance pool.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    pub id: String,
    pub name: String,
    pub node_type_id: String,
    pub min_idle: u64,
    pub max_capacity: Option<u64>,
    pub idle_minutes: u64,
    pub custom_tags: Map<String, Value>,
    pub preloaded_spark_versions: Vec<String>,
    pub enable_elastic_disk: bool,
    pub extra: Map<String, Value>,
    pub creator: String,
}

impl Pool {
    /// `GetInstancePool` / `InstancePoolAndStats`.
    pub fn to_json(&self) -> Value {
        let mut out = json!({
            "instance_pool_id": self.id,
            "instance_pool_name": self.name,
            "node_type_id": self.node_type_id,
            "min_idle_instances": self.min_idle,
            "idle_instance_autotermination_minutes": self.idle_minutes,
            "enable_elastic_disk": self.enable_elastic_disk,
            "state": "ACTIVE",
            "default_tags": {
                "Vendor": "Databricks",
                "DatabricksInstancePoolCreatorId": self.creator,
                "DatabricksInstancePoolId": self.id,
            },
            "stats": {"used_count": 0, "idle_count": self.min_idle, "pending_used_count": 0, "pending_idle_count": 0},
        });
        if let Some(max) = self.max_capacity {
            out["max_capacity"] = json!(max);
        }
        if !self.custom_tags.is_empty() {
            out["custom_tags"] = Value::Object(self.custom_tags.clone());
        }
        if !self.preloaded_spark_versions.is_empty() {
            out["preloaded_spark_versions"] = json!(self.preloaded_spark_versions);
        }
        if let Value::Object(map) = &mut out {
            map.extend(self.extra.clone());
        }
        out
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
        format!("Can't find an instance pool with id: {id}."),
    )
}

/// The settings of a create or edit body, checked.
fn settings(body: &Map<String, Value>, creator: &str, id: String) -> ApiResult<Pool> {
    let name = required(body, "instance_pool_name")?.to_owned();
    let node_type_id = required(body, "node_type_id")?.to_owned();
    if !clusters::node_type_exists(&node_type_id) {
        return Err(ApiError::invalid_parameter(format!("Node type {node_type_id} is not supported.")));
    }
    let min_idle = count(body, "min_idle_instances")?.unwrap_or(0);
    let max_capacity = count(body, "max_capacity")?;
    if let Some(max) = max_capacity {
        if max == 0 {
            return Err(ApiError::invalid_parameter("max_capacity must be greater than 0."));
        }
        if min_idle > max {
            return Err(ApiError::invalid_parameter(format!(
                "min_idle_instances ({min_idle}) cannot be greater than max_capacity ({max})."
            )));
        }
    }
    let custom_tags = match body.get("custom_tags") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(tags)) if tags.values().all(Value::is_string) => tags.clone(),
        Some(_) => return Err(ApiError::invalid_parameter("Invalid value for custom_tags: expected string values")),
    };
    let preloaded_spark_versions: Vec<String> = match body.get("preloaded_spark_versions") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Some(_) => return Err(ApiError::invalid_parameter("Invalid value for preloaded_spark_versions")),
    };
    if let Some(unknown) = preloaded_spark_versions.iter().find(|v| !clusters::spark_version_exists(v)) {
        return Err(ApiError::invalid_parameter(format!("Spark version {unknown} is not supported.")));
    }
    let extra = body
        .iter()
        .filter(|(k, _)| PASSED_THROUGH.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Pool {
        id,
        name,
        node_type_id,
        min_idle,
        max_capacity,
        idle_minutes: count(body, "idle_instance_autotermination_minutes")?.unwrap_or(60),
        custom_tags,
        preloaded_spark_versions,
        enable_elastic_disk: flag(body, "enable_elastic_disk")?.unwrap_or(true),
        extra,
        creator: creator.to_owned(),
    })
}

/// A fresh id shaped like the service's: `MMDD-HHMMSS-` and a word of letters.
fn new_id(now: u64, taken: &dyn Fn(&str) -> bool) -> String {
    use rand::Rng as _;
    let (_, month, day, hour, minute, second) = crate::clock::civil_from_epoch_ms(now);
    let mut rng = rand::rng();
    loop {
        let word: String = (0..8).map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz"[rng.random_range(0..26)])).collect();
        let id = format!("{month:02}{day:02}-{hour:02}{minute:02}{second:02}-{word}");
        if !taken(&id) {
            return id;
        }
    }
}

type App = State<Arc<AppState>>;
type Body = ApiJson<Map<String, Value>>;

pub(super) async fn create(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let entitled = caller.is_admin
        || ws.identity.by_id(&caller.id).is_some_and(|p| p.entitlements.contains(&"allow-instance-pool-create"));
    if !entitled {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            format!("User {} is not authorized to create instance pools.", caller.user_name),
        ));
    }
    let pools = &mut ws.compute_policy.pools;
    let id = new_id(app.clock.now_ms(), &|id| pools.contains_key(id));
    let pool = settings(&body, &caller.user_name, id.clone())?;
    pools.insert(id.clone(), pool);
    Ok(Json(json!({ "instance_pool_id": id })))
}

fn pool_id(body: &Map<String, Value>) -> ApiResult<String> {
    required(body, "instance_pool_id").map(str::to_owned)
}

/// `Ok` if the caller manages the pool.
fn check_manage(ws: &crate::workspace::Workspace, caller: &Caller, pool: &Pool) -> ApiResult<()> {
    ws.acls.check(&INSTANCE_POOL, &pool.id, caller, Some(&pool.creator), "CAN_MANAGE")
}

pub(super) async fn edit(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let id = pool_id(&body)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let current = ws.compute_policy.pools.get(&id).ok_or_else(|| not_found(&id))?;
    check_manage(ws, &caller, current)?;
    let mut edited = settings(&body, &current.creator, id.clone())?;
    if edited.node_type_id != current.node_type_id {
        return Err(ApiError::invalid_parameter(format!(
            "The node type of instance pool {id} cannot be changed (it is {}).",
            current.node_type_id
        )));
    }
    // Cloud attributes and preloaded images are fixed at creation.
    edited.extra = current.extra.clone();
    edited.enable_elastic_disk = current.enable_elastic_disk;
    if body.get("preloaded_spark_versions").is_none() {
        edited.preloaded_spark_versions = current.preloaded_spark_versions.clone();
    }
    ws.compute_policy.pools.insert(id, edited);
    Ok(Json(json!({})))
}

pub(super) async fn delete(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let id = pool_id(&body)?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let pool = ws.compute_policy.pools.get(&id).ok_or_else(|| not_found(&id))?;
    check_manage(ws, &caller, pool)?;
    ws.compute_policy.pools.remove(&id);
    ws.acls.forget(&INSTANCE_POOL, &id);
    Ok(Json(json!({})))
}

pub(super) async fn get(State(app): App, params: Params) -> ApiResult<Json<Value>> {
    let id = params.required("instance_pool_id")?;
    let ws = app.workspace();
    Ok(Json(ws.compute_policy.pools.get(id).ok_or_else(|| not_found(id))?.to_json()))
}

/// `{instance_pools: [...]}` by name, one response; `{}` when there are none.
pub(super) async fn list(State(app): App) -> ApiResult<Json<Value>> {
    let ws = app.workspace();
    let mut pools: Vec<&Pool> = ws.compute_policy.pools.values().collect();
    pools.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    if pools.is_empty() {
        return Ok(Json(json!({})));
    }
    Ok(Json(json!({ "instance_pools": pools.iter().map(|p| p.to_json()).collect::<Vec<_>>() })))
}

/// A pool as the seed makes it.
pub(super) fn seeded(body: Value, id: &str, creator: &str) -> Pool {
    let Value::Object(body) = body else { unreachable!("seed bodies are objects") };
    settings(&body, creator, id.to_owned()).unwrap_or_else(|e| panic!("seed pool {id}: {}", e.message))
}
