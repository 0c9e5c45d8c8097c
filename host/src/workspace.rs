//! The host's client for the Databricks workspace API: one pooled HTTP client, the credential,
//! retries of throttling and transient failures, and response size limits. Plugins reach it only
//! through `call::CallState`, which checks their grants first. Which host and credential a
//! workspace has is decided in [`crate::auth`].

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use rand::Rng as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::auth::Credential;
use crate::config::WorkspaceConfig;
use crate::manifest::Method;

/// Attempts at a workspace that refuses connections or whose name does not resolve: that is
/// rarely fixed in seconds, and the caller should hear about it in seconds.
const MAX_UNCONNECTED_ATTEMPTS: u32 = 3;

/// A secret that never prints.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The value, for sending it or comparing it; never for a log or a message.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A request to the workspace, already checked against the plugin's grants.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// The workspace's answer.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why no answer came back.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Timeout(String),
    #[error("the response body is larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
}

/// The workspace API client.
#[derive(Debug, Clone)]
pub struct WorkspaceClient {
    http: reqwest::Client,
    base: reqwest::Url,
    /// `None` for the shared client of per-user mode, which only ever sends a copy made by
    /// [`Self::with_token`] for one caller's request.
    credential: Option<Credential>,
    /// What to do when the workspace refuses the credential (HTTP 401), for tool errors:
    /// which setting to fix, or `auth login` again.
    refusal_hint: Option<Arc<str>>,
    config: WorkspaceConfig,
}

impl WorkspaceClient {
    /// Connect to `host` (a URL, or a bare host name meaning https) with a personal access token.
    pub fn new(host: &str, token: Secret, config: WorkspaceConfig) -> anyhow::Result<Self> {
        Ok(Self::without_credential(host, config)?.with_token(token))
    }

    /// A copy that authenticates with `credential`; it shares the connection pool.
    pub fn with_credential(&self, credential: Credential) -> Self {
        Self { credential: Some(credential), ..self.clone() }
    }

    /// The pooled HTTP client, for the token requests of OAuth (same TLS roots, no redirects).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The workspace URL with a trailing slash.
    pub fn base(&self) -> &reqwest::Url {
        &self.base
    }

    /// A client for `host` that sends nothing until a credential is given to it.
    pub fn without_credential(host: &str, config: WorkspaceConfig) -> anyhow::Result<Self> {
        let base = normalize_host(host)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("databricks-mcp/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(config.http_timeout_seconds))
            .connect_timeout(Duration::from_secs(10))
            // The plugin names paths, never hosts: a redirect elsewhere would carry our credential.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the HTTP client")?;
        Ok(Self { http, base, credential: None, refusal_hint: None, config })
    }

    /// A copy that sends `token`, for one caller's requests; it shares the connection pool.
    pub fn with_token(&self, token: Secret) -> Self {
        self.with_credential(Credential::Token(token))
    }

    /// A copy whose refused credential is explained by `hint` (see [`Self::refusal_hint`]).
    pub fn with_refusal_hint(mut self, hint: String) -> Self {
        self.refusal_hint = Some(hint.into());
        self
    }

    /// What the caller should do when the workspace refused this client's credential.
    pub fn refusal_hint(&self) -> &str {
        self.refusal_hint.as_deref().unwrap_or(
            "the token is invalid or expired: fix the credential (`databricks-mcp doctor` says which setting)",
        )
    }

    /// Whether this client has a credential of its own.
    pub fn has_credential(&self) -> bool {
        self.credential.is_some()
    }

    /// The bearer token the next request would send (`doctor` checks it can be obtained).
    pub async fn bearer(&self) -> Result<Secret, crate::auth::AuthError> {
        match &self.credential {
            Some(credential) => credential.bearer().await,
            None => Err(crate::auth::AuthError::Config(
                "no credential: in per-user mode each request brings its own".into(),
            )),
        }
    }

    /// Whether the workspace answers HTTP at all (any status counts), for readiness probes. No
    /// credential is sent: the probe must not depend on, or reveal, whose token is in use.
    pub async fn probe(&self, timeout: Duration) -> Result<(), String> {
        match self.http.get(self.base.clone()).timeout(timeout).send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(format!("{} does not answer: {}", self.host(), error_chain(&e))),
        }
    }

