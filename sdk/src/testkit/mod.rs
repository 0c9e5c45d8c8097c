//! Unit-test tools natively, with `cargo test`: no wasm, no host, no workspace.
//!
//! A [`Workspace`] is a scripted stand-in for everything a tool reaches through its
//! [`Context`]: it answers requests from replies keyed by method and path, checks them against
//! the plugin's grants as the host would, and records what the tool did (requests, progress,
//! logs, sleeps, compensations) in a [`Call`] for the test to assert on. Sleeps take no real time:
//! they advance a virtual clock, so a tool that polls for ten minutes is tested in microseconds,
//! and cancellation or the deadline can be made to happen at a chosen moment.
//!
//! ```
//! use databricks_mcp_sdk::prelude::*;
//! use databricks_mcp_sdk::testkit::{Reply, Workspace};
//! use databricks_mcp_sdk::{Method, ToolError};
//!
//! /// Arguments of `get_cluster`.
//! #[schema]
//! pub struct GetCluster {
//!     /// The cluster id.
//!     pub cluster_id: String,
//! }
//!
//! /// Get one cluster's state.
//! #[tool(read_only)]
//! fn get_cluster(ctx: &Context, args: GetCluster) -> Result<Output<Value>> {
//!     let cluster: Value = ctx.get("/api/2.1/clusters/get", &[("cluster_id", args.cluster_id)])?;
//!     Ok(Output::new(format!("{}", cluster["state"]), cluster))
//! }
//!
//! # fn main() {
//! let workspace = Workspace::new()
//!     .grants(&["GET /api/2.1/clusters/*"])
//!     .on(Method::Get, "/api/2.1/clusters/get", json!({"cluster_id": "c1", "state": "RUNNING"}));
//! let call = workspace.call(get_cluster, json!({"cluster_id": "c1"}));
//! assert_eq!(call.text(), "\"RUNNING\"");
//! assert_eq!(call.requests[0].query_value("cluster_id"), Some("c1"));
//!
//! // An error answer, as Databricks sends it, becomes the tool's error.
//! let workspace = Workspace::new().on(
//!     Method::Get,
//!     "/api/2.1/clusters/get",
//!     Reply::error(400, "INVALID_PARAMETER_VALUE", "Cluster c2 does not exist"),
//! );
//! let call = workspace.call(get_cluster, json!({"cluster_id": "c2"}));
//! assert_eq!(call.error(), &ToolError::NotFound("Cluster c2 does not exist".into()));
//! # }
//! ```
//!
//! Only built for native targets: a component never contains it. This file holds the script
//! and the scripted host a call runs against; `call.rs` what a call records; `manifest.rs` the
//! host's load-time checks.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::context::{Context, LogLevel, Method, Request, Response};
use crate::error::Result;
use crate::host::{Host, SendFailure};
use crate::plugin::Plugin;
use crate::tool::{IntoToolOutput, private};

mod call;
mod manifest;

pub use call::{Answer, Call, Progress, Registered, Sent};
pub use manifest::manifest_problems;

/// What the scripted workspace answers to one request.
#[derive(Debug, Clone)]
pub struct Reply {
    answer: std::result::Result<Response, SendFailure>,
}

impl Reply {
    /// `200 OK` with this JSON body.
    pub fn json(body: Value) -> Self {
        Self::status(200, body)
    }

    /// This status with this JSON body.
    pub fn status(status: u16, body: Value) -> Self {
        Self::body(status, "application/json", body.to_string().into_bytes())
    }

    /// An error answer in the Databricks shape: `{"error_code": ..., "message": ...}`.
    pub fn error(status: u16, error_code: &str, message: &str) -> Self {
        Self::status(status, serde_json::json!({"error_code": error_code, "message": message}))
    }

    /// Any status, content type and body.
    pub fn body(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        let headers = vec![("content-type".to_string(), content_type.to_string())];
        Self { answer: Ok(Response { status, headers, body }) }
    }

    /// The host could not reach the workspace, even after its retries.
    pub fn unavailable(message: &str) -> Self {
        Self { answer: Err(SendFailure::Unavailable(message.into())) }
    }

    /// The request took longer than the host allows.
    pub fn timeout(message: &str) -> Self {
        Self { answer: Err(SendFailure::Timeout(message.into())) }
    }

    /// A per-call limit of the host was reached (requests per call, response size).
    pub fn limit_exceeded(message: &str) -> Self {
        Self { answer: Err(SendFailure::LimitExceeded(message.into())) }
    }
}

