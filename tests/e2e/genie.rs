//! Every genie tool, through MCP, against the emulator's Genie spaces, whose answers run real SQL
//! on the emulator's SQL engine (test seed: "NYC Taxi Trips" over `main.default.trips`, 20 rows;
//! "Executive Metrics", private to its owner, which also names a dropped table).

use std::time::Duration;

use databricks_emulator::{ALICE_TOKEN, DEMO_TOKEN};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{Harness, Setup};

const GENIE_TOOLS: [&str; 5] = [
    "list_genie_spaces",
    "start_genie_conversation",
    "send_genie_message",
    "get_genie_message",
    "get_genie_query_result",
];
const TAXI: &str = "01f0a1b2c3d4e5f60718293a4b5c6d01";
const EXEC: &str = "01f0a1b2c3d4e5f60718293a4b5c6d02";

/// A POST straight to the emulator as the demo user, as another client of the workspace would send it.
async fn demo_post(h: &Harness, path: &str, body: &Value) -> Value {
    let body = body.to_string();
    let mut stream = tokio::net::TcpStream::connect(h.emulator.addr()).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {DEMO_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        h.emulator.addr(),
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).to_string();
    serde_json::from_str(response.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default()).unwrap()
}

#[tokio::test]
async fn lists_every_genie_tool_with_schemas_and_annotations() {
    let h = Harness::start(&["genie"]).await;
    let tools = h.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, GENIE_TOOLS);
    for tool in &tools {
        assert!(tool.description.as_ref().is_some_and(|d| d.len() > 40), "{} needs a real description", tool.name);
        assert!(tool.output_schema.is_some(), "{} declares an output schema", tool.name);
        for (name, prop) in tool.input_schema["properties"].as_object().unwrap() {
            assert!(prop.get("description").is_some(), "{}.{name} is described", tool.name);
        }
        let a = tool.annotations.clone().unwrap();
        let reads = ["list_genie_spaces", "get_genie_message", "get_genie_query_result"].contains(&tool.name.as_ref());
        assert_eq!(a.read_only_hint, Some(reads), "{}", tool.name);
        if !reads {
            assert_eq!(a.destructive_hint, Some(false), "{}", tool.name);
        }
    }
}

#[tokio::test]
async fn lists_spaces_a_page_at_a_time() {
    let h = Harness::start(&["genie"]).await;
    let (text, data) = h.ok("list_genie_spaces", json!({})).await;
    assert!(text.contains(&format!("NYC Taxi Trips ({TAXI}): Ask about taxi trips")), "{text}");
    assert_eq!(data["spaces"].as_array().unwrap().len(), 2);
    let (text, first) = h.ok("list_genie_spaces", json!({"limit": 1})).await;
    let token = first["next_page_token"].as_str().unwrap();
    assert!(text.contains(token), "{text}");
    let (_, rest) = h.ok("list_genie_spaces", json!({"page_token": token})).await;
    assert_eq!(rest["spaces"][0]["space_id"], EXEC);
    assert!(rest.get("next_page_token").is_none());
    assert!(h.requests_to("GET", "/api/2.0/genie/spaces").iter().any(|r| r.query.contains("page_size=1")));
}

#[tokio::test]
async fn a_question_is_answered_with_real_data_and_follow_ups_continue_the_conversation() {
    let h = Harness::start(&["genie"]).await;
    let (text, data) = h
        .ok(
            "start_genie_conversation",
            json!({"space_id": TAXI, "question": "What's the average fare by payment type?"}),
        )
        .await;
    assert_eq!(data["status"], "COMPLETED");
    assert!(data["sql"].as_str().unwrap().contains("GROUP BY payment_type"), "the curated query: {text}");
    assert_eq!(data["result"]["columns"][0]["name"], "payment_type");
    let rows = data["result"]["rows"].as_array().unwrap();
    assert_eq!((rows[0][0].clone(), rows[1][0].clone()), (json!("card"), json!("cash")), "{text}");
    assert!(text.contains("payment_type | avg_fare") && text.contains("send_genie_message"), "{text}");
    let conversation = data["conversation_id"].as_str().unwrap().to_string();

    let (text, follow) = h
        .ok("send_genie_message", json!({"space_id": TAXI, "conversation_id": conversation, "question": "How many trips are there in total?"}))
        .await;
    assert_eq!(follow["conversation_id"], conversation.as_str());
    assert_eq!(follow["result"]["rows"], json!([[20]]), "{text}");
    assert!(text.contains("The answer is 20."), "{text}");

    // The statement behind the answer is a real statement of the space's warehouse.
    let statement = follow["result"]["statement_id"].as_str().unwrap();
    assert!(!statement.is_empty());

    let (text, sample) = h
        .ok(
            "send_genie_message",
            json!({"space_id": TAXI, "conversation_id": conversation, "question": "Show me some trips", "max_rows": 3}),
        )
        .await;
    assert_eq!(sample["result"]["rows"].as_array().unwrap().len(), 3);
    assert_eq!(sample["result"]["total_row_count"], 10);
    assert!(text.contains("Rows 1-3 of 10") && text.contains("row_offset 3"), "{text}");
    let ids = json!({"space_id": TAXI, "conversation_id": conversation, "message_id": sample["message_id"], "row_offset": 3, "max_rows": 100});
    let (text, more) = h.ok("get_genie_query_result", ids).await;
    assert_eq!(more["rows"].as_array().unwrap().len(), 7, "{text}");
    assert_eq!(more["rows"][0][0], 4, "trip_id 4 follows the first three");
    assert_eq!(more["truncated"], false);
}

