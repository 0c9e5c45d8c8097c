//! Every files tool (DBFS and volume files), through MCP, against the emulator.

use std::time::Duration;

use rmcp::model::{CallToolRequestParams, ClientRequest, Request};
use rmcp::service::PeerRequestOptions;
use serde_json::{Value, json};

use crate::support::{Harness, Setup, within};

const FILES_TOOLS: [&str; 13] = [
    "list_dbfs_directory",
    "get_dbfs_status",
    "read_dbfs_file",
    "write_dbfs_file",
    "create_dbfs_directory",
    "move_dbfs_path",
    "delete_dbfs_path",
    "list_volume_directory",
    "read_volume_file",
    "upload_volume_file",
    "delete_volume_file",
    "create_volume_directory",
    "delete_volume_directory",
];

/// The `Test` seed's DBFS CSV (emulator `dbfs::seed::SALES_CSV`).
const SALES_CSV: &str = "date,region,product,units,revenue\n\
2024-01-01,EMEA,widget,12,1440.00\n\
2024-01-01,AMER,gadget,7,2093.00\n\
2024-01-02,APAC,widget,30,3600.00\n\
2024-01-02,EMEA,gizmo,3,897.00\n";

/// The `Test` seed's volume readme (emulator `files::seed::README`).
const README: &str = "Landing zone for raw files. Drop new files under raw/.\n";
const LANDING: &str = "/Volumes/main/default/landing";

/// Standard base64 (the host's dev-dependencies have no base64 crate).
fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() { ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

#[tokio::test]
async fn lists_every_files_tool_with_schemas_and_annotations() {
    let h = Harness::start(&["files"]).await;
    let tools = h.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, FILES_TOOLS);
    for tool in &tools {
        assert!(tool.description.as_ref().is_some_and(|d| d.len() > 40), "{} needs a real description", tool.name);
        assert_eq!(tool.input_schema.get("type"), Some(&json!("object")), "{}", tool.name);
        assert!(tool.output_schema.is_some(), "{} should declare an output schema", tool.name);
        let props = tool.input_schema["properties"].as_object().unwrap();
        for (name, prop) in props {
            assert!(prop.get("description").is_some(), "{}.{name} needs a description", tool.name);
        }
    }
    let tool = |name: &str| tools.iter().find(|t| t.name == name).unwrap();
    for read_only in
        ["list_dbfs_directory", "get_dbfs_status", "read_dbfs_file", "list_volume_directory", "read_volume_file"]
    {
        assert_eq!(tool(read_only).annotations.clone().unwrap().read_only_hint, Some(true), "{read_only}");
    }
    for destructive in [
        "write_dbfs_file",
        "move_dbfs_path",
        "delete_dbfs_path",
        "upload_volume_file",
        "delete_volume_file",
        "delete_volume_directory",
    ] {
        let a = tool(destructive).annotations.clone().unwrap();
        assert_eq!((a.read_only_hint, a.destructive_hint), (Some(false), Some(true)), "{destructive}");
    }
    let mkdir = tool("create_dbfs_directory").annotations.clone().unwrap();
    assert_eq!((mkdir.destructive_hint, mkdir.idempotent_hint), (Some(false), Some(true)));
    let read = &tool("read_dbfs_file").input_schema["properties"];
    assert!(read["encoding"].to_string().contains("base64"), "{read}");
    assert!(tool("read_dbfs_file").output_schema.as_ref().unwrap()["properties"].get("next_offset").is_some());
}

