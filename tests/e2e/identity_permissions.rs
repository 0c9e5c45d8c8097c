//! Every identity-permissions tool, through MCP, against the emulator (seeded directory: the
//! admin demo user, Alice and Bob in data-engineers, five more users, one service principal).

use databricks_emulator::{ALICE_TOKEN, SP_CLIENT_ID};
use serde_json::{Value, json};

use crate::support::{Harness, Setup};

const TOOLS: [&str; 12] = [
    "get_current_user",
    "list_users",
    "get_user",
    "list_groups",
    "get_group",
    "list_group_members",
    "list_service_principals",
    "get_service_principal",
    "get_object_permissions",
    "set_object_permissions",
    "update_object_permissions",
    "get_permission_levels",
];

const SHARED: &str = "0101-000000-shared01";
const ALICE: &str = "alice.nguyen@example.com";
const SALES_ETL: &str = "11111111-2222-4333-8444-000000000001";
/// The seeded instance pool.
const POOL: &str = "0101-000000-pool0001";
/// A seeded cluster policy.
const ETL_POLICY: &str = "E7100C0FFEE00002";

/// The levels of one principal in an access control list.
fn levels_of(acl: &Value, key: &str, name: &str) -> Vec<String> {
    acl["access_control_list"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e[key] == json!(name))
        .flat_map(|e| {
            e["all_permissions"].as_array().unwrap().iter().map(|p| p["permission_level"].as_str().unwrap().to_string())
        })
        .collect()
}

/// The level names of a `permission_levels` answer, weakest first.
fn level_names(levels: &Value) -> Vec<&str> {
    levels["permission_levels"].as_array().unwrap().iter().map(|l| l["permission_level"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn lists_every_tool_with_schemas_and_annotations() {
    let h = Harness::start(&["identity-permissions"]).await;
    let tools = h.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, TOOLS);
    for tool in &tools {
        assert!(tool.description.as_ref().is_some_and(|d| d.len() > 40), "{}", tool.name);
        assert!(tool.output_schema.is_some(), "{}", tool.name);
        let a = tool.annotations.clone().unwrap();
        let writes = tool.name.starts_with("set_") || tool.name.starts_with("update_");
        assert_eq!(a.read_only_hint, Some(!writes), "{}", tool.name);
    }
    let hints = |name: &str| tools.iter().find(|t| t.name == name).unwrap().annotations.clone().unwrap();
    assert_eq!(hints("set_object_permissions").destructive_hint, Some(true), "set removes what it does not list");
    assert_eq!(hints("update_object_permissions").destructive_hint, Some(false), "update only adds");
}

#[tokio::test]
async fn the_current_user_users_groups_and_service_principals() {
    let h = Harness::start(&["identity-permissions"]).await;
    let (text, me) = h.ok("get_current_user", json!({})).await;
    assert_eq!((me["user"]["userName"].clone(), me["is_admin"].clone()), (json!("demo.user@example.com"), json!(true)));
    assert!(text.contains("Demo User") && text.contains("admins") && text.contains("Workspace admin"), "{text}");

    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let mut args = json!({"limit": 3});
        if let Some(t) = &token {
            args["page_token"] = json!(t);
        }
        let (text, page) = h.ok("list_users", args).await;
        seen.extend(page["users"].as_array().unwrap().iter().map(|u| u["userName"].as_str().unwrap().to_string()));
        token = page.get("next_page_token").and_then(Value::as_str).map(str::to_string);
        if token.is_none() {
            break;
        }
        assert!(text.contains("page_token") && text.contains("7 users match"), "{text}");
    }
    assert_eq!(seen.len(), 7, "{seen:?}");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "sorted by user name");

    let (_, found) = h.ok("list_users", json!({"name_contains": "ALICE"})).await;
    assert_eq!(found["users"].as_array().unwrap().len(), 1);
    let id = found["users"][0]["id"].as_str().unwrap().to_string();
    let (text, by_name) = h.ok("get_user", json!({"user_name": ALICE})).await;
    assert_eq!(by_name["id"], json!(id));
    assert!(text.contains("data-engineers") && text.contains("workspace-access"), "{text}");
    let (_, by_id) = h.ok("get_user", json!({"id": id})).await;
    assert_eq!(by_id["userName"], json!(ALICE));

    let (text, groups) = h.ok("list_groups", json!({})).await;
    let names: Vec<&str> =
        groups["groups"].as_array().unwrap().iter().map(|g| g["displayName"].as_str().unwrap()).collect();
    assert_eq!(names, ["admins", "data-engineers", "users"], "{text}");
    let (text, group) = h.ok("get_group", json!({"name": "data-engineers"})).await;
    assert!(text.contains("3 direct members"), "{text}");
    let (text, members) = h.ok("list_group_members", json!({"name": "data-engineers", "limit": 2})).await;
    assert_eq!((members["total"].clone(), members["members"].as_array().unwrap().len()), (json!(3), 2), "{text}");
    let token = members["next_page_token"].as_str().unwrap().to_string();
    let (_, rest) = h.ok("list_group_members", json!({"id": group["id"], "limit": 2, "page_token": token})).await;
    let mut kinds: Vec<String> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["members"].as_array().unwrap())
        .map(|m| m["kind"].as_str().unwrap().to_string())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["service_principal", "user", "user"]);

    let (text, sps) = h.ok("list_service_principals", json!({"name_contains": "etl"})).await;
    assert_eq!(sps["service_principals"][0]["applicationId"], json!(SP_CLIENT_ID), "{text}");
    let (text, sp) = h.ok("get_service_principal", json!({"application_id": SP_CLIENT_ID})).await;
    assert!(text.contains("etl-service-principal") && text.contains("data-engineers"), "{text}");
    let (_, same) = h.ok("get_service_principal", json!({"id": sp["id"]})).await;
    assert_eq!(same["applicationId"], json!(SP_CLIENT_ID));
}

