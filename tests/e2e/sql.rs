//! Every sql tool, through MCP, against the emulator's warehouses and its SQL engine.

use std::time::Duration;

use databricks_emulator::ALICE_TOKEN;
use rmcp::model::{CallToolRequestParams, ClientRequest, Request};
use rmcp::service::PeerRequestOptions;
use serde_json::{Value, json};

use crate::support::{Harness, Setup, within};

const SQL_TOOLS: [&str; 11] = [
    "execute_sql",
    "get_statement",
    "cancel_statement",
    "list_warehouses",
    "get_warehouse",
    "create_warehouse",
    "edit_warehouse",
    "start_warehouse",
    "stop_warehouse",
    "delete_warehouse",
    "wait_for_warehouse",
];
/// The test seed's RUNNING warehouse (every user may use it) and its STOPPED one (users may only view it).
const STARTER: &str = "5a1f0c0ffee00001";
const REPORTING: &str = "5a1f0c0ffee00002";
const TRIPS: &str = "SELECT trip_id, fare_amount, is_shared, payment_type FROM main.default.trips ORDER BY trip_id";

#[tokio::test]
async fn lists_every_sql_tool_with_schemas_and_annotations() {
    let h = Harness::start(&["sql"]).await;
    let tools = h.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, SQL_TOOLS);
    for tool in &tools {
        assert!(tool.description.as_ref().is_some_and(|d| d.len() > 40), "{} needs a real description", tool.name);
        assert!(tool.output_schema.is_some(), "{} declares an output schema", tool.name);
        let props = tool.input_schema["properties"].as_object().unwrap();
        for (name, prop) in props {
            assert!(prop.get("description").is_some(), "{}.{name} is described", tool.name);
        }
    }
    let hint = |name: &str| {
        let a = tools.iter().find(|t| t.name == name).unwrap().annotations.clone().unwrap();
        (a.read_only_hint, a.destructive_hint)
    };
    for read_only in ["get_statement", "list_warehouses", "get_warehouse", "wait_for_warehouse"] {
        assert_eq!(hint(read_only).0, Some(true), "{read_only}");
    }
    for destructive in ["execute_sql", "edit_warehouse", "stop_warehouse", "delete_warehouse"] {
        assert_eq!(hint(destructive), (Some(false), Some(true)), "{destructive}");
    }
    assert_eq!(hint("create_warehouse"), (Some(false), Some(false)));
}

#[tokio::test]
async fn a_query_returns_a_compact_table_and_typed_rows() {
    let h = Harness::start(&["sql"]).await;
    let (text, data) = h.ok("execute_sql", json!({"statement": TRIPS, "warehouse_id": STARTER, "max_rows": 5})).await;
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("trip_id | fare_amount | is_shared | payment_type"), "{text}");
    assert!(lines.next().unwrap().starts_with("1 | "), "{text}");
    assert_eq!(data["state"], "SUCCEEDED");
    assert_eq!(data["warehouse_id"], STARTER);
    assert_eq!(data["total_row_count"], 20);
    assert_eq!(data["columns"][0], json!({"name": "trip_id", "type_text": "BIGINT", "type_name": "LONG"}));
    let rows = data["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0][0], json!(1), "LONG values are JSON numbers");
    assert!(rows[0][1].is_string(), "DECIMAL stays a string to keep its precision: {}", rows[0][1]);
    assert!(rows[0][2].is_boolean(), "BOOLEAN values are JSON booleans");
    assert_eq!((data["truncated"].clone(), data["next_row_offset"].clone()), (json!(true), json!(5)));
    assert!(text.contains("row_offset 5") && text.contains(data["statement_id"].as_str().unwrap()), "{text}");

    let (text, data) =
        h.ok("execute_sql", json!({"statement": "SELECT count(*) AS n FROM trips", "warehouse_id": STARTER, "catalog": "main", "schema": "default"})).await;
    assert_eq!(data["rows"], json!([[20]]), "{text}");
    assert_eq!(data["truncated"], false);
    assert!(text.contains("1 row."), "{text}");

    let (text, data) = h
        .ok(
            "execute_sql",
            json!({"statement": "CREATE TABLE main.default.notes (id INT, body STRING)", "warehouse_id": STARTER}),
        )
        .await;
    assert_eq!(data["state"], "SUCCEEDED", "{text}");
}

