//! SQL warehouses and the Statement Execution API over HTTP: the warehouse state machine, statement
//! states with and without a delay, chunked results, parameters, SQL errors and the link to Unity
//! Catalog.

use std::time::Duration;

use databricks_emulator::{DEMO_TOKEN, EmulatorConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::util::{Api, assert_error, has_null, read};

const RUNNING: &str = "5a1f0c0ffee00001";
const STOPPED: &str = "5a1f0c0ffee00002";
const STATEMENTS: &str = "/api/2.0/sql/statements";

async fn run(api: &Api, statement: &str) -> Value {
    let (status, body) =
        api.post(STATEMENTS, json!({"statement": statement, "warehouse_id": RUNNING, "wait_timeout": "5s"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn succeeded(api: &Api, statement: &str) -> Value {
    let body = run(api, statement).await;
    assert_eq!(body["status"]["state"], "SUCCEEDED", "{statement}: {body}");
    body
}

fn slow(delay: Duration) -> EmulatorConfig {
    EmulatorConfig { transition_delay: delay, ..EmulatorConfig::default() }
}

#[tokio::test]
async fn a_query_returns_typed_columns_and_string_values() {
    let api = Api::start().await;
    let body = succeeded(
        &api,
        "SELECT trip_id, fare_amount, is_shared, payment_type FROM main.default.trips WHERE trip_id <= 5 ORDER BY trip_id",
    )
    .await;
    assert!(!has_null(&body), "{body}");
    let manifest = &body["manifest"];
    assert_eq!(manifest["format"], "JSON_ARRAY");
    assert_eq!(manifest["schema"]["column_count"], 4);
    assert_eq!(
        manifest["schema"]["columns"][0],
        json!({"name": "trip_id", "type_text": "BIGINT", "type_name": "LONG", "position": 0})
    );
    assert_eq!(manifest["schema"]["columns"][1]["type_name"], "DECIMAL");
    assert_eq!(manifest["total_row_count"], 5);
    assert_eq!(manifest["total_chunk_count"], 1);
    assert_eq!(manifest["truncated"], false);
    let rows = &body["result"]["data_array"];
    assert_eq!(rows[0][0], "1");
    assert!(rows[0][1].as_str().is_some_and(|f| f.split('.').nth(1).map(str::len) == Some(2)), "{rows}");
    assert_eq!(rows[4][2], "true");
    assert_eq!(rows[0][3], "card");
    assert_eq!(body["result"]["row_count"], 5);
}

#[tokio::test]
async fn names_resolve_against_the_statement_catalog_and_schema() {
    let api = Api::start().await;
    let (_, body) = api
        .post(
            STATEMENTS,
            json!({"statement": "SELECT payment_type, count(*) AS n FROM trips GROUP BY payment_type ORDER BY 1",
                   "warehouse_id": RUNNING, "catalog": "main", "schema": "default"}),
        )
        .await;
    assert_eq!(body["result"]["data_array"], json!([["card", "10"], ["cash", "10"]]));
    assert_eq!(body["manifest"]["schema"]["columns"][1]["type_text"], "BIGINT");
    let two_part =
        succeeded(&api, "SELECT count(*) FROM default.trips a JOIN main.default.trips b ON a.trip_id = b.trip_id")
            .await;
    assert_eq!(two_part["result"]["data_array"], json!([["20"]]));
}

#[tokio::test]
async fn sql_ddl_and_dml_show_up_in_unity_catalog() {
    let api = Api::start().await;
    succeeded(&api, "CREATE SCHEMA IF NOT EXISTS main.ops COMMENT 'Operations'").await;
    succeeded(&api, "CREATE TABLE main.ops.alerts (id INT NOT NULL, level STRING COMMENT 'sev', at TIMESTAMP)").await;
    let inserted =
        succeeded(&api, "INSERT INTO main.ops.alerts VALUES (1, 'high', '2024-01-01T00:00:00.000Z'), (2, 'low', NULL)")
            .await;
    assert_eq!(inserted["result"]["data_array"], json!([["2", "2"]]));
    assert_eq!(inserted["manifest"]["schema"]["columns"][0]["name"], "num_affected_rows");

    let (status, table) = api.get("/api/2.1/unity-catalog/tables/main.ops.alerts", &[]).await;
    assert_eq!(status, StatusCode::OK, "{table}");
    assert_eq!(
        table["columns"][1],
        json!({"name": "level", "type_text": "string", "type_name": "STRING",
        "type_json": table["columns"][1]["type_json"], "position": 1, "nullable": true, "comment": "sev"})
    );

    let shown = succeeded(&api, "SHOW TABLES IN main.ops").await;
    assert_eq!(shown["result"]["data_array"], json!([["ops", "alerts", "false"]]));
    let schemas = succeeded(&api, "SHOW SCHEMAS IN main").await;
    assert_eq!(schemas["result"]["data_array"], json!([["default"], ["information_schema"], ["ops"]]));
    let catalogs = succeeded(&api, "SHOW CATALOGS").await;
    assert_eq!(catalogs["result"]["data_array"], json!([["main"]]));
    let described = succeeded(&api, "DESCRIBE TABLE main.ops.alerts").await;
    assert_eq!(described["result"]["data_array"][2], json!(["at", "timestamp", null]));

    let nulls = succeeded(&api, "SELECT at FROM main.ops.alerts WHERE id = 2").await;
    assert_eq!(nulls["result"]["data_array"], json!([[null]]));

    succeeded(&api, "DROP TABLE main.ops.alerts").await;
    let (status, _) = api.get("/api/2.1/unity-catalog/tables/main.ops.alerts", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    succeeded(&api, "DROP SCHEMA main.ops").await;
}

#[tokio::test]
async fn sql_errors_are_failed_statements_not_http_errors() {
    let api = Api::start().await;
    let body = run(&api, "SELECT * FROM main.default.nope").await;
    assert_eq!(body["status"]["state"], "FAILED");
    assert_eq!(body["status"]["error"]["error_code"], "BAD_REQUEST");
    assert!(
        body["status"]["error"]["message"]
            .as_str()
            .is_some_and(|m| m
                .starts_with("[TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`default`.`nope` cannot be found.")),
        "{body}"
    );
    assert_eq!(body["status"]["sql_state"], "42P01");
    assert!(body.get("manifest").is_none() && body.get("result").is_none());

    let column = run(&api, "SELECT nope FROM main.default.trips").await;
    assert!(column["status"]["error"]["message"].as_str().is_some_and(|m| m.contains("UNRESOLVED_COLUMN")), "{column}");
    let syntax = run(&api, "SELEC 1").await;
    assert!(
        syntax["status"]["error"]["message"].as_str().is_some_and(|m| m.contains("PARSE_SYNTAX_ERROR")),
        "{syntax}"
    );
}

#[tokio::test]
async fn bad_requests_are_http_errors() {
    let api = Api::start().await;
    let timeout =
        api.post(STATEMENTS, json!({"statement": "SELECT 1", "warehouse_id": RUNNING, "wait_timeout": "3s"})).await;
    assert_error(
        &timeout,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "Invalid wait_timeout '3s': it must be 0s or between 5s and 50s, e.g. \"10s\"",
    );
    let missing = api.post(STATEMENTS, json!({"statement": "SELECT 1"})).await;
    assert_error(&missing, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", "Missing required field: warehouse_id");
    let (status, body) = api.post(STATEMENTS, json!({"statement": "SELECT 1", "warehouse_id": "nope"})).await;
    assert_eq!((status, body["error_code"].clone()), (StatusCode::NOT_FOUND, json!("RESOURCE_DOES_NOT_EXIST")));
    let (status, _) = api
        .post(STATEMENTS, json!({"statement": "SELECT 1", "warehouse_id": RUNNING, "disposition": "EXTERNAL_LINKS"}))
        .await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    let (status, _) = api.get(&format!("{STATEMENTS}/nope"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn named_parameters_and_row_limits_apply() {
    let api = Api::start().await;
    let (_, body) = api
        .post(
            STATEMENTS,
            json!({"statement": "SELECT trip_id FROM main.default.trips WHERE payment_type = :p AND trip_id > :min ORDER BY trip_id",
                   "warehouse_id": RUNNING, "row_limit": 3,
                   "parameters": [{"name": "p", "value": "cash"}, {"name": "min", "value": "4", "type": "INT"}]}),
        )
        .await;
    assert_eq!(body["result"]["data_array"], json!([["6"], ["8"], ["10"]]));
    assert_eq!(body["manifest"]["truncated"], true);
}

#[tokio::test]
async fn large_results_come_in_chunks() {
    let api = Api::start().await;
    api.emu.set_sql_chunk_rows(8);
    let body = succeeded(&api, "SELECT trip_id FROM main.default.trips ORDER BY trip_id").await;
    let manifest = &body["manifest"];
    assert_eq!(manifest["total_chunk_count"], 3);
    assert_eq!(manifest["chunks"][2], json!({"chunk_index": 2, "row_offset": 16, "row_count": 4}));
    let id = body["statement_id"].as_str().expect("an id");
    assert_eq!(body["result"]["next_chunk_index"], 1);
    let link = body["result"]["next_chunk_internal_link"].as_str().expect("a link").to_owned();
    assert_eq!(link, format!("{STATEMENTS}/{id}/result/chunks/1"));

    let (status, chunk) = api.get(&link, &[]).await;
    assert_eq!(status, StatusCode::OK, "{chunk}");
    assert_eq!(chunk["row_offset"], 8);
    assert_eq!(chunk["data_array"][0], json!(["9"]));
    let (_, last) = api.get(&format!("{STATEMENTS}/{id}/result/chunks/2"), &[]).await;
    assert_eq!(last["row_count"], 4);
    assert!(last.get("next_chunk_index").is_none());
    let (status, _) = api.get(&format!("{STATEMENTS}/{id}/result/chunks/3"), &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn with_a_delay_statements_can_be_polled_and_cancelled() {
    let delay = Duration::from_millis(300);
    let api = Api::with(slow(delay)).await;
    let (_, body) = api
        .post(STATEMENTS, json!({"statement": "SELECT 1 AS one", "warehouse_id": RUNNING, "wait_timeout": "0s"}))
        .await;
    assert_eq!(body["status"]["state"], "RUNNING", "{body}");
    let id = body["statement_id"].as_str().expect("an id").to_owned();
    tokio::time::sleep(delay + Duration::from_millis(100)).await;
    let (_, done) = api.get(&format!("{STATEMENTS}/{id}"), &[]).await;
    assert_eq!(done["status"]["state"], "SUCCEEDED");
    assert_eq!(done["result"]["data_array"], json!([["1"]]));

    // A cancelled statement never runs.
    let (_, body) = api
        .post(
            STATEMENTS,
            json!({"statement": "CREATE SCHEMA main.never", "warehouse_id": RUNNING, "wait_timeout": "0s"}),
        )
        .await;
    let id = body["statement_id"].as_str().expect("an id").to_owned();
    let (status, cancelled) = api.post(&format!("{STATEMENTS}/{id}/cancel"), json!({})).await;
    assert_eq!((status, cancelled), (StatusCode::OK, json!({})));
    tokio::time::sleep(delay + Duration::from_millis(100)).await;
    let (_, after) = api.get(&format!("{STATEMENTS}/{id}"), &[]).await;
    assert_eq!(after["status"]["state"], "CANCELED");
    let (status, _) = api.get("/api/2.1/unity-catalog/schemas/main.never", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_statement_on_a_stopped_warehouse_starts_it_and_waits_pending() {
    let delay = Duration::from_millis(300);
    let api = Api::with(slow(delay)).await;
    let (_, body) =
        api.post(STATEMENTS, json!({"statement": "SELECT 2", "warehouse_id": STOPPED, "wait_timeout": "0s"})).await;
    assert_eq!(body["status"]["state"], "PENDING", "{body}");
    assert_eq!(api.emu.warehouse_state(STOPPED).as_deref(), Some("STARTING"));
    let id = body["statement_id"].as_str().expect("an id").to_owned();
    // The POST waits up to wait_timeout for the whole run: start-up plus running.
    let (_, waited) =
        api.post(STATEMENTS, json!({"statement": "SELECT 3", "warehouse_id": STOPPED, "wait_timeout": "5s"})).await;
    assert_eq!(waited["status"]["state"], "SUCCEEDED", "{waited}");
    let (_, first) = api.get(&format!("{STATEMENTS}/{id}"), &[]).await;
    assert_eq!(first["status"]["state"], "SUCCEEDED");
    assert_eq!(api.emu.warehouse_state(STOPPED).as_deref(), Some("RUNNING"));
}

#[tokio::test]
async fn warehouses_start_and_stop_by_the_clock() {
    let delay = Duration::from_millis(200);
    let api = Api::with(slow(delay)).await;
    let (status, list) = api.get("/api/2.0/sql/warehouses", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["warehouses"].as_array().map(Vec::len), Some(2));
    let (_, running) = api.get(&format!("/api/2.0/sql/warehouses/{RUNNING}"), &[]).await;
    assert!(!has_null(&running), "{running}");
    assert_eq!(running["state"], "RUNNING");
    assert_eq!(running["num_clusters"], 1);
    assert_eq!(running["health"]["status"], "HEALTHY");
    assert_eq!(running["odbc_params"]["path"], format!("/sql/1.0/warehouses/{RUNNING}"));
    assert!(running["jdbc_url"].as_str().is_some_and(|u| u.starts_with("jdbc:databricks://")));

    let (status, _) = api.post(&format!("/api/2.0/sql/warehouses/{STOPPED}/start"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(api.emu.warehouse_state(STOPPED).as_deref(), Some("STARTING"));
    tokio::time::sleep(delay + Duration::from_millis(100)).await;
    assert_eq!(api.emu.warehouse_state(STOPPED).as_deref(), Some("RUNNING"));
    api.post(&format!("/api/2.0/sql/warehouses/{STOPPED}/stop"), json!({})).await;
    assert_eq!(api.emu.warehouse_state(STOPPED).as_deref(), Some("STOPPING"));
    tokio::time::sleep(delay + Duration::from_millis(100)).await;
    let (_, stopped) = api.get(&format!("/api/2.0/sql/warehouses/{STOPPED}"), &[]).await;
    assert_eq!((stopped["state"].clone(), stopped["num_clusters"].clone()), (json!("STOPPED"), json!(0)));
}

#[tokio::test]
async fn warehouses_can_be_created_edited_and_deleted() {
    let api = Api::start().await;
    let (status, created) = api
        .post("/api/2.0/sql/warehouses", json!({"name": "adhoc", "cluster_size": "X-Small", "auto_stop_mins": 15}))
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(api.emu.warehouse_state(&id).as_deref(), Some("RUNNING"));
    let (_, w) = api.get(&format!("/api/2.0/sql/warehouses/{id}"), &[]).await;
    assert_eq!(
        (w["creator_name"].clone(), w["cluster_size"].clone()),
        (json!("demo.user@example.com"), json!("X-Small"))
    );

    let bad = api.post(&format!("/api/2.0/sql/warehouses/{id}/edit"), json!({"cluster_size": "Huge"})).await;
    assert_eq!(bad.0, StatusCode::BAD_REQUEST);
    let (status, _) = api
        .post(&format!("/api/2.0/sql/warehouses/{id}/edit"), json!({"name": "adhoc", "cluster_size": "Large"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, w) = api.get(&format!("/api/2.0/sql/warehouses/{id}"), &[]).await;
    assert_eq!(w["cluster_size"], "Large");

    let (status, _) =
        read(api.http.delete(api.url(&format!("/api/2.0/sql/warehouses/{id}"))).bearer_auth(DEMO_TOKEN).send().await)
            .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = api.get(&format!("/api/2.0/sql/warehouses/{id}"), &[]).await;
    assert_eq!((status, body["error_code"].clone()), (StatusCode::NOT_FOUND, json!("RESOURCE_DOES_NOT_EXIST")));
    let (status, _) = api.post("/api/2.0/sql/warehouses", json!({"cluster_size": "Small"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_demo_seed_is_queryable() {
    let api = Api::seeded(databricks_emulator::Seed::Demo).await;
    let trips = succeeded(&api, "SELECT count(*), round(avg(trip_distance), 2) FROM samples.nyctaxi.trips").await;
    assert_eq!(trips["result"]["data_array"][0][0], "300");
    let joined = succeeded(
        &api,
        "SELECT r.r_name, count(*) FROM samples.tpch.nation n JOIN samples.tpch.region r ON n.n_regionkey = r.r_regionkey \
         GROUP BY r.r_name ORDER BY r.r_name",
    )
    .await;
    assert_eq!(joined["result"]["data_array"].as_array().map(Vec::len), Some(5));
    let revenue = succeeded(&api, "SELECT * FROM finance.reporting.monthly_revenue ORDER BY month").await;
    assert!(revenue["manifest"]["total_row_count"].as_u64() > Some(0), "{revenue}");
    let orders = succeeded(
        &api,
        "SELECT count(*) FROM samples.tpch.orders o JOIN samples.tpch.customer c ON o.o_custkey = c.c_custkey",
    )
    .await;
    assert_eq!(orders["result"]["data_array"][0][0], "150");
    let (_, list) = api.get("/api/2.0/sql/warehouses", &[]).await;
    let states: Vec<&str> =
        list["warehouses"].as_array().into_iter().flatten().filter_map(|w| w["state"].as_str()).collect();
    assert_eq!(states, vec!["RUNNING", "STOPPED", "STARTING"]);
}

#[tokio::test]
async fn a_pending_statement_fails_if_its_warehouse_is_stopped() {
    let delay = Duration::from_millis(300);
    let api = Api::with(slow(delay)).await;
    let (_, body) =
        api.post(STATEMENTS, json!({"statement": "SELECT 1", "warehouse_id": STOPPED, "wait_timeout": "0s"})).await;
    assert_eq!(body["status"]["state"], "PENDING");
    let id = body["statement_id"].as_str().expect("an id").to_owned();
    api.post(&format!("/api/2.0/sql/warehouses/{STOPPED}/stop"), json!({})).await;
    let (_, after) = api.get(&format!("{STATEMENTS}/{id}"), &[]).await;
    assert_eq!(after["status"]["state"], "FAILED", "{after}");
}

#[tokio::test]
async fn warehouses_are_shown_and_used_according_to_their_permissions() {
    use databricks_emulator::ALICE_TOKEN;
    let api = Api::start().await;
    let (status, list) = api.get_as(ALICE_TOKEN, "/api/2.0/sql/warehouses", &[]).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let ids: Vec<&str> = list["warehouses"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [RUNNING, STOPPED], "users may view both seeded warehouses");

    // Alice may run statements on the Starter warehouse, not on Reporting (view only).
    let body = json!({"statement": "SELECT current_user()", "warehouse_id": RUNNING, "wait_timeout": "5s"});
    let (status, mine) = api.post_as(ALICE_TOKEN, STATEMENTS, body).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["result"]["data_array"][0][0], "alice.nguyen@example.com", "statements run as their caller");
    let denied = api
        .post_as(
            ALICE_TOKEN,
            STATEMENTS,
            json!({"statement": "SELECT 1", "warehouse_id": STOPPED, "wait_timeout": "5s"}),
        )
        .await;
    assert_error(
        &denied,
        StatusCode::FORBIDDEN,
        "PERMISSION_DENIED",
        &format!("User alice.nguyen@example.com does not have Use permissions on warehouse {STOPPED}"),
    );
    let denied = api.post_as(ALICE_TOKEN, &format!("/api/2.0/sql/warehouses/{RUNNING}/stop"), json!({})).await;
    assert_error(
        &denied,
        StatusCode::FORBIDDEN,
        "PERMISSION_DENIED",
        &format!("User alice.nguyen@example.com does not have Manage permissions on warehouse {RUNNING}"),
    );

    // A statement is the submitter's: another non-admin user cannot read or cancel it.
    let id = succeeded(&api, "SELECT 1").await["statement_id"].as_str().unwrap().to_string();
    let denied = api.get_as(ALICE_TOKEN, &format!("{STATEMENTS}/{id}"), &[]).await;
    assert_error(
        &denied,
        StatusCode::FORBIDDEN,
        "PERMISSION_DENIED",
        &format!("User alice.nguyen@example.com cannot access statement {id}: it was submitted by another user."),
    );

    // Her own warehouse is hers to manage, and hidden from nobody but other users.
    let (status, created) = api
        .post_as(ALICE_TOKEN, "/api/2.0/sql/warehouses", json!({"name": "alice-wh", "cluster_size": "2X-Small"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let new = created["id"].as_str().unwrap();
    let (status, _) = api.post_as(ALICE_TOKEN, &format!("/api/2.0/sql/warehouses/{new}/stop"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, perms) = api.get(&format!("/api/2.0/permissions/warehouses/{new}"), &[]).await;
    assert_eq!(perms["object_type"], "warehouse", "{perms}");
    assert!(perms.to_string().contains("alice.nguyen@example.com"), "{perms}");
}

#[tokio::test]
async fn the_warehouse_list_pages_on_request() {
    let api = Api::start().await;
    for i in 0..3 {
        let (status, _) =
            api.post("/api/2.0/sql/warehouses", json!({"name": format!("wh-{i}"), "cluster_size": "Small"})).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, all) = api.get("/api/2.0/sql/warehouses", &[]).await;
    assert_eq!(all["warehouses"].as_array().unwrap().len(), 5);
    assert!(all.get("next_page_token").is_none(), "no page size, one page");
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let mut query = vec![("page_size", "2")];
        if !token.is_empty() {
            query.push(("page_token", token.as_str()));
        }
        let (status, page) = api.get("/api/2.0/sql/warehouses", &query).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let items = page["warehouses"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|w| w["id"].as_str().unwrap().to_string()));
        match page["next_page_token"].as_str() {
            Some(next) => token = next.to_string(),
            None => break,
        }
    }
    let all: Vec<String> =
        all["warehouses"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(seen, all, "pages cover the list once, in order");
    let bad = api.get("/api/2.0/sql/warehouses", &[("page_token", "nope")]).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", "Invalid page_token 'nope'");
}
