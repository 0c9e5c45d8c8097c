//! Third-party tool packs, as their authors and operators meet them: the example pack
//! (`tests/example-pack`, built out of this workspace as a third party builds theirs) loaded next
//! to the first-party plugins, and `databricks-mcp plugins new` making a crate that tests, builds
//! and loads unchanged.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, ClientRequest, Request};
use rmcp::service::PeerRequestOptions;
use serde_json::{Value, json};

use crate::support::{Setup, cache_home, text_of, within};

fn example_pack() -> Vec<u8> {
    std::fs::read(test_plugins::example_pack()).expect("the test build built the example pack")
}

#[tokio::test]
async fn example_pack_serves_next_to_the_first_party_plugins() {
    let h = Setup::new(&["clusters", "jobs"])
        .file("job_conventions.wasm", &example_pack())
        .config("[plugins.job-conventions.settings]\nteams = \"daily, etl\"")
        .start()
        .await;
    let names = h.tool_names().await;
    for name in ["check_job_names", "run_conforming_job", "list_jobs", "list_clusters"] {
        assert!(names.contains(&name.to_string()), "{name} is served: {names:?}");
    }
    let tools = h.tools().await;
    let check = tools.iter().find(|t| t.name == "check_job_names").unwrap();
    assert_eq!(check.annotations.as_ref().and_then(|a| a.read_only_hint), Some(true));
    assert_eq!(check.input_schema["properties"]["limit"]["type"], json!(["integer", "null"]), "integers stay integers");
    assert!(check.output_schema.is_some(), "typed output has a schema");

    // Pagination: two pages of the seeded jobs; the operator's `teams` setting applies.
    let (text, first) = h.ok("check_job_names", json!({"limit": 2})).await;
    assert_eq!(first["jobs"].as_array().unwrap().len(), 2, "{text}");
    let token = first["next_page_token"].as_str().expect("a second page").to_string();
    let (text, second) = h.ok("check_job_names", json!({"limit": 2, "page_token": token})).await;
    assert_eq!(
        second["jobs"],
        json!([{"job_id": 103, "name": "failing-report", "problem": "team `failing` is not one of: daily, etl"}]),
        "{text}"
    );
    assert!(second.get("next_page_token").is_none(), "{second}");
    assert!(text.starts_with("1 job(s) checked, 1 break the naming rules."), "{text}");

    // The error paths: a job whose name breaks the rules is not run; a missing job is not found.
    let text = h.err("run_conforming_job", json!({"job_id": 103})).await;
    assert!(text.contains("job 103 `failing-report` breaks the naming rules"), "{text}");
    assert!(h.requests_to("POST", "/api/2.2/jobs/run-now").is_empty(), "nothing was run");
    let text = h.err("run_conforming_job", json!({"job_id": 99999})).await;
    assert!(text.to_lowercase().contains("not found") || text.contains("does not exist"), "{text}");

    // A conforming job runs and is waited for, with progress.
    let (text, outcome) = h.ok("run_conforming_job", json!({"job_id": 101})).await;
    assert_eq!((&outcome["finished"], &outcome["result_state"]), (&json!(true), &json!("SUCCESS")), "{text}");
    assert!(text.contains("of job 101 `daily-notebook` finished: SUCCESS"), "{text}");
    // Notifications are handled apart from responses: give the last one a moment to land.
    within(Duration::from_secs(10), "the wait's progress notification", async {
        let done = |p: &rmcp::model::ProgressNotificationParam| {
            p.message.as_deref().is_some_and(|m| m.starts_with("done waiting for run"))
        };
        while !h.progress.lock().unwrap().iter().any(done) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(h.requests_to("POST", "/api/2.2/jobs/runs/cancel").is_empty(), "a finished run is not cancelled");
}

#[tokio::test]
async fn cancelling_an_example_pack_call_cancels_its_run() {
    let h = Setup::new(&[])
        .file("job_conventions.wasm", &example_pack())
        .transition_delay(Duration::from_secs(60))
        .start()
        .await;
    let params = CallToolRequestParams::new("run_conforming_job")
        .with_arguments(json!({"job_id": 102}).as_object().unwrap().clone());
    let handle = h
        .client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(params)),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    within(Duration::from_secs(20), "the run to be polled", async {
        while h.requests_to("GET", "/api/2.2/jobs/runs/get").is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(h.requests_to("POST", "/api/2.2/jobs/runs/cancel").is_empty(), "nothing cancelled while waiting");
    handle.cancel(Some("test".into())).await.unwrap();
    within(Duration::from_secs(10), "the compensation request", async {
        while h.requests_to("POST", "/api/2.2/jobs/runs/cancel").is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let polled = h.requests_to("GET", "/api/2.2/jobs/runs/get")[0].query.clone();
    let run_id: i64 = polled.trim_start_matches("run_id=").parse().unwrap();
    let cancel: Value = serde_json::from_str(&h.requests_to("POST", "/api/2.2/jobs/runs/cancel")[0].body).unwrap();
    assert_eq!(cancel, json!({"run_id": run_id}));
}

#[tokio::test]
async fn plugins_inspect_shows_what_a_pack_asks_for() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("job_conventions.wasm");
    std::fs::write(&wasm, example_pack()).unwrap();
    let run = host(&["plugins", "inspect", wasm.to_str().unwrap(), "--json"], dir.path()).await;
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let manifest: Value = serde_json::from_slice(&run.stdout).unwrap();
    let text = manifest.to_string();
    for expected in
        ["job-conventions", "0.1.0", "databricks-mcp-sdk 0.1.0", "/api/2.2/jobs/runs/cancel", "run_conforming_job"]
    {
        assert!(text.contains(expected), "{expected} in {manifest:#}");
    }
}

/// The compatibility promise of the guide (sdk/README.md): a pack built for a contract this host
/// does not run is refused, naming both versions, before any of its code runs.
#[tokio::test]
async fn a_pack_built_for_another_contract_is_refused_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = test_plugins::wasm("fixture-future-contract");
    let wasm = wasm.to_str().unwrap();
    let plugin_dir = dir.path().to_str().unwrap();
    for args in [vec!["plugins", "inspect", wasm], vec!["plugins", "verify", wasm, "--plugin-dir", plugin_dir]] {
        let run = host(&args, dir.path()).await;
        let said = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
        assert_eq!(run.status.code(), Some(1), "{args:?}: {said}");
        assert!(
            said.contains("built for contract 0.9.0") && said.contains("this host runs contract 0.1.x"),
            "{args:?}: {said}"
        );
    }
}

/// The scaffold, followed the way the guide tells a newcomer to: create, test, build, check
/// with `plugins verify`, and copy into the plugin directory of a running server, which serves
/// it over MCP against the emulator.
#[tokio::test]
async fn plugins_new_makes_a_pack_that_tests_builds_and_loads_unchanged() {
    let outside = tempfile::tempdir().unwrap();
    let pack = outside.path().join("acme-jobs");
    let sdk = repository().join("sdk");
    let new = |dir: &Path| {
        let args = ["plugins", "new", "acme-jobs", "--dir", dir.to_str().unwrap(), "--sdk-path", sdk.to_str().unwrap()];
        args.map(str::to_string)
    };

    let run = host_owned(&new(&pack), outside.path()).await;
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    assert_eq!(run.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&run.stderr));
    assert!(stdout.contains("Its first tool is `acme_jobs_list_clusters`"), "{stdout}");
    for file in ["Cargo.toml", "README.md", "justfile", "src/lib.rs", "src/tests.rs"] {
        assert!(pack.join(file).is_file(), "{file} written");
    }
    // Never over someone's files, and never a name the host would refuse.
    let again = host_owned(&new(&pack), outside.path()).await;
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"));
    let bad = host(&["plugins", "new", "Acme_Jobs", "--dir", "unused"], outside.path()).await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("kebab-case"));
    assert!(!outside.path().join("unused").exists());

    // The justfile parses and says what it builds (`just test` runs this test, so `just` is here in
    // CI; a bare `cargo test` without it skips only this check).
    if let Ok(listed) = std::process::Command::new("just").arg("--list").current_dir(&pack).output() {
        let listed = String::from_utf8_lossy(&listed.stdout).to_string();
        for recipe in ["test", "build", "inspect", "install"] {
            assert!(listed.contains(&format!("    {recipe}")), "{recipe} in {listed}");
        }
        let dry = std::process::Command::new("just").args(["--dry-run", "build"]).current_dir(&pack).output().unwrap();
        let dry = String::from_utf8_lossy(&dry.stderr).to_string();
        assert!(dry.contains("cargo build --release --target wasm32-wasip2"), "{dry}");
    }

    // The example pack's lock file: the same dependency versions, so what the test build compiled
    // for it is reused, and no registry is needed.
    std::fs::copy(repository().join("tests/example-pack/Cargo.lock"), pack.join("Cargo.lock")).unwrap();
    let tested = cargo(&pack, &["test"]).await;
    assert!(String::from_utf8_lossy(&tested.stdout).contains("test result: ok. 2 passed"), "{tested:?}");
    cargo(&pack, &["build", "--release", "--target", "wasm32-wasip2"]).await;
    let wasm = test_plugins::packs_target_dir().join("wasm32-wasip2/release/acme_jobs.wasm");

    let verified = host(
        &["plugins", "verify", wasm.to_str().unwrap(), "--plugin-dir", outside.path().to_str().unwrap()],
        outside.path(),
    )
    .await;
    assert_eq!(verified.status.code(), Some(0), "{}", String::from_utf8_lossy(&verified.stdout));

    // Hot load: a server already running serves the pack as soon as it is copied in.
    let h = Setup::new(&["clusters"]).start().await;
    assert!(!h.tool_names().await.contains(&"acme_jobs_list_clusters".to_string()));
    let seen = h.list_changed();
    std::fs::copy(&wasm, h.plugin_dir.join("acme_jobs.wasm")).unwrap();
    h.wait_list_changed(seen, "copying the new pack into the plugin directory").await;
    let (text, page) = h.ok("acme_jobs_list_clusters", json!({"limit": 1})).await;
    assert_eq!(page["clusters"].as_array().unwrap().len(), 1, "{text}");
    assert!(page["next_page_token"].is_string(), "{page}");
    let result = h.call("acme_jobs_list_clusters", json!({"limit": 1, "page_token": page["next_page_token"]})).await;
    assert_ne!(result.is_error, Some(true), "{}", text_of(&result));
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

async fn host(args: &[&str], dir: &Path) -> Output {
    host_owned(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>(), dir).await
}

/// Run `databricks-mcp ARGS` in `dir`, with no config and no workspace from the environment.
async fn host_owned(args: &[String], dir: &Path) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_databricks-mcp"));
    command.args(args).current_dir(dir).env("XDG_CONFIG_HOME", dir).env("XDG_CACHE_HOME", cache_home());
    for (name, _) in std::env::vars() {
        if name.starts_with("DATABRICKS_") {
            command.env_remove(name);
        }
    }
    within(Duration::from_secs(120), &format!("databricks-mcp {args:?}"), command.output()).await.unwrap()
}

/// `cargo ARGS` in a pack's directory, as its author runs it, in the target directory shared with
/// the example pack. It must succeed.
async fn cargo(dir: &Path, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.args(args).current_dir(dir).env("CARGO_TARGET_DIR", test_plugins::packs_target_dir());
    // Flags meant for this test build must not leak into the pack's.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        command.env_remove(var);
    }
    let output = within(Duration::from_secs(600), &format!("cargo {args:?} in {}", dir.display()), command.output())
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "cargo {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
