//! HTTP handlers of the Secrets API.

use std::sync::Arc;

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Scope, Secrets};
use crate::{
    dbfs::{decode_base64, encode_base64},
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    identity::Caller,
    workspace::AppState,
};

type App = State<Arc<AppState>>;

const MAX_NAME: usize = 128;
const MAX_VALUE_BYTES: usize = 128 * 1024;
const MAX_SECRETS: usize = 1000;

fn done() -> ApiResult<Json<Value>> {
    Ok(Json(json!({})))
}

fn does_not_exist(message: String) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", message)
}

fn scope<'a>(secrets: &'a mut Secrets, name: &str) -> Result<&'a mut Scope, ApiError> {
    secrets.scopes.get_mut(name).ok_or_else(|| does_not_exist(format!("Scope {name} does not exist!")))
}

fn required(field: &str, value: Option<String>) -> Result<String, ApiError> {
    value.filter(|v| !v.is_empty()).ok_or_else(|| ApiError::missing_field(field))
}

fn valid_name(what: &str, name: &str, extra: &[char]) -> Result<(), ApiError> {
    let ok = name.len() <= MAX_NAME
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') || extra.contains(&c));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_parameter(format!(
            "{what} '{name}' is invalid: it must consist of alphanumeric characters, dashes, underscores and periods, and be at most {MAX_NAME} characters."
        )))
    }
}

fn permission(raw: &str) -> Result<String, ApiError> {
    match raw.to_ascii_uppercase().as_str() {
        p @ ("READ" | "WRITE" | "MANAGE") => Ok(p.to_owned()),
        _ => Err(ApiError::invalid_parameter(format!("Invalid permission '{raw}': expected READ, WRITE or MANAGE."))),
    }
}

/// The rank of a scope permission: `READ` < `WRITE` < `MANAGE`.
fn rank(permission: &str) -> usize {
    match permission {
        "READ" => 1,
        "WRITE" => 2,
        "MANAGE" => 3,
        _ => 0,
    }
}

/// `Ok` if the caller holds at least `needed` on the scope: through an ACL for their user name or
/// one of their groups. Workspace admins hold `MANAGE` on every scope.
fn authorize(scope: &Scope, name: &str, caller: &Caller, needed: &str) -> Result<(), ApiError> {
    if caller.is_admin {
        return Ok(());
    }
    let held = scope
        .acls
        .iter()
        .filter(|(principal, _)| {
            principal.eq_ignore_ascii_case(&caller.user_name) || caller.groups.iter().any(|g| g == *principal)
        })
        .map(|(_, permission)| rank(permission))
        .max()
        .unwrap_or(0);
    if held >= rank(needed) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "PERMISSION_DENIED",
        format!("User {} does not have {needed} permission on scope {name}.", caller.user_name),
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ScopeBody {
    scope: Option<String>,
    scope_backend_type: Option<String>,
    initial_manage_principal: Option<String>,
    backend_azure_keyvault: Option<Value>,
}

pub(super) async fn create_scope(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<ScopeBody>,
) -> ApiResult<Json<Value>> {
    let name = required("scope", body.scope)?;
    valid_name("Scope name", &name, &['@'])?;
    let backend_type = body.scope_backend_type.unwrap_or_else(|| "DATABRICKS".to_owned()).to_ascii_uppercase();
    if backend_type != "DATABRICKS" && backend_type != "AZURE_KEYVAULT" {
        return Err(ApiError::invalid_parameter(format!("Invalid scope_backend_type '{backend_type}'.")));
    }
    if backend_type == "AZURE_KEYVAULT" && body.backend_azure_keyvault.is_none() {
        return Err(ApiError::missing_field("backend_azure_keyvault"));
    }
    let mut ws = app.workspace();
    let ws = &mut *ws;
    if ws.secrets.scopes.contains_key(&name) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "RESOURCE_ALREADY_EXISTS",
            format!("Scope {name} already exists!"),
        ));
    }
    let mut scope = Scope { backend_type, keyvault: body.backend_azure_keyvault, ..Scope::default() };
    match body.initial_manage_principal.as_deref() {
        None | Some("") => {
            scope.acls.insert(caller.user_name.clone(), "MANAGE".to_owned());
        }
        Some("users") => {
            scope.acls.insert("users".to_owned(), "MANAGE".to_owned());
        }
        Some(other) => {
            return Err(ApiError::invalid_parameter(format!(
                "initial_manage_principal must be 'users' or left out, not '{other}'."
            )));
        }
    }
    ws.secrets.scopes.insert(name, scope);
    done()
}

pub(super) async fn delete_scope(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<ScopeBody>,
) -> ApiResult<Json<Value>> {
    let name = required("scope", body.scope)?;
    let mut ws = app.workspace();
    authorize(scope(&mut ws.secrets, &name)?, &name, &caller, "MANAGE")?;
    ws.secrets.scopes.remove(&name);
    done()
}

