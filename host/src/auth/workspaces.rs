//! Several workspaces in one server: each a name, a host and a credential; one of them the
//! default. The host adds an optional `workspace` argument to every tool's input schema and
//! takes it out of the arguments before the plugin sees them, so a plugin never knows which
//! workspace (or credential) its requests go to. `list_workspaces` is served by the host itself.
//!
//! Single-workspace servers (no `[workspaces]` in the config) look exactly as before: no extra
//! argument, no extra tool.
//!
//! In per-user mode (HTTP), the caller's token applies to the default workspace only: a token
//! is issued by one workspace and means nothing to another, and using another workspace's own
//! credential would make every caller act as that one identity. Calls naming another workspace
//! are refused.

use std::sync::Arc;

use rmcp::model::{CallToolResult, ContentBlock, Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

use super::oauth::{Grant, OAuthTokens};
use super::resolve::{Method, Scope, Settings};
use super::u2m::{self, TokenStore};
use super::{AuthError, Credential};
use crate::config::{Config, ENV_WORKSPACE, WorkspaceConfig};
use crate::workspace::WorkspaceClient;

/// The argument the host adds to every tool.
pub const ARGUMENT: &str = "workspace";
/// The host's own tool.
pub const LIST_TOOL: &str = "list_workspaces";

/// One configured workspace, usable or not.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub name: String,
    pub description: Option<String>,
    /// Where its settings came from ("the environment", "profile [p] of FILE").
    pub origin: String,
    pub host: Option<String>,
    /// The SDKs' name of the method (`pat`, `oauth-m2m`, `databricks-cli`).
    pub auth_type: Option<&'static str>,
    /// What to fix when the workspace refuses the credential.
    pub fix: Option<String>,
    /// The client, or why there is none (a message that says what to set).
    pub client: Result<WorkspaceClient, String>,
}

/// Every workspace of the server.
#[derive(Debug, Clone, Default)]
pub struct Workspaces {
    entries: Vec<Workspace>,
    default: Option<String>,
    /// `[workspaces]` is configured: tools get the `workspace` argument.
    multi: bool,
    /// Per-user mode: clients have no credential; the caller's goes to the default only.
    per_user: bool,
}

/// How the workspaces' credentials are set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// Each workspace's own, from the environment or its profile.
    Own,
    /// None: per-user mode, where each request brings the caller's token.
    PerCaller,
}

impl Workspaces {
    /// One workspace (or none), as before named workspaces existed; for tests and embedding.
    pub fn single(client: Option<WorkspaceClient>) -> Self {
        let entries = client
            .map(|c| Workspace {
                name: ENV_WORKSPACE.into(),
                description: None,
                origin: "the embedding program".into(),
                host: Some(c.host().to_string()),
                auth_type: None,
                fix: None,
                client: Ok(c),
            })
            .into_iter()
            .collect::<Vec<_>>();
        let default = entries.first().map(|w| w.name.clone());
        Self { entries, default, multi: false, per_user: false }
    }

    /// The workspaces `config` and the environment describe. Nothing is sent: a workspace that
    /// cannot be set up is kept with the reason, which calls to it and `doctor` report.
    pub fn from_config(config: &Config, credentials: Credentials, env: &dyn Fn(&str) -> Option<String>) -> Self {
        let per_user = credentials == Credentials::PerCaller;
        let mut entries = Vec::new();
        let multi = !config.workspaces.is_empty();
        // The environment's workspace; with named ones, only when the environment names a host.
        let from_env = Settings::resolve(Scope::Environment, env);
        let env_configured = match &from_env {
            Ok(settings) => settings.host.is_some(),
            Err(_) => true,
        };
        if (!multi || env_configured) && !config.workspaces.contains_key(ENV_WORKSPACE) {
            entries.push(build(ENV_WORKSPACE, None, from_env, &config.workspace, per_user, env));
        }
        for (name, named) in &config.workspaces {
            let profile = named.profile.as_deref().unwrap_or(name);
            let settings = Settings::resolve(Scope::Profile(profile), env);
            entries.push(build(name, named.description.clone(), settings, &config.workspace, per_user, env));
        }
        let default = match &config.default_workspace {
            Some(name) => Some(name.clone()),
            None if entries.iter().any(|w| w.name == ENV_WORKSPACE) => Some(ENV_WORKSPACE.to_string()),
            None if entries.len() == 1 => Some(entries[0].name.clone()),
            None => None,
        };
        Self { entries, default, multi, per_user }
    }

    pub fn entries(&self) -> &[Workspace] {
        &self.entries
    }

    pub fn default_name(&self) -> Option<&str> {
        self.default.as_deref()
    }

    /// Whether tools get the `workspace` argument and `list_workspaces` is served.
    pub fn is_multi(&self) -> bool {
        self.multi
    }

