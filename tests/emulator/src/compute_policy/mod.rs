//! Compute governance: instance pools (`/api/2.0/instance-pools`), cluster policies
//! (`/api/2.0/policies/clusters`), policy families (`/api/2.0/policy-families`, read-only) and
//! global init scripts (`/api/2.0/global-init-scripts`).
//!
//! Who may do what, as on the service:
//! - instance pools: anyone lists and reads; creating needs the `allow-instance-pool-create`
//!   entitlement (admins have it); editing and deleting needs `CAN_MANAGE` (the creator, admins,
//!   or a grant through `/api/2.0/permissions/instance-pools/{id}`);
//! - cluster policies: anyone lists and reads; only admins create, edit and delete;
//! - global init scripts: admins only, reading included.
//!
//! Modules: `pools`, `policies` (with families) and `init_scripts` hold each resource's rules and
//! handlers; `seed` the objects a fresh emulator starts with.

mod init_scripts;
mod policies;
mod pools;
pub(crate) mod seed;

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Router,
    http::StatusCode,
    routing::{get, post},
};
use rand::Rng as _;
use serde_json::{Map, Value};

pub(crate) use policies::CLUSTER_POLICY;
pub(crate) use pools::INSTANCE_POOL;

use crate::{
    error::{ApiError, ApiResult},
    identity::Caller,
    workspace::AppState,
};

/// The compute-governance objects of one workspace.
#[derive(Debug, Default)]
pub(crate) struct ComputePolicy {
    pools: BTreeMap<String, pools::Pool>,
    policies: BTreeMap<String, policies::Policy>,
    scripts: BTreeMap<String, init_scripts::Script>,
}

impl ComputePolicy {
    /// An instance pool's creator, for the Permissions API.
    pub fn pool_owner(&self, id: &str) -> Option<&str> {
        self.pools.get(id).map(|p| p.creator.as_str())
    }

    /// Whether a cluster policy exists, for the Permissions API.
    pub fn has_policy(&self, id: &str) -> bool {
        self.policies.contains_key(id)
    }
}

/// The instance pool endpoints, to be nested under `/api/2.0/instance-pools`.
pub(crate) fn pools_router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/create", post(pools::create))
        .route("/edit", post(pools::edit))
        .route("/delete", post(pools::delete))
        .route("/get", get(pools::get))
        .route("/list", get(pools::list))
}

/// The cluster policy endpoints, to be nested under `/api/2.0/policies/clusters`.
pub(crate) fn policies_router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/create", post(policies::create))
        .route("/edit", post(policies::edit))
        .route("/delete", post(policies::delete))
        .route("/get", get(policies::get))
        .route("/list", get(policies::list))
}

/// The policy family endpoints, to be nested under `/api/2.0/policy-families`.
pub(crate) fn families_router() -> Router<Arc<AppState>> {
    Router::new().route("/", get(policies::list_families)).route("/{family_id}", get(policies::get_family))
}

/// The global init script endpoints, to be nested under `/api/2.0/global-init-scripts`.
pub(crate) fn init_scripts_router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(init_scripts::list).post(init_scripts::create))
        .route("/{script_id}", get(init_scripts::get).patch(init_scripts::update).delete(init_scripts::delete))
}

/// A 16-digit upper-case hex id, as policies and init scripts have.
fn hex_id() -> String {
    let mut rng = rand::rng();
    (0..16).map(|_| char::from(b"0123456789ABCDEF"[rng.random_range(0..16)])).collect()
}

/// 403 unless the caller is an admin.
fn admins_only(caller: &Caller, what: &str) -> ApiResult<()> {
    if caller.is_admin {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "PERMISSION_DENIED",
        format!("Only workspace admins can {what}. {} is not an admin.", caller.user_name),
    ))
}

/// A required non-empty string field.
fn required<'a>(body: &'a Map<String, Value>, field: &str) -> ApiResult<&'a str> {
    match body.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(ApiError::missing_field(field)),
        Some(_) => Err(ApiError::invalid_parameter(format!("Invalid value for {field}: expected a string"))),
    }
}

/// An optional string field.
fn text(body: &Map<String, Value>, field: &str) -> ApiResult<Option<String>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid_parameter(format!("Invalid value for {field}: expected a string"))),
    }
}

/// An optional non-negative integer field.
fn count(body: &Map<String, Value>, field: &str) -> ApiResult<Option<u64>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            ApiError::invalid_parameter(format!("Invalid value for {field}: expected a non-negative integer"))
        }),
    }
}

/// An optional boolean field.
fn flag(body: &Map<String, Value>, field: &str) -> ApiResult<Option<bool>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::invalid_parameter(format!("Invalid value for {field}: expected a boolean"))),
    }
}
