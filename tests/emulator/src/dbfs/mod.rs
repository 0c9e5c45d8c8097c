//! The DBFS API (`files.DbfsAPI`) under `/api/2.0/dbfs`: a file tree addressed by `dbfs:/...` or
//! `/...`, contents as base64 in JSON, and the streaming upload `create` → `add-block` → `close`.
//!
//! Limits as on the service (reference §1.8): inline `put` contents and each block ≤ 1 MB
//! (`MAX_BLOCK_SIZE_EXCEEDED`), `read` length ≤ 1 MB (`MAX_READ_SIZE_EXCEEDED`), and an upload
//! handle left idle for 10 minutes is gone.
//!
//! Modules: `handlers` (one function per endpoint), `tree` (the path → file storage, shared with
//! the Files API), `seed`.

mod handlers;
pub(crate) mod seed;
pub(crate) mod tree;

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{get, post},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};

use crate::{error::ApiError, workspace::AppState};
use tree::FileTree;

/// 1 MB: the largest inline `put`, `add-block` and `read`.
pub(crate) const MAX_BLOCK_BYTES: usize = 1024 * 1024;
/// An upload handle idle for longer than this is forgotten.
pub(crate) const HANDLE_IDLE_MS: u64 = 10 * 60 * 1000;
/// The largest request body the file families accept (a 10 MB notebook is ~13.4 MB of base64).
pub(crate) const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// An open streaming upload.
#[derive(Debug)]
pub(crate) struct Handle {
    pub path: String,
    pub overwrite: bool,
    pub data: Vec<u8>,
    pub last_used: u64,
}

/// DBFS state: the tree and the open upload handles.
#[derive(Debug, Default)]
pub(crate) struct Dbfs {
    pub tree: FileTree,
    pub handles: BTreeMap<i64, Handle>,
    pub next_handle: i64,
}

impl Dbfs {
    /// The handle, if it exists and has not idled out by `now`; an idled-out one is dropped.
    pub fn handle(&mut self, id: i64, now: u64) -> Option<&mut Handle> {
        let expired = self.handles.get(&id).is_some_and(|h| now.saturating_sub(h.last_used) > HANDLE_IDLE_MS);
        if expired {
            self.handles.remove(&id);
        }
        let handle = self.handles.get_mut(&id)?;
        handle.last_used = now;
        Some(handle)
    }
}

/// The DBFS endpoints, nested under `/api/2.0/dbfs`.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/list", get(handlers::list))
        .route("/get-status", get(handlers::get_status))
        .route("/mkdirs", post(handlers::mkdirs))
        .route("/delete", post(handlers::delete))
        .route("/move", post(handlers::move_))
        .route("/put", post(handlers::put))
        .route("/read", get(handlers::read))
        .route("/create", post(handlers::create))
        .route("/add-block", post(handlers::add_block))
        .route("/close", post(handlers::close))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
}

/// Decodes a base64 field, naming it when the text is not base64.
pub(crate) fn decode_base64(field: &str, text: &str) -> Result<Vec<u8>, ApiError> {
    STANDARD
        .decode(text.trim())
        .map_err(|e| ApiError::invalid_parameter(format!("Field {field} is not valid base64: {e}")))
}

/// Encodes bytes as standard base64.
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_handles_expire() {
        let mut dbfs = Dbfs::default();
        dbfs.handles.insert(1, Handle { path: "/a".into(), overwrite: false, data: vec![], last_used: 0 });
        assert!(dbfs.handle(1, HANDLE_IDLE_MS).is_some(), "exactly the idle limit is still alive");
        assert!(dbfs.handle(1, 2 * HANDLE_IDLE_MS + 1).is_none());
        assert!(dbfs.handles.is_empty());
    }
}
