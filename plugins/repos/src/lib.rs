//! Databricks Git folders (the Repos API) as MCP tools: list, get, create, check out a branch or
//! tag (which pulls it), delete, and `sync_repo_and_run_notebook`: pull a branch, run a notebook
//! of the repo once as a job run, wait for it with progress, and return its exit value or error.
//!
//! A repo is named by `repo_id` or by its workspace path (`repo_path`). Lists take `limit` and
//! `page_token` and return one page at a time.

mod model;

use std::collections::BTreeMap;
use std::time::Duration;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request};

use model::{ObjectInfo, Repo, Run};

const API: &str = "/api/2.0/repos";
const JOBS: &str = "/api/2.2/jobs";

fn repo_url(id: i64) -> String {
    format!("{API}/{id}")
}

fn fetch(ctx: &Context, id: i64) -> Result<Json<Repo>> {
    ctx.get(&repo_url(id), &[])
}

fn object_status(ctx: &Context, path: &str) -> Result<ObjectInfo> {
    ctx.get("/api/2.0/workspace/get-status", &[("path", path.to_string())])
}

/// The repo named by an id or a path (exactly one of them).
fn locate(ctx: &Context, repo_id: Option<i64>, repo_path: Option<&str>) -> Result<Json<Repo>> {
    match (repo_id, repo_path) {
        (Some(id), None) => fetch(ctx, id),
        (None, Some(path)) => {
            if !path.starts_with('/') {
                return Err(ToolError::invalid(format!(
                    "repo_path `{path}` must be absolute, e.g. /Repos/<user name>/<repo>"
                )));
            }
            let info = object_status(ctx, path)?;
            match (info.object_type.as_deref(), info.object_id) {
                (Some("REPO"), Some(id)) => fetch(ctx, id),
                (kind, _) => Err(ToolError::invalid(format!(
                    "{path} is a {}, not a Git folder; list_repos shows the repos",
                    kind.unwrap_or("workspace object")
                ))),
            }
        }
        _ => Err(ToolError::invalid("give exactly one of repo_id or repo_path")),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Arguments of `list_repos`.
#[schema]
pub struct ListRepos {
    /// Only repos whose workspace path starts with this, e.g. `/Repos/someone@example.com`.
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// How many repos to return, 1-100 (default 20).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call (same `path_prefix`), to get the next page.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of repos.
#[schema]
pub struct RepoList {
    /// The repos on this page, as the workspace returned them.
    pub repos: Vec<Json<Repo>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// A position in the workspace's list: its page token (none for the first page) and how many
/// repos of that page were already returned. The API's pages have a fixed size, so the tool
/// cuts its own pages of `limit` across them.
fn parse_token(token: &str) -> Result<(Option<String>, usize)> {
    let bad = || ToolError::invalid(format!("page_token `{token}` is not one this tool issued"));
    let (skip, server) = token.split_once(':').ok_or_else(bad)?;
    let skip = skip.parse().map_err(|_| bad())?;
    Ok(((!server.is_empty()).then(|| server.to_string()), skip))
}

/// List the Git folders (repos) in the workspace, optionally only those under a path prefix, one
/// page at a time. Each line shows path, repo id, remote URL, and the checked-out branch and commit.
#[tool(read_only, idempotent, title = "List repos")]
fn list_repos(ctx: &Context, args: ListRepos) -> Result<Output<RepoList>> {
    #[databricks_mcp_sdk::schema]
    struct Raw {
        #[serde(default)]
        repos: Vec<Json<Repo>>,
        #[serde(default)]
        next_page_token: Option<String>,
    }
    let limit = args.limit.unwrap_or(20).clamp(1, 100) as usize;
    let (mut server_token, mut skip) = match args.page_token.as_deref() {
        None | Some("") => (None, 0),
        Some(token) => parse_token(token)?,
    };
    let mut repos = Vec::new();
    let next_page_token = loop {
        let request = Request::new(Method::Get, API)
            .query_opt("path_prefix", args.path_prefix.as_deref())
            .query_opt("next_page_token", server_token.as_deref());
        let raw: Raw = ctx.send(request)?.json()?;
        let next = raw.next_page_token.filter(|t| !t.is_empty());
        let page_len = raw.repos.len();
        let wanted = limit - repos.len();
        let available = page_len.saturating_sub(skip);
        repos.extend(raw.repos.into_iter().skip(skip).take(wanted));
        if available > wanted {
            // This page has more than fits: continue inside it next time.
            break Some(format!("{}:{}", skip + wanted, server_token.unwrap_or_default()));
        }
        match next {
            Some(token) if repos.len() < limit => {
                server_token = Some(token);
                skip = 0;
            }
            Some(token) => break Some(format!("0:{token}")),
            None => break None,
        }
    };
    let mut lines = repos.iter().map(|r| r.get().map(|r| r.line())).collect::<Result<Vec<_>>>()?;
    if lines.is_empty() {
        lines.push(match &args.path_prefix {
            Some(prefix) => format!("No repos under {prefix}."),
            None => "No repos.".to_string(),
        });
    }
    if let Some(token) = &next_page_token {
        lines.push(format!("More repos: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(lines.join("\n"), RepoList { repos, next_page_token }))
}

/// Arguments naming one repo.
#[schema]
pub struct RepoRef {
    /// The repo id (see `list_repos`). Give this or `repo_path`.
    #[serde(default)]
    pub repo_id: Option<i64>,
    /// The repo's workspace path, e.g. `/Repos/someone@example.com/analytics`. Give this or `repo_id`.
    #[serde(default)]
    pub repo_path: Option<String>,
}

/// Get one Git folder (repo): its path, remote URL, provider, and checked-out branch and commit.
#[tool(read_only, idempotent, title = "Get repo")]
fn get_repo(ctx: &Context, args: RepoRef) -> Result<Output<Json<Repo>>> {
    let raw = locate(ctx, args.repo_id, args.repo_path.as_deref())?;
    Ok(Output::new(raw.get()?.line(), raw))
}

// ---------------------------------------------------------------------------------------------
// Changing

/// Git providers.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Provider {
    /// GitHub.
    GitHub,
    /// GitHub Enterprise.
    GitHubEnterprise,
    /// GitLab.
    GitLab,
    /// GitLab Enterprise Edition.
    GitLabEnterpriseEdition,
    /// Bitbucket Cloud.
    BitbucketCloud,
    /// Bitbucket Server.
    BitbucketServer,
    /// Azure DevOps Services.
    AzureDevOpsServices,
    /// AWS CodeCommit.
    AwsCodeCommit,
}

/// The provider of a well-known host.
fn provider_of(url: &str) -> Option<Provider> {
    let host = url.split("://").nth(1).unwrap_or(url).split(['/', ':']).next().unwrap_or("").to_ascii_lowercase();
    let host = host.rsplit('@').next().unwrap_or(&host).to_string();
    Some(match host.as_str() {
        "github.com" => Provider::GitHub,
        "gitlab.com" => Provider::GitLab,
        "bitbucket.org" => Provider::BitbucketCloud,
        "dev.azure.com" => Provider::AzureDevOpsServices,
        h if h.ends_with(".visualstudio.com") => Provider::AzureDevOpsServices,
        h if h.starts_with("git-codecommit.") => Provider::AwsCodeCommit,
        _ => return None,
    })
}

/// Arguments of `create_repo`.
#[schema]
pub struct CreateRepo {
    /// The Git remote URL, e.g. `https://github.com/org/project.git`.
    pub url: String,
    /// The Git provider. Optional for github.com, gitlab.com, bitbucket.org and dev.azure.com URLs.
    #[serde(default)]
    pub provider: Option<Provider>,
    /// Workspace path for the repo, `/Repos/<folder>/<name>`; default `/Repos/<your user name>/<project>`.
    #[serde(default)]
    pub path: Option<String>,
    /// Branch to check out after cloning (default: the remote's default branch).
    #[serde(default)]
    pub branch: Option<String>,
}

/// Create a Git folder (repo) in the workspace by cloning a remote repository, and optionally
/// check out a branch. Private remotes need Git credentials set up for the caller.
#[tool(title = "Create repo")]
fn create_repo(ctx: &Context, args: CreateRepo) -> Result<Output<Json<Repo>>> {
    let provider = match args.provider.or_else(|| provider_of(&args.url)) {
        Some(p) => p,
        None => {
            return Err(ToolError::invalid(format!(
                "cannot tell the Git provider of {}; give `provider` (gitHub, gitLab, bitbucketCloud, ...)",
                args.url
            )));
        }
    };
    let mut body = json!({ "url": args.url, "provider": provider });
    if let Some(path) = &args.path {
        body["path"] = json!(path);
    }
    let created: Json<Repo> = ctx.post(API, &body)?;
    let repo = created.get()?;
    let raw = match args.branch.as_deref() {
        Some(branch) if repo.branch.as_deref() != Some(branch) => {
            checkout(ctx, repo.id, &json!({ "branch": branch }))?;
            fetch(ctx, repo.id)?
        }
        _ => created,
    };
    let repo = raw.get()?;
    Ok(Output::new(format!("Created repo {}", repo.line()), raw))
}

fn checkout(ctx: &Context, id: i64, body: &Value) -> Result<()> {
    let request = Request::new(Method::Patch, repo_url(id)).json(body)?;
    ctx.send(request)?.json::<Value>().map(|_| ())
}

/// Arguments of `update_repo`.
#[schema]
pub struct UpdateRepo {
    /// The repo id. Give this or `repo_path`.
    #[serde(default)]
    pub repo_id: Option<i64>,
    /// The repo's workspace path. Give this or `repo_id`.
    #[serde(default)]
    pub repo_path: Option<String>,
    /// Branch to check out; checking out the current branch pulls its latest commit.
    #[serde(default)]
    pub branch: Option<String>,
    /// Tag to check out instead (leaves the repo on a detached head).
    #[serde(default)]
    pub tag: Option<String>,
}

/// What a checkout did.
#[schema]
pub struct RepoCheckout {
    /// The repo after the checkout.
    pub repo: Json<Repo>,
    /// The branch checked out before (absent if it was a tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_branch: Option<String>,
    /// The commit checked out before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_commit: Option<String>,
}

/// Check out a branch or a tag in a Git folder (repo), pulling its latest commit from the remote.
/// Give the current branch to just pull.
#[tool(idempotent, title = "Check out branch or tag")]
fn update_repo(ctx: &Context, args: UpdateRepo) -> Result<Output<RepoCheckout>> {
    let body = match (args.branch.as_deref().filter(|b| !b.is_empty()), args.tag.as_deref().filter(|t| !t.is_empty())) {
        (Some(branch), None) => json!({ "branch": branch }),
        (None, Some(tag)) => json!({ "tag": tag }),
        _ => return Err(ToolError::invalid("give exactly one of branch or tag")),
    };
    let before = locate(ctx, args.repo_id, args.repo_path.as_deref())?.get()?;
    checkout(ctx, before.id, &body)?;
    let raw = fetch(ctx, before.id)?;
    let after = raw.get()?;
    let what = match (&args.branch, &args.tag) {
        (Some(branch), _) => format!("branch {branch}"),
        (_, Some(tag)) => format!("tag {tag}"),
        _ => String::new(),
    };
    let text = format!(
        "Checked out {what} in {}: now at {} (before: {} at {}).",
        after.path(),
        after.short_commit(),
        before.checkout(),
        before.short_commit()
    );
    Ok(Output::new(
        text,
        RepoCheckout { repo: raw, previous_branch: before.branch, previous_commit: before.head_commit_id },
    ))
}

/// Delete a Git folder (repo) from the workspace with everything in it, including uncommitted
/// changes. The remote repository is not touched.
#[tool(destructive, title = "Delete repo")]
fn delete_repo(ctx: &Context, args: RepoRef) -> Result<Output<Json<Repo>>> {
    let raw = locate(ctx, args.repo_id, args.repo_path.as_deref())?;
    let repo = raw.get()?;
    ctx.send(Request::new(Method::Delete, repo_url(repo.id)))?.json::<Value>()?;
    Ok(Output::new(format!("Deleted repo {} (id {}).", repo.path(), repo.id), raw))
}

// ---------------------------------------------------------------------------------------------
// Pull and run

/// Arguments of `sync_repo_and_run_notebook`.
#[schema]
pub struct SyncRepoAndRunNotebook {
    /// The repo id. Give this or `repo_path`.
    #[serde(default)]
    pub repo_id: Option<i64>,
    /// The repo's workspace path, e.g. `/Repos/someone@example.com/analytics`. Give this or `repo_id`.
    #[serde(default)]
    pub repo_path: Option<String>,
    /// Branch to pull and run from (default: the branch checked out now).
    #[serde(default)]
    pub branch: Option<String>,
    /// The notebook to run, relative to the repo root (e.g. `jobs/ingest`, no extension), or absolute inside the repo.
    pub notebook_path: String,
    /// Run on this existing all-purpose cluster (see `list_clusters`); without it the run uses serverless compute.
    #[serde(default)]
    pub cluster_id: Option<String>,
    /// Notebook parameters (widget values), e.g. `{"date": "2024-06-01"}`.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// Name of the run (default: `<repo name>: <notebook path>`).
    #[serde(default)]
    pub run_name: Option<String>,
    /// Wait at most this many seconds for the run to finish (default 600, at most 1200). When the
    /// wait runs out the run keeps going, and the result says how to poll it.
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
}

/// The outcome of a pull and notebook run.
#[schema]
pub struct NotebookRunResult {
    /// The repo after the pull.
    pub repo: Json<Repo>,
    /// Absolute path of the notebook run.
    pub notebook_path: String,
    /// The run id (poll it with `get_run` or `wait_for_run`).
    pub run_id: i64,
    /// The run's page in the workspace UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_page_url: Option<String>,
    /// True once the run has finished; false when the wait ran out first.
    pub finished: bool,
    /// `state.life_cycle_state` when last seen.
    pub life_cycle_state: String,
    /// `state.result_state` once finished, e.g. `SUCCESS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_state: Option<String>,
    /// The notebook's exit value (`dbutils.notebook.exit(...)`), if it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_value: Option<String>,
    /// True when the workspace cut the exit value short.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_value_truncated: Option<bool>,
}

/// Resolve `notebook` relative to the repo root; an absolute path must lie inside the repo.
fn notebook_in_repo(repo_path: &str, notebook: &str) -> Result<String> {
    let notebook = notebook.trim();
    let absolute = if notebook.starts_with('/') {
        notebook.strip_prefix("/Workspace").filter(|p| p.starts_with('/')).unwrap_or(notebook).to_string()
    } else {
        format!("{}/{}", repo_path.trim_end_matches('/'), notebook.trim_start_matches("./"))
    };
    let inside = absolute.strip_prefix(repo_path).is_some_and(|rest| rest.starts_with('/') && rest.len() > 1);
    if !inside || absolute.split('/').any(|part| part == "..") {
        return Err(ToolError::invalid(format!(
            "notebook_path `{notebook}` is not a notebook inside the repo {repo_path}"
        )));
    }
    Ok(absolute)
}

/// Pull a branch into a Git folder (repo), run one of its notebooks once as a job run (on an
/// existing cluster or serverless), wait for it with progress, and return the notebook's exit
/// value, or its error if it failed. If the wait runs out, the run keeps going and the result gives
/// its run id to poll with `wait_for_run` or `get_run`. Cancelling this call cancels the run.
#[tool(title = "Pull repo and run notebook")]
fn sync_repo_and_run_notebook(ctx: &Context, args: SyncRepoAndRunNotebook) -> Result<Output<NotebookRunResult>> {
    let before = locate(ctx, args.repo_id, args.repo_path.as_deref())?.get()?;
    let repo_path =
        before.path.clone().ok_or_else(|| ToolError::internal("the workspace sent a repo without a path"))?;
    let notebook = notebook_in_repo(&repo_path, &args.notebook_path)?;
    let branch = match args.branch.clone().filter(|b| !b.is_empty()).or_else(|| before.branch.clone()) {
        Some(branch) => branch,
        None => {
            return Err(ToolError::invalid(format!(
                "{repo_path} has a tag checked out, not a branch; give `branch` to pull"
            )));
        }
    };

    // 1. Pull.
    checkout(ctx, before.id, &json!({ "branch": branch }))?;
    let repo_raw = fetch(ctx, before.id)?;
    let repo = repo_raw.get()?;

    // 2. The notebook must exist on that branch.
    let info = match object_status(ctx, &notebook) {
        Err(e) if e.is_not_found() => {
            return Err(ToolError::NotFound(format!(
                "there is no notebook {notebook} on branch {branch} of {repo_path} (pulled at {}); list the repo folder with list_workspace_objects",
                repo.short_commit()
            )));
        }
        other => other?,
    };
    if info.object_type.as_deref() != Some("NOTEBOOK") {
        return Err(ToolError::invalid(format!(
            "{notebook} is a {}, not a notebook",
            info.object_type.as_deref().unwrap_or("workspace object")
        )));
    }

    // 3. Submit a one-time run.
    let repo_name = repo_path.rsplit('/').next().unwrap_or(&repo_path);
    let relative = &notebook[repo_path.len() + 1..];
    let mut task = json!({
        "task_key": "notebook",
        "notebook_task": { "notebook_path": notebook, "source": "WORKSPACE", "base_parameters": args.parameters },
    });
    if let Some(cluster_id) = &args.cluster_id {
        task["existing_cluster_id"] = json!(cluster_id);
    }
    let run_name = args.run_name.clone().unwrap_or_else(|| format!("{repo_name}: {relative}"));
    #[databricks_mcp_sdk::schema]
    struct Submitted {
        run_id: i64,
    }
    let submitted: Submitted =
        ctx.post(&format!("{JOBS}/runs/submit"), &json!({ "run_name": run_name, "tasks": [task] }))?;
    let run_id = submitted.run_id;
    let compensation =
        ctx.on_cancel(Request::new(Method::Post, format!("{JOBS}/runs/cancel")).json(&json!({ "run_id": run_id }))?)?;
    ctx.progress(
        0.0,
        None,
        format!("pulled {branch} of {repo_path} at {}; submitted run {run_id} of {relative}", repo.short_commit()),
    );

    // 4. Wait, bounded.
    let timeout = Duration::from_secs(u64::from(args.timeout_seconds.unwrap_or(600).clamp(1, 1200)));
    let wait = Wait::new(format!("run {run_id} of {relative}"), timeout);
    let mut last: Option<Run> = None;
    let started = std::time::Instant::now();
    let waited = ctx.wait_for(&wait, || {
        let run: Run = ctx.get(&format!("{JOBS}/runs/get"), &[("run_id", run_id.to_string())])?;
        let state = run.life_cycle_state().to_string();
        let done = run.is_terminal();
        last = Some(run.clone());
        Ok(if done { Poll::Ready(run) } else { Poll::Pending(state) })
    });
    let run = match waited? {
        Waited::Done(run) => run,
        Waited::StillRunning { .. } => {
            // The run goes on; it is not this call's to cancel.
            compensation.disarm();
            let state = last.as_ref().map_or("PENDING", Run::life_cycle_state).to_string();
            let url = last.as_ref().and_then(|r| r.run_page_url.clone());
            let text = format!(
                "Pulled {branch} of {repo_path} at {}. Run {run_id} of {relative} is still {state} after {} s. \
                 It keeps running: poll it with wait_for_run or get_run (run_id {run_id}){}.",
                repo.short_commit(),
                started.elapsed().as_secs(),
                url.as_deref().map(|u| format!("; page: {u}")).unwrap_or_default()
            );
            return Ok(Output::new(
                text,
                NotebookRunResult {
                    repo: repo_raw,
                    notebook_path: notebook,
                    run_id,
                    run_page_url: url,
                    finished: false,
                    life_cycle_state: state,
                    result_state: None,
                    exit_value: None,
                    exit_value_truncated: None,
                },
            ));
        }
    };
    compensation.disarm();

    // 5. The notebook's result.
    let task_run = run.tasks.first().map_or(run_id, |t| t.run_id);
    let output: Value = ctx.get(&format!("{JOBS}/runs/get-output"), &[("run_id", task_run.to_string())])?;
    let result_state = run.result_state().map(str::to_string);
    let page = run.run_page_url.as_deref().map(|u| format!(" Run page: {u}")).unwrap_or_default();
    if result_state.as_deref() != Some("SUCCESS") {
        let error = output["error"]
            .as_str()
            .map(str::to_string)
            .or_else(|| run.state.as_ref().and_then(|s| s.state_message.clone()))
            .unwrap_or_else(|| "no error message".to_string());
        let trace = output["error_trace"].as_str().map(tail).unwrap_or_default();
        return Err(ToolError::Failed(format!(
            "run {run_id} of {notebook} ended {} ({}): {error}{}{page}",
            run.life_cycle_state(),
            result_state.as_deref().unwrap_or("no result"),
            if trace.is_empty() { String::new() } else { format!("\n{trace}\n") },
        )));
    }
    let exit_value = output["notebook_output"]["result"].as_str().map(str::to_string);
    let exit_value_truncated = output["notebook_output"]["truncated"].as_bool();
    let outcome = match &exit_value {
        Some(value) => format!("Exit value: {value}"),
        None => "The notebook gave no exit value.".to_string(),
    };
    Ok(Output::new(
        format!(
            "Pulled {branch} of {repo_path} at {}. Run {run_id} of {relative} succeeded.{page}\n{outcome}",
            repo.short_commit()
        ),
        NotebookRunResult {
            repo: repo_raw,
            notebook_path: notebook,
            run_id,
            run_page_url: run.run_page_url.clone(),
            finished: true,
            life_cycle_state: run.life_cycle_state().to_string(),
            result_state,
            exit_value,
            exit_value_truncated,
        },
    ))
}

/// The last lines of an error trace, at most about 2000 characters.
fn tail(trace: &str) -> String {
    let lines: Vec<&str> = trace.lines().collect();
    let mut kept = Vec::new();
    let mut size = 0;
    for line in lines.iter().rev() {
        size += line.len() + 1;
        if size > 2000 {
            break;
        }
        kept.push(*line);
    }
    kept.reverse();
    kept.join("\n")
}

databricks_mcp_sdk::plugin! {
    name: "repos",
    description: "Databricks Git folders (repos): list, get, create, check out a branch or tag, delete, and pull then run a notebook",
    grants: [
        "GET /api/2.0/repos",
        "POST /api/2.0/repos",
        "GET /api/2.0/repos/*",
        "PATCH /api/2.0/repos/*",
        "DELETE /api/2.0/repos/*",
        "GET /api/2.0/workspace/get-status",
        "POST /api/2.2/jobs/runs/submit",
        "GET /api/2.2/jobs/runs/get",
        "GET /api/2.2/jobs/runs/get-output",
        "POST /api/2.2/jobs/runs/cancel",
    ],
    tools: [
        list_repos,
        get_repo,
        create_repo,
        update_repo,
        delete_repo,
        sync_repo_and_run_notebook,
    ],
}
