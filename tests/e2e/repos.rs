//! Every repos tool, through MCP, against the emulator.

use std::collections::HashSet;
use std::time::Duration;

use databricks_emulator::ALICE_TOKEN;
use rmcp::model::{CallToolRequestParams, ClientRequest, Request};
use rmcp::service::PeerRequestOptions;
use serde_json::{Value, json};

use crate::support::{Harness, Setup, within};

const REPO_TOOLS: [&str; 6] =
    ["list_repos", "get_repo", "create_repo", "update_repo", "delete_repo", "sync_repo_and_run_notebook"];

/// The `Test` seed's repo, holding the notebook `main`.
const ANALYTICS: &str = "/Repos/demo.user@example.com/analytics";
const ANALYTICS_ID: i64 = 1_000_000_000_000_011;
const SHARED_CLUSTER: &str = "0101-000000-shared01";
const SUBMIT: &str = "/api/2.2/jobs/runs/submit";
const CANCEL: &str = "/api/2.2/jobs/runs/cancel";

fn body(request: &databricks_emulator::RecordedRequest) -> Value {
    serde_json::from_str(&request.body).unwrap()
}

#[tokio::test]
async fn lists_every_repos_tool_with_schemas_and_annotations() {
    let h = Harness::start(&["repos"]).await;
    let tools = h.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, REPO_TOOLS, "deterministic order: declaration order");
    for tool in &tools {
        assert!(tool.description.as_ref().is_some_and(|d| d.len() > 40), "{} needs a real description", tool.name);
        assert_eq!(tool.input_schema.get("type"), Some(&json!("object")), "{}", tool.name);
        assert!(tool.output_schema.is_some(), "{} should declare an output schema", tool.name);
        for (name, property) in tool.input_schema["properties"].as_object().unwrap() {
            assert!(property.get("description").is_some(), "{}.{name} needs a description", tool.name);
        }
    }
    let tool = |name: &str| tools.iter().find(|t| t.name == name).unwrap();
    let hints = |name: &str| {
        let a = tool(name).annotations.clone().unwrap();
        (a.read_only_hint, a.destructive_hint)
    };
    assert_eq!(hints("list_repos").0, Some(true));
    assert_eq!(hints("get_repo").0, Some(true));
    assert_eq!(hints("delete_repo"), (Some(false), Some(true)));
    assert_eq!(hints("create_repo"), (Some(false), Some(false)));
    assert_eq!(hints("sync_repo_and_run_notebook").0, Some(false));
    let sync = &tool("sync_repo_and_run_notebook").input_schema;
    assert_eq!(sync["required"], json!(["notebook_path"]));
    let ty = &sync["properties"]["repo_id"]["type"];
    assert!(ty.as_array().is_some_and(|a| a.contains(&json!("integer"))) || ty == &json!("integer"), "{ty}");
    assert!(tool("create_repo").input_schema["properties"]["provider"].to_string().contains("gitHub"));
}

#[tokio::test]
async fn lists_repos_across_the_workspaces_pages_one_page_at_a_time() {
    let h = Harness::start(&["repos"]).await;
    // The workspace answers 20 repos a page; 22 make the tool's pages straddle two of its pages.
    for i in 0..21 {
        let (text, repo) = h
            .ok("create_repo", json!({"url": format!("https://github.com/example/r{i:02}.git"), "path": format!("/Repos/team/r{i:02}")}))
            .await;
        assert_eq!(repo["provider"], "gitHub", "inferred from the URL: {text}");
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let mut args = json!({"limit": 7});
        if let Some(t) = &token {
            args["page_token"] = json!(t);
        }
        let (text, data) = h.ok("list_repos", args).await;
        let page = data["repos"].as_array().unwrap();
        assert!(page.len() <= 7);
        assert_eq!(text.lines().filter(|l| l.contains(" (id ")).count(), page.len(), "one line per repo: {text}");
        seen.extend(page.iter().map(|r| r["id"].as_i64().unwrap()));
        token = data.get("next_page_token").and_then(Value::as_str).map(str::to_string);
        match &token {
            Some(t) => assert!(text.contains(&format!("page_token \"{t}\"")), "{text}"),
            None => break,
        }
    }
    assert!(token.is_none(), "pagination ends");
    assert_eq!(seen.len(), 22, "{seen:?}");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 22, "no repo twice");
    let pages_fetched = h.requests_to("GET", "/api/2.0/repos");
    assert!(pages_fetched.iter().any(|r| r.query.contains("next_page_token=")), "the workspace's second page was read");

    let (text, team) = h.ok("list_repos", json!({"path_prefix": "/Repos/team", "limit": 100})).await;
    assert_eq!(team["repos"].as_array().unwrap().len(), 21, "{text}");
    assert!(team.get("next_page_token").is_none());
    let (text, _) = h.ok("list_repos", json!({"path_prefix": "/Repos/nobody"})).await;
    assert_eq!(text, "No repos under /Repos/nobody.");
    let text = h.err("list_repos", json!({"page_token": "garbage"})).await;
    assert!(text.starts_with("Invalid arguments"), "{text}");
}

