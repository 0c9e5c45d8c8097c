//! Every secrets tool, through MCP, against the emulator. Secret values go in and never come out.

use databricks_emulator::ALICE_TOKEN;
use serde_json::{Value, json};

use crate::support::{Harness, Setup};

const SECRETS_TOOLS: [&str; 9] = [
    "list_secret_scopes",
    "create_secret_scope",
    "delete_secret_scope",
    "list_secrets",
    "put_secret",
    "delete_secret",
    "list_secret_acls",
    "put_secret_acl",
    "delete_secret_acl",
];

/// A value that must never be seen again once put.
const VALUE: &str = "pw-Zq8#unmistakable-e2e-value";

#[tokio::test]
async fn lists_every_secrets_tool_and_none_reads_a_value() {
    let h = Harness::start(&["secrets"]).await;
    let tools = h.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, SECRETS_TOOLS);
    for tool in &tools {
        assert!(tool.description.as_ref().is_some_and(|d| d.len() > 40), "{} needs a real description", tool.name);
        assert!(tool.output_schema.is_some(), "{}", tool.name);
        let output = serde_json::to_string(tool.output_schema.as_ref().unwrap()).unwrap();
        assert!(!output.contains("\"value\""), "{} must not return values: {output}", tool.name);
    }
    let tool = |name: &str| tools.iter().find(|t| t.name == name).unwrap();
    for read_only in ["list_secret_scopes", "list_secrets", "list_secret_acls"] {
        assert_eq!(tool(read_only).annotations.clone().unwrap().read_only_hint, Some(true), "{read_only}");
    }
    for destructive in ["delete_secret_scope", "put_secret", "delete_secret", "put_secret_acl", "delete_secret_acl"] {
        let a = tool(destructive).annotations.clone().unwrap();
        assert_eq!((a.read_only_hint, a.destructive_hint), (Some(false), Some(true)), "{destructive}");
    }
    assert_eq!(tool("create_secret_scope").annotations.clone().unwrap().destructive_hint, Some(false));
    let permission = &tool("put_secret_acl").input_schema["properties"]["permission"];
    assert!(permission.to_string().contains("MANAGE"), "{permission}");
}

