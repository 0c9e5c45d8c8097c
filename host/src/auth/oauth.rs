//! OAuth tokens from the workspace's own OAuth server, cached in memory and refreshed before
//! they expire: client credentials for a service principal (OAuth M2M) and the refresh-token
//! grant for a user who signed in with `databricks-mcp auth login` or the Databricks CLI
//! (OAuth U2M).
//!
//! The token endpoint comes from `{host}/.well-known/databricks-config` (its `oidc_endpoint`
//! plus `/v1/token`), falling back to `{host}/oidc/v1/token`, as the SDKs find it.
//!
//! Every workspace request asks [`OAuthTokens::token`] for a token. The cache sits behind one
//! async lock held across the refresh, so when many calls find the token about to expire, one
//! of them fetches a new token and the others wait for it and use it: one token request, not
//! one per call.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::AuthError;
use super::u2m::TokenStore;
use crate::workspace::Secret;

/// Refresh this long before expiry at most: a token must outlive the request it is sent with.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// One token request's time limit: auth failures must surface in seconds, not minutes.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(15);
/// The scope the SDKs ask for.
pub const DEFAULT_SCOPE: &str = "all-apis";

/// How new tokens are obtained.
pub enum Grant {
    /// OAuth M2M: a service principal's client id and secret.
    ClientCredentials { client_id: String, client_secret: Secret },
    /// OAuth U2M: a refresh token from an earlier sign-in, rotated on every use and written
    /// back to `store` so the next start still has a valid one.
    RefreshToken { client_id: String, refresh_token: Mutex<Secret>, store: Option<TokenStore> },
}

impl Grant {
    fn describe(&self) -> &'static str {
        match self {
            Self::ClientCredentials { .. } => "OAuth M2M",
            Self::RefreshToken { .. } => "OAuth U2M",
        }
    }
}

/// A token that is still good, with when to stop using it.
#[derive(Clone)]
pub struct Cached {
    pub token: Secret,
    /// Refresh from this instant on.
    pub refresh_at: Instant,
}

/// One workspace's OAuth token source. The HTTP client is the workspace client's (no
/// redirects, the same TLS roots).
pub struct OAuthTokens {
    http: reqwest::Client,
    host: reqwest::Url,
    grant: Grant,
    /// What to fix when the grant is refused: the variables or profile keys that gave it.
    hint: String,
    endpoint: tokio::sync::OnceCell<reqwest::Url>,
    cache: tokio::sync::Mutex<Option<Cached>>,
}

