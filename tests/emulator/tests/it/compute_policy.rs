//! Instance pools, cluster policies, policy families and global init scripts over HTTP.

use databricks_emulator::ALICE_TOKEN;
use reqwest::StatusCode;
use serde_json::json;

use crate::util::{Api, assert_error};

const POOL: &str = "0101-000000-pool0001";

#[tokio::test]
async fn pools_are_created_edited_and_deleted_with_their_rules() {
    let api = Api::start().await;
    let (_, listed) = api.get("/api/2.0/instance-pools/list", &[]).await;
    assert_eq!(listed["instance_pools"][0]["instance_pool_id"], POOL);
    assert_eq!(listed["instance_pools"][0]["stats"]["idle_count"], 2);
    let (status, created) = api
        .post(
            "/api/2.0/instance-pools/create",
            json!({"instance_pool_name": "p", "node_type_id": "m5d.large", "max_capacity": 3}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["instance_pool_id"].as_str().expect("an id").to_owned();
    let too_small = api
        .post("/api/2.0/instance-pools/edit", json!({"instance_pool_id": id, "instance_pool_name": "p", "node_type_id": "m5d.large", "max_capacity": 1, "min_idle_instances": 2}))
        .await;
    assert_eq!(too_small.0, StatusCode::BAD_REQUEST);
    let other_type = api
        .post(
            "/api/2.0/instance-pools/edit",
            json!({"instance_pool_id": id, "instance_pool_name": "p", "node_type_id": "i3.xlarge"}),
        )
        .await;
    assert!(other_type.1["message"].as_str().unwrap_or_default().contains("cannot be changed"), "{}", other_type.1);
    assert_eq!(api.post("/api/2.0/instance-pools/delete", json!({"instance_pool_id": id})).await.0, StatusCode::OK);
    let gone = api.get("/api/2.0/instance-pools/get", &[("instance_pool_id", &id)]).await;
    assert_error(
        &gone,
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
        &format!("Can't find an instance pool with id: {id}."),
    );
    let denied = api
        .post_as(
            ALICE_TOKEN,
            "/api/2.0/instance-pools/create",
            json!({"instance_pool_name": "a", "node_type_id": "m5d.large"}),
        )
        .await;
    assert_eq!(denied.0, StatusCode::FORBIDDEN);
    let (status, acl) = api.get(&format!("/api/2.0/permissions/instance-pools/{POOL}"), &[]).await;
    assert_eq!((status, acl["object_type"].as_str()), (StatusCode::OK, Some("instance-pool")), "{acl}");
}

#[tokio::test]
async fn policies_take_definitions_as_strings_or_from_families() {
    let api = Api::start().await;
    let bad = api.post("/api/2.0/policies/clusters/create", json!({"name": "x", "definition": "not json"})).await;
    assert_eq!(bad.0, StatusCode::BAD_REQUEST);
    let (status, created) = api
        .post(
            "/api/2.0/policies/clusters/create",
            json!({"name": "fam", "policy_family_id": "job-cluster",
              "policy_family_definition_overrides": "{\"num_workers\":{\"type\":\"fixed\",\"value\":1}}"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["policy_id"].as_str().expect("an id");
    assert_eq!(id.len(), 16);
    let (_, got) = api.get("/api/2.0/policies/clusters/get", &[("policy_id", id)]).await;
    let definition: serde_json::Value =
        serde_json::from_str(got["definition"].as_str().expect("a string")).expect("json");
    assert_eq!(definition["num_workers"], json!({"type": "fixed", "value": 1}));
    assert_eq!(definition["cluster_type"]["value"], "job");
    let denied = api.post_as(ALICE_TOKEN, "/api/2.0/policies/clusters/delete", json!({"policy_id": id})).await;
    assert_eq!(denied.0, StatusCode::FORBIDDEN);
    let (_, families) = api.get("/api/2.0/policy-families", &[("max_results", "3")]).await;
    assert_eq!(families["policy_families"].as_array().map(Vec::len), Some(3));
    assert!(families["next_page_token"].is_string());
    let missing = api.get("/api/2.0/policy-families/nope", &[]).await;
    assert_eq!(missing.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn init_scripts_are_base64_admin_only_and_ordered() {
    let api = Api::start().await;
    let not_base64 = api.post("/api/2.0/global-init-scripts", json!({"name": "x", "script": "%%%"})).await;
    assert_eq!(not_base64.0, StatusCode::BAD_REQUEST);
    let (status, created) = api
        .post("/api/2.0/global-init-scripts", json!({"name": "first", "script": "ZWNobyBoaQ==", "position": 0}))
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let (_, listed) = api.get("/api/2.0/global-init-scripts", &[]).await;
    let names: Vec<&str> =
        listed["scripts"].as_array().expect("scripts").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["first", "install-monitoring-agent"]);
    assert!(listed["scripts"][0].get("script").is_none(), "lists leave the content out");
    let denied = api.get_as(ALICE_TOKEN, "/api/2.0/global-init-scripts", &[]).await;
    assert_eq!(denied.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn only_admins_change_who_may_use_a_policy() {
    let api = Api::start().await;
    let url = api.url("/api/2.0/permissions/cluster-policies/E7100C0FFEE00002");
    let call = |method: reqwest::Method, token: &'static str, body: serde_json::Value| {
        let request = api.http.request(method, &url).json(&body).bearer_auth(token);
        async move { crate::util::read(request.send().await).await }
    };
    let alice =
        json!({"access_control_list": [{"user_name": "alice.nguyen@example.com", "permission_level": "CAN_USE"}]});
    let (status, acl) = call(reqwest::Method::PATCH, databricks_emulator::DEMO_TOKEN, alice).await;
    assert_eq!((status, acl["object_type"].as_str()), (StatusCode::OK, Some("cluster-policy")), "{acl}");
    // Alice may now use the policy and read its permissions, but not share it on.
    let (status, _) = call(reqwest::Method::GET, ALICE_TOKEN, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let share = json!({"access_control_list": [{"group_name": "users", "permission_level": "CAN_USE"}]});
    let denied = call(reqwest::Method::PATCH, ALICE_TOKEN, share).await;
    assert_eq!(denied.0, StatusCode::FORBIDDEN, "{}", denied.1);
    assert!(denied.1["message"].as_str().unwrap_or_default().contains("Only workspace admins"), "{}", denied.1);
    let wrong = call(
        reqwest::Method::PATCH,
        databricks_emulator::DEMO_TOKEN,
        json!({"access_control_list": [{"group_name": "users", "permission_level": "CAN_MANAGE"}]}),
    )
    .await;
    assert_eq!(wrong.0, StatusCode::BAD_REQUEST, "CAN_USE is the only level: {}", wrong.1);
    // Deleting the policy drops its grants: the id answers 404.
    assert_eq!(
        api.post("/api/2.0/policies/clusters/delete", json!({"policy_id": "E7100C0FFEE00002"})).await.0,
        StatusCode::OK
    );
    assert_eq!(call(reqwest::Method::GET, databricks_emulator::DEMO_TOKEN, json!({})).await.0, StatusCode::NOT_FOUND);
}
