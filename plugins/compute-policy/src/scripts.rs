//! Global init scripts: list, get, create, update, delete. The API carries the script base64
//! encoded; these tools take and give it as text.

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request, base64, format_time, segment};

use crate::Change;

const API: &str = "/api/2.0/global-init-scripts";
/// The service's limit on a script, decoded.
const MAX_SCRIPT_BYTES: usize = 64 * 1024;

fn path(id: &str) -> String {
    format!("{API}/{}", segment(id))
}

/// A global init script (without its content, as lists show it).
#[schema]
#[derive(Debug, Clone)]
pub struct Script {
    /// The script id.
    pub script_id: String,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether clusters run it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Its place in the run order, 0 first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Who changed it last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
    /// When it last changed, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
}

impl Script {
    fn line(&self) -> String {
        let when = self.updated_at.map(format_time).unwrap_or_default();
        format!(
            "{}. {} ({}): {}, updated by {} {when}",
            self.position.unwrap_or(0),
            self.name.as_deref().unwrap_or("(unnamed)"),
            self.script_id,
            if self.enabled == Some(true) { "enabled" } else { "disabled" },
            self.updated_by.as_deref().unwrap_or("?"),
        )
    }
}

/// The global init scripts.
#[schema]
pub struct ScriptList {
    /// Every script, in run order.
    pub scripts: Vec<Json<Script>>,
}

/// List the workspace's global init scripts (shell scripts every cluster runs at start) in run
/// order: name, id, enabled, who changed it last. Workspace admins only.
#[tool(read_only, idempotent, title = "List global init scripts")]
pub(crate) fn list_global_init_scripts(ctx: &Context, _args: NoArgs) -> Result<Output<ScriptList>> {
    #[databricks_mcp_sdk::schema]
    struct Raw {
        #[serde(default)]
        scripts: Vec<Json<Script>>,
    }
    let raw: Raw = ctx.get(API, &[])?;
    let mut scripts = Vec::new();
    for script in raw.scripts {
        scripts.push((script.get()?, script));
    }
    scripts.sort_by_key(|(s, _)| s.position.unwrap_or(i64::MAX));
    let mut lines: Vec<String> = scripts.iter().map(|(s, _)| s.line()).collect();
    if lines.is_empty() {
        lines.push("No global init scripts.".into());
    }
    Ok(Output::new(lines.join("\n"), ScriptList { scripts: scripts.into_iter().map(|(_, raw)| raw).collect() }))
}

/// Arguments naming one script.
#[schema]
pub struct ScriptId {
    /// The script id (see `list_global_init_scripts`).
    pub script_id: String,
}

/// A script with its content.
#[schema]
pub struct ScriptDetails {
    /// The script's settings as the workspace returned them (`script` holds the base64).
    pub script: Json<Script>,
    /// The content as text (absent when it is not UTF-8; then use `content_base64`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The content, base64-encoded as the API carries it.
    pub content_base64: String,
}

fn fetch(ctx: &Context, id: &str) -> Result<(Json<Script>, String)> {
    let raw: Json<Script> = ctx.get(&path(id), &[])?;
    let encoded = raw.value().get("script").and_then(Value::as_str).unwrap_or_default().to_string();
    Ok((raw, encoded))
}

/// Get one global init script with its content as text, so you can read or review what every
/// cluster runs. Workspace admins only.
#[tool(read_only, idempotent, title = "Get global init script")]
pub(crate) fn get_global_init_script(ctx: &Context, args: ScriptId) -> Result<Output<ScriptDetails>> {
    let (raw, encoded) = fetch(ctx, &args.script_id)?;
    let script = raw.get()?;
    let bytes = base64::decode(&encoded)
        .map_err(|e| ToolError::Internal(format!("the workspace sent a script that is not base64: {e}")))?;
    let content = String::from_utf8(bytes).ok();
    let text = match &content {
        Some(text) => format!("{}\n---\n{text}", script.line()),
        None => format!("{}\n(The content is not UTF-8 text; see content_base64.)", script.line()),
    };
    Ok(Output::new(text, ScriptDetails { script: raw, content, content_base64: encoded }))
}