#[tokio::test]
async fn dbfs_files_are_listed_read_in_windows_written_moved_and_deleted() {
    let h = Harness::start(&["files"]).await;
    let (text, listing) = h.ok("list_dbfs_directory", json!({"path": "dbfs:/FileStore/tables"})).await;
    assert_eq!(listing["files"][0]["path"], "/FileStore/tables/sales.csv", "{text}");
    assert!(text.contains("/FileStore/tables/sales.csv") && text.contains("B"), "{text}");
    let (_, root) = h.ok("list_dbfs_directory", json!({"path": "/"})).await;
    let root: Vec<&str> = root["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(root.contains(&"/FileStore") && root.contains(&"/tmp"), "{root:?}");

    let (text, status) = h.ok("get_dbfs_status", json!({"path": "/FileStore/tables/sales.csv"})).await;
    assert_eq!((status["is_dir"].clone(), status["file_size"].clone()), (json!(false), json!(SALES_CSV.len())));
    assert!(text.starts_with("/FileStore/tables/sales.csv"), "{text}");

    let (text, whole) = h.ok("read_dbfs_file", json!({"path": "/FileStore/tables/sales.csv"})).await;
    assert_eq!(whole["content"], SALES_CSV);
    assert_eq!(whole["encoding"], "text");
    assert!(whole.get("next_offset").is_none(), "nothing more to read: {whole}");
    assert!(text.ends_with(SALES_CSV), "the model reads the content itself: {text}");

    let (text, first) = h.ok("read_dbfs_file", json!({"path": "/FileStore/tables/sales.csv", "length": 34})).await;
    assert_eq!(first["content"], &SALES_CSV[..34]);
    assert_eq!(first["next_offset"], 34);
    assert!(text.contains("call again with offset 34"), "{text}");
    let (_, rest) =
        h.ok("read_dbfs_file", json!({"path": "/FileStore/tables/sales.csv", "offset": 34, "length": 1000})).await;
    assert_eq!(rest["content"], &SALES_CSV[34..]);
    let reads = h.requests_to("GET", "/api/2.0/dbfs/read");
    assert!(reads.last().unwrap().query.contains("offset=34"), "{:?}", reads.last().unwrap().query);

    // Write, refuse to overwrite, overwrite.
    let (text, written) =
        h.ok("write_dbfs_file", json!({"path": "/tmp/e2e/notes.txt", "content": "hello, DBFS\n"})).await;
    assert_eq!(written["bytes_written"], 12, "{text}");
    assert_eq!(h.requests_to("POST", "/api/2.0/dbfs/put").len(), 1, "small content goes in one put");
    let refused = h.err("write_dbfs_file", json!({"path": "/tmp/e2e/notes.txt", "content": "again"})).await;
    assert!(refused.contains("already exists"), "{refused}");
    h.ok("write_dbfs_file", json!({"path": "/tmp/e2e/notes.txt", "content": "replaced\n", "overwrite": true})).await;
    let (_, back) = h.ok("read_dbfs_file", json!({"path": "dbfs:/tmp/e2e/notes.txt"})).await;
    assert_eq!(back["content"], "replaced\n");

    // Directories, move, delete.
    let (_, dir) = h.ok("create_dbfs_directory", json!({"path": "/tmp/e2e/sub/deeper"})).await;
    assert_eq!(dir["is_dir"], true);
    h.ok("create_dbfs_directory", json!({"path": "/tmp/e2e/sub/deeper"})).await;
    let (text, moved) = h
        .ok("move_dbfs_path", json!({"source_path": "/tmp/e2e/notes.txt", "destination_path": "/tmp/e2e/sub/n.txt"}))
        .await;
    assert_eq!(moved["path"], "/tmp/e2e/sub/n.txt", "{text}");
    let gone = h.err("get_dbfs_status", json!({"path": "/tmp/e2e/notes.txt"})).await;
    assert!(gone.starts_with("Not found"), "{gone}");
    let not_empty = h.err("delete_dbfs_path", json!({"path": "/tmp/e2e"})).await;
    assert!(not_empty.contains("recursive: true"), "{not_empty}");
    let (text, deleted) = h.ok("delete_dbfs_path", json!({"path": "/tmp/e2e", "recursive": true})).await;
    assert_eq!((deleted["existed"].clone(), deleted["was_directory"].clone()), (json!(true), json!(true)), "{text}");
    let (_, tmp) = h.ok("list_dbfs_directory", json!({"path": "/tmp"})).await;
    assert!(tmp["files"].as_array().unwrap().is_empty(), "{tmp}");
    let (text, again) = h.ok("delete_dbfs_path", json!({"path": "/tmp/e2e"})).await;
    assert_eq!(again["existed"], false);
    assert!(text.contains("Nothing to delete"), "{text}");
}

#[tokio::test]
async fn large_dbfs_writes_stream_in_blocks_with_progress() {
    let h = Harness::start(&["files"]).await;
    // 2.5 MB of text: three 1 MB blocks.
    let line = "0123456789abcdefghijklmnopqrstuvwxyz,ABCDEFGHIJKLMNOPQRSTUVWXYZ,0123456789abcdefghijklmnopqrstuv\n";
    let content = line.repeat(2_621_440 / line.len());
    let (text, written) = h.ok("write_dbfs_file", json!({"path": "/tmp/big.csv", "content": content})).await;
    assert_eq!(written["bytes_written"], content.len());
    assert_eq!(written["blocks"], 3, "{text}");
    assert!(h.requests_to("POST", "/api/2.0/dbfs/put").is_empty(), "large content is streamed");
    assert_eq!(h.requests_to("POST", "/api/2.0/dbfs/create").len(), 1);
    assert_eq!(h.requests_to("POST", "/api/2.0/dbfs/add-block").len(), 3);
    assert_eq!(h.requests_to("POST", "/api/2.0/dbfs/close").len(), 1);
    let progress = h.progress.lock().unwrap().clone();
    let messages: Vec<String> = progress.iter().filter_map(|p| p.message.clone()).collect();
    assert!(messages.iter().any(|m| m.contains("block 1/3")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("block 3/3")), "{messages:?}");
    assert!(progress.windows(2).all(|w| w[0].progress <= w[1].progress), "progress only grows");

    let (_, status) = h.ok("get_dbfs_status", json!({"path": "/tmp/big.csv"})).await;
    assert_eq!(status["file_size"], content.len());
    // Read across the block boundary at 1 MB.
    let offset = 1024 * 1024 - 100;
    let (_, chunk) = h.ok("read_dbfs_file", json!({"path": "/tmp/big.csv", "offset": offset, "length": 262_144})).await;
    assert_eq!(chunk["content"].as_str().unwrap(), &content[offset..offset + 262_144]);
    assert_eq!(chunk["next_offset"], offset + 262_144);
    // Reads are capped, whatever length is asked for.
    let (_, capped) = h.ok("read_dbfs_file", json!({"path": "/tmp/big.csv", "length": 5_000_000})).await;
    assert_eq!(capped["bytes_read"], 262_144);
}

#[tokio::test]
async fn binary_content_crosses_as_base64() {
    let h = Harness::start(&["files"]).await;
    let bytes: Vec<u8> = (0..=255u8).rev().collect();
    h.ok("write_dbfs_file", json!({"path": "/tmp/blob.bin", "content": b64(&bytes), "encoding": "base64"})).await;
    let (text, read) = h.ok("read_dbfs_file", json!({"path": "/tmp/blob.bin"})).await;
    assert_eq!(read["encoding"], "base64", "binary falls back to base64: {text}");
    assert_eq!(read["content"], b64(&bytes));
    assert!(text.contains("(256 B, base64)"), "{text}");
    let (_, window) =
        h.ok("read_dbfs_file", json!({"path": "/tmp/blob.bin", "offset": 250, "encoding": "base64"})).await;
    assert_eq!(window["content"], b64(&bytes[250..]));
    // Text asked for as base64 comes back as base64.
    let (_, csv) =
        h.ok("read_dbfs_file", json!({"path": "/FileStore/tables/sales.csv", "length": 4, "encoding": "base64"})).await;
    assert_eq!(csv["content"], b64(b"date"));
    // Volume files too.
    let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0xff];
    h.ok(
        "upload_volume_file",
        json!({"path": format!("{LANDING}/img/logo.png"), "content": b64(&png), "encoding": "base64"}),
    )
    .await;
    let (_, read) = h.ok("read_volume_file", json!({"path": format!("{LANDING}/img/logo.png")})).await;
    assert_eq!((read["encoding"].clone(), read["content"].clone()), (json!("base64"), json!(b64(&png))));
    let put = h.requests_to("PUT", "/api/2.0/fs/files/Volumes/main/default/landing/img/logo.png");
    assert_eq!(put.len(), 1);
    assert!(put[0].headers.iter().any(|(k, v)| k == "content-type" && v == "application/octet-stream"));
}

