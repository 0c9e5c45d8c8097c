//! Cluster events and `POST /clusters/events`.
//!
//! The events call pages in two styles at once: the classic `offset`/`limit` with a `next_page`
//! field holding the complete body of the next request (which the SDK POSTs as-is), and the newer
//! `page_token`/`page_size` with `next_page_token`. Both are answered; whichever the client used
//! is the one `next_page` continues with.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::{
    error::ApiError,
    pagination::{decode_token, page},
};

/// The event types the emulator logs (a subset of `compute.EventType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    Creating,
    Starting,
    Running,
    Restarting,
    Resizing,
    UpsizeCompleted,
    Terminating,
    Edited,
    Pinned,
    Unpinned,
    DriverHealthy,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Creating => "CREATING",
            EventType::Starting => "STARTING",
            EventType::Running => "RUNNING",
            EventType::Restarting => "RESTARTING",
            EventType::Resizing => "RESIZING",
            EventType::UpsizeCompleted => "UPSIZE_COMPLETED",
            EventType::Terminating => "TERMINATING",
            EventType::Edited => "EDITED",
            EventType::Pinned => "PINNED",
            EventType::Unpinned => "UNPINNED",
            EventType::DriverHealthy => "DRIVER_HEALTHY",
        }
    }
}

/// Every `compute.EventType` a client may filter on, including those the emulator never logs.
const KNOWN_EVENT_TYPES: &[&str] = &[
    "ADD_NODES_FAILED",
    "AUTOMATIC_CLUSTER_UPDATE",
    "AUTOSCALING_BACKOFF",
    "AUTOSCALING_FAILED",
    "AUTOSCALING_STATS_REPORT",
    "CLUSTER_MIGRATED",
    "CREATING",
    "DBFS_DOWN",
    "DECOMMISSION_ENDED",
    "DECOMMISSION_STARTED",
    "DEFERRED_POLICY_ENFORCEMENT_FAILED",
    "DEFERRED_POLICY_ENFORCEMENT_SCHEDULED",
    "DID_NOT_EXPAND_DISK",
    "DRIVER_HEALTHY",
    "DRIVER_NOT_RESPONDING",
    "DRIVER_UNAVAILABLE",
    "EDITED",
    "EXPANDED_DISK",
    "FAILED_TO_EXPAND_DISK",
    "INIT_SCRIPTS_FINISHED",
    "INIT_SCRIPTS_STARTED",
    "METASTORE_DOWN",
    "NODES_LOST",
    "NODE_BLACKLISTED",
    "NODE_EXCLUDED_DECOMMISSIONED",
    "PINNED",
    "RESIZING",
    "RESTARTING",
    "RUNNING",
    "SPARK_EXCEPTION",
    "STARTING",
    "TERMINATING",
    "UC_VOLUME_MISCONFIGURED",
    "UNPINNED",
    "UPSIZE_COMPLETED",
];

/// One logged event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClusterEvent {
    /// Epoch milliseconds.
    pub timestamp: u64,
    pub kind: EventType,
    /// `EventDetails`: `user`, `current_num_workers`, `reason`, `attributes`, ...
    pub details: Value,
}

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;

/// The body of `POST /clusters/events`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct EventsRequest {
    pub cluster_id: Option<String>,
    start_time: Option<u64>,
    end_time: Option<u64>,
    order: Option<String>,
    event_types: Option<Vec<String>>,
    offset: Option<u64>,
    limit: Option<u64>,
    page_token: Option<String>,
    page_size: Option<u64>,
}

