//! MCP over streamable HTTP (`serve --http`): the binary listens on loopback, rmcp's HTTP
//! client (and raw HTTP where the wire itself is the point) talks to it, against the emulator.
//! Per-user identity, inbound authentication, Host and Origin checks, health, readiness and
//! graceful shutdown.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use databricks_emulator::{ALICE_TOKEN, DEMO_TOKEN, Emulator, EmulatorConfig};
use reqwest::header::{HeaderName, HeaderValue};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientRequest, ProtocolVersion, Request, ServerNotification,
    SubscriptionFilter,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt as _, PeerRequestOptions, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt as _};
use serde_json::{Value, json};

use crate::support::{Recorder, cache_home, text_of, within};

/// A static bearer token for `auth = "tokens"` tests.
const TEAM_TOKEN: &str = "team-token-0123456789abcdef0123456789";

/// How to start an HTTP host.
struct Setup {
    plugins: Vec<&'static str>,
    env: Vec<(String, String)>,
    emulator: EmulatorConfig,
}

impl Setup {
    fn new(plugins: &[&'static str]) -> Self {
        Self { plugins: plugins.to_vec(), env: Vec::new(), emulator: EmulatorConfig::default() }
    }

    fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    fn transition_delay(mut self, delay: Duration) -> Self {
        self.emulator.transition_delay = delay;
        self
    }

    async fn start(self) -> Host {
        // reqwest (the test's HTTP client and rmcp's) is built without a default TLS provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let emulator = Emulator::start(self.emulator).await.expect("emulator starts");
        let dir = tempfile::tempdir().unwrap();
        let plugin_dir = dir.path().join("plugins");
        std::fs::create_dir(&plugin_dir).unwrap();
        for package in &self.plugins {
            let wasm = test_plugins::wasm(package);
            std::fs::copy(&wasm, plugin_dir.join(wasm.file_name().unwrap())).unwrap();
        }
        let config = dir.path().join("config.toml");
        std::fs::write(&config, "").unwrap();
        let log_file = dir.path().join("host.log");
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_databricks-mcp"))
            .args(["serve", "--http", "127.0.0.1:0", "--plugin-dir"])
            .arg(&plugin_dir)
            .arg("--config")
            .arg(&config)
            .env("DATABRICKS_HOST", emulator.url())
            .env("DATABRICKS_TOKEN", DEMO_TOKEN)
            .env("DATABRICKS_MCP_LOG", "debug,rmcp=info,wasmtime=warn,cranelift=warn")
            .env("XDG_CACHE_HOME", cache_home())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_file).unwrap())
            .kill_on_drop(true)
            .spawn()
            .expect("host starts");
        let mut host = Host { emulator, child, base: String::new(), log_file, plugin_dir, _dir: dir };
        let line = host.wait_log(&["listening on http://"]).await;
        let start = line.find("http://").unwrap();
        host.base = line[start..].split_whitespace().next().unwrap().trim_end_matches("/mcp").to_string();
        host
    }
}

/// A host serving HTTP, with its emulator.
struct Host {
    emulator: Emulator,
    child: tokio::process::Child,
    /// `http://127.0.0.1:PORT`
    base: String,
    log_file: PathBuf,
    plugin_dir: PathBuf,
    _dir: tempfile::TempDir,
}

type Client = RunningService<RoleClient, Recorder>;

impl Host {
    fn mcp_url(&self) -> String {
        format!("{}/mcp", self.base)
    }

