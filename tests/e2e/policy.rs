//! The operator policy, through MCP: what it hides is neither listed nor callable, what it
//! refuses does not load while the rest serve, and narrowed grants refuse requests the plugin
//! declared. The config file and the environment both set it.

use std::collections::BTreeSet;

use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::support::{Harness, Setup, protocol_error};

async fn tool_names(h: &Harness) -> BTreeSet<String> {
    h.tools().await.iter().map(|t| t.name.to_string()).collect()
}

fn sha256_of(package: &str) -> String {
    let bytes = std::fs::read(test_plugins::wasm(package)).unwrap();
    Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn read_only_mode_hides_and_refuses_mutating_tools() {
    let h = Setup::new(&["clusters"]).config("[policy]\nread_only = true").start().await;
    let tools = h.tools().await;
    let names: BTreeSet<String> = tools.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(
        names,
        [
            "get_cluster",
            "list_cluster_events",
            "list_clusters",
            "list_node_types",
            "list_spark_versions",
            "wait_for_cluster"
        ]
        .map(String::from)
        .into(),
    );
    assert!(tools.iter().all(|t| t.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true)));
    h.ok("list_clusters", json!({"limit": 1})).await;

    // A hidden tool is exactly as unknown as one that never existed: nothing tells the model
    // that it is there.
    let hidden = protocol_error(&h, "create_cluster").await;
    let nonexistent = protocol_error(&h, "no_such_tool").await;
    assert_eq!(hidden.replace("create_cluster", "X"), nonexistent.replace("no_such_tool", "X"));
    assert!(hidden.contains("unknown tool `create_cluster`"), "{hidden}");
    assert!(h.requests_to("POST", "/api/2.1/clusters/create").is_empty());
}

#[tokio::test]
async fn a_prefix_serves_two_plugins_that_name_a_tool_alike() {
    let h = Setup::new(&["clusters", "fixture-collide"]).config("[plugins.collide]\nprefix = \"other_\"").start().await;
    let names = tool_names(&h).await;
    assert!(names.contains("list_clusters") && names.contains("other_list_clusters"), "{names:?}");
    assert!(!h.log().contains("collides"), "{}", h.log());
    // Each name reaches its own plugin, which is called by its own tool name.
    let (text, _) = h.ok("other_list_clusters", json!({})).await;
    assert_eq!(text, "not the real one");
    let (_, data) = h.ok("list_clusters", json!({"limit": 1})).await;
    assert_eq!(data["clusters"].as_array().unwrap().len(), 1);
    // Patterns match the names clients see.
    let h = Setup::new(&["clusters", "fixture-collide"])
        .config("[policy]\ndeny_tools = [\"other_*\"]\n[plugins.collide]\nprefix = \"other_\"")
        .start()
        .await;
    assert!(!tool_names(&h).await.contains("other_list_clusters"));
    assert!(protocol_error(&h, "other_list_clusters").await.contains("unknown tool"));
}

#[tokio::test]
async fn tool_patterns_hide_tools_and_deny_wins() {
    let h = Setup::new(&["clusters"])
        .config("[policy]\nallow_tools = [\"*_cluster\", \"list_*\"]\ndeny_tools = [\"*delete*\", \"pin_*\"]")
        .start()
        .await;
    let names = tool_names(&h).await;
    let expected: BTreeSet<String> = [
        "create_cluster",
        "edit_cluster",
        "get_cluster",
        "list_cluster_events",
        "list_clusters",
        "list_node_types",
        "list_spark_versions",
        "restart_cluster",
        "resize_cluster",
        "start_cluster",
        "terminate_cluster",
        "unpin_cluster",
        "wait_for_cluster",
    ]
    .map(String::from)
    .into();
    assert_eq!(names, expected, "permanently_delete_cluster and pin_cluster are denied; patterns match whole names");
    assert!(protocol_error(&h, "pin_cluster").await.contains("unknown tool"));
}

#[tokio::test]
async fn a_denied_plugin_and_a_digest_mismatch_are_refused_while_the_rest_serve() {
    let wrong = "0".repeat(64);
    let h = Setup::new(&["clusters", "secrets", "sql"])
        .config(&format!(
            "[policy]\ndeny_plugins = [\"secrets\"]\n[plugins.clusters]\nsha256 = \"{}\"\n[plugins.sql]\nsha256 = \"{wrong}\"",
            sha256_of("clusters")
        ))
        .start()
        .await;
    let names = tool_names(&h).await;
    assert_eq!(names.len(), 15, "only the clusters tools: {names:?}");
    assert!(names.contains("list_clusters") && !names.contains("list_secret_scopes") && !names.contains("execute_sql"));
    h.ok("list_clusters", json!({"limit": 1})).await;

    let log = h.log();
    // The one line that says why the file was not loaded.
    let line = |file: &str| {
        log.lines()
            .find(|l| l.contains(&format!("plugin {}", file)) || l.contains(&format!("/{file}: ")))
            .unwrap_or_else(|| panic!("no line about {file}:\n{log}"))
            .to_string()
    };
    let denied = line("secrets.wasm");
    assert!(denied.contains("plugin `secrets` is denied by the operator policy (policy.deny_plugins)"), "{denied}");
    let pinned = line("sql.wasm");
    assert!(pinned.contains("ERROR"), "{pinned}");
    assert!(
        pinned.contains(&sha256_of("sql")) && pinned.contains(&wrong) && pinned.contains("plugins.sql.sha256"),
        "{pinned}"
    );
}

#[tokio::test]
async fn a_narrowed_grant_makes_the_call_fail_with_a_clear_denial() {
    let h =
        Setup::new(&["clusters"]).config("[plugins.clusters]\ngrants = [\"GET /api/2.1/clusters/*\"]").start().await;
    assert_eq!(tool_names(&h).await.len(), 15, "narrowing grants hides no tool");
    h.ok("list_clusters", json!({"limit": 1})).await;
    let text = h
        .err(
            "create_cluster",
            json!({"cluster_name": "narrowed", "spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}),
        )
        .await;
    assert!(
        text.contains(
            "POST /api/2.1/clusters/create was declared by plugin `clusters`, but the operator narrowed its grants"
        ),
        "{text}"
    );
    assert!(h.requests_to("POST", "/api/2.1/clusters/create").is_empty(), "nothing reached the workspace");
}

#[tokio::test]
async fn environment_overrides_beat_the_file() {
    let h = Setup::new(&["clusters", "secrets"])
        .config("[policy]\nread_only = false\ndeny_plugins = [\"clusters\"]")
        .env("DATABRICKS_MCP_READ_ONLY", "true")
        .env("DATABRICKS_MCP_DENY_PLUGINS", "secrets")
        .env("DATABRICKS_MCP_DENY_TOOLS", "wait_*,list_node_types")
        .start()
        .await;
    let names = tool_names(&h).await;
    assert_eq!(
        names,
        ["get_cluster", "list_cluster_events", "list_clusters", "list_spark_versions"].map(String::from).into(),
        "clusters loads (the env's deny list replaces the file's), read-only, minus the denied patterns"
    );
}
