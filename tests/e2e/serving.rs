//! Every serving tool, through MCP, against the emulator's serving endpoints (test seed: the chat
//! endpoint `databricks-meta-llama-3-3-70b-instruct`, embeddings `databricks-bge-large-en`,
//! completions `text-completions`, the custom `churn-model`, and `fraud-scoring`, whose last
//! update failed).

use std::time::Duration;

use databricks_emulator::ALICE_TOKEN;
use serde_json::{Value, json};

use crate::support::{Harness, Setup};

const SERVING_TOOLS: [&str; 9] = [
    "list_serving_endpoints",
    "get_serving_endpoint",
    "create_serving_endpoint",
    "update_serving_endpoint_config",
    "delete_serving_endpoint",
    "wait_for_serving_endpoint",
    "query_serving_endpoint",
    "get_serving_build_logs",
    "get_serving_server_logs",
];
const CHAT: &str = "databricks-meta-llama-3-3-70b-instruct";
const EMBED: &str = "databricks-bge-large-en";

fn churn_entity(version: u32) -> Value {
    json!({"entity_name": "main.default.churn_model", "entity_version": version.to_string()})
}

#[tokio::test]
async fn lists_every_serving_tool_with_schemas_and_annotations() {
    let h = Harness::start(&["serving"]).await;
    let tools = h.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, SERVING_TOOLS);
    for tool in &tools {
        assert!(tool.description.as_ref().is_some_and(|d| d.len() > 40), "{} needs a real description", tool.name);
        assert!(tool.output_schema.is_some(), "{} declares an output schema", tool.name);
        for (name, prop) in tool.input_schema["properties"].as_object().unwrap() {
            assert!(prop.get("description").is_some(), "{}.{name} is described", tool.name);
        }
    }
    let hint = |name: &str| {
        let a = tools.iter().find(|t| t.name == name).unwrap().annotations.clone().unwrap();
        (a.read_only_hint, a.destructive_hint)
    };
    for read_only in [
        "list_serving_endpoints",
        "get_serving_endpoint",
        "wait_for_serving_endpoint",
        "get_serving_build_logs",
        "get_serving_server_logs",
    ] {
        assert_eq!(hint(read_only).0, Some(true), "{read_only}");
    }
    for destructive in ["update_serving_endpoint_config", "delete_serving_endpoint"] {
        assert_eq!(hint(destructive), (Some(false), Some(true)), "{destructive}");
    }
    for writes in ["create_serving_endpoint", "query_serving_endpoint"] {
        assert_eq!(hint(writes), (Some(false), Some(false)), "{writes}");
    }
}

#[tokio::test]
async fn lists_and_gets_endpoints_a_page_at_a_time() {
    let h = Harness::start(&["serving"]).await;
    let (text, data) = h.ok("list_serving_endpoints", json!({})).await;
    assert!(text.contains(&format!("{CHAT}: READY (chat)")), "{text}");
    assert!(text.contains("churn-model: READY (custom model), serves main.default.churn_model v2"), "{text}");
    assert!(text.contains("fraud-scoring: READY, config update UPDATE_FAILED"), "{text}");
    assert_eq!(data["endpoints"].as_array().unwrap().len(), 5);

    let (text, first) = h.ok("list_serving_endpoints", json!({"limit": 2})).await;
    let token = first["next_page_token"].as_str().unwrap().to_string();
    assert!(text.contains(&token), "{text}");
    let mut names: Vec<Value> = first["endpoints"].as_array().unwrap().iter().map(|e| e["name"].clone()).collect();
    let (_, rest) = h.ok("list_serving_endpoints", json!({"limit": 10, "page_token": token})).await;
    names.extend(rest["endpoints"].as_array().unwrap().iter().map(|e| e["name"].clone()));
    assert_eq!(names.len(), 5);
    assert!(rest.get("next_page_token").is_none());

    let (text, data) = h.ok("get_serving_endpoint", json!({"name": "churn-model"})).await;
    assert!(text.contains("live: churn_model-2 = main.default.churn_model v2 [ready]"), "{text}");
    assert!(text.contains("Your permission: CAN_MANAGE"), "{text}");
    assert_eq!(data["config"]["traffic_config"]["routes"][0]["traffic_percentage"], 100);

    let missing = h.err("get_serving_endpoint", json!({"name": "no-such-endpoint"})).await;
    assert!(missing.contains("no-such-endpoint") && missing.contains("does not exist"), "{missing}");
}

