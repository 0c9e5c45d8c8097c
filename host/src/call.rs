//! The state of one tool call inside its store, and the host side of the contract's imports.
//!
//! Every call gets a fresh store holding a [`CallState`]: an empty WASI context (no files, no
//! environment, no arguments, no network), the memory limiter, and the [`CallEnv`] that decides
//! what the plugin may send. The env is shared with the caller so that, when a call is
//! cancelled or runs out of time and its store is dropped, the caller can still send the
//! compensations the plugin registered.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::{self, LogLevel, WitRequest, WitResponse, WitSendError};
use crate::config::{Limits, Settings};
use crate::guest_output::GuestOutput;
use crate::manifest::{self, Grant, normalize_path};
use crate::workspace::{ApiRequest, SendError, WorkspaceClient};

/// Most compensations one call may register.
const MAX_COMPENSATIONS: usize = 16;
/// Bytes of guest stdout and stderr kept per call (for the log and for panic messages).
const PIPE_CAPACITY: usize = 64 * 1024;
/// Log lines and progress reports one call may send; past these they are dropped, so a plugin
/// in a loop cannot flood the log or the client.
const MAX_LOG_LINES: u32 = 1000;
const MAX_PROGRESS: u32 = 1000;
/// Longest log line or progress message kept.
const MAX_MESSAGE: usize = 2048;
/// Resource links one tool call may attach to its result; more are dropped.
pub const MAX_LINKS: usize = 8;

/// A progress report for the client.
#[derive(Debug, Clone)]
pub struct Progress {
    pub progress: f64,
    pub total: Option<f64>,
    pub message: Option<String>,
}

/// Where progress reports go: the MCP layer supplies this when the client asked for progress.
pub type ProgressSink = Arc<dyn Fn(Progress) -> BoxFuture<'static, ()> + Send + Sync>;

/// Everything about a call that outlives its store.
pub struct CallEnv {
    pub plugin: Arc<str>,
    pub tool: String,
    pub request_id: String,
    /// The grants in force (declared, narrowed by the operator when configured).
    pub grants: Arc<[Grant]>,
    /// What the plugin declared, when the operator narrowed it: a refusal then says who refused.
    pub narrowed_from: Option<Arc<[Grant]>>,
    pub limits: Limits,
    pub settings: Settings,
    pub client: Option<WorkspaceClient>,
    pub progress: Option<ProgressSink>,
    pub cancel: CancellationToken,
    pub deadline: Instant,
    pub compensations: Mutex<Vec<(u32, ApiRequest)>>,
    /// Only GET and HEAD may be sent: a resource read, prompt or completion in read-only mode
    /// (they serve reading, and read-only mode must hold whatever a plugin's grants say).
    pub read_only_sends: bool,
    /// Resource links the plugin attached to a tool call's result (`link-resource`).
    pub links: Mutex<Vec<crate::content::Resource>>,
    /// The workspace refused the credential (HTTP 401) during this call: a failure then says
    /// what to fix, which the plugin cannot know.
    pub refused: AtomicBool,
}

impl std::fmt::Debug for CallEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallEnv").field("plugin", &self.plugin).field("tool", &self.tool).finish_non_exhaustive()
    }
}

impl CallEnv {
    /// Check a request from the plugin and turn it into one the workspace client can send.
    /// Errors name the rule that refused it.
    pub fn authorize(&self, request: WitRequest) -> Result<ApiRequest, String> {
        let method = request.method.into();
        let path = normalize_path(&request.path)?.to_string();
        if let Some(what) = manifest::denied(method, &path) {
            return Err(format!("{method} {path} reaches {what}, which no plugin may use"));
        }
        if self.read_only_sends && !matches!(method, manifest::Method::Get | manifest::Method::Head) {
            return Err(format!(
                "{method} {path} is refused: the server is in read-only mode (policy.read_only), and resource reads, prompts and completions may only send GET and HEAD requests"
            ));
        }
        if !self.grants.iter().any(|g| g.allows(method, &path)) {
            if let Some(declared) = &self.narrowed_from
                && declared.iter().any(|g| g.allows(method, &path))
            {
                return Err(format!(
                    "{method} {path} was declared by plugin `{}`, but the operator narrowed its grants (plugins.{}.grants in the config) to: {}",
                    self.plugin,
                    self.plugin,
                    list(&self.grants)
                ));
            }
            return Err(format!(
                "{method} {path} is outside the grants of plugin `{}` (it declared: {})",
                self.plugin,
                list(self.narrowed_from.as_deref().unwrap_or(&self.grants))
            ));
        }
        for (name, _) in &request.headers {
            let lower = name.to_ascii_lowercase();
            if lower != "accept" && lower != "content-type" {
                return Err(format!(
                    "header `{}` may not be set by a plugin (the host sets authorization, host and the workspace headers; plugins may set accept and content-type)",
                    sanitize(name, 100)
                ));
            }
        }
        Ok(ApiRequest { method, path, query: request.query, headers: request.headers, body: request.body })
    }