impl From<Value> for Reply {
    fn from(body: Value) -> Self {
        Self::json(body)
    }
}

/// A scripted workspace, and the host services around it, for calling tools in unit tests.
///
/// Replies are keyed by method and path; the path may use the grant syntax (`*` for one
/// segment, a final `**` for one or more), and the first route whose pattern matches answers.
/// Several replies for one route are given in order, and the last one repeats, so a poll can
/// see `PENDING`, `RUNNING`, then `TERMINATED` for ever. The query string and body do not take
/// part in the matching: assert on them in [`Call::requests`]. A request nothing answers fails
/// the tool with an error that says which request had no reply.
///
/// The position in each sequence carries over from one [`Workspace::call`] to the next, as a
/// real workspace's state would.
#[derive(Clone)]
pub struct Workspace {
    script: Arc<Mutex<Script>>,
    grants: Option<Vec<String>>,
    settings: BTreeMap<String, String>,
    deadline: Duration,
    cancel_after: Option<Duration>,
    progress_requested: bool,
}

#[derive(Default)]
struct Script {
    routes: Vec<Route>,
}

struct Route {
    method: Method,
    pattern: String,
    replies: Vec<Reply>,
    next: usize,
}

impl fmt::Debug for Workspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let routes: Vec<String> =
            lock(&self.script).routes.iter().map(|r| format!("{} {}", r.method.as_str(), r.pattern)).collect();
        f.debug_struct("Workspace")
            .field("routes", &routes)
            .field("grants", &self.grants)
            .field("settings", &self.settings)
            .field("deadline", &self.deadline)
            .field("cancel_after", &self.cancel_after)
            .finish()
    }
}

impl Default for Workspace {
    fn default() -> Self {
        Self::new()
    }
}

impl Workspace {
    /// An empty workspace: no replies, no grants checked, no settings, the host's default
    /// deadline (900 s), never cancelled, progress requested.
    pub fn new() -> Self {
        Self {
            script: Arc::default(),
            grants: None,
            settings: BTreeMap::new(),
            deadline: Duration::from_secs(900),
            cancel_after: None,
            progress_requested: true,
        }
    }

    /// A workspace that checks every request (and compensation) against the grants `P`
    /// declares, as the host does: `Workspace::for_plugin::<ToolPack>()`, where `ToolPack` is the
    /// type [`plugin!`](crate::plugin) declares.
    pub fn for_plugin<P: Plugin>() -> Self {
        Self::new().grants(P::GRANTS)
    }

    /// Answer `method path` with `reply` (a JSON value is a `200 OK`). Called again for the same
    /// method and path, it adds the next reply of a sequence.
    pub fn on(self, method: Method, path: &str, reply: impl Into<Reply>) -> Self {
        {
            let mut script = lock(&self.script);
            let reply = reply.into();
            match script.routes.iter_mut().find(|r| r.method == method && r.pattern == path) {
                Some(route) => route.replies.push(reply),
                None => script.routes.push(Route { method, pattern: path.to_string(), replies: vec![reply], next: 0 }),
            }
        }
        self
    }

    /// Refuse requests outside these grants (`"METHOD /path/pattern"`), as the host does.
    /// Without grants every request is allowed.
    pub fn grants(mut self, grants: &[&str]) -> Self {
        self.grants = Some(grants.iter().map(|g| g.to_string()).collect());
        self
    }

    /// A setting the operator gave the plugin, read with [`Context::setting`].
    pub fn setting(mut self, key: &str, value: &str) -> Self {
        self.settings.insert(key.to_string(), value.to_string());
        self
    }

    /// How long calls may run (default 900 s, on the virtual clock). A sleep that would end past
    /// it returns [`ToolError::Cancelled`](crate::ToolError::Cancelled), and armed compensations
    /// fire, as in the host.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Cancel calls this long after they start (on the virtual clock): the first sleep that
    /// reaches that moment returns [`ToolError::Cancelled`](crate::ToolError::Cancelled), and
    /// armed compensations fire.
    pub fn cancel_after(mut self, after: Duration) -> Self {
        self.cancel_after = Some(after);
        self
    }

    /// Whether the client asked for progress ([`Context::progress_requested`]); default true.
    /// Progress reports are recorded either way.
    pub fn progress_requested(mut self, requested: bool) -> Self {
        self.progress_requested = requested;
        self
    }

