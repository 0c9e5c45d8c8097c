//! Every command-execution tool, through MCP, against the emulator (test seed: cluster
//! `0101-000000-shared01` RUNNING, which the `users` group may attach to; `0101-000000-report01`,
//! which Alice may not; table `main.default.trips` with 20 rows).

use std::time::Duration;

use databricks_emulator::ALICE_TOKEN;
use serde_json::{Value, json};

use crate::support::{Harness, Setup, within};

const TOOLS: [&str; 5] =
    ["execute_code", "create_execution_context", "get_command_status", "cancel_command", "destroy_execution_context"];

const SHARED: &str = "0101-000000-shared01";
const REPORT: &str = "0101-000000-report01";

fn body(request: &databricks_emulator::RecordedRequest) -> Value {
    serde_json::from_str(&request.body).unwrap()
}

#[tokio::test]
async fn lists_every_tool_with_schemas_and_annotations() {
    let h = Harness::start(&["command-execution"]).await;
    let tools = h.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, TOOLS);
    let hints = |name: &str| {
        let a = tools.iter().find(|t| t.name == name).unwrap().annotations.clone().unwrap();
        (a.read_only_hint, a.destructive_hint)
    };
    for tool in &tools {
        assert!(tool.description.as_ref().is_some_and(|d| d.len() > 60), "{}", tool.name);
        assert!(tool.output_schema.is_some(), "{}", tool.name);
    }
    assert_eq!(hints("execute_code"), (Some(false), Some(true)), "arbitrary code can change anything");
    assert_eq!(hints("get_command_status").0, Some(true));
    assert_eq!(hints("destroy_execution_context"), (Some(false), Some(true)));
    let description = tools[0].description.clone().unwrap();
    assert!(description.contains("destroys it") && description.contains("context_id"), "{description}");
}

#[tokio::test]
async fn one_off_code_runs_in_a_temporary_context_that_is_always_destroyed() {
    let h = Harness::start(&["command-execution"]).await;
    let (text, result) =
        h.ok("execute_code", json!({"cluster_id": SHARED, "code": "print('hello')\nprint(\"world\")"})).await;
    assert_eq!(text, "hello\nworld");
    assert_eq!((result["status"].clone(), result["finished"].clone()), (json!("Finished"), json!(true)));
    assert!(result.get("context_id").is_none(), "no context is left to the caller: {result}");
    let created = h.requests_to("POST", "/api/1.2/contexts/create");
    let destroyed = h.requests_to("POST", "/api/1.2/contexts/destroy");
    assert_eq!((created.len(), destroyed.len()), (1, 1));
    assert_eq!(body(&created[0])["language"], "python");
    assert_eq!(body(&destroyed[0])["clusterId"], SHARED);

    // SQL answers with a table; the text shows the first rows, the structured result all of them.
    let (text, result) = h
        .ok(
            "execute_code",
            json!({"cluster_id": SHARED, "language": "sql", "code": "SELECT trip_id, pickup_zip FROM main.default.trips ORDER BY trip_id", "max_rows": 3}),
        )
        .await;
    let table = &result["outcome"]["table"];
    assert_eq!(table["columns"], json!(["trip_id", "pickup_zip"]));
    assert_eq!(table["rows"].as_array().unwrap().len(), 20);
    assert!(text.starts_with("trip_id | pickup_zip\n1 | ") && text.contains("(20 rows, 3 shown"), "{text}");

    // An error is a result the model reads, with the trace.
    let (text, result) =
        h.ok("execute_code", json!({"cluster_id": SHARED, "code": "raise ValueError('bad input')"})).await;
    assert_eq!(result["status"], "Error");
    assert!(text.starts_with("Error: ValueError('bad input')") && text.contains("Traceback"), "{text}");
    let (text, _) =
        h.ok("execute_code", json!({"cluster_id": SHARED, "language": "sql", "code": "SELECT * FROM nowhere"})).await;
    assert!(text.contains("TABLE_OR_VIEW_NOT_FOUND"), "{text}");
    assert_eq!(h.requests_to("POST", "/api/1.2/contexts/destroy").len(), 4, "every temporary context was destroyed");
}

#[tokio::test]
async fn a_context_keeps_state_across_calls_until_it_is_destroyed() {
    let h = Harness::start(&["command-execution"]).await;
    let (text, created) = h.ok("create_execution_context", json!({"cluster_id": SHARED, "language": "python"})).await;
    let context_id = created["context_id"].as_str().unwrap().to_string();
    assert!(text.contains("destroy_execution_context"), "{text}");
    let (text, result) =
        h.ok("execute_code", json!({"cluster_id": SHARED, "context_id": context_id, "code": "6*7"})).await;
    assert_eq!(text, "42");
    assert_eq!(result["context_id"], json!(context_id));
    let command_id = result["command_id"].as_str().unwrap().to_string();
    assert!(h.requests_to("POST", "/api/1.2/contexts/destroy").is_empty(), "the caller's context is kept");

    let (text, status) = h
        .ok("get_command_status", json!({"cluster_id": SHARED, "context_id": context_id, "command_id": command_id}))
        .await;
    assert_eq!((status["status"].clone(), text), (json!("Finished"), "42".to_string()));
    let (text, _) =
        h.ok("cancel_command", json!({"cluster_id": SHARED, "context_id": context_id, "command_id": command_id})).await;
    assert!(text.contains("already Finished; nothing to cancel"), "{text}");

    h.ok("destroy_execution_context", json!({"cluster_id": SHARED, "context_id": context_id})).await;
    let (text, _) = h.ok("destroy_execution_context", json!({"cluster_id": SHARED, "context_id": context_id})).await;
    assert!(text.contains("Destroyed"), "destroying twice is what was asked: {text}");
    let gone = h.err("execute_code", json!({"cluster_id": SHARED, "context_id": context_id, "code": "1+1"})).await;
    assert!(gone.contains(&format!("Context {context_id} does not exist")), "{gone}");
}