#[tokio::test]
async fn a_repo_is_created_checked_out_and_deleted() {
    let h = Harness::start(&["repos"]).await;
    let (text, created) = h
        .ok(
            "create_repo",
            json!({"url": "https://gitlab.com/example/tools.git", "path": "/Repos/team/tools", "branch": "develop"}),
        )
        .await;
    assert!(text.starts_with("Created repo /Repos/team/tools (id "), "{text}");
    assert_eq!((created["provider"].clone(), created["branch"].clone()), (json!("gitLab"), json!("develop")));
    let id = created["id"].as_i64().unwrap();
    let patches = h.requests_to("PATCH", &format!("/api/2.0/repos/{id}"));
    assert_eq!(body(&patches[0]), json!({"branch": "develop"}));

    let (_, by_id) = h.ok("get_repo", json!({"repo_id": id})).await;
    let (_, by_path) = h.ok("get_repo", json!({"repo_path": "/Repos/team/tools"})).await;
    assert_eq!(by_id, by_path);
    assert_eq!(by_id["head_commit_id"], created["head_commit_id"]);

    let (text, tagged) = h.ok("update_repo", json!({"repo_id": id, "tag": "v1.0"})).await;
    assert!(text.contains("Checked out tag v1.0") && text.contains("before: branch develop"), "{text}");
    assert!(tagged["repo"].get("branch").is_none(), "a tag leaves a detached head");
    assert_eq!(tagged["previous_branch"], "develop");
    assert_ne!(tagged["repo"]["head_commit_id"], created["head_commit_id"]);
    let (_, main) = h.ok("update_repo", json!({"repo_path": "/Repos/team/tools", "branch": "main"})).await;
    assert_eq!(main["repo"]["branch"], "main");
    assert!(main.get("previous_branch").is_none());

    let text = h.err("update_repo", json!({"repo_id": id, "branch": "a", "tag": "b"})).await;
    assert_eq!(text, "Invalid arguments: give exactly one of branch or tag");
    let text = h.err("get_repo", json!({})).await;
    assert_eq!(text, "Invalid arguments: give exactly one of repo_id or repo_path");
    let text = h.err("get_repo", json!({"repo_path": "/Repos/demo.user@example.com"})).await;
    assert!(text.contains("is a DIRECTORY, not a Git folder"), "{text}");
    let text = h.err("create_repo", json!({"url": "https://git.example.com/x.git"})).await;
    assert!(text.starts_with("Invalid arguments") && text.contains("provider"), "{text}");

    let (text, deleted) = h.ok("delete_repo", json!({"repo_id": id})).await;
    assert_eq!(text, format!("Deleted repo /Repos/team/tools (id {id})."));
    assert_eq!(deleted["id"], id);
    assert_eq!(h.requests_to("DELETE", &format!("/api/2.0/repos/{id}")).len(), 1);
    let gone = h.err("get_repo", json!({"repo_id": id})).await;
    assert_eq!(gone, format!("Not found: Repo {id} does not exist."));
    let gone = h.err("delete_repo", json!({"repo_id": id})).await;
    assert!(gone.starts_with("Not found"), "{gone}");
}