    /// Call `tool` (the function marked `#[tool]`) with `arguments` as a client would send
    /// them, and record what it did. The arguments are decoded exactly as in the host;
    /// validation against the input schema is the host's and is not repeated here.
    pub fn call<A: DeserializeOwned, O: IntoToolOutput>(
        &self,
        tool: fn(&Context, A) -> Result<O>,
        arguments: Value,
    ) -> Call {
        self.run(|ctx| {
            private::call(tool, ctx, &arguments.to_string()).map(|output| Answer {
                text: output.text,
                structured: output.structured.and_then(|s| serde_json::from_str(&s).ok()),
            })
        })
    }

    /// Read resource `uri` (below the pack's root, e.g. `notebook/Users/a@b.com/etl`) with the
    /// resources of `P`, as the host's `resources/read` would. The answer's text is the text
    /// read (empty for bytes); its structured value is `{"uri", "mime_type", "text" | "blob_bytes"}`.
    pub fn read<P: Plugin>(&self, uri: &str) -> Call {
        self.run(|ctx| {
            let contents = crate::plugin::read_resource::<P>(ctx, uri)?;
            let mut structured = serde_json::json!({"uri": contents.uri, "mime_type": contents.mime_type});
            match &contents.body {
                crate::content::Body::Text(t) => structured["text"] = Value::String(t.clone()),
                crate::content::Body::Blob(b) => structured["blob_bytes"] = Value::from(b.len()),
            }
            Ok(Answer { text: contents.as_text().unwrap_or_default().to_string(), structured: Some(structured) })
        })
    }

    /// Render prompt `name` of `P` with `arguments` (a JSON object of strings), as the host's
    /// `prompts/get` would. The answer's text is the messages' texts joined by blank lines; its
    /// structured value is `{"description", "messages": [{"role", "text" | "uri"}]}`.
    pub fn prompt<P: Plugin>(&self, name: &str, arguments: Value) -> Call {
        self.run(|ctx| {
            let arguments = match arguments {
                Value::Object(map) => map,
                _ => serde_json::Map::new(),
            };
            let prompt = crate::plugin::render_prompt::<P>(ctx, name, arguments)?;
            let mut texts = Vec::new();
            let mut messages = Vec::new();
            for m in &prompt.messages {
                let role = if m.assistant { "assistant" } else { "user" };
                match &m.content {
                    crate::content::PromptContent::Text(t) => {
                        texts.push(t.clone());
                        messages.push(serde_json::json!({"role": role, "text": t}));
                    }
                    crate::content::PromptContent::Embedded(c) => {
                        texts.push(c.as_text().unwrap_or_default().to_string());
                        messages.push(serde_json::json!({"role": role, "uri": c.uri, "text": c.as_text()}));
                    }
                    crate::content::PromptContent::Link(l) => {
                        messages.push(serde_json::json!({"role": role, "uri": l.uri}))
                    }
                }
            }
            let structured = serde_json::json!({"description": prompt.description, "messages": messages});
            Ok(Answer { text: texts.join("\n\n"), structured: Some(structured) })
        })
    }

    /// Complete `argument` of `target` (a prompt name or a template of `P`) from what was typed,
    /// with `context` holding other arguments' values, as the host's `completion/complete`
    /// would. The answer's text is the values, one a line; its structured value is
    /// `{"values", "total", "has_more"}`.
    pub fn complete<P: Plugin>(
        &self,
        target: crate::content::CompletionTarget,
        argument: &str,
        value: &str,
        context: &[(&str, &str)],
    ) -> Call {
        self.run(|ctx| {
            let request = crate::content::CompletionRequest {
                target,
                argument: argument.to_string(),
                value: value.to_string(),
                context: context.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            };
            let completion = crate::plugin::complete::<P>(ctx, &request)?;
            let structured = serde_json::json!({
                "values": completion.values,
                "total": completion.total,
                "has_more": completion.has_more,
            });
            Ok(Answer { text: completion.values.join("\n"), structured: Some(structured) })
        })
    }

    /// Run `f` as one call against this workspace and record what it did.
    fn run(&self, f: impl FnOnce(&Context) -> Result<Answer>) -> Call {
        let host = Arc::new(ScriptedHost { workspace: self.clone(), call: Mutex::new(Recording::default()) });
        let ctx = Context::new("testkit".into(), self.progress_requested, self.deadline, host.clone());
        let result = f(&ctx);
        drop(ctx);
        let mut recording = std::mem::take(&mut *lock(&host.call));
        // The host sends what is still armed when a call is cancelled or runs out of time.
        let stopped = recording.cancelled || recording.timed_out;
        for registered in &mut recording.compensations {
            registered.fired = stopped && !registered.cleared;
        }
        Call {
            result,
            requests: recording.requests,
            progress: recording.progress,
            logs: recording.logs,
            sleeps: recording.sleeps,
            compensations: recording.compensations,
            cancelled: recording.cancelled,
            timed_out: recording.timed_out,
            elapsed: recording.clock,
            links: recording.links,
        }
    }

