//! Outbound authentication end to end: unified configuration (environment and profiles), OAuth
//! M2M with a shared refresh, OAuth U2M through `auth login` with the emulator as the browser,
//! several workspaces in one session, `doctor`, and the failures each says how to fix. Every
//! run's output is searched for every token and secret it used.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use databricks_emulator::{ALICE_TOKEN, DEMO_TOKEN, Emulator, EmulatorConfig, SP_CLIENT_ID, SP_CLIENT_SECRET};
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt as _, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt as _};
use serde_json::{Value, json};

use crate::support::{
    Recorder, Setup, cache_home, keep_for_secret_scan, protocol_error, secrets_seen, text_of, within,
};

/// A home of its own for each test: a Databricks config file, token caches, no stray
/// `DATABRICKS_*` of the machine running the tests.
struct Home {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("plugins")).unwrap();
        let wasm = test_plugins::wasm("clusters");
        std::fs::copy(&wasm, dir.path().join("plugins").join(wasm.file_name().unwrap())).unwrap();
        Self { dir, env: Vec::new() }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Write `~/.databrickscfg`.
    fn databrickscfg(self, text: &str) -> Self {
        std::fs::write(self.path().join(".databrickscfg"), text).unwrap();
        self
    }

    fn command(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_databricks-mcp"));
        for (name, _) in std::env::vars() {
            if name.starts_with("DATABRICKS_") {
                command.env_remove(name);
            }
        }
        command
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join(".config"))
            .env("XDG_CACHE_HOME", cache_home())
            .env("DATABRICKS_MCP_LOG", "debug,rmcp=info,wasmtime=warn,cranelift=warn")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Run a one-shot command (`doctor`, `call`, ...).
    async fn run(&self, args: &[&str]) -> Run {
        let mut command = self.command();
        command.args(args).arg("--plugin-dir").arg(self.path().join("plugins")).stdin(std::process::Stdio::null());
        let output =
            within(Duration::from_secs(60), &format!("databricks-mcp {args:?}"), command.output()).await.unwrap();
        Run(output)
    }

    /// Serve MCP on stdio; stderr goes to `host.log`.
    async fn serve(&self) -> RunningService<RoleClient, Recorder> {
        let log = std::fs::File::create(self.log_file()).unwrap();
        let plugins = self.path().join("plugins");
        let command = self.command().configure(|c| {
            c.arg("serve").arg("--plugin-dir").arg(&plugins).arg("--no-watch");
        });
        let (transport, _) = TokioChildProcess::builder(command).stderr(log).spawn().expect("host starts");
        within(Duration::from_secs(60), "MCP initialize", Recorder::default().serve(transport)).await.unwrap()
    }

    fn log_file(&self) -> PathBuf {
        self.path().join("host.log")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_default()
    }
}

impl Drop for Home {
    /// Its log joins the scan over the whole run, with the secrets it was given.
    fn drop(&mut self) {
        let mut secrets = secrets_seen(&[]);
        secrets.extend(
            self.env
                .iter()
                .filter(|(name, _)| name.ends_with("_TOKEN") || name.ends_with("_SECRET"))
                .map(|(_, value)| value.clone()),
        );
        keep_for_secret_scan(&self.log(), &secrets);
    }
}

struct Run(Output);

impl Run {
    fn code(&self) -> i32 {
        self.0.status.code().expect("exited")
    }
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).to_string()
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).to_string()
    }
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout(), self.stderr())
    }
    #[track_caller]
    fn expect(self, code: i32) -> Self {
        assert_eq!(self.code(), code, "stdout:\n{}\nstderr:\n{}", self.stdout(), self.stderr());
        self
    }
}

async fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig::default()).await.expect("emulator starts")
}

#[track_caller]
fn assert_no_secret(text: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(!text.contains(secret.as_str()), "a credential appears in the output:\n{text}");
    }
}

async fn call(client: &RunningService<RoleClient, Recorder>, name: &str, arguments: Value) -> (bool, String, Value) {
    let params = CallToolRequestParams::new(name.to_string()).with_arguments(arguments.as_object().unwrap().clone());
    let result =
        within(Duration::from_secs(60), &format!("tools/call {name}"), client.call_tool(params)).await.unwrap();
    (result.is_error != Some(true), text_of(&result), result.structured_content.unwrap_or(Value::Null))
}

