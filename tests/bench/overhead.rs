//! `just bench`: what the host costs, measured against the emulator on loopback.
//!
//! - start-up: process spawn to the first `tools/list` answer, with a cold and a warm
//!   compiled-plugin cache;
//! - per-call overhead: an MCP `get_cluster` minus a direct HTTP call of the same endpoint,
//!   p50 and p99;
//! - resident memory of the host with every first-party plugin loaded, before and after load;
//! - hot reload latency: a plugin file written to `tools/list_changed` received by a client.
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
const RELOADS: u32 = 10;

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
    let plugin_count = names(plugins.path()).len();
    let mut cold = Vec::new();
    let mut optimized = Vec::new();
    let mut warm = Vec::new();
    for i in 0..STARTS {
        let fresh_cache = tempfile::tempdir()?;
        let started = Instant::now();
        let (elapsed, client) = start(plugins.path(), fresh_cache.path(), &emulator).await?;
        cold.push(elapsed);
        // Cranelift's code is compiled in the background and stored: time until all of it is.
        wait_for_entries(fresh_cache.path(), plugin_count).await?;
        optimized.push(started.elapsed());
        client.cancel().await?;
        if i == 0 {
            // Fill the shared cache once.
            let (_, client) = start(plugins.path(), cache.path(), &emulator).await?;
            wait_for_entries(cache.path(), plugin_count).await?;
            client.cancel().await?;
        }
        let (elapsed, client) = start(plugins.path(), cache.path(), &emulator).await?;
        client.cancel().await?;
        warm.push(elapsed);
    }
    println!("\nstart-up to first tools/list answer (median of {STARTS}):");
    println!("  cold cache (Winch compiles):   {:>8.1} ms", ms(median(&mut cold)));
    println!(
        "    then Cranelift in the background until every plugin runs optimised code: {:.1} ms",
        ms(median(&mut optimized))
    );
    println!("  warm cache:                    {:>8.1} ms   (target: <= 30 ms)", ms(median(&mut warm)));
    println!("  cold / warm:                   {:>8.1}x", ms(median(&mut cold)) / ms(median(&mut warm)));
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

    // Hot reload latency.
    let (mut new, mut seen, bytes) = reload_latency(plugins.path(), cache.path(), &emulator).await?;
    println!(
        "\nhot reload: a {} KiB plugin file written -> tools/list_changed at the client ({RELOADS} reloads each):",
        bytes / 1024
    );
    println!(
        "  new bytes (Winch compiles):    median {:>6.1} ms   max {:>6.1} ms   (target: <= 250 ms)",
        ms(median(&mut new)),
        ms(*new.iter().max().unwrap())
    );
    println!(
        "  bytes seen before (stored):    median {:>6.1} ms   max {:>6.1} ms",
        ms(median(&mut seen)),
        ms(*seen.iter().max().unwrap())
    );
    println!(
        "  both include the debounce ({:.0} ms after the file is closed); the difference is compiling with Winch (Cranelift follows in the background)",
        ms(databricks_mcp::reload::SETTLE)
    );
    emulator.shutdown().await;
    Ok(())
}

/// Counts `tools/list_changed` notifications.
#[derive(Clone)]
struct Changes(std::sync::Arc<tokio::sync::watch::Sender<u64>>);

impl rmcp::ClientHandler for Changes {
    async fn on_tool_list_changed(&self, _context: rmcp::service::NotificationContext<RoleClient>) {
        self.0.send_modify(|n| *n += 1);
    }
}

/// Rewrite `clusters.wasm` with a different digest each time (a custom section appended) and
/// time each write to the client's `tools/list_changed`: first with bytes never seen (compiled),
/// then the same variants again (found in the compiled-plugin cache).
async fn reload_latency(
    plugins: &Path,
    cache: &Path,
    emulator: &Emulator,
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>, usize)> {
    let dir = tempfile::tempdir()?;
    for entry in std::fs::read_dir(plugins)? {
        let path = entry?.path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap()))?;
    }
    let original = std::fs::read(dir.path().join("clusters.wasm"))?;
    let changes = Changes(std::sync::Arc::new(tokio::sync::watch::Sender::new(0)));
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_databricks-mcp")).configure(|c| {
        c.args(["serve", "--plugin-dir"])
            .arg(dir.path())
            .env("DATABRICKS_HOST", emulator.url())
            .env("DATABRICKS_TOKEN", DEMO_TOKEN)
            .env("XDG_CACHE_HOME", cache)
            .env("DATABRICKS_MCP_LOG", "warn");
    });
    let (transport, _) = TokioChildProcess::builder(command).stderr(std::process::Stdio::null()).spawn()?;
    let client = changes.clone().serve(transport).await?;
    client.list_all_tools().await?;
    let mut rx = changes.0.subscribe();
    let mut times = Vec::new();
    let stored_before = entries(cache);
    for (pass, n) in std::iter::repeat_n(0, RELOADS as usize)
        .chain(std::iter::repeat_n(1, RELOADS as usize))
        .zip((1..=RELOADS).cycle())
    {
        let mut wasm = original.clone();
        let name = b"bench";
        wasm.extend_from_slice(&[0, (1 + name.len() + 4) as u8, name.len() as u8]);
        wasm.extend_from_slice(name);
        wasm.extend_from_slice(&n.to_le_bytes());
        let seen = *rx.borrow_and_update();
        let started = Instant::now();
        std::fs::write(dir.path().join("clusters.wasm"), &wasm)?;
        tokio::time::timeout(Duration::from_secs(30), rx.wait_for(|&c| c > seen)).await??;
        times.push(started.elapsed());
        if pass == 0 {
            // Each reload on an idle server: wait for Cranelift's code to replace Winch's (it
            // is stored), which also makes the second pass find every variant stored.
            wait_for_entries(cache, stored_before + n as usize).await?;
        }
        // Let the directory settle so each reload is measured on its own.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    client.cancel().await?;
    let seen = times.split_off(RELOADS as usize);
    Ok((times, seen, original.len()))
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

/// Compiled plugins in the store under the `XDG_CACHE_HOME` `cache`.
fn entries(cache: &Path) -> usize {
    std::fs::read_dir(cache.join("databricks-mcp"))
        .into_iter()
        .flatten()
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "cwasm")))
        .count()
}

async fn wait_for_entries(cache: &Path, count: usize) -> anyhow::Result<()> {
    tokio::time::timeout(Duration::from_secs(120), async {
        while entries(cache) < count {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .map_err(|_| anyhow::anyhow!("Cranelift's code was not stored within 2 minutes"))
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
