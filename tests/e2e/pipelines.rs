//! Every pipelines tool, through MCP, against the emulator (test seed: `sales-etl`, healthy with
//! three completed updates; `inventory-ingest`, whose updates fail; data-engineers such as Alice
//! may view `sales-etl` only).

use std::time::Duration;

use databricks_emulator::ALICE_TOKEN;
use serde_json::{Value, json};

use crate::support::{Harness, Setup};

const PIPELINE_TOOLS: [&str; 11] = [
    "list_pipelines",
    "get_pipeline",
    "create_pipeline",
    "update_pipeline",
    "delete_pipeline",
    "start_pipeline_update",
    "stop_pipeline",
    "list_pipeline_updates",
    "get_pipeline_update",
    "wait_for_pipeline_update",
    "list_pipeline_events",
];

const SALES_ETL: &str = "11111111-2222-4333-8444-000000000001";
const INVENTORY: &str = "11111111-2222-4333-8444-000000000002";

async fn create(h: &Harness, name: &str) -> String {
    let (text, data) = h
        .ok(
            "create_pipeline",
            json!({
                "name": name,
                "catalog": "main",
                "schema": "tests",
                "notebooks": ["/Users/demo.user@example.com/dlt/orders_bronze"],
                "files": ["/Users/demo.user@example.com/dlt/orders_silver.py"],
                "serverless": true,
                "configuration": {"source": "s3://landing/orders", "mode": "strict"},
            }),
        )
        .await;
    assert!(text.contains(name) && text.contains("start_pipeline_update"), "{text}");
    data["pipeline_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn lists_every_pipelines_tool_with_schemas_and_annotations() {
    let h = Harness::start(&["pipelines"]).await;
    let tools = h.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, PIPELINE_TOOLS);
    for tool in &tools {
        assert!(tool.description.as_ref().is_some_and(|d| d.len() > 40), "{} needs a real description", tool.name);
        assert!(tool.output_schema.is_some(), "{} should declare an output schema", tool.name);
    }
    let hints = |name: &str| {
        let a = tools.iter().find(|t| t.name == name).unwrap().annotations.clone().unwrap();
        (a.read_only_hint, a.destructive_hint, a.idempotent_hint)
    };
    for read in [
        "list_pipelines",
        "get_pipeline",
        "list_pipeline_updates",
        "get_pipeline_update",
        "list_pipeline_events",
        "wait_for_pipeline_update",
    ] {
        assert_eq!(hints(read).0, Some(true), "{read}");
    }
    for destructive in ["update_pipeline", "delete_pipeline", "stop_pipeline"] {
        assert_eq!(hints(destructive).1, Some(true), "{destructive}");
    }
    assert_eq!(hints("start_pipeline_update"), (Some(false), Some(false), Some(false)));
    assert_eq!(hints("create_pipeline"), (Some(false), Some(false), Some(false)));
}

