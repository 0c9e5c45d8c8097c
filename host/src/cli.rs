//! The command line: `serve` (the default), and the commands an operator uses without an MCP
//! client: `tools`, `call`, `plugins list|inspect|verify|new`. Each command is a function from its
//! arguments to an [`Outcome`]; `main` turns that into an exit code (see [`EXIT_CODES`]).
//!
//! Every command that loads plugins loads them exactly as `serve` does, through the registry
//! and with the operator policy applied, so what these commands show is what a client gets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio_util::sync::CancellationToken;

use crate::auth::workspaces::{Credentials, Workspaces};
use crate::call::{Progress, ProgressSink};
use crate::config::{Config, Flags};
use crate::content;
use crate::engine::{EngineOptions, Runtime};
use crate::listing;
use crate::manifest::Manifest;
use crate::plugin::{CallRequest, LoadError, Plugin};
use crate::policy::{Admission, Refusal};
use crate::registry::{self, Snapshot};
use crate::scaffold::{self, ScaffoldError, SdkSource};
use crate::server::{self, ServeOptions};

/// What the exit codes mean; shown by `--help`.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the thing failed: a tool error, a plugin that failed to load or was refused, a refused verdict
  2  usage or configuration error: bad arguments, an invalid config file or environment variable,
     an unknown tool, a missing plugin directory or workspace";

const ENVIRONMENT: &str = "\
Environment (a flag beats its variable, a variable beats the config file):
  DATABRICKS_HOST, DATABRICKS_TOKEN   the workspace and its personal access token
  DATABRICKS_CLIENT_ID, DATABRICKS_CLIENT_SECRET
                                      OAuth M2M (a service principal) instead of a token
  DATABRICKS_CONFIG_PROFILE           a profile of the Databricks config file [default: DEFAULT
                                      when no host or credential is set above]
  DATABRICKS_CONFIG_FILE              the Databricks config file [default: ~/.databrickscfg]
  DATABRICKS_AUTH_TYPE                pat, oauth-m2m or databricks-cli (OAuth U2M) when several
                                      are configured
  DATABRICKS_MCP_CONFIG               config file [default: $XDG_CONFIG_HOME/databricks-mcp/config.toml
                                      (~/.config/databricks-mcp/config.toml) when it exists]
  DATABRICKS_MCP_PLUGIN_DIR           plugin directory (plugin_dir)
  DATABRICKS_MCP_CACHE_DIR            compiled-plugin cache (cache_dir)
  DATABRICKS_MCP_READ_ONLY            true/false/1/0 (policy.read_only)
  DATABRICKS_MCP_ALLOW_PLUGINS, DATABRICKS_MCP_DENY_PLUGINS,
  DATABRICKS_MCP_ALLOW_TOOLS, DATABRICKS_MCP_DENY_TOOLS
                                      comma-separated lists (policy.*); empty counts as unset
  DATABRICKS_MCP_HTTP_AUTH            serve --http: none, tokens or per-user (http.auth)
  DATABRICKS_MCP_HTTP_TOKENS          serve --http: comma-separated bearer tokens (http.tokens)
  DATABRICKS_MCP_LOG                  log filter (RUST_LOG syntax); logs go to stderr";

