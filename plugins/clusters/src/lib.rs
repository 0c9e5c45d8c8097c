//! Databricks clusters as MCP tools: list, inspect, create, edit, start, restart, resize,
//! terminate, delete, pin, events, node types, runtime versions, and waiting for a state.
//!
//! Names follow `verb_noun` as users of other Databricks MCP servers know them. Lists take
//! `limit` and `page_token` and return one page at a time.

mod content;
mod model;
mod spec;

use std::time::Duration;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request};

use content::{cluster_config, review_cluster_costs};
use databricks_mcp_sdk::format_time;
use model::{Autoscale, Cluster, ClusterState};
use spec::{ClusterSpec, EDITABLE_FIELDS, merge};

const API: &str = "/api/2.1/clusters";

fn path(endpoint: &str) -> String {
    format!("{API}/{endpoint}")
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Arguments of `list_clusters`.
#[schema]
pub struct ListClusters {
    /// Only clusters in these states, e.g. `["RUNNING"]`.
    #[serde(default)]
    pub states: Vec<ClusterState>,
    /// Only clusters created this way: `UI`, `API`, `JOB`, `MODELS`, `PIPELINE`, `PIPELINE_MAINTENANCE`, `SQL`.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Only pinned clusters.
    #[serde(default)]
    pub pinned_only: bool,
    /// Only clusters governed by this cluster policy.
    #[serde(default)]
    pub policy_id: Option<String>,
    /// How many clusters to return, 1-100 (default 20).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call, to get the next page.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of clusters.
#[schema]
pub struct ClusterList {
    /// The clusters on this page, as the workspace returned them.
    pub clusters: Vec<Json<Cluster>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the workspace's clusters (active, pinned, and terminated in the last 30 days), one page
/// at a time, optionally filtered by state, source, pin or policy. Each line shows name, id,
/// state, size, runtime and node type.
#[tool(read_only, idempotent, title = "List clusters")]
fn list_clusters(ctx: &Context, args: ListClusters) -> Result<Output<ClusterList>> {
    let mut request = Request::new(Method::Get, path("list"));
    for state in &args.states {
        request = request.query("filter_by.cluster_states", state.as_str());
    }
    for source in &args.sources {
        request = request.query("filter_by.cluster_sources", source);
    }
    if args.pinned_only {
        request = request.query("filter_by.is_pinned", true);
    }
    request = request.query_opt("filter_by.policy_id", args.policy_id.as_deref());
    let limit = args.limit.unwrap_or(20).clamp(1, 100);
    let page = ctx.page::<Json<Cluster>>(
        request,
        "clusters",
        Paging::QueryToken { size_param: "page_size" },
        limit,
        args.page_token.as_deref(),
    )?;
    let mut text = if page.items.is_empty() {
        "No clusters match.".to_string()
    } else {
        page.items.iter().map(|c| c.get().map(|c| c.line())).collect::<Result<Vec<_>>>()?.join("\n")
    };
    if let Some(token) = &page.next_page_token {
        text.push_str(&format!("\nMore clusters: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(text, ClusterList { clusters: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one cluster.
#[schema]
pub struct ClusterId {
    /// The cluster id, e.g. `0123-456789-abcdefgh` (see `list_clusters`).
    pub cluster_id: String,
}

fn fetch(ctx: &Context, cluster_id: &str) -> Result<Json<Cluster>> {
    ctx.get(&path("get"), &[("cluster_id", cluster_id.to_string())])
}

/// Get one cluster's full configuration and state, including why it terminated.
#[tool(read_only, idempotent, title = "Get cluster")]
fn get_cluster(ctx: &Context, args: ClusterId) -> Result<Output<Json<Cluster>>> {
    let raw = fetch(ctx, &args.cluster_id)?;
    let cluster = raw.get()?;
    let mut text = cluster.line();
    if let Some(message) = cluster.state_message.as_deref().filter(|m| !m.is_empty()) {
        text.push_str(&format!("\nState message: {message}"));
    }
    if let Some(creator) = &cluster.creator_user_name {
        text.push_str(&format!("\nCreated by {creator}"));
    }
    if let Some(minutes) = cluster.autotermination_minutes {
        text.push_str(&match minutes {
            0 => "\nNo automatic termination".to_string(),
            m => format!("\nTerminates after {m} minutes of inactivity"),
        });
    }
    Ok(Output::new(text, raw))
}

/// Arguments of `list_cluster_events`.
#[schema]
pub struct ListClusterEvents {
    /// The cluster id.
    pub cluster_id: String,
    /// Only these event types, e.g. `["TERMINATING", "RESTARTING", "DRIVER_NOT_RESPONDING"]`.
    #[serde(default)]
    pub event_types: Vec<String>,
    /// Only events at or after this time, epoch milliseconds.
    #[serde(default)]
    pub start_time: Option<i64>,
    /// Only events before this time, epoch milliseconds.
    #[serde(default)]
    pub end_time: Option<i64>,
    /// `DESC` (newest first, the default) or `ASC`.
    #[serde(default)]
    pub order: Option<EventOrder>,
    /// How many events to return, 1-500 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// Event order.
#[schema]
#[derive(Debug, Clone, Copy)]
#[serde(rename_all = "UPPERCASE")]
pub enum EventOrder {
    /// Oldest first.
    Asc,
    /// Newest first.
    Desc,
}

/// One cluster event.
#[schema]
pub struct ClusterEvent {
    /// The cluster.
    pub cluster_id: String,
    /// Epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// Event type, e.g. `RUNNING`, `TERMINATING`, `RESIZING`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Event details: user, reason, previous and current sizes...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// A page of cluster events.
#[schema]
pub struct ClusterEventList {
    /// Events on this page.
    pub events: Vec<ClusterEvent>,
    /// Total number of events matching the filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<i64>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List a cluster's events (starts, terminations, resizes, edits, failures), newest first by
/// default, one page at a time. Use it to find out why a cluster stopped or restarted.
#[tool(read_only, idempotent, title = "List cluster events")]
fn list_cluster_events(ctx: &Context, args: ListClusterEvents) -> Result<Output<ClusterEventList>> {
    let mut body = json!({ "cluster_id": args.cluster_id });
    if !args.event_types.is_empty() {
        body["event_types"] = json!(args.event_types);
    }
    if let Some(t) = args.start_time {
        body["start_time"] = json!(t);
    }
    if let Some(t) = args.end_time {
        body["end_time"] = json!(t);
    }
    if let Some(order) = args.order {
        body["order"] = json!(order);
    }
    let request = Request::new(Method::Post, path("events")).json(&body)?;
    let limit = args.limit.unwrap_or(50).clamp(1, 500);
    let page = ctx.page::<ClusterEvent>(
        request,
        "events",
        Paging::NextRequest { size_param: "limit" },
        limit,
        args.page_token.as_deref(),
    )?;
    let total_count = page.raw.get("total_count").and_then(Value::as_i64);
    let mut lines: Vec<String> = page
        .items
        .iter()
        .map(|e| {
            let when = e.timestamp.map_or_else(|| "unknown time".to_string(), format_time);
            let kind = e.kind.as_deref().unwrap_or("UNKNOWN");
            match e.details.as_ref().filter(|d| d.as_object().is_some_and(|o| !o.is_empty())) {
                Some(details) => format!("{when}  {kind}  {details}"),
                None => format!("{when}  {kind}"),
            }
        })
        .collect();
    if lines.is_empty() {
        lines.push(format!("No events for cluster {}.", args.cluster_id));
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More events: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(
        lines.join("\n"),
        ClusterEventList { events: page.items, total_count, next_page_token: page.next_page_token },
    ))
}

/// Arguments of the catalogue lists.
#[schema]
pub struct CatalogFilter {
    /// Only entries whose id or description contains this text (case-insensitive), e.g. `LTS`, `ml`, `photon`, `i3.`.
    #[serde(default)]
    pub contains: Option<String>,
    /// How many entries to return, 1-500 (default 100).
    #[serde(default)]
    pub limit: Option<u32>,
}

impl CatalogFilter {
    fn keep(&self, fields: &[&str]) -> bool {
        self.contains.as_ref().is_none_or(|needle| {
            let needle = needle.to_lowercase();
            fields.iter().any(|f| f.to_lowercase().contains(&needle))
        })
    }

    /// Keep the entries whose `fields` match, at most `limit` of them; also return how many
    /// matched, and the lines for the model (with a note when some were cut).
    fn apply<T>(
        &self,
        entries: Vec<T>,
        fields: impl Fn(&T) -> Vec<&str>,
        line: impl Fn(&T) -> String,
        none: &str,
    ) -> (Vec<T>, u32, String) {
        let matching: Vec<T> = entries.into_iter().filter(|e| self.keep(&fields(e))).collect();
        let total = u32::try_from(matching.len()).unwrap_or(u32::MAX);
        let kept: Vec<T> = matching.into_iter().take(self.limit.unwrap_or(100).clamp(1, 500) as usize).collect();
        let mut lines: Vec<String> = kept.iter().map(line).collect();
        if lines.is_empty() {
            lines.push(none.to_string());
        } else if total as usize > kept.len() {
            lines.push(format!("{} of {total} shown; narrow with `contains` or raise `limit`.", kept.len()));
        }
        (kept, total, lines.join("\n"))
    }
}

/// A node type clusters can use.
#[schema]
pub struct NodeType {
    /// Id to pass as `node_type_id`.
    pub node_type_id: String,
    /// Memory, MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<i64>,
    /// Cores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_cores: Option<f64>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Category, e.g. `General Purpose`, `Memory Optimized`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// Node types.
#[schema]
pub struct NodeTypeList {
    /// The matching node types, as the workspace describes them.
    pub node_types: Vec<Json<NodeType>>,
    /// How many matched before `limit` applied.
    pub total_matching: u32,
}

/// List the node (instance) types clusters in this workspace can use, with cores, memory and
/// category; filter with `contains`.
#[tool(read_only, idempotent, title = "List node types")]
fn list_node_types(ctx: &Context, args: CatalogFilter) -> Result<Output<NodeTypeList>> {
    #[databricks_mcp_sdk::schema]
    struct Raw {
        #[serde(default)]
        node_types: Vec<Json<NodeType>>,
    }
    let raw: Raw = ctx.get(&path("list-node-types"), &[])?;
    let entries = raw.node_types.into_iter().map(|n| Ok((n.get()?, n))).collect::<Result<Vec<_>>>()?;
    let (node_types, total_matching, text) = args.apply(
        entries,
        |(n, _)| vec![&n.node_type_id, n.description.as_deref().unwrap_or(""), n.category.as_deref().unwrap_or("")],
        |(n, _)| {
            let cores = n.num_cores.map_or_else(String::new, |c| format!("{c} cores, "));
            let memory = n.memory_mb.map_or_else(String::new, |m| format!("{:.1} GB", m as f64 / 1024.0));
            let category = n.category.as_deref().map_or_else(String::new, |c| format!(" ({c})"));
            format!("{}: {cores}{memory}{category}", n.node_type_id)
        },
        "No node types match.",
    );
    let node_types = node_types.into_iter().map(|(_, raw)| raw).collect();
    Ok(Output::new(text, NodeTypeList { node_types, total_matching }))
}

/// A Databricks Runtime version.
#[schema]
pub struct SparkVersion {
    /// Key to pass as `spark_version`, e.g. `15.4.x-scala2.12`.
    pub key: String,
    /// Human-readable name, e.g. `15.4 LTS (includes Apache Spark 3.5.0, Scala 2.12)`.
    pub name: String,
}

/// Runtime versions.
#[schema]
pub struct SparkVersionList {
    /// The matching versions.
    pub versions: Vec<SparkVersion>,
    /// How many matched before `limit` applied.
    pub total_matching: u32,
}

/// List the Databricks Runtime versions available for new clusters (keys for `spark_version`);
/// filter with `contains`, e.g. `LTS`, `-ml-`, `photon`.
#[tool(read_only, idempotent, title = "List Databricks Runtime versions")]
fn list_spark_versions(ctx: &Context, args: CatalogFilter) -> Result<Output<SparkVersionList>> {
    #[databricks_mcp_sdk::schema]
    struct Raw {
        #[serde(default)]
        versions: Vec<SparkVersion>,
    }
    let raw: Raw = ctx.get(&path("spark-versions"), &[])?;
    let mut versions = raw.versions;
    // Newest first, as people choose them.
    versions.sort_by(|a, b| version_order(&b.key).cmp(&version_order(&a.key)).then_with(|| a.key.cmp(&b.key)));
    let (versions, total_matching, text) = args.apply(
        versions,
        |v| vec![&v.key, &v.name],
        |v| format!("{}: {}", v.key, v.name),
        "No runtime versions match.",
    );
    Ok(Output::new(text, SparkVersionList { versions, total_matching }))
}

fn version_order(key: &str) -> (u32, u32) {
    let mut parts = key.split(['.', '-']).map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

// ---------------------------------------------------------------------------------------------
// Changing

/// What happened, for action tools.
#[schema]
pub struct ClusterAction {
    /// The cluster acted on.
    pub cluster_id: String,
    /// The cluster's state after the request, when it was read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ClusterState>,
    /// What was done.
    pub message: String,
}

fn action(ctx: &Context, cluster_id: &str, message: String) -> Result<Output<ClusterAction>> {
    // Read the state back so the model knows what to expect next; the action already happened,
    // so a failed read is not an error.
    let state = fetch(ctx, cluster_id).and_then(|c| c.get()).ok().and_then(|c| c.state);
    let text = match state {
        Some(s) => format!("{message} The cluster is now {}.", s.as_str()),
        None => message.clone(),
    };
    Ok(Output::new(text, ClusterAction { cluster_id: cluster_id.to_string(), state, message }))
}

/// Create a cluster. It starts right away (state PENDING); call `wait_for_cluster` to wait until
/// it is RUNNING. Use `list_spark_versions` and `list_node_types` to pick valid values.
#[tool(title = "Create cluster")]
fn create_cluster(ctx: &Context, args: ClusterSpec) -> Result<Output<ClusterAction>> {
    args.check_size()?;
    if args.cluster_name.as_deref().is_none_or(str::is_empty) {
        return Err(ToolError::invalid("cluster_name is required"));
    }
    if args.spark_version.as_deref().is_none_or(str::is_empty) {
        return Err(ToolError::invalid("spark_version is required; see list_spark_versions"));
    }
    #[databricks_mcp_sdk::schema]
    struct Created {
        cluster_id: String,
    }
    let mut body = Value::Object(Default::default());
    merge(&mut body, Value::Object(args.to_patch()?));
    let created: Created = ctx.post(&path("create"), &body)?;
    let name = args.cluster_name.unwrap_or_default();
    action(ctx, &created.cluster_id, format!("Created cluster {name} ({}).", created.cluster_id))
}

/// Arguments of `edit_cluster`: the cluster and only the settings to change.
#[schema]
pub struct EditCluster {
    /// The cluster id.
    pub cluster_id: String,
    /// The settings to change; everything not given keeps its current value.
    #[serde(flatten)]
    pub changes: ClusterSpec,
}

/// Change a cluster's configuration (name, size, runtime, node type, auto-termination, Spark
/// conf, tags...). Give only what changes: maps such as `spark_conf` and `custom_tags` are
/// merged key by key (a key set to null is removed). A RUNNING cluster restarts to apply the
/// change; a TERMINATED one keeps its state.
#[tool(destructive, idempotent, title = "Edit cluster")]
fn edit_cluster(ctx: &Context, args: EditCluster) -> Result<Output<ClusterAction>> {
    args.changes.check_size()?;
    let raw = fetch(ctx, &args.cluster_id)?;
    let current = raw.get()?;
    // The API replaces the whole spec, so start from what the cluster has now and patch it.
    let mut body = databricks_mcp_sdk::serde_json::Map::new();
    for field in EDITABLE_FIELDS {
        if let Some(value) = raw.value().get(*field) {
            body.insert((*field).to_string(), value.clone());
        }
    }
    let changes = args.changes.to_patch()?;
    let changed: Vec<String> = changes.keys().cloned().collect();
    if changed.is_empty() {
        return Err(ToolError::invalid("nothing to change: give at least one setting besides cluster_id"));
    }
    // Fixed size and autoscaling exclude each other; an autoscaling cluster also reports its
    // current `num_workers`, which must not be sent back.
    if changes.contains_key("num_workers") {
        body.remove("autoscale");
    } else if changes.contains_key("autoscale") || body.contains_key("autoscale") {
        body.remove("num_workers");
    }
    let mut body = Value::Object(body);
    merge(&mut body, Value::Object(changes));
    body["cluster_id"] = json!(args.cluster_id);
    ctx.post_empty(&path("edit"), &body)?;
    let restart = if current.state == Some(ClusterState::Running) { " It restarts to apply the change." } else { "" };
    action(
        ctx,
        &args.cluster_id,
        format!("Edited {} ({}): {}.{restart}", current.name(), args.cluster_id, changed.join(", ")),
    )
}

/// Start a terminated cluster. It goes PENDING, then RUNNING; call `wait_for_cluster` to wait.
/// A cluster that is already running or starting is left as it is.
#[tool(idempotent, title = "Start cluster")]
fn start_cluster(ctx: &Context, args: ClusterId) -> Result<Output<ClusterAction>> {
    let current = fetch(ctx, &args.cluster_id)?.get()?;
    match current.state {
        Some(ClusterState::Running | ClusterState::Pending | ClusterState::Resizing | ClusterState::Restarting) => {
            return action(
                ctx,
                &args.cluster_id,
                format!("Cluster {} is already {}; nothing to start.", current.name(), current.state_str()),
            );
        }
        Some(ClusterState::Terminating) => {
            return Err(ToolError::invalid(format!(
                "cluster {} is TERMINATING; wait_for_cluster with target TERMINATED, then start it",
                args.cluster_id
            )));
        }
        _ => {}
    }
    match ctx.post_empty(&path("start"), &json!({ "cluster_id": args.cluster_id })) {
        Ok(()) => action(ctx, &args.cluster_id, format!("Starting cluster {} ({}).", current.name(), args.cluster_id)),
        // Someone else started it between our read and our request: that is what was asked.
        Err(e) if e.api_error().is_some_and(|a| a.error_code == "INVALID_STATE") => {
            let now = fetch(ctx, &args.cluster_id)?.get()?;
            match now.state {
                Some(ClusterState::Pending | ClusterState::Running) => action(
                    ctx,
                    &args.cluster_id,
                    format!("Cluster {} is already {}; nothing to start.", now.name(), now.state_str()),
                ),
                _ => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// Restart a running cluster (running commands and notebooks are interrupted).
#[tool(destructive, title = "Restart cluster")]
fn restart_cluster(ctx: &Context, args: ClusterId) -> Result<Output<ClusterAction>> {
    ctx.post_empty(&path("restart"), &json!({ "cluster_id": args.cluster_id }))?;
    action(ctx, &args.cluster_id, format!("Restarting cluster {}.", args.cluster_id))
}

/// Arguments of `resize_cluster`: give `num_workers` or `autoscale`.
#[schema]
pub struct ResizeCluster {
    /// The cluster id.
    pub cluster_id: String,
    /// New fixed number of workers.
    #[serde(default)]
    pub num_workers: Option<u32>,
    /// New autoscaling bounds.
    #[serde(default)]
    pub autoscale: Option<Autoscale>,
}

/// Change the number of workers of a running cluster, to a fixed size or to autoscaling bounds,
/// without restarting it.
#[tool(idempotent, title = "Resize cluster")]
fn resize_cluster(ctx: &Context, args: ResizeCluster) -> Result<Output<ClusterAction>> {
    let size = match (args.num_workers, args.autoscale) {
        (Some(n), None) => json!({ "cluster_id": args.cluster_id, "num_workers": n }),
        (None, Some(a)) if a.min_workers <= a.max_workers => json!({ "cluster_id": args.cluster_id, "autoscale": a }),
        (None, Some(_)) => return Err(ToolError::invalid("autoscale.min_workers must not exceed max_workers")),
        _ => return Err(ToolError::invalid("give exactly one of num_workers or autoscale")),
    };
    ctx.post_empty(&path("resize"), &size)?;
    let target = match (args.num_workers, args.autoscale) {
        (Some(n), _) => format!("{n} workers"),
        (_, Some(a)) => format!("{}-{} workers (autoscaling)", a.min_workers, a.max_workers),
        _ => String::new(),
    };
    action(ctx, &args.cluster_id, format!("Resizing cluster {} to {target}.", args.cluster_id))
}

/// Terminate (stop) a cluster. Its configuration is kept for 30 days and it can be started
/// again; running work is lost.
#[tool(destructive, idempotent, title = "Terminate cluster")]
fn terminate_cluster(ctx: &Context, args: ClusterId) -> Result<Output<ClusterAction>> {
    ctx.post_empty(&path("delete"), &json!({ "cluster_id": args.cluster_id }))?;
    action(ctx, &args.cluster_id, format!("Terminating cluster {}.", args.cluster_id))
}

/// Permanently delete a cluster: it is terminated and removed, and cannot be started again.
#[tool(destructive, title = "Permanently delete cluster")]
fn permanently_delete_cluster(ctx: &Context, args: ClusterId) -> Result<Output<ClusterAction>> {
    ctx.post_empty(&path("permanent-delete"), &json!({ "cluster_id": args.cluster_id }))?;
    Ok(Output::new(
        format!("Cluster {} is permanently deleted.", args.cluster_id),
        ClusterAction { cluster_id: args.cluster_id, state: None, message: "permanently deleted".into() },
    ))
}

/// Pin a cluster so it stays in the list (and keeps its configuration) after termination.
#[tool(idempotent, title = "Pin cluster")]
fn pin_cluster(ctx: &Context, args: ClusterId) -> Result<Output<ClusterAction>> {
    ctx.post_empty(&path("pin"), &json!({ "cluster_id": args.cluster_id }))?;
    action(ctx, &args.cluster_id, format!("Pinned cluster {}.", args.cluster_id))
}

/// Unpin a cluster: once terminated it leaves the list after 30 days like any other cluster.
#[tool(idempotent, title = "Unpin cluster")]
fn unpin_cluster(ctx: &Context, args: ClusterId) -> Result<Output<ClusterAction>> {
    ctx.post_empty(&path("unpin"), &json!({ "cluster_id": args.cluster_id }))?;
    action(ctx, &args.cluster_id, format!("Unpinned cluster {}.", args.cluster_id))
}

// ---------------------------------------------------------------------------------------------
// Waiting

/// The state to wait for.
#[schema]
#[derive(Debug, Clone, Copy, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WaitTarget {
    /// Running (after create, start, restart, resize or edit).
    #[default]
    Running,
    /// Terminated (after terminate).
    Terminated,
}

/// Arguments of `wait_for_cluster`.
#[schema]
pub struct WaitForCluster {
    /// The cluster id.
    pub cluster_id: String,
    /// `RUNNING` (default) or `TERMINATED`.
    #[serde(default)]
    pub target: WaitTarget,
    /// Give up after this many seconds (default 600, at most 1200).
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
}

/// Wait until a cluster is RUNNING (or TERMINATED), reporting progress while it waits. Fails,
/// with the reason, if the cluster ends up in ERROR, or TERMINATED while waiting for RUNNING.
#[tool(read_only, idempotent, title = "Wait for cluster")]
fn wait_for_cluster(ctx: &Context, args: WaitForCluster) -> Result<Output<Json<Cluster>>> {
    let target = match args.target {
        WaitTarget::Running => ClusterState::Running,
        WaitTarget::Terminated => ClusterState::Terminated,
    };
    let timeout = Duration::from_secs(u64::from(args.timeout_seconds.unwrap_or(600).clamp(1, 1200)));
    let wait = Wait::new(format!("cluster {} to be {}", args.cluster_id, target.as_str()), timeout);
    let (raw, cluster) = ctx.wait_until(&wait, || {
        let raw = fetch(ctx, &args.cluster_id)?;
        let cluster = raw.get()?;
        let state = cluster.state.unwrap_or(ClusterState::Unknown);
        let failed = match target {
            // As the Databricks SDK waiters: UNKNOWN is transient, keep polling.
            ClusterState::Running => matches!(state, ClusterState::Error | ClusterState::Terminated),
            _ => state == ClusterState::Error,
        };
        // A terminated cluster will not start by itself: say what to do rather than wait.
        if failed {
            let reason = cluster
                .termination_reason
                .as_ref()
                .and_then(|r| r.code.clone())
                .or_else(|| cluster.state_message.clone())
                .unwrap_or_default();
            let hint = if state == ClusterState::Terminated { " Start it with start_cluster." } else { "" };
            return Err(ToolError::Failed(format!(
                "cluster {} is {} ({reason}), not going to be {}.{hint}",
                args.cluster_id,
                state.as_str(),
                target.as_str()
            )));
        }
        Ok(if state == target { Poll::Ready((raw, cluster)) } else { Poll::Pending(state.as_str().to_string()) })
    })?;
    Ok(Output::new(cluster.line(), raw))
}

databricks_mcp_sdk::plugin! {
    name: "clusters",
    description: "Databricks clusters: list, inspect, create, edit, start, restart, resize, terminate, delete, pin, events, node types, runtimes, and wait for a state",
    grants: [
        "GET /api/2.1/clusters/list",
        "GET /api/2.1/clusters/get",
        "GET /api/2.1/clusters/list-node-types",
        "GET /api/2.1/clusters/spark-versions",
        "POST /api/2.1/clusters/events",
        "POST /api/2.1/clusters/create",
        "POST /api/2.1/clusters/edit",
        "POST /api/2.1/clusters/start",
        "POST /api/2.1/clusters/restart",
        "POST /api/2.1/clusters/resize",
        "POST /api/2.1/clusters/delete",
        "POST /api/2.1/clusters/permanent-delete",
        "POST /api/2.1/clusters/pin",
        "POST /api/2.1/clusters/unpin",
    ],
    tools: [
        list_clusters,
        get_cluster,
        list_cluster_events,
        list_node_types,
        list_spark_versions,
        create_cluster,
        edit_cluster,
        start_cluster,
        restart_cluster,
        resize_cluster,
        terminate_cluster,
        permanently_delete_cluster,
        pin_cluster,
        unpin_cluster,
        wait_for_cluster,
    ],
    resources: [cluster_config],
    resource_list: content::list_cluster_resources,
    prompts: [review_cluster_costs],
    completions: [cluster_id => content::complete_cluster_ids],
}