#[tokio::test]
async fn a_pipeline_lives_its_whole_life_through_the_tools() {
    let h = Harness::start(&["pipelines"]).await;
    let (text, preview) =
        h.ok("create_pipeline", json!({"name": "preview", "notebooks": ["/Shared/x"], "dry_run": true})).await;
    assert!(text.contains("dry run"), "{text}");
    assert_eq!(preview["settings"]["name"], "preview");
    let (_, none) = h.ok("list_pipelines", json!({"name_contains": "preview"})).await;
    assert!(none["pipelines"].as_array().unwrap().is_empty(), "a dry run creates nothing");

    let id = create(&h, "orders-dlt").await;
    let (text, got) = h.ok("get_pipeline", json!({"pipeline_id": id})).await;
    assert!(text.contains("Publishes to main.tests") && text.contains("serverless"), "{text}");
    assert!(text.contains("notebook /Users/demo.user@example.com/dlt/orders_bronze"), "{text}");
    assert_eq!(got["state"], "IDLE");

    let (text, updated) = h
        .ok(
            "update_pipeline",
            json!({"pipeline_id": id, "development": true, "configuration": {"mode": null, "extra": "1"}}),
        )
        .await;
    assert!(text.contains("development") && text.contains("configuration"), "{text}");
    assert_eq!(updated["settings"]["configuration"], json!({"source": "s3://landing/orders", "extra": "1"}));
    let (_, got) = h.ok("get_pipeline", json!({"pipeline_id": id})).await;
    assert_eq!(got["spec"]["configuration"], json!({"source": "s3://landing/orders", "extra": "1"}));
    assert_eq!(got["spec"]["catalog"], "main", "update keeps what it was not asked to change");
    assert_eq!(got["spec"]["libraries"].as_array().unwrap().len(), 2);
    let stale = h.err("update_pipeline", json!({"pipeline_id": id, "photon": true, "expected_last_modified": 1})).await;
    assert!(stale.contains("changed by someone else"), "{stale}");

    let (text, done) = h.ok("start_pipeline_update", json!({"pipeline_id": id, "wait": true})).await;
    assert_eq!(
        (done["finished"].clone(), done["update"]["state"].clone()),
        (json!(true), json!("COMPLETED")),
        "{text}"
    );
    let first = done["update_id"].as_str().unwrap().to_string();

    let (text, started) = h
        .ok(
            "start_pipeline_update",
            json!({"pipeline_id": id, "full_refresh_tables": ["orders_bronze"], "refresh_tables": ["orders_silver"]}),
        )
        .await;
    assert!(text.contains("Call wait_for_pipeline_update"), "{text}");
    let second = started["update_id"].as_str().unwrap().to_string();
    let (text, waited) = h.ok("wait_for_pipeline_update", json!({"pipeline_id": id})).await;
    assert_eq!(waited["update_id"], json!(second), "the latest update by default");
    assert!(text.contains("full refresh of orders_bronze") && text.contains("refresh of orders_silver"), "{text}");

    let (text, updates) = h.ok("list_pipeline_updates", json!({"pipeline_id": id, "limit": 1})).await;
    assert_eq!(updates["updates"][0]["update_id"], json!(second), "newest first: {text}");
    let token = updates["next_page_token"].as_str().expect("a second page").to_string();
    let (_, older) = h.ok("list_pipeline_updates", json!({"pipeline_id": id, "limit": 1, "page_token": token})).await;
    assert_eq!(older["updates"][0]["update_id"], json!(first));

    let (text, one) = h.ok("get_pipeline_update", json!({"pipeline_id": id, "update_id": first})).await;
    assert_eq!(one["update"]["state"], "COMPLETED", "{text}");

    let (text, stopped) = h.ok("stop_pipeline", json!({"pipeline_id": id, "wait": true})).await;
    assert!(text.contains("had no active update"), "{text}");
    assert_eq!(stopped["state"], "IDLE");

    let (text, _) = h.ok("delete_pipeline", json!({"pipeline_id": id})).await;
    assert!(text.contains("Deleted"), "{text}");
    let gone = h.err("get_pipeline", json!({"pipeline_id": id})).await;
    assert_eq!(gone, format!("Not found: The specified pipeline {id} was not found."));
}

#[tokio::test]
async fn lists_pipelines_and_events_one_page_at_a_time_with_filters() {
    let h = Harness::start(&["pipelines"]).await;
    for i in 0..3 {
        create(&h, &format!("paging-{i}")).await;
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let mut args = json!({"limit": 2});
        if let Some(t) = &token {
            args["page_token"] = json!(t);
        }
        let (text, data) = h.ok("list_pipelines", args).await;
        let page = data["pipelines"].as_array().unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.iter().map(|p| p["name"].as_str().unwrap().to_string()));
        token = data.get("next_page_token").and_then(Value::as_str).map(str::to_string);
        if token.is_none() {
            break;
        }
        assert!(text.contains("page_token"), "{text}");
    }
    seen.sort();
    assert_eq!(seen, ["inventory-ingest", "paging-0", "paging-1", "paging-2", "sales-etl"]);
    let (_, named) = h.ok("list_pipelines", json!({"name_contains": "PAGING-1"})).await;
    assert_eq!(named["pipelines"].as_array().unwrap().len(), 1);

    // The filter holds on every page, not only the first.
    let mut levels = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..20 {
        let mut args =
            json!({"pipeline_id": SALES_ETL, "levels": ["INFO"], "event_types": ["flow_progress"], "limit": 4});
        if let Some(t) = &token {
            args["page_token"] = json!(t);
        }
        let (_, data) = h.ok("list_pipeline_events", args).await;
        for e in data["events"].as_array().unwrap() {
            levels.push((e["level"].as_str().unwrap().to_string(), e["event_type"].as_str().unwrap().to_string()));
        }
        token = data.get("next_page_token").and_then(Value::as_str).map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert!(levels.len() > 4, "more than one page of flow progress: {levels:?}");
    assert!(levels.iter().all(|(l, t)| l == "INFO" && t == "flow_progress"), "{levels:?}");
    let (_, oldest) =
        h.ok("list_pipeline_events", json!({"pipeline_id": SALES_ETL, "oldest_first": true, "limit": 1})).await;
    assert_eq!(oldest["events"][0]["event_type"], "user_action", "the creation comes first");
}

