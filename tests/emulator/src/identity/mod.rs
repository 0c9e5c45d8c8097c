//! Identity: who a request acts as, and the endpoints that say so.
//!
//! - `directory`: principals, groups, personal access tokens, OAuth clients and issued tokens.
//! - `seed`: the principals every seed starts with (ids in the module docs there).
//! - `oauth`: `/.well-known/databricks-config` and the workspace OIDC server (`/oidc/...`), which
//!   the SDKs use for OAuth M2M (reference §0.2, §3.3).
//! - `scim`: `/api/2.0/preview/scim/v2/{Me,Users,ServicePrincipals,Groups}` (read-only).
//!
//! The auth layer in `server` resolves each request's bearer token to a [`Caller`] and stores it
//! as a request extension; handlers take it as an extractor.

mod directory;
mod oauth;
mod scim;
pub(crate) mod seed;

use std::sync::Arc;

use axum::{
    Router,
    extract::FromRequestParts,
    http::request::Parts,
    routing::{get, post},
};

pub(crate) use directory::{ADMINS as ADMINS_GROUP, Directory, TokenError};

use crate::{error::ApiError, workspace::AppState};

/// The workspace id the emulator reports (`/.well-known/databricks-config`, `X-Databricks-Org-Id`).
pub const WORKSPACE_ID: &str = "6051921418418893";

/// The principal a request acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    /// The SCIM id.
    pub id: String,
    /// E-mail of a user, application id of a service principal.
    pub user_name: String,
    pub display_name: String,
    /// Member of `admins`: every object permission is implied.
    pub is_admin: bool,
    pub is_service_principal: bool,
    /// Names of the groups the principal belongs to.
    pub groups: Vec<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Only routes behind the auth layer have a caller; anything else is a routing mistake.
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| ApiError::unauthenticated("Missing credentials."))
    }
}

/// The SCIM endpoints, to be nested under `/api/2.0/preview/scim/v2`.
pub(crate) fn scim_router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/Me", get(scim::me))
        .route("/Users", get(scim::list_users))
        .route("/Users/{id}", get(scim::get_user))
        .route("/ServicePrincipals", get(scim::list_service_principals))
        .route("/ServicePrincipals/{id}", get(scim::get_service_principal))
        .route("/Groups", get(scim::list_groups))
        .route("/Groups/{id}", get(scim::get_group))
}

/// The unauthenticated discovery and token endpoints, merged at the root.
pub(crate) fn oidc_router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/.well-known/databricks-config", get(oauth::host_metadata))
        .route("/oidc/.well-known/oauth-authorization-server", get(oauth::discovery))
        .route("/oidc/v1/token", post(oauth::token))
        .route("/oidc/v1/authorize", get(oauth::authorize))
}
