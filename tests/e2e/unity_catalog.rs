//! Every unity-catalog tool, through MCP, against the emulator's Unity Catalog (Test seed: catalog
//! `main`, table `main.default.trips`, volume `main.default.landing`, function
//! `main.default.fare_band`; alice reads `trips` through `data-engineers` but not the volume).

use std::collections::HashSet;

use databricks_emulator::{ALICE_TOKEN, DEMO_TOKEN};
use serde_json::{Value, json};

use crate::support::{Harness, Setup};

const PLUGIN: &str = "unity-catalog";
const UC: &str = "/api/2.1/unity-catalog";

const TOOLS: [&str; 27] = [
    "list_catalogs",
    "get_catalog",
    "create_catalog",
    "update_catalog",
    "delete_catalog",
    "list_schemas",
    "get_schema",
    "create_schema",
    "update_schema",
    "delete_schema",
    "list_tables",
    "get_table",
    "list_table_summaries",
    "update_table",
    "delete_table",
    "list_volumes",
    "get_volume",
    "create_volume",
    "update_volume",
    "delete_volume",
    "list_functions",
    "get_function",
    "delete_function",
    "get_grants",
    "get_effective_grants",
    "update_grants",
    "get_table_lineage",
];

async fn start() -> Harness {
    Harness::start(&[PLUGIN]).await
}

fn full_names(list: &Value, key: &str) -> Vec<String> {
    list[key].as_array().unwrap().iter().map(|i| i["full_name"].as_str().unwrap().to_string()).collect()
}

/// Runs SQL on the emulator's running warehouse as the demo user (what `execute_sql` would do).
async fn run_sql(h: &Harness, statement: &str) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = reqwest::Client::new()
        .post(format!("{}/api/2.0/sql/statements", h.emulator.url()))
        .bearer_auth(DEMO_TOKEN)
        .json(&json!({"statement": statement, "warehouse_id": "5a1f0c0ffee00001", "wait_timeout": "10s"}))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"]["state"], "SUCCEEDED", "{statement}: {body}");
}

#[tokio::test]
async fn lists_every_unity_catalog_tool_with_schemas_and_annotations() {
    let h = start().await;
    let tools = h.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, TOOLS);
    for tool in &tools {
        assert!(tool.description.as_ref().is_some_and(|d| d.len() > 40), "{} needs a real description", tool.name);
        assert_eq!(tool.input_schema.get("type"), Some(&json!("object")), "{}", tool.name);
        assert!(tool.output_schema.is_some(), "{} should declare an output schema", tool.name);
        let a = tool.annotations.clone().unwrap();
        let (read_only, destructive) = (a.read_only_hint == Some(true), a.destructive_hint == Some(true));
        let expected_read_only = tool.name.starts_with("list_") || tool.name.starts_with("get_");
        let expected_destructive = tool.name.starts_with("delete_") || tool.name.starts_with("update_");
        assert_eq!((read_only, destructive), (expected_read_only, expected_destructive), "{}", tool.name);
        if tool.name.starts_with("create_") {
            assert_eq!(a.destructive_hint, Some(false), "{}", tool.name);
        }
    }
    let tool = |name: &str| tools.iter().find(|t| t.name == name).unwrap();
    let get_table = tool("get_table");
    assert!(get_table.description.as_ref().unwrap().contains("name | type | nullable | comment"));
    assert_eq!(get_table.input_schema["required"], json!(["full_name"]));
    let grants = &tool("get_grants").input_schema["properties"]["securable_type"];
    let kinds: Vec<&Value> = grants["oneOf"].as_array().unwrap().iter().map(|k| &k["const"]).collect();
    assert_eq!(kinds, [&json!("catalog"), &json!("schema"), &json!("table"), &json!("volume"), &json!("function")]);
    let force = &tool("delete_catalog").input_schema["properties"]["force"];
    assert_eq!(force["type"], "boolean");
    assert!(tool("delete_schema").annotations.clone().unwrap().idempotent_hint != Some(true));
    assert_eq!(tool("update_grants").annotations.clone().unwrap().idempotent_hint, Some(true));
}