#[tokio::test]
async fn a_failed_update_says_why_and_errors_can_be_listed() {
    let h = Harness::start(&["pipelines"]).await;
    let (text, failed) = h.ok("start_pipeline_update", json!({"pipeline_id": INVENTORY, "wait": true})).await;
    assert_eq!(failed["update"]["state"], "FAILED", "{text}");
    assert!(!failed["errors"].as_array().unwrap().is_empty(), "{failed}");
    assert!(text.contains("AnalysisException") && text.contains("TABLE_OR_VIEW_NOT_FOUND"), "{text}");
    let update_id = failed["update_id"].as_str().unwrap();
    let (text, errors) = h
        .ok("list_pipeline_events", json!({"pipeline_id": INVENTORY, "levels": ["ERROR"], "update_id": update_id}))
        .await;
    let events = errors["events"].as_array().unwrap();
    assert!(
        !events.is_empty()
            && events.iter().all(|e| e["level"] == "ERROR" && e["origin"]["update_id"] == json!(update_id)),
        "{text}"
    );
    let (text, _) = h.ok("get_pipeline", json!({"pipeline_id": INVENTORY})).await;
    assert!(text.contains("UNHEALTHY"), "{text}");
}

#[tokio::test]
async fn bad_requests_are_clear_errors() {
    let h = Harness::start(&["pipelines"]).await;
    let text = h
        .err(
            "start_pipeline_update",
            json!({"pipeline_id": SALES_ETL, "full_refresh": true, "full_refresh_tables": ["x"]}),
        )
        .await;
    assert!(text.contains("not both"), "{text}");
    let text =
        h.err("start_pipeline_update", json!({"pipeline_id": SALES_ETL, "refresh_tables": ["no_such_table"]})).await;
    assert!(text.contains("no_such_table") && text.contains("not defined"), "{text}");
    let text = h.err("create_pipeline", json!({"name": "no-source"})).await;
    assert!(text.contains("notebooks or files"), "{text}");
    let text = h.err("update_pipeline", json!({"pipeline_id": SALES_ETL})).await;
    assert!(text.contains("nothing to change"), "{text}");
    let text = h.err("list_pipeline_events", json!({"pipeline_id": SALES_ETL, "levels": ["LOUD"]})).await;
    assert!(text.contains("LOUD"), "{text}");
    let text = h.err("get_pipeline_update", json!({"pipeline_id": SALES_ETL, "update_id": "nope"})).await;
    assert!(text.starts_with("Not found"), "{text}");
    let text = h.err("wait_for_pipeline_update", json!({"pipeline_id": "00000000-0000-4000-8000-000000000000"})).await;
    assert!(text.starts_with("Not found"), "{text}");
}

#[tokio::test]
async fn a_wait_that_runs_out_says_how_to_poll_and_a_second_update_is_refused() {
    let h = Setup::new(&["pipelines"]).transition_delay(Duration::from_secs(60)).start().await;
    let (text, result) =
        h.ok("start_pipeline_update", json!({"pipeline_id": SALES_ETL, "wait": true, "timeout_seconds": 1})).await;
    let update_id = result["update_id"].as_str().unwrap().to_string();
    assert_eq!(result["finished"], json!(false), "{text}");
    assert!(
        text.contains(&format!("Call wait_for_pipeline_update with pipeline_id {SALES_ETL} and update_id {update_id}")),
        "{text}"
    );
    assert!(
        h.requests_to("POST", &format!("/api/2.0/pipelines/{SALES_ETL}/stop")).is_empty(),
        "a wait that runs out stops nothing"
    );
    let refused = h.err("start_pipeline_update", json!({"pipeline_id": SALES_ETL})).await;
    assert!(refused.contains("active update") && refused.contains("stop_pipeline"), "{refused}");
    let (text, stopped) = h.ok("stop_pipeline", json!({"pipeline_id": SALES_ETL})).await;
    assert_eq!(stopped["stopped_update_id"], json!(update_id), "{text}");
}

