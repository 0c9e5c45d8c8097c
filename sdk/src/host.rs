//! The doors out of a tool call, behind one trait.
//!
//! In a component the doors are the WIT imports (`workspace.send` and the `host` services);
//! natively, [`testkit`](crate::testkit) serves them from a script so tools can be unit-tested
//! with `cargo test`. [`Context`](crate::Context) only ever talks to a [`Host`], so a tool runs
//! the same code in both places.

use std::time::{Duration, Instant};

use crate::bindings::databricks_mcp::plugin::{host, workspace};
use crate::context::{LogLevel, Method, Request, Response};

/// Why a request was not answered (the contract's `send-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SendFailure {
    Refused(String),
    LimitExceeded(String),
    Unavailable(String),
    Timeout(String),
}

/// What a running call can ask of whoever runs it.
pub(crate) trait Host: Send + Sync {
    /// By value: a body may be megabytes, and the component hands it on without a copy.
    fn send(&self, request: Request) -> Result<Response, SendFailure>;
    fn log(&self, level: LogLevel, message: &str);
    fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>);
    /// False when the call was cancelled or reached its deadline meanwhile.
    fn sleep(&self, duration: Duration) -> bool;
    fn register_compensation(&self, request: Request) -> Result<u32, String>;
    fn clear_compensation(&self, handle: u32);
    fn setting(&self, key: &str) -> Option<String>;
    /// Time since the call started, on the clock `sleep` advances.
    fn elapsed(&self) -> Duration;
    /// Attach a resource link to the running tool call's result.
    fn link_resource(&self, link: crate::content::ResourceLink);
}

/// The real host, through the component's imports.
pub(crate) struct WitHost {
    started: Instant,
}

impl WitHost {
    pub(crate) fn new() -> Self {
        Self { started: Instant::now() }
    }
}

impl Host for WitHost {
    fn send(&self, request: Request) -> Result<Response, SendFailure> {
        match workspace::send(&to_wit(request)) {
            Ok(r) => Ok(Response { status: r.status, headers: r.headers, body: r.body }),
            Err(workspace::SendError::Refused(m)) => Err(SendFailure::Refused(m)),
            Err(workspace::SendError::LimitExceeded(m)) => Err(SendFailure::LimitExceeded(m)),
            Err(workspace::SendError::Unavailable(m)) => Err(SendFailure::Unavailable(m)),
            Err(workspace::SendError::Timeout(m)) => Err(SendFailure::Timeout(m)),
        }
    }

    fn log(&self, level: LogLevel, message: &str) {
        let level = match level {
            LogLevel::Trace => host::LogLevel::Trace,
            LogLevel::Debug => host::LogLevel::Debug,
            LogLevel::Info => host::LogLevel::Info,
            LogLevel::Warn => host::LogLevel::Warn,
            LogLevel::Error => host::LogLevel::Error,
        };
        host::log(level, message);
    }

    fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        host::progress(progress, total, message);
    }

    fn sleep(&self, duration: Duration) -> bool {
        host::sleep(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
    }

    fn register_compensation(&self, request: Request) -> Result<u32, String> {
        host::register_compensation(&to_wit(request))
    }

    fn clear_compensation(&self, handle: u32) {
        host::clear_compensation(handle);
    }

    fn setting(&self, key: &str) -> Option<String> {
        host::setting(key)
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    fn link_resource(&self, link: crate::content::ResourceLink) {
        host::link_resource(&crate::plugin::link_to_wit(link));
    }
}

fn to_wit(request: Request) -> workspace::Request {
    workspace::Request {
        method: match request.method {
            Method::Get => workspace::Method::Get,
            Method::Head => workspace::Method::Head,
            Method::Post => workspace::Method::Post,
            Method::Put => workspace::Method::Put,
            Method::Patch => workspace::Method::Patch,
            Method::Delete => workspace::Method::Delete,
        },
        path: request.path,
        query: request.query,
        headers: request.headers,
        body: request.body,
    }
}
