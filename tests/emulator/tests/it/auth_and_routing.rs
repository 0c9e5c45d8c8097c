use databricks_emulator::{DEMO_TOKEN, EmulatorConfig};
use reqwest::StatusCode;
use serde_json::json;

use crate::util::{Api, SHARED, assert_error, read};

#[tokio::test]
async fn a_request_without_credentials_is_unauthenticated() {
    let api = Api::start().await;
    let response = api.http.get(api.url("/api/2.1/clusters/list")).send().await;
    assert_error(&read(response).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "Missing credentials.");
}

#[tokio::test]
async fn a_wrong_token_is_unauthenticated() {
    let api = Api::start().await;
    let response = api.http.get(api.url("/api/2.1/clusters/list")).bearer_auth("dapi-wrong").send().await;
    assert_error(&read(response).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "Invalid access token.");
}

#[tokio::test]
async fn configured_tokens_are_accepted_besides_the_demo_token() {
    let config = EmulatorConfig { tokens: vec!["dapi-extra".into()], ..EmulatorConfig::default() };
    let api = Api::with(config).await;
    for token in ["dapi-extra", DEMO_TOKEN] {
        let response = api.http.get(api.url("/api/2.1/clusters/list")).bearer_auth(token).send().await;
        assert_eq!(read(response).await.0, StatusCode::OK);
    }
}

#[tokio::test]
async fn unknown_routes_are_endpoint_not_found() {
    let api = Api::start().await;
    assert_error(
        &api.get("/api/2.1/clusters/nope", &[]).await,
        StatusCode::NOT_FOUND,
        "ENDPOINT_NOT_FOUND",
        "No API found for 'GET /api/2.1/clusters/nope'",
    );
    assert_error(
        &api.get("/.well-known/nope", &[]).await,
        StatusCode::NOT_FOUND,
        "ENDPOINT_NOT_FOUND",
        "No API found for 'GET /.well-known/nope'",
    );
}

#[tokio::test]
async fn a_known_path_with_the_wrong_method_is_endpoint_not_found() {
    let api = Api::start().await;
    assert_error(
        &api.get("/api/2.1/clusters/create", &[]).await,
        StatusCode::NOT_FOUND,
        "ENDPOINT_NOT_FOUND",
        "No API found for 'GET /api/2.1/clusters/create'",
    );
}

#[tokio::test]
async fn malformed_json_is_a_malformed_request() {
    let api = Api::start().await;
    let response = api
        .http
        .post(api.url("/api/2.1/clusters/start"))
        .bearer_auth(DEMO_TOKEN)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await;
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error_code"], "MALFORMED_REQUEST");
}

#[tokio::test]
async fn a_missing_required_field_is_named() {
    let api = Api::start().await;
    assert_error(
        &api.post("/api/2.1/clusters/start", json!({})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "Missing required field: cluster_id",
    );
    assert_error(
        &api.get("/api/2.1/clusters/get", &[]).await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "Missing required field: cluster_id",
    );
}

#[tokio::test]
async fn both_api_versions_serve_clusters() {
    let api = Api::start().await;
    for version in ["2.0", "2.1"] {
        let (status, body) = api.get(&format!("/api/{version}/clusters/get"), &[("cluster_id", SHARED)]).await;
        assert_eq!(status, StatusCode::OK, "{version}: {body}");
        assert_eq!(body["cluster_name"], "shared-autoscaling");
    }
}
