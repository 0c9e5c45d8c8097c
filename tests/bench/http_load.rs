//! `just bench` (second part): many MCP clients at once over streamable HTTP.
//!
//! 64 clients each call `get_cluster` in a loop against `serve --http` on loopback, whose
//! workspace is the emulator in this process, in four phases: two kinds of client, each speaking
//! both protocol generations.
//! - `legacy`, `current`: rmcp's own clients, in a legacy session (the `initialize` handshake, as
//!   most clients use today; every response is an SSE stream) or with the current revision
//!   (`server/discover`, stateless; a call that sends no progress is answered with plain JSON).
//! - `wire-legacy`, `wire`: a lean load generator, as `wrk` would be. Each client writes a
//!   prepared HTTP/1.1 POST on its own kept-alive TCP connection and reads the answer (by
//!   `content-length` or chunk by chunk), checking the status and the cluster id in it. An rmcp
//!   client costs about as much CPU per call as the server does, and on two shared cores the
//!   clients' CPU is taken from the server: these phases show what the server gives when its
//!   clients cost little, as they do when they run on other machines.
//!
//! Prints throughput, latency percentiles, the host's CPU time per call (and this process's: the
//! clients' and the emulator's) and the host's resident memory sampled every second, so a leak
//! shows as growth between the first and the last sample. Nothing is asserted.
//!
//! `HTTP_BENCH_SECONDS` sets the length of each phase (default 20; the issue's memory check is
//! 300), `HTTP_BENCH_CLIENTS` the number of clients (default 64), `HTTP_BENCH_PHASES` which phases
//! run (`legacy,current,wire-legacy,wire` by default).

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
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

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

    let phases = std::env::var("HTTP_BENCH_PHASES").unwrap_or_else(|_| "legacy,current,wire-legacy,wire".into());
    for phase in phases.split(',') {
        let (label, kind) = match phase.trim() {
            "legacy" => (
                "rmcp clients, legacy sessions (initialize; SSE responses)",
                Kind::Rmcp(ClientLifecycleMode::Initialize),
            ),
            "current" => (
                "rmcp clients, current revision (server/discover; stateless, JSON responses)",
                Kind::Rmcp(ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] }),
            ),
            "wire-legacy" => (
                "lean generator, legacy sessions (prepared POSTs on kept-alive connections; SSE responses)",
                Kind::Wire(Generation::Legacy),
            ),
            "wire" => (
                "lean generator, current revision (prepared stateless POSTs on kept-alive connections)",
                Kind::Wire(Generation::Current),
            ),
            other => anyhow::bail!("unknown phase {other:?}: expected legacy, current, wire-legacy or wire"),
        };
        println!("- {label}");
        let mut clients_of_phase = Vec::new();
        for _ in 0..clients {
            clients_of_phase.push(Arc::new(match &kind {
                Kind::Rmcp(lifecycle) => {
                    // rmcp's default HTTP client keeps no idle connection (a new TCP connection per
                    // POST). Clients in the field (Node's fetch, Python's httpx) keep theirs alive:
                    // so does each of these, with a pool of its own as a separate process would have.
                    let config = StreamableHttpClientTransportConfig::with_uri(url.clone());
                    let transport = StreamableHttpClientTransport::with_client(reqwest::Client::new(), config);
                    Driver::Rmcp(().serve_with_lifecycle(transport, lifecycle.clone()).await?)
                }
                Kind::Wire(generation) => {
                    Driver::Wire(tokio::sync::Mutex::new(Wire::connect(&url, *generation).await?))
                }
            }));
        }
        run_phase(clients_of_phase, pid, seconds).await?;
    }
    host.kill().await?;
    Ok(())
}

/// Who drives a phase.
enum Kind {
    Rmcp(ClientLifecycleMode),
    Wire(Generation),
}

/// Which protocol generation the lean generator speaks.
#[derive(Clone, Copy)]
enum Generation {
    /// `initialize`, then calls in the session it opened.
    Legacy,
    /// Stateless requests carrying the protocol version in `_meta`.
    Current,
}

/// A client of one phase.
enum Driver {
    Rmcp(rmcp::service::RunningService<rmcp::RoleClient, ()>),
    Wire(tokio::sync::Mutex<Wire>),
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
            Self::Wire(wire) => wire.lock().await.call().await?,
        }
        Ok(())
    }
}

const CLUSTER: &str = "0101-000000-shared01";

/// One raw HTTP/1.1 connection of the lean generator, with the call it sends prepared.
struct Wire {
    stream: tokio::net::TcpStream,
    call: Vec<u8>,
    buffer: Vec<u8>,
}

