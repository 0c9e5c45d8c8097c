//! HTTP handlers of the Workspace API.

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    MAX_IMPORT_BYTES,
    access::{self, Access, Need},
    formats::{self, multipart_fields},
    store::{Kind, Language},
};
use crate::{
    dbfs::{decode_base64, encode_base64, tree::normalise},
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    identity::Caller,
    workspace::AppState,
};

type App = State<Arc<AppState>>;

/// Every principal has a home folder, `/Users/<user name>`, from its first request on; the seed
/// cannot know every principal the directory will hold, so it is made when first needed.
fn ensure_home(app: &AppState, caller: &Caller) {
    let home = format!("/Users/{}", caller.user_name);
    let mut ws = app.workspace();
    if ws.workspace_tree.get(&home).is_err() {
        // A user name is a valid path segment, so this cannot fail; if it did, the folder just stays missing.
        let _ = ws.workspace_tree.mkdirs(&home, app.clock.now_ms());
    }
}

fn done() -> ApiResult<Json<Value>> {
    Ok(Json(json!({})))
}

/// A workspace path from the wire; `/Workspace/Users/...` names the same object as `/Users/...`.
pub(crate) fn workspace_path(raw: Option<&str>) -> Result<String, ApiError> {
    let raw = raw.filter(|p| !p.is_empty()).ok_or_else(|| ApiError::missing_field("path"))?;
    let path = normalise(raw).ok_or_else(|| ApiError::invalid_parameter(format!("Path ({raw}) must be absolute.")))?;
    Ok(match path.strip_prefix("/Workspace") {
        Some("") => "/".to_owned(),
        Some(rest) if rest.starts_with('/') => rest.to_owned(),
        _ => path,
    })
}

pub(super) async fn list(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    ensure_home(&app, &caller);
    let path = workspace_path(params.get("path"))?;
    let modified_after: Option<u64> = params.parse("notebooks_modified_after")?;
    access::check(&caller, &path, Need::Read)?;
    let ws = app.workspace();
    let object = ws.workspace_tree.get(&path)?;
    let objects: Vec<Value> = if object.kind.is_folder() {
        ws.workspace_tree
            .children(&path)
            .into_iter()
            .filter(|(_, o)| o.kind != Kind::Notebook || modified_after.is_none_or(|t| o.modified_at > t))
            .filter(|(p, _)| access::access(&caller, p) != Access::None)
            .map(|(p, o)| o.info(p))
            .collect()
    } else {
        vec![object.info(&path)]
    };
    Ok(Json(if objects.is_empty() { json!({}) } else { json!({ "objects": objects }) }))
}

