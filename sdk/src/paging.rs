//! One page of a workspace list, whatever pagination style the endpoint uses.
//!
//! MCP tools never dump whole lists: a list tool takes `page_token` and `limit` arguments and
//! returns one page plus the token for the next. The workspace API has several pagination styles
//! (see the API reference); [`Context::page`] speaks all of them and hands the model the same
//! opaque `next_page_token` in every case.
//!
//! Some endpoints answer a whole list in one response (secret scopes, a DBFS or workspace folder,
//! library statuses). Tools still hand such a list out in pages: [`Page::from_items`] cuts one
//! page and issues a token for the next, so the model pages the same way everywhere.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::context::{Context, Request};
use crate::error::{Result, ToolError};

/// How an endpoint pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// `?page_token=` ← `next_page_token`, page size in the named query parameter
    /// (`page_size`, `max_results` or `limit`). Clusters 2.1, jobs, warehouses, Unity Catalog...
    QueryToken {
        /// The query parameter for the page size.
        size_param: &'static str,
    },
    /// Like `QueryToken` but the token goes back under the name `next_page_token` (Repos).
    QueryNextPageToken {
        /// The query parameter for the page size.
        size_param: &'static str,
    },
    /// The token and size go in the JSON body of a POST (MLflow searches).
    BodyToken {
        /// The body field for the page size.
        size_param: &'static str,
    },
    /// The response's `next_page` is the complete body of the next request (cluster events).
    NextRequest {
        /// The body field for the page size.
        size_param: &'static str,
    },
    /// SCIM: `startIndex` (1-based) and `count`; items under `Resources`.
    Scim,
    /// `?page=1,2,...&page_size=`; stops on an empty page (legacy SQL lists).
    PageNumber,
}

/// The paging arguments of a list tool, ready to embed with `#[serde(flatten)]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PageArgs {
    /// How many items to return (default and maximum depend on the tool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `next_page_token` of the previous call, to get the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
}

impl PageArgs {
    /// The limit, defaulted and capped.
    pub fn limit_or(&self, default: u32, max: u32) -> u32 {
        self.limit.unwrap_or(default).clamp(1, max)
    }
}

/// One page of items and the token for the next, if there is one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// Pass back as `page_token` for the next page; `None` on the last page.
    pub next_page_token: Option<String>,
    /// The whole response body, for endpoint-specific fields such as `total_count`.
    pub raw: Map<String, Value>,
}

impl Context {
    /// Fetch one page of `items_key` from `request`, `limit` items at most, continuing from
    /// `page_token` if given. For body styles, `request` must carry a JSON object body.
    pub fn page<T: DeserializeOwned>(
        &self,
        request: Request,
        items_key: &str,
        paging: Paging,
        limit: u32,
        page_token: Option<&str>,
    ) -> Result<Page<T>> {
        let request = prepare(request, paging, limit, page_token)?;
        let mut raw: Map<String, Value> = self.send(request)?.json()?;
        let items_value = raw.remove(items_key).unwrap_or(Value::Array(Vec::new()));
        let items: Vec<T> = serde_json::from_value(items_value).map_err(|e| {
            ToolError::Internal(format!("the workspace answered with `{items_key}` this tool cannot read: {e}"))
        })?;
        let next_page_token = next_token(&raw, paging, items.len(), limit, page_token)?;
        Ok(Page { items, next_page_token, raw })
    }
}