#[tokio::test]
async fn unknown_principals_and_bad_arguments_are_clear_errors() {
    let h = Harness::start(&["identity-permissions"]).await;
    let text = h.err("get_user", json!({"id": "999"})).await;
    assert!(text.starts_with("Not found") && text.contains("999"), "{text}");
    let text = h.err("get_user", json!({"user_name": "nobody@example.com"})).await;
    assert!(text.contains("no user named nobody@example.com"), "{text}");
    let text = h.err("get_user", json!({})).await;
    assert!(text.contains("exactly one of id or user_name"), "{text}");
    let text = h.err("get_group", json!({"name": "ghosts"})).await;
    assert!(text.contains("no group named ghosts"), "{text}");
    let text = h.err("get_object_permissions", json!({"object_type": "cluster", "path": "/Shared"})).await;
    assert!(text.contains("notebooks and directories only"), "{text}");
    let text = h.err("get_object_permissions", json!({"object_type": "rocket", "object_id": "1"})).await;
    assert!(text.contains("rocket"), "{text}");
    let text =
        h.err("get_object_permissions", json!({"object_type": "cluster", "object_id": "0000-000000-nosuch"})).await;
    assert!(text.starts_with("Not found"), "{text}");
    let text = h
        .err(
            "update_object_permissions",
            json!({"object_type": "cluster", "object_id": SHARED, "access_control_list": [{"user_name": ALICE, "group_name": "users", "permission_level": "CAN_RESTART"}]}),
        )
        .await;
    assert!(text.contains("exactly one of user_name"), "{text}");
    let text = h
        .err(
            "update_object_permissions",
            json!({"object_type": "cluster", "object_id": SHARED, "access_control_list": [{"user_name": ALICE, "permission_level": "CAN_FLY"}]}),
        )
        .await;
    assert!(text.contains("CAN_FLY") && text.contains("CAN_ATTACH_TO"), "the workspace names the valid levels: {text}");
}

