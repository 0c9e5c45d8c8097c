//! The command line without an MCP client: `tools`, `call`, `plugins list|inspect|verify`,
//! where the config file comes from, and the exit codes (0 ok, 1 failed, 2 usage or config).

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use databricks_emulator::{DEMO_TOKEN, Emulator, EmulatorConfig};
use serde_json::{Value, json};

use crate::support::{cache_home, within};

/// A plugin directory, a config home with nothing in it, and the command line over them.
struct Cli {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Cli {
    fn new(plugins: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("plugins")).unwrap();
        std::fs::create_dir(dir.path().join("xdg")).unwrap();
        for package in plugins {
            let wasm = test_plugins::wasm(package);
            std::fs::copy(&wasm, dir.path().join("plugins").join(wasm.file_name().unwrap())).unwrap();
        }
        Self { dir, env: Vec::new() }
    }

    fn plugin_dir(&self) -> PathBuf {
        self.dir.path().join("plugins")
    }

    /// Write a file under the temp dir and return its path.
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Run `databricks-mcp ARGS` with `--plugin-dir` pointing at the plugin directory.
    async fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None).await
    }

    async fn run_with(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_databricks-mcp"));
        command.args(args).arg("--plugin-dir").arg(self.plugin_dir());
        for (name, _) in std::env::vars() {
            if name.starts_with("DATABRICKS_") {
                command.env_remove(name);
            }
        }
        command
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg"))
            .env("XDG_CACHE_HOME", cache_home())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().expect("the host starts");
        if let Some(text) = stdin {
            use tokio::io::AsyncWriteExt as _;
            child.stdin.take().unwrap().write_all(text.as_bytes()).await.unwrap();
        }
        drop(child.stdin.take());
        let output = within(Duration::from_secs(120), &format!("databricks-mcp {args:?}"), child.wait_with_output())
            .await
            .unwrap();
        Run(output)
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
    fn json(&self) -> Value {
        serde_json::from_slice(&self.0.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout()))
    }
    /// Assert the exit code, showing the output when it is wrong.
    #[track_caller]
    fn expect(self, code: i32) -> Self {
        assert_eq!(self.code(), code, "stdout:\n{}\nstderr:\n{}", self.stdout(), self.stderr());
        self
    }
}

async fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig::default()).await.expect("emulator starts")
}

fn with_workspace(cli: Cli, emulator: &Emulator) -> Cli {
    cli.env("DATABRICKS_HOST", &emulator.url()).env("DATABRICKS_TOKEN", DEMO_TOKEN)
}

#[tokio::test]
async fn tools_applies_the_policy_and_exits_1_only_for_real_failures() {
    let cli = Cli::new(&["clusters", "secrets"]);
    let config = cli.write("c.toml", "[policy]\ndeny_plugins = [\"secrets\"]");
    let run = cli.run(&["tools", "--read-only", "--config", config.to_str().unwrap()]).await.expect(0);
    let out = run.stdout();
    assert!(
        out.contains("clusters 0.1.0 (6 tools)") && out.contains("list_clusters") && !out.contains("create_cluster"),
        "{out}"
    );
    assert!(!out.contains("list_secret_scopes"), "{out}");

    std::fs::write(cli.plugin_dir().join("garbage.wasm"), b"not wasm").unwrap();
    let run = cli.run(&["tools", "--config", config.to_str().unwrap()]).await.expect(1);
    assert!(
        run.stderr().contains("1 plugin(s) failed to load") && run.stderr().contains("garbage.wasm"),
        "{}",
        run.stderr()
    );
    assert!(run.stdout().contains("clusters 0.1.0 (15 tools)"), "the rest is still listed");
}