    /// The workspace URL, for logs.
    pub fn host(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// Send a request, retrying 429, 503 and transport failures with backoff (honouring
    /// `Retry-After`) within the configured attempts and time, and read at most `max_body` bytes
    /// of the answer.
    pub async fn send(&self, request: &ApiRequest, max_body: usize) -> Result<ApiResponse, SendError> {
        let started = Instant::now();
        let budget = Duration::from_secs(self.config.retry_timeout_seconds);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let outcome = self.attempt(request, max_body).await;
            let wait = match &outcome {
                Ok(response) if response.status == 429 || response.status == 503 => {
                    retry_after(&response.headers).unwrap_or_else(|| backoff(attempt))
                }
                // A POST or PATCH that may have reached the workspace (a timeout, a dropped
                // connection) is not sent again: creating a cluster or running a job twice is worse
                // than an error. One that never connected is safe to retry.
                Err(Attempt::Transport { connected: false, .. }) if attempt < MAX_UNCONNECTED_ATTEMPTS => {
                    backoff(attempt)
                }
                Err(Attempt::Transport { connected: false, .. }) => {
                    let error = outcome.err().map(Attempt::into_send_error);
                    return Err(SendError::Unavailable(format!(
                        "{} after {attempt} attempts in {:.1} s; check the workspace URL (DATABRICKS_HOST or the profile's `host`) and the network",
                        error.map(|e| e.to_string()).unwrap_or_default(),
                        started.elapsed().as_secs_f64()
                    )));
                }
                Err(Attempt::Transport { connected: true, .. }) if request.method.is_idempotent() => backoff(attempt),
                _ => return outcome.map_err(Attempt::into_send_error),
            };
            let wait = wait + jitter();
            if attempt >= self.config.max_attempts || started.elapsed() + wait > budget {
                return match outcome {
                    // The last answer is still an answer: the plugin parses the 429 or 503.
                    Ok(response) => Ok(response),
                    Err(e) => Err(SendError::Unavailable(format!(
                        "{} after {attempt} attempts in {:.1} s",
                        e.into_send_error(),
                        started.elapsed().as_secs_f64()
                    ))),
                };
            }
            tracing::debug!(method = %request.method, path = %request.path, attempt, wait_ms = wait.as_millis() as u64, "retrying workspace request");
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, request: &ApiRequest, max_body: usize) -> Result<ApiResponse, Attempt> {
        let mut url = self.base.clone();
        url.set_path(&request.path);
        if !request.query.is_empty() {
            url.query_pairs_mut().extend_pairs(request.query.iter());
        }
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Head => reqwest::Method::HEAD,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::ACCEPT, HeaderValue::from_static("application/json"));
        for (name, value) in &request.headers {
            // Checked by the caller; anything unparsable is dropped rather than sent mangled.
            if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
                headers.insert(n, v);
            }
        }
        let Some(credential) = &self.credential else {
            return Err(Attempt::Fatal(SendError::Unavailable(
                "no credential for this request: in per-user mode each request must carry its caller's Databricks token"
                    .into(),
            )));
        };
        let token = credential.bearer().await.map_err(|e| Attempt::Fatal(SendError::Unavailable(e.to_string())))?;
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.0))
            .map_err(|_| Attempt::Fatal(SendError::Unavailable("the token is not a valid header value".into())))?;
        auth.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, auth);
        let mut builder = self.http.request(method, url).headers(headers);
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let mut response = builder.send().await.map_err(Attempt::from_reqwest)?;
        let status = response.status().as_u16();
        if status == 401 {
            // A revoked or expired OAuth token: fetch a new one for the next request.
            credential.refused().await;
        }
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        if response.content_length().is_some_and(|len| len > max_body as u64) {
            return Err(Attempt::Fatal(SendError::TooLarge { limit: max_body }));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(Attempt::from_reqwest)? {
            if body.len() + chunk.len() > max_body {
                return Err(Attempt::Fatal(SendError::TooLarge { limit: max_body }));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(ApiResponse { status, headers, body })
    }
}

/// How one attempt failed.
enum Attempt {
    /// The connection failed or dropped, or the request timed out; `connected` says whether the
    /// request may have reached the workspace.
    Transport { error: SendError, connected: bool },
    /// Not worth retrying.
    Fatal(SendError),
}

impl Attempt {
    fn from_reqwest(error: reqwest::Error) -> Self {
        // reqwest's message can include the URL; that is the workspace host and path, no secret.
        let message = error_chain(&error);
        let connected = !error.is_connect();
        if error.is_timeout() {
            Self::Transport {
                error: SendError::Timeout(format!("the workspace did not answer in time: {message}")),
                connected,
            }
        } else if error.is_builder() {
            Self::Fatal(SendError::Unavailable(format!("invalid request: {message}")))
        } else {
            Self::Transport {
                error: SendError::Unavailable(format!("could not reach the workspace: {message}")),
                connected,
            }
        }
    }

    fn into_send_error(self) -> SendError {
        match self {
            Self::Transport { error, .. } | Self::Fatal(error) => error,
        }
    }
}

/// An error with its sources, `: `-separated.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

/// `Retry-After` in whole seconds (the HTTP-date form is not used by Databricks), capped.
fn retry_after(headers: &[(String, String)]) -> Option<Duration> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
        .and_then(|(_, v)| v.trim().parse::<u64>().ok())
        .map(|secs| Duration::from_secs(secs.min(60)))
}

