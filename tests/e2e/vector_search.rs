//! Every vector-search tool, through MCP, against the emulator's vector search (test seed:
//! endpoint `vs-endpoint` hosting `main.default.trips_index` over `main.default.trips`, embedding
//! `payment_type` with `databricks-bge-large-en`). Queries rank real rows of the source table.

use std::time::Duration;

use databricks_emulator::{ALICE_TOKEN, DEMO_TOKEN};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{Harness, Setup, within};

const VS_TOOLS: [&str; 10] = [
    "list_vector_search_endpoints",
    "get_vector_search_endpoint",
    "create_vector_search_endpoint",
    "delete_vector_search_endpoint",
    "list_vector_search_indexes",
    "get_vector_search_index",
    "create_vector_search_index",
    "delete_vector_search_index",
    "sync_vector_search_index",
    "query_vector_search_index",
];
const TRIPS_INDEX: &str = "main.default.trips_index";

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

/// Runs SQL on the test seed's running warehouse, as the demo user.
async fn sql(h: &Harness, statement: &str) {
    let body = json!({"statement": statement, "warehouse_id": "5a1f0c0ffee00001", "wait_timeout": "10s"});
    let result = demo_post(h, "/api/2.0/sql/statements", &body).await;
    assert_eq!(result["status"]["state"], "SUCCEEDED", "{statement}: {result}");
}

#[tokio::test]
async fn lists_every_vector_search_tool_with_schemas_and_annotations() {
    let h = Harness::start(&["vector-search"]).await;
    let tools = h.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, VS_TOOLS);
    for tool in &tools {
        assert!(tool.description.as_ref().is_some_and(|d| d.len() > 40), "{} needs a real description", tool.name);
        assert!(tool.output_schema.is_some(), "{} declares an output schema", tool.name);
        for (name, prop) in tool.input_schema["properties"].as_object().unwrap() {
            assert!(prop.get("description").is_some(), "{}.{name} is described", tool.name);
        }
        let a = tool.annotations.clone().unwrap();
        let reads = tool.name.starts_with("list_") || tool.name.starts_with("get_") || tool.name.starts_with("query_");
        assert_eq!(a.read_only_hint, Some(reads), "{}", tool.name);
        if !reads {
            assert_eq!(a.destructive_hint, Some(tool.name.starts_with("delete_")), "{}", tool.name);
        }
    }
}

