use databricks_emulator::{ALICE_TOKEN, SP_CLIENT_ID};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::util::{Api, ETL_NIGHTLY, SHARED, assert_error};

const REPORT: &str = "0101-000000-report01";
const ML_GPU: &str = "0101-000000-mlgpu001";

impl Api {
    async fn acl_call(&self, method: reqwest::Method, token: &str, id: &str, body: Value) -> (StatusCode, Value) {
        let url = self.url(&format!("/api/2.0/permissions/clusters/{id}"));
        crate::util::read(self.http.request(method, url).json(&body).bearer_auth(token).send().await).await
    }
}

fn denied(user: &str, verb: &str, id: &str) -> String {
    format!("User {user} does not have {verb} permissions on cluster {id}")
}

#[tokio::test]
async fn permissions_show_owner_grants_and_admins() {
    let api = Api::start().await;
    let (status, acl) = api.get(&format!("/api/2.0/permissions/clusters/{SHARED}"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{acl}");
    assert_eq!(acl["object_id"], format!("/clusters/{SHARED}"));
    assert_eq!(acl["object_type"], "cluster");
    let entries = acl["access_control_list"].as_array().expect("an acl");
    assert!(entries.contains(&json!({"user_name": "demo.user@example.com", "display_name": "Demo User",
        "all_permissions": [{"permission_level": "CAN_MANAGE", "inherited": false}]})));
    assert!(entries.contains(&json!({"group_name": "users",
        "all_permissions": [{"permission_level": "CAN_ATTACH_TO", "inherited": false}]})));
    assert!(entries.contains(&json!({"group_name": "admins", "all_permissions": [{"permission_level": "CAN_MANAGE",
        "inherited": true, "inherited_from_object": ["/clusters/"]}]})));
}

#[tokio::test]
async fn permission_levels_are_the_cluster_levels() {
    let api = Api::start().await;
    let (_, levels) = api.get(&format!("/api/2.0/permissions/clusters/{SHARED}/permissionLevels"), &[]).await;
    let names: Vec<&str> = levels["permission_levels"]
        .as_array()
        .expect("levels")
        .iter()
        .filter_map(|l| l["permission_level"].as_str())
        .collect();
    assert_eq!(names, ["CAN_ATTACH_TO", "CAN_RESTART", "CAN_MANAGE"]);
}

#[tokio::test]
async fn non_admins_need_the_level_for_each_operation() {
    let api = Api::start().await;
    let alice = "alice.nguyen@example.com";
    let get = api.get_as(ALICE_TOKEN, "/api/2.1/clusters/get", &[("cluster_id", REPORT)]).await;
    assert_error(&get, StatusCode::FORBIDDEN, "PERMISSION_DENIED", &denied(alice, "Attach", REPORT));
    let restart = api.post_as(ALICE_TOKEN, "/api/2.1/clusters/restart", json!({"cluster_id": SHARED})).await;
    assert_error(&restart, StatusCode::FORBIDDEN, "PERMISSION_DENIED", &denied(alice, "Restart", SHARED));
    let resize = api
        .post_as(ALICE_TOKEN, "/api/2.1/clusters/resize", json!({"cluster_id": ETL_NIGHTLY, "num_workers": 2}))
        .await;
    assert_error(&resize, StatusCode::FORBIDDEN, "PERMISSION_DENIED", &denied(alice, "Manage", ETL_NIGHTLY));
    // CAN_RESTART through data-engineers is enough to start.
    let start = api.post_as(ALICE_TOKEN, "/api/2.1/clusters/start", json!({"cluster_id": ETL_NIGHTLY})).await;
    assert_eq!(start.0, StatusCode::OK, "{}", start.1);
    // Her own cluster: everything.
    let pin = api.post_as(ALICE_TOKEN, "/api/2.1/clusters/pin", json!({"cluster_id": ML_GPU})).await;
    assert_eq!(pin.0, StatusCode::OK);
    // A missing cluster is still "does not exist", not a denial.
    let missing = api.get_as(ALICE_TOKEN, "/api/2.1/clusters/get", &[("cluster_id", "nope")]).await;
    assert_error(&missing, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", "Cluster nope does not exist");
}

#[tokio::test]
async fn granting_opens_a_cluster_and_replacing_closes_it() {
    let api = Api::start().await;
    let grant =
        json!({"access_control_list": [{"user_name": "alice.nguyen@example.com", "permission_level": "CAN_MANAGE"}]});
    let (status, acl) = api.acl_call(reqwest::Method::PATCH, crate::util::DEMO, REPORT, grant).await;
    assert_eq!(status, StatusCode::OK, "{acl}");
    let resize =
        api.post_as(ALICE_TOKEN, "/api/2.1/clusters/resize", json!({"cluster_id": REPORT, "num_workers": 3})).await;
    assert_eq!(resize.0, StatusCode::OK, "{}", resize.1);

    let sp_only =
        json!({"access_control_list": [{"service_principal_name": SP_CLIENT_ID, "permission_level": "CAN_RESTART"}]});
    let (status, acl) = api.acl_call(reqwest::Method::PUT, crate::util::DEMO, REPORT, sp_only).await;
    assert_eq!(status, StatusCode::OK);
    let entries = acl["access_control_list"].as_array().expect("acl");
    assert!(entries.iter().any(|e| e["service_principal_name"] == SP_CLIENT_ID));
    assert!(!entries.iter().any(|e| e["user_name"] == "alice.nguyen@example.com"), "PUT replaced alice's grant");
    let get = api.get_as(ALICE_TOKEN, "/api/2.1/clusters/get", &[("cluster_id", REPORT)]).await;
    assert_eq!(get.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn only_managers_change_permissions_and_bad_entries_are_refused() {
    let api = Api::start().await;
    let body = json!({"access_control_list": [{"group_name": "users", "permission_level": "CAN_MANAGE"}]});
    let (status, err) = api.acl_call(reqwest::Method::PATCH, ALICE_TOKEN, SHARED, body).await;
    assert_eq!((status, err["error_code"].clone()), (StatusCode::FORBIDDEN, json!("PERMISSION_DENIED")));

    for (entry, message) in [
        (
            json!({"user_name": "ghost@example.com", "permission_level": "CAN_RESTART"}),
            "Principal: UserName(ghost@example.com) does not exist",
        ),
        (
            json!({"group_name": "nobody", "permission_level": "CAN_RESTART"}),
            "Principal: GroupName(nobody) does not exist",
        ),
    ] {
        let (status, err) = api
            .acl_call(reqwest::Method::PATCH, crate::util::DEMO, SHARED, json!({"access_control_list": [entry]}))
            .await;
        assert_eq!((status, err["message"].clone()), (StatusCode::BAD_REQUEST, json!(message)));
    }
    let bad_level = json!({"access_control_list": [{"group_name": "users", "permission_level": "CAN_FLY"}]});
    let (status, err) = api.acl_call(reqwest::Method::PUT, crate::util::DEMO, SHARED, bad_level).await;
    assert_eq!((status, err["error_code"].clone()), (StatusCode::BAD_REQUEST, json!("INVALID_PARAMETER_VALUE")));
    let (status, err) = api.get("/api/2.0/permissions/clusters/nope", &[]).await;
    assert_eq!((status, err["error_code"].clone()), (StatusCode::NOT_FOUND, json!("RESOURCE_DOES_NOT_EXIST")));
}

const SALES_ETL: &str = "11111111-2222-4333-8444-000000000001";
const INVENTORY: &str = "11111111-2222-4333-8444-000000000002";

#[tokio::test]
async fn pipelines_are_viewed_run_and_managed_by_grant() {
    let api = Api::start().await;
    let alice = "alice.nguyen@example.com";
    // data-engineers (Alice) may view sales-etl, and nothing else.
    let (status, listed) = api.get_as(ALICE_TOKEN, "/api/2.0/pipelines", &[]).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let names: Vec<&str> = listed["statuses"].as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["sales-etl"]);
    let start = api.post_as(ALICE_TOKEN, &format!("/api/2.0/pipelines/{SALES_ETL}/updates"), json!({})).await;
    assert_error(
        &start,
        StatusCode::FORBIDDEN,
        "PERMISSION_DENIED",
        &format!("User {alice} does not have Run permissions on pipelines {SALES_ETL}"),
    );
    let hidden = api.get_as(ALICE_TOKEN, &format!("/api/2.0/pipelines/{INVENTORY}"), &[]).await;
    assert_eq!(hidden.0, StatusCode::FORBIDDEN, "{}", hidden.1);

    let path = format!("/api/2.0/permissions/pipelines/{SALES_ETL}");
    let url = api.url(&path);
    let body = json!({"access_control_list": [{"user_name": alice, "permission_level": "CAN_RUN"}]});
    let (status, acl) =
        crate::util::read(api.http.patch(url).json(&body).bearer_auth(databricks_emulator::DEMO_TOKEN).send().await)
            .await;
    assert_eq!(status, StatusCode::OK, "{acl}");
    assert_eq!(
        (acl["object_id"].as_str(), acl["object_type"].as_str()),
        (Some(&*format!("/pipelines/{SALES_ETL}")), Some("pipelines"))
    );
    let (status, started) =
        api.post_as(ALICE_TOKEN, &format!("/api/2.0/pipelines/{SALES_ETL}/updates"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let (_, levels) = api.get(&format!("{path}/permissionLevels"), &[]).await;
    assert_eq!(levels["permission_levels"].as_array().map(Vec::len), Some(4));
}

#[tokio::test]
async fn notebooks_and_directories_are_addressed_by_object_id() {
    let api = Api::start().await;
    let (_, shared) = api.get("/api/2.0/workspace/get-status", &[("path", "/Shared")]).await;
    let id = shared["object_id"].as_i64().expect("an object id").to_string();
    let (status, acl) = api.get(&format!("/api/2.0/permissions/directories/{id}"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{acl}");
    assert_eq!(
        (acl["object_id"].as_str(), acl["object_type"].as_str()),
        (Some(&*format!("/directories/{id}")), Some("directory"))
    );
    let wrong = api.get(&format!("/api/2.0/permissions/notebooks/{id}"), &[]).await;
    assert_eq!(wrong.0, StatusCode::BAD_REQUEST, "a folder is not a notebook: {}", wrong.1);
    let missing = api.get("/api/2.0/permissions/notebooks/999999999", &[]).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", "Notebook 999999999 does not exist.");
    let unregistered = api.get("/api/2.0/permissions/serving-endpoints/abc", &[]).await;
    assert_eq!(unregistered.0, StatusCode::NOT_FOUND, "{}", unregistered.1);
}