#[tokio::test]
async fn permissions_are_read_added_and_replaced_on_every_kind_of_object() {
    let h = Harness::start(&["identity-permissions"]).await;
    let cluster = json!({"object_type": "cluster", "object_id": SHARED});
    let (text, acl) = h.ok("get_object_permissions", cluster.clone()).await;
    assert!(text.contains("group admins: CAN_MANAGE (inherited from /clusters/)"), "{text}");
    let (text, levels) = h.ok("get_permission_levels", cluster.clone()).await;
    assert_eq!(level_names(&levels), ["CAN_ATTACH_TO", "CAN_RESTART", "CAN_MANAGE"], "{text}");
    assert!(levels_of(&acl, "user_name", ALICE).is_empty());

    let mut add = cluster.clone();
    add["access_control_list"] = json!([{"user_name": ALICE, "permission_level": "CAN_RESTART"}, {"service_principal_name": SP_CLIENT_ID, "permission_level": "CAN_ATTACH_TO"}]);
    let (text, acl) = h.ok("update_object_permissions", add).await;
    assert_eq!(levels_of(&acl, "user_name", ALICE), ["CAN_RESTART"], "{text}");
    assert!(!levels_of(&acl, "group_name", "users").is_empty(), "update keeps the other grants");
    assert!(text.contains("service principal etl-service-principal"), "{text}");

    let mut replace = cluster.clone();
    replace["access_control_list"] = json!([{"group_name": "data-engineers", "permission_level": "CAN_MANAGE"}]);
    let (_, acl) = h.ok("set_object_permissions", replace).await;
    assert!(levels_of(&acl, "user_name", ALICE).is_empty(), "set removes unlisted grants");
    assert!(levels_of(&acl, "group_name", "users").is_empty());
    assert_eq!(levels_of(&acl, "group_name", "data-engineers"), ["CAN_MANAGE"]);

    // Pipelines, jobs and warehouses by id; folders and notebooks by path.
    let (_, pipeline) =
        h.ok("get_object_permissions", json!({"object_type": "pipeline", "object_id": SALES_ETL})).await;
    assert_eq!(levels_of(&pipeline, "group_name", "data-engineers"), ["CAN_VIEW"]);
    let (_, levels) = h.ok("get_permission_levels", json!({"object_type": "pipeline", "object_id": SALES_ETL})).await;
    assert_eq!(levels["permission_levels"].as_array().unwrap().len(), 4);
    let (_, job) = h.ok("get_object_permissions", json!({"object_type": "job", "object_id": "101"})).await;
    assert_eq!(job["object_id"], "/jobs/101");
    let (_, folder) = h
        .ok(
            "update_object_permissions",
            json!({"object_type": "directory", "path": "/Shared", "access_control_list": [{"group_name": "users", "permission_level": "CAN_EDIT"}]}),
        )
        .await;
    assert_eq!(folder["object_type"], "directory");
    assert_eq!(levels_of(&folder, "group_name", "users"), ["CAN_EDIT"]);
    let notebook = "/Users/demo.user@example.com/ETL Pipeline";
    let (text, nb) = h.ok("get_object_permissions", json!({"object_type": "notebook", "path": notebook})).await;
    assert_eq!(
        levels_of(&nb, "user_name", "demo.user@example.com"),
        ["CAN_MANAGE"],
        "the home folder's user owns it: {text}"
    );
    let text = h.err("get_object_permissions", json!({"object_type": "notebook", "path": "/Shared"})).await;
    assert!(text.contains("use object_type directory"), "{text}");
}

