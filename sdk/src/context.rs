//! What a tool can do while it runs: call the workspace API, report progress, log, sleep, and
//! register compensations. Everything goes through the host; a plugin has no other way out.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Result, ToolError};
use crate::host::{Host, SendFailure};

/// HTTP methods of the workspace API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

/// A request to the workspace API, relative to the workspace root.
#[derive(Debug, Clone)]
pub struct Request {
    /// The HTTP method.
    pub method: Method,
    /// A path starting with `/`, such as `/api/2.1/clusters/get`.
    pub path: String,
    /// Query parameters in order; repeat a key for a list.
    pub query: Vec<(String, String)>,
    /// Extra headers (`accept` and `content-type` only).
    pub headers: Vec<(String, String)>,
    /// The body, usually JSON.
    pub body: Option<Vec<u8>>,
}

impl Method {
    /// The method as HTTP writes it: `GET`, `POST`...
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

impl Request {
    /// A request with no query, headers or body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self { method, path: path.into(), query: Vec::new(), headers: Vec::new(), body: None }
    }

    /// Add a query parameter.
    pub fn query(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.query.push((key.into(), value.to_string()));
        self
    }

    /// Add a query parameter when the value is present.
    pub fn query_opt(self, key: impl Into<String>, value: Option<impl ToString>) -> Self {
        match value {
            Some(value) => self.query(key, value),
            None => self,
        }
    }

    /// Set a JSON body (and its content type).
    pub fn json(mut self, body: &impl Serialize) -> Result<Self> {
        self.body = Some(serde_json::to_vec(body)?);
        self.headers.push(("content-type".into(), "application/json".into()));
        Ok(self)
    }
}

/// `value` percent-encoded as one path segment, for ids and names that go in a path
/// (`/api/2.0/sql/statements/{id}`, a Unity Catalog full name, a volume file path part): every
/// byte outside `A-Za-z0-9-._~` is escaped, so a `/`, `..` or `?` in an argument can never
/// change which endpoint is called.
pub fn segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    // `.` and `..` alone are not names: escape them too.
    if out == "." || out == ".." {
        out = out.replace('.', "%2E");
    }
    out
}

/// A `/`-separated path (a volume file path, a workspace path) percent-encoded one segment at a
/// time with [`segment`], for APIs that take the path in the URL (`/api/2.0/fs/files{path}`).
/// Empty segments are dropped, so the result has no leading, trailing or doubled `/`: write the
/// separators around it yourself. `.` and `..` segments are escaped, never resolved.
///
/// ```
/// use databricks_mcp_sdk::segments;
/// let path = "/Volumes/main/default/landing/my file (1).csv";
/// assert_eq!(
///     format!("/api/2.0/fs/files/{}", segments(path)),
///     "/api/2.0/fs/files/Volumes/main/default/landing/my%20file%20%281%29.csv"
/// );
/// ```
pub fn segments(path: &str) -> String {
    path.split('/').filter(|s| !s.is_empty()).map(segment).collect::<Vec<_>>().join("/")
}

/// The workspace's answer to a [`Request`], whatever its status.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers with lower-case names.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// True for 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Decode a successful JSON body, or turn an error answer into a [`ToolError`].
    pub fn json<T: DeserializeOwned>(self) -> Result<T> {
        if !self.is_success() {
            return Err(ApiError::from_response(self.status, &self.body).into_tool_error());
        }
        // Methods that return nothing answer `{}` or an empty body.
        let body: &[u8] = if self.body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &self.body };
        serde_json::from_slice(body)
            .map_err(|e| ToolError::Internal(format!("the workspace answered with JSON this tool cannot read: {e}")))
    }
}

/// Log levels for [`Context::log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Very detailed.
    Trace,
    /// Detailed.
    Debug,
    /// Normal.
    Info,
    /// Something looks wrong.
    Warn,
    /// Something failed.
    Error,
}

/// The running call: passed to every tool function.
pub struct Context {
    request_id: String,
    progress_requested: bool,
    deadline: Duration,
    host: Arc<dyn Host>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("request_id", &self.request_id)
            .field("progress_requested", &self.progress_requested)
            .field("remaining", &self.remaining())
            .finish_non_exhaustive()
    }
}

impl Context {
    /// A call that may run `deadline` from now, served by `host`.
    pub(crate) fn new(request_id: String, progress_requested: bool, deadline: Duration, host: Arc<dyn Host>) -> Self {
        let deadline = deadline + host.elapsed();
        Self { request_id, progress_requested, deadline, host }
    }

