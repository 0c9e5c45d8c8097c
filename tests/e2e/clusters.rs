//! Every clusters tool, through MCP, against the emulator.

use std::time::Duration;

use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::support::{Harness, Setup, within};

const CLUSTER_TOOLS: [&str; 15] = [
    "list_clusters",
    "get_cluster",
    "list_cluster_events",
    "list_node_types",
    "list_spark_versions",
    "create_cluster",
    "edit_cluster",
    "start_cluster",
    "restart_cluster",
    "resize_cluster",
    "terminate_cluster",
    "permanently_delete_cluster",
    "pin_cluster",
    "unpin_cluster",
    "wait_for_cluster",
];

async fn running_cluster(h: &Harness) -> String {
    let (_, data) = h.ok("list_clusters", json!({"states": ["RUNNING"], "limit": 1})).await;
    data["clusters"][0]["cluster_id"].as_str().expect("the test seed has a running cluster").to_string()
}

async fn create(h: &Harness, name: &str) -> String {
    let (text, data) = h
        .ok("create_cluster", json!({"cluster_name": name, "spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 2, "spark_conf": {"a": "1", "b": "2"}}))
        .await;
    assert!(text.contains(name), "{text}");
    data["cluster_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn lists_every_clusters_tool_with_schemas_and_annotations() {
    let h = Harness::start(&["clusters"]).await;
    let tools = h.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, CLUSTER_TOOLS, "deterministic order: declaration order");
    for tool in &tools {
        assert!(tool.description.as_ref().is_some_and(|d| d.len() > 20), "{} needs a real description", tool.name);
        assert_eq!(tool.input_schema.get("type"), Some(&json!("object")), "{}", tool.name);
        assert!(tool.output_schema.is_some(), "{} should declare an output schema", tool.name);
        assert!(tool.annotations.is_some(), "{} should have annotations", tool.name);
    }
    let tool = |name: &str| tools.iter().find(|t| t.name == name).unwrap();
    let list = tool("list_clusters");
    assert_eq!(list.annotations.as_ref().unwrap().read_only_hint, Some(true));
    let limit_type = &list.input_schema["properties"].as_object().unwrap()["limit"]["type"];
    assert!(
        limit_type == &json!("integer") || limit_type.as_array().is_some_and(|a| a.contains(&json!("integer"))),
        "limit stays an integer: {limit_type}"
    );
    for destructive in ["terminate_cluster", "permanently_delete_cluster", "restart_cluster", "edit_cluster"] {
        let a = tool(destructive).annotations.clone().unwrap();
        assert_eq!((a.read_only_hint, a.destructive_hint), (Some(false), Some(true)), "{destructive}");
    }
    assert_eq!(tool("create_cluster").annotations.clone().unwrap().destructive_hint, Some(false));
}

#[tokio::test]
async fn lists_clusters_one_page_at_a_time_and_filters_by_state() {
    let h = Harness::start(&["clusters"]).await;
    for i in 0..3 {
        create(&h, &format!("paging-{i}")).await;
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..20 {
        let mut args = json!({"limit": 2});
        if let Some(t) = &token {
            args["page_token"] = json!(t);
        }
        let (text, data) = h.ok("list_clusters", args).await;
        let page = data["clusters"].as_array().unwrap();
        assert!(page.len() <= 2);
        assert_eq!(text.lines().filter(|l| l.contains("): ")).count(), page.len(), "one line per cluster: {text}");
        seen.extend(page.iter().map(|c| c["cluster_id"].as_str().unwrap().to_string()));
        token = data.get("next_page_token").and_then(Value::as_str).map(str::to_string);
        if token.is_none() {
            break;
        }
        assert!(text.contains("page_token"), "the text tells the model how to get more: {text}");
    }
    assert!(token.is_none(), "pagination ends");
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no cluster twice across pages");
    assert!(seen.len() >= 5, "seeded clusters plus three created: {seen:?}");

    let (_, data) = h.ok("list_clusters", json!({"states": ["TERMINATED"]})).await;
    let terminated = data["clusters"].as_array().unwrap();
    assert!(!terminated.is_empty());
    assert!(terminated.iter().all(|c| c["state"] == "TERMINATED"));
}

#[tokio::test]
async fn a_cluster_lives_its_whole_life_through_the_tools() {
    let h = Harness::start(&["clusters"]).await;
    let id = create(&h, "lifecycle").await;

    let (text, cluster) = h.ok("wait_for_cluster", json!({"cluster_id": id})).await;
    assert_eq!(cluster["state"], "RUNNING", "{text}");
    assert_eq!(cluster["num_workers"], 2);

    let (_, got) = h.ok("get_cluster", json!({"cluster_id": id})).await;
    assert_eq!(got["cluster_name"], "lifecycle");
    assert_eq!(got["spark_version"], "15.4.x-scala2.12");

    h.ok("resize_cluster", json!({"cluster_id": id, "autoscale": {"min_workers": 1, "max_workers": 4}})).await;
    h.ok("wait_for_cluster", json!({"cluster_id": id})).await;
    let (_, got) = h.ok("get_cluster", json!({"cluster_id": id})).await;
    assert_eq!(got["autoscale"], json!({"min_workers": 1, "max_workers": 4}));

    let (text, _) = h
        .ok(
            "edit_cluster",
            json!({"cluster_id": id, "autotermination_minutes": 30, "cluster_name": "renamed", "spark_conf": {"b": null, "c": "3"}}),
        )
        .await;
    assert!(text.contains("autotermination_minutes") && text.contains("restarts"), "{text}");
    h.ok("wait_for_cluster", json!({"cluster_id": id})).await;
    let (_, got) = h.ok("get_cluster", json!({"cluster_id": id})).await;
    assert_eq!((got["autotermination_minutes"].clone(), got["cluster_name"].clone()), (json!(30), json!("renamed")));
    assert_eq!(
        got["autoscale"],
        json!({"min_workers": 1, "max_workers": 4}),
        "edit keeps what it was not asked to change"
    );
    assert_eq!(got["spark_conf"], json!({"a": "1", "c": "3"}), "maps are merged key by key; null removes");

    h.ok("restart_cluster", json!({"cluster_id": id})).await;
    h.ok("wait_for_cluster", json!({"cluster_id": id})).await;

    let (text, _) = h.ok("start_cluster", json!({"cluster_id": id})).await;
    assert!(text.contains("already"), "starting a running cluster is a no-op: {text}");

    h.ok("terminate_cluster", json!({"cluster_id": id})).await;
    let (_, got) = h.ok("wait_for_cluster", json!({"cluster_id": id, "target": "TERMINATED"})).await;
    assert_eq!(got["state"], "TERMINATED");
    let failed = h.err("wait_for_cluster", json!({"cluster_id": id, "timeout_seconds": 5})).await;
    assert!(failed.contains("TERMINATED") && failed.contains("start_cluster"), "{failed}");

    h.ok("start_cluster", json!({"cluster_id": id})).await;
    h.ok("wait_for_cluster", json!({"cluster_id": id})).await;

    h.ok("pin_cluster", json!({"cluster_id": id})).await;
    let (_, pinned) = h.ok("list_clusters", json!({"pinned_only": true, "limit": 100})).await;
    assert!(pinned["clusters"].as_array().unwrap().iter().any(|c| c["cluster_id"] == json!(id)));
    h.ok("unpin_cluster", json!({"cluster_id": id})).await;
    let (_, pinned) = h.ok("list_clusters", json!({"pinned_only": true, "limit": 100})).await;
    assert!(!pinned["clusters"].as_array().unwrap().iter().any(|c| c["cluster_id"] == json!(id)));

    let (text, events) = h.ok("list_cluster_events", json!({"cluster_id": id, "limit": 3})).await;
    assert_eq!(events["events"].as_array().unwrap().len(), 3, "{text}");
    let token = events["next_page_token"].as_str().expect("more events than one page of 3").to_string();
    let (_, more) = h.ok("list_cluster_events", json!({"cluster_id": id, "limit": 3, "page_token": token})).await;
    assert_ne!(events["events"][0], more["events"][0], "the second page is a different page");

    let (text, _) = h.ok("permanently_delete_cluster", json!({"cluster_id": id})).await;
    assert!(text.contains("permanently deleted"), "{text}");
    let gone = h.err("get_cluster", json!({"cluster_id": id})).await;
    assert_eq!(gone, format!("Not found: Cluster {id} does not exist"));
}

#[tokio::test]
async fn unknown_clusters_and_invalid_states_are_clear_errors() {
    let h = Harness::start(&["clusters"]).await;
    let text = h.err("get_cluster", json!({"cluster_id": "0000-000000-nosuch"})).await;
    assert_eq!(text, "Not found: Cluster 0000-000000-nosuch does not exist");
    // The workspace refuses to restart a terminated cluster; the model reads why.
    let (_, terminated) = h.ok("list_clusters", json!({"states": ["TERMINATED"], "limit": 1})).await;
    let id = terminated["clusters"][0]["cluster_id"].as_str().unwrap();
    let text = h.err("restart_cluster", json!({"cluster_id": id})).await;
    assert_eq!(
        text,
        format!("Databricks API error 400 INVALID_STATE: Cluster {id} is in unexpected state Terminated.")
    );
    // The plugin's own checks of arguments the schema cannot express.
    let running = running_cluster(&h).await;
    let text = h.err("resize_cluster", json!({"cluster_id": running})).await;
    assert!(text.contains("exactly one of num_workers or autoscale"), "{text}");
}

#[tokio::test]
async fn arguments_that_break_the_schema_never_reach_the_plugin() {
    let h = Harness::start(&["clusters"]).await;
    let before = h.emulator.requests().len();
    let text = h.err("get_cluster", json!({})).await;
    assert!(text.contains("input schema") && text.contains("cluster_id"), "{text}");
    let text = h.err("list_clusters", json!({"limit": "ten"})).await;
    assert!(text.contains("limit") || text.contains("\"ten\""), "{text}");
    let text = h.err("list_clusters", json!({"states": ["SLEEPING"]})).await;
    assert!(text.contains("SLEEPING"), "{text}");
    assert_eq!(h.emulator.requests().len(), before, "nothing was sent to the workspace");
}

#[tokio::test]
async fn node_types_and_runtime_versions_can_be_filtered() {
    let h = Harness::start(&["clusters"]).await;
    let (text, all) = h.ok("list_node_types", json!({})).await;
    assert!(!all["node_types"].as_array().unwrap().is_empty(), "{text}");
    let (_, lts) = h.ok("list_spark_versions", json!({"contains": "LTS"})).await;
    let versions = lts["versions"].as_array().unwrap();
    assert!(!versions.is_empty());
    assert!(versions.iter().all(|v| v["name"].as_str().unwrap().contains("LTS")));
    let (_, one) = h.ok("list_spark_versions", json!({"limit": 1})).await;
    assert_eq!(one["versions"].as_array().unwrap().len(), 1);
    assert!(one["total_matching"].as_u64().unwrap() > 1);
}

#[tokio::test]
async fn throttled_and_unavailable_answers_are_retried() {
    let h = Harness::start(&["clusters"]).await;
    let id = running_cluster(&h).await;
    let path = "/api/2.1/clusters/get";
    let before = h.requests_to("GET", path).len();
    h.emulator.inject(databricks_emulator::Fault {
        method: Some("GET".into()),
        path: path.into(),
        kind: databricks_emulator::FaultKind::TooManyRequests { retry_after_secs: Some(1) },
        count: 1,
    });
    h.emulator.inject(databricks_emulator::Fault {
        method: Some("GET".into()),
        path: path.into(),
        kind: databricks_emulator::FaultKind::Unavailable,
        count: 1,
    });
    let started = std::time::Instant::now();
    let (_, cluster) = h.ok("get_cluster", json!({"cluster_id": id})).await;
    assert_eq!(cluster["cluster_id"], json!(id));
    assert_eq!(h.requests_to("GET", path).len() - before, 3, "one 429, one 503, one success");
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After was honoured");
}

#[tokio::test]
async fn a_wrong_token_is_a_permission_error_that_does_not_leak_the_token() {
    let h = Setup::new(&["clusters"]).token("dapi-wrong-token-0000").start().await;
    let text = h.err("list_clusters", json!({})).await;
    assert!(text.starts_with("Permission denied") && text.contains("401"), "{text}");
    assert!(!text.contains("dapi-wrong-token-0000"));
    assert!(!h.log().contains("dapi-wrong-token-0000"), "the token is never logged");
}

#[tokio::test]
async fn waiting_reports_progress_to_a_client_that_asked() {
    let h = Setup::new(&["clusters"]).transition_delay(Duration::from_millis(1500)).start().await;
    let id = create(&h, "slow-start").await;
    // rmcp's client attaches a progress token to every request, as a client that wants progress does.
    let params = CallToolRequestParams::new("wait_for_cluster")
        .with_arguments(json!({"cluster_id": id}).as_object().unwrap().clone());
    let result = within(Duration::from_secs(30), "wait_for_cluster", h.client.call_tool(params)).await.unwrap();
    assert_ne!(result.is_error, Some(true), "{result:?}");
    assert_eq!(result.structured_content.unwrap()["state"], "RUNNING");
    let progress = h.progress.lock().unwrap().clone();
    assert!(!progress.is_empty(), "at least one progress notification");
    assert!(progress.windows(2).all(|w| w[0].progress_token == w[1].progress_token), "{progress:?}");
    assert!(progress.iter().any(|p| p.message.as_deref().is_some_and(|m| m.contains("PENDING"))), "{progress:?}");
}
