//! Workspace, DBFS, Files API, Repos and Secrets over HTTP.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use databricks_emulator::DEMO_TOKEN;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::util::{Api, assert_error, has_null, read};

const HOME: &str = "/Users/demo.user@example.com";

fn b64(s: &str) -> String {
    STANDARD.encode(s)
}

fn unb64(v: &Value) -> String {
    String::from_utf8(STANDARD.decode(v.as_str().expect("a base64 string")).expect("base64")).expect("utf8")
}

#[tokio::test]
async fn workspace_lists_get_status_and_empty_folders() {
    let api = Api::start().await;
    let (status, list) = api.get("/api/2.0/workspace/list", &[("path", HOME)]).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert!(!has_null(&list));
    let objects = list["objects"].as_array().expect("objects");
    let nb = objects.iter().find(|o| o["path"] == format!("{HOME}/ETL Pipeline")).expect("the ETL notebook");
    assert_eq!(nb["object_type"], "NOTEBOOK");
    assert_eq!(nb["language"], "PYTHON");
    assert!(nb["object_id"].is_i64() && nb["created_at"].is_u64());
    assert!(objects.iter().any(|o| o["language"] == "SQL"));

    let (_, empty) = api.get("/api/2.0/workspace/list", &[("path", &format!("{HOME}/experiments"))]).await;
    assert_eq!(empty, json!({}));
    let (_, dir) = api.get("/api/2.0/workspace/get-status", &[("path", "/Workspace/Shared/reports")]).await;
    assert_eq!(dir["object_type"], "DIRECTORY");
    assert_eq!(dir["path"], "/Shared/reports");

    let missing = api.get("/api/2.0/workspace/get-status", &[("path", "/Users/nobody")]).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", "Path (/Users/nobody) doesn't exist.");
}

