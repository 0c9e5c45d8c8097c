//! The harness: an emulator, a plugin directory, the host under test and an MCP client.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use databricks_emulator::{ALICE_TOKEN, DEMO_TOKEN, Emulator, EmulatorConfig, SP_CLIENT_SECRET, SP_TOKEN};
use rmcp::model::{CallToolRequestParams, CallToolResult, ProgressNotificationParam, Tool};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::{ConfigureCommandExt as _, TokioChildProcess};
use rmcp::{ClientHandler, RoleClient, ServiceExt as _};
use serde_json::Value;

/// Fail with `what` if `future` takes longer than `limit`, so a hang says where it hung.
pub async fn within<T>(limit: Duration, what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out after {limit:?}: {what}"),
    }
}

/// The client side: records the notifications the tests look at.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
    /// How many `notifications/tools/list_changed` arrived.
    pub list_changed: Arc<tokio::sync::watch::Sender<u64>>,
    /// How many `notifications/resources/list_changed` and `notifications/prompts/list_changed`.
    pub resources_changed: Arc<tokio::sync::watch::Sender<u64>>,
    pub prompts_changed: Arc<tokio::sync::watch::Sender<u64>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            progress: Arc::default(),
            list_changed: Arc::new(tokio::sync::watch::Sender::new(0)),
            resources_changed: Arc::new(tokio::sync::watch::Sender::new(0)),
            prompts_changed: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }
}

impl ClientHandler for Recorder {
    async fn on_progress(&self, params: ProgressNotificationParam, _context: NotificationContext<RoleClient>) {
        self.progress.lock().unwrap().push(params);
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.list_changed.send_modify(|n| *n += 1);
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.resources_changed.send_modify(|n| *n += 1);
    }

    async fn on_prompt_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.prompts_changed.send_modify(|n| *n += 1);
    }
}