#[tokio::test]
async fn catalogs_and_schemas_are_created_listed_updated_and_deleted() {
    let h = start().await;
    let (text, catalog) = h.ok("create_catalog", json!({"name": "analytics", "comment": "Team analytics"})).await;
    assert_eq!(catalog["name"], "analytics");
    assert!(text.contains("Created catalog analytics") && text.contains("Team analytics"), "{text}");
    assert_eq!(h.requests_to("POST", &format!("{UC}/catalogs")).len(), 1);

    let (text, got) = h.ok("get_catalog", json!({"catalog_name": "analytics"})).await;
    assert_eq!(got["owner"], "demo.user@example.com", "{text}");
    assert!(got["storage_root"].is_string(), "the whole CatalogInfo is passed through: {got}");
    let (text, list) = h.ok("list_catalogs", json!({})).await;
    assert_eq!(full_names(&list, "catalogs"), ["analytics", "main"], "{text}");
    assert_eq!(text.lines().count(), 2, "one line per catalog: {text}");

    let (text, updated) = h
        .ok(
            "update_catalog",
            json!({"catalog_name": "analytics", "comment": "Shared analytics", "owner": "data-engineers"}),
        )
        .await;
    assert_eq!(
        (updated["comment"].clone(), updated["owner"].clone()),
        (json!("Shared analytics"), json!("data-engineers"))
    );
    assert!(text.contains("owner data-engineers"), "{text}");

    let (_, schema) = h.ok("create_schema", json!({"catalog_name": "analytics", "name": "marts"})).await;
    assert_eq!(schema["full_name"], "analytics.marts");
    let (text, schemas) = h.ok("list_schemas", json!({"catalog_name": "analytics"})).await;
    assert_eq!(
        full_names(&schemas, "schemas"),
        ["analytics.default", "analytics.information_schema", "analytics.marts"]
    );
    assert!(text.contains("analytics.marts, owner demo.user@example.com"), "{text}");
    let (_, got) = h.ok("get_schema", json!({"full_name": "analytics.marts"})).await;
    assert_eq!(got["catalog_name"], "analytics");
    let (_, updated) = h.ok("update_schema", json!({"full_name": "analytics.marts", "comment": "Gold tables"})).await;
    assert_eq!(updated["comment"], "Gold tables");

    // A catalog holding a schema of its own is only deleted with force.
    let refused = h.err("delete_catalog", json!({"catalog_name": "analytics"})).await;
    assert!(refused.contains("CATALOG_NOT_EMPTY") && refused.contains("force"), "{refused}");
    let (text, _) = h.ok("delete_schema", json!({"full_name": "analytics.marts"})).await;
    assert_eq!(text, "Deleted schema analytics.marts.");
    let gone = h.err("get_schema", json!({"full_name": "analytics.marts"})).await;
    assert_eq!(gone, "Not found: Schema 'analytics.marts' does not exist.");

    h.ok("create_schema", json!({"catalog_name": "analytics", "name": "staging"})).await;
    let (text, deleted) = h.ok("delete_catalog", json!({"catalog_name": "analytics", "force": true})).await;
    assert_eq!(deleted, json!({"kind": "catalog", "full_name": "analytics"}), "{text}");
    let deletes = h.requests_to("DELETE", &format!("{UC}/catalogs/analytics"));
    assert_eq!(deletes.last().unwrap().query, "force=true");
    let gone = h.err("get_catalog", json!({"catalog_name": "analytics"})).await;
    assert_eq!(gone, "Not found: Catalog 'analytics' does not exist.");
}