#[tokio::test]
async fn a_slow_answer_reports_progress_and_is_picked_up_with_get_genie_message() {
    let h = Setup::new(&["genie"]).transition_delay(Duration::from_millis(800)).start().await;
    let (text, data) = h
        .ok(
            "start_genie_conversation",
            json!({"space_id": TAXI, "question": "How many shared trips were there?", "wait_seconds": 0}),
        )
        .await;
    assert_eq!(data["done"], false);
    assert_eq!(data["status"], "SUBMITTED");
    assert!(text.contains("still working") && text.contains("get_genie_message"), "{text}");
    let early = h
        .err(
            "get_genie_query_result",
            json!({"space_id": TAXI, "conversation_id": data["conversation_id"], "message_id": data["message_id"]}),
        )
        .await;
    assert!(early.contains("still"), "{early}");

    let ids = json!({"space_id": TAXI, "conversation_id": data["conversation_id"], "message_id": data["message_id"], "wait_seconds": 60});
    let (text, done) = h.ok("get_genie_message", ids).await;
    assert_eq!(done["status"], "COMPLETED", "{text}");
    assert_eq!(done["result"]["rows"], json!([[4]]), "four seeded trips are shared: {text}");
    assert!(!h.progress.lock().unwrap().is_empty(), "the wait reported progress");

    let (text, short) =
        h.ok("start_genie_conversation", json!({"space_id": TAXI, "question": "Show trips", "wait_seconds": 1})).await;
    assert_eq!(short["done"], false, "{text}");
    assert!(text.contains("get_genie_message"), "{text}");
}

#[tokio::test]
async fn failures_missing_things_and_other_users_are_explained() {
    let h = Harness::start(&["genie"]).await;
    let (text, data) =
        h.ok("start_genie_conversation", json!({"space_id": EXEC, "question": "What was the daily revenue?"})).await;
    assert_eq!(data["status"], "FAILED");
    assert!(text.contains("revenue_daily") && text.contains("cannot be found"), "{text}");
    let none = h
        .err(
            "get_genie_query_result",
            json!({"space_id": EXEC, "conversation_id": data["conversation_id"], "message_id": data["message_id"]}),
        )
        .await;
    assert!(none.contains("no query result"), "{none}");
    let missing = h
        .err("start_genie_conversation", json!({"space_id": "01f0ffffffffffffffffffffffffffff", "question": "hi"}))
        .await;
    assert!(missing.contains("does not exist"), "{missing}");
    let empty = h.err("start_genie_conversation", json!({"space_id": TAXI, "question": "  "})).await;
    assert!(empty.contains("question is empty"), "{empty}");

    let alice = Setup::new(&["genie"]).token(ALICE_TOKEN).start().await;
    let (text, spaces) = alice.ok("list_genie_spaces", json!({})).await;
    assert_eq!(spaces["spaces"].as_array().unwrap().len(), 1, "{text}");
    let hidden = alice.err("start_genie_conversation", json!({"space_id": EXEC, "question": "revenue?"})).await;
    assert!(hidden.contains("does not exist"), "{hidden}");
    let (_, own) = alice.ok("start_genie_conversation", json!({"space_id": TAXI, "question": "How many trips?"})).await;
    assert_eq!(own["result"]["rows"], json!([[20]]));
    let demo = demo_post(
        &alice,
        &format!("/api/2.0/genie/spaces/{TAXI}/start-conversation"),
        &json!({"content": "How many trips?"}),
    )
    .await;
    let theirs = alice
        .err(
            "send_genie_message",
            json!({"space_id": TAXI, "conversation_id": demo["conversation_id"], "question": "and now?"}),
        )
        .await;
    assert!(theirs.contains("belongs to another user"), "{theirs}");
    let theirs = alice
        .err(
            "get_genie_message",
            json!({"space_id": TAXI, "conversation_id": demo["conversation_id"], "message_id": demo["message_id"]}),
        )
        .await;
    assert!(theirs.contains("belongs to another user"), "{theirs}");
}
