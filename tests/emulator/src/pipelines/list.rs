//! The two paginated lists besides events: `GET /pipelines` (filtered, ordered) and
//! `GET /pipelines/{id}/updates` (newest first, down to `until_update_id`).

use serde_json::{Map, Value, json};

use super::{
    filter::{Filter, Operand},
    model::Pipeline,
    render,
};
use crate::{
    error::ApiError,
    extract::Params,
    pagination::{Page, decode_token, page},
};

const DEFAULT_PAGE_SIZE: usize = 25;
const MAX_PAGE_SIZE: usize = 100;
const PIPELINE_FILTER_FIELDS: &[&str] = &["name", "id", "pipeline_id", "notebook", "creator_user_name", "state"];

/// `max_results`: 0 or missing means the default; above the maximum is refused, as documented.
fn page_size(params: &Params) -> Result<usize, ApiError> {
    match params.parse::<usize>("max_results")? {
        None | Some(0) => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if n > MAX_PAGE_SIZE => {
            Err(ApiError::invalid_parameter(format!("max_results must be at most {MAX_PAGE_SIZE}, got {n}.")))
        }
        Some(n) => Ok(n),
    }
}

fn respond<T>(key: &str, page: Page<T>, render: impl Fn(&T) -> Value) -> Value {
    let mut out = Map::new();
    if !page.items.is_empty() {
        out.insert(key.into(), Value::Array(page.items.iter().map(render).collect()));
    }
    if let Some(token) = page.next_page_token {
        out.insert("next_page_token".into(), json!(token));
    }
    if let Some(token) = page.prev_page_token {
        out.insert("prev_page_token".into(), json!(token));
    }
    Value::Object(out)
}

fn field(p: &Pipeline, name: &str, notebook: Option<&str>) -> Option<Operand> {
    let text = |s: &str| Some(Operand::Text(s.to_owned()));
    match name {
        "name" => text(p.spec_name()),
        "id" | "pipeline_id" => text(&p.id),
        "creator_user_name" => text(&p.creator),
        "state" => text(p.state.as_str()),
        "notebook" => notebook.map(|n| Operand::Text(n.to_owned())),
        _ => None,
    }
}

/// Whether a pipeline passes the filter; `notebook` clauses match any of its library paths.
fn admits(filter: &Filter, p: &Pipeline) -> bool {
    let paths: Vec<&str> = p
        .spec
        .get("libraries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| l.get("notebook").or_else(|| l.get("file")).and_then(|s| s.get("path")).and_then(Value::as_str))
        .collect();
    if paths.is_empty() {
        return filter.matches(|f| field(p, f, None));
    }
    paths.iter().any(|path| filter.matches(|f| field(p, f, Some(path))))
}

/// One sort key of `order_by`: `name asc`, `id desc`.
fn sort_keys(params: &Params) -> Result<Vec<(bool, bool)>, ApiError> {
    params
        .all("order_by")
        .into_iter()
        .flat_map(|o| o.split(','))
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|order| {
            let mut words = order.split_whitespace();
            let by_name = match words.next().map(str::to_ascii_lowercase).as_deref() {
                Some("name") => true,
                Some("id") => false,
                _ => {
                    return Err(ApiError::invalid_parameter(format!(
                        "Invalid order_by '{order}': pipelines can be ordered by 'id' or 'name'."
                    )));
                }
            };
            let descending = match words.next().map(str::to_ascii_lowercase).as_deref() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(other) => {
                    return Err(ApiError::invalid_parameter(format!("Invalid order_by direction '{other}'.")));
                }
            };
            Ok((by_name, descending))
        })
        .collect()
}

/// `GET /pipelines`: `{statuses, next_page_token?}`, by id unless `order_by` says otherwise.
pub(crate) fn pipelines(all: Vec<&Pipeline>, params: &Params) -> Result<Value, ApiError> {
    let filter = match params.get("filter").filter(|f| !f.trim().is_empty()) {
        Some(text) => Some(Filter::parse(text, PIPELINE_FILTER_FIELDS)?),
        None => None,
    };
    let keys = sort_keys(params)?;
    let size = page_size(params)?;
    let offset = decode_token(params.get("page_token").unwrap_or_default())?;
    let mut matching: Vec<&Pipeline> =
        all.into_iter().filter(|p| filter.as_ref().is_none_or(|f| admits(f, p))).collect();
    matching.sort_by(|a, b| {
        keys.iter()
            .map(|&(by_name, descending)| {
                let ord = if by_name { a.spec_name().cmp(b.spec_name()) } else { a.id.cmp(&b.id) };
                if descending { ord.reverse() } else { ord }
            })
            .find(|o| o.is_ne())
            .unwrap_or_else(|| a.id.cmp(&b.id))
    });
    Ok(respond("statuses", page(matching, offset, size), |p| render::status(p)))
}

/// `GET /pipelines/{id}/updates`: newest first, stopping at `until_update_id` (included).
pub(crate) fn updates(pipeline: &Pipeline, params: &Params) -> Result<Value, ApiError> {
    let size = page_size(params)?;
    let offset = decode_token(params.get("page_token").unwrap_or_default())?;
    let mut newest_first: Vec<_> = pipeline.updates.iter().rev().collect();
    if let Some(until) = params.get("until_update_id").filter(|u| !u.is_empty()) {
        let position = newest_first.iter().position(|u| u.id == until).ok_or_else(|| {
            ApiError::invalid_parameter(format!("Update {until} does not belong to pipeline {}.", pipeline.id))
        })?;
        newest_first.truncate(position + 1);
    }
    Ok(respond("updates", page(newest_first, offset, size), |u| render::update(&pipeline.id, u)))
}
