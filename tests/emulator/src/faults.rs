//! Faults a test queues to see how a client copes: rate limits, outages, slow answers and dropped
//! connections.
//!
//! A fault matches a request by method (optional) and path (exact, or a prefix ending in `*`). Each
//! matching request uses up one of its `count`; the first queued fault that matches wins. Faults run
//! before authentication and routing, like a load balancer in front of the real service would.

use std::{collections::VecDeque, sync::Mutex, time::Duration};

use serde::Deserialize;

use crate::{error::ApiError, lock};

/// A fault to inject into the next `count` matching requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Only requests with this method match (case-insensitive); `None` matches any method.
    pub method: Option<String>,
    /// The exact request path, or a prefix ending in `*` (`/api/2.1/clusters/*`).
    pub path: String,
    /// What happens to a matching request.
    pub kind: FaultKind,
    /// How many matching requests it applies to; 0 queues nothing.
    pub count: u32,
}

/// What a fault does to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer 429 `REQUEST_LIMIT_EXCEEDED`, with `Retry-After` when given.
    TooManyRequests {
        /// Seconds for the `Retry-After` header.
        retry_after_secs: Option<u64>,
    },
    /// Answer 503 `TEMPORARILY_UNAVAILABLE`.
    Unavailable,
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// Close the connection without answering.
    Drop,
}

impl Fault {
    /// Does this fault apply to a request with this method and path?
    pub fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method));
        let path_ok = match self.path.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == self.path,
        };
        method_ok && path_ok
    }
}

/// The queued faults.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    faults: Mutex<VecDeque<Fault>>,
}

impl FaultQueue {
    pub fn push(&self, fault: Fault) {
        // A fault for zero requests would never fire; keeping it would only confuse a listing.
        if fault.count > 0 {
            lock(&self.faults).push_back(fault);
        }
    }

    pub fn clear(&self) {
        lock(&self.faults).clear();
    }

    /// Uses up one count of the first fault matching the request and returns what it does.
    pub fn take(&self, method: &str, path: &str) -> Option<FaultKind> {
        let mut faults = lock(&self.faults);
        let index = faults.iter().position(|f| f.matches(method, path))?;
        let fault = &mut faults[index];
        let kind = fault.kind.clone();
        fault.count -= 1;
        if fault.count == 0 {
            faults.remove(index);
        }
        Some(kind)
    }
}

/// The JSON form of a fault taken by `POST /emulator/faults`:
/// `{"method":"GET","path":"/api/2.1/clusters/get","kind":"429","retry_after":1,"count":2}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultSpec {
    method: Option<String>,
    path: String,
    kind: String,
    retry_after: Option<u64>,
    delay_ms: Option<u64>,
    count: Option<u32>,
}

impl TryFrom<FaultSpec> for Fault {
    type Error = ApiError;

    fn try_from(spec: FaultSpec) -> Result<Self, Self::Error> {
        let kind = match spec.kind.as_str() {
            "429" => FaultKind::TooManyRequests { retry_after_secs: spec.retry_after },
            "503" => FaultKind::Unavailable,
            "delay" => {
                let ms = spec.delay_ms.ok_or_else(|| ApiError::missing_field("delay_ms"))?;
                FaultKind::Delay(Duration::from_millis(ms))
            }
            "drop" => FaultKind::Drop,
            other => {
                return Err(ApiError::invalid_parameter(format!(
                    "Unknown fault kind '{other}': expected 429, 503, delay or drop"
                )));
            }
        };
        Ok(Fault { method: spec.method, path: spec.path, kind, count: spec.count.unwrap_or(1) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(method: Option<&str>, path: &str, count: u32) -> Fault {
        Fault { method: method.map(str::to_owned), path: path.to_owned(), kind: FaultKind::Unavailable, count }
    }

    #[test]
    fn exact_paths_match_only_themselves() {
        let f = fault(None, "/api/2.1/clusters/get", 1);
        assert!(f.matches("GET", "/api/2.1/clusters/get"));
        assert!(!f.matches("GET", "/api/2.1/clusters/get-more"));
    }

    #[test]
    fn star_suffix_matches_a_prefix() {
        let f = fault(Some("post"), "/api/2.1/clusters/*", 1);
        assert!(f.matches("POST", "/api/2.1/clusters/create"));
        assert!(!f.matches("GET", "/api/2.1/clusters/list"));
        assert!(!f.matches("POST", "/api/2.0/clusters/create"));
    }

    #[test]
    fn each_match_uses_up_one_count() {
        let queue = FaultQueue::default();
        queue.push(fault(None, "/a", 2));
        assert_eq!(queue.take("GET", "/a"), Some(FaultKind::Unavailable));
        assert_eq!(queue.take("GET", "/b"), None);
        assert_eq!(queue.take("GET", "/a"), Some(FaultKind::Unavailable));
        assert_eq!(queue.take("GET", "/a"), None);
    }

    #[test]
    fn admin_json_becomes_a_fault() {
        let spec: FaultSpec =
            serde_json::from_str(r#"{"path":"/x","kind":"429","retry_after":1,"count":2}"#).expect("valid fault spec");
        let f = Fault::try_from(spec).expect("valid fault spec");
        assert_eq!(f.kind, FaultKind::TooManyRequests { retry_after_secs: Some(1) });
        assert_eq!(f.count, 2);

        let spec: FaultSpec = serde_json::from_str(r#"{"path":"/x","kind":"teapot"}"#).expect("valid fault spec");
        assert_eq!(Fault::try_from(spec).expect_err("unknown kind").code, "INVALID_PARAMETER_VALUE");
    }
}
