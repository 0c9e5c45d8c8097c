//! The log of requests the emulator received, so tests can assert on what a client actually sent
//! (headers, retries, query strings) rather than only on what it did with the answers.

use std::sync::Mutex;

use serde::Serialize;

use crate::lock;

/// One request as it arrived, before faults, authentication or routing touched it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedRequest {
    /// HTTP method, upper case (`GET`, `POST`, ...).
    pub method: String,
    /// The path without the query string, e.g. `/api/2.1/clusters/get`.
    pub path: String,
    /// The raw query string without the leading `?`; empty when there was none.
    pub query: String,
    /// The body as text (lossy UTF-8); empty when there was none.
    pub body: String,
    /// The `Authorization` header exactly as received, e.g. `Bearer dapi...`.
    pub authorization: Option<String>,
    /// Every header in arrival order, names lower case.
    pub headers: Vec<(String, String)>,
}

/// Requests in arrival order.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    requests: Mutex<Vec<RecordedRequest>>,
}

impl Recorder {
    pub fn record(&self, request: RecordedRequest) {
        lock(&self.requests).push(request);
    }

    pub fn all(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }
}
