use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::util::{Api, SHARED, read};

impl Api {
    async fn admin(&self, path: &str, body: Value) -> (StatusCode, Value) {
        read(self.http.post(self.url(path)).json(&body).send().await).await
    }
}

#[tokio::test]
async fn faults_can_be_queued_over_http() {
    let api = Api::start().await;
    let fault = json!({"method": "GET", "path": "/api/2.1/clusters/get", "kind": "429", "retry_after": 0, "count": 1});
    assert_eq!(api.admin("/emulator/faults", fault).await, (StatusCode::OK, json!({})));
    assert_eq!(api.get("/api/2.1/clusters/get", &[("cluster_id", SHARED)]).await.0, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(api.get("/api/2.1/clusters/get", &[("cluster_id", SHARED)]).await.0, StatusCode::OK);

    let (status, body) = api.admin("/emulator/faults", json!({"path": "/x", "kind": "teapot"})).await;
    assert_eq!((status, body["error_code"].as_str()), (StatusCode::BAD_REQUEST, Some("INVALID_PARAMETER_VALUE")));
}

#[tokio::test]
async fn recorded_requests_can_be_read_over_http() {
    let api = Api::start().await;
    api.post("/api/2.1/clusters/pin", json!({"cluster_id": SHARED})).await;
    let (status, body) = read(api.http.get(api.url("/emulator/requests")).send().await).await;
    assert_eq!(status, StatusCode::OK);
    let requests = body["requests"].as_array().cloned().unwrap_or_default();
    assert_eq!(requests.len(), 1, "admin calls are not recorded: {body}");
    assert_eq!(requests[0]["method"], "POST");
    assert_eq!(
        serde_json::from_str::<Value>(requests[0]["body"].as_str().unwrap_or_default()).ok(),
        Some(json!({"cluster_id": SHARED}))
    );
}

#[tokio::test]
async fn the_clock_sets_the_transition_delay() {
    let api = Api::start().await;
    assert_eq!(
        api.admin("/emulator/clock", json!({"transition_ms": 60_000})).await.1,
        json!({"transition_ms": 60_000})
    );
    let id = api.create("slow").await;
    assert_eq!(api.emu.cluster_state(&id).as_deref(), Some("PENDING"));
    api.emu.set_transition_delay(Duration::ZERO);
    assert_eq!(api.emu.cluster_state(&id).as_deref(), Some("RUNNING"));
}