#[tokio::test]
async fn call_runs_one_tool_with_the_policy_and_exit_codes() {
    let emulator = emulator().await;
    let cli = with_workspace(Cli::new(&["clusters"]), &emulator);
    let config = cli.write(
        "c.toml",
        "[plugins.clusters]\ngrants = [\"GET /api/2.1/clusters/*\"]\n[policy]\ndeny_tools = [\"pin_*\"]",
    );
    let config = config.to_str().unwrap();

    let run = cli.run(&["call", "list_clusters", "--args", r#"{"limit": 1}"#, "--config", config]).await.expect(0);
    assert!(run.stdout().contains("RUNNING") || run.stdout().contains("TERMINATED"), "{}", run.stdout());

    let run = cli
        .run_with(&["call", "list_clusters", "--args", "-", "--json", "--config", config], Some(r#"{"limit": 2}"#))
        .await;
    let result = run.expect(0).json();
    assert_eq!(result["structuredContent"]["clusters"].as_array().unwrap().len(), 2, "{result}");
    assert_ne!(result["isError"], Value::Bool(true));

    let create =
        r#"{"cluster_name": "x", "spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}"#;
    let run = cli.run(&["call", "create_cluster", "--args", create, "--config", config]).await.expect(1);
    assert!(run.stderr().contains("the operator narrowed its grants"), "{}", run.stderr());
    let run = cli.run(&["call", "create_cluster", "--args", create, "--json", "--config", config]).await.expect(1);
    assert_eq!(run.json()["isError"], Value::Bool(true));

    let run = cli.run(&["call", "list_clusters", "--args", r#"{"limit": "many"}"#, "--config", config]).await.expect(1);
    assert!(run.stderr().contains("do not match the input schema"), "{}", run.stderr());

    let run = cli.run(&["call", "pin_cluster", "--config", config]).await.expect(2);
    assert!(run.stderr().contains("hidden by the policy") && run.stderr().contains("pin_*"), "{}", run.stderr());
    let run = cli.run(&["call", "no_such_tool", "--config", config]).await.expect(2);
    assert!(run.stderr().contains("unknown tool `no_such_tool`"), "{}", run.stderr());
    let run = cli.run(&["call", "list_clusters", "--args", "[1]", "--config", config]).await.expect(2);
    assert!(run.stderr().contains("--args must be a JSON object"), "{}", run.stderr());

    let no_workspace = Cli::new(&["clusters"]);
    let run = no_workspace.run(&["call", "list_clusters"]).await.expect(2);
    assert!(run.stderr().contains("DATABRICKS_HOST"), "{}", run.stderr());
}

#[tokio::test]
async fn plugins_list_shows_status_digest_tools_and_grants() {
    let cli = Cli::new(&["clusters", "secrets", "sql"]);
    let config = cli.write(
        "c.toml",
        &format!(
            "[policy]\nread_only = true\ndeny_plugins = [\"secrets\"]\n[plugins.sql]\nsha256 = \"{}\"\n[plugins.clusters]\ngrants = [\"GET /api/2.1/clusters/*\"]",
            "1".repeat(64)
        ),
    );
    let run = cli.run(&["plugins", "list", "--json", "--config", config.to_str().unwrap()]).await.expect(1);
    let plugins = run.json()["plugins"].as_array().unwrap().clone();
    let by_file = |name: &str| {
        plugins
            .iter()
            .find(|p| p["file"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name}: {plugins:?}"))
    };
    let clusters = by_file("clusters.wasm");
    assert_eq!(clusters["status"], "loaded");
    assert_eq!(clusters["name"], "clusters");
    assert_eq!(clusters["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(clusters["tools"].as_array().unwrap().len(), 6);
    assert_eq!(clusters["hidden_tools"].as_array().unwrap().len(), 9);
    assert_eq!(clusters["narrowed"], true);
    assert_eq!(clusters["grants"].as_array().unwrap().len(), 4, "{clusters}");
    assert_eq!(clusters["declared_grants"].as_array().unwrap().len(), 14);
    assert_eq!(by_file("secrets.wasm")["status"], "excluded");
    let sql = by_file("sql.wasm");
    assert_eq!(sql["status"], "refused");
    assert!(sql["reason"].as_str().unwrap().contains(sql["sha256"].as_str().unwrap()), "{sql}");

    std::fs::remove_file(cli.plugin_dir().join("sql.wasm")).unwrap();
    let run = cli.run(&["plugins", "list", "--config", config.to_str().unwrap()]).await.expect(0);
    let out = run.stdout();
    assert!(out.contains("clusters 0.1.0: loaded"), "{out}");
    assert!(out.contains("grants (4, narrowed by the operator from 14 declared)"), "{out}");
    assert!(out.contains("secrets.wasm: excluded: plugin `secrets` is denied"), "{out}");
}

#[tokio::test]
async fn plugins_inspect_shows_the_manifest_without_policy() {
    let cli = Cli::new(&[]);
    // A config that would deny everything does not matter to inspect.
    cli.write("xdg/databricks-mcp/config.toml", "[policy]\nallow_plugins = []");
    let wasm = test_plugins::wasm("clusters");
    let run = cli.run(&["plugins", "inspect", wasm.to_str().unwrap()]).await.expect(0);
    let out = run.stdout();
    assert!(out.starts_with("clusters 0.1.0:"), "{out}");
    assert!(out.contains("requested grants (14)") && out.contains("POST /api/2.1/clusters/create"), "{out}");
    assert!(out.contains("tools (15)") && out.contains("permanently_delete_cluster [destructive]"), "{out}");

    let json = cli.run(&["plugins", "inspect", "--json", wasm.to_str().unwrap()]).await.expect(0).json();
    assert_eq!(json["name"], "clusters");
    assert_eq!(json["tools"].as_array().unwrap().len(), 15);
    assert!(json["tools"][0]["inputSchema"].is_object());

    // Resources and prompts, when the plugin contributes them.
    let jobs = test_plugins::wasm("jobs");
    let out = cli.run(&["plugins", "inspect", jobs.to_str().unwrap()]).await.expect(0).stdout();
    assert!(out.contains("resource templates (2):"), "{out}");
    assert!(out.contains("databricks://jobs/run/{run_id}/output (text/plain)"), "{out}");
    assert!(out.contains("prompts (2):") && out.contains("debug_job_run(run_id)"), "{out}");
    let json = cli.run(&["plugins", "inspect", "--json", jobs.to_str().unwrap()]).await.expect(0).json();
    assert_eq!(json["resource_templates"][0]["uri_template"], "databricks://jobs/job/{job_id}");
    assert_eq!(json["prompts"][0]["name"], "debug_job_run");
    assert_eq!(
        json["prompts"][0]["arguments"][0],
        json!({"name": "run_id", "description": "The run to debug (a job run id from `list_runs`).", "required": true})
    );

    let garbage = cli.write("garbage.wasm", "nope");
    let run = cli.run(&["plugins", "inspect", garbage.to_str().unwrap()]).await.expect(1);
    assert!(run.stderr().contains("not a valid WebAssembly component"), "{}", run.stderr());
    cli.run(&["plugins", "inspect", "/no/such/file.wasm"]).await.expect(2);
}

#[tokio::test]
async fn plugins_verify_gives_a_verdict_for_ci() {
    let cli = Cli::new(&[]);
    let wasm = |p: &str| test_plugins::wasm(p).to_str().unwrap().to_string();
    let run = cli.run(&["plugins", "verify", &wasm("clusters")]).await.expect(0);
    let out = run.stdout();
    assert!(out.contains("contract: 0.1.1") && out.contains("manifest: valid (15 tools, 14 grants)"), "{out}");
    assert!(out.contains("policy (no config file): allowed") && out.contains("verdict: ok"), "{out}");

    let config = cli.write(
        "c.toml",
        &format!("[policy]\ndeny_plugins = [\"secrets\"]\n[plugins.clusters]\nsha256 = \"{}\"", "a".repeat(64)),
    );
    let config = config.to_str().unwrap();
    let run = cli.run(&["plugins", "verify", &wasm("clusters"), "--config", config]).await.expect(1);
    assert!(
        run.stdout().contains("refused: the file's sha256 is") && run.stdout().contains("verdict: refused"),
        "{}",
        run.stdout()
    );
    let json = cli.run(&["plugins", "verify", "--json", &wasm("secrets"), "--config", config]).await.expect(1).json();
    assert_eq!(json["policy"]["verdict"], "excluded");
    assert_eq!(json["ok"], false);
    cli.run(&["plugins", "verify", &wasm("sql"), "--config", config]).await.expect(0);

    std::fs::copy(test_plugins::wasm("clusters"), cli.plugin_dir().join("clusters.wasm")).unwrap();
    let run = cli.run(&["plugins", "verify", &wasm("fixture-collide")]).await.expect(1);
    assert!(
        run.stdout().contains("collision: tool `list_clusters` is already served by plugin `clusters`"),
        "{}",
        run.stdout()
    );
    cli.run(&["plugins", "verify", &wasm("clusters")]).await.expect(0);

    let run = cli.run(&["plugins", "verify", &wasm("fixture-future-contract")]).await.expect(1);
    assert!(run.stdout().contains("contract 0.9.0"), "{}", run.stdout());
    let run = cli.run(&["plugins", "verify", &wasm("fixture-bad-manifest")]).await.expect(1);
    assert!(run.stdout().contains("invalid manifest"), "{}", run.stdout());
    let bad = cli.write("bad.toml", "[policy]\nread_only = 3");
    cli.run(&["plugins", "verify", &wasm("clusters"), "--config", bad.to_str().unwrap()]).await.expect(2);
}

#[tokio::test]
async fn configuration_errors_exit_2_naming_the_key_or_variable_and_the_file() {
    let cli = Cli::new(&["clusters"]);
    let config = cli.write("c.toml", "[policy]\nread_only = true\nallow_plugin = [\"clusters\"]\n");
    let run = cli.run(&["serve", "--config", config.to_str().unwrap()]).await.expect(2);
    let err = run.stderr();
    assert!(err.contains("allow_plugin") && err.contains(config.to_str().unwrap()), "{err}");

    let config = cli.write("d.toml", "[plugins.clusters]\ngrants = [\"GET clusters\"]\n");
    let err = cli.run(&["tools", "--config", config.to_str().unwrap()]).await.expect(2).stderr();
    assert!(err.contains("plugins.clusters.grants") && err.contains("d.toml"), "{err}");

    let cli = cli.env("DATABRICKS_MCP_READ_ONLY", "sometimes");
    let err = cli.run(&["tools"]).await.expect(2).stderr();
    assert!(err.contains("DATABRICKS_MCP_READ_ONLY") && err.contains("sometimes"), "{err}");

    let err = Cli::new(&[]).run(&["tools", "--config", "/no/such/config.toml"]).await.expect(2).stderr();
    assert!(err.contains("/no/such/config.toml"), "{err}");
    let err = Cli::new(&[]).run(&["tools", "--bogus"]).await.expect(2).stderr();
    assert!(err.contains("--bogus"), "{err}");
}

#[tokio::test]
async fn the_config_file_is_the_flag_then_the_variable_then_the_default_location() {
    let cli = Cli::new(&["clusters", "secrets"]);
    let count = |out: &str| out.lines().filter(|l| l.starts_with("  ")).count();
    cli.write("xdg/databricks-mcp/config.toml", "[policy]\nread_only = true\ndeny_plugins = [\"secrets\"]");
    let by_env = cli.write("env.toml", "[policy]\ndeny_plugins = [\"secrets\"]");
    let by_flag = cli.write("flag.toml", "[policy]\ndeny_plugins = [\"clusters\"]");

    assert_eq!(count(&cli.run(&["tools"]).await.expect(0).stdout()), 6, "the default location, read-only");
    let cli = cli.env("DATABRICKS_MCP_CONFIG", by_env.to_str().unwrap());
    assert_eq!(count(&cli.run(&["tools"]).await.expect(0).stdout()), 15, "the variable's file");
    let out = cli.run(&["tools", "--config", by_flag.to_str().unwrap()]).await.expect(0).stdout();
    assert!(out.contains("secrets 0.1.0") && !out.contains("clusters 0.1.0"), "the flag's file: {out}");
}

#[tokio::test]
async fn every_command_has_help() {
    let cli = Cli::new(&[]);
    let commands: [&[&str]; 8] = [
        &[],
        &["serve"],
        &["tools"],
        &["call"],
        &["plugins"],
        &["plugins", "list"],
        &["plugins", "inspect"],
        &["plugins", "verify"],
    ];
    for command in commands {
        let mut args: Vec<&str> = command.to_vec();
        args.push("--help");
        let run = cli.run(&args).await.expect(0);
        assert!(run.stdout().contains("Usage: databricks-mcp"), "{command:?}: {}", run.stdout());
    }
    let top = cli.run(&["--help"]).await.stdout();
    assert!(top.contains("Exit codes:") && top.contains("DATABRICKS_MCP_DENY_TOOLS"), "{top}");
    let call = cli.run(&["call", "--help"]).await.stdout();
    assert!(call.contains("--args") && call.contains("Examples:"), "{call}");
}
