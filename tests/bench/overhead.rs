//! `just bench`: what the host costs, measured against the emulator on loopback.
//!
//! - start-up: process spawn to the first `tools/list` answer, with a cold and a warm
//!   compiled-plugin cache;
//! - per-call overhead: an MCP `get_cluster` minus a direct HTTP call of the same endpoint,
//!   p50 and p99;
//! - resident memory of the host with every first-party plugin loaded, before and after load.
//!
//! Figures are printed with the targets and the Python servers users run today for comparison;
//! nothing here asserts a time.

#![allow(clippy::unwrap_used, reason = "a benchmark that cannot measure should stop")]

use std::path::Path;
use std::time::{Duration, Instant};

use databricks_emulator::{DEMO_TOKEN, Emulator, EmulatorConfig};
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt as _, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt as _};
use serde_json::json;

const CALLS: usize = 2000;
const STARTS: usize = 5;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emulator = Emulator::start(EmulatorConfig::default()).await?;
    let plugins = tempfile::tempdir()?;
    for entry in std::fs::read_dir(test_plugins::dir())? {
        let path = entry?.path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".wasm") && !name.starts_with("fixture_") {
            std::fs::copy(&path, plugins.path().join(&name))?;
        }
    }
    let wasm_bytes: u64 =
        std::fs::read_dir(plugins.path())?.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum();
    println!(
        "databricks-mcp benchmark (release build, emulator on loopback, {} cores)",
        std::thread::available_parallelism()?
    );
    println!("plugins: {} KiB of .wasm in {:?}", wasm_bytes / 1024, names(plugins.path()));

    // Start-up.
    let cache = tempfile::tempdir()?;
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for i in 0..STARTS {
        let fresh_cache = tempfile::tempdir()?;
        let (elapsed, client) = start(plugins.path(), fresh_cache.path(), &emulator).await?;
        client.cancel().await?;
        cold.push(elapsed);
        if i == 0 {
            // Fill the shared cache once.
            let (_, client) = start(plugins.path(), cache.path(), &emulator).await?;
            client.cancel().await?;
        }
        let (elapsed, client) = start(plugins.path(), cache.path(), &emulator).await?;
        client.cancel().await?;
        warm.push(elapsed);
    }
    println!("\nstart-up to first tools/list answer (median of {STARTS}):");
    println!("  cold cache (compiles plugins): {:>8.1} ms", ms(median(&mut cold)));
    println!("  warm cache:                    {:>8.1} ms", ms(median(&mut warm)));
    println!(
        "  Python Databricks MCP servers: 500 - 2700 ms  ->  {:.0}x - {:.0}x faster",
        500.0 / ms(median(&mut warm)),
        2700.0 / ms(median(&mut warm))
    );

    // Per-call overhead.
    let (_, client) = start(plugins.path(), cache.path(), &emulator).await?;
    let pid = client_pid(&client);
    let rss_idle = pid.and_then(rss_kib);
    let listed = client
        .call_tool(
            CallToolRequestParams::new("list_clusters")
                .with_arguments(json!({"limit": 1}).as_object().unwrap().clone()),
        )
        .await?;
    let cluster_id = listed
        .structured_content
        .as_ref()
        .and_then(|s| s["clusters"][0]["cluster_id"].as_str())
        .expect("a seeded cluster")
        .to_string();
    let args = json!({"cluster_id": cluster_id}).as_object().unwrap().clone();
    let http = reqwest::Client::new();
    let url = format!("{}/api/2.1/clusters/get", emulator.url());
    let direct_once = || async {
        let r = http.get(&url).query(&[("cluster_id", &cluster_id)]).bearer_auth(DEMO_TOKEN).send().await?;
        anyhow::ensure!(r.status().is_success());
        r.bytes().await?;
        anyhow::Ok(())
    };
    for _ in 0..200 {
        direct_once().await?;
        client.call_tool(CallToolRequestParams::new("get_cluster").with_arguments(args.clone())).await?;
    }
    let mut direct = Vec::with_capacity(CALLS);
    let mut via_mcp = Vec::with_capacity(CALLS);
    let mut refused = Vec::with_capacity(CALLS);
    let mut guest_only = Vec::with_capacity(CALLS);
    // Refused by the host's schema check: the MCP round trip with no plugin instance.
    let bad_args = json!({"cluster_id": 7}).as_object().unwrap().clone();
    // Fails inside the plugin before any workspace request: instance and guest, no HTTP.
    let no_size = json!({"cluster_id": cluster_id}).as_object().unwrap().clone();
    for _ in 0..CALLS {
        let t = Instant::now();
        direct_once().await?;
        direct.push(t.elapsed());
        let t = Instant::now();
        let result = client.call_tool(CallToolRequestParams::new("get_cluster").with_arguments(args.clone())).await?;
        via_mcp.push(t.elapsed());
        anyhow::ensure!(result.is_error != Some(true), "get_cluster failed");
        let t = Instant::now();
        let result =
            client.call_tool(CallToolRequestParams::new("get_cluster").with_arguments(bad_args.clone())).await?;
        refused.push(t.elapsed());
        anyhow::ensure!(result.is_error == Some(true), "bad arguments were accepted");
        let t = Instant::now();
        let result =
            client.call_tool(CallToolRequestParams::new("resize_cluster").with_arguments(no_size.clone())).await?;
        guest_only.push(t.elapsed());
        anyhow::ensure!(result.is_error == Some(true), "resize without a size was accepted");
    }
    let rss_busy = pid.and_then(rss_kib);
    let (d50, d99) = (us(percentile(&mut direct, 0.50)), us(percentile(&mut direct, 0.99)));
    let (m50, m99) = (us(percentile(&mut via_mcp, 0.50)), us(percentile(&mut via_mcp, 0.99)));
    println!("\nper call, get_cluster, {CALLS} sequential calls:");
    println!("  direct HTTP to the emulator:   p50 {d50:>8.0} us   p99 {d99:>8.0} us");
    println!("  through databricks-mcp (MCP):  p50 {m50:>8.0} us   p99 {m99:>8.0} us");
    println!(
        "  host overhead:                 p50 {:>8.0} us   p99 {:>8.0} us   (target: p50 <= 100 us)",
        m50 - d50,
        m99 - d99
    );
    let (r50, r99) = (us(percentile(&mut refused, 0.50)), us(percentile(&mut refused, 0.99)));
    let (g50, g99) = (us(percentile(&mut guest_only, 0.50)), us(percentile(&mut guest_only, 0.99)));
    println!("  where it goes (p50):");
    println!("    MCP round trip, arguments refused by the host:  {r50:>6.0} us   (p99 {r99:.0})");
    println!(
        "    + fresh plugin instance and guest, no request:  {:>6.0} us   (p99 {g99:.0}, total {g50:.0})",
        g50 - r50
    );
    println!(
        "    + workspace request and result validation:      {:>6.0} us   (of which the direct call: {d50:.0})",
        m50 - g50
    );
    println!(
        "  Python Databricks MCP servers add 3 - 44 ms per call  ->  {:.0}x - {:.0}x less",
        3000.0 / (m50 - d50).max(1.0),
        44000.0 / (m50 - d50).max(1.0)
    );

    println!("\nresident memory of the host (all first-party plugins loaded):");
    match (rss_idle, rss_busy) {
        (Some(idle), Some(busy)) => {
            println!("  after start-up:   {:>6.1} MiB", idle as f64 / 1024.0);
            println!(
                "  after {CALLS} calls: {:>6.1} MiB   (target: <= 40 MiB; Python servers: 54 - 150 MiB)",
                busy as f64 / 1024.0
            );
        }
        _ => println!("  unavailable (no /proc)"),
    }
    client.cancel().await?;
    emulator.shutdown().await;
    Ok(())
}