#[tokio::test]
async fn lists_page_through_page_token() {
    let h = start().await;
    for i in 0..4 {
        h.ok("create_schema", json!({"catalog_name": "main", "name": format!("paging_{i}")})).await;
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let mut args = json!({"catalog_name": "main", "limit": 2});
        if let Some(t) = &token {
            args["page_token"] = json!(t);
        }
        let (text, page) = h.ok("list_schemas", args).await;
        let names = full_names(&page, "schemas");
        assert!(names.len() <= 2, "{text}");
        seen.extend(names);
        token = page.get("next_page_token").and_then(Value::as_str).map(str::to_string);
        match &token {
            Some(t) => assert!(text.contains(&format!("page_token \"{t}\"")), "the text says how to go on: {text}"),
            None => break,
        }
    }
    assert!(token.is_none(), "pagination ends");
    assert_eq!(seen.len(), 6, "default, information_schema and four new: {seen:?}");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 6, "no schema twice");
    let pages = h.requests_to("GET", &format!("{UC}/schemas"));
    assert!(pages.iter().all(|r| r.query.contains("max_results=2")), "the limit is sent as max_results");
}

#[tokio::test]
async fn tables_show_their_columns_can_be_searched_reowned_and_deleted() {
    let h = start().await;
    let (text, list) = h.ok("list_tables", json!({"catalog_name": "main", "schema_name": "default"})).await;
    assert_eq!(full_names(&list, "tables"), ["main.default.trips"]);
    assert!(text.starts_with("main.default.trips (MANAGED, DELTA)") && text.contains("Taxi trips"), "{text}");
    assert!(list["tables"][0].get("columns").is_none(), "columns are left out unless asked for");
    assert!(h.requests_to("GET", &format!("{UC}/tables"))[0].query.contains("omit_columns=true"));
    let (_, with_columns) =
        h.ok("list_tables", json!({"catalog_name": "main", "schema_name": "default", "include_columns": true})).await;
    assert_eq!(with_columns["tables"][0]["columns"].as_array().unwrap().len(), 8);

    let (text, table) = h.ok("get_table", json!({"full_name": "main.default.trips"})).await;
    assert!(text.contains("name | type | nullable | comment"), "{text}");
    assert!(text.contains("trip_id | bigint | no | Unique trip id"), "{text}");
    assert!(text.contains("fare_amount | decimal(10,2) | yes | USD"), "{text}");
    assert_eq!(table["columns"][5]["type_name"], "DECIMAL");
    assert!(table["storage_location"].is_string(), "the whole TableInfo: {table}");

    let (text, found) =
        h.ok("list_table_summaries", json!({"catalog_name": "main", "table_name_pattern": "%rip%"})).await;
    assert_eq!(found["tables"], json!([{"full_name": "main.default.trips", "table_type": "MANAGED"}]), "{text}");
    let (text, none) =
        h.ok("list_table_summaries", json!({"catalog_name": "main", "schema_name_pattern": "sales%"})).await;
    assert_eq!((text.as_str(), none["tables"].clone()), ("No tables in catalog main match.", json!([])));

    let (text, table) =
        h.ok("update_table", json!({"full_name": "main.default.trips", "owner": "data-engineers"})).await;
    assert_eq!(table["owner"], "data-engineers", "{text}");
    let patches = h.requests_to("PATCH", &format!("{UC}/tables/main.default.trips"));
    assert_eq!(serde_json::from_str::<Value>(&patches[0].body).unwrap(), json!({"owner": "data-engineers"}));

    let (text, _) = h.ok("delete_table", json!({"full_name": "main.default.trips"})).await;
    assert_eq!(text, "Deleted table main.default.trips.");
    let gone = h.err("get_table", json!({"full_name": "main.default.trips"})).await;
    assert_eq!(gone, "Not found: Table 'main.default.trips' does not exist.");
}

