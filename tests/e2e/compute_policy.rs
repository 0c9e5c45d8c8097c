//! Every compute-policy tool, through MCP, against the emulator (test seed: pool `general-i3`,
//! policies `Personal Compute` (family personal-vm) and `etl-standard`, init script
//! `install-monitoring-agent`).

use databricks_emulator::ALICE_TOKEN;
use serde_json::{Value, json};

use crate::support::{Harness, Setup};

const TOOLS: [&str; 17] = [
    "list_instance_pools",
    "get_instance_pool",
    "create_instance_pool",
    "edit_instance_pool",
    "delete_instance_pool",
    "list_cluster_policies",
    "get_cluster_policy",
    "create_cluster_policy",
    "edit_cluster_policy",
    "delete_cluster_policy",
    "list_policy_families",
    "get_policy_family",
    "list_global_init_scripts",
    "get_global_init_script",
    "create_global_init_script",
    "update_global_init_script",
    "delete_global_init_script",
];

const POOL: &str = "0101-000000-pool0001";
const ETL_POLICY: &str = "E7100C0FFEE00002";
const SCRIPT: &str = "1A17C0DE00000001";

#[tokio::test]
async fn lists_every_tool_with_schemas_and_annotations() {
    let h = Harness::start(&["compute-policy"]).await;
    let tools = h.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, TOOLS);
    for tool in &tools {
        assert!(tool.description.as_ref().is_some_and(|d| d.len() > 40), "{}", tool.name);
        assert!(tool.output_schema.is_some(), "{}", tool.name);
        let a = tool.annotations.clone().unwrap();
        let reads = tool.name.starts_with("list_") || tool.name.starts_with("get_");
        assert_eq!(a.read_only_hint, Some(reads), "{}", tool.name);
        if !reads {
            let destroys = ["edit_", "delete_", "update_"].iter().any(|p| tool.name.starts_with(p));
            assert_eq!(a.destructive_hint, Some(destroys), "{}", tool.name);
        }
    }
}

#[tokio::test]
async fn an_instance_pool_lives_its_whole_life_through_the_tools() {
    let h = Harness::start(&["compute-policy"]).await;
    let (text, listed) = h.ok("list_instance_pools", json!({})).await;
    assert!(
        text.contains("general-i3 (0101-000000-pool0001): ACTIVE, i3.xlarge, min idle 2, max 20; 2 idle, 0 used"),
        "{text}"
    );
    assert_eq!(listed["instance_pools"].as_array().unwrap().len(), 1);

    let (text, created) = h
        .ok(
            "create_instance_pool",
            json!({"instance_pool_name": "ml-pool", "node_type_id": "r5d.xlarge", "min_idle_instances": 1, "max_capacity": 8,
                   "custom_tags": {"team": "ml", "tmp": "x"}, "preloaded_spark_versions": ["15.4.x-cpu-ml-scala2.12"],
                   "cloud": {"aws_attributes": {"availability": "SPOT"}}}),
        )
        .await;
    assert!(text.contains("ml-pool") && text.contains("instance_pool_id"), "{text}");
    let id = created["id"].as_str().unwrap().to_string();
    let (text, pool) = h.ok("get_instance_pool", json!({"instance_pool_id": id})).await;
    assert!(text.contains("Preloaded runtimes: 15.4.x-cpu-ml-scala2.12"), "{text}");
    assert_eq!(pool["aws_attributes"], json!({"availability": "SPOT"}));

    let (text, _) = h
        .ok(
            "edit_instance_pool",
            json!({"instance_pool_id": id, "max_capacity": 16, "custom_tags": {"tmp": null, "owner": "ana"}}),
        )
        .await;
    assert!(text.contains("max_capacity") && text.contains("custom_tags"), "{text}");
    let (_, pool) = h.ok("get_instance_pool", json!({"instance_pool_id": id})).await;
    assert_eq!(pool["max_capacity"], 16);
    assert_eq!(pool["min_idle_instances"], 1, "edit keeps what it was not asked to change");
    assert_eq!(pool["instance_pool_name"], "ml-pool");
    assert_eq!(pool["custom_tags"], json!({"team": "ml", "owner": "ana"}), "tags merge; null removes");
    assert_eq!(pool["aws_attributes"], json!({"availability": "SPOT"}));

    let refused = h.err("edit_instance_pool", json!({"instance_pool_id": id, "min_idle_instances": 20})).await;
    assert!(refused.contains("would exceed max_capacity"), "{refused}");

    let (_, page) = h.ok("list_instance_pools", json!({"limit": 1})).await;
    let token = page["next_page_token"].as_str().expect("two pools, one per page").to_string();
    let (_, rest) = h.ok("list_instance_pools", json!({"limit": 1, "page_token": token})).await;
    assert_ne!(page["instance_pools"][0]["instance_pool_id"], rest["instance_pools"][0]["instance_pool_id"]);

    h.ok("delete_instance_pool", json!({"instance_pool_id": id})).await;
    let gone = h.err("get_instance_pool", json!({"instance_pool_id": id})).await;
    assert_eq!(gone, format!("Not found: Can't find an instance pool with id: {id}."));
    let bad = h.err("create_instance_pool", json!({"instance_pool_name": "x", "node_type_id": "z9.huge"})).await;
    assert!(bad.contains("z9.huge"), "{bad}");
}