#[tokio::test]
async fn cancelling_a_started_update_stops_it_but_cancelling_a_wait_does_not() {
    let h = Setup::new(&["pipelines"]).transition_delay(Duration::from_secs(60)).start().await;
    let stop = format!("/api/2.0/pipelines/{SALES_ETL}/stop");
    let handle = h.call_cancellable("start_pipeline_update", json!({"pipeline_id": SALES_ETL, "wait": true})).await;
    let started = h.wait_request("POST", &format!("/api/2.0/pipelines/{SALES_ETL}/updates")).await;
    assert_eq!(started.len(), 1);
    // The call is polling its update: the stop it registered is armed.
    let polling = format!("/api/2.0/pipelines/{SALES_ETL}/updates/");
    crate::support::within(Duration::from_secs(20), "the update to be polled", async {
        while !h.emulator.requests().iter().any(|r| r.method == "GET" && r.path.starts_with(&polling)) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(h.requests_to("POST", &stop).is_empty(), "nothing stopped while waiting");
    handle.cancel(Some("test".into())).await.unwrap();
    h.wait_request("POST", &stop).await;
    let (_, updates) = h.ok("list_pipeline_updates", json!({"pipeline_id": SALES_ETL, "limit": 1})).await;
    assert_eq!(updates["updates"][0]["state"], "STOPPING", "the update started by the cancelled call is stopping");

    // Watching someone's update and giving up leaves it alone.
    let other = Setup::new(&["pipelines"]).transition_delay(Duration::from_secs(60)).start().await;
    let (_, started) = other.ok("start_pipeline_update", json!({"pipeline_id": SALES_ETL})).await;
    let update_id = started["update_id"].as_str().unwrap();
    let handle = other
        .call_cancellable("wait_for_pipeline_update", json!({"pipeline_id": SALES_ETL, "update_id": update_id}))
        .await;
    other.wait_request("GET", &format!("/api/2.0/pipelines/{SALES_ETL}/updates/{update_id}")).await;
    handle.cancel(Some("test".into())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(other.requests_to("POST", &stop).is_empty(), "cancelling a wait stops nothing");
}

#[tokio::test]
async fn waiting_reports_progress() {
    let h = Setup::new(&["pipelines"]).transition_delay(Duration::from_millis(700)).start().await;
    let (text, done) = h.ok("start_pipeline_update", json!({"pipeline_id": SALES_ETL, "wait": true})).await;
    assert_eq!(done["update"]["state"], "COMPLETED", "{text}");
    let progress = h.progress.lock().unwrap().clone();
    let states: std::collections::BTreeSet<&str> = progress
        .iter()
        .filter_map(|p| p.message.as_deref())
        .filter_map(|m| m.split("to finish: ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    assert!(states.len() >= 2, "progress follows the update through its states: {progress:?}");
    assert!(states.iter().all(|s| !["COMPLETED", "FAILED"].contains(s)), "{states:?}");
}

#[tokio::test]
async fn a_user_sees_and_runs_only_what_they_were_granted() {
    let h = Setup::new(&["pipelines"]).token(ALICE_TOKEN).start().await;
    let (_, listed) = h.ok("list_pipelines", json!({})).await;
    let names: Vec<&str> =
        listed["pipelines"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["sales-etl"]);
    h.ok("get_pipeline", json!({"pipeline_id": SALES_ETL})).await;
    let text = h.err("start_pipeline_update", json!({"pipeline_id": SALES_ETL})).await;
    assert!(text.starts_with("Permission denied") && text.contains("Run permissions"), "{text}");
    let text = h.err("delete_pipeline", json!({"pipeline_id": SALES_ETL})).await;
    assert!(text.starts_with("Permission denied"), "{text}");
}