impl std::fmt::Debug for OAuthTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthTokens").field("host", &self.host.as_str()).field("grant", &self.grant.describe()).finish()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl OAuthTokens {
    pub fn new(http: reqwest::Client, host: reqwest::Url, grant: Grant, hint: String, seed: Option<Cached>) -> Self {
        Self { http, host, grant, hint, endpoint: tokio::sync::OnceCell::new(), cache: tokio::sync::Mutex::new(seed) }
    }

    /// A token good for the next request: the cached one, or a fresh one when it is about to
    /// expire. Concurrent callers share one refresh.
    pub async fn token(&self) -> Result<Secret, AuthError> {
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.as_ref()
            && Instant::now() < cached.refresh_at
        {
            return Ok(cached.token.clone());
        }
        let fresh = self.fetch().await?;
        let token = fresh.token.clone();
        *cache = Some(fresh);
        Ok(token)
    }

    /// Forget the cached token (the workspace refused it): the next call fetches another.
    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    /// The token endpoint: discovered once, then reused.
    pub async fn endpoint(&self) -> Result<reqwest::Url, AuthError> {
        self.endpoint.get_or_try_init(|| discover(&self.http, &self.host)).await.cloned()
    }

    async fn fetch(&self) -> Result<Cached, AuthError> {
        let endpoint = self.endpoint().await?;
        let (mut form, basic) = match &self.grant {
            Grant::ClientCredentials { client_id, client_secret } => (
                vec![("grant_type", "client_credentials".to_string()), ("scope", DEFAULT_SCOPE.to_string())],
                Some((client_id.clone(), client_secret.clone())),
            ),
            Grant::RefreshToken { client_id, refresh_token, .. } => {
                let refresh = refresh_token.lock().unwrap_or_else(|e| e.into_inner()).expose().to_string();
                (
                    vec![
                        ("grant_type", "refresh_token".to_string()),
                        ("refresh_token", refresh),
                        ("client_id", client_id.clone()),
                    ],
                    None,
                )
            }
        };
        let mut request = self.http.post(endpoint.clone()).timeout(TOKEN_TIMEOUT);
        if let Some((id, secret)) = basic {
            // HTTP Basic, as the SDKs send client credentials (RFC 6749 §2.3.1).
            request = request.basic_auth(id, Some(secret.expose()));
        }
        form.retain(|(_, v)| !v.is_empty());
        let started = Instant::now();
        let response = request
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form_body(&form))
            .send()
            .await
            .map_err(|e| AuthError::Unreachable {
                host: host_text(&self.host),
                reason: format!("token endpoint {endpoint}: {}", crate::workspace::error_chain(&e)),
            })?;
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        if !status.is_success() {
            let detail = match serde_json::from_slice::<OAuthErrorBody>(&body) {
                Ok(e) => match e.error_description {
                    Some(d) => format!("{}: {d}", e.error),
                    None => e.error,
                },
                Err(_) => format!("HTTP {status}"),
            };
            return Err(AuthError::Refused {
                host: host_text(&self.host),
                what: format!("{} token request to {endpoint} failed ({detail})", self.grant.describe()),
                fix: self.hint.clone(),
            });
        }
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|_| AuthError::Refused {
            host: host_text(&self.host),
            what: format!("{endpoint} did not answer with an OAuth token"),
            fix: "check that the host is a Databricks workspace URL".into(),
        })?;
        let lifetime = Duration::from_secs(parsed.expires_in.unwrap_or(3600));
        // Refresh a minute before expiry, or halfway for tokens that live less than two.
        let refresh_at = started + lifetime.saturating_sub(REFRESH_MARGIN.min(lifetime / 2));
        if let Grant::RefreshToken { refresh_token, store, .. } = &self.grant {
            if let Some(next) = &parsed.refresh_token {
                *refresh_token.lock().unwrap_or_else(|e| e.into_inner()) = Secret::new(next.clone());
            }
            if let Some(store) = store {
                let refresh = refresh_token.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let expiry = std::time::SystemTime::now() + lifetime;
                if let Err(e) = store.save(&Secret::new(parsed.access_token.clone()), &refresh, expiry) {
                    tracing::warn!("could not update the token cache: {e}");
                }
            }
        }
        tracing::debug!(host = %host_text(&self.host), grant = self.grant.describe(), expires_in = lifetime.as_secs(), "obtained an OAuth token");
        Ok(Cached { token: Secret::new(parsed.access_token), refresh_at })
    }
}

/// `a=1&b=2`, form-encoded (reqwest's own `form` feature is not enabled here).
pub fn form_body(pairs: &[(&str, String)]) -> String {
    let mut url = reqwest::Url::parse("http://form.invalid/").expect("static URL");
    url.query_pairs_mut().extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
    url.query().unwrap_or_default().to_string()
}

fn host_text(host: &reqwest::Url) -> String {
    host.as_str().trim_end_matches('/').to_string()
}

#[derive(Deserialize)]
struct HostMetadata {
    oidc_endpoint: String,
}

/// The token endpoint from the host's metadata, else the conventional path.
async fn discover(http: &reqwest::Client, host: &reqwest::Url) -> Result<reqwest::Url, AuthError> {
    let oidc = oidc_endpoint(http, host).await?;
    reqwest::Url::parse(&format!("{oidc}/v1/token"))
        .map_err(|e| AuthError::Unreachable { host: host_text(host), reason: format!("bad OIDC endpoint {oidc}: {e}") })
}

/// The `oidc_endpoint` of `/.well-known/databricks-config` (no trailing slash), or `{host}/oidc`
/// when the workspace does not publish it. An unreachable host is an error here: nothing else
/// would work either.
pub async fn oidc_endpoint(http: &reqwest::Client, host: &reqwest::Url) -> Result<String, AuthError> {
    let url = host.join(".well-known/databricks-config").expect("static path");
    let response = http
        .get(url)
        .timeout(TOKEN_TIMEOUT)
        .send()
        .await
        .map_err(|e| AuthError::Unreachable { host: host_text(host), reason: crate::workspace::error_chain(&e) })?;
    if response.status().is_success()
        && let Ok(meta) = response.json::<HostMetadata>().await
        && reqwest::Url::parse(&meta.oidc_endpoint).is_ok()
    {
        return Ok(meta.oidc_endpoint.trim_end_matches('/').to_string());
    }
    Ok(format!("{}/oidc", host_text(host)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_are_encoded() {
        assert_eq!(
            form_body(&[("grant_type", "client_credentials".into()), ("scope", "all apis&x".into())]),
            "grant_type=client_credentials&scope=all+apis%26x"
        );
    }
}