#[tokio::test]
async fn a_user_reads_what_they_may_and_cannot_change_what_they_do_not_manage() {
    let h = Setup::new(&["identity-permissions"]).token(ALICE_TOKEN).start().await;
    let (text, me) = h.ok("get_current_user", json!({})).await;
    assert_eq!((me["user"]["userName"].clone(), me["is_admin"].clone()), (json!(ALICE), json!(false)), "{text}");
    let (_, _) = h.ok("get_object_permissions", json!({"object_type": "pipeline", "object_id": SALES_ETL})).await;
    let text = h
        .err(
            "set_object_permissions",
            json!({"object_type": "pipeline", "object_id": SALES_ETL, "access_control_list": [{"user_name": ALICE, "permission_level": "CAN_MANAGE"}]}),
        )
        .await;
    assert!(text.starts_with("Permission denied") && text.contains(ALICE), "{text}");
}

#[tokio::test]
async fn serving_endpoints_answer_the_permissions_api_from_creation_to_deletion() {
    let h = Harness::start(&["identity-permissions", "serving"]).await;
    let (_, seeded) = h.ok("get_serving_endpoint", json!({"name": "databricks-meta-llama-3-3-70b-instruct"})).await;
    let seeded = json!({"object_type": "serving_endpoint", "object_id": seeded["id"]});
    let (text, acl) = h.ok("get_object_permissions", seeded.clone()).await;
    assert_eq!(levels_of(&acl, "group_name", "users"), ["CAN_QUERY"], "the seed shares it with everyone: {text}");
    let (_, levels) = h.ok("get_permission_levels", seeded).await;
    assert_eq!(levels["permission_levels"].as_array().unwrap().len(), 3);

    let (_, created) = h
        .ok(
            "create_serving_endpoint",
            json!({"name": "acl-canary", "served_entities": [{"entity_name": "main.default.churn_model", "entity_version": "3"}]}),
        )
        .await;
    let id = created["endpoint"]["id"].as_str().expect("the endpoint's id").to_string();
    let endpoint = json!({"object_type": "serving_endpoint", "object_id": id});
    let (text, acl) = h.ok("get_object_permissions", endpoint.clone()).await;
    assert_eq!(levels_of(&acl, "user_name", "demo.user@example.com"), ["CAN_MANAGE"], "its creator owns it: {text}");
    let mut grant = endpoint.clone();
    grant["access_control_list"] = json!([{"user_name": ALICE, "permission_level": "CAN_QUERY"}]);
    let (_, acl) = h.ok("update_object_permissions", grant).await;
    assert_eq!(levels_of(&acl, "user_name", ALICE), ["CAN_QUERY"]);

    h.ok("delete_serving_endpoint", json!({"name": "acl-canary"})).await;
    let text = h.err("get_object_permissions", endpoint).await;
    assert!(text.contains("does not exist") || text.contains("not found") || text.contains("Not found"), "{text}");
}

#[tokio::test]
async fn instance_pools_have_permissions_too() {
    let h = Harness::start(&["identity-permissions", "compute-policy"]).await;
    let (_, pool) = h.ok("get_instance_pool", json!({"instance_pool_id": POOL})).await;
    let pool = json!({"object_type": "instance_pool", "object_id": pool["instance_pool_id"]});
    let (_, levels) = h.ok("get_permission_levels", pool.clone()).await;
    assert_eq!(level_names(&levels), ["CAN_ATTACH_TO", "CAN_MANAGE"]);
    let mut grant = pool.clone();
    grant["access_control_list"] = json!([{"group_name": "data-engineers", "permission_level": "CAN_ATTACH_TO"}]);
    let (text, acl) = h.ok("update_object_permissions", grant).await;
    assert_eq!(levels_of(&acl, "group_name", "data-engineers"), ["CAN_ATTACH_TO"], "{text}");
    assert!(text.contains("instance pool"), "{text}");
    let text = h
        .err("get_object_permissions", json!({"object_type": "instance_pool", "object_id": "0101-000000-nopool"}))
        .await;
    assert!(text.contains("does not exist") || text.contains("not found") || text.contains("Not found"), "{text}");
}