/// Arguments of `create_global_init_script`.
#[schema]
pub struct CreateScript {
    /// The script's name.
    pub name: String,
    /// The shell script, as text (e.g. starting with `#!/bin/bash`); at most 64 KiB.
    pub content: String,
    /// Whether clusters run it from now on (default false: create it disabled, enable it after review).
    #[serde(default)]
    pub enabled: bool,
    /// Its place in the run order, 0 first (default: last). Others move to make room.
    #[serde(default)]
    pub position: Option<u32>,
}

fn encoded(content: &str) -> Result<String> {
    if content.len() > MAX_SCRIPT_BYTES {
        return Err(ToolError::invalid(format!(
            "the script is {} bytes; global init scripts hold at most {MAX_SCRIPT_BYTES}",
            content.len()
        )));
    }
    Ok(base64::encode(content.as_bytes()))
}

/// Create a global init script: a shell script every cluster in the workspace runs when it
/// starts (clusters already running pick it up at their next start). A broken enabled script
/// stops every cluster from starting, so it is created disabled unless `enabled` is true.
/// Workspace admins only.
#[tool(title = "Create global init script")]
pub(crate) fn create_global_init_script(ctx: &Context, args: CreateScript) -> Result<Output<Change>> {
    let mut body = json!({ "name": args.name, "script": encoded(&args.content)?, "enabled": args.enabled });
    if let Some(position) = args.position {
        body["position"] = json!(position);
    }
    #[databricks_mcp_sdk::schema]
    struct Created {
        script_id: String,
    }
    let created: Created = ctx.post(API, &body)?;
    let state = if args.enabled { "enabled" } else { "disabled; enable it with update_global_init_script" };
    Ok(Output::new(
        format!("Created global init script {} ({}), {state}.", args.name, created.script_id),
        Change { id: created.script_id, message: "created".into() },
    ))
}

/// Arguments of `update_global_init_script`.
#[schema]
pub struct UpdateScript {
    /// The script id.
    pub script_id: String,
    /// A new name.
    #[serde(default)]
    pub name: Option<String>,
    /// New content, as text.
    #[serde(default)]
    pub content: Option<String>,
    /// Enable or disable it.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// A new place in the run order, 0 first.
    #[serde(default)]
    pub position: Option<u32>,
}

/// Change a global init script's name, content, whether it runs, or its place in the run order.
/// Give only what changes. Clusters pick the change up at their next start. Workspace admins only.
#[tool(destructive, idempotent, title = "Update global init script")]
pub(crate) fn update_global_init_script(ctx: &Context, args: UpdateScript) -> Result<Output<Change>> {
    if args.name.is_none() && args.content.is_none() && args.enabled.is_none() && args.position.is_none() {
        return Err(ToolError::invalid("nothing to change: give name, content, enabled or position"));
    }
    // The API wants the name and script on every update: send the current ones unless changed.
    let (raw, current_script) = fetch(ctx, &args.script_id)?;
    let current = raw.get()?;
    let script = match &args.content {
        Some(content) => encoded(content)?,
        None => current_script,
    };
    let mut body = json!({ "name": args.name.clone().or(current.name).unwrap_or_default(), "script": script });
    let mut changed = Vec::new();
    for (key, given) in [("name", args.name.is_some()), ("content", args.content.is_some())] {
        if given {
            changed.push(key.to_string());
        }
    }
    if let Some(enabled) = args.enabled {
        body["enabled"] = json!(enabled);
        changed.push(if enabled { "enabled".into() } else { "disabled".into() });
    }
    if let Some(position) = args.position {
        body["position"] = json!(position);
        changed.push(format!("moved to position {position}"));
    }
    ctx.send(Request::new(Method::Patch, path(&args.script_id)).json(&body)?)?.json::<Value>()?;
    Ok(Output::new(
        format!("Updated global init script {}: {}.", args.script_id, changed.join(", ")),
        Change { id: args.script_id, message: format!("updated {}", changed.join(", ")) },
    ))
}

/// Delete a global init script; clusters stop running it at their next start. Workspace admins only.
#[tool(destructive, title = "Delete global init script")]
pub(crate) fn delete_global_init_script(ctx: &Context, args: ScriptId) -> Result<Output<Change>> {
    ctx.send(Request::new(Method::Delete, path(&args.script_id)))?.json::<Value>()?;
    Ok(Output::new(
        format!("Deleted global init script {}.", args.script_id),
        Change { id: args.script_id, message: "deleted".into() },
    ))
}
