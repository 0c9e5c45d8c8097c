//! HTTP handlers of the Repos API.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Repo, commit_id};
use crate::{
    dbfs::tree::name,
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    identity::Caller,
    pagination::{decode_token, page},
    workspace::AppState,
    workspace_tree::{
        access::{self, Access, Need},
        handlers::workspace_path,
    },
};

type App = State<Arc<AppState>>;

/// Repos per page of `list`.
const PAGE_SIZE: usize = 20;

const PROVIDERS: [&str; 8] = [
    "gitHub",
    "bitbucketCloud",
    "gitLab",
    "azureDevOpsServices",
    "gitHubEnterprise",
    "bitbucketServer",
    "gitLabEnterpriseEdition",
    "awsCodeCommit",
];

fn repo_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::invalid_parameter(format!("Invalid repo id: '{raw}'")))
}

fn not_found(id: i64) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", format!("Repo {id} does not exist."))
}

pub(super) async fn list(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let offset = decode_token(params.get("next_page_token").unwrap_or(""))?;
    let prefix = params.get("path_prefix").unwrap_or("");
    let ws = app.workspace();
    let mut repos: Vec<&Repo> = ws
        .repos
        .by_id
        .values()
        .filter(|r| r.path.starts_with(prefix))
        .filter(|r| access::access(&caller, &r.path) != Access::None)
        .collect();
    repos.sort_by(|a, b| a.path.cmp(&b.path));
    let cut = page(repos.into_iter().map(Repo::info).collect(), offset, PAGE_SIZE);
    let mut body = json!({});
    if !cut.items.is_empty() {
        body["repos"] = Value::Array(cut.items);
    }
    if let Some(token) = cut.next_page_token {
        body["next_page_token"] = json!(token);
    }
    Ok(Json(body))
}

pub(super) async fn get(State(app): App, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = repo_id(&id)?;
    let ws = app.workspace();
    let repo = ws.repos.by_id.get(&id).ok_or_else(|| not_found(id))?;
    access::check(&caller, &repo.path, Need::Read)?;
    Ok(Json(repo.info()))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CreateBody {
    url: Option<String>,
    provider: Option<String>,
    path: Option<String>,
    sparse_checkout: Option<Value>,
}

pub(super) async fn create(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<Json<Value>> {
    let url = body.url.filter(|u| !u.is_empty()).ok_or_else(|| ApiError::missing_field("url"))?;
    let provider = body.provider.filter(|p| !p.is_empty()).ok_or_else(|| ApiError::missing_field("provider"))?;
    let provider = PROVIDERS
        .iter()
        .find(|p| p.eq_ignore_ascii_case(&provider))
        .ok_or_else(|| ApiError::invalid_parameter(format!("Invalid Git provider '{provider}'.")))?;
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let path = match body.path {
        Some(p) => workspace_path(Some(&p))?,
        None => {
            let repo_name = name(url.trim_end_matches('/')).trim_end_matches(".git").to_owned();
            format!("/Repos/{}/{repo_name}", caller.user_name)
        }
    };
    if !path.starts_with("/Repos/") || path.matches('/').count() < 3 {
        return Err(ApiError::invalid_parameter(format!(
            "Repo path {path} is invalid: repos live at /Repos/<folder>/<name>."
        )));
    }
    access::check(&caller, &path, Need::Edit)?;
    let now = app.clock.now_ms();
    let id = ws.workspace_tree.add_repo(&path, now)?;
    let repo = Repo {
        id,
        head_commit_id: commit_id(&url, "main"),
        path,
        url,
        provider: (*provider).to_owned(),
        branch: Some("main".to_owned()),
        sparse_checkout: body.sparse_checkout,
    };
    let info = repo.info();
    ws.repos.by_id.insert(id, repo);
    Ok(Json(info))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct UpdateBody {
    branch: Option<String>,
    tag: Option<String>,
    sparse_checkout: Option<Value>,
}

pub(super) async fn update(
    State(app): App,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Json<Value>> {
    let id = repo_id(&id)?;
    let mut ws = app.workspace();
    let repo = ws.repos.by_id.get_mut(&id).ok_or_else(|| not_found(id))?;
    access::check(&caller, &repo.path, Need::Edit)?;
    match (body.branch.filter(|b| !b.is_empty()), body.tag.filter(|t| !t.is_empty())) {
        (Some(_), Some(_)) => return Err(ApiError::invalid_parameter("Give either branch or tag, not both.")),
        (Some(branch), None) => {
            repo.head_commit_id = commit_id(&repo.url, &branch);
            repo.branch = Some(branch);
        }
        (None, Some(tag)) => {
            repo.head_commit_id = commit_id(&repo.url, &format!("refs/tags/{tag}"));
            repo.branch = None;
        }
        (None, None) if body.sparse_checkout.is_none() => {
            return Err(ApiError::invalid_parameter("Give a branch or a tag to check out."));
        }
        (None, None) => {}
    }
    if body.sparse_checkout.is_some() {
        repo.sparse_checkout = body.sparse_checkout;
    }
    Ok(Json(json!({})))
}

pub(super) async fn delete(State(app): App, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = repo_id(&id)?;
    let mut ws = app.workspace();
    let path = ws.repos.by_id.get(&id).ok_or_else(|| not_found(id))?.path.clone();
    access::check(&caller, &path, Need::Manage)?;
    let repo = ws.repos.by_id.remove(&id).ok_or_else(|| not_found(id))?;
    let _ = ws.workspace_tree.delete(&repo.path, true);
    Ok(Json(json!({})))
}
