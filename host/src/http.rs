//! The HTTP transport (`serve --http ADDR`): MCP streamable HTTP at `/mcp` through rmcp, with
//! `/healthz` and `/readyz` beside it, for one host serving a team.
//!
//! A request to `/mcp` passes, in order: the [`Guard`] (`Host` and `Origin`, 403), the
//! [`InboundAuth`] check (401), which then removes the credential headers and, in per-user
//! mode, leaves the caller's token in the request's extensions for the handler
//! ([`crate::mcp::Identity::PerUser`]); then rmcp's streamable HTTP service, which serves the
//! current protocol revision (stateless) and the legacy `initialize` handshake (sessions) on the
//! same endpoint, and hands every request's HTTP parts to the handler.
//!
//! Shutdown (SIGTERM or Ctrl-C): `/readyz` turns 503, no new connection is accepted, calls in
//! flight get `http.shutdown_grace_seconds` to finish, then sessions close and the plugins'
//! compensations are given their time (as on stdio).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt as _;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::auth_inbound::{InboundAuth, strip_credentials};
use crate::http_guard::Guard;
use crate::mcp::{Identity, McpServer};
use crate::server::ServeOptions;

/// How long calls in flight may run on after SIGTERM, unless `http.shutdown_grace_seconds`.
const DEFAULT_GRACE: Duration = Duration::from_secs(30);
/// At shutdown, how long results already computed get to reach their clients.
const FLUSH: Duration = Duration::from_secs(2);
/// How long a readiness answer is reused: probes every second must not each reach the workspace.
const READY_CACHE: Duration = Duration::from_secs(5);

/// `--http` values: `HOST:PORT`, `[V6]:PORT`, `localhost:PORT`, or a bare `PORT` (loopback).
pub fn parse_listen_addr(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    if let Some(port) = text.strip_prefix("localhost:") {
        let port = port.parse::<u16>().map_err(|_| format!("`{port}` is not a port number"))?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    text.parse::<SocketAddr>().map_err(|_| {
        format!("`{text}` is not an address to listen on: use IP:PORT (e.g. 127.0.0.1:8080 or 0.0.0.0:8080) or a port")
    })
}

/// Everything checked before anything is loaded: a bad configuration is a usage error.
#[derive(Debug)]
pub struct HttpSetup {
    addr: SocketAddr,
    auth: InboundAuth,
    guard: Guard,
    grace: Duration,
}

impl HttpSetup {
    pub fn new(options: &ServeOptions, addr: SocketAddr) -> anyhow::Result<Self> {
        let http = &options.config.http;
        let auth = InboundAuth::from_config(http)?;
        if !addr.ip().is_loopback() && !auth.requires_credential() {
            bail!(
                "refusing to listen on {addr} without inbound authentication: anyone who can reach it could use the \
                 workspace. Set DATABRICKS_MCP_HTTP_AUTH=per-user (each caller's own Databricks token) or \
                 DATABRICKS_MCP_HTTP_TOKENS (static bearer tokens), or listen on 127.0.0.1"
            );
        }
        let guard = Guard::new(addr, &http.allowed_hosts, &http.allowed_origins)?;
        let grace = http.shutdown_grace_seconds.map_or(DEFAULT_GRACE, Duration::from_secs);
        Ok(Self { addr, auth, guard, grace })
    }

    /// Listen, load the plugins, serve until SIGTERM or Ctrl-C, then shut down gracefully.
    pub async fn serve(self, options: ServeOptions) -> anyhow::Result<()> {
        // Bind first: a port in use fails at once, before seconds of plugin loading.
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .with_context(|| format!("listening on {}: is another server using the port?", self.addr))?;
        let local = listener.local_addr().context("reading the bound address")?;
        let identity = if matches!(self.auth, InboundAuth::PerUser) { Identity::PerUser } else { Identity::Host };
        if identity == Identity::PerUser {
            warn_about_ignored_credentials();
        }
        if self.guard.any_host() {
            tracing::warn!(
                "listening off loopback with no http.allowed_hosts: any Host header is accepted; set allowed_hosts to \
                 the names clients use"
            );
        }
        let (server, runtime) = crate::server::build_with(&options, identity).await?;

        let sessions = CancellationToken::new();
        let state = Arc::new(AppState {
            guard: self.guard,
            auth: self.auth,
            server: server.clone(),
            draining: AtomicBool::new(false),
            ready: Mutex::new(None),
            responses: tokio::sync::watch::Sender::new(0),
        });
        let app = router(state.clone(), mcp_service(&server, sessions.clone()));
        let stop_accepting = CancellationToken::new();
        let stop = stop_accepting.clone();
        // Without TCP_NODELAY an SSE response, written in several small pieces, waits on the
        // client's delayed ACK: measured, every legacy-session call took 44 ms even alone.
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!("could not set TCP_NODELAY on a connection: {e}");
            }
        });
        let mut serving =
            tokio::spawn(
                async move { axum::serve(listener, app).with_graceful_shutdown(stop.cancelled_owned()).await },
            );
        tracing::info!(auth = %state.auth.describe(), "listening on http://{local}/mcp");

        tokio::select! {
            ended = &mut serving => {
                ended.context("the HTTP server task failed")?.context("serving HTTP")?;
                bail!("the HTTP server stopped by itself");
            }
            signal = shutdown_signal() => tracing::info!("{signal}: shutting down; calls in flight have {:?} to finish", self.grace),
        }
        state.draining.store(true, Ordering::SeqCst);
        stop_accepting.cancel();
        if !server.wait_idle(self.grace).await {
            tracing::warn!(
                calls = server.calls_in_flight(),
                "calls still running after the grace period are cancelled"
            );
        }
        // A handler that has returned has not yet written its result to its response stream:
        // let the POST responses finish, within a bound (a `subscriptions/listen` one never does).
        let mut open = state.responses.subscribe();
        let _ = tokio::time::timeout(FLUSH, open.wait_for(|n| *n == 0)).await;
        // Ends the sessions and their event streams, so the connections holding them close.
        sessions.cancel();
        match tokio::time::timeout(Duration::from_secs(5), serving).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!("HTTP server: {e}"),
            Ok(Err(e)) => tracing::warn!("HTTP server task: {e}"),
            Err(_) => tracing::warn!("connections still open 5 s after the sessions ended; closing them"),
        }
        // Calls cut short may have compensations to send.
        runtime.drain(Duration::from_secs(10)).await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// In per-user mode the environment's own credential is never used; say so, by variable name
