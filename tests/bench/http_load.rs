//! `just bench` (second part): many MCP clients at once over streamable HTTP.
//!
//! 64 rmcp clients each call `get_cluster` in a loop against `serve --http` on loopback, whose
//! workspace is the emulator in this process; twice, once per protocol generation:
//! - legacy sessions (the `initialize` handshake, as most clients use today): every response is
//!   an SSE stream;
//! - the current revision (`server/discover`, stateless): a call that sends no progress is
//!   answered with plain JSON;
//! - and the same stateless requests from a lean load generator (`wire`): each client POSTs a
//!   prepared JSON-RPC body on a kept-alive connection and checks the answer, as `wrk` would. An
//!   rmcp client costs about as much CPU per call as the server does; on two shared cores this
//!   phase shows what the server gives when its clients cost little.
//!
//! Prints throughput, latency percentiles, the host's CPU time per call and its resident memory
//! sampled every second, so a leak shows as growth between the first and the last sample.
//! Nothing is asserted.
//!
//! `HTTP_BENCH_SECONDS` sets the length of each phase (default 20; the issue's memory check is
//! 300), `HTTP_BENCH_CLIENTS` the number of clients (default 64), `HTTP_BENCH_PHASES` which phases
//! run (`legacy,current,wire` by default).

#![allow(clippy::unwrap_used, reason = "a benchmark that cannot measure should stop")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use databricks_emulator::{DEMO_TOKEN, Emulator, EmulatorConfig};
use rmcp::model::CallToolRequestParams;
use rmcp::model::ProtocolVersion;
use rmcp::service::{ClientLifecycleMode, ClientServiceExt as _};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::json;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let seconds: u64 = std::env::var("HTTP_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let clients: usize = std::env::var("HTTP_BENCH_CLIENTS").ok().and_then(|s| s.parse().ok()).unwrap_or(64);
    let emulator = Emulator::start(EmulatorConfig::default()).await?;
    let dir = tempfile::tempdir()?;
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins)?;
    let wasm = test_plugins::wasm("clusters");
    std::fs::copy(&wasm, plugins.join(wasm.file_name().unwrap()))?;
    let log = dir.path().join("host.log");

    let mut host = tokio::process::Command::new(env!("CARGO_BIN_EXE_databricks-mcp"))
        .args(["serve", "--http", "127.0.0.1:0", "--no-watch", "--config", "/dev/null", "--plugin-dir"])
        .arg(&plugins)
        .env("DATABRICKS_HOST", emulator.url())
        .env("DATABRICKS_TOKEN", DEMO_TOKEN)
        .env("DATABRICKS_MCP_LOG", "warn,databricks_mcp::http=info")
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .stderr(std::fs::File::create(&log)?)
        .kill_on_drop(true)
        .spawn()?;
    let pid = host.id().unwrap();
    let url = wait_for_url(&log).await?;
    println!(
        "HTTP load: {clients} clients calling get_cluster for {seconds} s over streamable HTTP ({} cores, emulator in the bench process)",
        std::thread::available_parallelism()?
    );

    let phases = std::env::var("HTTP_BENCH_PHASES").unwrap_or_else(|_| "legacy,current,wire".into());
    for phase in phases.split(',') {
        let (label, lifecycle) = match phase.trim() {
            "legacy" => ("legacy sessions (initialize; SSE responses)", Some(ClientLifecycleMode::Initialize)),
            "current" => (
                "current revision (server/discover; stateless, JSON responses)",
                Some(ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] }),
            ),
            "wire" => ("current revision from a lean load generator (prepared POSTs, kept-alive connections)", None),
            other => anyhow::bail!("unknown phase {other:?}: expected legacy, current or wire"),
        };
        println!("- {label}");
        let mut clients_of_phase = Vec::new();
        for _ in 0..clients {
            clients_of_phase.push(Arc::new(match &lifecycle {
                Some(lifecycle) => {
                    // rmcp's default HTTP client keeps no idle connection (a new TCP connection per
                    // POST). Clients in the field (Node's fetch, Python's httpx) keep theirs alive:
                    // so does each of these, with a pool of its own as a separate process would have.
                    let config = StreamableHttpClientTransportConfig::with_uri(url.clone());
                    let transport = StreamableHttpClientTransport::with_client(reqwest::Client::new(), config);
                    Driver::Rmcp(().serve_with_lifecycle(transport, lifecycle.clone()).await?)
                }
                None => Driver::Wire(reqwest::Client::new(), url.clone()),
            }));
        }
        run_phase(clients_of_phase, pid, seconds).await?;
    }
    host.kill().await?;
    Ok(())
}