#[tokio::test]
async fn queries_answer_by_kind_deterministically() {
    let h = Harness::start(&["serving"]).await;
    let chat = json!({"name": CHAT, "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "How many taxi trips ran today?"}]});
    let (text, data) = h.ok("query_serving_endpoint", chat.clone()).await;
    assert!(
        text.starts_with("[system.ai.meta_llama_v3_3_70b_instruct] You said: How many taxi trips ran today?"),
        "{text}"
    );
    assert_eq!(data["response"]["object"], "chat.completion");
    assert_eq!(data["response"]["usage"]["prompt_tokens"], 8);
    assert_eq!(
        h.ok("query_serving_endpoint", chat).await.1["response"]["choices"],
        data["response"]["choices"],
        "same question, same answer"
    );

    let (text, data) = h
        .ok(
            "query_serving_endpoint",
            json!({"name": CHAT, "messages": [{"role": "user", "content": "one two three four"}], "max_tokens": 3}),
        )
        .await;
    assert!(text.contains("[finish: length]"), "{text}");
    assert_eq!(
        data["response"]["choices"][0]["message"]["content"],
        "[system.ai.meta_llama_v3_3_70b_instruct] You said:"
    );

    let (text, data) =
        h.ok("query_serving_endpoint", json!({"name": "text-completions", "prompt": "Once upon a time"})).await;
    assert!(text.contains("You said: Once upon a time"), "{text}");
    assert_eq!(data["response"]["object"], "text_completion");

    let (text, data) = h
        .ok(
            "query_serving_endpoint",
            json!({"name": EMBED, "input": ["taxi fares at night", "late night taxi fares", "ledger"]}),
        )
        .await;
    assert!(text.starts_with("3 embedding(s) of 1024 dimensions"), "{text}");
    let vectors: Vec<Vec<f64>> = data["response"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect())
        .collect();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    assert!(dot(&vectors[0], &vectors[1]) > dot(&vectors[0], &vectors[2]), "shared words make close vectors");

    let records = json!({"name": "churn-model", "dataframe_records": [{"tenure": 3, "plan": "basic"}, {"tenure": 40, "plan": "pro"}]});
    let (text, data) = h.ok("query_serving_endpoint", records).await;
    let predictions = data["response"]["predictions"].as_array().unwrap().clone();
    assert_eq!(predictions.len(), 2, "{text}");
    assert!(predictions.iter().all(|p| (0.0..1.0).contains(&p.as_f64().unwrap())));
    assert_eq!(data["served_model_name"], "churn_model-2");
    let split = json!({"name": "churn-model", "dataframe_split": {"columns": ["plan", "tenure"], "data": [["basic", 3], ["pro", 40]]}});
    assert_eq!(
        h.ok("query_serving_endpoint", split).await.1["response"]["predictions"],
        json!(predictions),
        "both formats score alike"
    );

    let wrong = h
        .err("query_serving_endpoint", json!({"name": "churn-model", "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert!(wrong.contains("custom model") && wrong.contains("dataframe_records"), "{wrong}");
    let wrong = h.err("query_serving_endpoint", json!({"name": CHAT, "input": ["x"]})).await;
    assert!(wrong.contains("chat model") && wrong.contains("messages"), "{wrong}");
    let none = h.err("query_serving_endpoint", json!({"name": CHAT})).await;
    assert!(none.contains("give the input"), "{none}");
    assert!(
        h.requests_to("POST", &format!("/serving-endpoints/{CHAT}/invocations")).len() == 4,
        "the empty query never left the host"
    );

    let (text, data) = h.ok("get_serving_server_logs", json!({"name": "churn-model"})).await;
    assert_eq!(data["served_model_name"], "churn_model-2");
    assert_eq!(text.matches("POST /invocations 200 (2 rows scored)").count(), 2, "{text}");
}

#[tokio::test]
async fn an_endpoint_is_created_waited_for_updated_and_deleted() {
    let h = Setup::new(&["serving"]).transition_delay(Duration::from_millis(700)).start().await;
    let (text, data) = h
        .ok(
            "create_serving_endpoint",
            json!({"name": "churn-canary", "served_entities": [churn_entity(3)], "description": "canary", "tags": {"team": "ml"}}),
        )
        .await;
    assert!(
        text.contains("NOT_READY, config update IN_PROGRESS") && text.contains("wait_for_serving_endpoint"),
        "{text}"
    );
    assert_eq!(data["endpoint"]["pending_config"]["served_entities"][0]["name"], "churn_model-3");
    let sent: Value = serde_json::from_str(&h.requests_to("POST", "/api/2.0/serving-endpoints")[0].body).unwrap();
    assert_eq!(sent["tags"], json!([{"key": "team", "value": "ml"}]));

    let early = h.err("query_serving_endpoint", json!({"name": "churn-canary", "instances": [[1, 2]]})).await;
    assert!(early.contains("not ready"), "{early}");
    let (text, _) = h.ok("get_serving_build_logs", json!({"name": "churn-canary"})).await;
    assert!(text.contains("Build logs of churn_model-3") && text.contains("in progress"), "{text}");

    let (text, data) = h.ok("wait_for_serving_endpoint", json!({"name": "churn-canary", "timeout_seconds": 60})).await;
    assert_eq!(data["ready"], true, "{text}");
    assert!(text.contains("churn-canary: READY"), "{text}");
    assert!(!h.progress.lock().unwrap().is_empty(), "the wait reported progress");
    let (_, data) = h.ok("query_serving_endpoint", json!({"name": "churn-canary", "instances": [[1, 2]]})).await;
    assert_eq!(data["response"]["predictions"].as_array().unwrap().len(), 1);

    let (text, data) = h
        .ok(
            "update_serving_endpoint_config",
            json!({"name": "churn-canary", "served_entities": [churn_entity(2), churn_entity(3)],
                   "traffic": [{"served_model_name": "churn_model-2", "traffic_percentage": 80}, {"served_model_name": "churn_model-3", "traffic_percentage": 20}]}),
        )
        .await;
    assert!(text.contains("config version 2"), "{text}");
    assert_eq!(data["endpoint"]["state"]["ready"], "READY", "the old config keeps serving");
    let busy = h
        .err("update_serving_endpoint_config", json!({"name": "churn-canary", "served_entities": [churn_entity(1)]}))
        .await;
    assert!(busy.contains("currently being updated"), "{busy}");
    let (_, data) = h.ok("wait_for_serving_endpoint", json!({"name": "churn-canary"})).await;
    assert_eq!(data["endpoint"]["config"]["served_entities"].as_array().unwrap().len(), 2);

    let bad = h
        .err("update_serving_endpoint_config", json!({"name": "churn-canary", "served_entities": [churn_entity(2)], "traffic": [{"served_model_name": "churn_model-2", "traffic_percentage": 50}]}))
        .await;
    assert!(bad.contains("add up to 50"), "{bad}");
    let missing = h.err("create_serving_endpoint", json!({"name": "x", "served_entities": [churn_entity(9)]})).await;
    assert!(missing.contains("Model version 9") && missing.contains("does not exist"), "{missing}");
    let dup =
        h.err("create_serving_endpoint", json!({"name": "churn-canary", "served_entities": [churn_entity(2)]})).await;
    assert!(dup.contains("already exists"), "{dup}");

    let (text, _) = h.ok("delete_serving_endpoint", json!({"name": "churn-canary"})).await;
    assert_eq!(text, "Deleted serving endpoint churn-canary.");
    h.err("get_serving_endpoint", json!({"name": "churn-canary"})).await;
}

#[tokio::test]
async fn a_failed_build_fails_the_wait_and_the_build_logs_say_why() {
    let h = Harness::start(&["serving"]).await;
    let failed = h.err("wait_for_serving_endpoint", json!({"name": "fraud-scoring"})).await;
    assert!(failed.contains("UPDATE_FAILED") && failed.contains("get_serving_build_logs"), "{failed}");
    let (text, _) =
        h.ok("get_serving_build_logs", json!({"name": "fraud-scoring", "served_model_name": "fraud_model-2"})).await;
    assert!(text.contains("ERROR") && text.contains("FAILED_REGISTRATION"), "{text}");
    let (_, data) =
        h.ok("query_serving_endpoint", json!({"name": "fraud-scoring", "dataframe_records": [{"amount": 12.5}]})).await;
    assert_eq!(data["served_model_name"], "fraud_model-1", "the previous config keeps serving");

    h.ok("create_serving_endpoint", json!({"name": "fraud-v2", "served_entities": [{"entity_name": "main.default.fraud_model", "entity_version": "2"}]})).await;
    let failed = h.err("wait_for_serving_endpoint", json!({"name": "fraud-v2"})).await;
    assert!(failed.contains("fraud_model-2"), "{failed}");
    let (_, data) = h.ok("get_serving_endpoint", json!({"name": "fraud-v2"})).await;
    assert_eq!(data["state"], json!({"ready": "NOT_READY", "config_update": "UPDATE_FAILED"}));
    let none =
        h.err("get_serving_server_logs", json!({"name": "fraud-v2", "served_model_name": "fraud_model-2"})).await;
    assert!(none.contains("not deployed"), "{none}");
}

#[tokio::test]
async fn a_wait_that_runs_out_says_how_to_keep_waiting() {
    let h = Setup::new(&["serving"]).transition_delay(Duration::from_secs(60)).start().await;
    h.ok("create_serving_endpoint", json!({"name": "slow", "served_entities": [churn_entity(2)]})).await;
    let (text, data) = h.ok("wait_for_serving_endpoint", json!({"name": "slow", "timeout_seconds": 1})).await;
    assert_eq!(data["ready"], false);
    assert!(text.contains("still NOT_READY") && text.contains("Call wait_for_serving_endpoint again"), "{text}");
    assert_eq!(data["endpoint"]["state"]["config_update"], "IN_PROGRESS");
}

#[tokio::test]
async fn other_users_see_and_query_only_what_they_are_granted() {
    let h = Setup::new(&["serving"]).token(ALICE_TOKEN).start().await;
    let (text, data) = h.ok("list_serving_endpoints", json!({})).await;
    assert_eq!(data["endpoints"].as_array().unwrap().len(), 4, "{text}");
    assert!(!text.contains("fraud-scoring"), "{text}");
    let hidden = h.err("get_serving_endpoint", json!({"name": "fraud-scoring"})).await;
    assert!(hidden.contains("does not exist"), "{hidden}");
    h.ok("query_serving_endpoint", json!({"name": CHAT, "messages": [{"role": "user", "content": "hi"}]})).await;
    let denied = h.err("query_serving_endpoint", json!({"name": "churn-model", "dataframe_records": [{"a": 1}]})).await;
    assert!(denied.contains("does not have Query permissions"), "{denied}");
    let denied = h.err("delete_serving_endpoint", json!({"name": "churn-model"})).await;
    assert!(denied.contains("Manage"), "{denied}");
    let (_, data) = h.ok("get_serving_endpoint", json!({"name": "churn-model"})).await;
    assert_eq!(data["permission_level"], "CAN_VIEW");
}