/// Answers an events request over a cluster's log. `raw` is the request body as sent, the base
/// of `next_page`.
pub(crate) fn query(
    cluster_id: &str,
    log: &[ClusterEvent],
    req: &EventsRequest,
    raw: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let descending = match req.order.as_deref().unwrap_or("DESC") {
        "DESC" => true,
        "ASC" => false,
        other => {
            return Err(ApiError::invalid_parameter(format!("Invalid order: {other}")));
        }
    };
    let types = req.event_types.as_deref().unwrap_or_default();
    if let Some(bad) = types.iter().find(|t| !KNOWN_EVENT_TYPES.contains(&t.as_str())) {
        return Err(ApiError::invalid_parameter(format!("Invalid event type: {bad}")));
    }

    let mut matching: Vec<&ClusterEvent> = log
        .iter()
        .filter(|e| req.start_time.is_none_or(|t| e.timestamp >= t))
        .filter(|e| req.end_time.is_none_or(|t| e.timestamp <= t))
        .filter(|e| types.is_empty() || types.iter().any(|t| t == e.kind.as_str()))
        .collect();
    // A stable sort keeps same-millisecond events in the order they happened.
    matching.sort_by_key(|e| e.timestamp);
    if descending {
        matching.reverse();
    }
    let total = matching.len();

    let token_style = req.page_token.is_some() || req.page_size.is_some();
    let size = req.page_size.or(req.limit).filter(|&n| n > 0).unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let offset = match &req.page_token {
        Some(token) => decode_token(token)?,
        None => usize::try_from(req.offset.unwrap_or(0)).unwrap_or(usize::MAX),
    };
    let page = page(matching, offset, size);

    let mut out = Map::new();
    let events: Vec<Value> = page
        .items
        .iter()
        .map(|e| {
            json!({
                "cluster_id": cluster_id,
                "timestamp": e.timestamp,
                "type": e.kind.as_str(),
                "details": e.details,
            })
        })
        .collect();
    if !events.is_empty() {
        out.insert("events".into(), Value::Array(events));
    }
    out.insert("total_count".into(), json!(total));
    if let Some(token) = page.next_page_token {
        let mut next = raw.clone();
        if token_style {
            next.remove("offset");
            next.insert("page_token".into(), json!(token));
        } else {
            next.insert("offset".into(), json!(offset + size));
        }
        out.insert("next_page".into(), Value::Object(next));
        out.insert("next_page_token".into(), json!(token));
    }
    if let Some(token) = page.prev_page_token {
        out.insert("prev_page_token".into(), json!(token));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> Vec<ClusterEvent> {
        [EventType::Creating, EventType::Running, EventType::Pinned, EventType::Terminating]
            .into_iter()
            .zip([10, 20, 30, 40])
            .map(|(kind, timestamp)| ClusterEvent { timestamp, kind, details: json!({}) })
            .collect()
    }

    fn ask(body: Value) -> Value {
        let raw = body.as_object().cloned().unwrap_or_default();
        let req: EventsRequest = serde_json::from_value(body).expect("valid request");
        query("c1", &log(), &req, &raw).expect("valid query")
    }

    fn types(resp: &Value) -> Vec<&str> {
        resp["events"].as_array().map_or(vec![], |a| a.iter().filter_map(|e| e["type"].as_str()).collect())
    }

    #[test]
    fn newest_first_by_default() {
        let resp = ask(json!({"cluster_id": "c1"}));
        assert_eq!(types(&resp), vec!["TERMINATING", "PINNED", "RUNNING", "CREATING"]);
        assert_eq!(resp["total_count"], 4);
        assert!(resp.get("next_page").is_none());
    }

    #[test]
    fn next_page_is_the_whole_next_request() {
        let first = ask(json!({"cluster_id": "c1", "order": "ASC", "limit": 3}));
        assert_eq!(types(&first), vec!["CREATING", "RUNNING", "PINNED"]);
        let next = first["next_page"].clone();
        assert_eq!(next, json!({"cluster_id": "c1", "order": "ASC", "limit": 3, "offset": 3}));

        let second = ask(next);
        assert_eq!(types(&second), vec!["TERMINATING"]);
        assert!(second.get("next_page").is_none());
        assert!(second.get("next_page_token").is_none());
    }

    #[test]
    fn filters_by_type_and_time() {
        let resp = ask(json!({"cluster_id": "c1", "event_types": ["RUNNING", "PINNED"], "start_time": 25}));
        assert_eq!(types(&resp), vec!["PINNED"]);
        assert_eq!(resp["total_count"], 1);
    }

    #[test]
    fn token_style_pages_with_tokens() {
        let first = ask(json!({"cluster_id": "c1", "page_size": 2}));
        let token = first["next_page_token"].as_str().expect("a token").to_owned();
        assert_eq!(first["next_page"]["page_token"], token.as_str());
        let second = ask(json!({"cluster_id": "c1", "page_size": 2, "page_token": token}));
        assert_eq!(types(&second), vec!["RUNNING", "CREATING"]);
    }
}
