//! MCP resources contributed by plugins, through an MCP client against the emulator: templates
//! under each plugin's root, reads of each kind, resource links from large tool results, the
//! policy hiding them, failures as clear JSON-RPC errors, and a plugin built against contract
//! 0.1.0 (before resources) still serving its tools.

use std::time::Duration;

use rmcp::ServiceError;
use rmcp::model::ReadResourceRequestParams;
use serde_json::{Value, json};

use crate::support::{Harness, Setup, within};

const HOME: &str = "/Users/demo.user@example.com";

/// `resources/read` of `uri`, as JSON; panics on a protocol error.
async fn read(h: &Harness, uri: &str) -> Value {
    let result = within(
        Duration::from_secs(60),
        &format!("resources/read {uri}"),
        h.client.read_resource(ReadResourceRequestParams::new(uri)),
    )
    .await
    .unwrap_or_else(|e| panic!("resources/read {uri} failed: {e}"));
    serde_json::to_value(result).unwrap()
}

/// `resources/read` of `uri` that must fail; returns (JSON-RPC code, message).
async fn read_error(h: &Harness, uri: &str) -> (i32, String) {
    let result = within(
        Duration::from_secs(60),
        &format!("resources/read {uri}"),
        h.client.read_resource(ReadResourceRequestParams::new(uri)),
    )
    .await;
    match result {
        Err(ServiceError::McpError(e)) => (e.code.0, e.message.to_string()),
        other => panic!("resources/read {uri} should have failed, got {other:?}"),
    }
}

async fn templates(h: &Harness) -> Vec<Value> {
    let templates = within(Duration::from_secs(20), "resources/templates/list", h.client.list_all_resource_templates())
        .await
        .expect("resources/templates/list");
    templates.into_iter().map(|t| serde_json::to_value(t).unwrap()).collect()
}

