//! Pipeline events (the event log) and `GET /pipelines/{id}/events`.
//!
//! Events are kept oldest first and served newest first unless `order_by=timestamp asc`. Times are
//! RFC 3339 strings on the wire, unlike most of the 2.0 APIs.

use serde_json::{Map, Value, json};

use super::{
    filter::{Filter, Operand},
    ids,
};
use crate::{
    clock::civil_from_epoch_ms,
    error::ApiError,
    extract::Params,
    pagination::{decode_token, page},
};

const DEFAULT_PAGE_SIZE: usize = 25;
const MAX_PAGE_SIZE: usize = 250;

/// `level` of an event (`pipelines.EventLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

/// An event before it is logged: what happened, without where and when.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub event_type: &'static str,
    pub level: Level,
    pub message: String,
    pub details: Value,
    pub error: Option<Value>,
    pub flow_name: Option<String>,
}

impl Draft {
    pub fn info(event_type: &'static str, message: impl Into<String>, details: Value) -> Self {
        Draft { event_type, level: Level::Info, message: message.into(), details, error: None, flow_name: None }
    }

    pub fn warn(event_type: &'static str, message: impl Into<String>, details: Value) -> Self {
        Draft { level: Level::Warn, ..Self::info(event_type, message, details) }
    }

    /// An ERROR event carrying a fatal exception.
    pub fn error(event_type: &'static str, message: impl Into<String>, details: Value, error: Value) -> Self {
        Draft { level: Level::Error, error: Some(error), ..Self::info(event_type, message, details) }
    }

    pub fn flow(mut self, flow_name: &str) -> Self {
        self.flow_name = Some(flow_name.to_owned());
        self
    }
}

/// A logged event.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub id: String,
    pub sequence: u64,
    /// Epoch ms.
    pub timestamp: u64,
    pub draft: Draft,
    pub origin: Map<String, Value>,
    pub update_id: Option<String>,
}

impl Event {
    pub fn new(
        draft: Draft,
        pipeline_id: &str,
        pipeline_name: &str,
        update_id: Option<&str>,
        cluster_id: Option<&str>,
        timestamp: u64,
        sequence: u64,
    ) -> Self {
        let mut origin = Map::new();
        origin.insert("cloud".into(), json!("AWS"));
        origin.insert("region".into(), json!("us-west-2"));
        origin.insert("org_id".into(), json!(ids::ORG_ID));
        origin.insert("pipeline_id".into(), json!(pipeline_id));
        origin.insert("pipeline_name".into(), json!(pipeline_name));
        if let Some(update_id) = update_id {
            origin.insert("update_id".into(), json!(update_id));
        }
        if let Some(cluster_id) = cluster_id {
            origin.insert("cluster_id".into(), json!(cluster_id));
        }
        if let Some(flow) = &draft.flow_name {
            origin.insert("flow_name".into(), json!(flow));
            origin.insert("dataset_name".into(), json!(flow));
        }
        Event {
            id: ids::derived_uuid(&format!("{pipeline_id}/event/{sequence}")),
            sequence,
            timestamp,
            draft,
            origin,
            update_id: update_id.map(str::to_owned),
        }
    }

    /// `PipelineEvent` as JSON.
    pub fn to_json(&self) -> Value {
        let mut out = json!({
            "id": self.id,
            "sequence": {"control_plane_seq_no": self.sequence},
            "origin": Value::Object(self.origin.clone()),
            "timestamp": rfc3339(self.timestamp),
            "message": self.draft.message,
            "level": self.draft.level.as_str(),
            "maturity_level": "STABLE",
            "event_type": self.draft.event_type,
            "details": self.draft.details,
        });
        if let Some(error) = &self.draft.error {
            out["error"] = error.clone();
        }
        out
    }

    /// The value a filter compares for `field`, or `None` for a field events do not have.
    fn field(&self, field: &str) -> Option<Operand> {
        let text = |s: &str| Some(Operand::Text(s.to_owned()));
        match field {
            "level" => text(self.draft.level.as_str()),
            "event_type" => text(self.draft.event_type),
            "message" => text(&self.draft.message),
            "id" => text(&self.id),
            "timestamp" => Some(Operand::Time(self.timestamp)),
            "sequence" | "control_plane_seq_no" => Some(Operand::Number(self.sequence as f64)),
            "update_id" | "origin.update_id" => text(self.update_id.as_deref().unwrap_or_default()),
            "flow_name" | "origin.flow_name" | "dataset_name" | "origin.dataset_name" => {
                text(self.draft.flow_name.as_deref().unwrap_or_default())
            }
            _ => None,
        }
    }
}

/// The fields an events filter may name.
const FILTER_FIELDS: &[&str] = &[
    "level",
    "event_type",
    "message",
    "id",
    "timestamp",
    "sequence",
    "control_plane_seq_no",
    "update_id",
    "origin.update_id",
    "flow_name",
    "origin.flow_name",
    "dataset_name",
    "origin.dataset_name",
];

