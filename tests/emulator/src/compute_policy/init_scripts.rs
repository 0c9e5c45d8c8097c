//! Global init scripts: shell scripts every cluster of the workspace runs at start, in `position`
//! order (0 first). Admins only. The script travels base64-encoded and is at most 64 KiB
//! decoded; lists leave it out. A new script goes last unless it names a position, and the
//! others shift to make room; positions stay 0..n-1 after every change.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde_json::{Map, Value, json};

use super::{admins_only, count, flag, hex_id, required};
use crate::{
    error::{ApiError, ApiResult},
    extract::ApiJson,
    identity::Caller,
    workspace::AppState,
};

/// The most a script may hold, decoded.
const MAX_SCRIPT_BYTES: usize = 64 * 1024;

/// One global init script.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    pub id: String,
    pub name: String,
    /// Base64, as received.
    pub script: String,
    pub enabled: bool,
    pub position: usize,
    pub created_at: u64,
    pub created_by: String,
    pub updated_at: u64,
    pub updated_by: String,
}

impl Script {
    /// `GlobalInitScriptDetails` (lists) or, with the content, `GlobalInitScriptDetailsWithContent`.
    fn to_json(&self, with_content: bool) -> Value {
        let mut out = json!({
            "script_id": self.id,
            "name": self.name,
            "enabled": self.enabled,
            "position": self.position,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
        });
        if with_content {
            out["script"] = json!(self.script);
        }
        out
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
        format!("The global init script with id {id} does not exist."),
    )
}

/// The `script` field: valid base64 of at most [`MAX_SCRIPT_BYTES`].
fn script(body: &Map<String, Value>) -> ApiResult<String> {
    let encoded = required(body, "script")?;
    let decoded =
        STANDARD.decode(encoded).map_err(|_| ApiError::invalid_parameter("The script must be base64-encoded."))?;
    if decoded.len() > MAX_SCRIPT_BYTES {
        return Err(ApiError::invalid_parameter(format!(
            "The script is {} bytes; the limit is {MAX_SCRIPT_BYTES} bytes.",
            decoded.len()
        )));
    }
    Ok(encoded.to_owned())
}

/// The scripts in position order.
fn ordered(scripts: &std::collections::BTreeMap<String, Script>) -> Vec<&Script> {
    let mut all: Vec<&Script> = scripts.values().collect();
    all.sort_by_key(|s| (s.position, s.created_at));
    all
}

/// Puts `id` at `position` (clamped to the end) and renumbers the rest 0..n-1.
fn place(scripts: &mut std::collections::BTreeMap<String, Script>, id: &str, position: Option<usize>) {
    let mut order: Vec<String> = ordered(scripts).into_iter().filter(|s| s.id != id).map(|s| s.id.clone()).collect();
    let at = position.unwrap_or(order.len()).min(order.len());
    order.insert(at, id.to_owned());
    for (n, key) in order.iter().enumerate() {
        if let Some(s) = scripts.get_mut(key) {
            s.position = n;
        }
    }
}

/// Closes the gap a deleted script leaves: positions 0..n-1 in the same order.
fn renumber(scripts: &mut std::collections::BTreeMap<String, Script>) {
    let order: Vec<String> = ordered(scripts).into_iter().map(|s| s.id.clone()).collect();
    for (n, key) in order.iter().enumerate() {
        if let Some(s) = scripts.get_mut(key) {
            s.position = n;
        }
    }
}

type App = State<Arc<AppState>>;
type Body = ApiJson<Map<String, Value>>;

pub(super) async fn list(State(app): App, caller: Caller) -> ApiResult<Json<Value>> {
    admins_only(&caller, "read global init scripts")?;
    let ws = app.workspace();
    let scripts = ordered(&ws.compute_policy.scripts);
    if scripts.is_empty() {
        return Ok(Json(json!({})));
    }
    Ok(Json(json!({ "scripts": scripts.iter().map(|s| s.to_json(false)).collect::<Vec<_>>() })))
}

pub(super) async fn get(State(app): App, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    admins_only(&caller, "read global init scripts")?;
    let ws = app.workspace();
    Ok(Json(ws.compute_policy.scripts.get(&id).ok_or_else(|| not_found(&id))?.to_json(true)))
}

pub(super) async fn create(State(app): App, caller: Caller, ApiJson(body): Body) -> ApiResult<Json<Value>> {
    admins_only(&caller, "create global init scripts")?;
    let name = required(&body, "name")?.to_owned();
    let script = script(&body)?;
    let position = count(&body, "position")?.map(|p| usize::try_from(p).unwrap_or(usize::MAX));
    let now = app.clock.now_ms();
    let id = hex_id();
    let mut ws = app.workspace();
    let scripts = &mut ws.compute_policy.scripts;
    scripts.insert(
        id.clone(),
        Script {
            id: id.clone(),
            name,
            script,
            enabled: flag(&body, "enabled")?.unwrap_or(false),
            position: usize::MAX,
            created_at: now,
            created_by: caller.user_name.clone(),
            updated_at: now,
            updated_by: caller.user_name,
        },
    );
    place(scripts, &id, position);
    Ok(Json(json!({ "script_id": id })))
}

/// `PATCH`: `name` and `script` are required, as on the service; `enabled` and `position` keep
/// their values when left out.
pub(super) async fn update(
    State(app): App,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): Body,
) -> ApiResult<Json<Value>> {
    admins_only(&caller, "change global init scripts")?;
    let mut ws = app.workspace();
    let scripts = &mut ws.compute_policy.scripts;
    if !scripts.contains_key(&id) {
        return Err(not_found(&id));
    }
    let name = required(&body, "name")?.to_owned();
    let content = script(&body)?;
    let enabled = flag(&body, "enabled")?;
    let position = count(&body, "position")?.map(|p| usize::try_from(p).unwrap_or(usize::MAX));
    if let Some(s) = scripts.get_mut(&id) {
        s.name = name;
        s.script = content;
        s.enabled = enabled.unwrap_or(s.enabled);
        s.updated_at = app.clock.now_ms();
        s.updated_by = caller.user_name;
    }
    if position.is_some() {
        place(scripts, &id, position);
    }
    Ok(Json(json!({})))
}

pub(super) async fn delete(State(app): App, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    admins_only(&caller, "delete global init scripts")?;
    let mut ws = app.workspace();
    let scripts = &mut ws.compute_policy.scripts;
    scripts.remove(&id).ok_or_else(|| not_found(&id))?;
    renumber(scripts);
    Ok(Json(json!({})))
}

/// A script as the seed makes it.
pub(super) fn seeded(id: &str, name: &str, content: &str, enabled: bool, creator: &str, at: u64) -> Script {
    Script {
        id: id.to_owned(),
        name: name.to_owned(),
        script: STANDARD.encode(content),
        enabled,
        position: usize::MAX,
        created_at: at,
        created_by: creator.to_owned(),
        updated_at: at,
        updated_by: creator.to_owned(),
    }
}

/// Adds a seeded script last.
pub(super) fn add(scripts: &mut std::collections::BTreeMap<String, Script>, script: Script) {
    let id = script.id.clone();
    scripts.insert(id.clone(), script);
    place(scripts, &id, None);
}