#[tokio::test]
async fn dbfs_directories_are_listed_one_page_at_a_time() {
    let h = Harness::start(&["files"]).await;
    for i in 0..5 {
        h.ok("write_dbfs_file", json!({"path": format!("/tmp/paging/f{i}.txt"), "content": format!("{i}")})).await;
    }
    h.ok("create_dbfs_directory", json!({"path": "/tmp/paging/zdir"})).await;
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let mut args = json!({"path": "/tmp/paging", "limit": 2});
        if let Some(t) = &token {
            args["page_token"] = json!(t);
        }
        let (text, page) = h.ok("list_dbfs_directory", args).await;
        assert_eq!(page["total"], 6);
        let files = page["files"].as_array().unwrap();
        assert!(files.len() <= 2);
        seen.extend(files.iter().map(|f| f["path"].as_str().unwrap().to_string()));
        token = page.get("next_page_token").and_then(Value::as_str).map(str::to_string);
        if token.is_none() {
            break;
        }
        assert!(text.contains("page_token"), "{text}");
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
    assert_eq!(seen[0], "/tmp/paging/zdir", "directories first");
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 6);
    let bad = h.err("list_dbfs_directory", json!({"path": "/tmp/paging", "page_token": "nonsense"})).await;
    assert!(bad.contains("page_token"), "{bad}");
}

