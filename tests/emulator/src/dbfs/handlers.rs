//! HTTP handlers of DBFS: parse, apply to the tree, answer `{}` or the documented shape.

use std::sync::Arc;

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Handle, MAX_BLOCK_BYTES, decode_base64, encode_base64,
    tree::{Entry, TreeError, normalise},
};
use crate::{
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    workspace::AppState,
};

type App = State<Arc<AppState>>;

/// `read` returns half a megabyte when no length is given.
const DEFAULT_READ_BYTES: usize = 512 * 1024;

fn done() -> ApiResult<Json<Value>> {
    Ok(Json(json!({})))
}

/// A DBFS path from the wire: `dbfs:/x` and `/x` are the same file.
fn dbfs_path(field: &str, raw: Option<&str>) -> Result<String, ApiError> {
    let raw = raw.filter(|p| !p.is_empty()).ok_or_else(|| ApiError::missing_field(field))?;
    let bare = raw.strip_prefix("dbfs:").unwrap_or(raw);
    normalise(bare).ok_or_else(|| ApiError::invalid_parameter(format!("Path must be absolute: {raw}")))
}

fn not_found(path: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
        format!("No file or directory exists on path dbfs:{path}."),
    )
}

fn already_exists(path: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "RESOURCE_ALREADY_EXISTS",
        format!("A file or directory already exists at the input path dbfs:{path}."),
    )
}

fn tree_error(path: &str, e: TreeError) -> ApiError {
    match e {
        TreeError::NotFound => not_found(path),
        TreeError::AlreadyExists => already_exists(path),
        TreeError::NotADirectory(p) => already_exists(&p),
        TreeError::IsADirectory => ApiError::invalid_parameter(format!("Path dbfs:{path} is a directory.")),
        TreeError::NotEmpty => ApiError::new(
            StatusCode::BAD_REQUEST,
            "IO_ERROR",
            format!("Cannot delete non-empty directory dbfs:{path} without recursive=true."),
        ),
    }
}

fn file_info(path: &str, e: &Entry) -> Value {
    json!({
        "path": path,
        "is_dir": e.is_dir,
        "file_size": if e.is_dir { 0 } else { e.data.len() },
        "modification_time": e.modified,
    })
}

fn too_big_block(len: usize) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "MAX_BLOCK_SIZE_EXCEEDED",
        format!("The block of {len} bytes exceeds the maximum of {MAX_BLOCK_BYTES} bytes."),
    )
}

pub(super) async fn list(State(app): App, params: Params) -> ApiResult<Json<Value>> {
    let path = dbfs_path("path", params.get("path"))?;
    let ws = app.workspace();
    let entry = ws.dbfs.tree.get(&path).ok_or_else(|| not_found(&path))?;
    let files: Vec<Value> = if entry.is_dir {
        ws.dbfs.tree.children(&path).into_iter().map(|(p, e)| file_info(p, e)).collect()
    } else {
        vec![file_info(&path, entry)]
    };
    // An empty directory answers `{}`, like every empty list of the service.
    Ok(Json(if files.is_empty() { json!({}) } else { json!({ "files": files }) }))
}

