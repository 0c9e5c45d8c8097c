//! MCP prompts and completions contributed by plugins, through an MCP client against the
//! emulator, and the list_changed notifications for resources and prompts on hot reload.

use std::time::Duration;

use rmcp::ServiceError;
use rmcp::model::{CompletionContext, GetPromptRequestParams};
use serde_json::{Value, json};

use crate::support::{Harness, within};

async fn get_prompt(h: &Harness, name: &str, arguments: Value) -> Result<Value, (i32, String)> {
    let Value::Object(arguments) = arguments else { panic!("arguments must be an object") };
    let request = GetPromptRequestParams::new(name).with_arguments(arguments);
    match within(Duration::from_secs(60), &format!("prompts/get {name}"), h.client.get_prompt(request)).await {
        Ok(result) => Ok(serde_json::to_value(result).unwrap()),
        Err(ServiceError::McpError(e)) => Err((e.code.0, e.message.to_string())),
        Err(e) => panic!("prompts/get {name}: {e}"),
    }
}

fn texts(prompt: &Value) -> String {
    prompt["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["content"]["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn complete(
    h: &Harness,
    what: Result<&str, &str>,
    argument: &str,
    value: &str,
    context: &[(&str, &str)],
) -> Vec<String> {
    let context = (!context.is_empty()).then(|| {
        CompletionContext::with_arguments(context.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    });
    let completion = match what {
        Ok(prompt) => h.client.complete_prompt_argument(prompt, argument, value, context).await,
        Err(template) => h.client.complete_resource_argument(template, argument, value, context).await,
    };
    completion.unwrap_or_else(|e| panic!("completion/complete {argument}: {e}")).values
}

#[tokio::test]
async fn explore_catalog_lists_the_schemas_and_names_the_tools_to_use() {
    let h = Harness::start(&["unity-catalog"]).await;
    let prompts = h.client.list_all_prompts().await.unwrap();
    let prompts = serde_json::to_value(prompts).unwrap();
    let explore = prompts.as_array().unwrap().iter().find(|p| p["name"] == "explore_catalog").expect("explore_catalog");
    assert_eq!(explore["title"], "Explore a catalog");
    assert_eq!(
        explore["arguments"],
        json!([{"name": "catalog", "description": "The catalog to explore, e.g. `main`.", "required": true}])
    );

    let prompt = get_prompt(&h, "explore_catalog", json!({"catalog": "main"})).await.unwrap();
    let text = texts(&prompt);
    assert!(
        text.contains("`default`") && text.contains("`information_schema`"),
        "the schemas, fetched from the workspace: {text}"
    );
    for tool in ["list_table_summaries", "get_table_lineage", "get_effective_grants", "execute_sql"] {
        assert!(text.contains(tool), "names `{tool}`: {text}");
    }
    assert!(text.contains("databricks://unity-catalog/table/main/"), "names the table resource: {text}");
    assert_eq!(prompt["messages"][0]["role"], "user");
}

#[tokio::test]
async fn prompt_arguments_that_do_not_fit_are_invalid_params() {
    let h = Harness::start(&["unity-catalog"]).await;
    let (code, message) = get_prompt(&h, "explore_catalog", json!({})).await.unwrap_err();
    assert_eq!(code, -32602, "{message}");
    assert!(message.contains("needs argument `catalog`"), "{message}");
    let (code, message) =
        get_prompt(&h, "explore_catalog", json!({"catalog": "main", "colour": "red"})).await.unwrap_err();
    assert_eq!(code, -32602, "{message}");
    assert!(message.contains("no argument `colour`"), "{message}");
    let (code, message) = get_prompt(&h, "no_such_prompt", json!({})).await.unwrap_err();
    assert_eq!(code, -32602, "{message}");
    let (code, message) = get_prompt(&h, "explore_catalog", json!({"catalog": "nosuch"})).await.unwrap_err();
    assert_eq!(code, -32002, "the workspace says the catalog does not exist: {message}");
    assert!(message.contains("nosuch"), "{message}");
}

#[tokio::test]
async fn completions_suggest_catalog_schema_and_table_names() {
    let h = Harness::start(&["unity-catalog"]).await;
    assert_eq!(complete(&h, Ok("explore_catalog"), "catalog", "ma", &[]).await, ["main"]);
    assert!(complete(&h, Ok("explore_catalog"), "catalog", "zz", &[]).await.is_empty());

    let template = Err("databricks://unity-catalog/table/{catalog}/{schema}/{table}");
    let schemas = complete(&h, template, "schema", "", &[("catalog", "main")]).await;
    assert_eq!(schemas, ["default", "information_schema"]);
    assert!(complete(&h, template, "schema", "", &[]).await.is_empty(), "no schema before a catalog is chosen");
    let tables = complete(&h, template, "table", "tr", &[("catalog", "main"), ("schema", "default")]).await;
    assert_eq!(tables, ["trips"]);
}

#[tokio::test]
async fn resources_and_prompts_list_changed_on_reload() {
    let h = Harness::start(&["workspace"]).await;
    assert!(h.client.list_all_prompts().await.unwrap().is_empty());
    let resources = h.client.service().resources_changed.clone();
    let prompts = h.client.service().prompts_changed.clone();
    let (seen_resources, seen_prompts) = (*resources.borrow(), *prompts.borrow());

    let wasm = test_plugins::wasm("unity-catalog");
    std::fs::copy(&wasm, h.plugin_dir.join(wasm.file_name().unwrap())).unwrap();
    within(Duration::from_secs(30), "resources/list_changed", resources.subscribe().wait_for(|&n| n > seen_resources))
        .await
        .unwrap();
    within(Duration::from_secs(30), "prompts/list_changed", prompts.subscribe().wait_for(|&n| n > seen_prompts))
        .await
        .unwrap();
    let names: Vec<String> = h.client.list_all_prompts().await.unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["explore_catalog"]);
}

#[tokio::test]
async fn debug_job_run_fetches_the_failed_task_and_links_its_output() {
    let h = Harness::start(&["jobs"]).await;
    let prompt = get_prompt(&h, "debug_job_run", json!({"run_id": "1021"})).await.unwrap();
    let text = texts(&prompt);
    assert!(text.contains("task `transform` (run 102102)") && text.contains("FAILED"), "{text}");
    for tool in ["get_run_output", "get_job", "list_cluster_events", "repair_run"] {
        assert!(text.contains(tool), "names `{tool}`: {text}");
    }
    let link = prompt["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["content"]["type"] == "resource_link")
        .unwrap_or_else(|| panic!("a link to the failed task's output: {prompt}"));
    let uri = link["content"]["uri"].as_str().unwrap();
    assert_eq!(uri, "databricks://jobs/run/102102/output");

    let output = h.client.read_resource(rmcp::model::ReadResourceRequestParams::new(uri)).await.unwrap();
    let output = serde_json::to_value(output).unwrap();
    assert!(output["contents"][0]["text"].as_str().unwrap().contains("Error"), "{output}");
}

#[tokio::test]
async fn schedule_notebook_job_gives_the_job_settings_to_create() {
    let h = Harness::start(&["jobs"]).await;
    let prompt = get_prompt(
        &h,
        "schedule_notebook_job",
        json!({"notebook_path": "/Shared/reports/fail_report", "timezone": "Europe/Amsterdam"}),
    )
    .await
    .unwrap();
    let text = texts(&prompt);
    assert!(
        text.contains("\"quartz_cron_expression\": \"0 0 6 * * ?\"") && text.contains("Europe/Amsterdam"),
        "{text}"
    );
    assert!(text.contains("\"notebook_path\": \"/Shared/reports/fail_report\""), "{text}");
    for tool in ["create_job", "run_job", "wait_for_run", "get_workspace_object_status"] {
        assert!(text.contains(tool), "names `{tool}`: {text}");
    }
}

#[tokio::test]
async fn review_cluster_costs_sorts_the_clusters_by_what_they_cost() {
    let h = Harness::start(&["clusters"]).await;
    let (_, clusters) = h.ok("list_clusters", json!({})).await;
    let running: Vec<String> = clusters["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["state"] == "RUNNING")
        .map(|c| c["cluster_name"].as_str().unwrap().to_string())
        .collect();
    assert!(!running.is_empty(), "the test seed has a running cluster");
    let prompt = get_prompt(&h, "review_cluster_costs", json!({})).await.unwrap();
    let text = texts(&prompt);
    for name in &running {
        assert!(text.contains(&format!("`{name}`")), "lists the running cluster {name}: {text}");
    }
    for tool in ["list_cluster_events", "terminate_cluster", "edit_cluster", "resize_cluster"] {
        assert!(text.contains(tool), "names `{tool}`: {text}");
    }
    assert_eq!(
        complete(&h, Err("databricks://clusters/cluster/{cluster_id}"), "cluster_id", "", &[]).await.len(),
        clusters["clusters"].as_array().unwrap().len(),
        "every cluster id is a completion"
    );
}

#[tokio::test]
async fn optimize_query_names_the_warehouses_and_the_plan_to_read() {
    let h = Harness::start(&["sql"]).await;
    let (_, warehouses) = h.ok("list_warehouses", json!({})).await;
    let first = warehouses["warehouses"][0]["id"].as_str().unwrap().to_string();
    let sql = "SELECT payment_type, SUM(fare_amount) FROM main.default.trips GROUP BY 1";
    let prompt = get_prompt(&h, "optimize_query", json!({"sql": sql})).await.unwrap();
    let text = texts(&prompt);
    assert!(text.contains(sql) && text.contains(&first), "{text}");
    assert!(text.contains("EXPLAIN FORMATTED") && text.contains("execute_sql"), "{text}");
}
