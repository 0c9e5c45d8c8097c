//! The MCP protocol itself over stdio: malformed input, unknown tools, and a clean stdout.

use std::process::Stdio;
use std::time::Duration;

use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

use crate::support::{Harness, within};

#[tokio::test]
async fn unknown_tool_is_a_json_rpc_error() {
    let h = Harness::start(&["clusters"]).await;
    let error = h.client.call_tool(CallToolRequestParams::new("no_such_tool")).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("-32602") || text.contains("unknown tool"), "{text}");
    let (_, data) = h.ok("list_clusters", json!({"limit": 1})).await;
    assert!(data["clusters"].is_array(), "still serving");
}

#[tokio::test]
async fn malformed_messages_leave_the_server_running_and_stdout_clean() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(test_plugins::wasm("clusters"), dir.path().join("clusters.wasm")).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_databricks-mcp"))
        .args(["serve", "--plugin-dir"])
        .arg(dir.path())
        .env_remove("DATABRICKS_HOST")
        .env("DATABRICKS_MCP_LOG", "debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut send = async |text: &str| {
        stdin.write_all(text.as_bytes()).await.unwrap();
        stdin.write_all(b"\n").await.unwrap();
        stdin.flush().await.unwrap();
    };
    send("this is not json").await;
    send(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#).await;
    send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await;
    send(
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_cluster","arguments":"not an object"}}"#,
    )
    .await;
    send(r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#).await;

    let mut answered = std::collections::HashMap::new();
    within(Duration::from_secs(30), "answers to ids 1, 2 and 3", async {
        while [1, 2, 3].iter().any(|id| !answered.contains_key(id)) {
            let line = lines.next_line().await.unwrap().expect("stdout stays open");
            let message: Value =
                serde_json::from_str(&line).unwrap_or_else(|_| panic!("stdout carries only JSON-RPC: {line}"));
            assert_eq!(message["jsonrpc"], "2.0", "{line}");
            if let Some(id) = message["id"].as_i64() {
                answered.insert(id, message);
            }
        }
    })
    .await;
    assert_eq!(answered[&1]["result"]["serverInfo"]["name"], "databricks-mcp");
    let bad = &answered[&2];
    assert!(
        bad.get("error").is_some() || bad["result"]["isError"] == json!(true),
        "arguments that are not an object are refused: {bad}"
    );
    assert_eq!(answered[&3]["result"]["tools"].as_array().unwrap().len(), 15);
    drop(stdin);
    let status = within(Duration::from_secs(10), "exit after stdin closes", child.wait()).await.unwrap();
    assert!(status.success(), "{status}");
}