pub(super) async fn get_status(State(app): App, params: Params) -> ApiResult<Json<Value>> {
    let path = dbfs_path("path", params.get("path"))?;
    let ws = app.workspace();
    let entry = ws.dbfs.tree.get(&path).ok_or_else(|| not_found(&path))?;
    Ok(Json(file_info(&path, entry)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PathBody {
    path: Option<String>,
    recursive: bool,
    overwrite: bool,
    contents: Option<String>,
}

pub(super) async fn mkdirs(State(app): App, ApiJson(body): ApiJson<PathBody>) -> ApiResult<Json<Value>> {
    let path = dbfs_path("path", body.path.as_deref())?;
    let now = app.clock.now_ms();
    app.workspace().dbfs.tree.mkdirs(&path, now).map_err(|e| tree_error(&path, e))?;
    done()
}

pub(super) async fn delete(State(app): App, ApiJson(body): ApiJson<PathBody>) -> ApiResult<Json<Value>> {
    let path = dbfs_path("path", body.path.as_deref())?;
    if path == "/" {
        return Err(ApiError::invalid_parameter("Cannot delete the root directory dbfs:/."));
    }
    match app.workspace().dbfs.tree.delete(&path, body.recursive) {
        // Deleting what is not there succeeds: delete is idempotent on DBFS.
        Ok(()) | Err(TreeError::NotFound) => done(),
        Err(e) => Err(tree_error(&path, e)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct MoveBody {
    source_path: Option<String>,
    destination_path: Option<String>,
}

pub(super) async fn move_(State(app): App, ApiJson(body): ApiJson<MoveBody>) -> ApiResult<Json<Value>> {
    let from = dbfs_path("source_path", body.source_path.as_deref())?;
    let to = dbfs_path("destination_path", body.destination_path.as_deref())?;
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    if ws.dbfs.tree.get(&from).is_none() {
        return Err(not_found(&from));
    }
    ws.dbfs.tree.rename(&from, &to, now).map_err(|e| tree_error(&to, e))?;
    done()
}

pub(super) async fn put(State(app): App, ApiJson(body): ApiJson<PathBody>) -> ApiResult<Json<Value>> {
    let path = dbfs_path("path", body.path.as_deref())?;
    let data = decode_base64("contents", body.contents.as_deref().unwrap_or(""))?;
    if data.len() > MAX_BLOCK_BYTES {
        return Err(too_big_block(data.len()));
    }
    let now = app.clock.now_ms();
    app.workspace().dbfs.tree.write(&path, data, body.overwrite, now).map_err(|e| tree_error(&path, e))?;
    done()
}

pub(super) async fn read(State(app): App, params: Params) -> ApiResult<Json<Value>> {
    let path = dbfs_path("path", params.get("path"))?;
    let offset: i64 = params.parse("offset")?.unwrap_or(0);
    let length: i64 = params.parse("length")?.unwrap_or(DEFAULT_READ_BYTES as i64);
    if offset < 0 || length < 0 {
        return Err(ApiError::invalid_parameter("offset and length must not be negative."));
    }
    let length = usize::try_from(length).unwrap_or(usize::MAX);
    if length > MAX_BLOCK_BYTES {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MAX_READ_SIZE_EXCEEDED",
            format!("Cannot read more than {MAX_BLOCK_BYTES} bytes at a time; asked for {length}."),
        ));
    }
    let ws = app.workspace();
    let entry = ws.dbfs.tree.get(&path).ok_or_else(|| not_found(&path))?;
    if entry.is_dir {
        return Err(tree_error(&path, TreeError::IsADirectory));
    }
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(entry.data.len());
    let end = start.saturating_add(length).min(entry.data.len());
    let chunk = &entry.data[start..end];
    Ok(Json(json!({ "bytes_read": chunk.len(), "data": encode_base64(chunk) })))
}

pub(super) async fn create(State(app): App, ApiJson(body): ApiJson<PathBody>) -> ApiResult<Json<Value>> {
    let path = dbfs_path("path", body.path.as_deref())?;
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    match ws.dbfs.tree.get(&path) {
        Some(e) if e.is_dir => return Err(tree_error(&path, TreeError::IsADirectory)),
        Some(_) if !body.overwrite => return Err(already_exists(&path)),
        _ => {}
    }
    ws.dbfs.next_handle += 1;
    let id = ws.dbfs.next_handle;
    ws.dbfs.handles.insert(id, Handle { path, overwrite: body.overwrite, data: Vec::new(), last_used: now });
    Ok(Json(json!({ "handle": id })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct HandleBody {
    handle: Option<i64>,
    data: Option<String>,
}

fn handle_not_found(id: i64) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
        format!("The handle {id} does not exist or has expired."),
    )
}

pub(super) async fn add_block(State(app): App, ApiJson(body): ApiJson<HandleBody>) -> ApiResult<Json<Value>> {
    let id = body.handle.ok_or_else(|| ApiError::missing_field("handle"))?;
    let data = decode_base64("data", body.data.as_deref().ok_or_else(|| ApiError::missing_field("data"))?)?;
    if data.len() > MAX_BLOCK_BYTES {
        return Err(too_big_block(data.len()));
    }
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    let handle = ws.dbfs.handle(id, now).ok_or_else(|| handle_not_found(id))?;
    handle.data.extend_from_slice(&data);
    done()
}

pub(super) async fn close(State(app): App, ApiJson(body): ApiJson<HandleBody>) -> ApiResult<Json<Value>> {
    let id = body.handle.ok_or_else(|| ApiError::missing_field("handle"))?;
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    ws.dbfs.handle(id, now).ok_or_else(|| handle_not_found(id))?;
    let Some(handle) = ws.dbfs.handles.remove(&id) else {
        return Err(handle_not_found(id));
    };
    ws.dbfs.tree.write(&handle.path, handle.data, handle.overwrite, now).map_err(|e| tree_error(&handle.path, e))?;
    done()
}
