//! `GET /clusters/list`: on 2.1 filtered, sorted and token-paginated; on 2.0 everything in one
//! response (old SDKs read only the first page there, reference §0.1).
//!
//! Like the service, the list shows pinned and active clusters plus those terminated in the last
//! 30 days.

use serde_json::{Map, Value, json};

use super::model::{Cluster, State};
use crate::{
    error::ApiError,
    extract::Params,
    pagination::{decode_token, page},
};

const DEFAULT_PAGE_SIZE: usize = 20;
const MAX_PAGE_SIZE: usize = 100;
const THIRTY_DAYS_MS: u64 = 30 * 24 * 3600 * 1000;
const CLUSTER_SOURCES: &[&str] = &["API", "JOB", "MODELS", "PIPELINE", "PIPELINE_MAINTENANCE", "SQL", "UI"];

/// Which clusters a 2.1 list asks for, and how.
#[derive(Debug, Default)]
pub(crate) struct ListQuery {
    states: Vec<State>,
    sources: Vec<String>,
    is_pinned: Option<bool>,
    policy_id: Option<String>,
    by_name: bool,
    descending: bool,
    offset: usize,
    page_size: usize,
}

impl ListQuery {
    /// Reads `filter_by.*`, `sort_by.*`, `page_size` and `page_token` from the query string.
    pub fn parse(params: &Params) -> Result<Self, ApiError> {
        let states = params
            .all("filter_by.cluster_states")
            .into_iter()
            .map(|s| State::parse(s).ok_or_else(|| ApiError::invalid_parameter(format!("Invalid cluster state: {s}"))))
            .collect::<Result<_, _>>()?;
        let sources = params
            .all("filter_by.cluster_sources")
            .into_iter()
            .map(|s| {
                if CLUSTER_SOURCES.contains(&s) {
                    Ok(s.to_owned())
                } else {
                    Err(ApiError::invalid_parameter(format!("Invalid cluster source: {s}")))
                }
            })
            .collect::<Result<_, _>>()?;
        let by_name = match params.get("sort_by.field").unwrap_or("DEFAULT") {
            "DEFAULT" => false,
            "CLUSTER_NAME" => true,
            other => {
                return Err(ApiError::invalid_parameter(format!("Invalid sort_by.field: {other}")));
            }
        };
        let descending = match params.get("sort_by.direction").unwrap_or("ASC") {
            "ASC" => false,
            "DESC" => true,
            other => {
                return Err(ApiError::invalid_parameter(format!("Invalid sort_by.direction: {other}")));
            }
        };
        // The server may return fewer than asked (SDK docs), so oversized pages are trimmed, not refused.
        let page_size = match params.parse::<usize>("page_size")? {
            None | Some(0) => DEFAULT_PAGE_SIZE,
            Some(n) => n.min(MAX_PAGE_SIZE),
        };
        Ok(ListQuery {
            states,
            sources,
            is_pinned: params.parse("filter_by.is_pinned")?,
            policy_id: params.get("filter_by.policy_id").map(str::to_owned),
            by_name,
            descending,
            offset: decode_token(params.get("page_token").unwrap_or_default())?,
            page_size,
        })
    }

    fn admits(&self, c: &Cluster) -> bool {
        (self.states.is_empty() || self.states.contains(&c.state))
            && (self.sources.is_empty() || self.sources.contains(&c.source))
            && self.is_pinned.is_none_or(|p| p == c.pinned)
            && self.policy_id.as_ref().is_none_or(|p| c.spec.policy_id.as_ref() == Some(p))
    }
}

/// Whether a list shows the cluster at all.
fn listed(c: &Cluster, now: u64) -> bool {
    c.pinned
        || c.state != State::Terminated
        || c.terminated_time.is_some_and(|t| now.saturating_sub(t) <= THIRTY_DAYS_MS)
}

/// The service's default order: active clusters first, newest first; then terminated ones, most
/// recently terminated first.
fn default_order(clusters: &mut [&Cluster]) {
    clusters.sort_by(|a, b| {
        let terminated = |c: &Cluster| c.state == State::Terminated;
        let recency = |c: &Cluster| c.terminated_time.unwrap_or(c.start_time);
        terminated(a).cmp(&terminated(b)).then(recency(b).cmp(&recency(a))).then(a.id.cmp(&b.id))
    });
}

/// The 2.1 answer: one page, with tokens only where there are more pages.
pub(crate) fn page_v21(clusters: Vec<&Cluster>, query: &ListQuery, now: u64) -> Value {
    let mut matching: Vec<&Cluster> = clusters.into_iter().filter(|c| listed(c, now) && query.admits(c)).collect();
    default_order(&mut matching);
    if query.by_name {
        matching.sort_by(|a, b| a.spec.cluster_name.cmp(&b.spec.cluster_name).then(a.id.cmp(&b.id)));
    }
    if query.descending {
        matching.reverse();
    }
    let page = page(matching, query.offset, query.page_size);
    let mut out = Map::new();
    if !page.items.is_empty() {
        out.insert("clusters".into(), Value::Array(page.items.iter().map(|c| c.details()).collect()));
    }
    if let Some(token) = page.next_page_token {
        out.insert("next_page_token".into(), json!(token));
    }
    if let Some(token) = page.prev_page_token {
        out.insert("prev_page_token".into(), json!(token));
    }
    Value::Object(out)
}

/// The 2.0 answer: every listed cluster, no tokens.
pub(crate) fn all_v20(clusters: Vec<&Cluster>, now: u64) -> Value {
    let mut listed: Vec<&Cluster> = clusters.into_iter().filter(|c| listed(c, now)).collect();
    default_order(&mut listed);
    if listed.is_empty() {
        return json!({});
    }
    json!({ "clusters": listed.iter().map(|c| c.details()).collect::<Vec<_>>() })
}
