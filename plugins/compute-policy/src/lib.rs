//! Compute governance as MCP tools: instance pools (list, get, create, edit, delete), cluster
//! policies (list, get, create, edit, delete), policy families (list, get) and global init
//! scripts (list, get, create, update, delete).
//!
//! Edits take only what changes: the tool reads the object, applies the changes and sends the
//! whole object back, as the edit endpoints replace it. Policy definitions travel as JSON objects
//! (the API wants them as strings of JSON) and init scripts as text (the API wants base64); the
//! tools translate both ways.

mod policies;
mod pools;
mod scripts;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::serde_json::Map;

use policies::{
    create_cluster_policy, delete_cluster_policy, edit_cluster_policy, get_cluster_policy, get_policy_family,
    list_cluster_policies, list_policy_families,
};
use pools::{create_instance_pool, delete_instance_pool, edit_instance_pool, get_instance_pool, list_instance_pools};
use scripts::{
    create_global_init_script, delete_global_init_script, get_global_init_script, list_global_init_scripts,
    update_global_init_script,
};

/// What a create, edit or delete did.
#[schema]
pub struct Change {
    /// The object acted on.
    pub id: String,
    /// What was done.
    pub message: String,
}

/// Merges a tags patch (`{key: value | null}`) into `body.custom_tags`: null removes a key.
fn merge_tags(body: &mut Map<String, Value>, patch: Value) {
    let tags = body.entry("custom_tags").or_insert_with(|| Value::Object(Map::new()));
    if !tags.is_object() {
        *tags = Value::Object(Map::new());
    }
    if let (Some(tags), Value::Object(patch)) = (tags.as_object_mut(), patch) {
        for (key, value) in patch {
            if value.is_null() {
                tags.remove(&key);
            } else {
                tags.insert(key, value);
            }
        }
    }
}

databricks_mcp_sdk::plugin! {
    name: "compute-policy",
    description: "Compute governance: instance pools, cluster policies, policy families and global init scripts",
    grants: [
        "GET /api/2.0/instance-pools/list",
        "GET /api/2.0/instance-pools/get",
        "POST /api/2.0/instance-pools/create",
        "POST /api/2.0/instance-pools/edit",
        "POST /api/2.0/instance-pools/delete",
        "GET /api/2.0/policies/clusters/list",
        "GET /api/2.0/policies/clusters/get",
        "POST /api/2.0/policies/clusters/create",
        "POST /api/2.0/policies/clusters/edit",
        "POST /api/2.0/policies/clusters/delete",
        "GET /api/2.0/policy-families",
        "GET /api/2.0/policy-families/*",
        "GET /api/2.0/global-init-scripts",
        "POST /api/2.0/global-init-scripts",
        "GET /api/2.0/global-init-scripts/*",
        "PATCH /api/2.0/global-init-scripts/*",
        "DELETE /api/2.0/global-init-scripts/*",
    ],
    tools: [
        list_instance_pools,
        get_instance_pool,
        create_instance_pool,
        edit_instance_pool,
        delete_instance_pool,
        list_cluster_policies,
        get_cluster_policy,
        create_cluster_policy,
        edit_cluster_policy,
        delete_cluster_policy,
        list_policy_families,
        get_policy_family,
        list_global_init_scripts,
        get_global_init_script,
        create_global_init_script,
        update_global_init_script,
        delete_global_init_script,
    ],
}