#[tokio::test]
async fn large_results_are_read_a_window_at_a_time_across_chunks() {
    let h = Harness::start(&["sql"]).await;
    h.emulator.set_sql_chunk_rows(7);
    let (_, full) = h.ok("execute_sql", json!({"statement": TRIPS, "warehouse_id": STARTER, "max_rows": 1000})).await;
    let all = full["rows"].as_array().unwrap().clone();
    assert_eq!(all.len(), 20, "every chunk was read");
    assert_eq!(
        h.requests_to(
            "GET",
            &format!("/api/2.0/sql/statements/{}/result/chunks/2", full["statement_id"].as_str().unwrap())
        )
        .len(),
        1
    );

    let (_, first) = h.ok("execute_sql", json!({"statement": TRIPS, "warehouse_id": STARTER, "max_rows": 6})).await;
    let id = first["statement_id"].as_str().unwrap().to_string();
    let mut rows = first["rows"].as_array().unwrap().clone();
    let mut next = first["next_row_offset"].as_u64();
    while let Some(offset) = next {
        let (text, page) =
            h.ok("get_statement", json!({"statement_id": id, "row_offset": offset, "max_rows": 6})).await;
        assert_eq!(page["row_offset"], offset, "{text}");
        rows.extend(page["rows"].as_array().unwrap().iter().cloned());
        next = page["next_row_offset"].as_u64();
        assert_eq!(page["truncated"], next.is_some());
    }
    assert_eq!(rows, all, "windows put together give the whole result, in order");

    // The byte budget cuts too, and always returns at least one row.
    let (text, small) =
        h.ok("execute_sql", json!({"statement": format!("SELECT *, '{}' AS pad FROM main.default.trips", "x".repeat(100)), "warehouse_id": STARTER, "max_bytes": 1024}))
            .await;
    let n = small["rows"].as_array().unwrap().len();
    assert!((1..20).contains(&n), "{n} rows within 1 KiB");
    assert_eq!(small["truncated"], true, "{text}");
    assert!(text.contains("Truncated"), "{text}");

    let past = h.err("get_statement", json!({"statement_id": id, "row_offset": 25})).await;
    assert!(past.contains("past the end"), "{past}");
}

#[tokio::test]
async fn parameters_are_bound_not_pasted() {
    let h = Harness::start(&["sql"]).await;
    let (text, data) = h
        .ok(
            "execute_sql",
            json!({
                "statement": "SELECT trip_id FROM main.default.trips WHERE trip_id <= :n AND payment_type = :kind ORDER BY trip_id",
                "warehouse_id": STARTER,
                "parameters": [{"name": "n", "value": 6, "type": "INT"}, {"name": "kind", "value": "card"}],
            }),
        )
        .await;
    let ids: Vec<i64> = data["rows"].as_array().unwrap().iter().map(|r| r[0].as_i64().unwrap()).collect();
    assert!(!ids.is_empty() && ids.iter().all(|id| *id <= 6), "{text}");
    let sent = h.requests_to("POST", "/api/2.0/sql/statements");
    let body: Value = serde_json::from_str(&sent.last().unwrap().body).unwrap();
    assert_eq!(
        body["parameters"],
        json!([{"name": "n", "value": "6", "type": "INT"}, {"name": "kind", "value": "card"}])
    );
    assert!(!body["statement"].as_str().unwrap().contains("card"), "values never enter the SQL text");

    let injected = h
        .ok(
            "execute_sql",
            json!({"statement": "SELECT count(*) FROM main.default.trips WHERE payment_type = :kind", "warehouse_id": STARTER,
                   "parameters": [{"name": "kind", "value": "x' OR '1'='1"}]}),
        )
        .await;
    assert_eq!(injected.1["rows"], json!([[0]]), "a hostile value is only a value");
}

#[tokio::test]
async fn the_warehouse_defaults_to_the_operator_setting_or_the_error_lists_choices() {
    let h =
        Setup::new(&["sql"]).config(&format!("[plugins.sql.settings]\nwarehouse_id = \"{STARTER}\"\n")).start().await;
    let (_, data) = h.ok("execute_sql", json!({"statement": "SELECT 1 AS one"})).await;
    assert_eq!(data["rows"], json!([[1]]));
    let sent = h.requests_to("POST", "/api/2.0/sql/statements");
    assert!(sent[0].body.contains(STARTER), "{}", sent[0].body);
    let (text, _) = h.ok("list_warehouses", json!({})).await;
    assert!(text.contains(&format!("Default warehouse for execute_sql: {STARTER}")), "{text}");

    let h = Harness::start(&["sql"]).await;
    let text = h.err("execute_sql", json!({"statement": "SELECT 1"})).await;
    assert!(text.contains("no warehouse_id given") && text.contains(STARTER) && text.contains("RUNNING"), "{text}");
    assert!(h.requests_to("POST", "/api/2.0/sql/statements").is_empty(), "nothing ran");
}

