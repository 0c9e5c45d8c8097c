//! Instance pools: list, get, create, edit, delete.

use std::collections::BTreeMap;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::serde_json::Map;

use crate::{Change, merge_tags};

const API: &str = "/api/2.0/instance-pools";

/// Idle and used instances of a pool.
#[schema]
#[derive(Debug, Clone, Default)]
pub struct PoolStats {
    /// Instances in use by clusters.
    #[serde(default)]
    pub used_count: i64,
    /// Instances waiting idle.
    #[serde(default)]
    pub idle_count: i64,
    /// Instances starting for clusters.
    #[serde(default)]
    pub pending_used_count: i64,
    /// Idle instances starting.
    #[serde(default)]
    pub pending_idle_count: i64,
}

/// An instance pool.
#[schema]
#[derive(Debug, Clone)]
pub struct Pool {
    /// The pool id (use it as a cluster's `instance_pool_id`).
    pub instance_pool_id: String,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_pool_name: Option<String>,
    /// The node type of its instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_type_id: Option<String>,
    /// `ACTIVE`, `STOPPED` or `DELETED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Instances kept idle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_idle_instances: Option<i64>,
    /// The most instances, idle and used (none: unbounded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_capacity: Option<i64>,
    /// Minutes an idle instance above the minimum is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_instance_autotermination_minutes: Option<i64>,
    /// Runtime versions preloaded on idle instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preloaded_spark_versions: Option<Vec<String>>,
    /// Tags on its instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_tags: Option<BTreeMap<String, String>>,
    /// Current counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<PoolStats>,
}

impl Pool {
    fn line(&self) -> String {
        let stats = self.stats.clone().unwrap_or_default();
        let max = self.max_capacity.map_or_else(|| "unbounded".to_string(), |m| format!("max {m}"));
        format!(
            "{} ({}): {}, {}, min idle {}, {max}; {} idle, {} used",
            self.instance_pool_name.as_deref().unwrap_or("(unnamed)"),
            self.instance_pool_id,
            self.state.as_deref().unwrap_or("UNKNOWN"),
            self.node_type_id.as_deref().unwrap_or("?"),
            self.min_idle_instances.unwrap_or(0),
            stats.idle_count,
            stats.used_count
        )
    }
}