#[tokio::test]
async fn cancelling_a_streamed_write_deletes_the_new_file() {
    let h = Harness::start(&["files"]).await;
    h.emulator.inject(databricks_emulator::Fault {
        method: Some("POST".into()),
        path: "/api/2.0/dbfs/add-block".into(),
        kind: databricks_emulator::FaultKind::Delay(Duration::from_secs(20)),
        count: 1,
    });
    let content = "x".repeat(1024 * 1024 + 10);
    let params = CallToolRequestParams::new("write_dbfs_file")
        .with_arguments(json!({"path": "/tmp/cancelled.txt", "content": content}).as_object().unwrap().clone());
    let handle = h
        .client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(params)),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    within(Duration::from_secs(20), "the upload to start", async {
        while h.requests_to("POST", "/api/2.0/dbfs/create").is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(h.requests_to("POST", "/api/2.0/dbfs/delete").is_empty(), "nothing deleted while the call runs");
    handle.cancel(Some("test".into())).await.unwrap();
    within(Duration::from_secs(10), "the compensation", async {
        while h.requests_to("POST", "/api/2.0/dbfs/delete").is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let sent = h.requests_to("POST", "/api/2.0/dbfs/delete");
    assert!(sent[0].body.contains("/tmp/cancelled.txt"), "{}", sent[0].body);
    assert!(h.requests_to("POST", "/api/2.0/dbfs/close").is_empty(), "the partial upload was never committed");
    let gone = h.err("get_dbfs_status", json!({"path": "/tmp/cancelled.txt"})).await;
    assert!(gone.starts_with("Not found"), "{gone}");
}

#[tokio::test]
async fn volume_files_are_listed_read_uploaded_and_deleted() {
    let h = Harness::start(&["files"]).await;
    let (text, listing) = h.ok("list_volume_directory", json!({"path": LANDING})).await;
    let paths: Vec<&str> =
        listing["contents"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(paths, [format!("{LANDING}/raw"), format!("{LANDING}/readme.txt")], "{text}");
    assert!(text.contains(&format!("{LANDING}/raw/  (directory)")), "{text}");

    let (text, readme) = h.ok("read_volume_file", json!({"path": format!("{LANDING}/readme.txt")})).await;
    assert_eq!(readme["content"], README);
    assert!(text.ends_with(README), "{text}");
    let (text, part) =
        h.ok("read_volume_file", json!({"path": format!("{LANDING}/readme.txt"), "offset": 8, "length": 4})).await;
    assert_eq!(part["content"], "zone");
    assert_eq!(part["next_offset"], 12);
    assert!(text.contains("offset 12"), "{text}");

    // A name that needs escaping on the wire.
    let path = format!("{LANDING}/uploads/Q1 report (final).csv");
    let (text, written) = h.ok("upload_volume_file", json!({"path": path, "content": "a,b\n1,2\n"})).await;
    assert_eq!(written["bytes_written"], 8, "{text}");
    let put = h.emulator.requests().into_iter().rfind(|r| r.method == "PUT").unwrap();
    assert_eq!(put.path, "/api/2.0/fs/files/Volumes/main/default/landing/uploads/Q1%20report%20%28final%29.csv");
    assert_eq!(put.query, "overwrite=false");
    let (_, back) = h.ok("read_volume_file", json!({"path": path})).await;
    assert_eq!(back["content"], "a,b\n1,2\n");
    let refused = h.err("upload_volume_file", json!({"path": path, "content": "x"})).await;
    assert!(refused.contains("overwrite: true"), "{refused}");
    h.ok("upload_volume_file", json!({"path": path, "content": "x", "overwrite": true})).await;
    let (_, back) = h.ok("read_volume_file", json!({"path": path})).await;
    assert_eq!(back["content"], "x");

    let (_, dir) = h.ok("create_volume_directory", json!({"path": format!("{LANDING}/empty/inner")})).await;
    assert_eq!(dir["path"], format!("{LANDING}/empty/inner"));
    let (_, listing) = h.ok("list_volume_directory", json!({"path": format!("{LANDING}/empty")})).await;
    assert_eq!(listing["contents"][0]["is_directory"], true);
    let not_empty = h.err("delete_volume_directory", json!({"path": format!("{LANDING}/empty")})).await;
    assert!(not_empty.contains("not empty"), "{not_empty}");
    h.ok("delete_volume_directory", json!({"path": format!("{LANDING}/empty/inner")})).await;
    let (text, deleted) = h.ok("delete_volume_directory", json!({"path": format!("{LANDING}/empty")})).await;
    assert_eq!(deleted["existed"], true, "{text}");

    let (text, deleted) = h.ok("delete_volume_file", json!({"path": path})).await;
    assert_eq!(deleted["existed"], true, "{text}");
    let missing = h.err("read_volume_file", json!({"path": path})).await;
    assert!(missing.starts_with("Not found") && missing.contains(&path), "{missing}");
    let (text, again) = h.ok("delete_volume_file", json!({"path": path})).await;
    assert_eq!(again["existed"], false);
    assert!(text.contains("Nothing to delete"), "{text}");
    let missing_dir = h.err("list_volume_directory", json!({"path": format!("{LANDING}/nope")})).await;
    assert!(missing_dir.starts_with("Not found"), "{missing_dir}");
}

#[tokio::test]
async fn volume_directories_are_listed_one_page_at_a_time() {
    let h = Harness::start(&["files"]).await;
    for i in 0..5 {
        h.ok("upload_volume_file", json!({"path": format!("{LANDING}/many/f{i}.txt"), "content": "1"})).await;
    }
    let (text, first) = h.ok("list_volume_directory", json!({"path": format!("{LANDING}/many"), "limit": 2})).await;
    assert_eq!(first["contents"].as_array().unwrap().len(), 2);
    let token = first["next_page_token"].as_str().expect("more than one page").to_string();
    assert!(text.contains(&token), "{text}");
    let list = h.requests_to("GET", "/api/2.0/fs/directories/Volumes/main/default/landing/many");
    assert!(list[0].query.contains("page_size=2"), "the service pages: {}", list[0].query);
    let mut seen: Vec<String> =
        first["contents"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap().to_string()).collect();
    let mut token = Some(token);
    while let Some(t) = token {
        let (_, page) = h
            .ok("list_volume_directory", json!({"path": format!("{LANDING}/many"), "limit": 2, "page_token": t}))
            .await;
        seen.extend(page["contents"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap().to_string()));
        token = page.get("next_page_token").and_then(Value::as_str).map(str::to_string);
    }
    assert_eq!(seen, ["f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt"]);
}

#[tokio::test]
async fn bad_arguments_are_refused_before_anything_is_sent() {
    let h = Harness::start(&["files"]).await;
    let before = h.emulator.requests().len();
    // Schema violations: the host refuses them.
    let text = h.err("read_dbfs_file", json!({})).await;
    assert!(text.contains("input schema") && text.contains("path"), "{text}");
    let text = h.err("read_dbfs_file", json!({"path": "/x", "encoding": "hex"})).await;
    assert!(text.contains("hex"), "{text}");
    let text = h.err("read_volume_file", json!({"path": "/x", "length": -1})).await;
    assert!(text.contains("length") || text.contains("-1"), "{text}");
    // Semantic nonsense: the plugin refuses it and says what to do.
    for (tool, args, expected) in [
        ("read_dbfs_file", json!({"path": "tables/sales.csv"}), "must be absolute"),
        ("list_dbfs_directory", json!({"path": "/Volumes/main/default/landing"}), "*_volume_* tools"),
        ("list_volume_directory", json!({"path": "/FileStore"}), "*_dbfs_* tools"),
        ("list_volume_directory", json!({"path": "/Volumes/main/default"}), "does not name a volume"),
        ("read_volume_file", json!({"path": LANDING}), "not a file"),
        ("upload_volume_file", json!({"path": format!("{LANDING}/../x"), "content": "x"}), "`..`"),
        ("write_dbfs_file", json!({"path": "/tmp/x", "content": "%%%", "encoding": "base64"}), "not valid base64"),
        ("move_dbfs_path", json!({"source_path": "/tmp/a", "destination_path": "/tmp/a/b"}), "into itself"),
        ("delete_dbfs_path", json!({"path": "dbfs:/"}), "root"),
    ] {
        let text = h.err(tool, args).await;
        assert!(text.starts_with("Invalid arguments"), "{tool}: {text}");
        assert!(text.contains(expected), "{tool}: {text}");
    }
    assert_eq!(h.emulator.requests().len(), before, "nothing was sent to the workspace");
    let text = h.err("read_dbfs_file", json!({"path": "/FileStore/tables/sales.csv", "offset": 10_000})).await;
    assert!(text.contains("past the end"), "{text}");
    let text = h.err("read_dbfs_file", json!({"path": "/FileStore/tables"})).await;
    assert!(text.contains("is a directory") && text.contains("list_dbfs_directory"), "{text}");
    let text = h.err("read_dbfs_file", json!({"path": "/FileStore/tables/nope.csv"})).await;
    assert!(text.starts_with("Not found"), "{text}");
}

#[tokio::test]
async fn a_refused_credential_is_a_permission_error() {
    // DBFS and volume files have no per-user permissions in the emulator (volumes have no Unity
    // Catalog privileges there); the workspace refusing the caller is the permission error a
    // files tool meets.
    let h = Setup::new(&["files"]).token("dapi-not-a-valid-token").start().await;
    for (tool, args) in [
        ("list_dbfs_directory", json!({"path": "/"})),
        ("read_volume_file", json!({"path": format!("{LANDING}/readme.txt")})),
    ] {
        let text = h.err(tool, args).await;
        assert!(text.starts_with("Permission denied") && text.contains("401"), "{tool}: {text}");
    }
}

#[tokio::test]
async fn a_volume_file_larger_than_a_response_may_be_is_a_clear_failure() {
    let h = Setup::new(&["files"]).config("[plugins.files.limits]\nmax_response_mib = 1").start().await;
    let path = format!("{LANDING}/big.txt");
    h.ok("upload_volume_file", json!({"path": path, "content": "y".repeat(1024 * 1024 + 1)})).await;
    let text = h.err("read_volume_file", json!({"path": path, "length": 10})).await;
    assert!(text.starts_with("Failed") && text.contains("cannot read this one"), "{text}");
    // DBFS reads are ranged by the service, so a big DBFS file reads fine in windows.
    h.ok("write_dbfs_file", json!({"path": "/tmp/big.txt", "content": "y".repeat(1024 * 1024 + 1)})).await;
    let (_, end) = h.ok("read_dbfs_file", json!({"path": "/tmp/big.txt", "offset": 1024 * 1024})).await;
    assert_eq!(end["content"], "y");
}