    fn check_grants(&self, request: &Request) -> std::result::Result<(), String> {
        let Some(grants) = &self.grants else { return Ok(()) };
        let allowed = grants.iter().any(|grant| {
            let (method, pattern) = grant.split_once(' ').unwrap_or(("", grant));
            method.trim() == request.method.as_str() && path_matches(pattern.trim(), &request.path)
        });
        if allowed {
            Ok(())
        } else {
            Err(format!(
                "{} {} is outside the plugin's grants ({})",
                request.method.as_str(),
                request.path,
                grants.join(", ")
            ))
        }
    }

    fn answer(&self, request: &Request) -> std::result::Result<Response, SendFailure> {
        let mut script = lock(&self.script);
        let route =
            script.routes.iter_mut().find(|r| r.method == request.method && path_matches(&r.pattern, &request.path));
        let Some(route) = route else {
            return Err(SendFailure::Unavailable(format!(
                "testkit: no reply scripted for {} {}; add one with Workspace::on",
                request.method.as_str(),
                request.path
            )));
        };
        let reply = &route.replies[route.next.min(route.replies.len() - 1)];
        route.next += 1;
        reply.answer.clone()
    }
}

#[derive(Default)]
struct Recording {
    requests: Vec<Sent>,
    progress: Vec<Progress>,
    logs: Vec<(LogLevel, String)>,
    sleeps: Vec<Duration>,
    compensations: Vec<Registered>,
    clock: Duration,
    cancelled: bool,
    timed_out: bool,
    links: Vec<crate::content::ResourceLink>,
}

/// The [`Host`] a [`Workspace`] call runs against.
struct ScriptedHost {
    workspace: Workspace,
    call: Mutex<Recording>,
}

impl ScriptedHost {
    fn stopped(call: &Recording) -> bool {
        call.cancelled || call.timed_out
    }
}

impl Host for ScriptedHost {
    fn send(&self, request: Request) -> std::result::Result<Response, SendFailure> {
        lock(&self.call).requests.push((&request).into());
        self.workspace.check_grants(&request).map_err(SendFailure::Refused)?;
        self.workspace.answer(&request)
    }

    fn log(&self, level: LogLevel, message: &str) {
        lock(&self.call).logs.push((level, message.to_string()));
    }

    fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let mut call = lock(&self.call);
        let at = call.clock;
        call.progress.push(Progress { progress, total, message: message.map(str::to_string), at });
    }

    fn sleep(&self, duration: Duration) -> bool {
        let mut call = lock(&self.call);
        call.sleeps.push(duration);
        if Self::stopped(&call) {
            return false;
        }
        let deadline = self.workspace.deadline;
        let cancel = self.workspace.cancel_after.unwrap_or(Duration::MAX);
        let wake = call.clock.saturating_add(duration);
        // As in the host: a sleep that reaches the deadline or the cancellation ends there.
        if wake >= cancel && cancel <= deadline {
            call.clock = cancel.max(call.clock);
            call.cancelled = true;
            false
        } else if wake >= deadline {
            call.clock = deadline.max(call.clock);
            call.timed_out = true;
            false
        } else {
            call.clock = wake;
            true
        }
    }

    fn register_compensation(&self, request: Request) -> std::result::Result<u32, String> {
        self.workspace.check_grants(&request)?;
        let mut call = lock(&self.call);
        call.compensations.push(Registered { request: (&request).into(), cleared: false, fired: false });
        u32::try_from(call.compensations.len()).map_err(|_| "too many compensations".to_string())
    }

    fn clear_compensation(&self, handle: u32) {
        let mut call = lock(&self.call);
        // Once the call is cancelled or out of time the host is committed to compensating.
        if Self::stopped(&call) {
            return;
        }
        if let Some(registered) = call.compensations.get_mut((handle as usize).wrapping_sub(1)) {
            registered.cleared = true;
        }
    }

    fn setting(&self, key: &str) -> Option<String> {
        self.workspace.settings.get(key).cloned()
    }

    fn elapsed(&self) -> Duration {
        lock(&self.call).clock
    }

    fn link_resource(&self, link: crate::content::ResourceLink) {
        lock(&self.call).links.push(link);
    }
}