/// A client of one phase.
enum Driver {
    Rmcp(rmcp::service::RunningService<rmcp::RoleClient, ()>),
    Wire(reqwest::Client, String),
}

impl Driver {
    async fn call(&self) -> anyhow::Result<()> {
        match self {
            Self::Rmcp(session) => {
                let params = CallToolRequestParams::new("get_cluster")
                    .with_arguments(json!({"cluster_id": CLUSTER}).as_object().unwrap().clone());
                let result = session.call_tool(params).await?;
                anyhow::ensure!(result.is_error != Some(true), "get_cluster failed: {result:?}");
            }
            Self::Wire(client, url) => {
                let response = client
                    .post(url)
                    .header("accept", "application/json, text/event-stream")
                    .header("content-type", "application/json")
                    .header("mcp-protocol-version", "2026-07-28")
                    .header("mcp-method", "tools/call")
                    .header("mcp-name", "get_cluster")
                    .body(WIRE_CALL)
                    .send()
                    .await?;
                anyhow::ensure!(response.status().is_success(), "HTTP {}", response.status());
                let body: serde_json::Value = serde_json::from_slice(&response.bytes().await?)?;
                anyhow::ensure!(
                    body["result"]["structuredContent"]["cluster_id"] == CLUSTER,
                    "get_cluster failed: {body}"
                );
            }
        }
        Ok(())
    }
}

const CLUSTER: &str = "0101-000000-shared01";

/// One stateless `tools/call` of the current revision, as a client would send it.
const WIRE_CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_cluster","arguments":{"cluster_id":"0101-000000-shared01"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"http-load","version":"0"},"io.modelcontextprotocol/clientCapabilities":{}}}}"#;

/// One phase: each client calling `get_cluster` in a loop for `seconds`.
async fn run_phase(sessions: Vec<Arc<Driver>>, pid: u32, seconds: u64) -> anyhow::Result<()> {
    // Warm-up: every session makes a few calls before the clock starts.
    for session in &sessions {
        for _ in 0..3 {
            session.call().await?;
        }
    }

    let memory = tokio::spawn(async move {
        let mut samples = Vec::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(seconds) {
            samples.push(rss_kib(pid).unwrap_or(0));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        samples
    });
    let cpu_before = cpu_seconds(pid).unwrap_or(0.0);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for session in &sessions {
        let session = session.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let at = Instant::now();
                match session.call().await {
                    Ok(()) => latencies.push(at.elapsed()),
                    Err(_) => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (l, e) = worker.await?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    let host_cpu = cpu_seconds(pid).unwrap_or(0.0) - cpu_before;
    let samples = memory.await?;
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "  {} calls in {:.1} s: {:.0} calls/s; {errors} errors",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64()
    );
    // The clients and the emulator share the machine with the host: its own CPU time per call
    // says what the host costs, whatever the throughput on a busy machine.
    println!(
        "  host CPU: {:.1} s in all, {:.0} µs per call ({:.0} calls/s per core)",
        host_cpu,
        host_cpu * 1e6 / latencies.len().max(1) as f64,
        latencies.len() as f64 / host_cpu.max(1e-9)
    );
    println!(
        "  latency: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms (targets: 5,000 calls/s, p99 < 20 ms)",
        ms(pct(0.50)),
        ms(pct(0.90)),
        ms(pct(0.99)),
        ms(*latencies.last().unwrap())
    );
    let mib = |kib: u64| kib as f64 / 1024.0;
    if !samples.is_empty() {
        // A quarter of the way through onwards: after the warm-up, a leak shows as growth.
        let at = |fraction: f64| mib(samples[((samples.len() - 1) as f64 * fraction) as usize]);
        println!(
            "  host memory (RSS): {:.1} MiB at the start, then {:.1} / {:.1} / {:.1} MiB at 1/4, 1/2, 3/4, {:.1} MiB at the end; {:.1} MiB at most",
            at(0.0),
            at(0.25),
            at(0.5),
            at(0.75),
            at(1.0),
            mib(samples.iter().copied().max().unwrap_or(0)),
        );
    }
    drop(sessions);
    Ok(())
}

async fn wait_for_url(log: &std::path::Path) -> anyhow::Result<String> {
    for _ in 0..600 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(at) = text.find("listening on http://") {
            let url = text[at + "listening on ".len()..].split_whitespace().next().unwrap_or_default();
            return Ok(url.to_string());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the host did not start listening; see {}", log.display())
}

/// User plus system CPU time of a process, from `/proc/PID/stat` (in clock ticks of 1/100 s, as
/// on Linux everywhere).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.split_whitespace().next()?.parse().ok()
}