#[tokio::test]
async fn cluster_policies_are_shared_by_admins() {
    let admin = Harness::start(&["identity-permissions"]).await;
    let policy = json!({"object_type": "cluster_policy", "object_id": ETL_POLICY});
    let (_, levels) = admin.ok("get_permission_levels", policy.clone()).await;
    assert_eq!(levels["permission_levels"][0]["permission_level"], "CAN_USE");
    let mut grant = policy.clone();
    grant["access_control_list"] = json!([{"user_name": ALICE, "permission_level": "CAN_USE"}]);
    let (text, acl) = admin.ok("update_object_permissions", grant.clone()).await;
    assert_eq!(levels_of(&acl, "user_name", ALICE), ["CAN_USE"], "{text}");
    assert!(text.contains("cluster policy"), "{text}");
    let text =
        admin.err("get_object_permissions", json!({"object_type": "cluster_policy", "object_id": "NOPOLICY"})).await;
    assert!(text.contains("does not exist"), "{text}");

    // A user who may not use the policy can neither see nor change who may.
    let alice = Setup::new(&["identity-permissions"]).token(ALICE_TOKEN).start().await;
    let text = alice.err("update_object_permissions", grant).await;
    assert!(text.starts_with("Permission denied"), "{text}");
}

#[tokio::test]
async fn experiments_have_permissions_too() {
    let h = Harness::start(&["identity-permissions"]).await;
    let experiment = json!({"object_type": "experiment", "object_id": "4011000000000001"});
    let (_, levels) = h.ok("get_permission_levels", experiment.clone()).await;
    assert_eq!(levels["permission_levels"].as_array().unwrap().len(), 3);
    let mut grant = experiment.clone();
    grant["access_control_list"] = json!([{"group_name": "data-engineers", "permission_level": "CAN_EDIT"}]);
    let (text, acl) = h.ok("update_object_permissions", grant).await;
    assert_eq!(acl["object_type"], "mlflowExperiment", "{text}");
    assert_eq!(levels_of(&acl, "group_name", "data-engineers"), ["CAN_EDIT"], "{text}");
    let text = h.err("get_object_permissions", json!({"object_type": "experiment", "object_id": "999"})).await;
    assert!(text.contains("does not exist"), "{text}");
}

#[tokio::test]
async fn vector_search_endpoints_have_permissions_too() {
    let h = Harness::start(&["identity-permissions", "vector-search"]).await;
    let (_, endpoint) = h.ok("get_vector_search_endpoint", json!({"name": "vs-endpoint"})).await;
    let id = endpoint["id"].as_str().unwrap_or_else(|| panic!("the endpoint's id: {endpoint}")).to_string();
    let endpoint = json!({"object_type": "vector_search_endpoint", "object_id": id});
    let (text, acl) = h.ok("get_object_permissions", endpoint.clone()).await;
    assert_eq!(levels_of(&acl, "group_name", "users"), ["CAN_USE"], "the seed lets every user use it: {text}");
    let mut grant = endpoint.clone();
    grant["access_control_list"] = json!([{"group_name": "data-engineers", "permission_level": "CAN_MANAGE"}]);
    let (_, acl) = h.ok("update_object_permissions", grant).await;
    assert_eq!(levels_of(&acl, "group_name", "data-engineers"), ["CAN_MANAGE"]);
}

#[tokio::test]
async fn genie_spaces_have_permissions_too() {
    let h = Harness::start(&["identity-permissions"]).await;
    let space = json!({"object_type": "genie_space", "object_id": "01f0a1b2c3d4e5f60718293a4b5c6d01"});
    let (_, levels) = h.ok("get_permission_levels", space.clone()).await;
    assert_eq!(levels["permission_levels"].as_array().unwrap().len(), 4);
    let mut grant = space.clone();
    grant["access_control_list"] = json!([{"user_name": ALICE, "permission_level": "CAN_RUN"}]);
    let (text, acl) = h.ok("update_object_permissions", grant).await;
    assert_eq!(levels_of(&acl, "user_name", ALICE), ["CAN_RUN"], "{text}");
    assert!(text.contains("Genie space"), "{text}");
}