    /// Take the compensations still registered, e.g. once the call was cancelled.
    pub fn take_compensations(&self) -> Vec<ApiRequest> {
        let mut list = self.compensations.lock().unwrap_or_else(|e| e.into_inner());
        list.drain(..).map(|(_, r)| r).collect()
    }
}

/// Memory limiter over all the linear memories of the instance together (a component can have
/// several), which remembers whether the limit was hit so the error can name it.
#[derive(Debug)]
pub struct CallLimiter {
    pub memory_limit: usize,
    pub memory_used: usize,
    pub memory_hit: bool,
}

impl ResourceLimiter for CallLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let total = self.memory_used.saturating_add(desired.saturating_sub(current));
        if total > self.memory_limit {
            self.memory_hit = true;
            // Trap rather than return "no": a Rust guest aborts on allocation failure anyway, and
            // the trap carries the reason.
            wasmtime::bail!("memory limit of {} MiB exceeded", self.memory_limit >> 20);
        }
        self.memory_used = total;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// The data of one call's store.
pub struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limiter: CallLimiter,
    pub env: Arc<CallEnv>,
    requests: u32,
    log_lines: u32,
    progress_reports: u32,
    next_compensation: u32,
}

impl CallState {
    pub fn new(env: Arc<CallEnv>, stdout: GuestOutput, stderr: GuestOutput) -> Self {
        // Deny by default is wasmtime-wasi's behaviour already; say it here so a reader (and a
        // future default change) cannot miss it.
        let wasi = WasiCtx::builder()
            .stdout(stdout)
            .stderr(stderr)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .build();
        let limiter = CallLimiter { memory_limit: env.limits.memory_bytes, memory_used: 0, memory_hit: false };
        Self {
            wasi,
            table: ResourceTable::new(),
            limiter,
            env,
            requests: 0,
            log_lines: 0,
            progress_reports: 0,
            next_compensation: 1,
        }
    }

    /// New guest stdout and stderr of the standard size.
    pub fn pipes() -> (GuestOutput, GuestOutput) {
        (GuestOutput::new(PIPE_CAPACITY), GuestOutput::new(PIPE_CAPACITY))
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl bindings::databricks_mcp::plugin::types::Host for CallState {}
impl bindings::databricks_mcp::plugin::content_types::Host for CallState {}

impl bindings::databricks_mcp::plugin::workspace::Host for CallState {
    async fn send(&mut self, request: WitRequest) -> Result<WitResponse, WitSendError> {
        let env = self.env.clone();
        let request = env.authorize(request).map_err(|reason| {
            tracing::warn!(plugin = %env.plugin, tool = %env.tool, "refused workspace request: {reason}");
            WitSendError::Refused(reason)
        })?;
        self.requests += 1;
        if self.requests > env.limits.max_requests {
            return Err(WitSendError::LimitExceeded(format!(
                "this call already sent {} workspace requests, the limit per call",
                env.limits.max_requests
            )));
        }
        let Some(client) = &env.client else {
            return Err(WitSendError::Unavailable(
                "no Databricks workspace is configured: set DATABRICKS_HOST and DATABRICKS_TOKEN".into(),
            ));
        };
        let started = Instant::now();
        let result = client.send(&request, env.limits.max_response_bytes).await;
        match &result {
            Ok(r) => {
                tracing::debug!(plugin = %env.plugin, method = %request.method, path = %request.path, status = r.status, us = started.elapsed().as_micros() as u64, "workspace request")
            }
            Err(e) => {
                tracing::warn!(plugin = %env.plugin, method = %request.method, path = %request.path, "workspace request failed: {e}")
            }
        }
        match result {
            Ok(r) => {
                if r.status == 401 {
                    env.refused.store(true, Ordering::Relaxed);
                }
                Ok(WitResponse { status: r.status, headers: r.headers, body: r.body })
            }
            Err(SendError::TooLarge { limit }) => Err(WitSendError::LimitExceeded(format!(
                "the response to {} {} is larger than the limit of {} MiB",
                request.method,
                request.path,
                limit >> 20
            ))),
            Err(SendError::Timeout(m)) => Err(WitSendError::Timeout(m)),
            Err(SendError::Unavailable(m)) => Err(WitSendError::Unavailable(m)),
        }
    }
}

impl bindings::databricks_mcp::plugin::host::Host for CallState {
    async fn log(&mut self, level: LogLevel, message: String) {
        self.log_lines += 1;
        if self.log_lines > MAX_LOG_LINES {
            if self.log_lines == MAX_LOG_LINES + 1 {
                tracing::warn!(plugin = %self.env.plugin, tool = %self.env.tool, "more than {MAX_LOG_LINES} log lines in one call; dropping the rest");
            }
            return;
        }
        let env = &self.env;
        let message = sanitize(&message, MAX_MESSAGE);
        match level {
            LogLevel::Trace => {
                tracing::trace!(plugin = %env.plugin, tool = %env.tool, request = %env.request_id, "{message}")
            }
            LogLevel::Debug => {
                tracing::debug!(plugin = %env.plugin, tool = %env.tool, request = %env.request_id, "{message}")
            }
            LogLevel::Info => {
                tracing::info!(plugin = %env.plugin, tool = %env.tool, request = %env.request_id, "{message}")
            }
            LogLevel::Warn => {
                tracing::warn!(plugin = %env.plugin, tool = %env.tool, request = %env.request_id, "{message}")
            }
            LogLevel::Error => {
                tracing::error!(plugin = %env.plugin, tool = %env.tool, request = %env.request_id, "{message}")
            }
        }
    }

    async fn progress(&mut self, progress: f64, total: Option<f64>, message: Option<String>) {
        self.progress_reports += 1;
        if self.progress_reports > MAX_PROGRESS || !progress.is_finite() || total.is_some_and(|t| !t.is_finite()) {
            return;
        }
        if let Some(sink) = &self.env.progress {
            let message = message.map(|m| sanitize(&m, MAX_MESSAGE));
            sink(Progress { progress, total, message }).await;
        }
    }

    async fn sleep(&mut self, millis: u64) -> bool {
        let remaining = self.env.deadline.saturating_duration_since(Instant::now());
        let wanted = Duration::from_millis(millis);
        let cancel = self.env.cancel.clone();
        tokio::select! {
            () = tokio::time::sleep(wanted.min(remaining)) => wanted < remaining,
            () = cancel.cancelled() => false,
        }
    }

    async fn register_compensation(&mut self, request: WitRequest) -> Result<u32, String> {
        let request = self.env.authorize(request)?;
        let mut list = self.env.compensations.lock().unwrap_or_else(|e| e.into_inner());
        if list.len() >= MAX_COMPENSATIONS {
            return Err(format!("at most {MAX_COMPENSATIONS} compensations per call"));
        }
        let handle = self.next_compensation;
        self.next_compensation += 1;
        list.push((handle, request));
        Ok(handle)
    }

    async fn clear_compensation(&mut self, handle: u32) {
        // Once the call is cancelled or out of time the host is committed to compensating; a guest
        // unwinding after the fact must not take that back.
        if self.env.cancel.is_cancelled() || Instant::now() >= self.env.deadline {
            return;
        }
        let mut list = self.env.compensations.lock().unwrap_or_else(|e| e.into_inner());
        list.retain(|(h, _)| *h != handle);
    }

    async fn setting(&mut self, key: String) -> Option<String> {
        self.env.settings.get(&key).cloned()
    }

    async fn link_resource(&mut self, link: bindings::wit_content::ResourceLink) {
        let mut links = self.env.links.lock().unwrap_or_else(|e| e.into_inner());
        if links.len() >= MAX_LINKS {
            tracing::warn!(plugin = %self.env.plugin, tool = %self.env.tool, "more than {MAX_LINKS} resource links in one call; dropping the rest");
            return;
        }
        // Checked against the plugin's templates when the call returns (`Plugin::call`).
        links.push(link.into());
    }
}

fn list(grants: &[Grant]) -> String {
    if grants.is_empty() {
        "nothing".to_string()
    } else {
        grants.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }
}

/// `s` cut to `max` bytes with control characters escaped, so guest text cannot forge log lines.
pub fn sanitize(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max));
    for c in truncate(s, max).chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Cut `s` to at most `max` bytes on a character boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::WitMethod;

