//! Objects record the principal that created them, not a fixed demo user: alice (not an admin)
//! creates one object in each family and is named as its creator.

use databricks_emulator::ALICE_TOKEN;
use reqwest::StatusCode;
use serde_json::json;

use crate::util::{Api, SHARED};

const ALICE: &str = "alice.nguyen@example.com";

#[tokio::test]
async fn alice_creates_a_job_and_runs_it() {
    let api = Api::start().await;
    let task = json!({"task_key": "t", "existing_cluster_id": SHARED,
                      "notebook_task": {"notebook_path": "/Users/alice.nguyen@example.com/nb"}});
    let (status, created) =
        api.post_as(ALICE_TOKEN, "/api/2.2/jobs/create", json!({"name": "alice-job", "tasks": [task]})).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let job_id = created["job_id"].to_string();
    let (_, job) = api.get("/api/2.2/jobs/get", &[("job_id", &job_id)]).await;
    assert_eq!((job["creator_user_name"].as_str(), job["run_as_user_name"].as_str()), (Some(ALICE), Some(ALICE)));
    let (status, run) = api.post_as(ALICE_TOKEN, "/api/2.2/jobs/run-now", json!({"job_id": created["job_id"]})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let (_, run) = api.get("/api/2.2/jobs/runs/get", &[("run_id", &run["run_id"].to_string())]).await;
    assert_eq!(run["creator_user_name"], ALICE);
    // An explicit run_as wins over the creator.
    let (_, created) = api
        .post("/api/2.2/jobs/create", json!({"name": "as-alice", "run_as": {"user_name": ALICE}, "tasks": [task]}))
        .await;
    let (_, job) = api.get("/api/2.2/jobs/get", &[("job_id", &created["job_id"].to_string())]).await;
    assert_eq!(
        (job["creator_user_name"].as_str(), job["run_as_user_name"].as_str()),
        (Some("demo.user@example.com"), Some(ALICE))
    );
}

#[tokio::test]
async fn alice_creates_a_pipeline() {
    let api = Api::start().await;
    let body = json!({"name": "alice-pipeline",
                      "libraries": [{"notebook": {"path": "/Users/alice.nguyen@example.com/dlt"}}]});
    let (status, created) = api.post_as(ALICE_TOKEN, "/api/2.0/pipelines", body).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["pipeline_id"].as_str().unwrap();
    let (_, pipeline) = api.get(&format!("/api/2.0/pipelines/{id}"), &[]).await;
    assert_eq!(pipeline["creator_user_name"], ALICE);
    assert_eq!(pipeline["run_as_user_name"], ALICE);
}

#[tokio::test]
async fn alice_has_a_home_folder_to_import_into() {
    let api = Api::start().await;
    let home = format!("/Users/{ALICE}");
    let (status, info) = api.get_as(ALICE_TOKEN, "/api/2.0/workspace/get-status", &[("path", &home)]).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["object_type"], "DIRECTORY");
    let import = json!({"path": format!("{home}/hello"), "format": "SOURCE", "language": "PYTHON",
                        "content": "cHJpbnQoMSk="});
    let (status, body) = api.post_as(ALICE_TOKEN, "/api/2.0/workspace/import", import).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, listing) = api.get_as(ALICE_TOKEN, "/api/2.0/workspace/list", &[("path", &home)]).await;
    assert_eq!(listing["objects"][0]["path"], format!("{home}/hello"));
}

#[tokio::test]
async fn alice_creates_a_repo_in_her_folder() {
    let api = Api::start().await;
    let body = json!({"url": "https://github.com/example/alice-tools.git", "provider": "gitHub"});
    let (status, repo) = api.post_as(ALICE_TOKEN, "/api/2.0/repos", body).await;
    assert_eq!(status, StatusCode::OK, "{repo}");
    assert_eq!(repo["path"], format!("/Repos/{ALICE}/alice-tools"));
}

#[tokio::test]
async fn alice_manages_the_scope_she_creates() {
    let api = Api::start().await;
    let (status, _) = api.post_as(ALICE_TOKEN, "/api/2.0/secrets/scopes/create", json!({"scope": "alice-scope"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, acls) = api.get("/api/2.0/secrets/acls/list", &[("scope", "alice-scope")]).await;
    assert_eq!(status, StatusCode::OK, "{acls}");
    assert_eq!(acls["items"], json!([{"principal": ALICE, "permission": "MANAGE"}]));
}