/// The Databricks MCP server: Databricks tools for AI assistants, run as sandboxed plugins.
///
/// Without a command it serves MCP on stdio. The other commands show what would be served,
/// call one tool, and review plugin files, all with the operator policy of the config file.
#[derive(Debug, Parser)]
#[command(name = "databricks-mcp", version, about, after_help = format!("{ENVIRONMENT}\n\n{EXIT_CODES}"))]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    common: Common,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
struct Common {
    /// Directory of plugin .wasm files [env: DATABRICKS_MCP_PLUGIN_DIR] [default: plugins/ next
    /// to the binary, else ~/.local/share/databricks-mcp/plugins]
    #[arg(long, global = true, value_name = "DIR")]
    plugin_dir: Option<PathBuf>,
    /// Configuration file (TOML): policy, limits, per-plugin settings [env: DATABRICKS_MCP_CONFIG]
    /// [default: ~/.config/databricks-mcp/config.toml when it exists]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Serve only tools annotated read-only, whatever the config says [env:
    /// DATABRICKS_MCP_READ_ONLY]
    #[arg(long, global = true)]
    read_only: bool,
    /// Transport. Only stdio here; for HTTP use `serve --http ADDR`.
    #[arg(long, default_value = "stdio", value_parser = ["stdio"], global = true)]
    transport: String,
    /// Do not watch the plugin directory and config file for changes (hot reload is on by
    /// default; `watch = false` in the config file does the same).
    #[arg(long, global = true)]
    no_watch: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve MCP (the default), on stdio or with --http. The workspace and its credential come
    /// from the Databricks variables and profiles, as for the Databricks CLI (in per-user mode
    /// only the host; each request brings its token); `[workspaces]` in the config adds more.
    Serve(ServeArgs),
    /// List the tools that would be served, with the policy applied, without a workspace.
    ///
    /// Exits 1 if a plugin fails to load or is refused (plugins the policy leaves out on
    /// purpose, by allow_plugins or deny_plugins, do not count).
    #[command(after_help = EXIT_CODES)]
    Tools(ToolsArgs),
    /// Call one tool without an MCP client, for scripts and debugging.
    ///
    /// The call goes through the same policy, argument validation and limits as over MCP. The
    /// tool's text goes to stdout (its error to stderr, exit 1); `--json` prints the whole MCP
    /// result instead. Progress reports go to stderr. Ctrl-C cancels the call, and the plugin's
    /// compensations run. The workspace is found as `serve` finds it; with `[workspaces]`, a
    /// `workspace` argument picks one.
    #[command(
        after_help = format!("Examples:\n  databricks-mcp call list_clusters --args '{{\"limit\": 5}}'\n  echo '{{\"cluster_id\": \"0123\"}}' | databricks-mcp call get_cluster --args - --json\n\n{EXIT_CODES}")
    )]
    Call(CallArgs),
    /// Review plugins: what is loaded and why not, and plugin files before installing them.
    #[command(subcommand)]
    Plugins(PluginsCommand),
    /// Check each workspace: its configuration, whether its host answers, and who its
    /// credential authenticates as (SCIM Me).
    ///
    /// Exits 0 when every workspace works, 1 when one has a problem (each is said, with what to
    /// set).
    #[command(after_help = EXIT_CODES)]
    Doctor,
    /// Sign in to a workspace with OAuth (U2M), for local use.
    #[command(subcommand)]
    Auth(AuthCommand),
}

#[derive(Debug, Subcommand)]
enum AuthCommand {
    /// Sign in in a browser (authorization code with PKCE through a loopback redirect) and
    /// cache the tokens for this host in ~/.config/databricks-mcp/token-cache.json (0600).
    ///
    /// The workspace is --host, else the `host` of --profile, else DATABRICKS_HOST (or
    /// DATABRICKS_CONFIG_PROFILE's host). Afterwards a workspace with that host and no token or
    /// client secret uses this sign-in, refreshing it as needed.
    #[command(after_help = format!("Example:\n  databricks-mcp auth login --profile dev\n\n{EXIT_CODES}"))]
    Login(LoginArgs),
}

#[derive(Debug, Clone, Args)]
struct LoginArgs {
    /// A profile of ~/.databrickscfg (or DATABRICKS_CONFIG_FILE) whose host to sign in to.
    #[arg(long)]
    profile: Option<String>,
    /// The workspace URL to sign in to.
    #[arg(long, conflicts_with = "profile")]
    host: Option<String>,
    /// The loopback port of the redirect; the Databricks CLI's OAuth client is registered for
    /// 8020 (0 picks a free port, for workspaces whose OAuth app allows any).
    #[arg(long, default_value_t = crate::auth::u2m::DEFAULT_REDIRECT_PORT)]
    redirect_port: u16,
    /// Only print the URL; do not try to open a browser.
    #[arg(long)]
    no_browser: bool,
    /// How long to wait for the browser to come back, in seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

#[derive(Debug, Clone, Args)]
struct ServeArgs {
    /// Serve MCP streamable HTTP at http://ADDR/mcp instead of stdio, with /healthz and /readyz.
    /// ADDR is IP:PORT or a port (127.0.0.1). Off loopback it needs inbound authentication
    /// (DATABRICKS_MCP_HTTP_AUTH or DATABRICKS_MCP_HTTP_TOKENS); see the README.
    #[arg(long, value_name = "ADDR", value_parser = crate::http::parse_listen_addr)]
    http: Option<std::net::SocketAddr>,
}

#[derive(Debug, Clone, Args)]
struct ToolsArgs {
    /// `text` (one line per tool), `json` (with schemas, as MCP lists them) or `markdown` (the
    /// README's reference).
    #[arg(long, default_value = "text", value_parser = ["text", "json", "markdown"])]
    format: String,
}

#[derive(Debug, Clone, Args)]
struct CallArgs {
    /// The tool's name, as `databricks-mcp tools` lists it.
    tool: String,
    /// The arguments: a JSON object, or `-` to read it from stdin.
    #[arg(long, default_value = "{}", value_name = "JSON")]
    args: String,
    /// Print the whole MCP result (content, structuredContent, isError) as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum PluginsCommand {
    /// List the plugin files and whether each loaded, and why not.
    ///
    /// For each file in the plugin directory: name, version, sha256, the tools served and those
    /// the policy hides, the grants in force, and its status: loaded, excluded (by
    /// allow_plugins or deny_plugins) or refused (and why). Exits 1 if a plugin failed to load or was refused.
    #[command(after_help = EXIT_CODES)]
    List(JsonArg),
    /// Show a plugin file's manifest and requested grants, for review before installing.
    ///
    /// The policy is ignored: this is what the file asks for, not what it would get. The file's
    /// code runs only to describe itself, in the sandbox, with no workspace access. Exits 1 if the file is not a plugin this host can run.
    #[command(after_help = EXIT_CODES)]
    Inspect(FileArgs),
    /// Check a plugin file against this host and the current policy, for CI.
    ///
    /// Reports the contract version, the manifest's validity, the verdict of the current
    /// config's policy (allowed or not, the pinned digest, hidden tools, narrowed grants), and
    /// tool names that collide with another plugin in the plugin directory. Exits 0 if the file
    /// would load, be allowed and collide with nothing, 1 if not.
    #[command(after_help = format!("Example:\n  databricks-mcp --config prod.toml plugins verify target/plugins/clusters.wasm\n\n{EXIT_CODES}"))]
    Verify(FileArgs),
    /// Create a new tool pack: a Rust crate with a first tool, its test, a README and a justfile.
    ///
    /// The crate depends on databricks-mcp-sdk (by --sdk-path or --sdk-version; by default the
    /// SDK of the checkout this binary was built from, if it is still there). It builds with
    /// `cargo build --release --target wasm32-wasip2` and loads as it is. Exits 2 for an invalid
    /// name or a directory that exists and is not empty.
    #[command(
        after_help = format!("Example:\n  databricks-mcp plugins new acme-jobs --dir ~/src/acme-jobs --sdk-path ~/src/databricks-mcp/sdk\n\n{EXIT_CODES}")
    )]
    New(NewArgs),
}