#[tokio::test]
async fn sync_pulls_the_branch_runs_the_notebook_and_returns_its_result() {
    let h = Harness::start(&["repos", "workspace"]).await;
    let (text, result) = h
        .ok(
            "sync_repo_and_run_notebook",
            json!({"repo_path": ANALYTICS, "branch": "release", "notebook_path": "main", "cluster_id": SHARED_CLUSTER, "parameters": {"date": "2024-06-01"}}),
        )
        .await;
    assert!(text.starts_with(&format!("Pulled release of {ANALYTICS} at ")), "{text}");
    assert!(text.contains("succeeded") && text.ends_with("The notebook gave no exit value."), "{text}");
    assert_eq!(result["finished"], true);
    assert_eq!(result["result_state"], "SUCCESS");
    assert_eq!(result["life_cycle_state"], "TERMINATED");
    assert_eq!(result["repo"]["branch"], "release");
    assert_eq!(result["notebook_path"], format!("{ANALYTICS}/main"));

    let patch = h.requests_to("PATCH", &format!("/api/2.0/repos/{ANALYTICS_ID}"));
    assert_eq!(body(&patch[0]), json!({"branch": "release"}), "the branch was pulled");
    let submitted = h.requests_to("POST", SUBMIT);
    assert_eq!(submitted.len(), 1);
    let task = &body(&submitted[0])["tasks"][0];
    assert_eq!(task["notebook_task"]["notebook_path"], format!("{ANALYTICS}/main"));
    assert_eq!(task["notebook_task"]["base_parameters"], json!({"date": "2024-06-01"}));
    assert_eq!(task["existing_cluster_id"], SHARED_CLUSTER);
    let run_id = result["run_id"].as_i64().unwrap();
    let output = h.requests_to("GET", "/api/2.2/jobs/runs/get-output");
    assert_eq!(output.len(), 1, "the notebook's output was read");
    assert!(h.requests_to("POST", CANCEL).is_empty(), "a finished run is not cancelled");

    // Without a cluster: serverless, on the branch checked out now, by repo id and absolute path.
    let (_, serverless) = h
        .ok(
            "sync_repo_and_run_notebook",
            json!({"repo_id": ANALYTICS_ID, "notebook_path": format!("{ANALYTICS}/main")}),
        )
        .await;
    assert_eq!(serverless["repo"]["branch"], "release");
    assert_ne!(serverless["run_id"], run_id);
    let task = &body(&h.requests_to("POST", SUBMIT)[1])["tasks"][0];
    assert!(task.get("existing_cluster_id").is_none(), "{task}");

    // A notebook that raises: its error comes back.
    h.ok(
        "import_workspace_object",
        json!({"path": format!("{ANALYTICS}/fail_check"), "content": "raise Exception()", "language": "PYTHON"}),
    )
    .await;
    let text =
        h.err("sync_repo_and_run_notebook", json!({"repo_id": ANALYTICS_ID, "notebook_path": "fail_check"})).await;
    assert!(
        text.starts_with("Failed: run ") && text.contains("ended TERMINATED (FAILED): Exception: task notebook failed"),
        "{text}"
    );
    assert!(text.contains("Traceback"), "the end of the trace is shown: {text}");

    let submits = h.requests_to("POST", SUBMIT).len();
    let text =
        h.err("sync_repo_and_run_notebook", json!({"repo_id": ANALYTICS_ID, "notebook_path": "jobs/nope"})).await;
    assert!(
        text.starts_with(&format!("Not found: there is no notebook {ANALYTICS}/jobs/nope on branch release")),
        "{text}"
    );
    let text = h
        .err(
            "sync_repo_and_run_notebook",
            json!({"repo_id": ANALYTICS_ID, "notebook_path": "/Users/demo.user@example.com/ETL Pipeline"}),
        )
        .await;
    assert!(text.starts_with("Invalid arguments") && text.contains("not a notebook inside the repo"), "{text}");
    let text = h.err("sync_repo_and_run_notebook", json!({"repo_id": ANALYTICS_ID, "notebook_path": "../../x"})).await;
    assert!(text.starts_with("Invalid arguments"), "{text}");
    assert_eq!(h.requests_to("POST", SUBMIT).len(), submits, "nothing was run");
}