#[tokio::test]
async fn cluster_policies_and_families_through_the_tools() {
    let h = Harness::start(&["compute-policy"]).await;
    let (text, families) = h.ok("list_policy_families", json!({"limit": 2})).await;
    assert_eq!(families["policy_families"].as_array().unwrap().len(), 2, "{text}");
    let token = families["next_page_token"].as_str().unwrap().to_string();
    let (_, more) = h.ok("list_policy_families", json!({"limit": 2, "page_token": token})).await;
    assert!(!more["policy_families"].as_array().unwrap().is_empty());
    let (text, family) = h.ok("get_policy_family", json!({"policy_family_id": "power-user"})).await;
    assert!(
        text.contains("Power User Compute") && text.contains("autoscale.max_workers: range max 10 default 4"),
        "{text}"
    );
    assert_eq!(family["rules"]["data_security_mode"]["value"], "SINGLE_USER");

    let (text, listed) = h.ok("list_cluster_policies", json!({})).await;
    let names: Vec<&str> = listed["policies"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["etl-standard", "Personal Compute"], "by name: {text}");
    let (text, etl) = h.ok("get_cluster_policy", json!({"policy_id": ETL_POLICY})).await;
    assert!(
        text.contains("spark_version: fixed \"15.4.x-scala2.12\"") && text.contains("At most 2 clusters per user"),
        "{text}"
    );
    assert_eq!(etl["rules"]["autotermination_minutes"]["maxValue"], 60);

    let (text, created) = h
        .ok(
            "create_cluster_policy",
            json!({"name": "small-jobs", "definition": {"num_workers": {"type": "range", "maxValue": 4}}, "description": "little ones"}),
        )
        .await;
    assert!(text.contains("small-jobs"), "{text}");
    let id = created["id"].as_str().unwrap().to_string();
    let (_, got) = h.ok("get_cluster_policy", json!({"policy_id": id})).await;
    assert_eq!(
        got["policy"]["definition"].as_str().map(|d| serde_json::from_str::<Value>(d).unwrap()),
        Some(json!({"num_workers": {"type": "range", "maxValue": 4}})),
        "the definition goes to the API as a string"
    );

    h.ok("edit_cluster_policy", json!({"policy_id": id, "max_clusters_per_user": 3})).await;
    let (_, got) = h.ok("get_cluster_policy", json!({"policy_id": id})).await;
    assert_eq!(
        (got["policy"]["max_clusters_per_user"].clone(), got["policy"]["description"].clone()),
        (json!(3), json!("little ones"))
    );
    assert_eq!(got["rules"]["num_workers"]["maxValue"], 4, "edit keeps the rules");

    let (_, derived) = h
        .ok(
            "create_cluster_policy",
            json!({"name": "ds", "policy_family_id": "shared-data-science", "policy_family_definition_overrides": {"autotermination_minutes": {"type": "fixed", "value": 30}}}),
        )
        .await;
    let (_, got) = h.ok("get_cluster_policy", json!({"policy_id": derived["id"]})).await;
    assert_eq!(got["rules"]["autotermination_minutes"], json!({"type": "fixed", "value": 30}), "overrides win");
    assert_eq!(got["rules"]["data_security_mode"]["value"], "USER_ISOLATION", "the family's rules stay");
    let (_, newest) = h.ok("list_cluster_policies", json!({"newest_first": true, "limit": 2})).await;
    let mut recent: Vec<&str> =
        newest["policies"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    recent.sort();
    assert_eq!(recent, ["ds", "small-jobs"], "the two made in this test are the newest");
    let (_, named) = h.ok("list_cluster_policies", json!({"name_contains": "SMALL"})).await;
    assert_eq!(named["policies"].as_array().unwrap().len(), 1);

    let taken = h.err("create_cluster_policy", json!({"name": "small-jobs", "definition": {}})).await;
    assert!(taken.contains("already exists"), "{taken}");
    let both =
        h.err("create_cluster_policy", json!({"name": "x", "definition": {}, "policy_family_id": "power-user"})).await;
    assert!(both.contains("not both"), "{both}");

    h.ok("delete_cluster_policy", json!({"policy_id": id})).await;
    let gone = h.err("get_cluster_policy", json!({"policy_id": id})).await;
    assert!(gone.starts_with("Not found"), "{gone}");
}

#[tokio::test]
async fn global_init_scripts_travel_as_text_and_keep_their_order() {
    let h = Harness::start(&["compute-policy"]).await;
    let (text, script) = h.ok("get_global_init_script", json!({"script_id": SCRIPT})).await;
    assert!(text.contains("#!/bin/bash") && text.contains("monitoring.example.com"), "{text}");
    assert!(script["content_base64"].as_str().unwrap().starts_with("IyEvYmluL2Jhc2g"), "base64 of #!/bin/bash");

    let content = "#!/bin/bash\necho \"hello from $DB_CLUSTER_ID\" > /tmp/hello\n";
    let (text, created) =
        h.ok("create_global_init_script", json!({"name": "hello", "content": content, "position": 0})).await;
    assert!(text.contains("disabled"), "created disabled by default: {text}");
    let id = created["id"].as_str().unwrap().to_string();
    let (text, listed) = h.ok("list_global_init_scripts", json!({})).await;
    let order: Vec<&str> = listed["scripts"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(order, ["hello", "install-monitoring-agent"], "{text}");
    let (_, got) = h.ok("get_global_init_script", json!({"script_id": id})).await;
    assert_eq!(got["content"], json!(content), "the text round-trips through base64");

    h.ok("update_global_init_script", json!({"script_id": id, "enabled": true, "position": 1})).await;
    let (_, got) = h.ok("get_global_init_script", json!({"script_id": id})).await;
    assert_eq!((got["script"]["enabled"].clone(), got["script"]["name"].clone()), (json!(true), json!("hello")));
    assert_eq!(got["content"], json!(content), "an update that does not give content keeps it");
    let (_, listed) = h.ok("list_global_init_scripts", json!({})).await;
    let order: Vec<&str> = listed["scripts"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(order, ["install-monitoring-agent", "hello"]);

    h.ok("update_global_init_script", json!({"script_id": id, "content": "#!/bin/bash\ntrue\n"})).await;
    let (_, got) = h.ok("get_global_init_script", json!({"script_id": id})).await;
    assert_eq!(got["content"], "#!/bin/bash\ntrue\n");
    let nothing = h.err("update_global_init_script", json!({"script_id": id})).await;
    assert!(nothing.contains("nothing to change"), "{nothing}");
    let huge = h.err("create_global_init_script", json!({"name": "big", "content": "x".repeat(70_000)})).await;
    assert!(huge.contains("at most 65536"), "{huge}");

    h.ok("delete_global_init_script", json!({"script_id": id})).await;
    let (_, listed) = h.ok("list_global_init_scripts", json!({})).await;
    assert_eq!(listed["scripts"][0]["position"], 0);
    assert_eq!(listed["scripts"].as_array().unwrap().len(), 1);
    let gone = h.err("get_global_init_script", json!({"script_id": id})).await;
    assert!(gone.starts_with("Not found"), "{gone}");
}

#[tokio::test]
async fn a_user_reads_pools_and_policies_but_changes_nothing_admins_own() {
    let h = Setup::new(&["compute-policy"]).token(ALICE_TOKEN).start().await;
    h.ok("get_instance_pool", json!({"instance_pool_id": POOL})).await;
    h.ok("list_cluster_policies", json!({})).await;
    let text = h.err("create_instance_pool", json!({"instance_pool_name": "mine", "node_type_id": "i3.xlarge"})).await;
    assert!(
        text.starts_with("Permission denied") && text.contains("not authorized to create instance pools"),
        "{text}"
    );
    let text = h.err("edit_instance_pool", json!({"instance_pool_id": POOL, "max_capacity": 30})).await;
    assert!(text.starts_with("Permission denied"), "{text}");
    let text = h.err("create_cluster_policy", json!({"name": "mine", "definition": {}})).await;
    assert!(text.starts_with("Permission denied") && text.contains("admins"), "{text}");
    let text = h.err("list_global_init_scripts", json!({})).await;
    assert!(text.starts_with("Permission denied"), "{text}");
}