#[tokio::test]
async fn the_seeded_index_answers_queries_with_filters_columns_and_top_k() {
    let h = Harness::start(&["vector-search"]).await;
    let (text, data) = h.ok("list_vector_search_endpoints", json!({})).await;
    assert_eq!(text, "vs-endpoint: ONLINE (STANDARD), 1 index(es)");
    assert_eq!(data["endpoints"][0]["endpoint_status"]["state"], "ONLINE");
    let (text, data) = h.ok("list_vector_search_indexes", json!({"endpoint_name": "vs-endpoint"})).await;
    assert!(text.starts_with("main.default.trips_index (DELTA_SYNC, key trip_id, on vs-endpoint)"), "{text}");
    assert_eq!(data["vector_indexes"].as_array().unwrap().len(), 1);
    let (text, index) = h.ok("get_vector_search_index", json!({"name": TRIPS_INDEX})).await;
    assert_eq!(index["status"]["ready"], true, "{text}");
    assert_eq!(index["status"]["indexed_row_count"], 20);

    let (text, data) = h
        .ok("query_vector_search_index", json!({"name": TRIPS_INDEX, "columns": ["trip_id", "payment_type"], "query_text": "paid by card", "num_results": 3}))
        .await;
    assert_eq!(data["columns"], json!(["trip_id", "payment_type", "score"]));
    let rows = data["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(rows.iter().all(|r| r[1] == "card"), "card trips rank first: {text}");
    assert!(rows[0][2].as_f64().unwrap() >= rows[2][2].as_f64().unwrap(), "scores fall");
    assert_eq!(rows[0][0], 1, "ties keep primary-key order");

    let (_, filtered) = h
        .ok(
            "query_vector_search_index",
            json!({"name": TRIPS_INDEX, "columns": ["trip_id", "payment_type"], "query_text": "card", "num_results": 50,
                   "filters": {"payment_type": "cash", "trip_id <=": 10, "trip_id NOT": [2, 4]}}),
        )
        .await;
    let ids: Vec<i64> = filtered["rows"].as_array().unwrap().iter().map(|r| r[0].as_i64().unwrap()).collect();
    assert_eq!(ids, [6, 8, 10], "filters apply before ranking");
    let sent: Value = serde_json::from_str(
        &h.requests_to("POST", &format!("/api/2.0/vector-search/indexes/{TRIPS_INDEX}/query")).last().unwrap().body,
    )
    .unwrap();
    assert!(sent["filters_json"].is_string(), "filters go as filters_json text: {sent}");

    let bad =
        h.err("query_vector_search_index", json!({"name": TRIPS_INDEX, "columns": ["nope"], "query_text": "x"})).await;
    assert!(bad.contains("'nope' is not a column"), "{bad}");
    let bad = h
        .err(
            "query_vector_search_index",
            json!({"name": TRIPS_INDEX, "columns": ["trip_id"], "query_vector": [0.1, 0.2]}),
        )
        .await;
    assert!(bad.contains("2 dimensions") && bad.contains("1024"), "{bad}");
    let bad = h.err("query_vector_search_index", json!({"name": TRIPS_INDEX, "columns": ["trip_id"]})).await;
    assert!(bad.contains("exactly one of query_text or query_vector"), "{bad}");
    let missing = h.err("get_vector_search_index", json!({"name": "main.default.nope"})).await;
    assert!(missing.contains("does not exist"), "{missing}");
}

#[tokio::test]
async fn an_index_is_created_over_a_new_table_synced_queried_and_deleted_with_its_endpoint() {
    let h = Setup::new(&["vector-search"]).transition_delay(Duration::from_millis(300)).start().await;
    sql(&h, "CREATE TABLE main.default.support_articles (id BIGINT, title STRING, body STRING, category STRING)").await;
    sql(
        &h,
        "INSERT INTO main.default.support_articles VALUES \
        (1, 'Reset your password', 'Open settings and choose reset password to get a reset link by email', 'account'), \
        (2, 'Update billing details', 'Change the credit card used for billing in the billing page', 'billing'), \
        (3, 'Export invoices', 'Download past invoices as PDF from the billing page', 'billing'), \
        (4, 'Enable two factor login', 'Turn on two factor authentication for a safer login', 'account')",
    )
    .await;

    let (text, endpoint) = h.ok("create_vector_search_endpoint", json!({"name": "support-search"})).await;
    assert!(text.contains("PROVISIONING"), "{text}");
    assert_eq!(endpoint["endpoint_type"], "STANDARD");
    let (text, _) = h
        .ok(
            "create_vector_search_index",
            json!({"name": "main.default.support_index", "endpoint_name": "support-search", "source_table": "main.default.support_articles",
                   "primary_key": "id", "embedding_source_column": "body", "embedding_model_endpoint_name": "databricks-bge-large-en"}),
        )
        .await;
    assert!(text.contains("initial sync"), "{text}");
    let early = h
        .err(
            "query_vector_search_index",
            json!({"name": "main.default.support_index", "columns": ["id"], "query_text": "x"}),
        )
        .await;
    assert!(early.contains("not ready"), "{early}");

    let ready = within(Duration::from_secs(30), "the index to be ready", async {
        loop {
            let (_, index) = h.ok("get_vector_search_index", json!({"name": "main.default.support_index"})).await;
            if index["status"]["ready"] == true {
                return index;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert_eq!(ready["status"]["indexed_row_count"], 4);

    let (text, found) = h
        .ok("query_vector_search_index", json!({"name": "main.default.support_index", "columns": ["id", "title"], "query_text": "how do I reset my password", "num_results": 2}))
        .await;
    assert_eq!(found["rows"][0][1], "Reset your password", "{text}");
    let (_, billing) = h
        .ok("query_vector_search_index", json!({"name": "main.default.support_index", "columns": ["id"], "query_text": "billing page", "filters": {"category": "billing"}}))
        .await;
    let ids: Vec<i64> = billing["rows"].as_array().unwrap().iter().map(|r| r[0].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 2, "only billing articles");

    // New rows appear after a sync.
    sql(&h, "INSERT INTO main.default.support_articles VALUES (5, 'Close your account', 'Delete your account and all data for good', 'account')").await;
    h.ok("sync_vector_search_index", json!({"name": "main.default.support_index"})).await;
    within(Duration::from_secs(30), "the sync to finish", async {
        loop {
            let (_, index) = h.ok("get_vector_search_index", json!({"name": "main.default.support_index"})).await;
            if index["status"]["indexed_row_count"] == 5 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;

    let busy = h.err("delete_vector_search_endpoint", json!({"name": "support-search"})).await;
    assert!(busy.contains("delete them first"), "{busy}");
    h.ok("delete_vector_search_index", json!({"name": "main.default.support_index"})).await;
    let (text, _) = h.ok("delete_vector_search_endpoint", json!({"name": "support-search"})).await;
    assert_eq!(text, "Deleted vector search endpoint support-search.");
    let gone = h.err("get_vector_search_endpoint", json!({"name": "support-search"})).await;
    assert!(gone.contains("does not exist"), "{gone}");

    let bad = h
        .err(
            "create_vector_search_index",
            json!({"name": "main.default.x_index", "endpoint_name": "vs-endpoint", "source_table": "main.default.trips",
                   "primary_key": "trip_id", "embedding_source_column": "fare_amount", "embedding_model_endpoint_name": "databricks-bge-large-en"}),
        )
        .await;
    assert!(bad.contains("must be a STRING column"), "{bad}");
    let bad = h
        .err(
            "create_vector_search_index",
            json!({"name": "main.default.x_index", "endpoint_name": "vs-endpoint", "source_table": "main.default.trips",
                   "primary_key": "trip_id", "embedding_source_column": "payment_type", "embedding_model_endpoint_name": "churn-model"}),
        )
        .await;
    assert!(bad.contains("does not serve an embedding model"), "{bad}");
}

#[tokio::test]
async fn a_query_vector_from_the_embedding_model_finds_the_same_rows_and_pages_work() {
    let h = Setup::new(&["vector-search", "serving"]).start().await;
    let (_, embedded) =
        h.ok("query_serving_endpoint", json!({"name": "databricks-bge-large-en", "input": ["cash"]})).await;
    let vector = embedded["response"]["data"][0]["embedding"].clone();
    let (_, by_vector) = h
        .ok(
            "query_vector_search_index",
            json!({"name": TRIPS_INDEX, "columns": ["trip_id"], "query_vector": vector, "num_results": 3}),
        )
        .await;
    let (_, by_text) = h
        .ok(
            "query_vector_search_index",
            json!({"name": TRIPS_INDEX, "columns": ["trip_id"], "query_text": "cash", "num_results": 3}),
        )
        .await;
    assert_eq!(by_vector["rows"], by_text["rows"]);
    assert_eq!(by_text["rows"][0][0], 2, "the first cash trip");

    let (_, created) = h.ok("create_vector_search_endpoint", json!({"name": "second"})).await;
    assert_eq!(created["name"], "second");
    let (text, first) = h.ok("list_vector_search_endpoints", json!({"limit": 1})).await;
    let token = first["next_page_token"].as_str().unwrap();
    assert!(text.contains(token), "{text}");
    let (_, rest) = h.ok("list_vector_search_endpoints", json!({"limit": 1, "page_token": token})).await;
    assert_eq!(rest["endpoints"][0]["name"], "vs-endpoint");
}

#[tokio::test]
async fn other_users_need_the_source_tables_privileges_and_the_endpoints_permission() {
    let h = Setup::new(&["vector-search"]).token(ALICE_TOKEN).start().await;
    // Alice reads main.default.trips through data-engineers, so she may query its index.
    let (_, data) = h
        .ok(
            "query_vector_search_index",
            json!({"name": TRIPS_INDEX, "columns": ["trip_id"], "query_text": "card", "num_results": 1}),
        )
        .await;
    assert_eq!(data["rows"].as_array().unwrap().len(), 1);
    let denied = h.err("delete_vector_search_endpoint", json!({"name": "vs-endpoint"})).await;
    assert!(denied.contains("does not have Manage permissions"), "{denied}");
    let denied = h
        .err(
            "create_vector_search_index",
            json!({"name": "main.default.alice_index", "endpoint_name": "vs-endpoint", "source_table": "main.default.trips",
                   "primary_key": "trip_id", "embedding_source_column": "payment_type", "embedding_model_endpoint_name": "databricks-bge-large-en"}),
        )
        .await;
    assert!(denied.contains("CREATE"), "{denied}");
}