    /// The default workspace's client, if it has one (readiness probes).
    pub fn default_client(&self) -> Option<&WorkspaceClient> {
        let name = self.default.as_deref()?;
        self.entries.iter().find(|w| w.name == name)?.client.as_ref().ok()
    }

    /// The client for a call: the named workspace, else the default. `caller` is the caller's
    /// token in per-user mode.
    pub fn select(
        &self,
        requested: Option<&str>,
        caller: Option<&crate::workspace::Secret>,
    ) -> Result<WorkspaceClient, String> {
        let names = || self.entries.iter().map(|w| format!("`{}`", w.name)).collect::<Vec<_>>().join(", ");
        let name = match (requested, &self.default) {
            (Some(name), _) => name,
            (None, Some(default)) => default.as_str(),
            (None, None) if self.entries.is_empty() => {
                return Err("no Databricks workspace is configured: set DATABRICKS_HOST and DATABRICKS_TOKEN, or add [workspaces] to the config".into());
            }
            (None, None) => {
                return Err(format!(
                    "this server has several workspaces and no default: pass `workspace` (one of {}), or set default_workspace in the config",
                    names()
                ));
            }
        };
        let Some(workspace) = self.entries.iter().find(|w| w.name == name) else {
            return Err(format!(
                "there is no workspace `{name}`: use one of {} (`{LIST_TOOL}` describes them)",
                names()
            ));
        };
        let client = workspace.client.clone().map_err(|why| format!("workspace `{name}` cannot be used: {why}"))?;
        if !self.per_user {
            return Ok(client);
        }
        if Some(name) != self.default.as_deref() {
            return Err(format!(
                "this server acts as each caller, whose token is for the default workspace `{}` only; workspace `{name}` cannot be used in per-user mode",
                self.default.as_deref().unwrap_or("")
            ));
        }
        match caller {
            Some(token) => Ok(client.with_token(token.clone()).with_refusal_hint(
                "your own Databricks token, which this request carried, is invalid or expired: sign in again (in Databricks Apps, reload the app)"
                    .into(),
            )),
            None => Err("this server acts as each caller, and this request carried no Databricks credential".into()),
        }
    }

    /// `tool` as served: with the `workspace` argument when there are named workspaces. A tool
    /// whose plugin already has a `workspace` argument keeps its own.
    pub fn decorate(&self, mut tool: Tool) -> Tool {
        if !self.multi {
            return tool;
        }
        let mut schema = (*tool.input_schema).clone();
        if self.decorate_schema(&mut schema) {
            tool.input_schema = Arc::new(schema);
        }
        tool
    }

    /// [`Workspaces::decorate`] on an input schema; `false` if it was left as it was (one
    /// workspace, or a tool with an argument of that name already).
    pub fn decorate_schema(&self, schema: &mut Map<String, Value>) -> bool {
        if !self.multi {
            return false;
        }
        let properties = schema.entry("properties").or_insert_with(|| Value::Object(Map::new()));
        let Some(properties) = properties.as_object_mut() else { return false };
        if properties.contains_key(ARGUMENT) {
            return false;
        }
        let names: Vec<&str> = self.entries.iter().map(|w| w.name.as_str()).collect();
        let default = self.default.as_deref().map(|d| format!(" (default: `{d}`)")).unwrap_or_default();
        properties.insert(
            ARGUMENT.into(),
            json!({
                "type": "string",
                "enum": names,
                "description": format!("The workspace to act on{default}; `{LIST_TOOL}` describes them."),
            }),
        );
        true
    }

