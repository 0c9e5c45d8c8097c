//! Every libraries tool, through MCP, against the emulator.

use std::time::Duration;

use databricks_emulator::ALICE_TOKEN;
use rmcp::model::{CallToolRequestParams, ClientRequest, Request};
use rmcp::service::PeerRequestOptions;
use serde_json::{Value, json};

use crate::support::{Harness, Setup, within};

const LIBRARIES_TOOLS: [&str; 4] =
    ["install_libraries", "uninstall_libraries", "get_cluster_libraries", "list_all_cluster_library_statuses"];

/// Test seed clusters: running (pypi requests==2.32.3 and a maven package installed), running
/// (Alice's), running (hidden from Alice), terminated.
const SHARED: &str = "0101-000000-shared01";
const ML_GPU: &str = "0101-000000-mlgpu001";
const REPORT: &str = "0101-000000-report01";
const ETL: &str = "0101-000000-etlnig01";

fn statuses(data: &Value) -> Vec<(String, String)> {
    data["library_statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["library"].to_string(), s["status"].as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn lists_every_libraries_tool_with_schemas_and_annotations() {
    let h = Harness::start(&["libraries"]).await;
    let tools = h.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, LIBRARIES_TOOLS);
    for tool in &tools {
        assert!(tool.description.as_ref().is_some_and(|d| d.len() > 40), "{} needs a real description", tool.name);
        assert!(tool.output_schema.is_some(), "{}", tool.name);
    }
    let tool = |name: &str| tools.iter().find(|t| t.name == name).unwrap();
    for read_only in ["get_cluster_libraries", "list_all_cluster_library_statuses"] {
        assert_eq!(tool(read_only).annotations.clone().unwrap().read_only_hint, Some(true), "{read_only}");
    }
    let uninstall = tool("uninstall_libraries");
    assert_eq!(uninstall.annotations.clone().unwrap().destructive_hint, Some(true));
    assert!(uninstall.description.as_ref().unwrap().contains("restart"), "uninstall says it needs a restart");
    let install = tool("install_libraries").annotations.clone().unwrap();
    assert_eq!((install.read_only_hint, install.destructive_hint), (Some(false), Some(false)));
    let kinds = tool("install_libraries").input_schema["properties"]["libraries"].to_string();
    for kind in ["pypi", "maven", "cran", "jar", "whl", "requirements"] {
        assert!(kinds.contains(&format!("\"{kind}\"")), "{kind} in {kinds}");
    }
}

