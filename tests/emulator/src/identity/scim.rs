//! The SCIM 2.0 reads of `iam.CurrentUserAPI`, `UsersAPI`, `ServicePrincipalsAPI` and `GroupsAPI`.
//!
//! Lists page the SCIM way (1-based `startIndex`, `count`), filter with `attr eq|ne|co|sw "value"`,
//! sort with `sortBy`/`sortOrder` and project with `attributes`/`excludedAttributes`. SCIM errors
//! have their own body (`{"schemas","detail","status"}`), which SDKs map by HTTP status.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};

use super::{
    Caller,
    directory::{Directory, Group, Kind, Principal},
};
use crate::{extract::Params, workspace::AppState};

const USER_SCHEMAS: &[&str] =
    &["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:workspace:2.0:User"];
const SP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The page size when the client names none, and the most one page holds.
const MAX_COUNT: usize = 10_000;

type App = State<Arc<AppState>>;

/// A SCIM error body.
fn scim_error(status: StatusCode, detail: &str, scim_type: Option<&str>) -> Response {
    let mut body = json!({ "schemas": [ERROR_SCHEMA], "detail": detail, "status": status.as_str() });
    if let Some(t) = scim_type {
        body["scimType"] = json!(t);
    }
    (status, Json(body)).into_response()
}

fn group_refs(d: &Directory, principal_id: &str) -> Vec<Value> {
    d.groups_of(principal_id)
        .iter()
        .map(|g| json!({"display": g.name, "type": "direct", "value": g.id, "$ref": format!("Groups/{}", g.id)}))
        .collect()
}

fn entitlements(p: &Principal) -> Vec<Value> {
    p.entitlements.iter().map(|e| json!({ "value": e })).collect()
}

/// A user in SCIM form. A service principal seen through `/Me` takes the same shape, its
/// application id as `userName`, as on the service.
fn user_json(d: &Directory, p: &Principal) -> Value {
    let mut out = json!({
        "id": p.id,
        "userName": p.user_name,
        "displayName": p.display_name,
        "active": true,
        "schemas": USER_SCHEMAS,
    });
    if p.kind == Kind::User {
        out["emails"] = json!([{ "type": "work", "value": p.user_name, "primary": true }]);
        if let Some((given, family)) = p.display_name.split_once(' ') {
            out["name"] = json!({ "givenName": given, "familyName": family });
        }
    }
    let groups = group_refs(d, &p.id);
    if !groups.is_empty() {
        out["groups"] = json!(groups);
    }
    if !p.entitlements.is_empty() {
        out["entitlements"] = json!(entitlements(p));
    }
    out
}

fn service_principal_json(d: &Directory, p: &Principal) -> Value {
    let mut out = json!({
        "id": p.id,
        "applicationId": p.user_name,
        "displayName": p.display_name,
        "active": true,
        "schemas": [SP_SCHEMA],
    });
    let groups = group_refs(d, &p.id);
    if !groups.is_empty() {
        out["groups"] = json!(groups);
    }
    if !p.entitlements.is_empty() {
        out["entitlements"] = json!(entitlements(p));
    }
    out
}

fn group_json(d: &Directory, g: &Group) -> Value {
    let members: Vec<Value> = g
        .members
        .iter()
        .filter_map(|id| d.by_id(id))
        .map(|p| {
            let (display, path) = match p.kind {
                Kind::User => (&p.user_name, "Users"),
                Kind::ServicePrincipal => (&p.display_name, "ServicePrincipals"),
            };
            json!({ "display": display, "value": p.id, "$ref": format!("{path}/{}", p.id) })
        })
        .collect();
    let mut out = json!({
        "id": g.id,
        "displayName": g.name,
        "meta": { "resourceType": "WorkspaceGroup" },
        "schemas": [GROUP_SCHEMA],
    });
    if !members.is_empty() {
        out["members"] = json!(members);
    }
    out
}

pub(super) async fn me(State(app): App, caller: Caller) -> Response {
    let ws = app.workspace();
    match ws.identity.by_id(&caller.id) {
        Some(p) => Json(user_json(&ws.identity, p)).into_response(),
        None => scim_error(StatusCode::NOT_FOUND, "User not found.", None),
    }
}

pub(super) async fn list_users(State(app): App, params: Params) -> Response {
    let ws = app.workspace();
    let d = &ws.identity;
    let all = d.principals.iter().filter(|p| p.kind == Kind::User).map(|p| user_json(d, p)).collect();
    list(all, &params)
}

pub(super) async fn get_user(State(app): App, Path(id): Path<String>, params: Params) -> Response {
    let ws = app.workspace();
    let d = &ws.identity;
    match d.by_id(&id).filter(|p| p.kind == Kind::User) {
        Some(p) => Json(project(user_json(d, p), &params)).into_response(),
        None => scim_error(StatusCode::NOT_FOUND, &format!("User {id} not found."), None),
    }
}

pub(super) async fn list_service_principals(State(app): App, params: Params) -> Response {
    let ws = app.workspace();
    let d = &ws.identity;
    let all = d
        .principals
        .iter()
        .filter(|p| p.kind == Kind::ServicePrincipal)
        .map(|p| service_principal_json(d, p))
        .collect();
    list(all, &params)
}

pub(super) async fn get_service_principal(State(app): App, Path(id): Path<String>, params: Params) -> Response {
    let ws = app.workspace();
    let d = &ws.identity;
    match d.by_id(&id).filter(|p| p.kind == Kind::ServicePrincipal) {
        Some(p) => Json(project(service_principal_json(d, p), &params)).into_response(),
        None => scim_error(StatusCode::NOT_FOUND, &format!("Service Principal {id} not found."), None),
    }
}