#[tokio::test]
async fn a_scope_lives_its_whole_life_and_values_never_come_back() {
    let h = Harness::start(&["secrets"]).await;
    let (text, scopes) = h.ok("list_secret_scopes", json!({})).await;
    assert_eq!(scopes["scopes"], json!([{"name": "test-scope", "backend_type": "DATABRICKS"}]));
    assert_eq!(text, "test-scope (DATABRICKS)");

    let (text, _) = h.ok("create_secret_scope", json!({"scope": "e2e-scope"})).await;
    assert!(text.contains("Created secret scope e2e-scope"), "{text}");
    let (_, scopes) = h.ok("list_secret_scopes", json!({})).await;
    assert!(scopes["scopes"].as_array().unwrap().iter().any(|s| s["name"] == "e2e-scope"));

    let mut seen = Vec::new();
    let (text, put) =
        h.ok("put_secret", json!({"scope": "e2e-scope", "key": "db.password", "string_value": VALUE})).await;
    assert_eq!(put["replaced"], false, "{text}");
    assert!(text.contains("Stored new secret db.password"), "{text}");
    seen.push((text, put));
    let (text, put) =
        h.ok("put_secret", json!({"scope": "e2e-scope", "key": "db.password", "string_value": VALUE})).await;
    assert_eq!(put["replaced"], true, "{text}");
    seen.push((text, put));
    let puts = h.requests_to("POST", "/api/2.0/secrets/put");
    assert_eq!(puts.len(), 2);
    assert!(puts[0].body.contains(VALUE), "the value reached the workspace");

    let (text, listed) = h.ok("list_secrets", json!({"scope": "e2e-scope"})).await;
    assert_eq!(listed["secrets"][0]["key"], "db.password");
    assert!(listed["secrets"][0]["last_updated_timestamp"].is_i64(), "{listed}");
    assert!(text.starts_with("db.password  (updated "), "{text}");
    seen.push((text, listed));

    let (text, acl) = h
        .ok("put_secret_acl", json!({"scope": "e2e-scope", "principal": "data-engineers", "permission": "READ"}))
        .await;
    assert!(text.contains("data-engineers now has READ"), "{text}");
    assert_eq!(acl["permission"], "READ");
    let (text, acls) = h.ok("list_secret_acls", json!({"scope": "e2e-scope"})).await;
    assert_eq!(
        acls["acls"],
        json!([{"principal": "data-engineers", "permission": "READ"}, {"principal": "demo.user@example.com", "permission": "MANAGE"}]),
        "{text}"
    );
    assert!(text.contains("demo.user@example.com: MANAGE"), "{text}");
    h.ok("put_secret_acl", json!({"scope": "e2e-scope", "principal": "data-engineers", "permission": "WRITE"})).await;
    let (_, acls) = h.ok("list_secret_acls", json!({"scope": "e2e-scope"})).await;
    assert_eq!(acls["acls"][0]["permission"], "WRITE", "put replaces the permission");
    h.ok("delete_secret_acl", json!({"scope": "e2e-scope", "principal": "data-engineers"})).await;
    let (_, acls) = h.ok("list_secret_acls", json!({"scope": "e2e-scope"})).await;
    assert_eq!(acls["acls"].as_array().unwrap().len(), 1);
    let missing = h.err("delete_secret_acl", json!({"scope": "e2e-scope", "principal": "data-engineers"})).await;
    assert!(missing.starts_with("Not found"), "{missing}");

    let (text, _) = h.ok("delete_secret", json!({"scope": "e2e-scope", "key": "db.password"})).await;
    assert!(text.contains("Deleted secret db.password"), "{text}");
    let (text, listed) = h.ok("list_secrets", json!({"scope": "e2e-scope"})).await;
    assert!(listed["secrets"].as_array().unwrap().is_empty());
    assert!(text.contains("holds no secrets"), "{text}");
    let missing = h.err("delete_secret", json!({"scope": "e2e-scope", "key": "db.password"})).await;
    assert!(missing.starts_with("Not found"), "{missing}");

    h.ok("delete_secret_scope", json!({"scope": "e2e-scope"})).await;
    let (_, scopes) = h.ok("list_secret_scopes", json!({})).await;
    assert!(!scopes["scopes"].as_array().unwrap().iter().any(|s| s["name"] == "e2e-scope"));
    let missing = h.err("delete_secret_scope", json!({"scope": "e2e-scope"})).await;
    assert_eq!(missing, "Not found: Scope e2e-scope does not exist!");

    // The value appears in no result, no structured output and no log line.
    for (text, data) in &seen {
        assert!(!text.contains(VALUE), "{text}");
        assert!(!data.to_string().contains(VALUE), "{data}");
    }
    assert!(!h.log().contains(VALUE), "the host log never holds a secret value");
    assert!(h.emulator.requests().iter().all(|r| r.path != "/api/2.0/secrets/get"), "no value was ever read");
}

#[tokio::test]
async fn secret_keys_are_listed_one_page_at_a_time() {
    let h = Harness::start(&["secrets"]).await;
    for i in 0..5 {
        h.ok("put_secret", json!({"scope": "test-scope", "key": format!("k{i}"), "string_value": "v"})).await;
    }
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut args = json!({"scope": "test-scope", "limit": 3});
        if let Some(t) = &token {
            args["page_token"] = json!(t);
        }
        let (text, page) = h.ok("list_secrets", args).await;
        let secrets = page["secrets"].as_array().unwrap();
        assert!(secrets.len() <= 3);
        keys.extend(secrets.iter().map(|s| s["key"].as_str().unwrap().to_string()));
        token = page.get("next_page_token").and_then(Value::as_str).map(str::to_string);
        match &token {
            Some(t) => assert!(text.contains(&format!("page_token \"{t}\"")), "{text}"),
            None => break,
        }
    }
    assert_eq!(keys, ["api-key", "db-password", "k0", "k1", "k2", "k3", "k4"]);
    let (_, scopes) = h.ok("list_secret_scopes", json!({"limit": 1})).await;
    assert!(scopes.get("next_page_token").is_none(), "one scope fits one page: {scopes}");
}

