//! `databricks-emulator`: serves an emulated Databricks workspace until Ctrl-C or SIGTERM.
//!
//! Prints exactly one line to stdout once listening (`databricks-emulator listening on URL`), so a
//! parent process can read the URL; everything else is logged to stderr (`RUST_LOG` filters it).

use std::{
    io::{IsTerminal as _, Write as _},
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::Duration,
};

use anyhow::Context as _;
use clap::Parser;
use databricks_emulator::{Emulator, EmulatorConfig, Seed};

/// A Databricks workspace on loopback, for tests and demos.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// Data to start with: demo, test or empty.
    #[arg(long, default_value_t = Seed::Demo)]
    seed: Seed,
    /// Milliseconds each state-transition step takes [default: 3000 for demo, 0 otherwise].
    #[arg(long)]
    transition_ms: Option<u64>,
    /// A token to accept besides the demo token (repeatable).
    #[arg(long = "token")]
    tokens: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour only for a person watching; logs captured by a parent process stay plain.
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();

    // Demos want transitions slow enough to watch; tests want them instant.
    let default_ms = if args.seed == Seed::Demo { 3_000 } else { 0 };
    let config = EmulatorConfig {
        seed: args.seed,
        transition_delay: Duration::from_millis(args.transition_ms.unwrap_or(default_ms)),
        tokens: args.tokens,
    };
    let emulator = Emulator::start_on(config, SocketAddr::new(args.host, args.port)).await?;

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "databricks-emulator listening on {}", emulator.url()).context("writing to stdout")?;
    stdout.flush().context("flushing stdout")?;
    drop(stdout);

    stop_signal().await?;
    tracing::info!("shutting down");
    emulator.shutdown().await;
    Ok(())
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one.
async fn stop_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.context("listening for Ctrl-C"),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.context("listening for Ctrl-C")
    }
}