/// Whether `path` matches `pattern`: `*` is one segment, a final `**` one or more (the grant
/// syntax); anything else must be equal.
fn path_matches(pattern: &str, path: &str) -> bool {
    let (Some(pattern), Some(path)) = (pattern.strip_prefix('/'), path.strip_prefix('/')) else {
        return pattern == path;
    };
    let parts: Vec<&str> = path.split('/').collect();
    let segments: Vec<&str> = pattern.split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            "**" => return parts.len() > i,
            "*" if parts.get(i).is_some_and(|p| !p.is_empty()) => {}
            literal if parts.get(i) == Some(&literal) => {}
            _ => return false,
        }
    }
    segments.len() == parts.len()
}

/// A lock that survives a panicking test elsewhere.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NoArgs;
    use crate::ToolError;
    use serde_json::json;

    /// A tool without the `#[tool]` macro (it names the SDK by its crate name).
    fn list_status(ctx: &Context, _: NoArgs) -> Result<String> {
        Ok(ctx.send(Request::new(Method::Get, "/api/2.1/clusters/list"))?.status.to_string())
    }

    #[test]
    fn requests_outside_the_grants_are_refused_and_unscripted_ones_named() {
        let call = Workspace::new().grants(&["GET /api/2.1/clusters/get"]).call(list_status, json!({}));
        let ToolError::PermissionDenied(message) = call.error() else { panic!("{:?}", call.result) };
        assert!(message.contains("GET /api/2.1/clusters/list is outside the plugin's grants"), "{message}");
        assert_eq!(call.requests.len(), 1, "a refused request is still recorded");

        let call = Workspace::new().call(list_status, json!({}));
        let ToolError::Internal(message) = call.error() else { panic!("{:?}", call.result) };
        assert!(message.contains("no reply scripted for GET /api/2.1/clusters/list"), "{message}");
    }

    #[test]
    fn replies_come_in_order_and_the_last_repeats() {
        let workspace = Workspace::new().on(Method::Get, "/api/2.1/clusters/*", Reply::status(202, json!({}))).on(
            Method::Get,
            "/api/2.1/clusters/*",
            json!({}),
        );
        let statuses: Vec<String> = (0..3).map(|_| workspace.call(list_status, json!({})).text().to_string()).collect();
        assert_eq!(statuses, ["202", "200", "200"]);
        let call = workspace.call(list_status, json!({"unexpected": 1}));
        assert!(matches!(call.error(), ToolError::InvalidArguments(_)), "arguments are decoded as in the host");
    }

    #[test]
    fn paths_match_like_grants() {
        for (pattern, path, expected) in [
            ("/api/2.1/clusters/get", "/api/2.1/clusters/get", true),
            ("/api/2.1/clusters/*", "/api/2.1/clusters/get", true),
            ("/api/2.1/clusters/*", "/api/2.1/clusters", false),
            ("/api/2.1/clusters/*", "/api/2.1/clusters/a/b", false),
            ("/api/2.0/fs/files/**", "/api/2.0/fs/files/Volumes/a/b", true),
            ("/api/2.0/fs/files/**", "/api/2.0/fs/files", false),
            ("/api/2.1/clusters/get", "/api/2.1/clusters/list", false),
        ] {
            assert_eq!(path_matches(pattern, path), expected, "{pattern} vs {path}");
        }
    }

    #[test]
    fn sleeps_stop_at_cancellation_before_the_deadline() {
        let workspace = Workspace::new().deadline(Duration::from_secs(100)).cancel_after(Duration::from_secs(30));
        let host = ScriptedHost { workspace, call: Mutex::new(Recording::default()) };
        assert!(host.sleep(Duration::from_secs(20)));
        assert!(!host.sleep(Duration::from_secs(20)));
        assert!(!host.sleep(Duration::from_secs(1)), "stays cancelled");
        let call = lock(&host.call);
        assert!(call.cancelled && !call.timed_out);
        assert_eq!(call.clock, Duration::from_secs(30));
    }

    #[test]
    fn sleeps_stop_at_the_deadline() {
        let host = ScriptedHost {
            workspace: Workspace::new().deadline(Duration::from_secs(10)),
            call: Mutex::new(Recording::default()),
        };
        assert!(host.sleep(Duration::from_secs(9)));
        assert!(!host.sleep(Duration::from_secs(1)));
        let call = lock(&host.call);
        assert!(call.timed_out && !call.cancelled);
        assert_eq!(call.clock, Duration::from_secs(10));
    }
}
