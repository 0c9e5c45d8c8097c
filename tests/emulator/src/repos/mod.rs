//! The Repos API (`workspace.ReposAPI`) under `/api/2.0/repos`. A repo is also a `REPO` object in
//! the workspace tree, and its id is that object's id. `list` pages with the query key
//! `next_page_token` (not `page_token`, reference §1.3) and filters by `path_prefix`.
//!
//! A non-admin sees and changes only the repos under `/Repos/<own user name>` (and `/Shared`),
//! as the workspace tree's default folder permissions say; others answer 403 `PERMISSION_DENIED`
//! and are left out of `list`.
//!
//! Git is not contacted: a checkout sets the branch (or tag) and a head commit derived from it.

mod handlers;

use std::{collections::BTreeMap, sync::Arc};

use axum::{Router, routing::get};
use serde_json::{Value, json};

use crate::workspace::AppState;

/// One repo.
#[derive(Debug, Clone)]
pub(crate) struct Repo {
    pub id: i64,
    pub path: String,
    pub url: String,
    pub provider: String,
    /// `None` after checking out a tag (detached head).
    pub branch: Option<String>,
    pub head_commit_id: String,
    pub sparse_checkout: Option<Value>,
}

impl Repo {
    pub fn info(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "path": self.path,
            "url": self.url,
            "provider": self.provider,
            "head_commit_id": self.head_commit_id,
        });
        if let Some(branch) = &self.branch {
            v["branch"] = json!(branch);
        }
        if let Some(sparse) = &self.sparse_checkout {
            v["sparse_checkout"] = sparse.clone();
        }
        v
    }
}

/// Repos by id.
#[derive(Debug, Default)]
pub(crate) struct Repos {
    pub by_id: BTreeMap<i64, Repo>,
}

impl Repos {
    /// Drops a repo whose folder was deleted through the Workspace API.
    pub fn forget(&mut self, id: i64) {
        self.by_id.remove(&id);
    }
}

/// A stable 40-hex commit id for a ref of a repo.
pub(crate) fn commit_id(url: &str, reference: &str) -> String {
    // FNV-1a, stretched to 160 bits; stable across runs, unlike std's hasher.
    let mut out = String::new();
    for round in 0u64..3 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ round;
        for b in url.bytes().chain([0]).chain(reference.bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out.truncate(40);
    out
}

/// The Repos endpoints, nested under `/api/2.0/repos`.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(handlers::list).post(handlers::create))
        .route("/{id}", get(handlers::get).patch(handlers::update).delete(handlers::delete))
}
