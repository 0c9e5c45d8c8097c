//! What a [`Workspace::call`](super::Workspace::call) records: the result and everything the
//! tool did, for the test to assert on.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::context::{LogLevel, Method, Request};
use crate::error::{Result, ToolError};

/// The result of a tool call made with [`Workspace::call`](super::Workspace::call), and
/// everything the tool did.
#[derive(Debug)]
pub struct Call {
    /// What the tool returned, as the host receives it.
    pub result: Result<Answer>,
    /// The workspace requests the tool sent, in order (refused ones included).
    pub requests: Vec<Sent>,
    /// The progress reports, in order.
    pub progress: Vec<Progress>,
    /// The log lines.
    pub logs: Vec<(LogLevel, String)>,
    /// The sleeps asked for, in order, including one cut short by cancellation or the deadline.
    pub sleeps: Vec<Duration>,
    /// The compensations registered with [`Context::on_cancel`](crate::Context::on_cancel).
    pub compensations: Vec<Registered>,
    /// The call was cancelled (see [`Workspace::cancel_after`](super::Workspace::cancel_after)).
    pub cancelled: bool,
    /// The call reached its deadline (see [`Workspace::deadline`](super::Workspace::deadline)).
    pub timed_out: bool,
    /// How long the call took on the virtual clock (the sum of its sleeps).
    pub elapsed: Duration,
    /// The resource links the tool attached with
    /// [`Context::link_resource`](crate::Context::link_resource).
    pub links: Vec<crate::content::ResourceLink>,
}

/// A successful tool result: the text for the model and the structured data.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// What the model reads.
    pub text: String,
    /// The structured result (`structuredContent`), when the tool has an output type.
    pub structured: Option<Value>,
}

impl Call {
    /// The text of a successful call; panics with the tool's error otherwise.
    #[track_caller]
    pub fn text(&self) -> &str {
        &self.answer().text
    }

    /// The structured result of a successful call; panics when the call failed or had none.
    #[track_caller]
    pub fn structured(&self) -> &Value {
        match &self.answer().structured {
            Some(value) => value,
            None => panic!("the tool returned no structured result: {}", self.answer().text),
        }
    }

    /// The structured result read as `T` (usually the tool's own output type).
    #[track_caller]
    pub fn data<T: DeserializeOwned>(&self) -> T {
        match T::deserialize(self.structured()) {
            Ok(data) => data,
            Err(e) => panic!("the structured result does not read as {}: {e}", std::any::type_name::<T>()),
        }
    }

    /// The error of a failed call; panics with the text when the call succeeded.
    #[track_caller]
    pub fn error(&self) -> &ToolError {
        match &self.result {
            Err(error) => error,
            Ok(answer) => panic!("the tool succeeded, but an error was expected: {}", answer.text),
        }
    }

    /// The requests sent with `method` to exactly `path`.
    pub fn sent(&self, method: Method, path: &str) -> Vec<&Sent> {
        self.requests.iter().filter(|r| r.method == method && r.path == path).collect()
    }

    /// The compensations the host would have sent: those still armed when the call was
    /// cancelled or ran out of time.
    pub fn fired(&self) -> Vec<&Sent> {
        self.compensations.iter().filter(|c| c.fired).map(|c| &c.request).collect()
    }

    #[track_caller]
    fn answer(&self) -> &Answer {
        match &self.result {
            Ok(answer) => answer,
            Err(error) => panic!("the tool failed: {error}"),
        }
    }
}

/// A request a tool sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The HTTP method.
    pub method: Method,
    /// The path, as the tool wrote it (percent-encoded).
    pub path: String,
    /// The query parameters, in order.
    pub query: Vec<(String, String)>,
    /// The extra headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Option<Vec<u8>>,
}

impl Sent {
    /// The first value of query parameter `key`.
    pub fn query_value(&self, key: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The body as JSON; `Value::Null` when there is none or it is not JSON.
    pub fn json(&self) -> Value {
        self.body.as_deref().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or(Value::Null)
    }
}

impl From<&Request> for Sent {
    fn from(r: &Request) -> Self {
        Self {
            method: r.method,
            path: r.path.clone(),
            query: r.query.clone(),
            headers: r.headers.clone(),
            body: r.body.clone(),
        }
    }
}

/// A progress report.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// How far, growing with each report.
    pub progress: f64,
    /// Out of how much, when known.
    pub total: Option<f64>,
    /// What is going on.
    pub message: Option<String>,
    /// When, on the call's virtual clock.
    pub at: Duration,
}

/// A compensation the tool registered with [`Context::on_cancel`](crate::Context::on_cancel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The request the host would send.
    pub request: Sent,
    /// The tool disarmed or dropped it before the call was cancelled or ran out of time.
    pub cleared: bool,
    /// The host would have sent it: the call was cancelled or ran out of time while it was armed.
    pub fired: bool,
}
