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

async fn complete(h: &Harness, what: Result<&str, &str>, argument: &str, value: &str, context: &[(&str, &str)]) -> Vec<String> {
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
    assert_eq!(explore["arguments"], json!([{"name": "catalog", "description": "The catalog to explore, e.g. `main`.", "required": true}]));

    let prompt = get_prompt(&h, "explore_catalog", json!({"catalog": "main"})).await.unwrap();
    let text = texts(&prompt);
    assert!(text.contains("`default`") && text.contains("`information_schema`"), "the schemas, fetched from the workspace: {text}");
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
    let (code, message) = get_prompt(&h, "explore_catalog", json!({"catalog": "main", "colour": "red"})).await.unwrap_err();
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
