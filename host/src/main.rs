//! `databricks-mcp`: the command line. It parses arguments, sets up logging on stderr (stdout
//! belongs to the MCP protocol), and maps errors to exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use databricks_mcp::config::Config;
use databricks_mcp::listing;
use databricks_mcp::server::{self, ServeOptions};

/// The Databricks MCP server: Databricks tools for AI assistants, run as sandboxed plugins.
#[derive(Debug, Parser)]
#[command(name = "databricks-mcp", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve MCP (the default). The workspace comes from DATABRICKS_HOST and DATABRICKS_TOKEN.
    Serve(ServeArgs),
    /// List the tools the plugin directory would serve, without a workspace. Exits 1 if a
    /// plugin fails to load.
    Tools(ToolsArgs),
}

#[derive(Debug, Clone, clap::Args)]
struct ToolsArgs {
    /// `text` (one line per tool), `json` (with schemas, as MCP lists them) or `markdown` (the
    /// README's reference).
    #[arg(long, default_value = "text", value_parser = ["text", "json", "markdown"])]
    format: String,
}

#[derive(Debug, Clone, clap::Args)]
struct ServeArgs {
    /// Directory of plugin .wasm files [default: plugins/ next to the binary, else
    /// ~/.local/share/databricks-mcp/plugins]
    #[arg(long, env = "DATABRICKS_MCP_PLUGIN_DIR", global = true)]
    plugin_dir: Option<PathBuf>,
    /// Configuration file (TOML): limits, per-plugin settings.
    #[arg(long, env = "DATABRICKS_MCP_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Transport. Only stdio for now.
    #[arg(long, default_value = "stdio", value_parser = ["stdio"], global = true)]
    transport: String,
    /// Do not watch the plugin directory and config file for changes (hot reload is on by
    /// default; `watch = false` in the config file does the same).
    #[arg(long, global = true)]
    no_watch: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let (args, tools) = match cli.command {
        Some(Command::Serve(args)) => (args, None),
        Some(Command::Tools(tools)) => (cli.serve, Some(tools)),
        None => (cli.serve, None),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("databricks-mcp: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match tools {
        Some(tools) => runtime.block_on(list_tools(args, tools)),
        None => runtime.block_on(run(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("databricks-mcp: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn options(args: ServeArgs) -> anyhow::Result<ServeOptions> {
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let plugin_dir = args.plugin_dir.or_else(|| config.plugin_dir.clone()).unwrap_or_else(server::default_plugin_dir);
    let watch = !args.no_watch && config.watch_enabled();
    Ok(ServeOptions { config, plugin_dir, config_path: args.config, watch })
}

async fn run(args: ServeArgs) -> anyhow::Result<()> {
    // reqwest is built without a default TLS provider so the host links one (ring) on purpose.
    let _ = rustls::crypto::ring::default_provider().install_default();
    server::serve_stdio(options(args)?).await
}

async fn list_tools(args: ServeArgs, tools: ToolsArgs) -> anyhow::Result<()> {
    let options = options(args)?;
    let (snapshot, errors) = server::load_only(&options).await?;
    let format = match tools.format.as_str() {
        "json" => listing::Format::Json,
        "markdown" => listing::Format::Markdown,
        _ => listing::Format::Text,
    };
    print!("{}", listing::render(&snapshot, format));
    if !errors.is_empty() {
        anyhow::bail!(
            "{} plugin(s) failed to load: {}",
            errors.len(),
            errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
        );
    }
    Ok(())
}

/// Logs go to stderr, never stdout; `RUST_LOG` (or `DATABRICKS_MCP_LOG`) sets the filter.
fn init_logging() {
    let filter = std::env::var("DATABRICKS_MCP_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info,rmcp=warn,wasmtime=warn,cranelift=warn".to_string());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .init();
}