#[derive(Debug, Clone, Args)]
struct NewArgs {
    /// The pack's name, kebab-case (`acme-jobs`): the plugin name, the crate name, and the
    /// prefix of its first tool.
    name: String,
    /// Where to write the crate [default: ./NAME]. Must not exist, or be empty.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Depend on the SDK at this path (a checkout's `sdk/` directory).
    #[arg(long, value_name = "PATH", conflicts_with = "sdk_version")]
    sdk_path: Option<PathBuf>,
    /// Depend on this released version of the SDK (e.g. `0.1`).
    #[arg(long, value_name = "VERSION")]
    sdk_version: Option<String>,
}

#[derive(Debug, Clone, Args)]
struct JsonArg {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Args)]
struct FileArgs {
    /// The plugin's .wasm file.
    file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Why a command did not succeed, which decides the exit code.
#[derive(Debug)]
pub enum Failure {
    /// Exit 2: the command or its configuration is wrong; nothing was attempted.
    Usage(anyhow::Error),
    /// Exit 1: the command ran and what it did failed. The error may be empty when the command
    /// already said everything on stdout.
    Failed(Option<anyhow::Error>),
}

impl Failure {
    fn failed(e: impl Into<anyhow::Error>) -> Self {
        Self::Failed(Some(e.into()))
    }
}

type Outcome = Result<(), Failure>;

/// Parse the command line, run the command, and return its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let serving = matches!(cli.command, None | Some(Command::Serve(_)));
    init_logging(serving);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("databricks-mcp: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run(cli));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Failed(e)) => {
            if let Some(e) = e {
                if serving {
                    tracing::error!("{e:#}");
                }
                eprintln!("databricks-mcp: {e:#}");
            }
            ExitCode::from(1)
        }
        Err(Failure::Usage(e)) => {
            eprintln!("databricks-mcp: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Outcome {
    let common = cli.common;
    match cli.command {
        None => serve(&common, None).await,
        Some(Command::Serve(args)) => serve(&common, args.http).await,
        Some(Command::Tools(args)) => tools(&common, &args).await,
        Some(Command::Call(args)) => call(&common, &args).await,
        Some(Command::Plugins(PluginsCommand::List(args))) => plugins_list(&common, args.json).await,
        Some(Command::Plugins(PluginsCommand::Inspect(args))) => inspect(&args).await,
        Some(Command::Plugins(PluginsCommand::Verify(args))) => verify(&common, &args).await,
        Some(Command::Plugins(PluginsCommand::New(args))) => new_pack(&args),
        Some(Command::Doctor) => doctor(&common).await,
        Some(Command::Auth(AuthCommand::Login(args))) => login(&args).await,
    }
}

/// The configuration in effect and where it came from.
struct Resolved {
    options: ServeOptions,
    file: Option<PathBuf>,
}

fn resolve(common: &Common) -> Result<Resolved, Failure> {
    let flags =
        Flags { config: common.config.clone(), plugin_dir: common.plugin_dir.clone(), read_only: common.read_only };
    let (config, file) = Config::resolve(&flags, &|name| std::env::var(name).ok()).map_err(Failure::Usage)?;
    let plugin_dir = config.plugin_dir.clone().unwrap_or_else(server::default_plugin_dir);
    let watch = !common.no_watch && config.watch_enabled();
    Ok(Resolved { options: ServeOptions { config, plugin_dir, config_file: file.clone(), flags, watch }, file })
}

async fn serve(common: &Common, http: Option<std::net::SocketAddr>) -> Outcome {
    let resolved = resolve(common)?;
    if let Some(file) = &resolved.file {
        tracing::info!(file = %file.display(), "configuration read");
    }
    // reqwest is built without a default TLS provider so the host links one (ring) on purpose.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match http {
        Some(addr) => {
            let setup = crate::http::HttpSetup::new(&resolved.options, addr).map_err(Failure::Usage)?;
            setup.serve(resolved.options).await.map_err(Failure::failed)
        }
        None => server::serve_stdio(resolved.options).await.map_err(Failure::failed),
    }
}

/// A runtime and the plugin directory loaded as `serve` loads it.
async fn load(options: &ServeOptions) -> Result<(Arc<Runtime>, Snapshot, Vec<LoadError>), Failure> {
    if !options.plugin_dir.is_dir() {
        return Err(Failure::Usage(anyhow!(
            "plugin directory {} does not exist; pass --plugin-dir or set DATABRICKS_MCP_PLUGIN_DIR",
            options.plugin_dir.display()
        )));
    }
    let runtime = runtime(&options.config)?;
    let (snapshot, errors) = registry::load_dir(&runtime, &options.plugin_dir, &options.config).await;
    Ok((runtime, snapshot, errors))
}

fn runtime(config: &Config) -> Result<Arc<Runtime>, Failure> {
    let cache_dir =
        if config.cache_enabled() { config.cache_dir.clone().or_else(server::default_cache_dir) } else { None };
    Runtime::new(&EngineOptions { slots: 8, max_memory_bytes: config.max_memory_bytes(), cache_dir, tiered: false })
        .map_err(Failure::failed)
}

/// Exit 1 naming the plugins that failed, unless every problem is a deliberate exclusion.
fn failed_loads(errors: &[LoadError]) -> Outcome {
    // The reasons are in the log lines above (and in `plugins list`); name the files only.
    let failed: Vec<String> = errors.iter().filter(|e| !e.excluded).map(|e| e.file.display().to_string()).collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::failed(anyhow!("{} plugin(s) failed to load: {}", failed.len(), failed.join(", "))))
    }
}