    /// An MCP client over HTTP, sending `bearer` as `Authorization` and `headers` besides.
    async fn client_with(&self, bearer: Option<&str>, headers: &[(&'static str, &str)]) -> Client {
        let mut config = StreamableHttpClientTransportConfig::with_uri(self.mcp_url());
        if let Some(token) = bearer {
            config = config.auth_header(token);
        }
        let headers: HashMap<HeaderName, HeaderValue> = headers
            .iter()
            .map(|(name, value)| (HeaderName::from_static(name), HeaderValue::from_str(value).unwrap()))
            .collect();
        let transport = StreamableHttpClientTransport::from_config(config.custom_headers(headers));
        within(Duration::from_secs(30), "MCP initialize over HTTP", Recorder::default().serve(transport))
            .await
            .expect("MCP session over HTTP")
    }

    async fn client(&self) -> Client {
        self.client_with(None, &[]).await
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    async fn wait_log(&self, needles: &[&str]) -> String {
        let find = || self.log().lines().find(|l| needles.iter().all(|n| l.contains(n))).map(str::to_string);
        within(Duration::from_secs(60), &format!("a host log line with {needles:?}"), async {
            loop {
                if let Some(line) = find() {
                    return line;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
    }

    /// A raw POST of one JSON-RPC message to `/mcp` with `headers`; (status, body).
    async fn post(&self, body: &str, headers: &[(&str, &str)]) -> (u16, String) {
        let mut sent = reqwest::header::HeaderMap::new();
        sent.insert("accept", HeaderValue::from_static("application/json, text/event-stream"));
        sent.insert("content-type", HeaderValue::from_static("application/json"));
        for (name, value) in headers {
            sent.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
        }
        let request = reqwest::Client::new().post(self.mcp_url()).headers(sent).body(body.to_string());
        let response = within(Duration::from_secs(20), "POST /mcp", request.send()).await.expect("HTTP answer");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// A request of the current, stateless revision (no session): its `_meta` and headers.
    async fn post_stateless(&self, id: u64, method: &str, mut params: Value) -> (u16, String, String) {
        params["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("2026-07-28");
        params["_meta"]["io.modelcontextprotocol/clientInfo"] = json!({"name": "raw", "version": "0"});
        params["_meta"]["io.modelcontextprotocol/clientCapabilities"] = json!({});
        let name = params["name"].as_str().unwrap_or_default().to_string();
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let request = reqwest::Client::new()
            .post(self.mcp_url())
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", method)
            .header("mcp-name", name)
            .body(body.to_string());
        let response = within(Duration::from_secs(30), method, request.send()).await.expect("HTTP answer");
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        (status, content_type, response.text().await.unwrap_or_default())
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let response = within(Duration::from_secs(20), path, reqwest::get(format!("{}{path}", self.base)))
            .await
            .expect("HTTP answer");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#;

async fn call(client: &Client, name: &str, arguments: Value) -> CallToolResult {
    let Value::Object(arguments) = arguments else { panic!("arguments must be an object") };
    let params = CallToolRequestParams::new(name.to_string()).with_arguments(arguments);
    within(Duration::from_secs(60), &format!("tools/call {name}"), client.call_tool(params))
        .await
        .unwrap_or_else(|e| panic!("tools/call {name} failed at the protocol level: {e}"))
}

async fn ok(client: &Client, name: &str, arguments: Value) -> Value {
    let result = call(client, name, arguments).await;
    assert_ne!(result.is_error, Some(true), "{name} failed: {}", text_of(&result));
    result.structured_content.unwrap_or(Value::Null)
}

fn cluster_ids(listing: &Value) -> BTreeSet<String> {
    listing["clusters"].as_array().unwrap().iter().map(|c| c["cluster_id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn lists_and_calls_tools_over_http_with_health_and_readiness() {
    let host = Setup::new(&["clusters"]).start().await;
    let client = host.client().await;
    let tools = within(Duration::from_secs(20), "tools/list", client.list_all_tools()).await.unwrap();
    assert_eq!(tools.len(), 15);
    let listing = ok(&client, "list_clusters", json!({"limit": 2})).await;
    assert_eq!(listing["clusters"].as_array().unwrap().len(), 2, "{listing}");

    assert_eq!(host.get("/healthz").await, (200, Value::String("ok\n".into())));
    let (status, ready) = host.get("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(
        (ready["plugins"].clone(), ready["tools"].clone(), ready["workspace"].clone()),
        (json!(1), json!(15), json!("reachable"))
    );
}

#[tokio::test]
async fn progress_and_cancellation_work_over_http() {
    let host = Setup::new(&["clusters", "jobs"]).transition_delay(Duration::from_millis(1500)).start().await;
    let client = host.client().await;
    let created = ok(
        &client,
        "create_cluster",
        json!({"cluster_name": "over-http", "spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}),
    )
    .await;
    let id = created["cluster_id"].as_str().unwrap();
    let waited = ok(&client, "wait_for_cluster", json!({"cluster_id": id})).await;
    assert_eq!(waited["state"], "RUNNING");
    let progress = client.service().progress.lock().unwrap().clone();
    assert!(progress.iter().any(|p| p.message.as_deref().is_some_and(|m| m.contains("PENDING"))), "{progress:?}");

    // Cancelling a call over HTTP stops it, and its compensation (cancelling the run) is sent.
    host.emulator.set_transition_delay(Duration::from_secs(60));
    let params = CallToolRequestParams::new("run_notebook").with_arguments(
        json!({"notebook_path": "/Shared/slow", "existing_cluster_id": "0101-000000-shared01"})
            .as_object()
            .unwrap()
            .clone(),
    );
    let handle = client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(params)),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    let requests_to = |path: &str| host.emulator.requests().into_iter().filter(|r| r.path == path).count();
    within(Duration::from_secs(20), "the run to be submitted", async {
        while requests_to("/api/2.2/jobs/runs/get") == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    handle.cancel(Some("test".into())).await.unwrap();
    within(Duration::from_secs(10), "the compensation request", async {
        while requests_to("/api/2.2/jobs/runs/cancel") == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    host.wait_log(&["call cancelled", "run_notebook"]).await;
}

#[tokio::test]
async fn http_clients_are_told_when_the_tool_list_changes() {
    let host = Setup::new(&["clusters"]).start().await;
    let client = host.client().await;
    let other = host.client().await;
    for c in [&client, &other] {
        within(Duration::from_secs(20), "tools/list", c.list_all_tools()).await.unwrap();
    }
    std::fs::copy(test_plugins::wasm("secrets"), host.plugin_dir.join("secrets.wasm")).unwrap();
    for c in [&client, &other] {
        let mut seen = c.service().list_changed.subscribe();
        within(Duration::from_secs(30), "tools/list_changed over HTTP", seen.wait_for(|&n| n > 0)).await.unwrap();
    }
    let tools = within(Duration::from_secs(20), "tools/list", client.list_all_tools()).await.unwrap();
    assert_eq!(tools.len(), 15 + 9);
}

#[tokio::test]
async fn the_stateless_revision_lists_calls_and_listens_for_changes() {
    let host = Setup::new(&["clusters"]).env("DATABRICKS_MCP_HTTP_AUTH", "per-user").start().await;
    let config = StreamableHttpClientTransportConfig::with_uri(host.mcp_url()).auth_header(ALICE_TOKEN);
    let lifecycle = ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
    let client = within(
        Duration::from_secs(30),
        "server/discover over HTTP",
        Recorder::default().serve_with_lifecycle(StreamableHttpClientTransport::from_config(config), lifecycle),
    )
    .await
    .expect("a stateless MCP client");
    assert_eq!(client.peer_info().unwrap().protocol_version, ProtocolVersion::V_2026_07_28);
    let tools = within(Duration::from_secs(20), "tools/list", client.list_all_tools()).await.unwrap();
    assert_eq!(tools.len(), 15);
    let listing = ok(&client, "list_clusters", json!({})).await;
    assert_eq!(cluster_ids(&listing).len(), 3, "alice's own view: {listing}");

    let filter = SubscriptionFilter::builder().tools_list_changed().build();
    let mut subscription = within(Duration::from_secs(20), "subscriptions/listen", client.peer().listen(filter))
        .await
        .expect("the server accepts a tools/list_changed subscription");
    std::fs::copy(test_plugins::wasm("secrets"), host.plugin_dir.join("secrets.wasm")).unwrap();
    let notification =
        within(Duration::from_secs(30), "tools/list_changed through the subscription", subscription.next())
            .await
            .unwrap();
    assert!(matches!(notification, Some(ServerNotification::ToolListChangedNotification(_))), "{notification:?}");
}

#[tokio::test]
async fn two_users_calling_at_once_each_see_only_their_own_data() {
    // The environment holds an admin token and a service principal, as a Databricks App's does:
    // per-user mode must use neither.
    let host = Setup::new(&["clusters"])
        .env("DATABRICKS_MCP_HTTP_AUTH", "per-user")
        .env("DATABRICKS_CLIENT_ID", "app-service-principal")
        .env("DATABRICKS_CLIENT_SECRET", "app-secret-never-used")
        .start()
        .await;
    host.wait_log(&["per-user mode", "DATABRICKS_TOKEN", "DATABRICKS_CLIENT_SECRET", "not used"]).await;
    // The admin sends a bearer token; alice comes through the Databricks Apps proxy's header.
    let admin = host.client_with(Some(DEMO_TOKEN), &[]).await;
    let alice = host.client_with(None, &[("x-forwarded-access-token", ALICE_TOKEN)]).await;

    let rounds = 10;
    let mut calls = Vec::new();
    for i in 0..rounds * 2 {
        let (who, client) = if i % 2 == 0 { ("admin", &admin) } else { ("alice", &alice) };
        calls.push(async move { (who, ok(client, "list_clusters", json!({})).await) });
    }
    let results =
        within(Duration::from_secs(60), "concurrent calls of two users", futures::future::join_all(calls)).await;
    let alice_sees: BTreeSet<String> =
        ["0101-000000-shared01", "0101-000000-etlnig01", "0101-000000-mlgpu001"].map(String::from).into();
    for (who, listing) in &results {
        let ids = cluster_ids(listing);
        match *who {
            "alice" => assert_eq!(ids, alice_sees, "alice sees only her clusters"),
            _ => assert_eq!(ids.len(), 5, "the admin sees every cluster: {ids:?}"),
        }
    }

    // Each call reached the workspace with its caller's token, and with nothing else.
    let sent: Vec<Option<String>> = host.emulator.requests().into_iter().map(|r| r.authorization).collect();
    let count = |token: &str| sent.iter().filter(|a| a.as_deref() == Some(&format!("Bearer {token}"))).count();
    assert!(count(DEMO_TOKEN) >= rounds && count(ALICE_TOKEN) >= rounds, "{sent:?}");
    assert_eq!(count(DEMO_TOKEN) + count(ALICE_TOKEN), sent.len(), "no request with another credential: {sent:?}");

    // A caller whose own token the workspace refuses is told to sign in again, not to fix a
    // setting of the server; the next caller is unaffected.
    let expired = host.client_with(None, &[("x-forwarded-access-token", "dapi-expired-user-0000")]).await;
    let refused = call(&expired, "list_clusters", json!({})).await;
    assert_eq!(refused.is_error, Some(true));
    let text = crate::support::text_of(&refused);
    assert!(text.contains("refused the credential (HTTP 401)") && text.contains("sign in again"), "{text}");
    assert!(!text.contains("dapi-expired-user-0000"), "{text}");
    assert_eq!(cluster_ids(&ok(&alice, "list_clusters", json!({})).await), alice_sees);

    let log = host.log();
    for secret in [DEMO_TOKEN, ALICE_TOKEN, "app-secret-never-used", "dapi-expired-user-0000"] {
        assert!(!log.contains(secret), "the host log never holds a credential");
    }
}

#[tokio::test]
async fn requests_without_an_accepted_credential_are_refused_with_401() {
    let per_user = Setup::new(&["clusters"]).env("DATABRICKS_MCP_HTTP_AUTH", "per-user").start().await;
    let (status, body) = per_user.post(INITIALIZE, &[]).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("Databricks token"), "the refusal says what to send: {body}");
    let (status, _) = per_user.post(INITIALIZE, &[("authorization", "Basic YWxpY2U6cHc=")]).await;
    assert_eq!(status, 401);

    let tokens = Setup::new(&["clusters"]).env("DATABRICKS_MCP_HTTP_TOKENS", TEAM_TOKEN).start().await;
    let wrong = format!("Bearer {}x", TEAM_TOKEN);
    for headers in [vec![], vec![("authorization", wrong.as_str())]] {
        let (status, body) = tokens.post(INITIALIZE, &headers).await;
        assert_eq!(status, 401, "{headers:?}: {body}");
        assert!(!body.contains(TEAM_TOKEN), "{body}");
    }
    // The right token is let in, and the calls use the host's own workspace credential.
    let client = tokens.client_with(Some(TEAM_TOKEN), &[]).await;
    let listing = ok(&client, "list_clusters", json!({})).await;
    assert_eq!(cluster_ids(&listing).len(), 5);
    assert!(
        tokens.emulator.requests().iter().all(|r| r.authorization.as_deref() == Some(&format!("Bearer {DEMO_TOKEN}")))
    );
    assert!(!tokens.log().contains(TEAM_TOKEN), "the inbound token is never logged");
}

#[tokio::test]
async fn a_foreign_origin_or_host_is_forbidden() {
    let host = Setup::new(&["clusters"]).start().await;
    let (status, body) = host.post(INITIALIZE, &[("origin", "https://evil.example")]).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("Origin"), "{body}");
    // DNS rebinding: a page on evil.example whose name now points at 127.0.0.1.
    let (status, body) =
        host.post(INITIALIZE, &[("host", "evil.example:8080"), ("origin", "http://evil.example:8080")]).await;
    assert_eq!(status, 403, "{body}");
    // A local tool (an MCP inspector on another loopback port) may call.
    let (status, body) = host.post(INITIALIZE, &[("origin", "http://localhost:6274")]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("databricks-mcp"), "{body}");
}

#[tokio::test]
async fn a_stateless_call_is_answered_with_plain_json_unless_it_reports_progress() {
    let host = Setup::new(&["clusters"]).transition_delay(Duration::from_millis(600)).start().await;
    let (status, content_type, text) =
        host.post_stateless(1, "tools/call", json!({"name": "list_clusters", "arguments": {"limit": 2}})).await;
    assert_eq!(status, 200, "{text}");
    assert!(content_type.starts_with("application/json"), "{content_type}: {text}");
    let reply: Value = serde_json::from_str(&text).expect("one JSON-RPC message");
    assert_eq!(reply["id"], 1);
    assert_ne!(reply["result"]["isError"], true, "{reply}");
    assert_eq!(cluster_ids(&reply["result"]["structuredContent"]).len(), 2, "{reply}");

    // A call that reports progress keeps its notifications: the answer is an event stream.
    let cluster = json!({"cluster_id": "0101-000000-etlnig01"});
    let (status, _, text) =
        host.post_stateless(2, "tools/call", json!({"name": "start_cluster", "arguments": cluster})).await;
    assert_eq!(status, 200, "{text}");
    let (status, content_type, text) = host
        .post_stateless(
            3,
            "tools/call",
            json!({"name": "wait_for_cluster", "arguments": cluster, "_meta": {"progressToken": "wait-1"}}),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    assert!(content_type.starts_with("text/event-stream"), "{content_type}: {text}");
    assert!(text.contains("notifications/progress") && text.contains("wait-1"), "{text}");
    assert!(text.contains(r#""id":3"#) && text.contains("RUNNING"), "{text}");
}

#[tokio::test]
async fn malformed_requests_get_clear_errors_and_the_server_keeps_serving() {
    let host = Setup::new(&["clusters"]).start().await;
    for body in ["this is not json", "{\"jsonrpc\":\"2.0\"}", "[]", ""] {
        let (status, text) = host.post(body, &[]).await;
        assert!((400..500).contains(&status), "{body:?} -> {status} {text}");
    }
    let (status, _) = host.post(INITIALIZE, &[("content-type", "text/plain")]).await;
    assert!((400..500).contains(&status));
    let client = host.client().await;
    ok(&client, "list_clusters", json!({"limit": 1})).await;
}

#[tokio::test]
async fn refuses_to_listen_off_loopback_without_authentication() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_databricks-mcp"))
        .args(["serve", "--http", "0.0.0.0:0", "--config", "/dev/null"])
        .env("DATABRICKS_MCP_LOG", "warn")
        .output();
    let output = within(Duration::from_secs(20), "the refusal", output).await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0:0") && stderr.contains("DATABRICKS_MCP_HTTP_AUTH"),
        "{stderr}"
    );
}

#[tokio::test]
async fn readiness_fails_while_the_workspace_does_not_answer() {
    // A port nothing listens on: bind one and let it go.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let host = Setup::new(&["clusters"]).env("DATABRICKS_HOST", &format!("http://{closed}")).start().await;
    let (status, ready) = host.get("/readyz").await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["ready"], false);
    assert!(ready["workspace"].as_str().unwrap().contains("does not answer"), "{ready}");
    assert_eq!(host.get("/healthz").await.0, 200, "the process is still up");
}

#[tokio::test]
async fn sigterm_lets_a_call_in_flight_finish_then_exits() {
    let mut host = Setup::new(&["clusters"]).transition_delay(Duration::from_secs(2)).start().await;
    let client = host.client().await;
    ok(&client, "start_cluster", json!({"cluster_id": "0101-000000-etlnig01"})).await;
    let gets = || host.emulator.requests().iter().filter(|r| r.path == "/api/2.1/clusters/get").count();
    let before = gets();
    let peer = client.peer().clone();
    let waiting = tokio::spawn(async move {
        let params = CallToolRequestParams::new("wait_for_cluster")
            .with_arguments(json!({"cluster_id": "0101-000000-etlnig01"}).as_object().unwrap().clone());
        peer.call_tool(params).await
    });
    within(Duration::from_secs(20), "the wait to poll the cluster", async {
        while gets() == before {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let pid = host.child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    host.wait_log(&["SIGTERM", "shutting down"]).await;

    let Ok(result) = tokio::time::timeout(Duration::from_secs(30), waiting).await else {
        panic!("timed out after 30 s: the call in flight; host log:\n{}", host.log());
    };
    let result = result.unwrap().unwrap();
    assert_ne!(result.is_error, Some(true), "{}", text_of(&result));
    assert_eq!(result.structured_content.unwrap()["state"], "RUNNING");
    let status = within(Duration::from_secs(30), "the host to exit", host.child.wait()).await.unwrap();
    assert!(status.success(), "{status}");
    assert!(host.log().contains("stopped"));
}