/// only, when one is there. Databricks Apps puts the app's service principal in
/// `DATABRICKS_CLIENT_ID`/`DATABRICKS_CLIENT_SECRET`: a server that used it would make every
/// user act as the app.
fn warn_about_ignored_credentials() {
    let present: Vec<&str> = ["DATABRICKS_TOKEN", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET"]
        .into_iter()
        .filter(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
        .collect();
    if !present.is_empty() {
        tracing::info!(
            "per-user mode: {} in the environment {} not used for tool calls; each call uses its caller's token",
            present.join(", "),
            if present.len() == 1 { "is" } else { "are" }
        );
    }
}

/// rmcp's streamable HTTP service for `server`. Host and Origin are checked by the [`Guard`]
/// in front, for every route, so rmcp's own checks are off rather than configured twice.
fn mcp_service(
    server: &McpServer,
    sessions: CancellationToken,
) -> StreamableHttpService<McpServer, LocalSessionManager> {
    // A stateless request whose handler sends nothing before its result (no progress, no log) is
    // answered with plain JSON: one write, and a body the client can read to its end, so its
    // connection goes back to the pool. Anything sent before the result switches to SSE, so
    // progress still arrives.
    let config = StreamableHttpServerConfig::default()
        .with_json_response(true)
        .disable_allowed_hosts()
        .disable_allowed_origins()
        .with_cancellation_token(sessions);
    let server = server.clone();
    StreamableHttpService::new(move || Ok(server.clone()), Arc::new(LocalSessionManager::default()), config)
}

struct AppState {
    guard: Guard,
    auth: InboundAuth,
    server: McpServer,
    draining: AtomicBool,
    /// The last readiness answer and when it was computed.
    ready: Mutex<Option<(Instant, Result<(), String>)>>,
    /// `/mcp` POST responses still being sent (each carries its request's result).
    responses: tokio::sync::watch::Sender<usize>,
}

/// Counts a POST response as open until its body is dropped: sent whole, or the client gone.
struct OpenResponse(Arc<AppState>);

impl OpenResponse {
    fn new(state: Arc<AppState>) -> Self {
        state.responses.send_modify(|n| *n += 1);
        Self(state)
    }
}

impl Drop for OpenResponse {
    fn drop(&mut self) {
        self.0.responses.send_modify(|n| *n = n.saturating_sub(1));
    }
}

fn router(state: Arc<AppState>, mcp: StreamableHttpService<McpServer, LocalSessionManager>) -> Router {
    let guarded = Router::new().route_service("/mcp", mcp).layer(middleware::from_fn_with_state(state.clone(), admit));
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).with_state(state).merge(guarded)
}

/// Host and Origin (403), then the credential (401), before rmcp sees the request.
async fn admit(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    if let Err(refusal) = state.guard.check(request.uri(), request.headers()) {
        tracing::info!("refused an HTTP request: {refusal}");
        return (StatusCode::FORBIDDEN, format!("Forbidden: {refusal}\n")).into_response();
    }
    match state.auth.authenticate(request.headers()) {
        Ok(credential) => {
            strip_credentials(request.headers_mut());
            if let Some(credential) = credential {
                request.extensions_mut().insert(credential);
            }
            if request.method() != axum::http::Method::POST {
                return next.run(request).await;
            }
            let open = OpenResponse::new(state.clone());
            let (parts, body) = next.run(request).await.into_parts();
            let body = futures::StreamExt::map(body.into_data_stream(), move |chunk| {
                let _open = &open;
                chunk
            });
            Response::from_parts(parts, axum::body::Body::from_stream(body))
        }
        Err(refusal) => {
            tracing::info!("refused an HTTP request: {refusal}");
            (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], format!("Unauthorized: {refusal}\n"))
                .into_response()
        }
    }
}

