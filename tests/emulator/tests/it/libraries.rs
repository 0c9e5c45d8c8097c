//! The Libraries API: install statuses driven by the clock and the cluster's state, uninstall on
//! restart, permissions and errors.

use std::time::Duration;

use databricks_emulator::{ALICE_TOKEN, Seed};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::util::{Api, ETL_NIGHTLY, SHARED, assert_error, has_null};

const ML_GPU: &str = "0101-000000-mlgpu001";
const INSTALL: &str = "/api/2.0/libraries/install";
const UNINSTALL: &str = "/api/2.0/libraries/uninstall";
const STATUS: &str = "/api/2.0/libraries/cluster-status";

/// `(library, status)` pairs of a cluster, in install order.
async fn statuses(api: &Api, cluster_id: &str) -> Vec<(Value, String)> {
    let (status, body) = api.get(STATUS, &[("cluster_id", cluster_id)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["cluster_id"], cluster_id);
    assert!(!has_null(&body), "{body}");
    let empty = Vec::new();
    body["library_statuses"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|s| (s["library"].clone(), s["status"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

async fn install(api: &Api, cluster_id: &str, libraries: Value) {
    let (status, body) = api.post(INSTALL, json!({"cluster_id": cluster_id, "libraries": libraries})).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
}

#[tokio::test]
async fn test_seed_has_installed_libraries_on_running_clusters() {
    let api = Api::start().await;
    let (status, body) = api.get(STATUS, &[("cluster_id", SHARED)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["library_statuses"][0],
        json!({"library": {"pypi": {"package": "requests==2.32.3"}}, "status": "INSTALLED",
               "is_library_for_all_clusters": false})
    );
    assert_eq!(statuses(&api, SHARED).await.len(), 2);
    // A cluster without libraries answers only its id.
    let (_, body) = api.get(STATUS, &[("cluster_id", ETL_NIGHTLY)]).await;
    assert_eq!(body, json!({"cluster_id": ETL_NIGHTLY}));
    let (_, all) = api.get("/api/2.0/libraries/all-cluster-statuses", &[]).await;
    let ids: Vec<&str> =
        all["statuses"].as_array().unwrap().iter().map(|s| s["cluster_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [ML_GPU, SHARED]);
}

#[tokio::test]
async fn install_on_a_running_cluster_installs_or_fails() {
    let api = Api::start().await;
    let libraries = json!([
        {"pypi": {"package": "pandas==2.2.3", "repo": "https://pypi.example.com/simple"}},
        {"maven": {"coordinates": "com.example:lib:1.0", "exclusions": ["org.slf4j:slf4j-api"]}},
        {"jar": "/Volumes/main/default/jars/a.jar"},
        {"pypi": {"package": "does-not-exist-pkg"}},
    ]);
    install(&api, ML_GPU, libraries.clone()).await;
    // Installing again adds nothing.
    install(&api, ML_GPU, libraries).await;
    let got = statuses(&api, ML_GPU).await;
    let states: Vec<&str> = got.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(states, ["INSTALLED", "INSTALLED", "INSTALLED", "INSTALLED", "FAILED"]);
    assert_eq!(got[1].0, json!({"pypi": {"package": "pandas==2.2.3", "repo": "https://pypi.example.com/simple"}}));
    let (_, body) = api.get(STATUS, &[("cluster_id", ML_GPU)]).await;
    let failed = &body["library_statuses"][4];
    let message = failed["messages"][0].as_str().unwrap();
    assert!(message.contains(ML_GPU) && message.contains("No matching distribution found for does-not-exist-pkg"));
    assert!(body["library_statuses"][0].get("messages").is_none());
}

#[tokio::test]
async fn statuses_advance_with_the_clock() {
    let api = Api::start().await;
    api.emu.set_transition_delay(Duration::from_millis(150));
    install(&api, SHARED, json!([{"whl": "/Volumes/main/default/wheels/x-1.0-py3-none-any.whl"}])).await;
    assert_eq!(statuses(&api, SHARED).await[2].1, "PENDING");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let middle = statuses(&api, SHARED).await[2].1.clone();
    assert!(middle == "RESOLVING" || middle == "INSTALLING", "{middle}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(statuses(&api, SHARED).await[2].1, "INSTALLED");
    // The seeded libraries were installed long ago.
    assert_eq!(statuses(&api, SHARED).await[0].1, "INSTALLED");
}

#[tokio::test]
async fn libraries_wait_for_a_terminated_cluster_to_start() {
    let api = Api::start().await;
    install(&api, ETL_NIGHTLY, json!([{"cran": {"package": "forecast"}}])).await;
    assert_eq!(statuses(&api, ETL_NIGHTLY).await, [(json!({"cran": {"package": "forecast"}}), "PENDING".into())]);
    let (status, _) = api.post("/api/2.1/clusters/start", json!({"cluster_id": ETL_NIGHTLY})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(statuses(&api, ETL_NIGHTLY).await[0].1, "INSTALLED");
}

#[tokio::test]
async fn uninstall_takes_effect_on_restart() {
    let api = Api::start().await;
    let requests = json!([{"pypi": {"package": "requests==2.32.3"}}]);
    let (status, body) = api.post(UNINSTALL, json!({"cluster_id": SHARED, "libraries": requests})).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    let states: Vec<String> = statuses(&api, SHARED).await.into_iter().map(|(_, s)| s).collect();
    assert_eq!(states, ["UNINSTALL_ON_RESTART", "INSTALLED"]);
    let (status, _) = api.post("/api/2.1/clusters/restart", json!({"cluster_id": SHARED})).await;
    assert_eq!(status, StatusCode::OK);
    let left = statuses(&api, SHARED).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].0["maven"]["coordinates"], "com.databricks:spark-xml_2.12:0.18.0");
}

#[tokio::test]
async fn bad_requests_and_permissions() {
    let api = Api::start().await;
    let pypi = json!([{"pypi": {"package": "x"}}]);
    let missing = api.post(INSTALL, json!({"cluster_id": "nope", "libraries": pypi})).await;
    assert_error(&missing, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", "Cluster nope does not exist");
    let missing = api.get(STATUS, &[("cluster_id", "nope")]).await;
    assert_error(&missing, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", "Cluster nope does not exist");
    let (status, body) = api.get(STATUS, &[]).await;
    assert_eq!((status, body["error_code"].as_str()), (StatusCode::BAD_REQUEST, Some("INVALID_PARAMETER_VALUE")));
    for libraries in [json!(null), json!([]), json!([{}]), json!([{"pypi": {}}]), json!([{"jar": "a", "whl": "b"}])] {
        let mut body = json!({"cluster_id": SHARED});
        if !libraries.is_null() {
            body["libraries"] = libraries;
        }
        let (status, answer) = api.post(INSTALL, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["error_code"], "INVALID_PARAMETER_VALUE");
    }
    // Alice may attach to shared01 (she sees its statuses) but not manage it.
    let (status, _) = api.get_as(ALICE_TOKEN, STATUS, &[("cluster_id", SHARED)]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = api.post_as(ALICE_TOKEN, INSTALL, json!({"cluster_id": SHARED, "libraries": pypi})).await;
    assert_eq!((status, body["error_code"].as_str()), (StatusCode::FORBIDDEN, Some("PERMISSION_DENIED")));
    // She manages her own ml-gpu cluster.
    let (status, _) = api.post_as(ALICE_TOKEN, INSTALL, json!({"cluster_id": ML_GPU, "libraries": pypi})).await;
    assert_eq!(status, StatusCode::OK);
    let hidden = api.get_as(ALICE_TOKEN, STATUS, &[("cluster_id", "0101-000000-report01")]).await;
    assert_eq!(hidden.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn demo_seed_has_realistic_libraries_with_a_failure() {
    let api = Api::seeded(Seed::Demo).await;
    let (status, all) = api.get("/api/2.0/libraries/all-cluster-statuses", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let statuses = all["statuses"].as_array().unwrap();
    assert!(statuses.len() >= 6, "{all}");
    let failed: Vec<&Value> = statuses
        .iter()
        .flat_map(|c| c["library_statuses"].as_array().unwrap())
        .filter(|s| s["status"] == "FAILED")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["library"]["pypi"]["package"], "flash-attn==2.99.0");
}