#[tokio::test]
async fn a_long_statement_reports_progress_and_can_be_picked_up_later() {
    let h = Setup::new(&["sql"]).transition_delay(Duration::from_secs(3)).start().await;
    // The stopped warehouse starts first (one delay), then the statement runs (another).
    let (text, data) = h
        .ok("execute_sql", json!({"statement": "SELECT 42 AS answer", "warehouse_id": REPORTING, "wait_seconds": 1}))
        .await;
    assert!(matches!(data["state"].as_str(), Some("PENDING" | "RUNNING")), "{data}");
    let id = data["statement_id"].as_str().unwrap().to_string();
    assert!(text.contains("still") && text.contains("get_statement") && text.contains(&id), "{text}");
    assert!(
        h.requests_to("POST", &format!("/api/2.0/sql/statements/{id}/cancel")).is_empty(),
        "a wait that runs out does not cancel"
    );

    let (text, data) = h.ok("get_statement", json!({"statement_id": id, "wait_seconds": 30})).await;
    assert_eq!(data["rows"], json!([[42]]), "{text}");
    assert!(!h.progress.lock().unwrap().is_empty(), "the waits reported progress");

    let (_, status) = h.ok("get_statement", json!({"statement_id": id})).await;
    assert_eq!(status["state"], "SUCCEEDED", "reading again needs no wait");
}

