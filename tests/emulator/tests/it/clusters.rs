use std::time::Duration;

use databricks_emulator::EmulatorConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::util::{Api, ETL_NIGHTLY, SHARED, assert_error, has_null};

fn event_types(events: &Value) -> Vec<String> {
    events["events"]
        .as_array()
        .map(|es| es.iter().filter_map(|e| e["type"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_created_cluster_is_pending_for_one_delay_then_running() {
    let delay = Duration::from_millis(200);
    let api = Api::with(EmulatorConfig { transition_delay: delay, ..EmulatorConfig::default() }).await;
    let id = api.create("slow").await;

    let pending = api.cluster(&id).await;
    assert_eq!(pending["state"], "PENDING");
    assert!(pending.get("driver").is_none(), "no driver before the cluster is up");

    tokio::time::sleep(delay + Duration::from_millis(100)).await;
    let running = api.cluster(&id).await;
    assert_eq!(running["state"], "RUNNING");
    assert!(running["spark_context_id"].is_i64());
    assert_eq!(running["executors"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn with_zero_delay_the_next_read_sees_running() {
    let api = Api::start().await;
    let id = api.create("fast").await;
    assert_eq!(api.emu.cluster_state(&id).as_deref(), Some("RUNNING"));
    assert_eq!(api.cluster(&id).await["state"], "RUNNING");
}

#[tokio::test]
async fn cluster_details_look_like_the_service() {
    let api = Api::start().await;
    let id = api.create("shape").await;
    let c = api.cluster(&id).await;
    assert!(!has_null(&c), "{c}");
    assert_eq!(c["creator_user_name"], "demo.user@example.com");
    assert_eq!(c["cluster_source"], "API");
    assert_eq!(c["num_workers"], 1);
    assert_eq!(c["driver_node_type_id"], "i3.xlarge");
    assert_eq!(
        c["default_tags"],
        json!({"Vendor": "Databricks", "Creator": "demo.user@example.com", "ClusterName": "shape", "ClusterId": id})
    );
    assert!(c["cluster_memory_mb"].as_u64() > Some(0));
    assert!(c.get("terminated_time").is_none());

    let shared = api.cluster(SHARED).await;
    assert_eq!(shared["autoscale"], json!({"min_workers": 2, "max_workers": 8}));
    assert!(shared.get("num_workers").is_none(), "autoscaling clusters have no fixed size");
}

#[tokio::test]
async fn starting_a_running_cluster_is_an_invalid_state() {
    let api = Api::start().await;
    assert_error(
        &api.post("/api/2.1/clusters/start", json!({"cluster_id": SHARED})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_STATE",
        &format!("Cluster {SHARED} is in unexpected state Running."),
    );
}

#[tokio::test]
async fn every_call_on_a_missing_cluster_says_it_does_not_exist() {
    let api = Api::start().await;
    let expected = (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", "Cluster nope does not exist");
    assert_error(
        &api.get("/api/2.1/clusters/get", &[("cluster_id", "nope")]).await,
        expected.0,
        expected.1,
        expected.2,
    );
    for op in ["start", "restart", "delete", "permanent-delete", "pin", "unpin", "events", "resize"] {
        let answer =
            api.post(&format!("/api/2.1/clusters/{op}"), json!({"cluster_id": "nope", "num_workers": 1})).await;
        assert_error(&answer, expected.0, expected.1, expected.2);
    }
}

#[tokio::test]
async fn delete_terminates_for_the_user_and_start_brings_it_back() {
    let api = Api::start().await;
    let id = api.create("short-lived").await;
    assert_eq!(api.post("/api/2.1/clusters/delete", json!({"cluster_id": id})).await.1, json!({}));

    let c = api.cluster(&id).await;
    assert_eq!(c["state"], "TERMINATED");
    assert_eq!(
        c["termination_reason"],
        json!({"code": "USER_REQUEST", "type": "SUCCESS", "parameters": {"username": "demo.user@example.com"}})
    );
    assert!(c["terminated_time"].is_u64());

    assert_eq!(api.post("/api/2.1/clusters/start", json!({"cluster_id": id})).await.0, StatusCode::OK);
    let c = api.cluster(&id).await;
    assert_eq!(c["state"], "RUNNING");
    assert!(c.get("termination_reason").is_none());
}

#[tokio::test]
async fn a_slow_terminate_passes_through_terminating() {
    let api = Api::start().await;
    api.emu.set_transition_delay(Duration::from_secs(60));
    api.post("/api/2.1/clusters/delete", json!({"cluster_id": SHARED})).await;
    assert_eq!(api.emu.cluster_state(SHARED).as_deref(), Some("TERMINATING"));
    api.emu.set_transition_delay(Duration::ZERO);
    assert_eq!(api.emu.cluster_state(SHARED).as_deref(), Some("TERMINATED"));
}

#[tokio::test]
async fn permanent_delete_removes_the_cluster() {
    let api = Api::start().await;
    assert_eq!(
        api.post("/api/2.1/clusters/permanent-delete", json!({"cluster_id": ETL_NIGHTLY})).await.0,
        StatusCode::OK
    );
    assert_error(
        &api.get("/api/2.1/clusters/get", &[("cluster_id", ETL_NIGHTLY)]).await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        &format!("Cluster {ETL_NIGHTLY} does not exist"),
    );
    assert_eq!(api.emu.cluster_state(ETL_NIGHTLY), None);
}

#[tokio::test]
async fn editing_a_running_cluster_restarts_it_with_the_new_spec() {
    let api = Api::start().await;
    let id = api.create("to-edit").await;
    let before = api.cluster(&id).await["spark_context_id"].clone();
    let edit = json!({"cluster_id": id, "cluster_name": "edited", "spark_version": "16.4.x-scala2.12",
                      "node_type_id": "m5d.xlarge", "num_workers": 3});
    assert_eq!(api.post("/api/2.1/clusters/edit", edit).await.0, StatusCode::OK);

    let c = api.cluster(&id).await;
    assert_eq!(
        (c["state"].as_str(), c["cluster_name"].as_str(), c["num_workers"].as_u64()),
        (Some("RUNNING"), Some("edited"), Some(3))
    );
    assert_ne!(c["spark_context_id"], before, "a restart makes a new Spark context");
    let events = api.post("/api/2.1/clusters/events", json!({"cluster_id": id, "order": "ASC"})).await.1;
    assert_eq!(event_types(&events), ["CREATING", "RUNNING", "EDITED", "RESTARTING", "RUNNING"]);
}

#[tokio::test]
async fn editing_a_terminated_cluster_only_changes_its_spec() {
    let api = Api::start().await;
    let edit = json!({"cluster_id": ETL_NIGHTLY, "spark_version": "16.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1});
    assert_eq!(api.post("/api/2.1/clusters/edit", edit).await.0, StatusCode::OK);
    let c = api.cluster(ETL_NIGHTLY).await;
    assert_eq!((c["state"].as_str(), c["num_workers"].as_u64()), (Some("TERMINATED"), Some(1)));
}

#[tokio::test]
async fn update_changes_only_the_masked_fields() {
    let api = Api::start().await;
    let id = api.create("to-update").await;
    let update = json!({"cluster_id": id, "update_mask": "autotermination_minutes",
                        "cluster": {"autotermination_minutes": 45, "cluster_name": "ignored"}});
    assert_eq!(api.post("/api/2.1/clusters/update", update).await.0, StatusCode::OK);
    let c = api.cluster(&id).await;
    assert_eq!((c["autotermination_minutes"].as_u64(), c["cluster_name"].as_str()), (Some(45), Some("to-update")));
}

#[tokio::test]
async fn resize_and_restart_need_a_running_cluster() {
    let api = Api::start().await;
    let id = api.create("to-resize").await;
    assert_eq!(
        api.post("/api/2.1/clusters/resize", json!({"cluster_id": id, "num_workers": 4})).await.0,
        StatusCode::OK
    );
    let c = api.cluster(&id).await;
    assert_eq!((c["state"].as_str(), c["num_workers"].as_u64()), (Some("RUNNING"), Some(4)));
    assert_eq!(c["executors"].as_array().map(Vec::len), Some(4));

    for op in ["resize", "restart"] {
        let answer =
            api.post(&format!("/api/2.1/clusters/{op}"), json!({"cluster_id": ETL_NIGHTLY, "num_workers": 2})).await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "INVALID_STATE",
            &format!("Cluster {ETL_NIGHTLY} is in unexpected state Terminated."),
        );
    }
}

#[tokio::test]
async fn create_rejects_unknown_runtimes_and_node_types() {
    let api = Api::start().await;
    let answer =
        api.post("/api/2.1/clusters/create", json!({"spark_version": "1.0.x", "node_type_id": "i3.xlarge"})).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", "Invalid spark version 1.0.x.");
    let answer = api.post("/api/2.1/clusters/create", json!({"node_type_id": "i3.xlarge"})).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", "Missing required field: spark_version");
}

#[tokio::test]
async fn change_owner_needs_a_terminated_cluster() {
    let api = Api::start().await;
    let body = |id: &str| json!({"cluster_id": id, "owner_username": "new.owner@example.com"});
    assert_eq!(api.post("/api/2.1/clusters/change-owner", body(SHARED)).await.1["error_code"], "INVALID_STATE");
    assert_eq!(api.post("/api/2.1/clusters/change-owner", body(ETL_NIGHTLY)).await.0, StatusCode::OK);
    assert_eq!(api.cluster(ETL_NIGHTLY).await["creator_user_name"], "new.owner@example.com");
}

#[tokio::test]
async fn catalogs_list_what_sdk_selectors_look_for() {
    let api = Api::start().await;
    let versions = api.get("/api/2.1/clusters/spark-versions", &[]).await.1;
    let keys: Vec<&str> =
        versions["versions"].as_array().into_iter().flatten().filter_map(|v| v["key"].as_str()).collect();
    assert!(keys.contains(&"15.4.x-scala2.12"));
    assert!(keys.iter().any(|k| k.contains("-ml-")) && keys.iter().any(|k| k.contains("-gpu-")));
    assert!(keys.iter().any(|k| k.contains("photon")));

    let nodes = api.get("/api/2.1/clusters/list-node-types", &[]).await.1;
    let i3 = nodes["node_types"].as_array().into_iter().flatten().find(|n| n["node_type_id"] == "i3.xlarge").cloned();
    let i3 = i3.expect("i3.xlarge is listed");
    assert_eq!((i3["memory_mb"].as_u64(), i3["num_cores"].as_f64()), (Some(31_232), Some(4.0)));
    assert_eq!(i3["is_deprecated"], false);

    let zones = api.get("/api/2.0/clusters/list-zones", &[]).await.1;
    assert_eq!(zones["default_zone"], "us-west-2a");
}