fn template_uris(templates: &[Value]) -> Vec<String> {
    templates.iter().map(|t| t["uriTemplate"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn templates_are_served_under_each_plugins_root_and_capabilities_say_so() {
    let h = Harness::start(&["workspace", "unity-catalog"]).await;
    let info = serde_json::to_value(h.client.peer_info().unwrap().as_ref()).unwrap();
    let capabilities = &info["capabilities"];
    assert_eq!(capabilities["resources"]["listChanged"], json!(true), "{capabilities}");
    assert_eq!(capabilities["prompts"]["listChanged"], json!(true), "{capabilities}");
    assert!(capabilities.get("completions").is_some(), "{capabilities}");

    let templates = templates(&h).await;
    assert_eq!(
        template_uris(&templates),
        ["databricks://unity-catalog/table/{catalog}/{schema}/{table}", "databricks://workspace/{+path}"],
        "plugin load order (file names), then declaration order"
    );
    for template in &templates {
        assert!(template["description"].as_str().is_some_and(|d| d.len() > 40), "{template}");
        assert!(template["name"].as_str().is_some_and(|n| !n.is_empty()), "{template}");
    }
    assert_eq!(templates[0]["mimeType"], "application/json");
}

#[tokio::test]
async fn a_notebook_reads_as_its_whole_source() {
    let h = Harness::start(&["workspace"]).await;
    let source = "# Databricks notebook source\nprint('hello from a resource')\n";
    let path = format!("{HOME}/resource demo");
    h.ok("import_workspace_object", json!({"path": path, "content": source, "language": "PYTHON"})).await;

    let uri = "databricks://workspace/Users/demo.user@example.com/resource%20demo";
    let result = read(&h, uri).await;
    let contents = &result["contents"][0];
    assert_eq!(contents["uri"], uri);
    assert_eq!(contents["mimeType"], "text/x-python");
    assert!(contents["text"].as_str().unwrap().contains("print('hello from a resource')"), "{contents}");

    let (code, message) = read_error(&h, "databricks://workspace/Users/demo.user@example.com").await;
    assert_eq!(code, -32002, "a folder is not a resource: {message}");
    assert!(message.contains("is a folder"), "{message}");
}

#[tokio::test]
async fn a_table_schema_reads_as_json() {
    let h = Harness::start(&["unity-catalog"]).await;
    let result = read(&h, "databricks://unity-catalog/table/main/default/trips").await;
    let contents = &result["contents"][0];
    assert_eq!(contents["mimeType"], "application/json");
    let schema: Value = serde_json::from_str(contents["text"].as_str().unwrap()).unwrap();
    assert_eq!(schema["full_name"], "main.default.trips");
    let columns: Vec<(&str, &str)> = schema["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["type"].as_str().unwrap()))
        .collect();
    assert_eq!(columns[0], ("trip_id", "bigint"));
    assert!(columns.contains(&("payment_type", "string")), "{columns:?}");
}

#[tokio::test]
async fn a_large_export_arrives_as_a_readable_resource_link() {
    let h = Harness::start(&["workspace"]).await;
    // ~200 KB of source: more than one export page (64 KiB by default).
    let mut source = String::from("# Databricks notebook source\n");
    for i in 0..4000 {
        source.push_str(&format!("print('line {i:05} of a long notebook')\n"));
    }
    let path = format!("{HOME}/long");
    h.ok("import_workspace_object", json!({"path": path, "content": source, "language": "PYTHON"})).await;

    let result = h.call("export_workspace_object", json!({"path": path})).await;
    assert_ne!(result.is_error, Some(true));
    let content = serde_json::to_value(&result.content).unwrap();
    let link = content
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "resource_link")
        .unwrap_or_else(|| panic!("no resource_link in {content}"))
        .clone();
    assert_eq!(link["uri"], "databricks://workspace/Users/demo.user@example.com/long");
    assert_eq!(link["mimeType"], "text/x-python");
    let size = link["size"].as_u64().unwrap();

    let read = read(&h, link["uri"].as_str().unwrap()).await;
    let text = read["contents"][0]["text"].as_str().unwrap();
    assert_eq!(text.len() as u64, size, "the link's size is the whole source");
    assert!(text.contains("line 03999 of a long notebook"), "the whole source, to the last line");

    // A small export needs no link.
    h.ok(
        "import_workspace_object",
        json!({"path": format!("{HOME}/short"), "content": "print(1)", "language": "PYTHON"}),
    )
    .await;
    let result = h.call("export_workspace_object", json!({"path": format!("{HOME}/short")})).await;
    let content = serde_json::to_value(&result.content).unwrap();
    assert!(content.as_array().unwrap().iter().all(|c| c["type"] != "resource_link"), "{content}");
}

#[tokio::test]
async fn reads_that_cannot_be_served_fail_with_a_clear_error() {
    let h = Harness::start(&["workspace", "unity-catalog"]).await;
    let (code, message) = read_error(&h, "file:///etc/passwd").await;
    assert_eq!(code, -32602, "{message}");
    assert!(message.contains("is not a databricks:// URI"), "{message}");

    let (code, message) = read_error(&h, "databricks://nosuch/x").await;
    assert_eq!(code, -32002, "{message}");
    assert!(message.contains("no loaded plugin `nosuch` serves resources"), "{message}");

    let (code, message) = read_error(&h, "databricks://unity-catalog/table/main/default").await;
    assert_eq!(code, -32002, "{message}");
    assert!(message.contains("no resource template of plugin `unity-catalog` matches"), "{message}");

    let (code, message) = read_error(&h, "databricks://unity-catalog/table/main/default/nosuch").await;
    assert_eq!(code, -32002, "{message}");
    assert!(message.contains("nosuch"), "the workspace's own message comes through: {message}");

    let (code, message) = read_error(&h, "databricks://workspace/Users/demo.user@example.com/missing").await;
    assert_eq!(code, -32002, "{message}");
}

#[tokio::test]
async fn a_plugin_built_against_contract_0_1_0_still_loads_and_works() {
    let h = Harness::start(&["fixture-contract-0-1-0", "workspace"]).await;
    let names = h.tool_names().await;
    assert!(names.contains(&"legacy_count_clusters".to_string()), "{names:?}");
    let (text, _) = h.ok("legacy_count_clusters", json!({})).await;
    assert!(text.ends_with("clusters (status 200)"), "{text}");
    assert_eq!(h.requests_to("GET", "/api/2.1/clusters/list").len(), 1);

    // It contributes no resources or prompts; the newer plugin beside it does.
    assert_eq!(template_uris(&templates(&h).await), ["databricks://workspace/{+path}"]);
    let (code, _) = read_error(&h, "databricks://legacy/anything").await;
    assert_eq!(code, -32002);
}

#[tokio::test]
async fn policy_can_hide_a_plugins_resources_and_prompts() {
    let h = Setup::new(&["workspace", "unity-catalog"])
        .config("[plugins.unity-catalog]\nresources = false\nprompts = false")
        .start()
        .await;
    assert_eq!(template_uris(&templates(&h).await), ["databricks://workspace/{+path}"]);
    let prompts = h.client.list_all_prompts().await.unwrap();
    assert!(prompts.is_empty(), "{prompts:?}");
    let (code, _) = read_error(&h, "databricks://unity-catalog/table/main/default/trips").await;
    assert_eq!(code, -32002);
    // Its tools are still served.
    h.ok("get_table", json!({"full_name": "main.default.trips"})).await;
}

#[tokio::test]
async fn read_only_mode_still_holds_for_resource_reads() {
    let h = Setup::new(&["unity-catalog"]).config("[policy]\nread_only = true").start().await;
    // Reads use GET only, so they work in read-only mode.
    let result = read(&h, "databricks://unity-catalog/table/main/default/trips").await;
    assert!(result["contents"][0]["text"].as_str().unwrap().contains("trip_id"));
}

#[tokio::test]
async fn clusters_are_listed_as_resources_and_read_as_their_configuration() {
    let h = Harness::start(&["clusters", "workspace"]).await;
    let listed =
        within(Duration::from_secs(60), "resources/list", h.client.list_all_resources()).await.expect("resources/list");
    let listed: Vec<Value> = listed.into_iter().map(|r| serde_json::to_value(r).unwrap()).collect();
    let (_, clusters) = h.ok("list_clusters", json!({})).await;
    let ids: Vec<&str> =
        clusters["clusters"].as_array().unwrap().iter().map(|c| c["cluster_id"].as_str().unwrap()).collect();
    assert!(!ids.is_empty());
    let mut uris: Vec<&str> = listed.iter().map(|r| r["uri"].as_str().unwrap()).collect();
    uris.sort_unstable();
    let mut expected: Vec<String> = ids.iter().map(|id| format!("databricks://clusters/cluster/{id}")).collect();
    expected.sort();
    assert_eq!(uris, expected, "one resource per cluster, only from the plugin that lists");
    assert_eq!(listed[0]["mimeType"], "application/json");

    let config = read(&h, &format!("databricks://clusters/cluster/{}", ids[0])).await;
    let cluster: Value = serde_json::from_str(config["contents"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(cluster["cluster_id"], ids[0]);
    assert!(cluster.get("spark_version").is_some(), "the whole configuration: {cluster}");

    let page = h.client.list_resources(None).await.unwrap();
    assert_eq!(page.next_cursor, None, "the last plugin that lists ended the list");
}

#[tokio::test]
async fn a_job_definition_reads_as_json() {
    let h = Harness::start(&["jobs"]).await;
    let result = read(&h, "databricks://jobs/job/102").await;
    let job: Value = serde_json::from_str(result["contents"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(job["settings"]["name"], "etl-pipeline");
    let tasks: Vec<&str> =
        job["settings"]["tasks"].as_array().unwrap().iter().map(|t| t["task_key"].as_str().unwrap()).collect();
    assert_eq!(tasks, ["ingest", "transform", "publish"]);
}

/// The resource links of a tool result.
fn links(result: &rmcp::model::CallToolResult) -> Vec<Value> {
    let content = serde_json::to_value(&result.content).unwrap();
    content.as_array().unwrap().iter().filter(|c| c["type"] == "resource_link").cloned().collect()
}

#[tokio::test]
async fn a_truncated_query_result_links_the_whole_result_as_csv() {
    let h = Harness::start(&["sql"]).await;
    let statement =
        "SELECT trip_id, payment_type, 'a, \"quoted\" cell' AS note FROM main.default.trips ORDER BY trip_id";
    let result =
        h.call("execute_sql", json!({"statement": statement, "warehouse_id": "5a1f0c0ffee00001", "max_rows": 5})).await;
    assert_ne!(result.is_error, Some(true), "{result:?}");
    let structured = result.structured_content.clone().unwrap();
    assert_eq!(structured["truncated"], true);
    let id = structured["statement_id"].as_str().unwrap();
    let links = links(&result);
    assert_eq!(links.len(), 1, "{links:?}");
    let uri = format!("databricks://sql/statement/{id}/result");
    assert_eq!(links[0]["uri"], uri);
    assert_eq!(links[0]["mimeType"], "text/csv");
    assert!(crate::support::text_of(&result).contains(&uri), "the text names the resource too");

    let read = read(&h, &uri).await;
    assert_eq!(read["contents"][0]["mimeType"], "text/csv");
    let csv = read["contents"][0]["text"].as_str().unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 21, "a header and all 20 rows:\n{csv}");
    assert_eq!(lines[0], "trip_id,payment_type,note");
    assert!(lines[1].starts_with("1,") && lines[20].starts_with("20,"), "{csv}");
    assert!(lines[1].ends_with(",\"a, \"\"quoted\"\" cell\""), "RFC 4180 quoting: {}", lines[1]);

    // A window that holds the whole result links nothing; get_statement links like execute_sql.
    let whole =
        h.call("execute_sql", json!({"statement": "SELECT 1 AS one", "warehouse_id": "5a1f0c0ffee00001"})).await;
    assert!(self::links(&whole).is_empty(), "{whole:?}");
    let page = h.call("get_statement", json!({"statement_id": id, "row_offset": 5, "max_rows": 5})).await;
    assert_eq!(self::links(&page).len(), 1, "{page:?}");

    let (code, message) = read_error(&h, "databricks://sql/statement/no-such-statement/result").await;
    assert_eq!(code, -32002, "{message}");
}

#[tokio::test]
async fn a_table_sample_reads_its_first_rows_on_a_running_warehouse() {
    let h = Harness::start(&["sql", "unity-catalog"]).await;
    let result = read(&h, "databricks://sql/table/main/default/trips/sample").await;
    assert_eq!(result["contents"][0]["mimeType"], "application/json");
    let sample: Value = serde_json::from_str(result["contents"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(sample["table"], "main.default.trips");
    assert_eq!(sample["warehouse_id"], "5a1f0c0ffee00001", "the running warehouse, not the stopped one");
    assert_eq!(sample["columns"][0], json!({"name": "trip_id", "type": "BIGINT"}));
    let rows = sample["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 20);
    assert_eq!(rows[0][0], json!(1), "typed values");
    let sent: Value = serde_json::from_str(&h.requests_to("POST", "/api/2.0/sql/statements")[0].body).unwrap();
    assert_eq!(sent["statement"], "SELECT * FROM `main`.`default`.`trips` LIMIT 20");

    let (code, message) = read_error(&h, "databricks://sql/table/main/default/nosuch/sample").await;
    assert_eq!(code, -32002, "{message}");
    assert!(message.contains("TABLE_OR_VIEW_NOT_FOUND"), "the warehouse's own message: {message}");
}

#[tokio::test]
async fn read_only_mode_refuses_a_table_sample_which_needs_a_statement() {
    let h = Setup::new(&["sql"]).config("[policy]\nread_only = true").start().await;
    let (code, message) = read_error(&h, "databricks://sql/table/main/default/trips/sample").await;
    assert_eq!(code, -32603, "a refusal, not a missing resource: {message}");
    assert!(message.contains("read-only mode"), "{message}");
    assert!(h.requests_to("POST", "/api/2.0/sql/statements").is_empty(), "nothing was run");
}

#[tokio::test]
async fn a_long_run_output_links_the_whole_output() {
    let h = Harness::start(&["jobs"]).await;
    let result = h.call("get_run_output", json!({"run_id": 1021, "max_chars": 100})).await;
    assert_ne!(result.is_error, Some(true), "{result:?}");
    let links = links(&result);
    let uris: Vec<&str> = links.iter().map(|l| l["uri"].as_str().unwrap()).collect();
    assert!(uris.contains(&"databricks://jobs/run/102102/output"), "the failed task's output: {uris:?}");
    let read = read(&h, "databricks://jobs/run/102102/output").await;
    let whole = read["contents"][0]["text"].as_str().unwrap();
    let (_, outputs) = h.ok("get_run_output", json!({"run_id": 102102})).await;
    let trace = outputs["outputs"][0]["output"]["error_trace"].as_str().unwrap();
    assert!(trace.chars().count() > 100 && whole.contains(trace), "the whole trace is in the resource:\n{whole}");

    // Nothing cut, nothing linked.
    let result = h.call("get_run_output", json!({"run_id": 1021, "max_chars": 20000})).await;
    assert!(self::links(&result).is_empty(), "{result:?}");
}