fn cluster_count(structured: &Value) -> usize {
    structured["clusters"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn profiles_and_the_environment_follow_the_sdk_precedence() {
    let emulator = emulator().await;
    let url = emulator.url();
    let cfg = format!(
        "[DEFAULT]\nhost = {url}\ntoken = {ALICE_TOKEN}\n\n[admin]\nhost = {url}\ntoken = {DEMO_TOKEN}\n\n[elsewhere]\nhost = http://127.0.0.1:9\ntoken = dapi-never-used\n"
    );
    // Nothing in the environment: the DEFAULT profile.
    let home = Home::new().databrickscfg(&cfg);
    let run = home.run(&["doctor"]).await.expect(0);
    assert!(run.stdout().contains("identity:  alice.nguyen@example.com (Alice Nguyen)"), "{}", run.stdout());
    assert!(run.stdout().contains("profile [DEFAULT]") && run.stdout().contains("auth:      pat"), "{}", run.stdout());
    // DATABRICKS_CONFIG_PROFILE picks a profile.
    let run =
        Home::new().databrickscfg(&cfg).env("DATABRICKS_CONFIG_PROFILE", "admin").run(&["doctor"]).await.expect(0);
    assert!(run.stdout().contains("demo.user@example.com"), "{}", run.stdout());
    // The environment beats the profile's attributes.
    let run = Home::new()
        .databrickscfg(&cfg)
        .env("DATABRICKS_CONFIG_PROFILE", "elsewhere")
        .env("DATABRICKS_HOST", &url)
        .env("DATABRICKS_TOKEN", DEMO_TOKEN)
        .run(&["doctor"])
        .await
        .expect(0);
    assert!(run.stdout().contains("demo.user@example.com"), "{}", run.stdout());
    // A host and token in the environment: DEFAULT is not mixed in.
    let other = Home::new()
        .databrickscfg("[DEFAULT]\nhost = http://127.0.0.1:9\nclient_id = x\nclient_secret = y\n")
        .env("DATABRICKS_HOST", &url)
        .env("DATABRICKS_TOKEN", ALICE_TOKEN);
    let run = other.run(&["doctor"]).await.expect(0);
    assert!(
        run.stdout().contains("alice.nguyen@example.com") && run.stdout().contains("the environment"),
        "{}",
        run.stdout()
    );

    // Served over MCP, the profile's identity is the one calls use.
    let client = home.serve().await;
    let (ok, text, listing) = call(&client, "list_clusters", json!({})).await;
    assert!(ok, "{text}");
    assert_eq!(cluster_count(&listing), 3, "alice sees her three clusters: {listing}");
    client.cancel().await.unwrap();
    assert_no_secret(&home.log(), &secrets_seen(&[&emulator]));
    assert_no_secret(&run.all(), &secrets_seen(&[&emulator]));
}

#[tokio::test]
async fn oauth_m2m_fetches_one_token_and_concurrent_calls_share_one_refresh() {
    let emulator = emulator().await;
    let home = Home::new()
        .env("DATABRICKS_HOST", &emulator.url())
        .env("DATABRICKS_CLIENT_ID", SP_CLIENT_ID)
        .env("DATABRICKS_CLIENT_SECRET", SP_CLIENT_SECRET);
    let token_requests = || emulator.requests().iter().filter(|r| r.path == "/oidc/v1/token").count();
    // A token that lives one second, so the next calls find it about to expire.
    emulator.set_oauth_token_ttl(Duration::from_secs(1));
    let client = home.serve().await;
    let (ok, text, first_listing) = call(&client, "list_clusters", json!({})).await;
    assert!(ok, "{text}");
    let (ok, text, _) = call(&client, "list_clusters", json!({})).await;
    assert!(ok, "{text}");
    assert_eq!(token_requests(), 1, "the token is cached between calls");
    let sees = cluster_count(&first_listing);
    let first = emulator.requests().into_iter().rfind(|r| r.path == "/api/2.1/clusters/list").unwrap();
    assert_ne!(first.authorization.as_deref(), Some(format!("Bearer {SP_CLIENT_SECRET}").as_str()));

    // Let it expire; the next token lives an hour. Many calls at once: one refresh.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    emulator.set_oauth_token_ttl(Duration::ZERO);
    let calls: Vec<_> = (0..12).map(|_| call(&client, "list_clusters", json!({}))).collect();
    let results = within(Duration::from_secs(120), "12 concurrent calls", futures::future::join_all(calls)).await;
    for (ok, text, listing) in &results {
        assert!(ok, "{text}");
        assert_eq!(cluster_count(listing), sees, "the service principal sees what it saw before: {listing}");
    }
    assert_eq!(token_requests(), 2, "twelve calls with an expiring token made exactly one token request");
    let tokens: std::collections::BTreeSet<Option<String>> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/2.1/clusters/list")
        .map(|r| r.authorization)
        .collect();
    assert_eq!(tokens.len(), 2, "one token before the refresh, one after");
    client.cancel().await.unwrap();
    assert_no_secret(&home.log(), &secrets_seen(&[&emulator]));
}

#[tokio::test]
async fn a_refused_client_secret_says_which_settings_to_check() {
    let emulator = emulator().await;
    let home = Home::new()
        .env("DATABRICKS_HOST", &emulator.url())
        .env("DATABRICKS_CLIENT_ID", SP_CLIENT_ID)
        .env("DATABRICKS_CLIENT_SECRET", "not-the-secret-0000");
    let client = home.serve().await;
    let (ok, text, _) = call(&client, "list_clusters", json!({})).await;
    assert!(!ok);
    assert!(text.contains("invalid_client") && text.contains("DATABRICKS_CLIENT_SECRET"), "{text}");
    client.cancel().await.unwrap();
    let run = home.run(&["doctor"]).await.expect(1);
    assert!(run.stdout().contains("invalid_client") && run.stdout().contains("PROBLEM"), "{}", run.stdout());
    let mut secrets = secrets_seen(&[&emulator]);
    secrets.push("not-the-secret-0000".into());
    assert_no_secret(&home.log(), &secrets);
    assert_no_secret(&run.all(), &secrets);
}

/// A server that answers every request with a 404 page: a host that is not a workspace.
async fn not_a_workspace() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let body = "<html>not here</html>";
                let _ = stream
                    .write_all(
                        format!(
                            "HTTP/1.1 404 Not Found\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn each_misconfiguration_is_explained_by_doctor_and_by_calls() {
    let emulator = emulator().await;
    let url = emulator.url();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let wrong = not_a_workspace().await;
    let cases: Vec<(Home, &[&str])> = vec![
        (Home::new(), &["no workspace configured", "set DATABRICKS_HOST"]),
        (Home::new().env("DATABRICKS_HOST", &url), &["no credentials for", "DATABRICKS_TOKEN", "auth login"]),
        (
            Home::new().databrickscfg("[dev]\nhost = x\n").env("DATABRICKS_CONFIG_PROFILE", "prod"),
            &["has no profile [prod]", "it has: dev", "DATABRICKS_CONFIG_PROFILE"],
        ),
        (
            Home::new()
                .databrickscfg("[dev]\nhost = x\ntoken dapi-in-a-broken-line\n")
                .env("DATABRICKS_CONFIG_PROFILE", "dev"),
            &["line 3", "INI"],
        ),
        (
            Home::new().env("DATABRICKS_HOST", &format!("http://{closed}")).env("DATABRICKS_TOKEN", DEMO_TOKEN),
            &["reachable: no", "check the host"],
        ),
        (
            Home::new().env("DATABRICKS_HOST", &wrong).env("DATABRICKS_TOKEN", DEMO_TOKEN),
            &["HTTP 404", "does not look like a Databricks workspace"],
        ),
        (
            Home::new().env("DATABRICKS_HOST", &url).env("DATABRICKS_TOKEN", "dapi-revoked-0000"),
            &["refused the credential (HTTP 401", "invalid or expired", "DATABRICKS_TOKEN"],
        ),
        (
            Home::new()
                .env("DATABRICKS_HOST", &url)
                .env("DATABRICKS_TOKEN", DEMO_TOKEN)
                .env("DATABRICKS_CLIENT_ID", "x")
                .env("DATABRICKS_CLIENT_SECRET", "y"),
            &["more than one authorization method", "DATABRICKS_AUTH_TYPE"],
        ),
    ];
    for (home, needles) in &cases {
        let run = home.run(&["doctor"]).await.expect(1);
        for needle in *needles {
            assert!(run.stdout().contains(needle), "doctor should say `{needle}`:\n{}", run.stdout());
        }
        assert_no_secret(&run.all(), &[DEMO_TOKEN.into(), "dapi-revoked-0000".into(), "dapi-in-a-broken-line".into()]);
    }
    // A call says the same thing as doctor, with what to set.
    let run = cases[1].0.run(&["call", "list_clusters"]).await.expect(2);
    assert!(
        run.stderr().contains("no credentials for") && run.stderr().contains("DATABRICKS_TOKEN"),
        "{}",
        run.stderr()
    );
    let run = cases[2].0.run(&["call", "list_clusters"]).await.expect(2);
    assert!(run.stderr().contains("has no profile [prod]"), "{}", run.stderr());
    // A refused token is explained in the tool's error, with the setting it came from.
    let run = cases[6].0.run(&["call", "list_clusters"]).await.expect(1);
    assert!(
        run.stderr().contains("refused the credential (HTTP 401)")
            && run.stderr().contains("invalid or expired")
            && run.stderr().contains("DATABRICKS_TOKEN"),
        "{}",
        run.all()
    );
    assert_no_secret(&run.all(), &["dapi-revoked-0000".into()]);
    let run = cases[4].0.run(&["call", "list_clusters"]).await.expect(1);
    assert!(
        run.stderr().contains("could not reach the workspace") && run.stderr().contains("3 attempts"),
        "{}",
        run.stderr()
    );
}

#[tokio::test]
async fn two_workspaces_in_one_session_each_get_their_own_calls() {
    let second = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("databrickscfg");
    std::fs::write(&cfg, format!("[staging]\nhost = {}\ntoken = {ALICE_TOKEN}\n", second.url())).unwrap();
    let h = Setup::new(&["clusters"])
        .config("[workspaces.staging]\ndescription = \"pre-production\"\n")
        .env("DATABRICKS_CONFIG_FILE", &cfg.display().to_string())
        .start()
        .await;
    let tools = h.tools().await;
    let list = tools.iter().find(|t| t.name == "list_clusters").unwrap();
    assert_eq!(list.input_schema["properties"]["workspace"]["enum"], json!(["default", "staging"]));
    let listing = tools.iter().find(|t| t.name == "list_workspaces").expect("list_workspaces is served");
    assert_eq!(listing.annotations.as_ref().unwrap().read_only_hint, Some(true));

    let (_, workspaces) = h.ok("list_workspaces", json!({})).await;
    assert_eq!(workspaces["default"], "default");
    let entries = workspaces["workspaces"].as_array().unwrap();
    assert_eq!(entries[1]["name"], "staging");
    assert_eq!(entries[1]["host"], json!(second.url()));
    assert_eq!(entries[1]["auth_type"], "pat");
    assert_eq!(entries[1]["description"], "pre-production");

    // The default goes to the first emulator as the demo user; `staging` to the second as alice.
    let (_, default) = h.ok("list_clusters", json!({})).await;
    assert_eq!(cluster_count(&default), 5);
    let (_, staging) = h.ok("list_clusters", json!({"workspace": "staging"})).await;
    assert_eq!(cluster_count(&staging), 3);
    let on_second = second.requests().into_iter().filter(|r| r.path == "/api/2.1/clusters/list").collect::<Vec<_>>();
    assert_eq!(on_second.len(), 1);
    assert_eq!(on_second[0].authorization.as_deref(), Some(format!("Bearer {ALICE_TOKEN}").as_str()));
    assert!(!on_second[0].query.contains("workspace") && !on_second[0].body.contains("workspace"));
    assert_eq!(h.requests_to("GET", "/api/2.1/clusters/list").len(), 1);

    let unknown = h.err("list_clusters", json!({"workspace": "prod"})).await;
    assert!(unknown.contains("no workspace `prod`") && unknown.contains("`staging`"), "{unknown}");
    assert_no_secret(&h.log(), &secrets_seen(&[&h.emulator, &second]));
}

#[tokio::test]
async fn auth_login_signs_in_through_the_browser_step_and_refreshes_from_the_cache() {
    let emulator = emulator().await;
    let url = emulator.url();
    let home = Home::new();
    // Sign in: the test plays the browser and follows the printed URL.
    let mut login = home.command();
    login
        .args(["auth", "login", "--host", &url, "--redirect-port", "0", "--no-browser"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = login.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stderr);
    let authorize = within(Duration::from_secs(30), "the sign-in URL", async {
        use tokio::io::AsyncBufReadExt as _;
        let mut line = String::new();
        loop {
            line.clear();
            assert!(lines.read_line(&mut line).await.unwrap() > 0, "auth login ended without a URL");
            if line.starts_with("http") && line.contains("/oidc/v1/authorize?") {
                return line.trim().to_string();
            }
        }
    })
    .await;
    assert!(authorize.contains("code_challenge_method=S256") && authorize.contains("client_id=databricks-cli"));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let browser = reqwest::Client::new();
    let page = within(Duration::from_secs(30), "the browser step", browser.get(&authorize).send()).await.unwrap();
    assert!(page.text().await.unwrap().contains("Signed in"));
    let output = within(Duration::from_secs(30), "auth login to finish", child.wait_with_output()).await.unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    assert!(String::from_utf8_lossy(&output.stdout).contains("Signed in to"));

    let cache = home.path().join(".config/databricks-mcp/token-cache.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(cache.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
    }
    let cached: Value = serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    assert_eq!(cached["version"], 1);
    assert!(cached["tokens"][&url]["refresh_token"].is_string(), "{cached}");

    // A workspace with only a host uses the sign-in.
    let mut signed_in = home;
    signed_in.env = vec![("DATABRICKS_HOST".into(), url.clone())];
    let run = signed_in.run(&["doctor"]).await.expect(0);
    assert!(
        run.stdout().contains("databricks-cli") && run.stdout().contains("demo.user@example.com"),
        "{}",
        run.stdout()
    );

    // An expired access token is refreshed with the refresh token, which rotates in the cache.
    let mut expired = cached.clone();
    expired["tokens"][&url]["expiry"] = json!("2020-01-01T00:00:00Z");
    std::fs::write(&cache, expired.to_string()).unwrap();
    let run = signed_in.run(&["doctor"]).await.expect(0);
    assert!(run.stdout().contains("demo.user@example.com"), "{}", run.stdout());
    let refreshes = emulator
        .requests()
        .iter()
        .filter(|r| r.path == "/oidc/v1/token" && r.body.contains("grant_type=refresh_token"))
        .count();
    assert_eq!(refreshes, 1);
    let rotated: Value = serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    assert_ne!(rotated["tokens"][&url]["refresh_token"], cached["tokens"][&url]["refresh_token"]);

    // The Databricks CLI's cache, in its own place and format, is used when ours has nothing.
    let cli_cache = signed_in.path().join(".databricks/token-cache.json");
    std::fs::create_dir_all(cli_cache.parent().unwrap()).unwrap();
    let mut cli = rotated.clone();
    cli["tokens"][&url]["expiry"] = json!("2020-01-01T10:00:00.123456789+01:00");
    std::fs::write(&cli_cache, cli.to_string()).unwrap();
    std::fs::remove_file(&cache).unwrap();
    let run = signed_in.run(&["doctor"]).await.expect(0);
    assert!(run.stdout().contains("demo.user@example.com"), "{}", run.stdout());

    // A refresh token the workspace no longer accepts: sign in again.
    std::fs::remove_file(&cache).unwrap();
    let run = signed_in.run(&["doctor"]).await.expect(1);
    assert!(run.stdout().contains("invalid_grant") && run.stdout().contains("auth login"), "{}", run.stdout());

    let secrets = secrets_seen(&[&emulator]);
    assert_no_secret(&String::from_utf8_lossy(&output.stderr), &secrets);
    assert_no_secret(&String::from_utf8_lossy(&output.stdout), &secrets);
    assert_no_secret(&run.all(), &secrets);
}

#[tokio::test]
async fn the_tools_command_lists_what_clients_see_with_several_workspaces() {
    let home = Home::new()
        .env("DATABRICKS_HOST", "https://default.example.invalid")
        .env("DATABRICKS_TOKEN", "dapi-not-used")
        .databrickscfg("[staging]\nhost = https://staging.example.invalid\ntoken = dapi-not-used-either\n");
    std::fs::create_dir_all(home.path().join(".config/databricks-mcp")).unwrap();
    std::fs::write(home.path().join(".config/databricks-mcp/config.toml"), "[workspaces.staging]\n").unwrap();

    let listing: Value =
        serde_json::from_str(&home.run(&["tools", "--format", "json"]).await.expect(0).stdout()).unwrap();
    let tools = listing["tools"].as_array().unwrap();
    let list = tools.iter().find(|t| t["name"] == "list_clusters").unwrap();
    assert_eq!(list["inputSchema"]["properties"]["workspace"]["enum"], json!(["default", "staging"]));
    let workspaces = tools.iter().find(|t| t["name"] == "list_workspaces").expect("list_workspaces is listed");
    assert_eq!(workspaces["plugin"], Value::Null);
    assert_eq!(workspaces["annotations"]["readOnlyHint"], true);

    let text = home.run(&["tools"]).await.expect(0).stdout();
    assert!(text.contains("Every tool takes a `workspace` argument: `default`, `staging`"), "{text}");

    // The operator's tool patterns apply to the host's own tool as to the plugins'.
    std::fs::write(
        home.path().join(".config/databricks-mcp/config.toml"),
        "[workspaces.staging]\n[policy]\ndeny_tools = [\"list_workspaces\"]\n",
    )
    .unwrap();
    let listing: Value =
        serde_json::from_str(&home.run(&["tools", "--format", "json"]).await.expect(0).stdout()).unwrap();
    let tools = listing["tools"].as_array().unwrap();
    assert!(tools.iter().any(|t| t["name"] == "list_clusters"));
    assert!(tools.iter().all(|t| t["name"] != "list_workspaces"), "denied: {listing}");

    // One workspace: the listing is the plugins' own.
    let one = Home::new().env("DATABRICKS_HOST", "https://default.example.invalid");
    let listing: Value =
        serde_json::from_str(&one.run(&["tools", "--format", "json"]).await.expect(0).stdout()).unwrap();
    let tools = listing["tools"].as_array().unwrap();
    assert!(
        tools
            .iter()
            .all(|t| t["inputSchema"]["properties"].get("workspace").is_none() && t["name"] != "list_workspaces")
    );
}

#[tokio::test]
async fn serve_says_at_start_up_whom_it_signs_in_as_or_what_is_wrong() {
    let emulator = emulator().await;
    let url = emulator.url();
    let good = Home::new().env("DATABRICKS_HOST", &url).env("DATABRICKS_TOKEN", DEMO_TOKEN);
    let _client = good.serve().await;
    let line = wait_for_log(&good, "signed in to the workspace as").await;
    assert!(line.contains("workspace=default") || line.contains("default"), "{line}");
    let me = emulator.requests().into_iter().filter(|r| r.path == "/api/2.0/preview/scim/v2/Me").count();
    assert_eq!(me, 1, "one identity check");

    let revoked = Home::new().env("DATABRICKS_HOST", &url).env("DATABRICKS_TOKEN", "dapi-revoked-0000");
    let client = revoked.serve().await;
    let line = wait_for_log(&revoked, "credential does not work").await;
    assert!(line.contains("refused the credential (HTTP 401") && line.contains("DATABRICKS_TOKEN"), "{line}");
    // Still serving: listing needs no workspace.
    assert!(!client.list_all_tools().await.unwrap().is_empty());
    assert_no_secret(&revoked.log(), &["dapi-revoked-0000".into(), DEMO_TOKEN.into()]);
    assert_no_secret(&good.log(), &[DEMO_TOKEN.into()]);
}

async fn wait_for_log(home: &Home, needle: &str) -> String {
    within(Duration::from_secs(20), needle, async {
        loop {
            if let Some(line) = home.log().lines().find(|l| l.contains(needle)) {
                return line.to_string();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

#[tokio::test]
async fn the_tool_policy_can_hide_list_workspaces() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("databrickscfg");
    std::fs::write(&cfg, "[staging]\nhost = https://staging.example.invalid\ntoken = dapi-not-used\n").unwrap();
    let h = Setup::new(&["clusters"])
        .config("[workspaces.staging]\n[policy]\ndeny_tools = [\"list_w*\"]\n")
        .env("DATABRICKS_CONFIG_FILE", &cfg.display().to_string())
        .start()
        .await;
    let tools = h.tools().await;
    assert!(tools.iter().all(|t| t.name != "list_workspaces"));
    let list = tools.iter().find(|t| t.name == "list_clusters").unwrap();
    assert_eq!(list.input_schema["properties"]["workspace"]["enum"], json!(["default", "staging"]));
    let error = protocol_error(&h, "list_workspaces").await;
    assert!(error.contains("unknown tool `list_workspaces`"), "{error}");
}
