//! The workspace tree's and the repos' default folder permissions, as a non-admin meets them.

use databricks_emulator::ALICE_TOKEN;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::util::{Api, assert_error, read};

const ALICE: &str = "alice.nguyen@example.com";
const DEMO_HOME: &str = "/Users/demo.user@example.com";
const DEMO_REPO: &str = "1000000000000011";

fn denied(verb: &str, path: &str) -> String {
    format!(
        "{ALICE} does not have {verb} permissions on {path}. Please contact the owner or an administrator for access."
    )
}

fn paths(listing: &Value) -> Vec<String> {
    listing["objects"].as_array().map_or_else(Vec::new, |objects| {
        objects.iter().map(|o| o["path"].as_str().unwrap_or_default().to_owned()).collect()
    })
}

#[tokio::test]
async fn a_user_cannot_reach_another_users_home_folder() {
    let api = Api::start().await;
    let notebook = format!("{DEMO_HOME}/ETL Pipeline");
    for (path, query) in [
        ("/api/2.0/workspace/get-status", vec![("path", notebook.as_str())]),
        ("/api/2.0/workspace/export", vec![("path", notebook.as_str()), ("format", "SOURCE")]),
        ("/api/2.0/workspace/list", vec![("path", DEMO_HOME)]),
    ] {
        let target = if path.ends_with("/list") { DEMO_HOME } else { notebook.as_str() };
        assert_error(
            &api.get_as(ALICE_TOKEN, path, &query).await,
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            &denied("Read", target),
        );
    }
    // Whether or not the object exists: existence is not leaked.
    let missing = format!("{DEMO_HOME}/nope");
    let answer = api.get_as(ALICE_TOKEN, "/api/2.0/workspace/get-status", &[("path", &missing)]).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "PERMISSION_DENIED", &denied("Read", &missing));

    let import =
        json!({"path": format!("{DEMO_HOME}/x"), "format": "SOURCE", "language": "PYTHON", "content": "cHJpbnQoMSk="});
    let answer = api.post_as(ALICE_TOKEN, "/api/2.0/workspace/import", import).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "PERMISSION_DENIED", &denied("Edit", &format!("{DEMO_HOME}/x")));
    let answer = api.post_as(ALICE_TOKEN, "/api/2.0/workspace/mkdirs", json!({"path": "/Users/new-folder"})).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "PERMISSION_DENIED", &denied("Edit", "/Users/new-folder"));
    let answer =
        api.post_as(ALICE_TOKEN, "/api/2.0/workspace/delete", json!({"path": notebook, "recursive": true})).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "PERMISSION_DENIED", &denied("Manage", &notebook));
    let (status, _) = api.get("/api/2.0/workspace/get-status", &[("path", &notebook)]).await;
    assert_eq!(status, StatusCode::OK, "the notebook is still there");
}

#[tokio::test]
async fn lists_show_a_user_only_what_they_can_read() {
    let api = Api::start().await;
    let (status, users) = api.get_as(ALICE_TOKEN, "/api/2.0/workspace/list", &[("path", "/Users")]).await;
    assert_eq!(status, StatusCode::OK, "{users}");
    assert_eq!(paths(&users), [format!("/Users/{ALICE}")]);
    let (_, all) = api.get("/api/2.0/workspace/list", &[("path", "/Users")]).await;
    assert!(paths(&all).contains(&DEMO_HOME.to_owned()), "an admin sees every home folder: {all}");
    let (_, root) = api.get_as(ALICE_TOKEN, "/api/2.0/workspace/list", &[("path", "/")]).await;
    assert_eq!(paths(&root), ["/Repos", "/Shared", "/Users"]);
    // `/Shared` is everyone's.
    let import =
        json!({"path": "/Shared/alice-notes", "format": "SOURCE", "language": "SQL", "content": "U0VMRUNUIDE="});
    assert_eq!(api.post_as(ALICE_TOKEN, "/api/2.0/workspace/import", import).await.0, StatusCode::OK);
    let (_, shared) = api.get_as(ALICE_TOKEN, "/api/2.0/workspace/list", &[("path", "/Shared")]).await;
    assert!(paths(&shared).contains(&"/Shared/alice-notes".to_owned()), "{shared}");
}

#[tokio::test]
async fn repos_of_other_users_are_hidden_and_untouchable() {
    let api = Api::start().await;
    let (_, listed) = api.get_as(ALICE_TOKEN, "/api/2.0/repos", &[]).await;
    assert_eq!(listed, json!({}), "the demo user's repo is not listed for alice");
    let (_, all) = api.get("/api/2.0/repos", &[]).await;
    assert_eq!(all["repos"][0]["id"].to_string(), DEMO_REPO);

    let repo_path = "/Repos/demo.user@example.com/analytics";
    let url = format!("/api/2.0/repos/{DEMO_REPO}");
    let answer = api.get_as(ALICE_TOKEN, &url, &[]).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "PERMISSION_DENIED", &denied("Read", repo_path));
    let answer =
        read(api.http.patch(api.url(&url)).bearer_auth(ALICE_TOKEN).json(&json!({"branch": "dev"})).send().await).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "PERMISSION_DENIED", &denied("Edit", repo_path));
    let answer = read(api.http.delete(api.url(&url)).bearer_auth(ALICE_TOKEN).send().await).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "PERMISSION_DENIED", &denied("Manage", repo_path));
    let (_, repo) = api.get(&url, &[]).await;
    assert_eq!(repo["branch"], "main", "unchanged");

    let body = json!({"url": "https://github.com/example/x.git", "provider": "gitHub", "path": "/Repos/team/x"});
    let answer = api.post_as(ALICE_TOKEN, "/api/2.0/repos", body).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "PERMISSION_DENIED", &denied("Edit", "/Repos/team/x"));

    // Her own repo she lists, checks out and deletes.
    let body = json!({"url": "https://github.com/example/mine.git", "provider": "gitHub"});
    let (status, mine) = api.post_as(ALICE_TOKEN, "/api/2.0/repos", body).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let (_, listed) = api.get_as(ALICE_TOKEN, "/api/2.0/repos", &[]).await;
    assert_eq!(listed["repos"].as_array().map(Vec::len), Some(1));
    let mine_url = format!("/api/2.0/repos/{}", mine["id"]);
    let checkout =
        read(api.http.patch(api.url(&mine_url)).bearer_auth(ALICE_TOKEN).json(&json!({"branch": "dev"})).send().await)
            .await;
    assert_eq!(checkout.0, StatusCode::OK, "{}", checkout.1);
    let deleted = read(api.http.delete(api.url(&mine_url)).bearer_auth(ALICE_TOKEN).send().await).await;
    assert_eq!(deleted.0, StatusCode::OK, "{}", deleted.1);
}