impl Wire {
    /// Connect; for a legacy session, open it (`initialize`, `notifications/initialized`) on
    /// the same connection.
    async fn connect(url: &str, generation: Generation) -> anyhow::Result<Self> {
        let rest = url.strip_prefix("http://").ok_or_else(|| anyhow::anyhow!("not an http URL: {url}"))?;
        let (authority, path) = rest.split_once('/').map_or((rest, "/"), |(a, _)| (a, &rest[a.len()..]));
        let stream = tokio::net::TcpStream::connect(authority).await?;
        stream.set_nodelay(true)?;
        let post = |headers: &str, body: &str| {
            format!(
                "POST {path} HTTP/1.1\r\nhost: {authority}\r\naccept: application/json, text/event-stream\r\ncontent-type: application/json\r\n{headers}content-length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        };
        let mut wire = Self { stream, call: Vec::new(), buffer: Vec::with_capacity(16 * 1024) };
        wire.call = match generation {
            Generation::Current => post(
                "mcp-protocol-version: 2026-07-28\r\nmcp-method: tools/call\r\nmcp-name: get_cluster\r\n",
                WIRE_CALL,
            ),
            Generation::Legacy => {
                let (head, _) = wire.exchange(&post("", LEGACY_INITIALIZE)).await?;
                let session =
                    header(&head, "mcp-session-id").ok_or_else(|| anyhow::anyhow!("no session id: {head}"))?;
                let session = format!("mcp-session-id: {session}\r\nmcp-protocol-version: 2025-11-25\r\n");
                wire.exchange(&post(&session, r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)).await?;
                post(&session, LEGACY_CALL)
            }
        };
        Ok(wire)
    }

    /// Send the call and read one whole response; fail unless it carries the cluster.
    async fn call(&mut self) -> anyhow::Result<()> {
        let call = std::mem::take(&mut self.call);
        let result = self.exchange(&call).await;
        self.call = call;
        let (_, body) = result?;
        let expected = format!("\"cluster_id\":\"{CLUSTER}\"");
        let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
        anyhow::ensure!(
            has(expected.as_bytes()) && !has(b"\"isError\":true"),
            "get_cluster failed: {}",
            String::from_utf8_lossy(&body)
        );
        Ok(())
    }

    /// Write `request` and read the response: its head (lower-cased) and its body, read by
    /// `content-length` or chunk by chunk (as the server streams JSON and SSE answers). A
    /// status other than 200 or 202 is an error.
    async fn exchange(&mut self, request: &[u8]) -> anyhow::Result<(String, Vec<u8>)> {
        self.stream.write_all(request).await?;
        self.buffer.clear();
        let head_end = loop {
            if let Some(at) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buffer[..head_end])?.to_ascii_lowercase();
        anyhow::ensure!(
            head.starts_with("http/1.1 200") || head.starts_with("http/1.1 202"),
            "{}",
            head.lines().next().unwrap_or_default()
        );
        let mut body = Vec::new();
        if let Some(length) = header(&head, "content-length") {
            let length: usize = length.parse()?;
            while self.buffer.len() < head_end + length {
                self.fill().await?;
            }
            body.extend_from_slice(&self.buffer[head_end..head_end + length]);
        } else {
            anyhow::ensure!(header(&head, "transfer-encoding") == Some("chunked"), "a response of unknown length");
            let mut at = head_end;
            loop {
                let Some(line) = self.buffer[at..].windows(2).position(|w| w == b"\r\n") else {
                    self.fill().await?;
                    continue;
                };
                let size = usize::from_str_radix(std::str::from_utf8(&self.buffer[at..at + line])?.trim(), 16)?;
                let data = at + line + 2;
                while self.buffer.len() < data + size + 2 {
                    self.fill().await?;
                }
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&self.buffer[data..data + size]);
                at = data + size + 2;
            }
        }
        Ok((head, body))
    }

    async fn fill(&mut self) -> anyhow::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "the server closed the connection");
        self.buffer.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

/// The value of header `name` (lower case) in a lower-cased response head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| l.split_once(':').filter(|(k, _)| *k == name).map(|(_, v)| v.trim()))
}

/// The `initialize` request of a legacy session.
const LEGACY_INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"http-load","version":"0"}}}"#;

/// One `tools/call` in a legacy session.
const LEGACY_CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_cluster","arguments":{"cluster_id":"0101-000000-shared01"}}}"#;

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
    let own_cpu_before = cpu_seconds(std::process::id()).unwrap_or(0.0);
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
    let own_cpu = cpu_seconds(std::process::id()).unwrap_or(0.0) - own_cpu_before;
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
        "  the clients and the emulator (this process): {:.1} s of CPU, {:.0} µs per call; the machine's cores were {:.0}% busy with both",
        own_cpu,
        own_cpu * 1e6 / latencies.len().max(1) as f64,
        (host_cpu + own_cpu) * 100.0
            / (elapsed.as_secs_f64() * std::thread::available_parallelism().map_or(1, |n| n.get()) as f64)
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
