//! Cluster policies and the policy families they may derive from.
//!
//! A policy's `definition` is a JSON document *in a string*, as on the wire. A policy made from a
//! family takes the family's definition with `policy_family_definition_overrides` laid over it
//! (both strings of JSON objects). Names are unique. Only admins create, edit and delete.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde_json::{Map, Value, json};

use super::{admins_only, count, hex_id, required, text};
use crate::{
    acl::ObjectKind,
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    identity::Caller,
    pagination::{decode_token, page},
    workspace::AppState,
};

/// Cluster policies in the Permissions API: one level, use. Only admins change who holds it (the
/// Permissions API's `changed_by_admins_only`); admins use every policy.
pub(crate) const CLUSTER_POLICY: ObjectKind = ObjectKind {
    api_name: "cluster-policies",
    object_type: "cluster-policy",
    levels: &[("CAN_USE", "Can use the cluster policy", "Use")],
};

/// A policy family: a definition curated by Databricks, fixed.
pub(crate) struct Family {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub definition: &'static str,
}

/// The families every workspace has.
pub(crate) const FAMILIES: &[Family] = &[
    Family {
        id: "personal-vm",
        name: "Personal Compute",
        description: "Use with small-to-medium data or libraries like pandas and scikit-learn. Spark runs in local mode.",
        definition: r#"{"data_security_mode":{"type":"fixed","value":"SINGLE_USER","hidden":true},"spark_conf.spark.databricks.cluster.profile":{"type":"fixed","value":"singleNode","hidden":true},"num_workers":{"type":"fixed","value":0,"hidden":true},"autotermination_minutes":{"type":"fixed","value":4320,"hidden":true}}"#,
    },
    Family {
        id: "shared-data-science",
        name: "Shared Compute",
        description: "Use for shared, multi-user data science with Unity Catalog.",
        definition: r#"{"data_security_mode":{"type":"fixed","value":"USER_ISOLATION","hidden":true},"autotermination_minutes":{"type":"range","maxValue":120,"defaultValue":60}}"#,
    },
    Family {
        id: "power-user",
        name: "Power User Compute",
        description: "Use for larger, multi-node clusters for a single user.",
        definition: r#"{"data_security_mode":{"type":"fixed","value":"SINGLE_USER","hidden":true},"autoscale.max_workers":{"type":"range","maxValue":10,"defaultValue":4},"autotermination_minutes":{"type":"range","maxValue":120,"defaultValue":60}}"#,
    },
    Family {
        id: "job-cluster",
        name: "Job Compute",
        description: "Use for job clusters: compute that starts with a job run and ends with it.",
        definition: r#"{"cluster_type":{"type":"fixed","value":"job"},"num_workers":{"type":"range","maxValue":20,"defaultValue":2}}"#,
    },
];

fn family(id: &str) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.id == id)
}

/// One cluster policy.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub id: String,
    pub name: String,
    /// The effective definition (a JSON object, kept as the string clients sent or derived).
    pub definition: String,
    pub description: Option<String>,
    pub max_clusters_per_user: Option<u64>,
    pub family_id: Option<String>,
    pub family_overrides: Option<String>,
    pub creator: String,
    pub created_at: u64,
    pub is_default: bool,
}

impl Policy {
    pub fn to_json(&self) -> Value {
        let mut out = json!({
            "policy_id": self.id,
            "name": self.name,
            "definition": self.definition,
            "creator_user_name": self.creator,
            "created_at_timestamp": self.created_at,
            "is_default": self.is_default,
        });
        let optional = [
            ("description", self.description.clone().map(Value::String)),
            ("max_clusters_per_user", self.max_clusters_per_user.map(|n| json!(n))),
            ("policy_family_id", self.family_id.clone().map(Value::String)),
            ("policy_family_definition_overrides", self.family_overrides.clone().map(Value::String)),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                out[key] = value;
            }
        }
        out
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", format!("Cluster policy {id} does not exist."))
}

/// A string holding a JSON object, or the service's 400 naming the field.
fn json_object(field: &str, text: &str) -> ApiResult<Map<String, Value>> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::invalid_parameter(format!("{field} must be a JSON object in a string: {text}"))),
    }
}

/// The policy a create or edit body describes.
fn from_body(body: &Map<String, Value>, id: String, creator: &str, created_at: u64) -> ApiResult<Policy> {
    let name = required(body, "name")?.to_owned();
    if name.chars().count() > 100 {
        return Err(ApiError::invalid_parameter("Policy name must be at most 100 characters."));
    }
    let family_id = text(body, "policy_family_id")?;
    let family_overrides = text(body, "policy_family_definition_overrides")?;
    let definition = match (&family_id, text(body, "definition")?) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_parameter(
                "definition and policy_family_id cannot both be set; use policy_family_definition_overrides.",
            ));
        }
        (Some(family_id), None) => {
            let family = family(family_id)
                .ok_or_else(|| ApiError::invalid_parameter(format!("Policy family {family_id} does not exist.")))?;
            let mut definition = json_object("definition", family.definition)?;
            if let Some(overrides) = &family_overrides {
                definition.extend(json_object("policy_family_definition_overrides", overrides)?);
            }
            Value::Object(definition).to_string()
        }
        (None, Some(definition)) => {
            json_object("definition", &definition)?;
            definition
        }
        (None, None) => "{}".to_owned(),
    };
    if family_id.is_none() && family_overrides.is_some() {
        return Err(ApiError::invalid_parameter("policy_family_definition_overrides needs a policy_family_id."));
    }
    let max_clusters_per_user = count(body, "max_clusters_per_user")?;
    Ok(Policy {
        id,
        name,
        definition,
        description: text(body, "description")?,
        max_clusters_per_user,
        family_id,
        family_overrides,
        creator: creator.to_owned(),
        created_at,
        is_default: false,
    })
}