    fn env(grants: &[&str], narrowed_from: Option<&[&str]>) -> CallEnv {
        let parse = |list: &[&str]| -> Arc<[Grant]> {
            list.iter()
                .map(|g| {
                    let (m, p) = g.split_once(' ').unwrap();
                    Grant::parse(m, p).unwrap()
                })
                .collect()
        };
        CallEnv {
            plugin: "clusters".into(),
            tool: "t".into(),
            request_id: "r".into(),
            grants: parse(grants),
            narrowed_from: narrowed_from.map(parse),
            limits: Limits::default(),
            settings: Settings::default(),
            client: None,
            progress: None,
            cancel: CancellationToken::new(),
            deadline: Instant::now(),
            compensations: Mutex::new(Vec::new()),
            read_only_sends: false,
            links: Mutex::new(Vec::new()),
            refused: AtomicBool::new(false),
        }
    }

    fn request(method: WitMethod, path: &str) -> WitRequest {
        WitRequest { method, path: path.into(), query: Vec::new(), headers: Vec::new(), body: None }
    }

    #[test]
    fn a_narrowed_request_is_refused_naming_the_operator() {
        let declared = ["GET /api/2.1/clusters/list", "POST /api/2.1/clusters/create"];
        let env = env(&["GET /api/2.1/clusters/list"], Some(&declared));
        assert!(env.authorize(request(WitMethod::Get, "/api/2.1/clusters/list")).is_ok());
        let narrowed = env.authorize(request(WitMethod::Post, "/api/2.1/clusters/create")).unwrap_err();
        assert!(narrowed.contains("the operator narrowed its grants (plugins.clusters.grants"), "{narrowed}");
        let undeclared = env.authorize(request(WitMethod::Post, "/api/2.1/clusters/delete")).unwrap_err();
        assert!(undeclared.contains("outside the grants of plugin `clusters`"), "{undeclared}");
        assert!(undeclared.contains("POST /api/2.1/clusters/create"), "lists what it declared: {undeclared}");
    }
}
