//! The Pipelines API over HTTP: shapes, the update state machine, pagination, filters and errors.

use std::time::Duration;

use databricks_emulator::{DEMO_TOKEN, EmulatorConfig, Seed};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::util::{Api, assert_error, has_null, read};

const BASE: &str = "/api/2.0/pipelines";
const HEALTHY: &str = "11111111-2222-4333-8444-000000000001";
const FAILED: &str = "11111111-2222-4333-8444-000000000002";

async fn put(api: &Api, path: &str, body: Value) -> (StatusCode, Value) {
    read(api.http.put(api.url(path)).json(&body).bearer_auth(DEMO_TOKEN).send().await).await
}

async fn delete(api: &Api, path: &str) -> (StatusCode, Value) {
    read(api.http.delete(api.url(path)).bearer_auth(DEMO_TOKEN).send().await).await
}

async fn create(api: &Api, body: Value) -> String {
    let (status, body) = api.post(BASE, body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["pipeline_id"].as_str().expect("create returns pipeline_id").to_owned()
}

async fn pipeline(api: &Api, id: &str) -> Value {
    let (status, body) = api.get(&format!("{BASE}/{id}"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!has_null(&body), "{body}");
    body
}

async fn start(api: &Api, id: &str, body: Value) -> String {
    let (status, body) = api.post(&format!("{BASE}/{id}/updates"), body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["update_id"].as_str().expect("start returns update_id").to_owned()
}

async fn update(api: &Api, id: &str, update_id: &str) -> Value {
    let (status, body) = api.get(&format!("{BASE}/{id}/updates/{update_id}"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["update"].clone()
}

async fn events(api: &Api, id: &str, query: &[(&str, &str)]) -> Vec<Value> {
    let (status, body) = api.get(&format!("{BASE}/{id}/events"), query).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["events"].as_array().cloned().unwrap_or_default()
}

fn orders() -> Value {
    json!({"name": "orders", "catalog": "main", "schema": "shop",
           "libraries": [{"notebook": {"path": "/etl/bronze_orders"}}, {"file": {"path": "/etl/silver_orders.py"}}]})
}

#[tokio::test]
async fn seeded_pipelines_have_documented_ids_and_histories() {
    let api = Api::start().await;
    let healthy = pipeline(&api, HEALTHY).await;
    assert_eq!(healthy["name"], "sales-etl");
    assert_eq!((healthy["state"].as_str(), healthy["health"].as_str()), (Some("IDLE"), Some("HEALTHY")));
    assert_eq!(healthy["spec"]["id"], HEALTHY);
    let latest = healthy["latest_updates"].as_array().expect("latest_updates");
    assert_eq!(latest.len(), 3);
    assert!(
        latest
            .iter()
            .all(|u| u["state"] == "COMPLETED" && u["creation_time"].as_str().is_some_and(|t| t.ends_with('Z')))
    );

    let failed = pipeline(&api, FAILED).await;
    assert_eq!((failed["state"].as_str(), failed["health"].as_str()), (Some("IDLE"), Some("UNHEALTHY")));
    assert_eq!(failed["latest_updates"][0]["state"], "FAILED");
    let errors = events(&api, FAILED, &[("filter", "level='ERROR'")]).await;
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0]["error"]["exceptions"][0]["message"].as_str().is_some_and(|m| m.contains("TABLE_OR_VIEW_NOT_FOUND"))
    );
}

#[tokio::test]
async fn an_update_walks_every_state_then_the_pipeline_goes_idle() {
    let api = Api::start().await;
    let id = create(&api, orders()).await;
    let created = pipeline(&api, &id).await;
    assert_eq!(created["state"], "IDLE");
    assert!(created.get("latest_updates").is_none());

    let update_id = start(&api, &id, json!({"cause": "API_CALL"})).await;
    let done = update(&api, &id, &update_id).await;
    assert_eq!(done["state"], "COMPLETED");
    assert_eq!(done["pipeline_id"], id.as_str());
    assert!(done["creation_time"].is_u64() && done["cluster_id"].is_string() && done["config"]["id"] == id.as_str());
    assert_eq!(pipeline(&api, &id).await["state"], "IDLE");

    let log = events(&api, &id, &[("order_by", "timestamp asc"), ("max_results", "100")]).await;
    let states: Vec<&str> = log.iter().filter_map(|e| e["details"]["update_progress"]["state"].as_str()).collect();
    assert_eq!(
        states,
        ["QUEUED", "CREATED", "WAITING_FOR_RESOURCES", "INITIALIZING", "SETTING_UP_TABLES", "RUNNING", "COMPLETED"]
    );
    let kinds: Vec<&str> = log.iter().filter_map(|e| e["event_type"].as_str()).collect();
    for kind in ["user_action", "create_update", "flow_definition", "flow_progress"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let completed = log.iter().find(|e| {
        e["origin"]["flow_name"] == "silver_orders" && e["details"]["flow_progress"]["status"] == "COMPLETED"
    });
    assert!(completed.is_some(), "{log:?}");
    assert!(log.iter().all(|e| e["origin"]["pipeline_id"] == id.as_str() && e["timestamp"].is_string()));
}

#[tokio::test]
async fn with_a_delay_states_advance_over_time_and_one_update_runs_at_a_time() {
    let api =
        Api::with(EmulatorConfig { transition_delay: Duration::from_millis(150), ..EmulatorConfig::default() }).await;
    let id = create(&api, orders()).await;
    let update_id = start(&api, &id, json!({})).await;
    let first = pipeline(&api, &id).await;
    assert_eq!(first["state"], "STARTING");
    assert_eq!(first["latest_updates"][0]["state"], "QUEUED");

    let (status, body) = api.post(&format!("{BASE}/{id}/updates"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error_code"], "RESOURCE_CONFLICT");

    tokio::time::sleep(Duration::from_millis(700)).await;
    let running = pipeline(&api, &id).await;
    assert_eq!(running["state"], "RUNNING");
    assert!(running["cluster_id"].is_string(), "{running}");

    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(update(&api, &id, &update_id).await["state"], "COMPLETED");
    assert_eq!(api.emu.pipeline_state(&id).as_deref(), Some("IDLE"));
}

#[tokio::test]
async fn a_continuous_pipeline_runs_until_stopped() {
    let api = Api::start().await;
    let mut body = orders();
    body["continuous"] = json!(true);
    let id = create(&api, body).await;
    let update_id = start(&api, &id, json!({})).await;
    assert_eq!(pipeline(&api, &id).await["state"], "RUNNING");
    assert_eq!(update(&api, &id, &update_id).await["state"], "RUNNING");

    let (status, body) = api.post(&format!("{BASE}/{id}/stop"), json!({})).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    assert_eq!(pipeline(&api, &id).await["state"], "IDLE");
    assert_eq!(update(&api, &id, &update_id).await["state"], "CANCELED");
    // Stopping an idle pipeline does nothing.
    assert_eq!(api.post(&format!("{BASE}/{id}/stop"), json!({})).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_pipeline_that_mentions_fail_fails_with_an_error_event() {
    let api = Api::start().await;
    let id = create(&api, json!({"name": "orders", "libraries": [{"file": {"path": "/etl/fail_here.py"}}]})).await;
    let update_id = start(&api, &id, json!({})).await;
    assert_eq!(update(&api, &id, &update_id).await["state"], "FAILED");
    let p = pipeline(&api, &id).await;
    assert_eq!((p["state"].as_str(), p["health"].as_str()), (Some("IDLE"), Some("UNHEALTHY")));
    let errors =
        events(&api, &id, &[("filter", "level in ('ERROR', 'WARN') AND event_type = 'update_progress'")]).await;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["error"]["fatal"], true);
}

#[tokio::test]
async fn edit_replaces_settings_and_delete_removes_the_pipeline() {
    let api = Api::start().await;
    let id = create(&api, orders()).await;
    let before = pipeline(&api, &id).await;
    let (status, body) = put(
        &api,
        &format!("{BASE}/{id}"),
        json!({"pipeline_id": id, "name": "orders-v2", "catalog": "main", "schema": "shop", "development": true}),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    let after = pipeline(&api, &id).await;
    assert_eq!(after["name"], "orders-v2");
    assert_eq!(after["spec"]["development"], true);
    assert!(after["spec"].get("libraries").is_none(), "PUT is a full replace");
    assert!(after["last_modified"].as_u64() >= before["last_modified"].as_u64());

    let stale = put(&api, &format!("{BASE}/{id}"), json!({"name": "x", "expected_last_modified": 1})).await;
    assert_eq!(stale.0, StatusCode::CONFLICT);

    assert_eq!(delete(&api, &format!("{BASE}/{id}")).await, (StatusCode::OK, json!({})));
    let message = format!("The specified pipeline {id} was not found.");
    assert_error(
        &api.get(&format!("{BASE}/{id}"), &[]).await,
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
        &message,
    );
}

#[tokio::test]
async fn missing_pipelines_and_bad_requests_are_databricks_errors() {
    let api = Api::start().await;
    let missing = "00000000-0000-4000-8000-000000000000";
    let message = format!("The specified pipeline {missing} was not found.");
    for response in [
        api.get(&format!("{BASE}/{missing}"), &[]).await,
        api.post(&format!("{BASE}/{missing}/updates"), json!({})).await,
        api.post(&format!("{BASE}/{missing}/stop"), json!({})).await,
        api.get(&format!("{BASE}/{missing}/events"), &[]).await,
        api.get(&format!("{BASE}/{missing}/updates"), &[]).await,
        delete(&api, &format!("{BASE}/{missing}")).await,
        put(&api, &format!("{BASE}/{missing}"), json!({"name": "x"})).await,
    ] {
        assert_error(&response, StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", &message);
    }
    let (status, body) = api.get(&format!("{BASE}/{HEALTHY}/updates/nope"), &[]).await;
    assert_eq!((status, body["error_code"].as_str()), (StatusCode::NOT_FOUND, Some("RESOURCE_DOES_NOT_EXIST")));

    for bad in [
        json!({}),
        json!({"name": 1}),
        json!({"name": "x", "libraries": "nope"}),
        json!({"name": "x", "target": "a", "schema": "b"}),
    ] {
        let (status, body) = api.post(BASE, bad.clone()).await;
        assert_eq!(
            (status, body["error_code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("INVALID_PARAMETER_VALUE")),
            "{bad}"
        );
    }
    let dup = api.post(BASE, json!({"name": "sales-etl"})).await;
    assert_eq!(dup.0, StatusCode::CONFLICT);
    assert_eq!(api.post(BASE, json!({"name": "sales-etl", "allow_duplicate_names": true})).await.0, StatusCode::OK);

    let bad_start =
        [json!({"cause": "BECAUSE"}), json!({"full_refresh": "yes"}), json!({"refresh_selection": ["nope"]})];
    for body in bad_start {
        let (status, _) = api.post(&format!("{BASE}/{HEALTHY}/updates"), body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    for query in
        [[("max_results", "1000")], [("filter", "owner = 'me'")], [("order_by", "size desc")], [("page_token", "junk")]]
    {
        assert_eq!(api.get(BASE, &query).await.0, StatusCode::BAD_REQUEST, "{query:?}");
    }
    assert_eq!(
        api.get(&format!("{BASE}/{HEALTHY}/events"), &[("filter", "timestamp > 'soon'")]).await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn dry_run_validates_without_creating() {
    let api = Api::start().await;
    let (status, body) = api.post(BASE, json!({"name": "preview", "dry_run": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("pipeline_id").is_none());
    assert_eq!(body["effective_settings"]["channel"], "CURRENT");
    assert!(api.get(BASE, &[("filter", "name = 'preview'")]).await.1.get("statuses").is_none());
}

#[tokio::test]
async fn lists_filter_order_and_paginate() {
    let api = Api::seeded(Seed::Demo).await;
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let mut query = vec![("max_results", "3"), ("order_by", "name asc")];
        if !token.is_empty() {
            query.push(("page_token", token.as_str()));
        }
        let (status, body) = api.get(BASE, &query).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(!has_null(&body));
        seen.extend(
            body["statuses"]
                .as_array()
                .expect("statuses")
                .iter()
                .map(|s| s["name"].as_str().unwrap_or_default().to_owned()),
        );
        match body.get("next_page_token") {
            Some(next) => token = next.as_str().expect("a string token").to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 9, "{seen:?}");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);

    let (_, streaming) = api.get(BASE, &[("filter", "name LIKE '%STREAM%'")]).await;
    let statuses = streaming["statuses"].as_array().expect("a match");
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0]["state"], "RUNNING");
    assert_eq!(api.get(BASE, &[("filter", "name = 'nothing'")]).await.1, json!({}));
}

#[tokio::test]
async fn updates_and_events_paginate_newest_first() {
    let api = Api::start().await;
    let (status, body) = api.get(&format!("{BASE}/{HEALTHY}/updates"), &[("max_results", "2")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let first = body["updates"].as_array().expect("updates").clone();
    assert_eq!(first.len(), 2);
    assert!(first[0]["creation_time"].as_u64() > first[1]["creation_time"].as_u64());
    let token = body["next_page_token"].as_str().expect("more").to_owned();
    let (_, rest) =
        api.get(&format!("{BASE}/{HEALTHY}/updates"), &[("max_results", "2"), ("page_token", &token)]).await;
    assert_eq!(rest["updates"].as_array().map(Vec::len), Some(1));
    assert!(rest.get("next_page_token").is_none() && rest.get("prev_page_token").is_some());

    let until = first[1]["update_id"].as_str().expect("an id");
    let (_, upto) = api.get(&format!("{BASE}/{HEALTHY}/updates"), &[("until_update_id", until)]).await;
    assert_eq!(upto["updates"].as_array().map(Vec::len), Some(2));

    let (_, page) = api.get(&format!("{BASE}/{HEALTHY}/events"), &[("max_results", "5")]).await;
    let page_events = page["events"].as_array().expect("events");
    assert_eq!(page_events.len(), 5);
    assert!(page_events[0]["timestamp"].as_str() >= page_events[4]["timestamp"].as_str());
    assert!(page["next_page_token"].is_string());
}

#[tokio::test]
async fn full_refresh_resets_tables_with_warnings() {
    let api = Api::start().await;
    let update_id = start(&api, HEALTHY, json!({"full_refresh": true})).await;
    let info = update(&api, HEALTHY, &update_id).await;
    assert_eq!((info["state"].as_str(), info["full_refresh"].as_bool()), (Some("COMPLETED"), Some(true)));
    let warnings = events(&api, HEALTHY, &[("filter", "level = 'WARN'")]).await;
    assert_eq!(warnings.len(), 2, "one per dataset: {warnings:?}");
}
