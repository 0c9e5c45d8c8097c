use std::time::{Duration, Instant};

use databricks_emulator::{DEMO_TOKEN, Fault, FaultKind};
use reqwest::StatusCode;

use crate::util::{Api, SHARED, read};

const GET_PATH: &str = "/api/2.1/clusters/get";

fn fault(path: &str, kind: FaultKind, count: u32) -> Fault {
    Fault { method: None, path: path.to_owned(), kind, count }
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_then_let_requests_through() {
    let api = Api::start().await;
    api.emu.inject(fault(GET_PATH, FaultKind::TooManyRequests { retry_after_secs: Some(1) }, 2));
    for _ in 0..2 {
        let response =
            api.http.get(api.url(GET_PATH)).query(&[("cluster_id", SHARED)]).bearer_auth(DEMO_TOKEN).send().await;
        let response = response.expect("a response");
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
        let body: serde_json::Value = response.json().await.expect("a JSON body");
        assert_eq!(body["error_code"], "REQUEST_LIMIT_EXCEEDED");
    }
    assert_eq!(api.get(GET_PATH, &[("cluster_id", SHARED)]).await.0, StatusCode::OK);
}

#[tokio::test]
async fn outages_answer_503_temporarily_unavailable() {
    let api = Api::start().await;
    api.emu.inject(fault("/api/2.1/clusters/*", FaultKind::Unavailable, 1));
    let (status, body) = api.get("/api/2.1/clusters/list", &[]).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("TEMPORARILY_UNAVAILABLE"))
    );
    assert_eq!(api.get("/api/2.1/clusters/list", &[]).await.0, StatusCode::OK);
}

#[tokio::test]
async fn faults_apply_before_authentication() {
    let api = Api::start().await;
    api.emu.inject(fault(GET_PATH, FaultKind::Unavailable, 1));
    let (status, _) = read(api.http.get(api.url(GET_PATH)).send().await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_fault_for_one_method_spares_the_others() {
    let api = Api::start().await;
    api.emu.inject(Fault { method: Some("POST".into()), ..fault("/api/2.1/clusters/*", FaultKind::Unavailable, 1) });
    assert_eq!(api.get("/api/2.1/clusters/list", &[]).await.0, StatusCode::OK);
    assert_eq!(
        api.post("/api/2.1/clusters/pin", serde_json::json!({"cluster_id": SHARED})).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn delays_slow_a_request_down_but_answer_it() {
    let api = Api::start().await;
    api.emu.inject(fault(GET_PATH, FaultKind::Delay(Duration::from_millis(300)), 1));
    let started = Instant::now();
    assert_eq!(api.get(GET_PATH, &[("cluster_id", SHARED)]).await.0, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_dropped_connection_is_a_connection_error_and_the_next_request_works() {
    let api = Api::start().await;
    // Warm the connection pool first, so the drop hits a reused keep-alive connection too.
    assert_eq!(api.get(GET_PATH, &[("cluster_id", SHARED)]).await.0, StatusCode::OK);
    api.emu.inject(fault(GET_PATH, FaultKind::Drop, 1));
    let dropped = api.http.get(api.url(GET_PATH)).query(&[("cluster_id", SHARED)]).bearer_auth(DEMO_TOKEN).send().await;
    let err = dropped.expect_err("no response on a dropped connection");
    assert!(!err.is_timeout(), "the connection must fail fast, not hang: {err}");
    assert_eq!(api.get(GET_PATH, &[("cluster_id", SHARED)]).await.0, StatusCode::OK);
}

#[tokio::test]
async fn faulted_requests_are_recorded_too() {
    let api = Api::start().await;
    api.emu.inject(fault(GET_PATH, FaultKind::Unavailable, 1));
    api.get(GET_PATH, &[("cluster_id", SHARED)]).await;
    api.get(GET_PATH, &[("cluster_id", SHARED)]).await;
    let requests = api.emu.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.path == GET_PATH && r.query == format!("cluster_id={SHARED}")));
    assert_eq!(requests[0].authorization.as_deref(), Some(format!("Bearer {DEMO_TOKEN}").as_str()));
}