type App = State<Arc<AppState>>;
type Body = ApiJson<Map<String, Value>>;

fn check_name(policies: &std::collections::BTreeMap<String, Policy>, policy: &Policy) -> ApiResult<()> {
    match policies.values().find(|p| p.name == policy.name && p.id != policy.id) {
        Some(other) => Err(ApiError::invalid_parameter(format!(
            "Cluster policy with name {} already exists (policy {}).",
            policy.name, other.id
        ))),
        None => Ok(()),
    }
}

pub(super) async fn create(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    admins_only(&caller, "create cluster policies")?;
    let policy = from_body(&body, hex_id(), &caller.user_name, app.clock.now_ms())?;
    let mut ws = app.workspace();
    check_name(&ws.compute_policy.policies, &policy)?;
    let id = policy.id.clone();
    ws.compute_policy.policies.insert(id.clone(), policy);
    Ok(Json(json!({ "policy_id": id })))
}

pub(super) async fn edit(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let id = required(&body, "policy_id")?.to_owned();
    let mut ws = app.workspace();
    let current = ws.compute_policy.policies.get(&id).ok_or_else(|| not_found(&id))?;
    admins_only(&caller, "edit cluster policies")?;
    let mut policy = from_body(&body, id.clone(), &current.creator, current.created_at)?;
    policy.is_default = current.is_default;
    check_name(&ws.compute_policy.policies, &policy)?;
    ws.compute_policy.policies.insert(id, policy);
    Ok(Json(json!({})))
}

pub(super) async fn delete(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    let id = required(&body, "policy_id")?.to_owned();
    let mut ws = app.workspace();
    if !ws.compute_policy.policies.contains_key(&id) {
        return Err(not_found(&id));
    }
    admins_only(&caller, "delete cluster policies")?;
    ws.compute_policy.policies.remove(&id);
    ws.acls.forget(&CLUSTER_POLICY, &id);
    Ok(Json(json!({})))
}

pub(super) async fn get(State(app): App, params: Params) -> ApiResult<Json<Value>> {
    let id = params.required("policy_id")?;
    let ws = app.workspace();
    Ok(Json(ws.compute_policy.policies.get(id).ok_or_else(|| not_found(id))?.to_json()))
}

/// `{policies: [...]}`, one response, by `sort_column` (`POLICY_CREATION_TIME` or `POLICY_NAME`,
/// the default) and `sort_order` (`ASC` default, `DESC`).
pub(super) async fn list(State(app): App, params: Params) -> ApiResult<Json<Value>> {
    let by_time = match params.get("sort_column").unwrap_or("POLICY_NAME") {
        "POLICY_NAME" => false,
        "POLICY_CREATION_TIME" => true,
        other => return Err(ApiError::invalid_parameter(format!("Invalid sort_column: {other}"))),
    };
    let descending = match params.get("sort_order").unwrap_or("ASC") {
        "ASC" => false,
        "DESC" => true,
        other => return Err(ApiError::invalid_parameter(format!("Invalid sort_order: {other}"))),
    };
    let ws = app.workspace();
    let mut policies: Vec<&Policy> = ws.compute_policy.policies.values().collect();
    policies.sort_by(|a, b| {
        let order =
            if by_time { a.created_at.cmp(&b.created_at) } else { a.name.to_lowercase().cmp(&b.name.to_lowercase()) };
        if descending { order.reverse() } else { order }
    });
    if policies.is_empty() {
        return Ok(Json(json!({})));
    }
    Ok(Json(json!({ "policies": policies.iter().map(|p| p.to_json()).collect::<Vec<_>>() })))
}

fn family_json(f: &Family) -> Value {
    json!({"policy_family_id": f.id, "name": f.name, "description": f.description, "definition": f.definition})
}

/// `{policy_families, next_page_token?}`, `max_results` at most 100 (default 20).
pub(super) async fn list_families(params: Params) -> ApiResult<Json<Value>> {
    let size = match params.parse::<usize>("max_results")? {
        None | Some(0) => 20,
        Some(n) if n > 100 => {
            return Err(ApiError::invalid_parameter(format!("max_results must be at most 100, got {n}.")));
        }
        Some(n) => n,
    };
    let offset = decode_token(params.get("page_token").unwrap_or_default())?;
    let page = page(FAMILIES.iter().collect(), offset, size);
    let mut out = json!({ "policy_families": page.items.iter().map(|f| family_json(f)).collect::<Vec<_>>() });
    if let Some(token) = page.next_page_token {
        out["next_page_token"] = json!(token);
    }
    Ok(Json(out))
}

pub(super) async fn get_family(Path(id): Path<String>) -> ApiResult<Json<Value>> {
    family(&id).map(|f| Json(family_json(f))).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", format!("Policy family {id} does not exist."))
    })
}

/// A policy as the seed makes it.
pub(super) fn seeded(body: Value, id: &str, creator: &str, created_at: u64, is_default: bool) -> Policy {
    let Value::Object(body) = body else { unreachable!("seed bodies are objects") };
    let mut policy = from_body(&body, id.to_owned(), creator, created_at)
        .unwrap_or_else(|e| panic!("seed policy {id}: {}", e.message));
    policy.is_default = is_default;
    policy
}