#[tokio::test]
async fn alice_reads_keys_but_cannot_write_or_manage_a_scope_she_only_reads() {
    let h = Setup::new(&["secrets"]).token(ALICE_TOKEN).start().await;
    // test-scope grants `users` READ.
    let (_, listed) = h.ok("list_secrets", json!({"scope": "test-scope"})).await;
    assert_eq!(listed["secrets"].as_array().unwrap().len(), 2);
    let denied = h.err("put_secret", json!({"scope": "test-scope", "key": "mine", "string_value": VALUE})).await;
    assert!(denied.starts_with("Permission denied") && denied.contains("WRITE"), "{denied}");
    assert!(!denied.contains(VALUE), "{denied}");
    let denied = h.err("list_secret_acls", json!({"scope": "test-scope"})).await;
    assert!(denied.starts_with("Permission denied") && denied.contains("MANAGE"), "{denied}");
    let denied = h.err("delete_secret_scope", json!({"scope": "test-scope"})).await;
    assert!(denied.starts_with("Permission denied"), "{denied}");
    // Her own scope is hers.
    h.ok("create_secret_scope", json!({"scope": "alice-scope"})).await;
    h.ok("put_secret", json!({"scope": "alice-scope", "key": "token", "string_value": VALUE})).await;
    let (text, _) = h.ok("list_secret_acls", json!({"scope": "alice-scope"})).await;
    assert_eq!(text, "alice.nguyen@example.com: MANAGE");
    assert!(!h.log().contains(VALUE));
}

#[tokio::test]
async fn bad_arguments_and_unknown_scopes_are_clear_errors() {
    let h = Harness::start(&["secrets"]).await;
    let before = h.emulator.requests().len();
    let text = h.err("put_secret", json!({"scope": "test-scope", "string_value": VALUE})).await;
    assert!(text.contains("input schema") && text.contains("key"), "{text}");
    assert!(!text.contains(VALUE), "a schema error does not echo the value: {text}");
    let text =
        h.err("put_secret_acl", json!({"scope": "test-scope", "principal": "users", "permission": "OWNER"})).await;
    assert!(text.contains("OWNER"), "{text}");
    for (tool, args, expected) in [
        ("put_secret", json!({"scope": "test-scope", "key": "has space", "string_value": "v"}), "letters, digits"),
        (
            "put_secret",
            json!({"scope": "test-scope", "key": "big", "string_value": "x".repeat(128 * 1024 + 1)}),
            "at most",
        ),
        ("create_secret_scope", json!({"scope": "bad/name"}), "scope name"),
        ("create_secret_scope", json!({"scope": "ok", "initial_manage_principal": "bob"}), "put_secret_acl"),
        ("put_secret_acl", json!({"scope": "test-scope", "principal": " ", "permission": "READ"}), "principal"),
    ] {
        let text = h.err(tool, args).await;
        assert!(text.starts_with("Invalid arguments") && text.contains(expected), "{tool}: {text}");
    }
    assert_eq!(h.emulator.requests().len(), before, "nothing was sent to the workspace");
    let text = h.err("list_secrets", json!({"scope": "no-such-scope"})).await;
    assert_eq!(text, "Not found: Scope no-such-scope does not exist!");
    let text = h.err("create_secret_scope", json!({"scope": "test-scope"})).await;
    assert!(text.contains("RESOURCE_ALREADY_EXISTS"), "{text}");
}
