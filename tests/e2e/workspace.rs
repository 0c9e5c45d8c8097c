//! Every workspace tool, through MCP, against the emulator.

use std::collections::HashSet;

use databricks_emulator::ALICE_TOKEN;
use serde_json::{Value, json};

use crate::support::{Harness, Setup};

const WORKSPACE_TOOLS: [&str; 6] = [
    "list_workspace_objects",
    "get_workspace_object_status",
    "export_workspace_object",
    "import_workspace_object",
    "create_workspace_directory",
    "delete_workspace_object",
];

const HOME: &str = "/Users/demo.user@example.com";

async fn import_notebook(h: &Harness, path: &str, source: &str) -> Value {
    let (_, data) =
        h.ok("import_workspace_object", json!({"path": path, "content": source, "language": "PYTHON"})).await;
    data["object"].clone()
}

/// The values an enum schema allows, whether written as `enum` or as `oneOf` of `const`s.
fn enum_values(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        out.extend(values.iter().filter_map(Value::as_str).map(str::to_string));
    }
    if let Some(value) = schema.get("const").and_then(Value::as_str) {
        out.push(value.to_string());
    }
    for key in ["oneOf", "anyOf"] {
        for branch in schema.get(key).and_then(Value::as_array).into_iter().flatten() {
            out.extend(enum_values(branch));
        }
    }
    out
}

#[tokio::test]
async fn lists_every_workspace_tool_with_schemas_and_annotations() {
    let h = Harness::start(&["workspace"]).await;
    let tools = h.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, WORKSPACE_TOOLS, "deterministic order: declaration order");
    for tool in &tools {
        assert!(tool.description.as_ref().is_some_and(|d| d.len() > 40), "{} needs a real description", tool.name);
        assert_eq!(tool.input_schema.get("type"), Some(&json!("object")), "{}", tool.name);
        assert!(tool.output_schema.is_some(), "{} should declare an output schema", tool.name);
        let properties = tool.input_schema["properties"].as_object().unwrap();
        for (name, property) in properties {
            assert!(property.get("description").is_some(), "{}.{name} needs a description", tool.name);
        }
    }
    let tool = |name: &str| tools.iter().find(|t| t.name == name).unwrap();
    let hints = |name: &str| {
        let a = tool(name).annotations.clone().unwrap();
        (a.read_only_hint, a.destructive_hint)
    };
    for read_only in ["list_workspace_objects", "get_workspace_object_status", "export_workspace_object"] {
        assert_eq!(hints(read_only).0, Some(true), "{read_only}");
    }
    for destructive in ["import_workspace_object", "delete_workspace_object"] {
        assert_eq!(hints(destructive), (Some(false), Some(true)), "{destructive}");
    }
    assert_eq!(hints("create_workspace_directory"), (Some(false), Some(false)));
    let export = &tool("export_workspace_object").input_schema["properties"];
    assert_eq!(enum_values(&export["format"]), ["SOURCE", "HTML", "JUPYTER", "R_MARKDOWN"], "text formats only");
    for integer in ["max_bytes", "offset"] {
        let ty = &export[integer]["type"];
        assert!(ty == &json!("integer") || ty.as_array().is_some_and(|a| a.contains(&json!("integer"))), "{ty}");
    }
    let output = tool("export_workspace_object").output_schema.clone().unwrap();
    assert!(output["properties"].get("truncated").is_some() && output["properties"].get("next_offset").is_some());
}