impl<T> Page<T> {
    /// One page of a list the endpoint returned whole: at most `limit` items (at least one)
    /// starting where `page_token` points, and a token for the rest when there is more.
    ///
    /// Tokens are opaque to the model; pass back the `next_page_token` of the previous page. No
    /// token, or an empty one, means the first page. A token this function did not issue is an
    /// [`ToolError::InvalidArguments`]. A token past the end (the list shrank between calls)
    /// gives an empty last page. `raw` holds `total_count` (how many items the whole list has) and
    /// `offset` (the position of this page's first item), for texts such as "items 21-40 of 75".
    ///
    /// ```
    /// use databricks_mcp_sdk::Page;
    /// let first = Page::from_items(vec!["a", "b", "c"], 2, None).unwrap();
    /// assert_eq!(first.items, ["a", "b"]);
    /// let rest = Page::from_items(vec!["a", "b", "c"], 2, first.next_page_token.as_deref()).unwrap();
    /// assert_eq!((rest.items, rest.next_page_token), (vec!["c"], None));
    /// ```
    pub fn from_items(items: Vec<T>, limit: u32, page_token: Option<&str>) -> Result<Page<T>> {
        let start = match page_token {
            None | Some("") => 0,
            Some(token) => usize::try_from(parse_number(token)?).unwrap_or(usize::MAX),
        };
        let total = items.len();
        let start = start.min(total);
        let end = start.saturating_add(limit.max(1) as usize).min(total);
        let page: Vec<T> = items.into_iter().skip(start).take(end - start).collect();
        let mut raw = Map::new();
        raw.insert("total_count".into(), total.into());
        raw.insert("offset".into(), start.into());
        Ok(Page { items: page, next_page_token: (end < total).then(|| end.to_string()), raw })
    }
}

fn prepare(mut request: Request, paging: Paging, limit: u32, token: Option<&str>) -> Result<Request> {
    match paging {
        Paging::QueryToken { size_param } | Paging::QueryNextPageToken { size_param } => {
            let key = if matches!(paging, Paging::QueryToken { .. }) { "page_token" } else { "next_page_token" };
            request = request.query(size_param, limit);
            if let Some(token) = token {
                request = request.query(key, token);
            }
        }
        Paging::PageNumber => {
            let page = token.map(parse_number).transpose()?.unwrap_or(1);
            request = request.query("page", page).query("page_size", limit);
        }
        Paging::Scim => {
            let start = token.map(parse_number).transpose()?.unwrap_or(1);
            request = request.query("startIndex", start).query("count", limit);
        }
        Paging::BodyToken { size_param } | Paging::NextRequest { size_param } => {
            let mut body = match &request.body {
                Some(bytes) => serde_json::from_slice::<Map<String, Value>>(bytes)?,
                None => Map::new(),
            };
            match (paging, token) {
                // The token is the whole next request; it already carries the filters.
                (Paging::NextRequest { .. }, Some(token)) => body = decode_body_token(token)?,
                (_, Some(token)) => {
                    body.insert("page_token".into(), token.into());
                }
                _ => {}
            }
            body.insert(size_param.into(), limit.into());
            request.body = None;
            request.headers.retain(|(k, _)| k != "content-type");
            request = request.json(&body)?;
        }
    }
    Ok(request)
}

fn next_token(
    raw: &Map<String, Value>,
    paging: Paging,
    count: usize,
    limit: u32,
    token: Option<&str>,
) -> Result<Option<String>> {
    let non_empty = |v: Option<&Value>| v.and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    Ok(match paging {
        Paging::QueryToken { .. } | Paging::QueryNextPageToken { .. } | Paging::BodyToken { .. } => {
            non_empty(raw.get("next_page_token"))
        }
        Paging::NextRequest { .. } => match raw.get("next_page") {
            Some(Value::Object(next)) if !next.is_empty() => Some(encode_body_token(next)?),
            _ => None,
        },
        Paging::Scim => {
            let start = token.map(parse_number).transpose()?.unwrap_or(1);
            let total = raw.get("totalResults").and_then(Value::as_u64);
            let next = start + count as u64;
            let more = count > 0 && total.is_none_or(|total| next <= total);
            more.then(|| next.to_string())
        }
        Paging::PageNumber => {
            let page = token.map(parse_number).transpose()?.unwrap_or(1);
            (count > 0 && count as u64 >= u64::from(limit)).then(|| (page + 1).to_string())
        }
    })
}

fn parse_number(token: &str) -> Result<u64> {
    token.parse().map_err(|_| ToolError::invalid(format!("page_token `{token}` is not one this tool issued")))
}

fn encode_body_token(body: &Map<String, Value>) -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(serde_json::to_vec(body)?))
}

