//! Start-up: read the configuration, build the engine, load the plugins, connect the workspace
//! client, and serve MCP on the chosen transport.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rmcp::ServiceExt as _;

use crate::auth::workspaces::{Credentials, Workspaces};
use crate::config::{Config, Flags};
use crate::engine::{EngineOptions, Runtime};
use crate::mcp::{Identity, McpServer};
use crate::registry::{self, Registry};

/// What `serve` was asked to do.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub config: Config,
    pub plugin_dir: PathBuf,
    /// The file `config` was read from, if any: hot reload watches it.
    pub config_file: Option<PathBuf>,
    /// The command-line settings: a reload re-reads the configuration with
    /// `Config::resolve(&flags, env)` so flags and environment keep their precedence.
    pub flags: Flags,
    /// Hot reload: watch the plugin directory and the config file.
    pub watch: bool,
}

/// The default plugin directory: `plugins/` next to the binary when it exists, else
/// `$XDG_DATA_HOME/databricks-mcp/plugins` (`~/.local/share/databricks-mcp/plugins`).
pub fn default_plugin_dir() -> PathBuf {
    if let Some(beside) = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join("plugins")))
        && beside.is_dir()
    {
        return beside;
    }
    data_home().join("databricks-mcp").join("plugins")
}

fn data_home() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `$XDG_CACHE_HOME/databricks-mcp` (`~/.cache/databricks-mcp`).
pub fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|d| d.join("databricks-mcp"))
}

/// Build everything the MCP handler needs; the runtime is returned for draining at exit.
pub async fn build(options: &ServeOptions) -> anyhow::Result<(McpServer, Arc<Runtime>)> {
    build_with(options, Identity::Host).await
}

/// [`build`], with calls made as `identity`.
pub async fn build_with(options: &ServeOptions, identity: Identity) -> anyhow::Result<(McpServer, Arc<Runtime>)> {
    let started = Instant::now();
    let config = &options.config;
    let slots = config.server.max_concurrent_calls + 8; // calls, plus room for manifest reads
    let cache_dir = if config.cache_enabled() { config.cache_dir.clone().or_else(default_cache_dir) } else { None };
    let runtime =
        Runtime::new(&EngineOptions { slots, max_memory_bytes: config.max_memory_bytes(), cache_dir, tiered: true })?;

    // Building the HTTP clients loads the system's CA certificates (a few ms) and reads the
    // Databricks config file: do it beside the plugin loading rather than before it.
    let for_workspaces = config.clone();
    let workspaces = tokio::task::spawn_blocking(move || {
        let credentials = match identity {
            Identity::Host => Credentials::Own,
            Identity::PerUser => Credentials::PerCaller,
        };
        Workspaces::from_config(&for_workspaces, credentials, &|name| std::env::var(name).ok())
    });

    // Stamps from before the load: the watcher's first rescan catches what changed during it.
    let before = if options.watch { crate::reload::stamps(&options.plugin_dir).ok() } else { None };
    let (snapshot, errors) = registry::load_dir(&runtime, &options.plugin_dir, config).await;
    if snapshot.plugins.is_empty() {
        tracing::warn!(dir = %options.plugin_dir.display(), "no plugins loaded: put plugin .wasm files in this directory or pass --plugin-dir");
    }
    tracing::info!(
        plugins = snapshot.plugins.len(),
        tools = snapshot.tool_count(),
        failed = errors.len(),
        ms = started.elapsed().as_millis() as u64,
        "ready"
    );
    let workspaces = workspaces.await.context("setting up the workspaces")?;
    for workspace in workspaces.entries() {
        // Still serve when a workspace cannot be used: listing tools needs none, and each call
        // to it says what is missing (so does `databricks-mcp doctor`).
        match &workspace.client {
            Ok(client) => tracing::info!(
                workspace = %workspace.name,
                host = client.host(),
                auth = workspace.auth_type.unwrap_or("per-user"),
                from = %workspace.origin,
                "workspace configured"
            ),
            Err(why) => tracing::warn!(workspace = %workspace.name, "workspace unusable: {why}"),
        }
    }
    if workspaces.entries().is_empty() {
        tracing::warn!("no workspace: tool calls will fail until DATABRICKS_HOST (or a profile) is set");
    }
    if identity == Identity::Host {
        check_workspaces(&workspaces);
    }
    let registry = Arc::new(Registry::new(snapshot));
    let server = McpServer::with_workspaces(registry.clone(), workspaces, config.server.max_concurrent_calls, identity);
    match before {
        Some(before) => {
            let collided = errors.iter().filter(|e| e.collided).map(|e| e.file.clone()).collect();
            watch(options, &runtime, registry, before, collided, &server)
        }
        None if options.watch => {
            tracing::warn!(dir = %options.plugin_dir.display(), "hot reload is off: cannot read the plugin directory")
        }
        None => tracing::info!("hot reload is off (--no-watch or `watch = false`)"),
    }
    Ok((server, runtime))
}

fn watch(
    options: &ServeOptions,
    runtime: &Arc<Runtime>,
    registry: Arc<Registry>,
    before: std::collections::BTreeMap<PathBuf, crate::reload::Stamp>,
    collided: Vec<PathBuf>,
    server: &McpServer,
) {
    let notifier = server.clone();
    let watch = crate::reload::Watch {
        runtime: runtime.clone(),
        registry,
        plugin_dir: options.plugin_dir.clone(),
        config_path: options.config_file.clone(),
        flags: options.flags.clone(),
        config: options.config.clone(),
        before,
        collided,
        on_change: Arc::new(move || {
            let server = notifier.clone();
            Box::pin(async move { server.notify_tools_changed().await })
        }),
    };
    // Setting up the watches takes a few ms: let the server answer meanwhile. Nothing is
    // missed: the reloader's first rescan compares the directory with the start-up stamps.
    tokio::task::spawn_blocking(move || {
        if let Err(e) = crate::reload::start(watch) {
            tracing::warn!("hot reload is off: {e:#}");
        }
    });
}

/// Serve MCP on stdin/stdout until the client closes the connection.
pub async fn serve_stdio(options: ServeOptions) -> anyhow::Result<()> {
    let (server, runtime) = build(&options).await?;
    let service = server.serve(rmcp::transport::stdio_pipes()).await.context("starting the MCP session on stdio")?;
    let reason = service.waiting().await.context("serving MCP on stdio")?;
    tracing::info!(?reason, "stdio session ended");
    // Calls cancelled by the client leaving may have compensations to send.
    runtime.drain(Duration::from_secs(10)).await;
    Ok(())
}

/// Say at start-up, in the log, whom each usable workspace's credential signs in as, or what is
/// wrong with it (a wrong host, a refused or expired token), without holding up serving: the
/// operator learns of it within seconds instead of at the first call. Per-user servers have no
/// credential of their own to check.
fn check_workspaces(workspaces: &Workspaces) {
    for workspace in workspaces.entries().iter().filter(|w| w.client.is_ok()).cloned() {
        tokio::spawn(async move {
            match crate::auth::doctor::identify(&workspace).await {
                Ok(who) => tracing::info!(workspace = %workspace.name, "signed in to the workspace as {who}"),
                Err(why) => tracing::warn!(
                    workspace = %workspace.name,
                    "the workspace credential does not work: {why} (`databricks-mcp doctor` checks every step)"
                ),
            }
        });
    }
}