#[tokio::test]
async fn lists_a_folder_one_page_at_a_time() {
    let h = Harness::start(&["workspace"]).await;
    let folder = format!("{HOME}/paging");
    h.ok("create_workspace_directory", json!({"path": folder})).await;
    for i in 0..5 {
        import_notebook(&h, &format!("{folder}/nb{i}"), &format!("print({i})")).await;
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let mut args = json!({"path": folder, "limit": 2});
        if let Some(t) = &token {
            args["page_token"] = json!(t);
        }
        let (text, data) = h.ok("list_workspace_objects", args).await;
        let page = data["objects"].as_array().unwrap();
        assert!(page.len() <= 2 && !page.is_empty(), "{text}");
        assert_eq!(data["total"], 5);
        assert_eq!(
            text.lines().filter(|l| l.starts_with("NOTEBOOK")).count(),
            page.len(),
            "one line per object: {text}"
        );
        seen.extend(page.iter().map(|o| o["path"].as_str().unwrap().to_string()));
        token = data.get("next_page_token").and_then(Value::as_str).map(str::to_string);
        match &token {
            Some(t) => assert!(text.contains(&format!("page_token \"{t}\"")), "the text says how to go on: {text}"),
            None => break,
        }
    }
    assert!(token.is_none(), "pagination ends");
    let expected: Vec<String> = (0..5).map(|i| format!("{folder}/nb{i}")).collect();
    assert_eq!(seen, expected, "every object once, in path order");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 5);
    assert_eq!(h.requests_to("GET", "/api/2.0/workspace/list").len(), 3, "one request per page");

    let (text, home) = h.ok("list_workspace_objects", json!({"path": HOME})).await;
    assert!(
        text.contains("NOTEBOOK  /Users/demo.user@example.com/ETL Pipeline  (PYTHON, id 1000000000000005"),
        "{text}"
    );
    assert!(text.contains("DIRECTORY /Users/demo.user@example.com/experiments"), "{text}");
    assert!(home.get("next_page_token").is_none());
    let (text, empty) = h.ok("list_workspace_objects", json!({"path": format!("{HOME}/experiments")})).await;
    assert_eq!(text, format!("{HOME}/experiments is empty."));
    assert_eq!(empty["objects"], json!([]));

    let text = h.err("list_workspace_objects", json!({"path": folder, "page_token": "banana"})).await;
    assert!(text.starts_with("Invalid arguments") && text.contains("page_token"), "{text}");
}

#[tokio::test]
async fn a_notebook_is_imported_exported_overwritten_and_deleted() {
    let h = Harness::start(&["workspace"]).await;
    let folder = format!("{HOME}/etl/clean");
    let (text, made) = h.ok("create_workspace_directory", json!({"path": folder})).await;
    assert_eq!(made["object"]["object_type"], "DIRECTORY", "{text}");
    let (_, again) = h.ok("create_workspace_directory", json!({"path": folder})).await;
    assert_eq!(again["object"]["object_id"], made["object"]["object_id"], "creating it again changes nothing");

    let path = format!("{folder}/dedupe");
    let source = "df = spark.table('a')\n\n# COMMAND ----------\n\ndf.dropDuplicates().write.saveAsTable('b')";
    let object = import_notebook(&h, &path, source).await;
    assert_eq!((object["object_type"].clone(), object["language"].clone()), (json!("NOTEBOOK"), json!("PYTHON")));
    let (text, status) = h.ok("get_workspace_object_status", json!({"path": path})).await;
    assert_eq!(status["object_id"], object["object_id"]);
    assert!(text.starts_with(&format!("NOTEBOOK  {path}  (PYTHON, id ")), "{text}");

    let (text, exported) = h.ok("export_workspace_object", json!({"path": path})).await;
    assert_eq!(text, format!("# Databricks notebook source\n{source}"));
    assert_eq!(exported["content"], json!(text));
    assert_eq!((exported["truncated"].clone(), exported["file_type"].clone()), (json!(false), json!("py")));
    let (_, jupyter) = h.ok("export_workspace_object", json!({"path": path, "format": "JUPYTER"})).await;
    let notebook: Value = serde_json::from_str(jupyter["content"].as_str().unwrap()).unwrap();
    assert_eq!(notebook["cells"].as_array().unwrap().len(), 2);
    let (html, _) = h.ok("export_workspace_object", json!({"path": path, "format": "HTML"})).await;
    assert!(html.contains("<html") && html.contains("dropDuplicates"), "{html}");

    let exists =
        h.err("import_workspace_object", json!({"path": path, "content": "print(2)", "language": "PYTHON"})).await;
    assert!(exists.contains("RESOURCE_ALREADY_EXISTS"), "{exists}");
    h.ok("import_workspace_object", json!({"path": path, "content": "SELECT 2", "language": "SQL", "overwrite": true}))
        .await;
    let (text, _) = h.ok("export_workspace_object", json!({"path": path})).await;
    assert_eq!(text, "-- Databricks notebook source\nSELECT 2");

    // The extension gives the language and is dropped from the notebook's name.
    let (text, sql) =
        h.ok("import_workspace_object", json!({"path": format!("{folder}/report.sql"), "content": "SELECT 1"})).await;
    assert_eq!(sql["object"]["path"], format!("{folder}/report"), "{text}");
    assert_eq!(sql["object"]["language"], "SQL");
    // A plain file, given as base64.
    let (_, file) = h
        .ok(
            "import_workspace_object",
            json!({"path": format!("{folder}/data.csv"), "content_base64": "YSxiCjEsMgo=", "format": "RAW"}),
        )
        .await;
    assert_eq!((file["object"]["object_type"].clone(), file["object"]["size"].clone()), (json!("FILE"), json!(8)));
    let (text, _) = h.ok("export_workspace_object", json!({"path": format!("{folder}/data.csv")})).await;
    assert_eq!(text, "a,b\n1,2\n");

    let text = h.err("export_workspace_object", json!({"path": folder})).await;
    assert!(text.starts_with(&format!("Invalid arguments: {folder} is a folder;")), "{text}");
    let text = h.err("delete_workspace_object", json!({"path": folder})).await;
    assert!(text.starts_with("Invalid arguments") && text.contains("recursive: true"), "{text}");
    let (text, deleted) = h.ok("delete_workspace_object", json!({"path": folder, "recursive": true})).await;
    assert_eq!(text, format!("Deleted DIRECTORY {folder} and everything in it."));
    assert_eq!(deleted["action"], "deleted");
    let sent = h.requests_to("POST", "/api/2.0/workspace/delete");
    assert_eq!(sent.len(), 2);
    assert!(sent[1].body.contains("\"recursive\":true"), "{}", sent[1].body);
    let gone = h.err("get_workspace_object_status", json!({"path": path})).await;
    assert_eq!(gone, format!("Not found: Path ({path}) doesn't exist."));
    let gone = h.err("export_workspace_object", json!({"path": path})).await;
    assert!(gone.starts_with("Not found"), "{gone}");
}