async fn start(
    plugins: &Path,
    cache: &Path,
    emulator: &Emulator,
) -> anyhow::Result<(Duration, RunningService<RoleClient, ()>)> {
    let started = Instant::now();
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_databricks-mcp")).configure(|c| {
        c.args(["serve", "--plugin-dir"])
            .arg(plugins)
            .env("DATABRICKS_HOST", emulator.url())
            .env("DATABRICKS_TOKEN", DEMO_TOKEN)
            .env("XDG_CACHE_HOME", cache)
            .env("DATABRICKS_MCP_LOG", "warn");
    });
    let (transport, _) = TokioChildProcess::builder(command).stderr(std::process::Stdio::null()).spawn()?;
    let client = ().serve(transport).await?;
    let tools = client.list_all_tools().await?;
    anyhow::ensure!(!tools.is_empty(), "no tools loaded");
    Ok((started.elapsed(), client))
}

fn client_pid(client: &RunningService<RoleClient, ()>) -> Option<u32> {
    // rmcp keeps the transport inside the service; find the child by parentage instead.
    let _ = client;
    let me = std::process::id();
    let mut newest = None;
    for entry in std::fs::read_dir("/proc").ok()? {
        let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok().unwrap_or(0);
        if pid == 0 {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let ppid: u32 = after_name.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
        if ppid == me && stat.contains("(databricks-mcp)") {
            newest = newest.max(Some(pid));
        }
    }
    newest
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().to_string()))
        .collect();
    v.sort();
    v
}

fn median(v: &mut [Duration]) -> Duration {
    percentile(v, 0.5)
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