#[tokio::test]
async fn slow_code_in_a_callers_context_keeps_running_and_can_be_polled_and_cancelled() {
    let h = Setup::new(&["command-execution"]).transition_delay(Duration::from_millis(1500)).start().await;
    let (_, created) = h.ok("create_execution_context", json!({"cluster_id": SHARED})).await;
    let context_id = created["context_id"].as_str().unwrap().to_string();
    let (text, result) = h
        .ok(
            "execute_code",
            json!({"cluster_id": SHARED, "context_id": context_id, "code": "1+1", "timeout_seconds": 1}),
        )
        .await;
    assert_eq!(result["finished"], json!(false), "{text}");
    let command_id = result["command_id"].as_str().unwrap().to_string();
    assert!(
        text.contains(&format!(
            "Call get_command_status with cluster_id {SHARED}, context_id {context_id} and command_id {command_id}"
        )),
        "{text}"
    );
    assert!(h.requests_to("POST", "/api/1.2/commands/cancel").is_empty(), "it keeps running");
    let (text, cancelled) =
        h.ok("cancel_command", json!({"cluster_id": SHARED, "context_id": context_id, "command_id": command_id})).await;
    assert_eq!(cancelled["status"], "Cancelled", "{text}");

    let (_, again) = h
        .ok(
            "execute_code",
            json!({"cluster_id": SHARED, "context_id": context_id, "code": "2+2", "timeout_seconds": 1}),
        )
        .await;
    let (text, done) = h
        .ok(
            "get_command_status",
            json!({"cluster_id": SHARED, "context_id": context_id, "command_id": again["command_id"], "wait": true}),
        )
        .await;
    assert_eq!((done["status"].clone(), text), (json!("Finished"), "4".to_string()));
    let progress = h.progress.lock().unwrap().clone();
    assert!(
        progress.iter().any(|p| p.message.as_deref().is_some_and(|m| m.contains("Running") || m.contains("Queued"))),
        "{progress:?}"
    );
}

#[tokio::test]
async fn a_temporary_context_is_cleaned_up_on_timeout_and_on_cancel() {
    let h = Setup::new(&["command-execution"]).transition_delay(Duration::from_secs(60)).start().await;
    // The context never starts within the wait: the call gives up and leaves nothing behind.
    let text = h.err("execute_code", json!({"cluster_id": SHARED, "code": "1+1", "timeout_seconds": 2})).await;
    assert!(text.contains("gave up") && text.contains("execution context"), "{text}");
    assert_eq!(h.requests_to("POST", "/api/1.2/contexts/destroy").len(), 1);

    // Cancelling the call destroys the context it made.
    let polled = h.requests_to("GET", "/api/1.2/contexts/status").len();
    let handle = h.call_cancellable("execute_code", json!({"cluster_id": SHARED, "code": "1+1"})).await;
    within(Duration::from_secs(20), "the new context to be polled", async {
        while h.requests_to("GET", "/api/1.2/contexts/status").len() <= polled {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    handle.cancel(Some("test".into())).await.unwrap();
    within(Duration::from_secs(20), "the compensation", async {
        while h.requests_to("POST", "/api/1.2/contexts/destroy").len() < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let created = h.requests_to("POST", "/api/1.2/contexts/create");
    let destroyed = h.requests_to("POST", "/api/1.2/contexts/destroy");
    assert_eq!(created.len(), 2);
    assert_eq!(destroyed.len(), 2, "one destroy per context");
}

#[tokio::test]
async fn refusals_say_what_to_do() {
    let h = Setup::new(&["command-execution"]).token(ALICE_TOKEN).start().await;
    let text = h.err("execute_code", json!({"cluster_id": REPORT, "code": "1+1"})).await;
    assert!(text.starts_with("Permission denied") && text.contains("Attach"), "{text}");
    let (text, _) = h.ok("execute_code", json!({"cluster_id": SHARED, "code": "1+1"})).await;
    assert_eq!(text, "2", "users may attach to the shared cluster");
    let text = h.err("execute_code", json!({"cluster_id": SHARED, "code": "   "})).await;
    assert!(text.contains("code is empty"), "{text}");
    let text = h.err("execute_code", json!({"cluster_id": SHARED, "code": "1", "language": "cobol"})).await;
    assert!(text.contains("cobol"), "{text}");
    let text = h.err("execute_code", json!({"cluster_id": "0000-000000-nosuch", "code": "1"})).await;
    assert!(text.contains("does not exist"), "{text}");
}

#[tokio::test]
async fn a_stopped_cluster_is_refused_with_the_way_forward() {
    let h = Harness::start(&["command-execution", "clusters"]).await;
    let (_, created) = h.ok("create_execution_context", json!({"cluster_id": SHARED})).await;
    let context_id = created["context_id"].as_str().unwrap().to_string();
    // Its contexts go with the cluster's driver.
    h.ok("terminate_cluster", json!({"cluster_id": SHARED})).await;
    let text = h.err("execute_code", json!({"cluster_id": SHARED, "code": "1"})).await;
    assert!(text.contains("start_cluster"), "{text}");
    let text =
        h.err("get_command_status", json!({"cluster_id": SHARED, "context_id": context_id, "command_id": "1"})).await;
    assert!(text.contains(&format!("Context {context_id} does not exist")), "{text}");
}