#[tokio::test]
async fn large_exports_come_in_parts_that_say_how_to_read_on() {
    let h = Harness::start(&["workspace"]).await;
    let path = format!("{HOME}/big");
    // ~150 KB with two-byte characters, so parts must not split one.
    let source: String = (0..5000).map(|i| format!("print('café {i:05}')  # ééé\n")).collect();
    import_notebook(&h, &path, &source).await;
    let (whole_text, whole) = h.ok("export_workspace_object", json!({"path": path, "max_bytes": 262_144})).await;
    assert_eq!(whole["truncated"], false);
    let total = whole["total_bytes"].as_u64().unwrap();
    assert!(total > 65_536 * 2, "{total}");
    assert_eq!(whole_text.len() as u64, total);

    let mut assembled = String::new();
    let mut offset = 0u64;
    let mut calls = 0;
    loop {
        calls += 1;
        let (text, part) = h.ok("export_workspace_object", json!({"path": path, "offset": offset})).await;
        let content = part["content"].as_str().unwrap();
        assert!(part["returned_bytes"].as_u64().unwrap() <= 65_536);
        assert_eq!(part["offset"], offset);
        assembled.push_str(content);
        if part["truncated"] == json!(true) {
            let next = part["next_offset"].as_u64().unwrap();
            let left = total - next;
            assert!(
                text.ends_with(&format!(
                    "[Truncated: bytes {offset}-{next} of {total} shown, {left} bytes left out. Call export_workspace_object again with the same path and format and offset {next} to read on (max_bytes up to 262144).]"
                )),
                "{}",
                text.chars().rev().take(300).collect::<String>().chars().rev().collect::<String>()
            );
            offset = next;
        } else {
            assert!(part.get("next_offset").is_none());
            assert!(text.ends_with(&format!("[Bytes {offset}-{total} of {total}: the end of the export.]")));
            break;
        }
    }
    assert_eq!(calls, 3);
    assert_eq!(assembled, whole_text, "the parts add up to the whole export");

    let text = h.err("export_workspace_object", json!({"path": path, "offset": total})).await;
    assert!(text.starts_with("Invalid arguments") && text.contains("past the end"), "{text}");
}