    /// The MCP request id, for correlating logs.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// True when the client asked to be told about progress.
    pub fn progress_requested(&self) -> bool {
        self.progress_requested
    }

    /// Time left before the host stops this call.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_sub(self.host.elapsed())
    }

    /// Time since the call started, on the clock [`Context::sleep`] advances (under
    /// [`testkit`](crate::testkit) sleeps take no real time, and this clock counts them).
    pub fn elapsed(&self) -> Duration {
        self.host.elapsed()
    }

    /// Send a request to the workspace API and return its answer, whatever the status.
    /// The host retries 429, 503 and connection failures itself.
    pub fn send(&self, request: Request) -> Result<Response> {
        self.host.send(request).map_err(|failure| match failure {
            SendFailure::Refused(m) => ToolError::PermissionDenied(format!("refused by the host: {m}")),
            SendFailure::LimitExceeded(m) => ToolError::Internal(format!("host limit reached: {m}")),
            SendFailure::Unavailable(m) => ToolError::Internal(format!("workspace unavailable: {m}")),
            SendFailure::Timeout(m) => ToolError::Timeout(m),
        })
    }

    /// `GET path?query` and decode the JSON answer.
    pub fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T> {
        let mut request = Request::new(Method::Get, path);
        request.query = query.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect();
        self.send(request)?.json()
    }

    /// `POST path` with a JSON body and decode the JSON answer.
    pub fn post<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T> {
        self.send(Request::new(Method::Post, path).json(body)?)?.json()
    }

    /// Like [`Context::post`] for methods that answer `{}`.
    pub fn post_empty(&self, path: &str, body: &impl Serialize) -> Result<()> {
        self.post::<serde::de::IgnoredAny>(path, body).map(|_| ())
    }

    /// Report progress to the client (only sent if it asked for progress).
    pub fn progress(&self, progress: f64, total: Option<f64>, message: impl Into<String>) {
        let message = message.into();
        self.host.progress(progress, total, (!message.is_empty()).then_some(message.as_str()));
    }

    /// Write to the host's log, tagged with this plugin and call.
    pub fn log(&self, level: LogLevel, message: impl AsRef<str>) {
        self.host.log(level, message.as_ref());
    }

    /// Sleep for `duration`. Fails with [`ToolError::Cancelled`] when the call was cancelled or
    /// reached its deadline meanwhile; stop work and return the error.
    pub fn sleep(&self, duration: Duration) -> Result<()> {
        if self.host.sleep(duration) { Ok(()) } else { Err(ToolError::Cancelled) }
    }

    /// A setting the operator configured for this plugin (`[plugins.NAME.settings]` in the
    /// host's configuration), e.g. a default warehouse; `None` when unset or empty.
    pub fn setting(&self, key: &str) -> Option<String> {
        self.host.setting(key).filter(|v| !v.trim().is_empty())
    }

    /// Attach a link to one of this pack's resources to the tool's result: the client sees an
    /// MCP `resource_link` and reads the whole with `resources/read`. For output too large to
    /// return inline (a notebook export, a long run output): return a short text and link the
    /// rest. The URI must be an instance of one of the pack's `#[resource]` templates, or the
    /// host drops the link.
    pub fn link_resource(&self, link: crate::content::ResourceLink) {
        self.host.link_resource(link);
    }

    /// Ask the host to send `request` if this call is cancelled or times out before the returned
    /// guard is dropped or [`Compensation::disarm`]ed, e.g. to cancel a run this call started.
    /// The host checks `request` against the plugin's grants now.
    pub fn on_cancel(&self, request: Request) -> Result<Compensation> {
        self.host
            .register_compensation(request)
            .map(|handle| Compensation { handle: Some(handle), host: self.host.clone() })
            .map_err(|m| ToolError::PermissionDenied(format!("compensation refused by the host: {m}")))
    }
}

/// A registered compensation; see [`Context::on_cancel`]. It stays armed until dropped or
/// disarmed, and fires only if the call ends by cancellation or timeout. Once the call is
/// cancelled or out of time the host is committed: dropping the guard then changes nothing.
pub struct Compensation {
    handle: Option<u32>,
    host: Arc<dyn Host>,
}

impl fmt::Debug for Compensation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compensation").field("handle", &self.handle).finish_non_exhaustive()
    }
}

impl Compensation {
    /// Forget the compensation now (the operation it would undo has finished).
    pub fn disarm(mut self) {
        self.clear();
    }

    fn clear(&mut self) {
        if let Some(handle) = self.handle.take() {
            self.host.clear_compensation(handle);
        }
    }
}

impl Drop for Compensation {
    fn drop(&mut self) {
        self.clear();
    }
}