async fn tools(common: &Common, args: &ToolsArgs) -> Outcome {
    let resolved = resolve(common)?;
    let (_runtime, snapshot, errors) = load(&resolved.options).await?;
    let format = match args.format.as_str() {
        "json" => listing::Format::Json,
        "markdown" => listing::Format::Markdown,
        _ => listing::Format::Text,
    };
    // The markdown reference is the plugins' own; the other listings show the tools as MCP
    // clients see them, with several workspaces the `workspace` argument and `list_workspaces`.
    let workspaces = (format != listing::Format::Markdown)
        .then(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
            Workspaces::from_config(&resolved.options.config, Credentials::Own, &env_var)
        })
        .filter(Workspaces::is_multi);
    let Some(workspaces) = workspaces else {
        print!("{}", listing::render(&snapshot, format));
        return failed_loads(&errors);
    };
    if format == listing::Format::Json {
        let mut listing = listing::json_of(&snapshot);
        if let Some(tools) = listing["tools"].as_array_mut() {
            for tool in tools.iter_mut() {
                if let Some(schema) = tool["inputSchema"].as_object_mut() {
                    workspaces.decorate_schema(schema);
                }
            }
            if !snapshot.hide_list_workspaces {
                let mut list = serde_json::to_value(Workspaces::list_tool()).map_err(Failure::failed)?;
                list["plugin"] = Value::Null;
                tools.push(list);
            }
        }
        println!("{}", serde_json::to_string_pretty(&listing).map_err(Failure::failed)?);
    } else {
        print!("{}", listing::render(&snapshot, format));
        println!(
            "\nEvery tool takes a `workspace` argument: {} (the first is the default); `{}` describes them.",
            workspaces.names().iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
            crate::auth::workspaces::LIST_TOOL
        );
    }
    failed_loads(&errors)
}

