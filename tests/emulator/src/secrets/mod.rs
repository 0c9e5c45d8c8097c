//! The Secrets API (`workspace.SecretsAPI`) under `/api/2.0/secrets`: scopes, secrets and ACLs.
//!
//! `list` returns metadata only; `get` returns `{key, value}` (base64) as the real API does (the MCP
//! host, not the emulator, keeps plugins from calling it). Limits (reference §1.8): keys
//! `[A-Za-z0-9-_.]` up to 128 characters, values up to 128 KB, 1000 secrets per scope.
//!
//! Permissions follow the scope's ACLs (reference §2, "Missing permission gives
//! PERMISSION_DENIED"): listing secrets (and `get`) needs `READ`, `put` and `delete` need `WRITE`,
//! the ACL endpoints and deleting the scope need `MANAGE`; a principal holds the strongest
//! permission granted to its user name or any of its groups, and workspace admins hold `MANAGE`
//! everywhere. Any user may list scopes and create one (becoming its `MANAGE` principal).
//!
//! `Test` seed: scope `test-scope` (DATABRICKS backend, `demo.user@example.com` MANAGE, `users`
//! READ) with keys `db-password` = `hunter2` and `api-key` = `sk-test-123`. `Demo` adds scopes for
//! ETL, ML and an Azure Key Vault-backed one.

mod handlers;
pub(crate) mod seed;

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Router,
    routing::{get, post},
};

use crate::workspace::AppState;

/// One scope.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    /// `DATABRICKS` or `AZURE_KEYVAULT`.
    pub backend_type: String,
    pub keyvault: Option<serde_json::Value>,
    /// Key → (value, last updated epoch ms).
    pub secrets: BTreeMap<String, (Vec<u8>, u64)>,
    /// Principal → `READ` | `WRITE` | `MANAGE`.
    pub acls: BTreeMap<String, String>,
}

/// Scopes by name.
#[derive(Debug, Default)]
pub(crate) struct Secrets {
    pub scopes: BTreeMap<String, Scope>,
}

/// The Secrets endpoints, nested under `/api/2.0/secrets`.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/scopes/create", post(handlers::create_scope))
        .route("/scopes/delete", post(handlers::delete_scope))
        .route("/scopes/list", get(handlers::list_scopes))
        .route("/put", post(handlers::put))
        .route("/delete", post(handlers::delete))
        .route("/list", get(handlers::list))
        .route("/get", get(handlers::get))
        .route("/acls/put", post(handlers::put_acl))
        .route("/acls/get", get(handlers::get_acl))
        .route("/acls/list", get(handlers::list_acls))
        .route("/acls/delete", post(handlers::delete_acl))
}