#[tokio::test]
async fn bad_arguments_are_refused_before_anything_is_written() {
    let h = Harness::start(&["workspace"]).await;
    let before = h.emulator.requests().len();
    // Schema violations never reach the plugin.
    let text = h.err("export_workspace_object", json!({"path": format!("{HOME}/ETL Pipeline"), "format": "DBC"})).await;
    assert!(text.contains("DBC"), "{text}");
    let text = h.err("list_workspace_objects", json!({"path": HOME, "limit": "ten"})).await;
    assert!(text.contains("limit") || text.contains("\"ten\""), "{text}");
    let text = h.err("delete_workspace_object", json!({})).await;
    assert!(text.contains("path"), "{text}");
    // Arguments that fit the schema but make no sense.
    let text = h.err("import_workspace_object", json!({"path": format!("{HOME}/x"), "content": "print(1)"})).await;
    assert!(text.starts_with("Invalid arguments") && text.contains("language"), "{text}");
    let text = h
        .err(
            "import_workspace_object",
            json!({"path": format!("{HOME}/x"), "content": "a", "content_base64": "YQ==", "format": "RAW"}),
        )
        .await;
    assert!(text.contains("exactly one of content"), "{text}");
    let text = h
        .err("import_workspace_object", json!({"path": format!("{HOME}/x"), "content_base64": "%%%", "format": "RAW"}))
        .await;
    assert!(text.contains("not valid base64"), "{text}");
    let text = h.err("get_workspace_object_status", json!({"path": "Users/someone"})).await;
    assert!(text.starts_with("Invalid arguments") && text.contains("absolute"), "{text}");
    assert_eq!(h.emulator.requests().len(), before, "nothing was sent to the workspace");

    let text = h
        .err(
            "import_workspace_object",
            json!({"path": format!("{HOME}/no/such/nb"), "content": "1", "language": "PYTHON"}),
        )
        .await;
    assert_eq!(text, format!("Not found: The parent folder ({HOME}/no/such) does not exist."));
}

#[tokio::test]
async fn another_users_folder_is_out_of_reach() {
    let h = Setup::new(&["workspace"]).token(ALICE_TOKEN).start().await;
    let notebook = format!("{HOME}/ETL Pipeline");
    let denied = |verb: &str, path: &str| {
        format!(
            "Permission denied: alice.nguyen@example.com does not have {verb} permissions on {path}. Please contact the owner or an administrator for access. (403 PERMISSION_DENIED)"
        )
    };
    assert_eq!(h.err("get_workspace_object_status", json!({"path": notebook})).await, denied("Read", &notebook));
    assert_eq!(h.err("export_workspace_object", json!({"path": notebook})).await, denied("Read", &notebook));
    assert_eq!(h.err("list_workspace_objects", json!({"path": HOME})).await, denied("Read", HOME));
    assert_eq!(
        h.err("delete_workspace_object", json!({"path": notebook, "recursive": true})).await,
        denied("Read", &notebook)
    );
    assert!(h.requests_to("POST", "/api/2.0/workspace/delete").is_empty(), "the delete was never sent");
    let text = h
        .err(
            "import_workspace_object",
            json!({"path": format!("{HOME}/mine"), "content": "1", "language": "PYTHON", "overwrite": true}),
        )
        .await;
    assert_eq!(text, denied("Edit", &format!("{HOME}/mine")));

    let (text, users) = h.ok("list_workspace_objects", json!({"path": "/Users"})).await;
    assert_eq!(users["objects"].as_array().unwrap().len(), 1, "only her own home folder: {text}");
    assert_eq!(users["objects"][0]["path"], "/Users/alice.nguyen@example.com");
    // Her own folder is hers.
    let (_, made) =
        h.ok("create_workspace_directory", json!({"path": "/Users/alice.nguyen@example.com/scratch"})).await;
    assert_eq!(made["object"]["object_type"], "DIRECTORY");
}