/// How to start a host.
pub struct Setup {
    plugins: Vec<&'static str>,
    config: String,
    emulator: EmulatorConfig,
    token: Option<String>,
    files: Vec<(&'static str, Vec<u8>)>,
    env: Vec<(String, String)>,
}

impl Setup {
    pub fn new(plugins: &[&'static str]) -> Self {
        Self {
            plugins: plugins.to_vec(),
            config: String::new(),
            emulator: EmulatorConfig::default(),
            token: None,
            files: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Extra TOML for the host's config file.
    pub fn config(mut self, toml: &str) -> Self {
        self.config.push_str(toml);
        self.config.push('\n');
        self
    }

    pub fn transition_delay(mut self, delay: Duration) -> Self {
        self.emulator.transition_delay = delay;
        self
    }

    /// Put a file with these bytes in the plugin directory.
    pub fn file(mut self, name: &'static str, bytes: &[u8]) -> Self {
        self.files.push((name, bytes.to_vec()));
        self
    }

    /// Set an environment variable for the host.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    /// Give the host this token instead of the emulator's.
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_string());
        self
    }

    pub async fn start(self) -> Harness {
        let emulator = Emulator::start(self.emulator).await.expect("emulator starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let plugin_dir = dir.path().join("plugins");
        std::fs::create_dir(&plugin_dir).unwrap();
        for package in &self.plugins {
            let wasm = test_plugins::wasm(package);
            let name = wasm.file_name().unwrap();
            std::fs::copy(&wasm, plugin_dir.join(name)).unwrap_or_else(|e| panic!("copying {}: {e}", wasm.display()));
        }
        for (name, bytes) in &self.files {
            std::fs::write(plugin_dir.join(name), bytes).unwrap();
        }
        let config_file = dir.path().join("config.toml");
        std::fs::write(&config_file, &self.config).unwrap();
        let log_file = dir.path().join("host.log");
        let token = self.token.unwrap_or_else(|| DEMO_TOKEN.to_string());
        let client = start_host(&plugin_dir, &config_file, &log_file, &emulator.url(), &token, &self.env).await;
        Harness { emulator, client, _dir: dir, log_file, plugin_dir, config_file, progress: Default::default() }
            .with_progress()
    }
}

async fn start_host(
    plugin_dir: &Path,
    config: &Path,
    log: &Path,
    host: &str,
    token: &str,
    env: &[(String, String)],
) -> RunningService<RoleClient, Recorder> {
    let log_path = log;
    let log = std::fs::File::create(log).unwrap();
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_databricks-mcp")).configure(|c| {
        c.arg("serve")
            .arg("--plugin-dir")
            .arg(plugin_dir)
            .arg("--config")
            .arg(config)
            .env("DATABRICKS_HOST", host)
            .env("DATABRICKS_TOKEN", token)
            .env("DATABRICKS_MCP_LOG", "debug,rmcp=info,wasmtime=warn,cranelift=warn")
            // One compiled-plugin cache for the whole test run.
            .env("XDG_CACHE_HOME", cache_home())
            .envs(env.iter().map(|(k, v)| (k, v)));
    });
    let (transport, _) = TokioChildProcess::builder(command).stderr(log).spawn().expect("host starts");
    let client = within(Duration::from_secs(60), "MCP initialize", Recorder::default().serve(transport))
        .await
        .expect("MCP session");
    // `serve` checks its workspace credential at start-up (one SCIM `Me` request, in the
    // background): let it finish, so tests that count requests count only their own.
    let checked = async {
        loop {
            let text = std::fs::read_to_string(log_path).unwrap_or_default();
            if text.contains("signed in to the workspace") || text.contains("credential does not work") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(15), checked).await;
    client
}

/// Where every host log of the run is kept with the credentials its test used: after the suite,
/// `just test` searches every log for every credential (`tests/e2e/no_secrets.sh`), so a token
/// one test used cannot turn up in any log, whichever test wrote it.
pub fn secret_scan_dir() -> PathBuf {
    test_plugins::dir().join("../../e2e-logs")
}

/// Keep `log` and the `secrets` its test used for the scan over the whole run.
pub fn keep_for_secret_scan(log: &str, secrets: &[String]) {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = secret_scan_dir();
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let id = format!("{}-{}", std::process::id(), NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let _ = std::fs::write(dir.join(format!("{id}.log")), log);
    let _ = std::fs::write(dir.join(format!("{id}.secrets")), secrets.join("\n") + "\n");
}

/// Every credential the emulators saw (bearer tokens; secrets, codes and refresh tokens in token
/// request bodies), with the fixed secrets of the seed.
pub fn secrets_seen(emulators: &[&Emulator]) -> Vec<String> {
    let mut secrets: Vec<String> =
        [DEMO_TOKEN, ALICE_TOKEN, SP_TOKEN, SP_CLIENT_SECRET].iter().map(|s| s.to_string()).collect();
    for emulator in emulators {
        for request in emulator.requests() {
            if let Some(token) = request.authorization.as_deref().and_then(|a| a.strip_prefix("Bearer ")) {
                secrets.push(token.to_string());
            }
            for pair in request.body.split('&') {
                if let Some((key, value)) = pair.split_once('=')
                    && matches!(key, "refresh_token" | "code" | "code_verifier" | "client_secret")
                {
                    secrets.push(value.to_string());
                }
            }
        }
    }
    secrets.sort();
    secrets.dedup();
    secrets
}

/// The JSON-RPC error of calling `name`, which must not be routed to a plugin.
pub async fn protocol_error(h: &Harness, name: &str) -> String {
    let params = CallToolRequestParams::new(name.to_string()).with_arguments(serde_json::Map::new());
    match within(Duration::from_secs(30), "tools/call", h.client.call_tool(params)).await {
        Ok(result) => panic!("{name} should be an unknown tool, but returned {result:?}"),
        Err(e) => e.to_string(),
    }
}

/// The compiled-plugin cache shared by the whole test run.
pub fn cache_home() -> PathBuf {
    test_plugins::dir().join("../../test-cache")
}

/// A running host with its emulator.
pub struct Harness {
    pub emulator: Emulator,
    pub client: RunningService<RoleClient, Recorder>,
    _dir: tempfile::TempDir,
    pub log_file: PathBuf,
    /// The directory the host loads plugins from (and watches).
    pub plugin_dir: PathBuf,
    /// The host's config file (watched too).
    pub config_file: PathBuf,
    pub progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        keep_for_secret_scan(&self.log(), &secrets_seen(&[&self.emulator]));
    }
}

impl Harness {
    fn with_progress(mut self) -> Self {
        self.progress = self.client.service().progress.clone();
        self
    }