/// A page of instance pools.
#[schema]
pub struct PoolList {
    /// The pools on this page, by name.
    pub instance_pools: Vec<Json<Pool>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the workspace's instance pools (ready instances that make clusters start fast), one
/// page at a time: name, id, node type, sizes and how many instances are idle or used.
#[tool(read_only, idempotent, title = "List instance pools")]
pub(crate) fn list_instance_pools(ctx: &Context, args: PageArgs) -> Result<Output<PoolList>> {
    #[databricks_mcp_sdk::schema]
    struct Raw {
        #[serde(default)]
        instance_pools: Vec<Json<Pool>>,
    }
    let raw: Raw = ctx.get(&format!("{API}/list"), &[])?;
    let page = Page::from_items(raw.instance_pools, args.limit_or(50, 200), args.page_token.as_deref())?;
    let mut lines = page.items.iter().map(|p| p.get().map(|p| p.line())).collect::<Result<Vec<_>>>()?;
    if lines.is_empty() {
        lines.push("No instance pools.".to_string());
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More instance pools: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(lines.join("\n"), PoolList { instance_pools: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one pool.
#[schema]
pub struct PoolId {
    /// The instance pool id (see `list_instance_pools`).
    pub instance_pool_id: String,
}

fn fetch(ctx: &Context, id: &str) -> Result<Json<Pool>> {
    ctx.get(&format!("{API}/get"), &[("instance_pool_id", id.to_string())])
}

/// Get one instance pool: node type, sizes, auto-termination, preloaded runtimes, tags and its
/// current idle and used counts.
#[tool(read_only, idempotent, title = "Get instance pool")]
pub(crate) fn get_instance_pool(ctx: &Context, args: PoolId) -> Result<Output<Json<Pool>>> {
    let raw = fetch(ctx, &args.instance_pool_id)?;
    let pool = raw.get()?;
    let mut lines = vec![pool.line()];
    if let Some(minutes) = pool.idle_instance_autotermination_minutes {
        lines.push(format!("Idle instances above the minimum stop after {minutes} minutes"));
    }
    if let Some(versions) = pool.preloaded_spark_versions.as_ref().filter(|v| !v.is_empty()) {
        lines.push(format!("Preloaded runtimes: {}", versions.join(", ")));
    }
    Ok(Output::new(lines.join("\n"), raw))
}

/// Settings of a pool; on edit, give only what changes.
#[schema]
#[derive(Debug, Clone, Default)]
pub struct PoolSettings {
    /// The pool's name.
    #[serde(default)]
    pub instance_pool_name: Option<String>,
    /// Instances to keep idle (default 0).
    #[serde(default)]
    pub min_idle_instances: Option<u32>,
    /// The most instances, idle and used.
    #[serde(default)]
    pub max_capacity: Option<u32>,
    /// Minutes an idle instance above the minimum is kept (default 60).
    #[serde(default)]
    pub idle_instance_autotermination_minutes: Option<u32>,
    /// Tags on the pool's instances. On edit, merged key by key; null removes a key.
    #[serde(default)]
    pub custom_tags: Option<BTreeMap<String, Option<String>>>,
    /// Runtime versions to preload on idle instances (see `list_spark_versions`).
    #[serde(default)]
    pub preloaded_spark_versions: Option<Vec<String>>,
}

impl PoolSettings {
    fn to_patch(&self) -> Map<String, Value> {
        let mut patch = Map::new();
        if let Some(name) = &self.instance_pool_name {
            patch.insert("instance_pool_name".into(), json!(name));
        }
        for (key, value) in [
            ("min_idle_instances", self.min_idle_instances),
            ("max_capacity", self.max_capacity),
            ("idle_instance_autotermination_minutes", self.idle_instance_autotermination_minutes),
        ] {
            if let Some(value) = value {
                patch.insert(key.into(), json!(value));
            }
        }
        if let Some(tags) = &self.custom_tags {
            patch.insert("custom_tags".into(), json!(tags));
        }
        if let Some(versions) = &self.preloaded_spark_versions {
            patch.insert("preloaded_spark_versions".into(), json!(versions));
        }
        patch
    }

    fn check(&self) -> Result<()> {
        if let (Some(min), Some(max)) = (self.min_idle_instances, self.max_capacity)
            && min > max
        {
            return Err(ToolError::invalid("min_idle_instances must not exceed max_capacity"));
        }
        Ok(())
    }
}

/// Arguments of `create_instance_pool`.
#[schema]
pub struct CreatePool {
    /// The node type of its instances, e.g. `i3.xlarge` (see `list_node_types`).
    pub node_type_id: String,
    /// The settings; `instance_pool_name` is required.
    #[serde(flatten)]
    pub settings: PoolSettings,
    /// Cloud settings by their API names (`aws_attributes`, `azure_attributes`,
    /// `gcp_attributes`, `disk_spec`, `enable_elastic_disk`), set as given.
    #[serde(default)]
    pub cloud: Option<Map<String, Value>>,
}

/// Create an instance pool: instances of one node type kept ready (with runtimes preloaded) so
/// clusters that use the pool start in seconds. Idle instances cost cloud money but no DBUs.
#[tool(title = "Create instance pool")]
pub(crate) fn create_instance_pool(ctx: &Context, args: CreatePool) -> Result<Output<Change>> {
    args.settings.check()?;
    let mut body = args.cloud.clone().unwrap_or_default();
    for key in body.keys() {
        if !["aws_attributes", "azure_attributes", "gcp_attributes", "disk_spec", "enable_elastic_disk"]
            .contains(&key.as_str())
        {
            return Err(ToolError::invalid(format!("cloud.{key} is not a cloud setting of instance pools")));
        }
    }
    let name = args.settings.instance_pool_name.clone().filter(|n| !n.trim().is_empty());
    let Some(name) = name else { return Err(ToolError::invalid("instance_pool_name is required")) };
    body.extend(args.settings.to_patch());
    if let Some(Value::Object(tags)) = body.get_mut("custom_tags") {
        tags.retain(|_, v| !v.is_null());
    }
    body.insert("node_type_id".into(), json!(args.node_type_id));
    #[databricks_mcp_sdk::schema]
    struct Created {
        instance_pool_id: String,
    }
    let created: Created = ctx.post(&format!("{API}/create"), &body)?;
    Ok(Output::new(
        format!("Created instance pool {name} ({}). Use it as a cluster's instance_pool_id.", created.instance_pool_id),
        Change { id: created.instance_pool_id, message: "created".into() },
    ))
}

/// Arguments of `edit_instance_pool`.
#[schema]
pub struct EditPool {
    /// The instance pool id.
    pub instance_pool_id: String,
    /// What to change; everything not given keeps its value. The node type cannot change.
    #[serde(flatten)]
    pub changes: PoolSettings,
}

/// Change an instance pool's name, sizes, idle time, tags or preloaded runtimes. Give only what
/// changes; tags merge key by key (null removes). The node type cannot change: make a new pool.
#[tool(destructive, idempotent, title = "Edit instance pool")]
pub(crate) fn edit_instance_pool(ctx: &Context, args: EditPool) -> Result<Output<Change>> {
    let changes = args.changes.to_patch();
    if changes.is_empty() {
        return Err(ToolError::invalid("nothing to change: give at least one setting besides instance_pool_id"));
    }
    let current = fetch(ctx, &args.instance_pool_id)?;
    // The API replaces the editable settings whole, so send the current ones with the changes.
    let mut body = Map::new();
    for key in [
        "instance_pool_name",
        "node_type_id",
        "min_idle_instances",
        "max_capacity",
        "idle_instance_autotermination_minutes",
        "custom_tags",
        "preloaded_spark_versions",
    ] {
        if let Some(value) = current.value().get(key) {
            body.insert(key.into(), value.clone());
        }
    }
    let changed: Vec<String> = changes.keys().cloned().collect();
    for (key, value) in changes {
        if key == "custom_tags" {
            merge_tags(&mut body, value);
        } else {
            body.insert(key, value);
        }
    }
    let min = body.get("min_idle_instances").and_then(Value::as_u64).unwrap_or(0);
    if let Some(max) = body.get("max_capacity").and_then(Value::as_u64)
        && min > max
    {
        return Err(ToolError::invalid(format!("min_idle_instances ({min}) would exceed max_capacity ({max})")));
    }
    body.insert("instance_pool_id".into(), json!(args.instance_pool_id));
    ctx.post_empty(&format!("{API}/edit"), &body)?;
    Ok(Output::new(
        format!("Edited instance pool {}: {}.", args.instance_pool_id, changed.join(", ")),
        Change { id: args.instance_pool_id, message: format!("edited {}", changed.join(", ")) },
    ))
}

/// Delete an instance pool: its idle instances are released, and clusters using it keep running
/// but cannot get new instances from it.
#[tool(destructive, title = "Delete instance pool")]
pub(crate) fn delete_instance_pool(ctx: &Context, args: PoolId) -> Result<Output<Change>> {
    ctx.post_empty(&format!("{API}/delete"), &json!({ "instance_pool_id": args.instance_pool_id }))?;
    Ok(Output::new(
        format!("Deleted instance pool {}.", args.instance_pool_id),
        Change { id: args.instance_pool_id, message: "deleted".into() },
    ))
}