pub(super) async fn list_groups(State(app): App, params: Params) -> Response {
    let ws = app.workspace();
    let d = &ws.identity;
    list(d.groups.iter().map(|g| group_json(d, g)).collect(), &params)
}

pub(super) async fn get_group(State(app): App, Path(id): Path<String>, params: Params) -> Response {
    let ws = app.workspace();
    let d = &ws.identity;
    match d.groups.iter().find(|g| g.id == id) {
        Some(g) => Json(project(group_json(d, g), &params)).into_response(),
        None => scim_error(StatusCode::NOT_FOUND, &format!("Group {id} not found."), None),
    }
}

/// A `filter` expression: one `attribute op "value"` comparison.
#[derive(Debug, PartialEq, Eq)]
struct Filter {
    attribute: String,
    op: String,
    value: String,
}

impl Filter {
    fn parse(text: &str) -> Option<Filter> {
        let mut parts = text.trim().splitn(3, ' ');
        let attribute = parts.next()?.to_owned();
        let op = parts.next()?.to_ascii_lowercase();
        let raw = parts.next()?.trim();
        let value = raw.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(raw).to_owned();
        ["eq", "ne", "co", "sw", "ew"].contains(&op.as_str()).then_some(Filter { attribute, op, value })
    }

    fn admits(&self, resource: &Value) -> bool {
        // SCIM attribute names and string comparisons are case-insensitive (RFC 7644 §3.4.2.2).
        let actual = attribute(resource, &self.attribute).map(|v| match v {
            Value::String(s) => s.to_lowercase(),
            other => other.to_string(),
        });
        let Some(actual) = actual else { return self.op == "ne" };
        let wanted = self.value.to_lowercase();
        match self.op.as_str() {
            "eq" => actual == wanted,
            "ne" => actual != wanted,
            "co" => actual.contains(&wanted),
            "sw" => actual.starts_with(&wanted),
            _ => actual.ends_with(&wanted),
        }
    }
}

/// A top-level attribute, matched case-insensitively.
fn attribute<'a>(resource: &'a Value, name: &str) -> Option<&'a Value> {
    resource.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

/// Keeps only `attributes` (plus `id`), or drops `excludedAttributes`.
fn project(resource: Value, params: &Params) -> Value {
    let names = |key: &str| -> Option<Vec<String>> {
        params.get(key).filter(|v| !v.is_empty()).map(|v| v.split(',').map(|s| s.trim().to_lowercase()).collect())
    };
    let Value::Object(map) = resource else { return resource };
    let map: Map<String, Value> = match (names("attributes"), names("excludedAttributes")) {
        (Some(keep), _) => map.into_iter().filter(|(k, _)| k == "id" || keep.contains(&k.to_lowercase())).collect(),
        (None, Some(drop)) => map.into_iter().filter(|(k, _)| !drop.contains(&k.to_lowercase())).collect(),
        (None, None) => map,
    };
    Value::Object(map)
}

/// A SCIM list response: filtered, sorted, then the page from `startIndex` (1-based).
fn list(mut resources: Vec<Value>, params: &Params) -> Response {
    // `Err` names the parameter that is not a number.
    let number = |key: &'static str| params.get(key).map(|v| v.trim().parse::<usize>()).transpose().map_err(|_| key);
    let (start, count) = match (number("startIndex"), number("count")) {
        (Ok(start), Ok(count)) => (start.unwrap_or(1).max(1), count.unwrap_or(MAX_COUNT).min(MAX_COUNT)),
        (Err(key), _) | (_, Err(key)) => {
            return scim_error(StatusCode::BAD_REQUEST, &format!("Invalid value for {key}: must be a number"), None);
        }
    };
    if let Some(text) = params.get("filter").filter(|f| !f.trim().is_empty()) {
        let Some(filter) = Filter::parse(text) else {
            return scim_error(StatusCode::BAD_REQUEST, &format!("Invalid filter '{text}'"), Some("invalidFilter"));
        };
        resources.retain(|r| filter.admits(r));
    }
    if let Some(by) = params.get("sortBy").filter(|s| !s.is_empty()) {
        let key = |r: &Value| attribute(r, by).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_lowercase));
        resources.sort_by_key(key);
        if params.get("sortOrder").is_some_and(|o| o.eq_ignore_ascii_case("descending")) {
            resources.reverse();
        }
    }
    let total = resources.len();
    let page: Vec<Value> = resources.into_iter().skip(start - 1).take(count).map(|r| project(r, params)).collect();
    let mut body = json!({
        "totalResults": total,
        "itemsPerPage": page.len(),
        "startIndex": start,
        "schemas": [LIST_SCHEMA],
    });
    // Past the end the service leaves `Resources` out, which ends the SDK's paging loop.
    if !page.is_empty() {
        body["Resources"] = Value::Array(page);
    }
    Json(body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_compare_case_insensitively() {
        let f = Filter::parse(r#"userName eq "Alice.Nguyen@example.com""#).expect("valid");
        assert!(f.admits(&json!({"userName": "alice.nguyen@example.com"})));
        assert!(!f.admits(&json!({"userName": "bob@example.com"})));
        let co = Filter::parse(r#"displayName co "engin""#).expect("valid");
        assert!(co.admits(&json!({"displayName": "data-engineers"})));
        assert_eq!(Filter::parse("userName like x"), None);
        assert_eq!(Filter::parse("userName"), None);
    }
}