#[tokio::test]
async fn volumes_are_created_updated_and_deleted() {
    let h = start().await;
    let (text, list) = h.ok("list_volumes", json!({"catalog_name": "main", "schema_name": "default"})).await;
    assert_eq!(full_names(&list, "volumes"), ["main.default.landing"]);
    assert!(text.contains("at /Volumes/main/default/landing"), "{text}");
    let (_, got) = h.ok("get_volume", json!({"full_name": "main.default.landing"})).await;
    assert_eq!(got["volume_type"], "MANAGED");

    let (text, created) =
        h.ok("create_volume", json!({"catalog_name": "main", "schema_name": "default", "name": "exports"})).await;
    assert_eq!(
        (created["full_name"].clone(), created["volume_type"].clone()),
        (json!("main.default.exports"), json!("MANAGED"))
    );
    assert!(text.starts_with("Created volume main.default.exports"), "{text}");
    let (_, external) = h
        .ok(
            "create_volume",
            json!({"catalog_name": "main", "schema_name": "default", "name": "archive", "volume_type": "EXTERNAL",
                   "storage_location": "s3://acme/archive", "comment": "Old files"}),
        )
        .await;
    assert_eq!(external["storage_location"], "s3://acme/archive");

    let before = h.emulator.requests().len();
    let text = h
        .err(
            "create_volume",
            json!({"catalog_name": "main", "schema_name": "default", "name": "x", "volume_type": "EXTERNAL"}),
        )
        .await;
    assert!(text.starts_with("Invalid arguments") && text.contains("storage_location"), "{text}");
    assert_eq!(h.emulator.requests().len(), before, "refused before reaching the workspace");

    let (_, updated) =
        h.ok("update_volume", json!({"full_name": "main.default.exports", "comment": "Nightly exports"})).await;
    assert_eq!(updated["comment"], "Nightly exports");
    let text = h.err("update_volume", json!({"full_name": "main.default.exports"})).await;
    assert!(text.contains("nothing to change"), "{text}");

    let (text, _) = h.ok("delete_volume", json!({"full_name": "main.default.exports"})).await;
    assert_eq!(text, "Deleted volume main.default.exports.");
    let (_, list) = h.ok("list_volumes", json!({"catalog_name": "main", "schema_name": "default"})).await;
    assert_eq!(full_names(&list, "volumes"), ["main.default.archive", "main.default.landing"]);
}

#[tokio::test]
async fn functions_are_listed_shown_and_deleted() {
    let h = start().await;
    let (text, list) = h.ok("list_functions", json!({"catalog_name": "main", "schema_name": "default"})).await;
    assert_eq!(full_names(&list, "functions"), ["main.default.fare_band"]);
    assert!(text.starts_with("main.default.fare_band(fare decimal(10,2)) -> string"), "{text}");
    let (text, function) = h.ok("get_function", json!({"full_name": "main.default.fare_band"})).await;
    assert!(text.contains("SQL body: CASE WHEN fare < 10"), "{text}");
    assert_eq!(function["routine_body"], "SQL");
    let (text, _) = h.ok("delete_function", json!({"full_name": "main.default.fare_band"})).await;
    assert_eq!(text, "Deleted function main.default.fare_band.");
    let (text, list) = h.ok("list_functions", json!({"catalog_name": "main", "schema_name": "default"})).await;
    assert_eq!(
        (text.as_str(), list["functions"].clone()),
        ("No functions in main.default that you can use.", json!([]))
    );
    let gone = h.err("get_function", json!({"full_name": "main.default.fare_band"})).await;
    assert!(gone.starts_with("Not found"), "{gone}");
}