#[tokio::test]
async fn workspace_import_export_overwrite_and_delete() {
    let api = Api::start().await;
    let path = format!("{HOME}/new/Query");
    let import = json!({"path": path, "content": b64("SELECT 1"), "format": "SOURCE", "language": "SQL"});
    let no_parent = api.post("/api/2.0/workspace/import", import.clone()).await;
    assert_eq!(no_parent.1["error_code"], "RESOURCE_DOES_NOT_EXIST");
    assert_eq!(api.post("/api/2.0/workspace/mkdirs", json!({"path": format!("{HOME}/new")})).await.0, StatusCode::OK);
    assert_eq!(api.post("/api/2.0/workspace/import", import.clone()).await, (StatusCode::OK, json!({})));
    let again = api.post("/api/2.0/workspace/import", import.clone()).await;
    assert_error(&again, StatusCode::BAD_REQUEST, "RESOURCE_ALREADY_EXISTS", &format!("Path ({path}) already exists."));
    let mut overwrite = import;
    overwrite["overwrite"] = json!(true);
    overwrite["content"] = json!(b64("SELECT 2"));
    assert_eq!(api.post("/api/2.0/workspace/import", overwrite).await.0, StatusCode::OK);

    let (_, export) = api.get("/api/2.0/workspace/export", &[("path", &path), ("format", "SOURCE")]).await;
    assert_eq!(export["file_type"], "sql");
    assert_eq!(unb64(&export["content"]), "-- Databricks notebook source\nSELECT 2");
    let raw = api
        .http
        .get(api.url("/api/2.0/workspace/export"))
        .query(&[("path", path.as_str()), ("direct_download", "true")])
        .bearer_auth(DEMO_TOKEN)
        .send()
        .await
        .expect("response");
    assert_eq!(raw.text().await.expect("body"), "-- Databricks notebook source\nSELECT 2");

    let not_empty = api.post("/api/2.0/workspace/delete", json!({"path": format!("{HOME}/new")})).await;
    assert_error(
        &not_empty,
        StatusCode::BAD_REQUEST,
        "DIRECTORY_NOT_EMPTY",
        &format!("Folder ({HOME}/new) is not empty."),
    );
    let recursive =
        api.post("/api/2.0/workspace/delete", json!({"path": format!("{HOME}/new"), "recursive": true})).await;
    assert_eq!(recursive.0, StatusCode::OK);
    assert_eq!(api.get("/api/2.0/workspace/get-status", &[("path", &path)]).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn workspace_import_takes_multipart_uploads_and_refuses_oversize_content() {
    let api = Api::start().await;
    let body = "--B\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n/Shared/data.csv\r\n\
--B\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\nAUTO\r\n\
--B\r\nContent-Disposition: form-data; name=\"content\"; filename=\"data.csv\"\r\n\r\na,b\n1,2\n\r\n--B--\r\n";
    let response = api
        .http
        .post(api.url("/api/2.0/workspace/import"))
        .header("content-type", "multipart/form-data; boundary=B")
        .body(body)
        .bearer_auth(DEMO_TOKEN)
        .send()
        .await;
    assert_eq!(read(response).await, (StatusCode::OK, json!({})));
    let (_, file) = api.get("/api/2.0/workspace/get-status", &[("path", "/Shared/data.csv")]).await;
    assert_eq!((file["object_type"].clone(), file["size"].clone()), (json!("FILE"), json!(8)));

    let big = STANDARD.encode(vec![b'x'; 10 * 1024 * 1024 + 1]);
    let (status, err) =
        api.post("/api/2.0/workspace/import", json!({"path": "/Shared/big", "content": big, "format": "RAW"})).await;
    assert_eq!((status, err["error_code"].clone()), (StatusCode::BAD_REQUEST, json!("MAX_NOTEBOOK_SIZE_EXCEEDED")));
}

#[tokio::test]
async fn dbfs_reads_writes_streams_and_moves() {
    let api = Api::start().await;
    let (_, list) = api.get("/api/2.0/dbfs/list", &[("path", "dbfs:/FileStore/tables")]).await;
    assert_eq!(list["files"][0]["path"], "/FileStore/tables/sales.csv");
    assert_eq!(list["files"][0]["is_dir"], false);
    let (_, read1) = api
        .get("/api/2.0/dbfs/read", &[("path", "/FileStore/tables/sales.csv"), ("offset", "0"), ("length", "4")])
        .await;
    assert_eq!((read1["bytes_read"].clone(), unb64(&read1["data"])), (json!(4), "date".to_owned()));
    let too_much =
        api.get("/api/2.0/dbfs/read", &[("path", "/FileStore/tables/sales.csv"), ("length", "2000000")]).await;
    assert_eq!(too_much.1["error_code"], "MAX_READ_SIZE_EXCEEDED");

    let big = STANDARD.encode(vec![0u8; 1024 * 1024 + 1]);
    let put_big = api.post("/api/2.0/dbfs/put", json!({"path": "/tmp/big", "contents": big})).await;
    assert_eq!(put_big.1["error_code"], "MAX_BLOCK_SIZE_EXCEEDED");
    assert_eq!(
        api.post("/api/2.0/dbfs/put", json!({"path": "dbfs:/tmp/a.txt", "contents": b64("hi")})).await.0,
        StatusCode::OK
    );
    let exists = api.post("/api/2.0/dbfs/put", json!({"path": "/tmp/a.txt", "contents": b64("x")})).await;
    assert_eq!(exists.1["error_code"], "RESOURCE_ALREADY_EXISTS");

    let (_, created) = api.post("/api/2.0/dbfs/create", json!({"path": "/tmp/stream/out.txt"})).await;
    let handle = created["handle"].as_i64().expect("an integer handle");
    for part in ["hello ", "world"] {
        assert_eq!(
            api.post("/api/2.0/dbfs/add-block", json!({"handle": handle, "data": b64(part)})).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(api.post("/api/2.0/dbfs/close", json!({"handle": handle})).await.0, StatusCode::OK);
    let closed = api.post("/api/2.0/dbfs/add-block", json!({"handle": handle, "data": b64("x")})).await;
    assert_eq!(closed.0, StatusCode::NOT_FOUND);

    let moved =
        api.post("/api/2.0/dbfs/move", json!({"source_path": "/tmp/stream", "destination_path": "/tmp/moved"})).await;
    assert_eq!(moved.0, StatusCode::OK);
    let (_, status) = api.get("/api/2.0/dbfs/get-status", &[("path", "/tmp/moved/out.txt")]).await;
    assert_eq!(status["file_size"], 11);
    let missing = api.get("/api/2.0/dbfs/get-status", &[("path", "/tmp/stream")]).await;
    assert_error(
        &missing,
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
        "No file or directory exists on path dbfs:/tmp/stream.",
    );
    let not_empty = api.post("/api/2.0/dbfs/delete", json!({"path": "/tmp"})).await;
    assert_eq!(not_empty.0, StatusCode::BAD_REQUEST);
    assert_eq!(api.post("/api/2.0/dbfs/delete", json!({"path": "/tmp", "recursive": true})).await.0, StatusCode::OK);
}

#[tokio::test]
async fn files_api_uploads_downloads_and_pages_directories() {
    let api = Api::start().await;
    let url = |p: &str| api.url(&format!("/api/2.0/fs/files{p}"));
    let put = api
        .http
        .put(url("/Volumes/main/default/landing/new%20dir/a%20b.bin"))
        .body(vec![1u8, 2, 3])
        .bearer_auth(DEMO_TOKEN)
        .send()
        .await
        .expect("response");
    assert_eq!(put.status(), StatusCode::NO_CONTENT);
    assert!(put.bytes().await.expect("body").is_empty());
    let again = api
        .http
        .put(url("/Volumes/main/default/landing/new%20dir/a%20b.bin"))
        .body(vec![9u8])
        .bearer_auth(DEMO_TOKEN)
        .send()
        .await;
    assert_eq!(read(again).await.1["error_code"], "ALREADY_EXISTS");

    let got = api
        .http
        .get(url("/Volumes/main/default/landing/new%20dir/a%20b.bin"))
        .bearer_auth(DEMO_TOKEN)
        .send()
        .await
        .expect("ok");
    assert_eq!(got.headers()["content-length"], "3");
    assert_eq!(got.headers()["content-type"], "application/octet-stream");
    assert!(got.headers()["last-modified"].to_str().expect("ascii").ends_with(" GMT"));
    assert_eq!(got.bytes().await.expect("body").as_ref(), &[1, 2, 3]);
    let head = api
        .http
        .head(url("/Volumes/main/default/landing/readme.txt"))
        .bearer_auth(DEMO_TOKEN)
        .send()
        .await
        .expect("ok");
    assert_eq!(head.status(), StatusCode::OK);
    let missing = api.http.get(url("/Volumes/main/default/landing/nope")).bearer_auth(DEMO_TOKEN).send().await;
    assert_eq!(read(missing).await.1["error_code"], "NOT_FOUND");

    let dirs = "/api/2.0/fs/directories/Volumes/main/default/landing";
    let (_, first) = api.get(dirs, &[("page_size", "2")]).await;
    let names: Vec<&str> =
        first["contents"].as_array().expect("contents").iter().filter_map(|e| e["name"].as_str()).collect();
    assert_eq!(names, ["new dir", "raw"]);
    assert_eq!(first["contents"][0]["is_directory"], true);
    let token = first["next_page_token"].as_str().expect("more to come");
    let (_, last) = api.get(dirs, &[("page_size", "2"), ("page_token", token)]).await;
    assert_eq!(last["contents"][0]["name"], "readme.txt");
    assert!(last["contents"][0]["file_size"].is_u64());
    assert!(last.get("next_page_token").is_none());
}

#[tokio::test]
async fn repos_page_with_next_page_token_and_appear_in_the_tree() {
    let api = Api::start().await;
    let (_, seeded) = api.get("/api/2.0/repos", &[]).await;
    assert_eq!(seeded["repos"][0]["path"], "/Repos/demo.user@example.com/analytics");
    for i in 0..20 {
        let (status, repo) = api
            .post(
                "/api/2.0/repos",
                json!({"url": format!("https://github.com/example/r{i:02}.git"), "provider": "gitHub"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{repo}");
    }
    let (_, first) = api.get("/api/2.0/repos", &[("path_prefix", "/Repos/demo.user@example.com")]).await;
    assert_eq!(first["repos"].as_array().map(Vec::len), Some(20));
    let token = first["next_page_token"].as_str().expect("a second page");
    let (_, second) = api.get("/api/2.0/repos", &[("next_page_token", token)]).await;
    assert_eq!(second["repos"].as_array().map(Vec::len), Some(1));
    assert!(second.get("next_page_token").is_none());

    let (_, created) = api
        .post("/api/2.0/repos", json!({"url": "https://github.com/x/y", "provider": "github", "path": "/Repos/team/y"}))
        .await;
    let id = created["id"].as_i64().expect("an integer id");
    assert_eq!(created["branch"], "main");
    let (_, object) = api.get("/api/2.0/workspace/get-status", &[("path", "/Repos/team/y")]).await;
    assert_eq!((object["object_type"].clone(), object["object_id"].clone()), (json!("REPO"), json!(id)));

    let repo_path = format!("/api/2.0/repos/{id}");
    let patch = api.http.patch(api.url(&repo_path)).json(&json!({"tag": "v1.0"})).bearer_auth(DEMO_TOKEN).send().await;
    assert_eq!(read(patch).await.0, StatusCode::OK);
    let (_, tagged) = api.get(&repo_path, &[]).await;
    assert!(tagged.get("branch").is_none());
    assert_ne!(tagged["head_commit_id"], created["head_commit_id"]);
    let deleted = api.http.delete(api.url(&repo_path)).bearer_auth(DEMO_TOKEN).send().await;
    assert_eq!(read(deleted).await.0, StatusCode::OK);
    assert_eq!(api.get(&repo_path, &[]).await.1["error_code"], "RESOURCE_DOES_NOT_EXIST");
    assert_eq!(api.get("/api/2.0/workspace/get-status", &[("path", "/Repos/team/y")]).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn secrets_list_metadata_get_values_and_manage_acls() {
    let api = Api::start().await;
    let (_, scopes) = api.get("/api/2.0/secrets/scopes/list", &[]).await;
    assert_eq!(scopes["scopes"], json!([{"name": "test-scope", "backend_type": "DATABRICKS"}]));
    let (_, list) = api.get("/api/2.0/secrets/list", &[("scope", "test-scope")]).await;
    let keys: Vec<&str> =
        list["secrets"].as_array().expect("secrets").iter().filter_map(|s| s["key"].as_str()).collect();
    assert_eq!(keys, ["api-key", "db-password"]);
    assert!(list.to_string().find("hunter2").is_none(), "list never carries values");
    let (_, secret) = api.get("/api/2.0/secrets/get", &[("scope", "test-scope"), ("key", "db-password")]).await;
    assert_eq!(unb64(&secret["value"]), "hunter2");

    let bad_key =
        api.post("/api/2.0/secrets/put", json!({"scope": "test-scope", "key": "a b", "string_value": "x"})).await;
    assert_eq!(bad_key.1["error_code"], "INVALID_PARAMETER_VALUE");
    let big = api
        .post(
            "/api/2.0/secrets/put",
            json!({"scope": "test-scope", "key": "big", "string_value": "x".repeat(128 * 1024 + 1)}),
        )
        .await;
    assert_eq!(big.0, StatusCode::BAD_REQUEST);
    assert_eq!(api.post("/api/2.0/secrets/scopes/create", json!({"scope": "new"})).await.0, StatusCode::OK);
    let dup = api.post("/api/2.0/secrets/scopes/create", json!({"scope": "new"})).await;
    assert_error(&dup, StatusCode::BAD_REQUEST, "RESOURCE_ALREADY_EXISTS", "Scope new already exists!");
    let put = api.post("/api/2.0/secrets/put", json!({"scope": "new", "key": "k", "bytes_value": b64("v")})).await;
    assert_eq!(put.0, StatusCode::OK);
    assert_eq!(
        api.post("/api/2.0/secrets/acls/put", json!({"scope": "new", "principal": "g", "permission": "WRITE"})).await.0,
        StatusCode::OK
    );
    let (_, acl) = api.get("/api/2.0/secrets/acls/get", &[("scope", "new"), ("principal", "g")]).await;
    assert_eq!(acl, json!({"principal": "g", "permission": "WRITE"}));
    let (_, acls) = api.get("/api/2.0/secrets/acls/list", &[("scope", "new")]).await;
    assert_eq!(acls["items"].as_array().map(Vec::len), Some(2), "creator MANAGE plus g");
    assert_eq!(api.post("/api/2.0/secrets/scopes/delete", json!({"scope": "new"})).await.0, StatusCode::OK);
    let gone = api.get("/api/2.0/secrets/list", &[("scope", "new")]).await;
    assert_error(&gone, StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", "Scope new does not exist!");
}

#[tokio::test]
async fn secret_scopes_enforce_their_acls() {
    let api = Api::start().await;
    let alice = databricks_emulator::ALICE_TOKEN;
    // test-scope grants `users` READ: Alice may list its keys but not write or manage it.
    let (status, list) = api.get_as(alice, "/api/2.0/secrets/list", &[("scope", "test-scope")]).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let put = json!({"scope": "test-scope", "key": "mine", "string_value": "x"});
    let denied = api.post_as(alice, "/api/2.0/secrets/put", put.clone()).await;
    assert_error(
        &denied,
        StatusCode::FORBIDDEN,
        "PERMISSION_DENIED",
        "User alice.nguyen@example.com does not have WRITE permission on scope test-scope.",
    );
    for (path, body) in [
        ("/api/2.0/secrets/delete", json!({"scope": "test-scope", "key": "api-key"})),
        ("/api/2.0/secrets/scopes/delete", json!({"scope": "test-scope"})),
        (
            "/api/2.0/secrets/acls/put",
            json!({"scope": "test-scope", "principal": "alice.nguyen@example.com", "permission": "MANAGE"}),
        ),
        ("/api/2.0/secrets/acls/delete", json!({"scope": "test-scope", "principal": "users"})),
    ] {
        assert_eq!(api.post_as(alice, path, body).await.1["error_code"], "PERMISSION_DENIED", "{path}");
    }
    for path in ["/api/2.0/secrets/acls/list"] {
        assert_eq!(api.get_as(alice, path, &[("scope", "test-scope")]).await.0, StatusCode::FORBIDDEN, "{path}");
    }
    // A group grant counts: data-engineers WRITE lets Alice write; the admin can do anything.
    let grant = json!({"scope": "test-scope", "principal": "data-engineers", "permission": "WRITE"});
    assert_eq!(api.post("/api/2.0/secrets/acls/put", grant).await.0, StatusCode::OK);
    assert_eq!(api.post_as(alice, "/api/2.0/secrets/put", put).await.0, StatusCode::OK);
    // Her own scope is hers to manage, and a missing scope is still 404 first.
    assert_eq!(api.post_as(alice, "/api/2.0/secrets/scopes/create", json!({"scope": "a"})).await.0, StatusCode::OK);
    assert_eq!(api.get_as(alice, "/api/2.0/secrets/acls/list", &[("scope", "a")]).await.0, StatusCode::OK);
    let missing = api.get_as(alice, "/api/2.0/secrets/list", &[("scope", "nope")]).await;
    assert_eq!(missing.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn test_seed_ids_are_fixed() {
    let api = Api::start().await;
    for (path, id) in [
        (format!("{HOME}/ETL Pipeline"), 1_000_000_000_000_005_i64),
        (format!("{HOME}/Daily Report"), 1_000_000_000_000_006),
        ("/Repos/demo.user@example.com/analytics".to_owned(), 1_000_000_000_000_011),
    ] {
        let (_, object) = api.get("/api/2.0/workspace/get-status", &[("path", &path)]).await;
        assert_eq!(object["object_id"], id, "{path}");
    }
    let (_, repo) = api.get("/api/2.0/repos/1000000000000011", &[]).await;
    assert_eq!(repo["url"], "https://github.com/example/analytics.git");
}

#[tokio::test]
async fn demo_seed_has_several_users_repos_and_scopes() {
    let api = Api::seeded(databricks_emulator::Seed::Demo).await;
    let (_, users) = api.get("/api/2.0/workspace/list", &[("path", "/Users")]).await;
    assert!(users["objects"].as_array().map_or(0, Vec::len) >= 3, "{users}");
    let (_, nb) =
        api.get("/api/2.0/workspace/export", &[("path", "/Users/alice.chen@example.com/ml/Churn Training")]).await;
    assert!(unb64(&nb["content"]).contains("mlflow.start_run"));
    let (_, repos) = api.get("/api/2.0/repos", &[]).await;
    assert_eq!(repos["repos"].as_array().map(Vec::len), Some(4));
    let (_, scopes) = api.get("/api/2.0/secrets/scopes/list", &[]).await;
    assert!(scopes["scopes"].as_array().map_or(0, Vec::len) >= 4);
}