    /// The workspaces' names, the default first.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.entries.iter().map(|w| w.name.as_str()).collect();
        names.sort_by_key(|n| Some(*n) != self.default.as_deref());
        names
    }

    /// Take the `workspace` argument out of `arguments`, unless the plugin's own schema
    /// (`own_schema`) has one.
    pub fn take_argument(
        &self,
        arguments: &mut Map<String, Value>,
        own_schema: Option<&Map<String, Value>>,
    ) -> Result<Option<String>, String> {
        let own = own_schema.and_then(|s| s.get("properties")).and_then(|p| p.get(ARGUMENT)).is_some();
        if !self.multi || own {
            return Ok(None);
        }
        match arguments.remove(ARGUMENT) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(name)) => Ok(Some(name)),
            Some(_) => Err(format!("`{ARGUMENT}` must be a workspace name (a string)")),
        }
    }

    /// The `list_workspaces` tool.
    pub fn list_tool() -> Tool {
        let input = json!({"type": "object", "properties": {}, "additionalProperties": false});
        let output = json!({
            "type": "object",
            "properties": {
                "default": {"type": ["string", "null"]},
                "workspaces": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"},
                    "host": {"type": ["string", "null"]},
                    "auth_type": {"type": ["string", "null"]},
                    "default": {"type": "boolean"},
                    "description": {"type": ["string", "null"]},
                    "usable": {"type": "boolean"},
                    "problem": {"type": ["string", "null"]},
                }, "required": ["name", "default", "usable"]}},
            },
            "required": ["workspaces"],
        });
        let mut tool = Tool::new(
            LIST_TOOL,
            "List the Databricks workspaces this server can act on: name, URL, how it authenticates, and which is the default. Pass a name as the `workspace` argument of any other tool.",
            Arc::new(input.as_object().cloned().unwrap_or_default()),
        );
        tool.title = Some("List workspaces".into());
        tool.output_schema = output.as_object().cloned().map(Arc::new);
        let mut annotations = ToolAnnotations::new().read_only(true).open_world(false);
        annotations.title = tool.title.clone();
        tool.annotations = Some(annotations);
        tool
    }

    /// What `list_workspaces` answers. Credentials are never part of it.
    pub fn list_result(&self) -> CallToolResult {
        let items: Vec<Value> = self
            .entries
            .iter()
            .map(|w| {
                let is_default = Some(w.name.as_str()) == self.default.as_deref();
                let problem = match (&w.client, self.per_user && !is_default) {
                    (Err(why), _) => Some(why.clone()),
                    (Ok(_), true) => Some("per-user mode: only the default workspace takes the caller's token".into()),
                    (Ok(_), false) => None,
                };
                json!({
                    "name": w.name,
                    "host": w.host,
                    "auth_type": if self.per_user { Some("per-user") } else { w.auth_type },
                    "default": is_default,
                    "description": w.description,
                    "usable": problem.is_none(),
                    "problem": problem,
                })
            })
            .collect();
        let text = items
            .iter()
            .map(|w| {
                format!(
                    "{}{}: {} ({}){}{}",
                    w["name"].as_str().unwrap_or(""),
                    if w["default"] == json!(true) { " [default]" } else { "" },
                    w["host"].as_str().unwrap_or("no host"),
                    w["auth_type"].as_str().unwrap_or("no credential"),
                    w["description"].as_str().map(|d| format!(" - {d}")).unwrap_or_default(),
                    w["problem"].as_str().map(|p| format!("; unusable: {p}")).unwrap_or_default(),
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(json!({ "default": self.default, "workspaces": items }));
        result
    }
}

fn build(
    name: &str,
    description: Option<String>,
    settings: Result<Settings, AuthError>,
    config: &WorkspaceConfig,
    per_user: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Workspace {
    let mut workspace = Workspace {
        name: name.to_string(),
        description,
        origin: "the environment".into(),
        host: None,
        auth_type: None,
        fix: None,
        client: Err(String::new()),
    };
    let settings = match settings {
        Ok(settings) => settings,
        Err(e) => {
            workspace.client = Err(e.to_string());
            return workspace;
        }
    };
    workspace.origin = settings.origin();
    workspace.host = settings.host.as_ref().map(|h| h.value.clone());
    workspace.client = connect(&settings, config, per_user, env).map(|(client, method)| {
        workspace.host = Some(client.host().to_string());
        workspace.auth_type = method.map(Method::name);
        workspace.fix = method.map(|m| settings.fix_hint(m));
        client
    });
    workspace
}

/// A client for `settings`: host and credential. In per-user mode only the host is used, and
/// whatever credential the settings hold is deliberately not read.
pub fn connect(
    settings: &Settings,
    config: &WorkspaceConfig,
    per_user: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(WorkspaceClient, Option<Method>), String> {
    let host = settings.host().map_err(|e| e.to_string())?;
    let client = WorkspaceClient::without_credential(host, config.clone()).map_err(|e| {
        let source = settings.host.as_ref().map_or("DATABRICKS_HOST".to_string(), |h| h.source.to_string());
        format!("{e:#} (from {source})")
    })?;
    if per_user {
        return Ok((client, None));
    }
    let method = settings.method().map_err(|e| e.to_string())?;
    let hint = settings.fix_hint(method);
    let credential = match method {
        Method::Pat => Credential::Token(settings.token.as_ref().expect("checked by method()").value.clone()),
        Method::OAuthM2m => {
            let grant = Grant::ClientCredentials {
                client_id: settings.client_id.as_ref().expect("checked by method()").value.clone(),
                client_secret: settings.client_secret.as_ref().expect("checked by method()").value.clone(),
            };
            Credential::OAuth(Arc::new(OAuthTokens::new(
                client.http().clone(),
                client.base().clone(),
                grant,
                hint.clone(),
                None,
            )))
        }
        Method::OAuthU2m => {
            let profile = settings.profile.as_ref().map(|(p, _)| p.as_str());
            let Some(sign_in) = u2m::find(env, client.base(), profile) else {
                return Err(no_credentials(settings, client.host()));
            };
            tracing::debug!(host = client.host(), cache = %sign_in.from.display(), "using a cached OAuth sign-in");
            let store = u2m::cache_path(env).map(|path| TokenStore { path, key: u2m::cache_key(client.base()) });
            let grant = Grant::RefreshToken {
                client_id: u2m::CLIENT_ID.into(),
                refresh_token: std::sync::Mutex::new(sign_in.refresh_token),
                store,
            };
            Credential::OAuth(Arc::new(OAuthTokens::new(
                client.http().clone(),
                client.base().clone(),
                grant,
                hint.clone(),
                sign_in.access,
            )))
        }
    };
    Ok((client.with_credential(credential).with_refusal_hint(hint), Some(method)))
}

fn no_credentials(settings: &Settings, host: &str) -> String {
    match &settings.profile {
        Some((name, file)) => format!(
            "no credentials for {host}: profile [{name}] of {} has no `token` and no `client_id`/`client_secret`, and there is no cached sign-in; add one of them, or run `databricks-mcp auth login --profile {name}`",
            file.display()
        ),
        None => format!(
            "no credentials for {host}: set DATABRICKS_TOKEN (a personal access token), or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (OAuth M2M), or run `databricks-mcp auth login --host {host}` (OAuth U2M)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::Secret;

    fn workspaces(per_user: bool) -> Workspaces {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = WorkspaceClient::without_credential("http://127.0.0.1:9", WorkspaceConfig::default()).unwrap();
        let entry = |name: &str| Workspace {
            name: name.into(),
            description: None,
            origin: "test".into(),
            host: Some(client.host().into()),
            auth_type: Some("pat"),
            fix: None,
            client: Ok(client.with_token(Secret::new(format!("dapi-{name}")))),
        };
        let mut broken = entry("broken");
        broken.client = Err("profile [broken] has no `host`".into());
        Workspaces {
            entries: vec![entry("default"), entry("other"), broken],
            default: Some("default".into()),
            multi: true,
            per_user,
        }
    }

    #[test]
    fn calls_go_to_the_named_workspace_or_the_default_and_unknown_names_are_listed() {
        let ws = workspaces(false);
        assert_eq!(ws.select(None, None).unwrap().host(), "http://127.0.0.1:9");
        assert!(ws.select(Some("other"), None).is_ok());
        let unknown = ws.select(Some("prod"), None).unwrap_err();
        assert!(unknown.contains("`default`, `other`, `broken`"), "{unknown}");
        let broken = ws.select(Some("broken"), None).unwrap_err();
        assert!(broken.contains("has no `host`"), "{broken}");
    }

    #[test]
    fn per_user_tokens_go_to_the_default_workspace_only() {
        let ws = workspaces(true);
        let token = Secret::new("dapi-caller".into());
        assert!(ws.select(None, Some(&token)).is_ok());
        let other = ws.select(Some("other"), Some(&token)).unwrap_err();
        assert!(other.contains("per-user mode"), "{other}");
        assert!(ws.select(None, None).unwrap_err().contains("no Databricks credential"));
        let listed = ws.list_result().structured_content.unwrap();
        assert_eq!(listed["workspaces"][1]["usable"], false);
        assert!(!listed.to_string().contains("dapi-"), "no credential is listed");
    }

    #[test]
    fn the_argument_is_added_to_schemas_and_taken_out_of_arguments() {
        let ws = workspaces(false);
        let schema =
            json!({"type": "object", "properties": {"limit": {"type": "integer"}}, "additionalProperties": false});
        let tool = ws.decorate(Tool::new("list_x", "x", Arc::new(schema.as_object().unwrap().clone())));
        assert_eq!(tool.input_schema["properties"]["workspace"]["enum"], json!(["default", "other", "broken"]));
        let mut arguments = json!({"limit": 5, "workspace": "other"}).as_object().unwrap().clone();
        assert_eq!(ws.take_argument(&mut arguments, schema.as_object()).unwrap().as_deref(), Some("other"));
        assert_eq!(Value::Object(arguments), json!({"limit": 5}));
        let mut bad = json!({"workspace": 3}).as_object().unwrap().clone();
        assert!(ws.take_argument(&mut bad, schema.as_object()).is_err());
        // A plugin's own `workspace` argument is left alone.
        let own = json!({"properties": {"workspace": {"type": "string"}}});
        let mut theirs = json!({"workspace": "/Users/x"}).as_object().unwrap().clone();
        assert_eq!(ws.take_argument(&mut theirs, own.as_object()).unwrap(), None);
        assert_eq!(theirs["workspace"], "/Users/x");
        // One workspace: schemas and arguments as before.
        let single = Workspaces::single(None);
        let plain = single.decorate(Tool::new("list_x", "x", Arc::new(schema.as_object().unwrap().clone())));
        assert!(plain.input_schema["properties"].get("workspace").is_none());
    }
}