/// The process is up and answering.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready to serve: not shutting down, at least one plugin loaded, the workspace answering.
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let snapshot = state.server.registry().snapshot();
    let plugins = snapshot.plugins.len();
    let draining = state.draining.load(Ordering::SeqCst);
    let workspace = workspace_ready(&state).await;
    let ready = !draining && plugins > 0 && workspace.is_ok();
    let body = json!({
        "ready": ready,
        "draining": draining,
        "plugins": plugins,
        "tools": snapshot.tool_count(),
        "workspace": match &workspace { Ok(()) => "reachable".to_string(), Err(e) => e.clone() },
    });
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(body)).into_response()
}

async fn workspace_ready(state: &AppState) -> Result<(), String> {
    if let Some((at, result)) = state.ready.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
        && at.elapsed() < READY_CACHE
    {
        return result.clone();
    }
    let result = match state.server.workspace() {
        Some(client) => client.probe(Duration::from_secs(3)).await,
        None => Err("no workspace configured: set DATABRICKS_HOST".to_string()),
    };
    *state.ready.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), result.clone()));
    result
}

/// SIGTERM (how containers and Databricks Apps stop a process) or Ctrl-C; names which.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "interrupt",
            },
            Err(e) => {
                tracing::warn!("cannot watch for SIGTERM ({e}); only Ctrl-C stops the server gracefully");
                let _ = tokio::signal::ctrl_c().await;
                "interrupt"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "interrupt"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        assert_eq!(parse_listen_addr("8080"), Ok("127.0.0.1:8080".parse().unwrap()));
        assert_eq!(parse_listen_addr("localhost:9"), Ok("127.0.0.1:9".parse().unwrap()));
        assert_eq!(parse_listen_addr("0.0.0.0:8000"), Ok("0.0.0.0:8000".parse().unwrap()));
        assert_eq!(parse_listen_addr("[::1]:8000"), Ok("[::1]:8000".parse().unwrap()));
        assert!(parse_listen_addr("example.com:80").unwrap_err().contains("IP:PORT"));
        assert!(parse_listen_addr("localhost:http").is_err());
    }
}