fn decode_body_token(token: &str) -> Result<Map<String, Value>> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ToolError::invalid(format!("page_token `{token}` is not one this tool issued")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Method;
    use serde_json::json;

    fn query(r: &Request) -> Vec<(&str, &str)> {
        r.query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    #[test]
    fn query_token_passes_size_and_token() {
        let r =
            prepare(Request::new(Method::Get, "/x"), Paging::QueryToken { size_param: "max_results" }, 5, Some("t1"))
                .unwrap();
        assert_eq!(query(&r), [("max_results", "5"), ("page_token", "t1")]);
        let r =
            prepare(Request::new(Method::Get, "/r"), Paging::QueryNextPageToken { size_param: "limit" }, 5, Some("t"))
                .unwrap();
        assert_eq!(query(&r), [("limit", "5"), ("next_page_token", "t")]);
    }

    #[test]
    fn empty_next_page_token_means_last_page() {
        let raw = json!({"next_page_token": ""}).as_object().unwrap().clone();
        assert_eq!(next_token(&raw, Paging::QueryToken { size_param: "page_size" }, 3, 3, None).unwrap(), None);
    }

    #[test]
    fn next_request_token_round_trips_the_body() {
        let raw = json!({"next_page": {"cluster_id": "c", "offset": 50, "limit": 50}}).as_object().unwrap().clone();
        let token = next_token(&raw, Paging::NextRequest { size_param: "limit" }, 50, 50, None).unwrap().unwrap();
        let r = Request::new(Method::Post, "/e").json(&json!({"cluster_id": "c"})).unwrap();
        let r = prepare(r, Paging::NextRequest { size_param: "limit" }, 10, Some(&token)).unwrap();
        let body: Value = serde_json::from_slice(r.body.as_ref().unwrap()).unwrap();
        assert_eq!(body, json!({"cluster_id": "c", "offset": 50, "limit": 10}));
        assert!(
            prepare(Request::new(Method::Post, "/e"), Paging::NextRequest { size_param: "limit" }, 1, Some("garbage"))
                .is_err()
        );
    }

    #[test]
    fn whole_lists_are_cut_into_pages() {
        let page = Page::from_items(vec![1, 2, 3, 4, 5], 2, None).unwrap();
        assert_eq!((page.items, page.next_page_token.as_deref()), (vec![1, 2], Some("2")));
        assert_eq!((&page.raw["total_count"], &page.raw["offset"]), (&json!(5), &json!(0)));
        let page = Page::from_items(vec![1, 2, 3, 4, 5], 2, Some("2")).unwrap();
        assert_eq!((page.items, page.next_page_token.as_deref()), (vec![3, 4], Some("4")));
        assert_eq!(page.raw["offset"], json!(2));
        let page = Page::from_items(vec![1, 2, 3, 4, 5], 2, Some("4")).unwrap();
        assert_eq!((page.items, page.next_page_token), (vec![5], None));
        let page = Page::from_items(vec![1, 2, 3], 3, Some("")).unwrap();
        assert_eq!((page.items, page.next_page_token), (vec![1, 2, 3], None));
    }

    #[test]
    fn whole_list_edge_cases() {
        let empty = Page::from_items(Vec::<u8>::new(), 10, None).unwrap();
        assert!(empty.items.is_empty() && empty.next_page_token.is_none());
        let past = Page::from_items(vec![1, 2], 10, Some("7")).unwrap();
        assert!(past.items.is_empty() && past.next_page_token.is_none());
        assert_eq!(past.raw["offset"], json!(2));
        let zero = Page::from_items(vec![1, 2], 0, None).unwrap();
        assert_eq!((zero.items, zero.next_page_token.as_deref()), (vec![1], Some("1")));
        for bad in ["x", "-1", "1.5", " 1"] {
            let error = Page::from_items(vec![1], 2, Some(bad)).unwrap_err();
            assert_eq!(error, ToolError::invalid(format!("page_token `{bad}` is not one this tool issued")));
        }
    }

    #[test]
    fn scim_and_page_number_advance() {
        let raw = json!({"totalResults": 5}).as_object().unwrap().clone();
        assert_eq!(next_token(&raw, Paging::Scim, 2, 2, None).unwrap().as_deref(), Some("3"));
        assert_eq!(next_token(&raw, Paging::Scim, 1, 2, Some("5")).unwrap(), None);
        assert_eq!(next_token(&Map::new(), Paging::PageNumber, 10, 10, Some("2")).unwrap().as_deref(), Some("3"));
        assert_eq!(next_token(&Map::new(), Paging::PageNumber, 4, 10, Some("2")).unwrap(), None);
    }
}