async fn call(common: &Common, args: &CallArgs) -> Outcome {
    let resolved = resolve(common)?;
    let text = if args.args == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the arguments from stdin").map_err(Failure::Usage)?
    } else {
        args.args.clone()
    };
    let arguments: Value = match serde_json::from_str(&text) {
        Ok(value @ Value::Object(_)) => value,
        Ok(_) => return Err(Failure::Usage(anyhow!("--args must be a JSON object, e.g. '{{\"limit\": 5}}'"))),
        Err(e) => return Err(Failure::Usage(anyhow!("--args is not JSON: {e}"))),
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let workspaces = Workspaces::from_config(&resolved.options.config, Credentials::Own, &env_var);
    let (runtime, snapshot, errors) = load(&resolved.options).await?;
    let Some(plugin) = snapshot.plugin_for(&args.tool).cloned() else {
        return Err(Failure::Usage(unknown_tool(&args.tool, &snapshot, &errors)));
    };
    // `workspace` picks one of several, as over MCP; the plugin never sees it.
    let mut arguments = arguments;
    let own_schema = plugin.manifest.tools.iter().find(|t| t.name == args.tool).map(|t| &t.input_schema);
    let workspace = arguments
        .as_object_mut()
        .map(|a| workspaces.take_argument(a, own_schema))
        .transpose()
        .map_err(|e| Failure::Usage(anyhow!(e)))?
        .flatten();
    let client = workspaces
        .select(workspace.as_deref(), None)
        .map_err(|e| Failure::Usage(anyhow!("no workspace to call: {e}")))?;

    let cancel = CancellationToken::new();
    let on_interrupt = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_interrupt.cancel();
        }
    });
    let progress: ProgressSink = Arc::new(|p: Progress| {
        let total = p.total.map(|t| format!("/{t}")).unwrap_or_default();
        eprintln!("progress {}{total}{}", p.progress, p.message.map(|m| format!(": {m}")).unwrap_or_default());
        Box::pin(async {})
    });
    let request = CallRequest { request_id: "cli".into(), progress: Some(progress), cancel };
    let result = crate::mcp::to_call_result(plugin.call(&args.tool, arguments, request, Some(client)).await);
    // A cancelled call may have compensations to send.
    runtime.drain(Duration::from_secs(10)).await;

    let is_error = result.is_error == Some(true);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result).map_err(Failure::failed)?);
    } else {
        let text = result.content.iter().filter_map(|c| c.as_text().map(|t| t.text.as_str())).collect::<Vec<_>>();
        let text = text.join("\n");
        if is_error {
            return Err(Failure::failed(anyhow!("tool `{}` failed: {text}", args.tool)));
        }
        if text.is_empty()
            && let Some(structured) = &result.structured_content
        {
            println!("{}", serde_json::to_string_pretty(structured).map_err(Failure::failed)?);
        } else {
            println!("{text}");
        }
    }
    if is_error { Err(Failure::Failed(None)) } else { Ok(()) }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

async fn doctor(common: &Common) -> Outcome {
    let resolved = resolve(common)?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let workspaces = Workspaces::from_config(&resolved.options.config, Credentials::Own, &env_var);
    if crate::auth::doctor::run(&workspaces).await { Ok(()) } else { Err(Failure::Failed(None)) }
}

async fn login(args: &LoginArgs) -> Outcome {
    use crate::auth::resolve::{Scope, Settings};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (host, profile) = match (&args.host, &args.profile) {
        (Some(host), _) => (host.clone(), None),
        (None, profile) => {
            let scope = profile.as_deref().map_or(Scope::Environment, Scope::Profile);
            let settings = Settings::resolve(scope, &env_var).map_err(|e| Failure::Usage(e.into()))?;
            let host = settings.host().map_err(|e| Failure::Usage(anyhow!("{e}; or pass --host")))?.to_string();
            (host, settings.profile.map(|(p, _)| p))
        }
    };
    let client =
        crate::workspace::WorkspaceClient::without_credential(&host, Default::default()).map_err(Failure::Usage)?;
    let path = crate::auth::u2m::cache_path(&env_var)
        .ok_or_else(|| Failure::Usage(anyhow!("HOME is not set: cannot place the token cache")))?;
    let store = crate::auth::u2m::TokenStore { path: path.clone(), key: crate::auth::u2m::cache_key(client.base()) };
    crate::auth::u2m::login(crate::auth::u2m::Login {
        http: client.http(),
        host: client.base(),
        store,
        port: args.redirect_port,
        open_browser: !args.no_browser,
        timeout: Duration::from_secs(args.timeout),
    })
    .await
    .map_err(Failure::failed)?;
    let profile = profile.map(|p| format!(" (profile [{p}])")).unwrap_or_default();
    println!("Signed in to {}{profile}; tokens cached in {}", client.host(), path.display());
    Ok(())
}

