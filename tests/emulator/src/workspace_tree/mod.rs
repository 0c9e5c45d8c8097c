//! The Workspace API (`workspace.WorkspaceAPI`) under `/api/2.0/workspace`: the tree of notebooks,
//! files, folders and repos that users see in the workspace browser.
//!
//! - `list` is unpaginated; an empty folder answers `{}`. `get-status` returns one `ObjectInfo`.
//! - `import` takes JSON (`content` in base64) or the `multipart/form-data` that the SDK's
//!   `workspace.upload` sends; at most 10 MB; an existing path needs `overwrite`.
//! - `export` returns `{content, file_type}`, or the raw bytes with `direct_download=true`.
//! - A missing path is 404 `RESOURCE_DOES_NOT_EXIST` "Path (...) doesn't exist."; a non-empty
//!   folder needs `recursive` to be deleted (`DIRECTORY_NOT_EMPTY`).
//!
//! - Non-admins reach only their home folder, their repos folder and `/Shared` (see `access`);
//!   elsewhere 403 `PERMISSION_DENIED`, and lists leave out what the caller cannot read.
//!
//! Modules: `handlers`, `access` (default folder permissions), `store` (the tree and object ids), `formats` (import/export conversions
//! and the multipart reader), `seed`.

pub(crate) mod access;
mod formats;
pub(crate) mod handlers;
pub(crate) mod seed;
mod seed_demo;
pub(crate) mod store;

use std::sync::Arc;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{get, post},
};

use crate::{dbfs::MAX_REQUEST_BYTES, workspace::AppState};

pub(crate) use store::Tree;

/// The largest notebook or file `import` accepts and `export` produces.
pub(crate) const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

/// The Workspace endpoints, nested under `/api/2.0/workspace`.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/list", get(handlers::list))
        .route("/get-status", get(handlers::get_status))
        .route("/mkdirs", post(handlers::mkdirs))
        .route("/delete", post(handlers::delete))
        .route("/import", post(handlers::import))
        .route("/export", get(handlers::export))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
}