pub(super) async fn list_scopes(State(app): App) -> ApiResult<Json<Value>> {
    let ws = app.workspace();
    let scopes: Vec<Value> = ws
        .secrets
        .scopes
        .iter()
        .map(|(name, s)| {
            let mut v = json!({ "name": name, "backend_type": s.backend_type });
            if let Some(kv) = &s.keyvault {
                v["keyvault_metadata"] = kv.clone();
            }
            v
        })
        .collect();
    Ok(Json(if scopes.is_empty() { json!({}) } else { json!({ "scopes": scopes }) }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SecretBody {
    scope: Option<String>,
    key: Option<String>,
    string_value: Option<String>,
    bytes_value: Option<String>,
}

pub(super) async fn put(State(app): App, caller: Caller, ApiJson(body): ApiJson<SecretBody>) -> ApiResult<Json<Value>> {
    let scope_name = required("scope", body.scope)?;
    let key = required("key", body.key)?;
    valid_name("Secret key", &key, &[])?;
    let value = match (body.string_value, body.bytes_value) {
        (Some(s), None) => s.into_bytes(),
        (None, Some(b)) => decode_base64("bytes_value", &b)?,
        _ => return Err(ApiError::invalid_parameter("Exactly one of string_value and bytes_value must be given.")),
    };
    if value.len() > MAX_VALUE_BYTES {
        return Err(ApiError::invalid_parameter(format!(
            "The secret value of {} bytes exceeds the limit of {MAX_VALUE_BYTES} bytes.",
            value.len()
        )));
    }
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    let scope = scope(&mut ws.secrets, &scope_name)?;
    authorize(scope, &scope_name, &caller, "WRITE")?;
    if scope.backend_type != "DATABRICKS" {
        return Err(ApiError::invalid_parameter(format!(
            "Scope {scope_name} is backed by Azure Key Vault; write its secrets through Azure."
        )));
    }
    if !scope.secrets.contains_key(&key) && scope.secrets.len() >= MAX_SECRETS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "RESOURCE_LIMIT_EXCEEDED",
            format!("Scope {scope_name} already holds the maximum of {MAX_SECRETS} secrets."),
        ));
    }
    scope.secrets.insert(key, (value, now));
    done()
}

pub(super) async fn delete(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<SecretBody>,
) -> ApiResult<Json<Value>> {
    let scope_name = required("scope", body.scope)?;
    let key = required("key", body.key)?;
    let mut ws = app.workspace();
    let scope = scope(&mut ws.secrets, &scope_name)?;
    authorize(scope, &scope_name, &caller, "WRITE")?;
    scope
        .secrets
        .remove(&key)
        .ok_or_else(|| does_not_exist(format!("Secret Key {key} does not exist in scope {scope_name}.")))?;
    done()
}

pub(super) async fn list(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let scope_name = params.required("scope")?;
    let mut ws = app.workspace();
    let scope = scope(&mut ws.secrets, scope_name)?;
    authorize(scope, scope_name, &caller, "READ")?;
    let secrets: Vec<Value> = scope
        .secrets
        .iter()
        .map(|(key, (_, updated))| json!({ "key": key, "last_updated_timestamp": updated }))
        .collect();
    Ok(Json(if secrets.is_empty() { json!({}) } else { json!({ "secrets": secrets }) }))
}

pub(super) async fn get(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let scope_name = params.required("scope")?;
    let key = params.required("key")?;
    let mut ws = app.workspace();
    let scope = scope(&mut ws.secrets, scope_name)?;
    authorize(scope, scope_name, &caller, "READ")?;
    let (value, _) = scope
        .secrets
        .get(key)
        .ok_or_else(|| does_not_exist(format!("Failed to get secret {key} for scope {scope_name}.")))?;
    Ok(Json(json!({ "key": key, "value": encode_base64(value) })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AclBody {
    scope: Option<String>,
    principal: Option<String>,
    permission: Option<String>,
}

pub(super) async fn put_acl(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<AclBody>,
) -> ApiResult<Json<Value>> {
    let scope_name = required("scope", body.scope)?;
    let principal = required("principal", body.principal)?;
    let permission = permission(&required("permission", body.permission)?)?;
    let mut ws = app.workspace();
    let scope = scope(&mut ws.secrets, &scope_name)?;
    authorize(scope, &scope_name, &caller, "MANAGE")?;
    scope.acls.insert(principal, permission);
    done()
}

fn acl_not_found(scope: &str, principal: &str) -> ApiError {
    does_not_exist(format!("Failed to get secret ACL for principal {principal} on scope {scope}."))
}

pub(super) async fn get_acl(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let scope_name = params.required("scope")?;
    let principal = params.required("principal")?;
    let mut ws = app.workspace();
    let scope = scope(&mut ws.secrets, scope_name)?;
    authorize(scope, scope_name, &caller, "MANAGE")?;
    let permission = scope.acls.get(principal).ok_or_else(|| acl_not_found(scope_name, principal))?;
    Ok(Json(json!({ "principal": principal, "permission": permission })))
}

pub(super) async fn list_acls(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let scope_name = params.required("scope")?;
    let mut ws = app.workspace();
    let scope = scope(&mut ws.secrets, scope_name)?;
    authorize(scope, scope_name, &caller, "MANAGE")?;
    let items: Vec<Value> = scope
        .acls
        .iter()
        .map(|(principal, permission)| json!({ "principal": principal, "permission": permission }))
        .collect();
    Ok(Json(if items.is_empty() { json!({}) } else { json!({ "items": items }) }))
}

pub(super) async fn delete_acl(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<AclBody>,
) -> ApiResult<Json<Value>> {
    let scope_name = required("scope", body.scope)?;
    let principal = required("principal", body.principal)?;
    let mut ws = app.workspace();
    let scope = scope(&mut ws.secrets, &scope_name)?;
    authorize(scope, &scope_name, &caller, "MANAGE")?;
    scope.acls.remove(&principal).ok_or_else(|| acl_not_found(&scope_name, &principal))?;
    done()
}