/// An unknown tool, with what the operator can do about it.
fn unknown_tool(tool: &str, snapshot: &Snapshot, errors: &[LoadError]) -> anyhow::Error {
    for plugin in &snapshot.plugins {
        if let Some((_, why)) = plugin.hidden.iter().find(|(name, _)| name == tool) {
            return anyhow!("tool `{tool}` of plugin `{}` is hidden by the policy: {why}", plugin.manifest.name);
        }
    }
    let mut message = format!("unknown tool `{tool}`; `databricks-mcp tools` lists the tools served");
    if !errors.is_empty() {
        message
            .push_str(&format!(" ({} plugin file(s) did not load: see `databricks-mcp plugins list`)", errors.len()));
    }
    anyhow!(message)
}

async fn plugins_list(common: &Common, json: bool) -> Outcome {
    let resolved = resolve(common)?;
    let (_runtime, snapshot, errors) = load(&resolved.options).await?;
    let mut entries: Vec<(PathBuf, Value)> =
        snapshot.plugins.iter().map(|p| (p.file.clone(), plugin_json(p))).collect();
    for error in &errors {
        let sha256 = std::fs::read(&error.file).map(|b| hex(&Sha256::digest(&b))).unwrap_or_default();
        let status = if error.excluded { "excluded" } else { "refused" };
        entries.push((
            error.file.clone(),
            json!({ "file": error.file, "sha256": sha256, "status": status, "reason": error.reason }),
        ));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let entries: Vec<Value> = entries.into_iter().map(|(_, v)| v).collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&json!({ "plugins": entries })).map_err(Failure::failed)?);
    } else {
        if entries.is_empty() {
            println!("no plugin files in {}", resolved.options.plugin_dir.display());
        }
        for entry in &entries {
            print!("{}", plugin_text(entry));
        }
    }
    failed_loads(&errors)
}

fn plugin_json(plugin: &Plugin) -> Value {
    let m = &plugin.manifest;
    json!({
        "file": plugin.file,
        "sha256": plugin.digest,
        "status": "loaded",
        "name": m.name,
        "version": m.version,
        "contract_version": m.contract_version,
        "tools": m.tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        "hidden_tools": plugin.hidden.iter().map(|(n, why)| json!({"name": n, "reason": why})).collect::<Vec<_>>(),
        "grants": plugin.grants().iter().map(ToString::to_string).collect::<Vec<_>>(),
        "declared_grants": m.grants.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "narrowed": plugin.narrowed,
    })
}