/// One page of events for `GET /pipelines/{id}/events`.
pub(crate) fn query(events: &[Event], params: &Params) -> Result<Value, ApiError> {
    let filter = match params.get("filter").filter(|f| !f.trim().is_empty()) {
        Some(text) => Some(Filter::parse(text, FILTER_FIELDS)?),
        None => None,
    };
    let ascending = match params.all("order_by").as_slice() {
        [] => false,
        [order] => parse_order(order)?,
        _ => return Err(ApiError::invalid_parameter("Only one order_by field is supported for events.")),
    };
    let size = match params.parse::<usize>("max_results")? {
        None | Some(0) => DEFAULT_PAGE_SIZE,
        Some(n) => n.min(MAX_PAGE_SIZE),
    };
    let offset = decode_token(params.get("page_token").unwrap_or_default())?;
    let mut matching: Vec<&Event> =
        events.iter().filter(|e| filter.as_ref().is_none_or(|f| f.matches(|field| e.field(field)))).collect();
    if !ascending {
        matching.reverse();
    }
    let page = page(matching, offset, size);
    let mut out = Map::new();
    if !page.items.is_empty() {
        out.insert("events".into(), Value::Array(page.items.iter().map(|e| e.to_json()).collect()));
    }
    if let Some(token) = page.next_page_token {
        out.insert("next_page_token".into(), json!(token));
    }
    if let Some(token) = page.prev_page_token {
        out.insert("prev_page_token".into(), json!(token));
    }
    Ok(Value::Object(out))
}

/// `timestamp asc` / `timestamp desc` (default direction desc); returns whether ascending.
fn parse_order(order: &str) -> Result<bool, ApiError> {
    let mut words = order.split_whitespace();
    let field = words.next().unwrap_or_default();
    let direction = words.next().unwrap_or("desc");
    if !field.eq_ignore_ascii_case("timestamp") || words.next().is_some() {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid order_by '{order}': events can be ordered by 'timestamp asc' or 'timestamp desc'."
        )));
    }
    match direction.to_ascii_lowercase().as_str() {
        "asc" => Ok(true),
        "desc" => Ok(false),
        _ => Err(ApiError::invalid_parameter(format!("Invalid order_by direction '{direction}': use asc or desc."))),
    }
}

/// Epoch ms as `2024-02-29T13:45:07.123Z`.
pub(crate) fn rfc3339(ms: u64) -> String {
    let (year, month, day, hour, minute, second) = civil_from_epoch_ms(ms);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{:03}Z", ms % 1000)
}

/// Parses an RFC 3339 UTC time (`2024-02-29T13:45:07Z`, fractional seconds and `+00:00` allowed)
/// or a date (`2024-02-29`) into epoch ms.
pub(crate) fn parse_rfc3339(text: &str) -> Option<u64> {
    let (date, time) = match text.split_once(['T', 't', ' ']) {
        Some((date, time)) => (date, time),
        None => (text, "00:00:00Z"),
    };
    let mut d = date.split('-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    if d.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let time = time.strip_suffix(['Z', 'z']).or_else(|| time.strip_suffix("+00:00")).unwrap_or(time);
    let (hms, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.split(':');
    let hour: u64 = t.next()?.parse().ok()?;
    let minute: u64 = t.next()?.parse().ok()?;
    let second: u64 = t.next().unwrap_or("0").parse().ok()?;
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let millis: u64 = match fraction {
        "" => 0,
        f if f.bytes().all(|b| b.is_ascii_digit()) => format!("{f:0<3}").get(..3)?.parse().ok()?,
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = u64::try_from(days).ok()? * 86_400 + hour * 3600 + minute * 60 + second;
    Some(secs * 1000 + millis)
}

/// Howard Hinnant's civil-to-days algorithm (days since 1970-01-01).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_through_rfc3339() {
        for ms in [0, 1_709_214_307_123, 1_798_761_599_999] {
            assert_eq!(parse_rfc3339(&rfc3339(ms)), Some(ms));
        }
        assert_eq!(rfc3339(1_709_214_307_000), "2024-02-29T13:45:07.000Z");
        assert_eq!(parse_rfc3339("2024-02-29T13:45:07+00:00"), Some(1_709_214_307_000));
        assert_eq!(parse_rfc3339("2024-02-29"), Some(1_709_164_800_000));
        for bad in ["yesterday", "2024-13-01", "2024-02-29T25:00:00Z", "2024-02-29T10:00:00.xZ"] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn order_by_accepts_timestamp_only() {
        assert_eq!(parse_order("timestamp asc"), Ok(true));
        assert_eq!(parse_order("timestamp"), Ok(false));
        assert!(parse_order("level asc").is_err());
        assert!(parse_order("timestamp sideways").is_err());
    }
}