#[tokio::test]
async fn statuses_are_read_per_cluster_and_for_all_clusters_one_page_at_a_time() {
    let h = Harness::start(&["libraries"]).await;
    let (text, data) = h.ok("get_cluster_libraries", json!({"cluster_id": SHARED})).await;
    assert_eq!(
        statuses(&data),
        [
            (json!({"pypi": {"package": "requests==2.32.3"}}).to_string(), "INSTALLED".to_string()),
            (json!({"maven": {"coordinates": "com.databricks:spark-xml_2.12:0.18.0"}}).to_string(), "INSTALLED".into()),
        ]
    );
    assert!(text.starts_with(&format!("Cluster {SHARED}: 2 libraries: 2 INSTALLED")), "{text}");
    assert!(text.contains("pypi requests==2.32.3: INSTALLED"), "{text}");
    let (_, one) = h.ok("get_cluster_libraries", json!({"cluster_id": SHARED, "limit": 1})).await;
    let token = one["next_page_token"].as_str().unwrap().to_string();
    let (_, two) = h.ok("get_cluster_libraries", json!({"cluster_id": SHARED, "limit": 1, "page_token": token})).await;
    assert_eq!(two["library_statuses"][0]["library"]["maven"]["coordinates"], "com.databricks:spark-xml_2.12:0.18.0");
    assert!(two.get("next_page_token").is_none());

    let (text, none) = h.ok("get_cluster_libraries", json!({"cluster_id": ETL})).await;
    assert!(none["library_statuses"].as_array().unwrap().is_empty());
    assert_eq!(text, format!("Cluster {ETL} has no libraries."));

    let (text, all) = h.ok("list_all_cluster_library_statuses", json!({})).await;
    let ids: Vec<&str> =
        all["statuses"].as_array().unwrap().iter().map(|s| s["cluster_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [ML_GPU, SHARED]);
    assert_eq!(text.lines().count(), 2, "one line per cluster: {text}");
    let (text, first) = h.ok("list_all_cluster_library_statuses", json!({"limit": 1})).await;
    let token = first["next_page_token"].as_str().expect("two clusters, pages of one");
    assert!(text.contains(token), "{text}");
    let (_, second) = h.ok("list_all_cluster_library_statuses", json!({"limit": 1, "page_token": token})).await;
    assert_eq!(second["statuses"][0]["cluster_id"], SHARED);
}

#[tokio::test]
async fn installing_with_a_wait_reports_progress_until_installed() {
    let h = Setup::new(&["libraries"]).transition_delay(Duration::from_millis(700)).start().await;
    let (text, data) = h
        .ok(
            "install_libraries",
            json!({"cluster_id": SHARED, "wait_seconds": 60, "libraries": [
                {"pypi": {"package": "pandas==2.2.3"}},
                {"whl": "/Volumes/main/libs/wheels/tools-1.0-py3-none-any.whl"},
                {"pypi": {"package": "requests==2.32.3"}}
            ]}),
        )
        .await;
    assert_eq!(data["settled"], true, "{text}");
    assert!(text.starts_with("Installed pypi pandas==2.2.3, whl /Volumes"), "{text}");
    let got: Vec<String> = statuses(&data).into_iter().map(|(_, s)| s).collect();
    assert_eq!(got, ["INSTALLED", "INSTALLED", "INSTALLED"], "{text}");
    let install = h.requests_to("POST", "/api/2.0/libraries/install");
    assert_eq!(install.len(), 1);
    let body: Value = serde_json::from_str(&install[0].body).unwrap();
    assert_eq!(body["libraries"][1], json!({"whl": "/Volumes/main/libs/wheels/tools-1.0-py3-none-any.whl"}));
    let progress = h.progress.lock().unwrap().clone();
    let messages: Vec<String> = progress.iter().filter_map(|p| p.message.clone()).collect();
    assert!(
        messages.iter().any(|m| m.contains("pandas==2.2.3: RESOLVING") || m.contains("pandas==2.2.3: PENDING")),
        "{messages:?}"
    );
    let (_, now) = h.ok("get_cluster_libraries", json!({"cluster_id": SHARED})).await;
    assert_eq!(now["library_statuses"].as_array().unwrap().len(), 4, "requests was not installed twice");
}

#[tokio::test]
async fn a_wait_that_runs_out_says_how_to_poll_and_a_failure_says_why() {
    let h = Setup::new(&["libraries"]).transition_delay(Duration::from_secs(30)).start().await;
    let (text, data) = h
        .ok(
            "install_libraries",
            json!({"cluster_id": ML_GPU, "wait_seconds": 2, "libraries": [{"cran": {"package": "forecast"}}]}),
        )
        .await;
    assert_eq!(data["settled"], false, "{text}");
    assert!(text.starts_with("Still installing after 2 s") && text.contains("get_cluster_libraries"), "{text}");
    assert_eq!(statuses(&data)[0].1, "PENDING");
    // Without a wait the answer comes at once with the current status.
    let (text, data) =
        h.ok("install_libraries", json!({"cluster_id": ML_GPU, "libraries": [{"jar": "/Volumes/main/j/x.jar"}]})).await;
    assert_eq!(data["settled"], false);
    assert!(text.contains("Requested install") && text.contains("get_cluster_libraries"), "{text}");
    // On a terminated cluster there is nothing to wait for.
    let (text, data) = h
        .ok(
            "install_libraries",
            json!({"cluster_id": ETL, "wait_seconds": 60, "libraries": [{"pypi": {"package": "x"}}]}),
        )
        .await;
    assert_eq!(data["settled"], false);
    assert!(text.contains("TERMINATED") && text.contains("start"), "{text}");

    let h = Harness::start(&["libraries"]).await;
    let text = h
        .err(
            "install_libraries",
            json!({"cluster_id": SHARED, "wait_seconds": 30, "libraries": [{"pypi": {"package": "does-not-exist-pkg==1.0"}}]}),
        )
        .await;
    assert!(text.starts_with("Failed: 1 of 1 libraries failed"), "{text}");
    assert!(text.contains("No matching distribution found for does-not-exist-pkg==1.0"), "{text}");
}

#[tokio::test]
async fn cancelling_a_wait_uninstalls_only_the_libraries_it_added() {
    let h = Setup::new(&["libraries"]).transition_delay(Duration::from_secs(30)).start().await;
    let params = CallToolRequestParams::new("install_libraries").with_arguments(
        json!({"cluster_id": SHARED, "wait_seconds": 120, "libraries": [
            {"pypi": {"package": "requests==2.32.3"}},
            {"pypi": {"package": "polars==1.9.0"}}
        ]})
        .as_object()
        .unwrap()
        .clone(),
    );
    let handle = h
        .client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(params)),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    within(Duration::from_secs(20), "the wait to start", async {
        while h.progress.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(h.requests_to("POST", "/api/2.0/libraries/uninstall").is_empty());
    handle.cancel(Some("test".into())).await.unwrap();
    within(Duration::from_secs(10), "the compensation", async {
        while h.requests_to("POST", "/api/2.0/libraries/uninstall").is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let body: Value = serde_json::from_str(&h.requests_to("POST", "/api/2.0/libraries/uninstall")[0].body).unwrap();
    assert_eq!(body["libraries"], json!([{"pypi": {"package": "polars==1.9.0"}}]), "requests was there before");
    let (_, now) = h.ok("get_cluster_libraries", json!({"cluster_id": SHARED})).await;
    let got = statuses(&now);
    assert!(got.contains(&(json!({"pypi": {"package": "polars==1.9.0"}}).to_string(), "UNINSTALL_ON_RESTART".into())));
    assert!(got.contains(&(json!({"pypi": {"package": "requests==2.32.3"}}).to_string(), "INSTALLED".into())));
}

#[tokio::test]
async fn uninstalling_takes_effect_on_restart_and_says_so() {
    let h = Harness::start(&["libraries"]).await;
    let (text, data) = h
        .ok(
            "uninstall_libraries",
            json!({"cluster_id": SHARED, "libraries": [
                {"pypi": {"package": "requests==2.32.3"}},
                {"pypi": {"package": "never-installed"}}
            ]}),
        )
        .await;
    assert!(text.contains("restarts") && text.contains("restart_cluster"), "{text}");
    assert!(text.contains("ignored: pypi never-installed"), "{text}");
    assert_eq!(
        statuses(&data),
        [(json!({"pypi": {"package": "requests==2.32.3"}}).to_string(), "UNINSTALL_ON_RESTART".to_string())]
    );
    let (text, _) = h.ok("get_cluster_libraries", json!({"cluster_id": SHARED})).await;
    assert!(text.contains("pypi requests==2.32.3: UNINSTALL_ON_RESTART"), "{text}");
}

#[tokio::test]
async fn permissions_unknown_clusters_and_bad_libraries_are_clear_errors() {
    let h = Setup::new(&["libraries"]).token(ALICE_TOKEN).start().await;
    // Alice may attach to shared01 but not manage it; report01 is hidden from her.
    h.ok("get_cluster_libraries", json!({"cluster_id": SHARED})).await;
    let text =
        h.err("install_libraries", json!({"cluster_id": SHARED, "libraries": [{"pypi": {"package": "polars"}}]})).await;
    assert!(text.starts_with("Permission denied") && text.contains("403"), "{text}");
    assert!(h.requests_to("POST", "/api/2.0/libraries/install").len() == 1, "the workspace refused it");
    let text = h.err("get_cluster_libraries", json!({"cluster_id": REPORT})).await;
    assert!(text.starts_with("Permission denied"), "{text}");
    let (_, all) = h.ok("list_all_cluster_library_statuses", json!({})).await;
    assert!(!all.to_string().contains(REPORT));
    // Her own cluster she manages.
    h.ok("install_libraries", json!({"cluster_id": ML_GPU, "libraries": [{"pypi": {"package": "polars"}}]})).await;

    let h = Harness::start(&["libraries"]).await;
    let text = h.err("get_cluster_libraries", json!({"cluster_id": "0000-000000-nosuch"})).await;
    assert!(text.starts_with("Not found") && text.contains("0000-000000-nosuch"), "{text}");
    let before = h.emulator.requests().len();
    // Two kinds in one library, or an unknown kind, break the schema.
    let text = h
        .err("install_libraries", json!({"cluster_id": SHARED, "libraries": [{"jar": "/a.jar", "whl": "/b.whl"}]}))
        .await;
    assert!(text.contains("input schema"), "{text}");
    let text = h.err("install_libraries", json!({"cluster_id": SHARED, "libraries": [{"egg": "/a.egg"}]})).await;
    assert!(text.contains("input schema"), "{text}");
    for (libraries, expected) in [
        (json!([]), "at least one library"),
        (json!([{"maven": {"coordinates": "only:two"}}]), "groupId:artifactId:version"),
        (json!([{"pypi": {"package": " "}}]), "non-empty"),
    ] {
        let text = h.err("install_libraries", json!({"cluster_id": SHARED, "libraries": libraries})).await;
        assert!(text.starts_with("Invalid arguments") && text.contains(expected), "{text}");
    }
    assert_eq!(h.emulator.requests().len(), before, "nothing was sent to the workspace");
}
