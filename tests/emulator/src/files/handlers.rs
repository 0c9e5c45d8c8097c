//! HTTP handlers of the Files API. Errors use the newer codes of this API (`NOT_FOUND`,
//! `ALREADY_EXISTS`) rather than the `RESOURCE_*` codes of DBFS.

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State, rejection::PathRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::http_date;
use crate::{
    dbfs::tree::{Entry, TreeError, name, normalise},
    error::{ApiError, ApiResult},
    extract::Params,
    pagination::{decode_token, page},
    workspace::AppState,
};

type App = State<Arc<AppState>>;
type WirePath = Result<Path<String>, PathRejection>;

/// The most entries one directory page holds, and the default.
const MAX_PAGE: usize = 1000;

/// A volume path from the URL: `/Volumes/<catalog>/<schema>/<volume>[/...]`.
fn volume_path(raw: WirePath) -> Result<String, ApiError> {
    let Path(raw) = raw.map_err(|e| ApiError::invalid_parameter(format!("Invalid path: {e}")))?;
    let path =
        normalise(&format!("/{raw}")).ok_or_else(|| ApiError::invalid_parameter(format!("Invalid path: /{raw}")))?;
    let segments = path.split('/').filter(|s| !s.is_empty()).count();
    if !path.starts_with("/Volumes/") || segments < 4 {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid path {path}: expected a Unity Catalog volume path /Volumes/<catalog>/<schema>/<volume>/..."
        )));
    }
    Ok(path)
}

fn is_volume_root(path: &str) -> bool {
    path.split('/').filter(|s| !s.is_empty()).count() == 4
}

fn not_found(what: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", format!("The {what} being accessed is not found."))
}

fn conflict(message: &str) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "ALREADY_EXISTS", message)
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

fn file_headers(entry: &Entry, body: Vec<u8>) -> Response {
    let len = entry.data.len();
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(date) = HeaderValue::from_str(&http_date(entry.modified)) {
        headers.insert(header::LAST_MODIFIED, date);
    }
    response
}

fn file(app: &AppState, path: &str) -> Result<Entry, ApiError> {
    match app.workspace().volumes.tree.get(path) {
        Some(e) if !e.is_dir => Ok(e.clone()),
        _ => Err(not_found("file")),
    }
}

pub(super) async fn download(State(app): App, path: WirePath) -> ApiResult<Response> {
    let entry = file(&app, &volume_path(path)?)?;
    let body = entry.data.clone();
    Ok(file_headers(&entry, body))
}

pub(super) async fn metadata(State(app): App, path: WirePath) -> ApiResult<Response> {
    let entry = file(&app, &volume_path(path)?)?;
    Ok(file_headers(&entry, Vec::new()))
}

pub(super) async fn upload(State(app): App, path: WirePath, params: Params, body: Bytes) -> ApiResult<Response> {
    let path = volume_path(path)?;
    if is_volume_root(&path) {
        return Err(conflict("A directory already exists at the path of the file being created."));
    }
    let overwrite = params.parse::<bool>("overwrite")?.unwrap_or(false);
    let now = app.clock.now_ms();
    match app.workspace().volumes.tree.write(&path, body.to_vec(), overwrite, now) {
        Ok(()) => Ok(no_content()),
        Err(TreeError::AlreadyExists) => Err(conflict("The file being created already exists.")),
        Err(TreeError::IsADirectory) => {
            Err(conflict("A directory already exists at the path of the file being created."))
        }
        Err(_) => Err(conflict("A file exists where a parent directory of the file being created should be.")),
    }
}

pub(super) async fn delete_file(State(app): App, path: WirePath) -> ApiResult<Response> {
    let path = volume_path(path)?;
    let mut ws = app.workspace();
    match ws.volumes.tree.get(&path) {
        Some(e) if !e.is_dir => {
            let _ = ws.volumes.tree.delete(&path, false);
            Ok(no_content())
        }
        _ => Err(not_found("file")),
    }
}

fn directory_exists(app: &AppState, path: &str) -> bool {
    is_volume_root(path) || app.workspace().volumes.tree.get(path).is_some_and(|e| e.is_dir)
}

pub(super) async fn list(State(app): App, path: WirePath, params: Params) -> ApiResult<Json<Value>> {
    let path = volume_path(path)?;
    let size = match params.parse::<usize>("page_size")? {
        None | Some(0) => MAX_PAGE,
        Some(n) => n.min(MAX_PAGE),
    };
    let offset = decode_token(params.get("page_token").unwrap_or(""))?;
    if !directory_exists(&app, &path) {
        return Err(not_found("directory"));
    }
    let ws = app.workspace();
    let entries: Vec<Value> = ws
        .volumes
        .tree
        .children(&path)
        .into_iter()
        .map(|(p, e)| {
            let mut entry = json!({ "path": p, "name": name(p), "is_directory": e.is_dir });
            if !e.is_dir {
                entry["file_size"] = json!(e.data.len());
                entry["last_modified"] = json!(e.modified);
            }
            entry
        })
        .collect();
    let cut = page(entries, offset, size);
    let mut body = json!({});
    if !cut.items.is_empty() {
        body["contents"] = Value::Array(cut.items);
    }
    if let Some(token) = cut.next_page_token {
        body["next_page_token"] = json!(token);
    }
    Ok(Json(body))
}

pub(super) async fn directory_metadata(State(app): App, path: WirePath) -> ApiResult<Response> {
    let path = volume_path(path)?;
    if directory_exists(&app, &path) { Ok(StatusCode::OK.into_response()) } else { Err(not_found("directory")) }
}

pub(super) async fn create_directory(State(app): App, path: WirePath) -> ApiResult<Response> {
    let path = volume_path(path)?;
    let now = app.clock.now_ms();
    match app.workspace().volumes.tree.mkdirs(&path, now) {
        Ok(()) => Ok(no_content()),
        Err(_) => Err(conflict("A file already exists at the path of the directory being created.")),
    }
}

pub(super) async fn delete_directory(State(app): App, path: WirePath) -> ApiResult<Response> {
    let path = volume_path(path)?;
    let mut ws = app.workspace();
    if is_volume_root(&path) {
        return Err(ApiError::invalid_parameter(format!("Cannot delete the root of volume {path}.")));
    }
    match ws.volumes.tree.get(&path) {
        Some(e) if e.is_dir => {}
        _ => return Err(not_found("directory")),
    }
    match ws.volumes.tree.delete(&path, false) {
        Ok(()) => Ok(no_content()),
        Err(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "FAILED_PRECONDITION",
            "The directory being deleted is not empty.",
        )),
    }
}