pub(super) async fn get_status(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    ensure_home(&app, &caller);
    let path = workspace_path(params.get("path"))?;
    access::check(&caller, &path, Need::Read)?;
    let ws = app.workspace();
    Ok(Json(ws.workspace_tree.get(&path)?.info(&path)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PathBody {
    path: Option<String>,
    recursive: bool,
}

pub(super) async fn mkdirs(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<PathBody>,
) -> ApiResult<Json<Value>> {
    ensure_home(&app, &caller);
    let path = workspace_path(body.path.as_deref())?;
    access::check(&caller, &path, Need::Edit)?;
    let now = app.clock.now_ms();
    app.workspace().workspace_tree.mkdirs(&path, now)?;
    done()
}

pub(super) async fn delete(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<PathBody>,
) -> ApiResult<Json<Value>> {
    let path = workspace_path(body.path.as_deref())?;
    access::check(&caller, &path, Need::Manage)?;
    let mut ws = app.workspace();
    let removed = ws.workspace_tree.delete(&path, body.recursive)?;
    // Deleting a repo's folder deletes the repo.
    for (_, object) in removed.iter().filter(|(_, o)| o.kind == Kind::Repo) {
        ws.repos.forget(object.object_id);
    }
    done()
}

/// The import request, from JSON or from the fields of a multipart upload.
#[derive(Debug, Default)]
struct ImportRequest {
    path: Option<String>,
    content: Vec<u8>,
    format: Option<String>,
    language: Option<String>,
    overwrite: bool,
}

fn parse_import(headers: &HeaderMap, body: &[u8]) -> Result<ImportRequest, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.starts_with("multipart/form-data") {
        let mut request = ImportRequest::default();
        for (name, value) in multipart_fields(content_type, body)? {
            let text = || String::from_utf8_lossy(&value).trim().to_owned();
            match name.as_str() {
                "path" => request.path = Some(text()),
                "format" => request.format = Some(text()),
                "language" => request.language = Some(text()),
                "overwrite" => request.overwrite = text().eq_ignore_ascii_case("true"),
                "content" => request.content = value,
                _ => {}
            }
        }
        return Ok(request);
    }
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::malformed(format!("Invalid JSON given in the body of the request - {e}")))?
    };
    let map: Map<String, Value> =
        serde_json::from_value(value).map_err(|_| ApiError::malformed("The request body must be a JSON object"))?;
    let text = |key: &str| -> Result<Option<String>, ApiError> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid_parameter(format!("Field {key} must be a string."))),
        }
    };
    let content = match text("content")? {
        Some(b64) => decode_base64("content", &b64)?,
        None => Vec::new(),
    };
    let overwrite = match map.get("overwrite") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ApiError::invalid_parameter("Field overwrite must be a boolean.")),
    };
    Ok(ImportRequest { path: text("path")?, content, format: text("format")?, language: text("language")?, overwrite })
}

pub(super) async fn import(State(app): App, caller: Caller, headers: HeaderMap, body: Bytes) -> ApiResult<Json<Value>> {
    ensure_home(&app, &caller);
    let request = parse_import(&headers, &body)?;
    let path = workspace_path(request.path.as_deref())?;
    access::check(&caller, &path, Need::Edit)?;
    if request.content.len() > MAX_IMPORT_BYTES {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MAX_NOTEBOOK_SIZE_EXCEEDED",
            format!(
                "The content of {} bytes exceeds the import limit of {MAX_IMPORT_BYTES} bytes.",
                request.content.len()
            ),
        ));
    }
    let language = match request.language.as_deref() {
        None | Some("") => None,
        Some(l) => Some(Language::parse(l).ok_or_else(|| {
            ApiError::invalid_parameter(format!("Invalid language '{l}': expected one of PYTHON, SQL, SCALA, R."))
        })?),
    };
    let format = request.format.as_deref().unwrap_or("SOURCE").to_ascii_uppercase();
    let imported = formats::import(&path, &format, language, request.content)?;
    let now = app.clock.now_ms();
    app.workspace().workspace_tree.put(
        &imported.path,
        imported.kind,
        imported.language,
        imported.content,
        request.overwrite,
        now,
    )?;
    done()
}

pub(super) async fn export(State(app): App, caller: Caller, params: Params) -> ApiResult<Response> {
    let path = workspace_path(params.get("path"))?;
    access::check(&caller, &path, Need::Read)?;
    let format = params.get("format").unwrap_or("SOURCE").to_ascii_uppercase();
    let direct = params.parse::<bool>("direct_download")?.unwrap_or(false);
    let (bytes, file_type) = {
        let ws = app.workspace();
        let object = ws.workspace_tree.get(&path)?;
        formats::export(&path, object.kind, object.language, &object.content, &format)?
    };
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MAX_NOTEBOOK_SIZE_EXCEEDED",
            format!("The export of ({path}) exceeds the limit of {MAX_IMPORT_BYTES} bytes."),
        ));
    }
    if direct {
        let mut response = bytes.into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
        return Ok(response);
    }
    Ok(Json(json!({ "content": encode_base64(&bytes), "file_type": file_type })).into_response())
}
