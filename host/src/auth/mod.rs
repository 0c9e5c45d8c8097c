//! Outbound authentication: which workspace each call goes to and with what credential,
//! resolved the way the Databricks CLI and SDKs resolve it ("unified authentication").
//!
//! - [`profiles`]: the CLI's configuration file (`~/.databrickscfg`), INI profiles.
//! - [`resolve`]: the settings of one workspace from the environment and a profile, and which
//!   method they select (PAT, OAuth M2M, OAuth U2M), with the SDKs' names and precedence.
//! - [`oauth`]: OAuth tokens from the workspace's token endpoint, cached and refreshed, one
//!   refresh shared by concurrent calls.
//! - [`u2m`]: `databricks-mcp auth login` (authorization code with PKCE through a loopback
//!   redirect), the on-disk token cache, and reuse of the Databricks CLI's cache.
//! - [`workspaces`]: several named workspaces, the `workspace` argument every tool gets, and
//!   the host's own `list_workspaces` tool.
//! - [`doctor`]: `databricks-mcp doctor`, which checks each workspace end to end.
//!
//! A credential lives in the host only: plugins name paths, never hosts or tokens, and every
//! secret is a [`Secret`](crate::workspace::Secret), which never prints.

pub mod doctor;
pub mod oauth;
pub mod profiles;
pub mod resolve;
pub mod u2m;
pub mod workspaces;

use std::sync::Arc;

use crate::workspace::Secret;

/// Why a workspace cannot be used. Messages say what is wrong and what to set; none contains a
/// credential.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// The configuration is incomplete or contradictory; nothing was sent.
    #[error("{0}")]
    Config(String),
    /// The host did not answer.
    #[error("cannot reach {host}: {reason}; check the host (DATABRICKS_HOST or the profile's `host`) and the network")]
    Unreachable { host: String, reason: String },
    /// The host answered and refused the credential.
    #[error("{host}: {what}; {fix}")]
    Refused { host: String, what: String, fix: String },
}

/// What a workspace request is authenticated with.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A personal access token, or (per-user mode) the caller's own token.
    Token(Secret),
    /// OAuth (M2M or U2M): a token fetched and refreshed as needed.
    OAuth(Arc<oauth::OAuthTokens>),
}

impl Credential {
    /// The bearer token for the next request.
    pub async fn bearer(&self) -> Result<Secret, AuthError> {
        match self {
            Self::Token(token) => Ok(token.clone()),
            Self::OAuth(tokens) => tokens.token().await,
        }
    }

    /// The workspace refused the last token: an OAuth token is fetched anew next time (it may
    /// have been revoked); a static token cannot be helped.
    pub async fn refused(&self) {
        if let Self::OAuth(tokens) = self {
            tokens.invalidate().await;
        }
    }
}