    /// Start a host with `plugins` and default settings.
    pub async fn start(plugins: &[&'static str]) -> Self {
        Setup::new(plugins).start().await
    }

    pub async fn tools(&self) -> Vec<Tool> {
        within(Duration::from_secs(20), "tools/list", self.client.list_all_tools()).await.expect("tools/list")
    }

    /// Call a tool; the JSON-RPC call itself must succeed.
    pub async fn call(&self, name: &str, arguments: Value) -> CallToolResult {
        let Value::Object(arguments) = arguments else { panic!("arguments must be an object") };
        let params = CallToolRequestParams::new(name.to_string()).with_arguments(arguments);
        within(Duration::from_secs(60), &format!("tools/call {name}"), self.client.call_tool(params))
            .await
            .unwrap_or_else(|e| panic!("tools/call {name} failed at the protocol level: {e}"))
    }

    /// Call a tool that must succeed; returns (text, structured).
    pub async fn ok(&self, name: &str, arguments: Value) -> (String, Value) {
        let result = self.call(name, arguments).await;
        let text = text_of(&result);
        assert_ne!(result.is_error, Some(true), "{name} failed: {text}");
        (text, result.structured_content.clone().unwrap_or(Value::Null))
    }

    /// Call a tool that must fail as a tool error; returns its text.
    pub async fn err(&self, name: &str, arguments: Value) -> String {
        let result = self.call(name, arguments).await;
        let text = text_of(&result);
        assert_eq!(result.is_error, Some(true), "{name} should have failed but returned: {text}");
        text
    }

    /// What the host wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    /// How many `tools/list_changed` notifications the client has received so far.
    pub fn list_changed(&self) -> u64 {
        *self.client.service().list_changed.borrow()
    }

    /// Wait for a `tools/list_changed` beyond the first `seen`; returns the new count.
    pub async fn wait_list_changed(&self, seen: u64, what: &str) -> u64 {
        let mut rx = self.client.service().list_changed.subscribe();
        let n =
            within(Duration::from_secs(30), &format!("tools/list_changed after {what}"), rx.wait_for(|&n| n > seen))
                .await
                .unwrap();
        *n
    }

    /// Wait until the host's log has a line containing every one of `needles`; returns it.
    pub async fn wait_log(&self, needles: &[&str]) -> String {
        let find = || self.log().lines().find(|l| needles.iter().all(|n| l.contains(n))).map(str::to_string);
        within(Duration::from_secs(30), &format!("a log line with {needles:?}"), async {
            loop {
                if let Some(line) = find() {
                    return line;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
    }

    /// The names of the tools served, sorted.
    pub async fn tool_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.tools().await.iter().map(|t| t.name.to_string()).collect();
        names.sort();
        names
    }

    /// Send a `tools/call` that the test can cancel (`handle.cancel(...)`) before it answers.
    pub async fn call_cancellable(
        &self,
        name: &str,
        arguments: Value,
    ) -> rmcp::service::RequestHandle<rmcp::RoleClient> {
        let Value::Object(arguments) = arguments else { panic!("arguments must be an object") };
        let params = CallToolRequestParams::new(name.to_string()).with_arguments(arguments);
        self.client
            .send_cancellable_request(
                rmcp::model::ClientRequest::CallToolRequest(rmcp::model::Request::new(params)),
                rmcp::service::PeerRequestOptions::no_options(),
            )
            .await
            .unwrap_or_else(|e| panic!("sending tools/call {name}: {e}"))
    }

    /// Wait until the emulator has received `method` on `path`; returns those requests.
    pub async fn wait_request(&self, method: &str, path: &str) -> Vec<databricks_emulator::RecordedRequest> {
        within(Duration::from_secs(20), &format!("a {method} {path} request"), async {
            loop {
                let requests = self.requests_to(method, path);
                if !requests.is_empty() {
                    return requests;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
    }

    /// Requests the emulator received with `method` on `path`.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<databricks_emulator::RecordedRequest> {
        self.emulator.requests().into_iter().filter(|r| r.method == method && r.path == path).collect()
    }
}

pub fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| match c {
            rmcp::model::ContentBlock::Text(t) => Some(t.text.clone()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}