fn plugin_text(entry: &Value) -> String {
    let s = |key: &str| entry[key].as_str().unwrap_or_default().to_string();
    let list = |key: &str| -> Vec<String> {
        entry[key]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let file = s("file");
    let mut out = match s("status").as_str() {
        "loaded" => format!("{} {}: loaded from {file}\n", s("name"), s("version")),
        status => format!("{file}: {status}: {}\n", s("reason")),
    };
    out.push_str(&format!("  sha256: {}\n", s("sha256")));
    if s("status") != "loaded" {
        return out;
    }
    let tools = list("tools");
    out.push_str(&format!("  tools ({}): {}\n", tools.len(), tools.join(", ")));
    // Group the hidden tools by reason: read-only mode usually hides many for one reason.
    let mut hidden: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for h in entry["hidden_tools"].as_array().into_iter().flatten() {
        let reason = h["reason"].as_str().unwrap_or_default().to_string();
        hidden.entry(reason).or_default().push(h["name"].as_str().unwrap_or_default().to_string());
    }
    for (reason, names) in hidden {
        out.push_str(&format!("  hidden ({}): {} ({reason})\n", names.len(), names.join(", ")));
    }
    let grants = list("grants");
    let narrowed = if entry["narrowed"].as_bool() == Some(true) {
        format!(", narrowed by the operator from {} declared", list("declared_grants").len())
    } else {
        String::new()
    };
    out.push_str(&format!("  grants ({}{narrowed}): {}\n", grants.len(), grants.join(", ")));
    out
}

/// Load one file with no policy: what it is, not whether it may run here.
async fn load_file(file: &Path) -> Result<(Arc<Runtime>, Result<Plugin, LoadError>), Failure> {
    let bytes = std::fs::read(file)
        .with_context(|| format!("reading plugin file {}", file.display()))
        .map_err(Failure::Usage)?;
    let config = Config::default();
    let runtime = runtime(&config)?;
    let loaded = Plugin::load(&runtime, file, bytes, |m, d| config.setup_for(m, d)).await;
    Ok((runtime, loaded))
}

async fn inspect(args: &FileArgs) -> Outcome {
    let (_runtime, loaded) = load_file(&args.file).await?;
    let plugin = loaded.map_err(Failure::failed)?;
    let m = &plugin.manifest;
    let content = plugin.content.clone().unwrap_or_default();
    if args.json {
        let tools: Vec<Value> = listing::tools_json(m).into_iter().collect();
        let out = json!({
            "file": plugin.file,
            "sha256": plugin.digest,
            "name": m.name,
            "version": m.version,
            "description": m.description,
            "contract_version": m.contract_version,
            "sdk": m.sdk,
            "grants": m.grants.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "tools": tools,
            "resource_templates": content.templates.iter().map(|t| json!({
                "uri_template": content::absolute(&m.name, &t.uri_template),
                "name": t.name,
                "title": t.title,
                "description": t.description,
                "mime_type": t.mime_type,
            })).collect::<Vec<_>>(),
            "lists_resources": content.lists_resources,
            "prompts": content.prompts.iter().map(|p| json!({
                "name": p.name,
                "title": p.title,
                "description": p.description,
                "arguments": p.arguments.iter().map(|a| json!({
                    "name": a.name, "description": a.description, "required": a.required,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out).map_err(Failure::failed)?);
        return Ok(());
    }
    println!("{} {}: {}", m.name, m.version, m.description);
    println!("  file: {}", plugin.file.display());
    println!("  sha256: {}", plugin.digest);
    println!("  contract: {} (sdk {})", m.contract_version, m.sdk);
    println!("  requested grants ({}):", m.grants.len());
    for grant in &m.grants {
        println!("    {grant}");
    }
    println!("  tools ({}):", m.tools.len());
    print!("{}", listing::tool_lines(m, "    "));
    if !content.templates.is_empty() || content.lists_resources {
        let listed = if content.lists_resources { ", and it lists concrete resources" } else { "" };
        println!("  resource templates ({}){listed}:", content.templates.len());
        for t in &content.templates {
            let mime = t.mime_type.as_deref().map(|m| format!(" ({m})")).unwrap_or_default();
            println!("    {}{mime}: {}", content::absolute(&m.name, &t.uri_template), first_line(&t.description));
        }
    }
    if !content.prompts.is_empty() {
        println!("  prompts ({}):", content.prompts.len());
        for p in &content.prompts {
            let arguments: Vec<String> =
                p.arguments.iter().map(|a| if a.required { a.name.clone() } else { format!("[{}]", a.name) }).collect();
            println!("    {}({}): {}", p.name, arguments.join(", "), first_line(&p.description));
        }
    }
    Ok(())
}

/// A description's first line, for one-line listings.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default().trim()
}

async fn verify(common: &Common, args: &FileArgs) -> Outcome {
    let resolved = resolve(common)?;
    let config = &resolved.options.config;
    let policy = config.policy().map_err(Failure::Usage)?;
    let (_runtime, loaded) = load_file(&args.file).await?;
    let config_name = resolved.file.as_ref().map_or("no config file".to_string(), |f| f.display().to_string());
    let plugin = match loaded {
        Ok(plugin) => plugin,
        Err(error) => {
            let sha256 = std::fs::read(&args.file).map(|b| hex(&Sha256::digest(&b))).unwrap_or_default();
            if args.json {
                let out = json!({ "file": args.file, "sha256": sha256, "ok": false, "stage": "load", "reason": error.reason });
                println!("{}", serde_json::to_string_pretty(&out).map_err(Failure::failed)?);
            } else {
                println!("{}: cannot be loaded\n  sha256: {sha256}\n  reason: {}", args.file.display(), error.reason);
            }
            return Err(Failure::Failed(None));
        }
    };
    let m = &plugin.manifest;
    let verdict = policy.admit(m, &plugin.digest);
    let configured = config.limits_for(&m.name).and(config.settings_for(&m.name).map(|_| ()));
    let collisions = match &verdict {
        Ok(admission) => collisions(&resolved.options, m, admission).await,
        Err(_) => Vec::new(),
    };
    let ok = verdict.is_ok() && configured.is_ok() && collisions.is_empty();
    if args.json {
        let policy_json = match &verdict {
            Ok(a) => json!({
                "verdict": "allowed",
                "hidden_tools": a.hidden.iter().map(|(n, why)| json!({"name": n, "reason": why})).collect::<Vec<_>>(),
                "grants": a.grants.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "narrowed": a.narrowed,
                "unused_grants": a.unused_grants,
            }),
            Err(r) => {
                json!({ "verdict": if r.is_exclusion() { "excluded" } else { "refused" }, "reason": r.to_string() })
            }
        };
        let out = json!({
            "file": plugin.file,
            "sha256": plugin.digest,
            "ok": ok,
            "name": m.name,
            "version": m.version,
            "contract_version": m.contract_version,
            "manifest": "valid",
            "config": resolved.file,
            "policy": policy_json,
            "config_error": configured.as_ref().err().map(|e| format!("{e:#}")),
            "collisions": collisions,
        });
        println!("{}", serde_json::to_string_pretty(&out).map_err(Failure::failed)?);
    } else {
        println!("{}: {} {}", plugin.file.display(), m.name, m.version);
        println!("  sha256: {}", plugin.digest);
        println!(
            "  contract: {} (this host runs {}): ok",
            m.contract_version,
            crate::manifest::SUPPORTED_CONTRACTS.iter().map(|v| format!("{v}.x")).collect::<Vec<_>>().join(", ")
        );
        println!("  manifest: valid ({} tools, {} grants)", m.tools.len(), m.grants.len());
        match &verdict {
            Ok(a) => {
                println!("  policy ({config_name}): allowed");
                for (tool, why) in &a.hidden {
                    println!("    hidden: {tool} ({why})");
                }
                if a.narrowed {
                    let grants: Vec<String> = a.grants.iter().map(ToString::to_string).collect();
                    println!("    grants narrowed to ({}): {}", grants.len(), grants.join(", "));
                }
                for g in &a.unused_grants {
                    println!("    warning: operator grant `{g}` matches nothing the plugin declares");
                }
            }
            Err(refusal) => println!("  policy ({config_name}): {}: {refusal}", verdict_word(refusal)),
        }
        if let Err(e) = &configured {
            println!("  settings: invalid: {e:#}");
        }
        for collision in &collisions {
            println!("  collision: {collision}");
        }
        println!("  verdict: {}", if ok { "ok" } else { "refused" });
    }
    if ok { Ok(()) } else { Err(Failure::Failed(None)) }
}

/// The served tools of the plugin being verified that a plugin of another name in the plugin
/// directory already serves (the directory is loaded as `serve` would; none if it is missing).
async fn collisions(options: &ServeOptions, manifest: &Manifest, admission: &Admission) -> Vec<String> {
    if !options.plugin_dir.is_dir() {
        return Vec::new();
    }
    let Ok(runtime) = runtime(&options.config) else { return Vec::new() };
    let (snapshot, _) = registry::load_dir(&runtime, &options.plugin_dir, &options.config).await;
    // Names as they would be served: with the operator's prefix, if any.
    manifest
        .tools
        .iter()
        .map(|t| format!("{}{}", admission.prefix, t.name))
        .filter(|served| !admission.hidden.iter().any(|(name, _)| name == served))
        .filter_map(|served| {
            let other = snapshot.plugin_for(&served).filter(|p| p.manifest.name != manifest.name)?;
            Some(format!(
                "tool `{served}` is already served by plugin `{}` ({}) in the plugin directory",
                other.manifest.name,
                other.file.display()
            ))
        })
        .collect()
}

fn verdict_word(refusal: &Refusal) -> &'static str {
    if refusal.is_exclusion() { "excluded" } else { "refused" }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Logs go to stderr, never stdout; `DATABRICKS_MCP_LOG` (or `RUST_LOG`) sets the filter. The
/// one-shot commands log only warnings by default: their answer is on stdout.
fn new_pack(args: &NewArgs) -> Outcome {
    let sdk = match (&args.sdk_path, &args.sdk_version) {
        (Some(path), _) => {
            // The crate lives elsewhere: a relative path would mean something else from there.
            let path =
                path.canonicalize().map_err(|e| Failure::Usage(anyhow!("--sdk-path {}: {e}", path.display())))?;
            if !path.join("Cargo.toml").is_file() {
                return Err(Failure::Usage(anyhow!("--sdk-path {}: no Cargo.toml there", path.display())));
            }
            SdkSource::Path(path)
        }
        (None, Some(version)) => SdkSource::Version(version.clone()),
        (None, None) => SdkSource::default_for_this_host(),
    };
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(&args.name));
    let created = scaffold::create(&args.name, &dir, &sdk).map_err(|e| match e {
        ScaffoldError::Io { .. } => Failure::failed(e),
        _ => Failure::Usage(e.into()),
    })?;
    let sdk = match &sdk {
        SdkSource::Path(path) => format!("the SDK at {}", path.display()),
        SdkSource::Version(version) => format!("databricks-mcp-sdk {version}"),
    };
    println!("Created tool pack `{}` in {} (with {sdk}):", args.name, created.dir.display());
    for file in &created.files {
        println!("  {file}");
    }
    println!("Its first tool is `{}`. Next:", created.tool);
    println!("  cd {}", created.dir.display());
    println!("  cargo test                                    # test the tools (the SDK's test kit)");
    println!("  cargo build --release --target wasm32-wasip2  # build the component");
    println!("  databricks-mcp plugins inspect {}", created.wasm);
    println!("  cp {} PLUGIN_DIR/", created.wasm);
    println!("A running `databricks-mcp serve` loads it from its plugin directory at once.");
    Ok(())
}

fn init_logging(serving: bool) {
    let default = if serving { "info,rmcp=warn,wasmtime=warn,cranelift=warn" } else { "warn" };
    let filter = std::env::var("DATABRICKS_MCP_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| default.to_string());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .init();
}