/// 0.5 s, 1 s, 2 s, ... up to 10 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << attempt.saturating_sub(1).min(5))).min(Duration::from_secs(10))
}

fn jitter() -> Duration {
    Duration::from_millis(rand::rng().random_range(0..=250))
}

/// `https://` for a bare host; no trailing slash, no `:443`, no path.
fn normalize_host(host: &str) -> anyhow::Result<reqwest::Url> {
    let host = host.trim().trim_end_matches('/');
    let with_scheme = if host.contains("://") { host.to_string() } else { format!("https://{host}") };
    let mut url = reqwest::Url::parse(&with_scheme).context("DATABRICKS_HOST is not a valid URL")?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        bail!("DATABRICKS_HOST must be the http(s) URL of the workspace");
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Credentials belong in DATABRICKS_TOKEN; a URL is logged and shown in errors.
        bail!("DATABRICKS_HOST must not contain a user name or password; set DATABRICKS_TOKEN instead");
    }
    if url.port() == Some(443) && url.scheme() == "https" {
        let _ = url.set_port(None);
    }
    url.set_path("/");
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_normalised_like_the_sdks() {
        assert_eq!(
            normalize_host("adb-1.azuredatabricks.net/").unwrap().as_str(),
            "https://adb-1.azuredatabricks.net/"
        );
        assert_eq!(
            normalize_host("https://x.cloud.databricks.com:443").unwrap().as_str(),
            "https://x.cloud.databricks.com/"
        );
        assert_eq!(normalize_host("http://127.0.0.1:8080").unwrap().as_str(), "http://127.0.0.1:8080/");
        assert!(normalize_host("ftp://x").is_err());
        let err = normalize_host("https://me:secret@x.cloud.databricks.com").unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn retry_after_and_backoff() {
        assert_eq!(retry_after(&[("retry-after".into(), "2".into())]), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(&[("Retry-After".into(), "Wed, 21 Oct 2015 07:28:00 GMT".into())]), None);
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(3), Duration::from_secs(2));
        assert_eq!(backoff(30), Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_client_without_credential_sends_nothing_and_a_copy_sends_its_own_token() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Port 9 on loopback: nothing answers, so any request that left would fail differently.
        let shared = WorkspaceClient::without_credential("http://127.0.0.1:9", WorkspaceConfig::default()).unwrap();
        let request = ApiRequest {
            method: Method::Get,
            path: "/api/2.1/clusters/list".into(),
            query: vec![],
            headers: vec![],
            body: None,
        };
        let refused = shared.send(&request, 1024).await.unwrap_err().to_string();
        assert!(refused.contains("no credential"), "{refused}");
        let user = shared.with_token(Secret::new("dapi-user".into()));
        assert!(matches!(&user.credential, Some(Credential::Token(t)) if t.expose() == "dapi-user"));
        assert!(shared.credential.is_none(), "the shared client keeps no caller's token");
        assert!(!format!("{user:?}").contains("dapi-user"));
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret::new("dapi-secret".into())), "Secret(..)");
    }
}
