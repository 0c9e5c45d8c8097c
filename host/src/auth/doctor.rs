//! `databricks-mcp doctor`: for each workspace, whether its configuration resolves, whether
//! its host answers, whether its credential works, and whom it authenticates as (SCIM `Me`).
//! Each problem is reported with what to set; the command exits non-zero if any was found.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::workspaces::{Workspace, Workspaces};
use crate::manifest::Method;
use crate::workspace::{ApiRequest, WorkspaceClient};

/// How long the reachability probe and the identity check may take each.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);
const ME: &str = "/api/2.0/preview/scim/v2/Me";

/// Check every workspace, printing a report to stdout; whether all are fine.
pub async fn run(workspaces: &Workspaces) -> bool {
    if workspaces.entries().is_empty() {
        println!(
            "no workspace is configured: set DATABRICKS_HOST and DATABRICKS_TOKEN (or a profile), or add [workspaces] to the config"
        );
        return false;
    }
    let mut all_ok = true;
    for workspace in workspaces.entries() {
        let is_default = Some(workspace.name.as_str()) == workspaces.default_name();
        println!("workspace `{}`{}", workspace.name, if is_default { " (default)" } else { "" });
        let ok = check(workspace).await;
        println!("  verdict:   {}", if ok { "ok" } else { "PROBLEM" });
        all_ok &= ok;
    }
    if workspaces.is_multi() && workspaces.default_name().is_none() {
        println!("no default workspace: calls without `workspace` fail; set default_workspace in the config");
        all_ok = false;
    }
    all_ok
}

async fn check(workspace: &Workspace) -> bool {
    println!("  config:    {}", workspace.origin);
    let client = match &workspace.client {
        Ok(client) => client,
        Err(why) => {
            println!("  problem:   {why}");
            return false;
        }
    };
    println!("  host:      {}", client.host());
    println!("  auth:      {}", workspace.auth_type.unwrap_or("none"));
    let started = Instant::now();
    if let Err(why) = client.probe(CHECK_TIMEOUT).await {
        println!("  reachable: no: {why}; check the host (DATABRICKS_HOST or the profile's `host`) and the network");
        return false;
    }
    println!("  reachable: yes ({} ms)", started.elapsed().as_millis());
    if let Err(e) = tokio::time::timeout(CHECK_TIMEOUT, client.bearer()).await.unwrap_or_else(|_| {
        Err(super::AuthError::Unreachable { host: client.host().into(), reason: "the token request timed out".into() })
    }) {
        println!("  credential: {e}");
        return false;
    }
    let request = ApiRequest { method: Method::Get, path: ME.into(), query: vec![], headers: vec![], body: None };
    let response = match tokio::time::timeout(CHECK_TIMEOUT, client.send(&request, 1 << 20)).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => {
            println!("  identity:  no answer from {ME}: {e}");
            return false;
        }
        Err(_) => {
            println!("  identity:  {ME} did not answer within {} s", CHECK_TIMEOUT.as_secs());
            return false;
        }
    };
    match identity(workspace, client, response.status, &response.body) {
        Ok(who) => {
            println!("  identity:  {who}");
            true
        }
        Err(why) => {
            println!("  identity:  {why}");
            false
        }
    }
}

/// Whom the workspace's credential authenticates as, or what is wrong with it, in one line: the
/// check `serve` logs at start-up (`doctor` says more).
pub async fn identify(workspace: &Workspace) -> Result<String, String> {
    let client = workspace.client.as_ref().map_err(Clone::clone)?;
    tokio::time::timeout(CHECK_TIMEOUT, client.bearer())
        .await
        .map_err(|_| format!("the token request to {} timed out", client.host()))?
        .map_err(|e| e.to_string())?;
    let request = ApiRequest { method: Method::Get, path: ME.into(), query: vec![], headers: vec![], body: None };
    let response = match tokio::time::timeout(CHECK_TIMEOUT, client.send(&request, 1 << 20)).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => {
            return Err(format!(
                "{} cannot be reached: {e}; check the host (DATABRICKS_HOST or the profile's `host`) and the network",
                client.host()
            ));
        }
        Err(_) => return Err(format!("{} did not answer within {} s", client.host(), CHECK_TIMEOUT.as_secs())),
    };
    identity(workspace, client, response.status, &response.body)
}

/// What SCIM `Me`'s answer says: the user, or what to fix.
fn identity(workspace: &Workspace, client: &WorkspaceClient, status: u16, body: &[u8]) -> Result<String, String> {
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let message = body["message"].as_str().or(body["detail"].as_str()).unwrap_or("").to_string();
    match status {
        200 if body["userName"].is_string() => {
            let who = body["userName"].as_str().unwrap_or_default();
            let name = body["displayName"].as_str().map(|d| format!(" ({d})")).unwrap_or_default();
            Ok(format!("{who}{name}"))
        }
        401 | 403 => {
            let fix = workspace.fix.clone().unwrap_or_else(|| "check the credential".into());
            Err(format!("the workspace refused the credential (HTTP {status}: {message}); {fix}"))
        }
        status => Err(format!(
            "{} answered HTTP {status} for {ME}{}; it does not look like a Databricks workspace: check the host",
            client.host(),
            if message.is_empty() { String::new() } else { format!(" ({message})") }
        )),
    }
}