#[tokio::test]
async fn grants_are_shown_inherited_and_changed() {
    let h = start().await;
    let (text, grants) =
        h.ok("get_grants", json!({"securable_type": "table", "full_name": "main.default.trips"})).await;
    assert_eq!(text, "Grants on table main.default.trips:\ndata-engineers: SELECT");
    assert_eq!(grants, json!({"privilege_assignments": [{"principal": "data-engineers", "privileges": ["SELECT"]}]}));

    let (text, after) = h
        .ok(
            "update_grants",
            json!({"securable_type": "schema", "full_name": "main.default", "changes": [
                {"principal": "bob.smith@example.com", "add": ["use schema", "SELECT"]},
                {"principal": "data-engineers", "remove": ["USE_SCHEMA"]},
            ]}),
        )
        .await;
    assert!(text.contains("bob.smith@example.com: SELECT, USE_SCHEMA"), "{text}");
    assert_eq!(after["privilege_assignments"].as_array().unwrap().len(), 1, "data-engineers has nothing left: {after}");
    let patch = &h.requests_to("PATCH", &format!("{UC}/permissions/schema/main.default"))[0];
    assert_eq!(
        serde_json::from_str::<Value>(&patch.body).unwrap()["changes"][0],
        json!({"principal": "bob.smith@example.com", "add": ["USE_SCHEMA", "SELECT"], "remove": []})
    );

    let (text, effective) =
        h.ok("get_effective_grants", json!({"securable_type": "table", "full_name": "main.default.trips"})).await;
    assert!(text.contains("bob.smith@example.com: SELECT (from schema main.default)"), "{text}");
    assert!(text.contains("data-engineers: SELECT"), "{text}");
    let bob = effective["privilege_assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["principal"] == "bob.smith@example.com")
        .unwrap()
        .clone();
    assert_eq!(
        bob["privileges"],
        json!([{"privilege": "SELECT", "inherited_from_type": "SCHEMA", "inherited_from_name": "main.default"}])
    );
    let (_, only) = h
        .ok("get_grants", json!({"securable_type": "schema", "full_name": "main.default", "principal": "nobody"}))
        .await;
    assert_eq!(only, json!({"privilege_assignments": []}));
    assert!(
        h.requests_to("GET", &format!("{UC}/permissions/schema/main.default"))[0].query.contains("principal=nobody")
    );

    let text = h
        .err(
            "update_grants",
            json!({"securable_type": "volume", "full_name": "main.default.landing", "changes": [{"principal": "users", "add": ["SELECT"]}]}),
        )
        .await;
    assert!(text.contains("SELECT is not applicable"), "the workspace's reason reaches the model: {text}");
    let text = h
        .err("update_grants", json!({"securable_type": "table", "full_name": "main.default.trips", "changes": []}))
        .await;
    assert!(text.starts_with("Invalid arguments") && text.contains("changes is empty"), "{text}");
}

#[tokio::test]
async fn lineage_shows_tables_made_from_a_table_and_who_reads_it() {
    let h = start().await;
    run_sql(&h, "CREATE TABLE main.default.card_trips AS SELECT trip_id, fare_amount FROM main.default.trips WHERE payment_type = 'card'").await;
    let (text, lineage) = h.ok("get_table_lineage", json!({"table_name": "main.default.trips"})).await;
    assert!(text.starts_with("Lineage of main.default.trips\nUpstream (read from): none"), "{text}");
    assert!(text.contains("main.default.card_trips (TABLE), last "), "{text}");
    assert!(text.contains("notebook 1000000000000006, job 101"), "{text}");
    let downstreams = lineage["downstreams"].as_array().unwrap();
    assert_eq!(downstreams.len(), 2, "{lineage}");
    assert!(downstreams.iter().any(|d| d["tableInfo"]["name"] == "card_trips"));

    let (text, lineage) = h
        .ok("get_table_lineage", json!({"table_name": "main.default.card_trips", "include_entity_lineage": false}))
        .await;
    assert_eq!(lineage["upstreams"][0]["tableInfo"]["name"], "trips", "{text}");
    assert!(text.ends_with("Downstream (written to or read by): none"), "{text}");
    let request = h.requests_to("GET", "/api/2.0/lineage-tracking/table-lineage").pop().unwrap();
    assert_eq!(request.query, "table_name=main.default.card_trips&include_entity_lineage=false");

    let missing = h.err("get_table_lineage", json!({"table_name": "main.default.nope"})).await;
    assert_eq!(missing, "Not found: Table 'main.default.nope' does not exist.");
}

#[tokio::test]
async fn a_user_without_privileges_is_told_so_and_nothing_changes() {
    let h = Setup::new(&[PLUGIN]).token(ALICE_TOKEN).start().await;
    // Through data-engineers, alice uses main and main.default and reads trips...
    let (_, catalogs) = h.ok("list_catalogs", json!({})).await;
    assert_eq!(full_names(&catalogs, "catalogs"), ["main"]);
    let (_, schemas) = h.ok("list_schemas", json!({"catalog_name": "main"})).await;
    assert_eq!(full_names(&schemas, "schemas"), ["main.default"]);
    h.ok("get_table", json!({"full_name": "main.default.trips"})).await;
    // ...but cannot see the volume or the function, nor change what she does not own.
    let (text, volumes) = h.ok("list_volumes", json!({"catalog_name": "main", "schema_name": "default"})).await;
    assert_eq!(
        (text.as_str(), volumes["volumes"].clone()),
        ("No volumes in main.default that you can read.", json!([]))
    );
    let denied = h.err("get_volume", json!({"full_name": "main.default.landing"})).await;
    assert_eq!(
        denied,
        "Permission denied: User does not have READ VOLUME on Volume 'main.default.landing'. (403 PERMISSION_DENIED)"
    );
    let denied = h.err("get_grants", json!({"securable_type": "volume", "full_name": "main.default.landing"})).await;
    assert!(denied.starts_with("Permission denied"), "{denied}");
    let denied = h.err("delete_table", json!({"full_name": "main.default.trips"})).await;
    assert!(denied.starts_with("Permission denied") && denied.contains("not an owner"), "{denied}");
    let denied = h
        .err(
            "update_grants",
            json!({"securable_type": "table", "full_name": "main.default.trips", "changes": [{"principal": "alice.nguyen@example.com", "add": ["MODIFY"]}]}),
        )
        .await;
    assert!(denied.starts_with("Permission denied"), "{denied}");
    let denied = h.err("create_catalog", json!({"name": "mine"})).await;
    assert!(denied.contains("CREATE CATALOG"), "{denied}");
    // Still there, grants unchanged.
    let (_, grants) = h.ok("get_grants", json!({"securable_type": "table", "full_name": "main.default.trips"})).await;
    assert_eq!(grants, json!({"privilege_assignments": [{"principal": "data-engineers", "privileges": ["SELECT"]}]}));
}

#[tokio::test]
async fn bad_names_and_arguments_are_refused_clearly() {
    let h = start().await;
    let before = h.emulator.requests().len();
    // Schema violations never reach the plugin.
    let text = h.err("get_table", json!({})).await;
    assert!(text.contains("input schema") && text.contains("full_name"), "{text}");
    let text = h.err("get_grants", json!({"securable_type": "TABLE", "full_name": "main.default.trips"})).await;
    assert!(text.contains("TABLE"), "{text}");
    let text = h.err("list_catalogs", json!({"limit": "ten"})).await;
    assert!(text.contains("ten") || text.contains("limit"), "{text}");
    // Semantic nonsense is refused by the plugin, before any request.
    let text = h.err("get_table", json!({"full_name": "trips"})).await;
    assert_eq!(text, "Invalid arguments: full_name must be a full name `catalog.schema.name`, got `trips`");
    let text = h.err("get_schema", json!({"full_name": "main/default"})).await;
    assert!(text.starts_with("Invalid arguments"), "{text}");
    let text = h.err("update_catalog", json!({"catalog_name": "main"})).await;
    assert!(text.contains("nothing to change"), "{text}");
    let text = h.err("update_table", json!({"full_name": "main.default.trips", "owner": " "})).await;
    assert!(text.contains("owner must not be empty"), "{text}");
    assert_eq!(h.emulator.requests().len(), before, "nothing was sent to the workspace");

    // Names are escaped as one path segment.
    let text = h.err("get_table", json!({"full_name": "main.default.my table"})).await;
    assert_eq!(text, "Not found: Table 'main.default.my table' does not exist.");
    assert_eq!(h.requests_to("GET", &format!("{UC}/tables/main.default.my%20table")).len(), 1);
    let text = h.err("get_catalog", json!({"catalog_name": "nope"})).await;
    assert_eq!(text, "Not found: Catalog 'nope' does not exist.");
    let text = h.err("create_catalog", json!({"name": "main"})).await;
    assert!(text.contains("CATALOG_ALREADY_EXISTS"), "{text}");
}