#[tokio::test]
async fn cancelling_the_call_cancels_the_statement() {
    let h = Setup::new(&["sql"]).transition_delay(Duration::from_secs(5)).start().await;
    let params = CallToolRequestParams::new("execute_sql")
        .with_arguments(json!({"statement": "SELECT 1", "warehouse_id": REPORTING}).as_object().unwrap().clone());
    let handle = h
        .client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(params)),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    // The tool polls the statement it submitted: its first poll names it.
    let id = within(Duration::from_secs(10), "the statement to be polled", async {
        loop {
            let polled = h.emulator.requests().into_iter().find_map(|r| {
                (r.method == "GET").then_some(())?;
                r.path.strip_prefix("/api/2.0/sql/statements/").map(str::to_string)
            });
            if let Some(id) = polled {
                return id;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    handle.cancel(Some("test".into())).await.unwrap();
    within(Duration::from_secs(10), "the compensating cancel", async {
        while h.requests_to("POST", &format!("/api/2.0/sql/statements/{id}/cancel")).is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let text = h.err("get_statement", json!({"statement_id": id})).await;
    assert!(text.contains("cancelled"), "{text}");

    // cancel_statement does the same on request.
    let (_, data) =
        h.ok("execute_sql", json!({"statement": "SELECT 2", "warehouse_id": REPORTING, "wait_seconds": 0})).await;
    let id = data["statement_id"].as_str().unwrap();
    let (text, data) = h.ok("cancel_statement", json!({"statement_id": id})).await;
    assert_eq!(data["state"], "CANCELED", "{text}");
}

#[tokio::test]
async fn sql_errors_permission_and_bad_arguments_are_clear_tool_errors() {
    let h = Harness::start(&["sql"]).await;
    let text = h
        .err("execute_sql", json!({"statement": "SELECT * FROM main.default.no_such_table", "warehouse_id": STARTER}))
        .await;
    assert!(text.contains("failed") && text.contains("SQLSTATE") && text.contains("no_such_table"), "{text}");
    let text = h.err("execute_sql", json!({"statement": "SELECT 1", "warehouse_id": "0000000000000000"})).await;
    assert!(text.contains("0000000000000000") && text.contains("does not exist"), "{text}");
    let text =
        h.err("execute_sql", json!({"statement": "SELECT 1", "warehouse_id": STARTER, "max_rows": "lots"})).await;
    assert!(text.contains("max_rows"), "schema violations name the argument: {text}");
    let text = h.err("execute_sql", json!({"statement": "  ", "warehouse_id": STARTER})).await;
    assert!(text.contains("empty"), "{text}");
    let text = h
        .err(
            "execute_sql",
            json!({"statement": "SELECT :x", "warehouse_id": STARTER, "parameters": [{"name": "x", "value": [1, 2]}]}),
        )
        .await;
    assert!(text.contains("parameter `x`"), "{text}");
    let text = h.err("get_statement", json!({"statement_id": "../../clusters/list"})).await;
    assert!(text.contains("refused") || text.contains("not found"), "an id cannot leave its path segment: {text}");
    let (_, admins) = h.ok("execute_sql", json!({"statement": "SELECT 1", "warehouse_id": STARTER})).await;

    let alice = Setup::new(&["sql"]).token(ALICE_TOKEN).start().await;
    let text = alice.err("execute_sql", json!({"statement": "SELECT 1", "warehouse_id": REPORTING})).await;
    assert!(text.contains("permission") && text.contains("Use"), "{text}");
    let text = alice.err("stop_warehouse", json!({"warehouse_id": STARTER})).await;
    assert!(text.contains("Manage"), "{text}");
    let (_, mine) =
        alice.ok("execute_sql", json!({"statement": "SELECT current_user() AS me", "warehouse_id": STARTER})).await;
    assert_eq!(mine["rows"], json!([["alice.nguyen@example.com"]]), "statements run as the caller");
    // Another emulator, so the admin's statement is unknown there: not found.
    let text = alice.err("get_statement", json!({"statement_id": admins["statement_id"]})).await;
    assert!(text.to_lowercase().contains("not found"), "{text}");
}

#[tokio::test]
async fn a_warehouse_lives_its_whole_life_through_the_tools() {
    let h = Harness::start(&["sql"]).await;
    let (text, created) = h
        .ok("create_warehouse", json!({"name": "adhoc", "cluster_size": "X-Small", "auto_stop_mins": 15, "tags": {"team": "data", "cost": "low"}}))
        .await;
    let id = created["warehouse_id"].as_str().unwrap().to_string();
    assert!(text.contains("adhoc") && text.contains(&id), "{text}");
    let (_, w) = h.ok("wait_for_warehouse", json!({"warehouse_id": id})).await;
    assert_eq!(w["state"], "RUNNING");

    let (text, _) = h
        .ok(
            "edit_warehouse",
            json!({"warehouse_id": id, "cluster_size": "Small", "tags": {"cost": null, "owner": "ana"}}),
        )
        .await;
    assert!(text.contains("cluster_size") && text.contains("restarts"), "{text}");
    let (text, w) = h.ok("get_warehouse", json!({"warehouse_id": id})).await;
    assert!(text.contains("adhoc") && text.contains("HTTP path"), "{text}");
    assert_eq!(w["cluster_size"], "Small");
    assert_eq!(w["auto_stop_mins"], 15, "edit keeps what it was not asked to change");
    assert_eq!(w["tags"]["custom_tags"], json!([{"key": "owner", "value": "ana"}, {"key": "team", "value": "data"}]));

    h.ok("stop_warehouse", json!({"warehouse_id": id})).await;
    let (_, w) = h.ok("wait_for_warehouse", json!({"warehouse_id": id, "target": "STOPPED"})).await;
    assert_eq!(w["state"], "STOPPED");
    let text = h.err("wait_for_warehouse", json!({"warehouse_id": id})).await;
    assert!(text.contains("start_warehouse"), "waiting for RUNNING on a stopped warehouse says what to do: {text}");
    let (text, _) = h.ok("start_warehouse", json!({"warehouse_id": id})).await;
    assert!(text.contains("Starting"), "{text}");
    let (text, _) = h.ok("start_warehouse", json!({"warehouse_id": id})).await;
    assert!(text.contains("already"), "{text}");

    h.ok("delete_warehouse", json!({"warehouse_id": id})).await;
    let text = h.err("get_warehouse", json!({"warehouse_id": id})).await;
    assert!(text.contains("does not exist"), "{text}");
    let text = h.err("create_warehouse", json!({"name": "bad", "min_num_clusters": 3, "max_num_clusters": 2})).await;
    assert!(text.contains("min_num_clusters"), "{text}");
    let text = h.err("edit_warehouse", json!({"warehouse_id": STARTER})).await;
    assert!(text.contains("nothing to change"), "{text}");
}

#[tokio::test]
async fn warehouses_list_one_page_at_a_time() {
    let h = Harness::start(&["sql"]).await;
    for i in 0..2 {
        h.ok("create_warehouse", json!({"name": format!("wh-{i}")})).await;
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let mut args = json!({"limit": 2});
        if let Some(t) = &token {
            args["page_token"] = json!(t);
        }
        let (text, page) = h.ok("list_warehouses", args).await;
        let items = page["warehouses"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|w| w["id"].as_str().unwrap().to_string()));
        token = page.get("next_page_token").and_then(Value::as_str).map(str::to_string);
        match &token {
            Some(_) => assert!(text.contains("page_token"), "{text}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4, "two seeded, two created: {seen:?}");
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 4);
}
