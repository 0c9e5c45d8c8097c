//! Command execution API 1.2 over HTTP: contexts and commands on a running cluster.

use std::time::Duration;

use databricks_emulator::EmulatorConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::util::{Api, ETL_NIGHTLY, SHARED, assert_error};

async fn context(api: &Api) -> String {
    let (status, body) = api.post("/api/1.2/contexts/create", json!({"clusterId": SHARED, "language": "python"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["id"].as_str().expect("context id").to_owned()
}

async fn run(api: &Api, ctx: &str, command: &str) -> Value {
    let body = json!({"clusterId": SHARED, "contextId": ctx, "language": "python", "command": command});
    let (status, created) = api.post("/api/1.2/commands/execute", body).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["id"].as_str().expect("command id");
    let (status, body) =
        api.get("/api/1.2/commands/status", &[("clusterId", SHARED), ("contextId", ctx), ("commandId", id)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn commands_run_in_a_context_on_a_running_cluster() {
    let api = Api::start().await;
    let ctx = context(&api).await;
    let (_, status) = api.get("/api/1.2/contexts/status", &[("clusterId", SHARED), ("contextId", &ctx)]).await;
    assert_eq!(status, json!({"id": ctx, "status": "Running"}));

    let printed = run(&api, &ctx, "print('hello')").await;
    assert_eq!(printed["status"], "Finished");
    assert_eq!(printed["results"], json!({"resultType": "text", "data": "hello"}));
    assert_eq!(run(&api, &ctx, "1+1").await["results"]["data"], "2");
    let failed = run(&api, &ctx, "raise ValueError('boom')").await;
    assert_eq!(failed["status"], "Error");
    assert_eq!(failed["results"]["resultType"], "error");
    assert_eq!(failed["results"]["summary"], "ValueError('boom')");

    let destroyed = api.post("/api/1.2/contexts/destroy", json!({"clusterId": SHARED, "contextId": ctx})).await;
    assert_eq!(destroyed.0, StatusCode::OK);
    let gone = api.get("/api/1.2/contexts/status", &[("clusterId", SHARED), ("contextId", &ctx)]).await;
    assert_error(&gone, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", &format!("Context {ctx} does not exist"));
}

#[tokio::test]
async fn contexts_need_a_running_cluster() {
    let api = Api::start().await;
    let stopped = api.post("/api/1.2/contexts/create", json!({"clusterId": ETL_NIGHTLY})).await;
    assert_eq!(stopped.1["error_code"], "INVALID_STATE");
    let missing = api.post("/api/1.2/contexts/create", json!({"clusterId": "nope"})).await;
    assert_error(&missing, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", "Cluster nope does not exist");
}

#[tokio::test]
async fn contexts_and_commands_step_through_states_and_cancel() {
    let api =
        Api::with(EmulatorConfig { transition_delay: Duration::from_millis(100), ..EmulatorConfig::default() }).await;
    let ctx = context(&api).await;
    let (_, status) = api.get("/api/1.2/contexts/status", &[("clusterId", SHARED), ("contextId", &ctx)]).await;
    assert_eq!(status["status"], "Pending");
    tokio::time::sleep(Duration::from_millis(120)).await;
    let body = json!({"clusterId": SHARED, "contextId": ctx, "command": "spark.range(10).count()"});
    let (_, created) = api.post("/api/1.2/commands/execute", body).await;
    let id = created["id"].as_str().expect("command id").to_owned();
    let query = [("clusterId", SHARED), ("contextId", ctx.as_str()), ("commandId", id.as_str())];
    let (_, queued) = api.get("/api/1.2/commands/status", &query).await;
    assert_eq!(queued["status"], "Queued");
    assert!(queued.get("results").is_none());
    let cancel = json!({"clusterId": SHARED, "contextId": ctx, "commandId": id});
    assert_eq!(api.post("/api/1.2/commands/cancel", cancel).await.0, StatusCode::OK);
    assert_eq!(api.get("/api/1.2/commands/status", &query).await.1["status"], "Cancelling");
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(api.get("/api/1.2/commands/status", &query).await.1["status"], "Cancelled");
}

#[tokio::test]
async fn sql_commands_answer_tables_from_the_catalog() {
    let api = Api::start().await;
    let ctx = context(&api).await;
    let body = json!({"clusterId": SHARED, "contextId": ctx, "language": "sql",
                      "command": "SELECT trip_id FROM main.default.trips ORDER BY trip_id LIMIT 2"});
    let (_, created) = api.post("/api/1.2/commands/execute", body).await;
    let id = created["id"].as_str().expect("command id");
    let (_, done) =
        api.get("/api/1.2/commands/status", &[("clusterId", SHARED), ("contextId", &ctx), ("commandId", id)]).await;
    assert_eq!(done["status"], "Finished", "{done}");
    assert_eq!(done["results"]["resultType"], "table");
    assert_eq!(done["results"]["schema"][0]["name"], "trip_id");
    assert_eq!(done["results"]["data"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn contexts_need_attach_permission_and_die_with_the_cluster() {
    let api = Api::start().await;
    let denied = api
        .post_as(
            databricks_emulator::ALICE_TOKEN,
            "/api/1.2/contexts/create",
            json!({"clusterId": "0101-000000-report01"}),
        )
        .await;
    assert_eq!(denied.0, StatusCode::FORBIDDEN, "{}", denied.1);
    let ctx = context(&api).await;
    assert_eq!(api.post("/api/2.1/clusters/restart", json!({"cluster_id": SHARED})).await.0, StatusCode::OK);
    let gone = api.get("/api/1.2/contexts/status", &[("clusterId", SHARED), ("contextId", &ctx)]).await;
    assert_error(&gone, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", &format!("Context {ctx} does not exist"));
}