#[tokio::test]
async fn sync_reports_progress_and_says_how_to_poll_when_the_wait_runs_out() {
    let h = Setup::new(&["repos"]).transition_delay(Duration::from_secs(3)).start().await;
    let (text, result) = h
        .ok(
            "sync_repo_and_run_notebook",
            json!({"repo_id": ANALYTICS_ID, "notebook_path": "main", "timeout_seconds": 2}),
        )
        .await;
    let run_id = result["run_id"].as_i64().unwrap();
    assert_eq!(result["finished"], false, "{text}");
    assert!(result.get("result_state").is_none());
    assert!(
        text.contains(&format!("Run {run_id} of main is still PENDING"))
            && text.contains(&format!("poll it with wait_for_run or get_run (run_id {run_id})")),
        "{text}"
    );
    let progress = h.progress.lock().unwrap().clone();
    let messages: Vec<String> = progress.iter().filter_map(|p| p.message.clone()).collect();
    assert!(messages.iter().any(|m| m.contains(&format!("submitted run {run_id} of main"))), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("PENDING")), "{messages:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(h.requests_to("POST", CANCEL).is_empty(), "a run the wait gave up on keeps running");
}

#[tokio::test]
async fn cancelling_sync_cancels_the_run_it_started() {
    let h = Setup::new(&["repos"]).transition_delay(Duration::from_secs(10)).start().await;
    let params = CallToolRequestParams::new("sync_repo_and_run_notebook")
        .with_arguments(json!({"repo_id": ANALYTICS_ID, "notebook_path": "main"}).as_object().unwrap().clone());
    let handle = h
        .client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(params)),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    within(Duration::from_secs(20), "the run to be submitted", async {
        while h.requests_to("GET", "/api/2.2/jobs/runs/get").is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(h.requests_to("POST", CANCEL).is_empty(), "nothing cancelled while the call runs");
    handle.cancel(Some("test".into())).await.unwrap();
    within(Duration::from_secs(10), "the compensation", async {
        while h.requests_to("POST", CANCEL).is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let submitted = h.requests_to("POST", SUBMIT);
    assert_eq!(submitted.len(), 1);
    let cancel = body(&h.requests_to("POST", CANCEL)[0]);
    let get = &h.requests_to("GET", "/api/2.2/jobs/runs/get")[0];
    assert!(
        get.query.contains(&format!("run_id={}", cancel["run_id"])),
        "the run it started: {cancel} vs {}",
        get.query
    );
}

#[tokio::test]
async fn another_users_repos_are_out_of_reach() {
    let h = Setup::new(&["repos"]).token(ALICE_TOKEN).start().await;
    let denied = |verb: &str| {
        format!(
            "Permission denied: alice.nguyen@example.com does not have {verb} permissions on {ANALYTICS}. Please contact the owner or an administrator for access. (403 PERMISSION_DENIED)"
        )
    };
    let (text, listed) = h.ok("list_repos", json!({})).await;
    assert_eq!(text, "No repos.");
    assert_eq!(listed["repos"], json!([]));
    assert_eq!(h.err("get_repo", json!({"repo_id": ANALYTICS_ID})).await, denied("Read"));
    assert_eq!(h.err("get_repo", json!({"repo_path": ANALYTICS})).await, denied("Read"));
    assert_eq!(h.err("delete_repo", json!({"repo_id": ANALYTICS_ID})).await, denied("Read"));
    assert_eq!(
        h.err("sync_repo_and_run_notebook", json!({"repo_id": ANALYTICS_ID, "notebook_path": "main"})).await,
        denied("Read")
    );
    assert!(
        h.requests_to("POST", SUBMIT).is_empty()
            && h.requests_to("DELETE", &format!("/api/2.0/repos/{ANALYTICS_ID}")).is_empty()
    );
    // Her own repo, in her own folder, she runs.
    let (_, mine) = h.ok("create_repo", json!({"url": "https://github.com/example/alice-tools.git"})).await;
    assert_eq!(mine["path"], "/Repos/alice.nguyen@example.com/alice-tools");
}

#[tokio::test]
async fn arguments_that_break_the_schema_never_reach_the_plugin() {
    let h = Harness::start(&["repos"]).await;
    let before = h.emulator.requests().len();
    let text = h.err("get_repo", json!({"repo_id": "abc"})).await;
    assert!(text.contains("repo_id") || text.contains("\"abc\""), "{text}");
    let text = h.err("sync_repo_and_run_notebook", json!({"repo_id": ANALYTICS_ID})).await;
    assert!(text.contains("notebook_path"), "{text}");
    let text = h.err("create_repo", json!({"url": "https://github.com/x/y", "provider": "sourceforge"})).await;
    assert!(text.contains("sourceforge"), "{text}");
    assert_eq!(h.emulator.requests().len(), before, "nothing was sent to the workspace");
}
