//! Resources, prompts and completions of the clusters plugin: a cluster's configuration as a
//! resource, the "review cluster costs" prompt, and completions for cluster ids.

use databricks_mcp_sdk::prelude::*;

/// Workers above which a cluster counts as large in the cost review.
const LARGE_WORKERS: u64 = 8;

fn clusters(ctx: &Context) -> Result<Vec<Value>> {
    let page: Value = ctx.get("/api/2.1/clusters/list", &[("page_size", "100".into())])?;
    Ok(page["clusters"].as_array().cloned().unwrap_or_default())
}

/// The variables of the cluster template.
#[schema]
pub struct ClusterUri {
    /// The cluster id.
    pub cluster_id: String,
}

/// The configuration of a cluster as JSON: runtime, node types, size or autoscale range,
/// auto-termination, Spark conf, tags, policy and access mode, plus its state. E.g.
/// `databricks://clusters/cluster/0123-456789-abcdefgh`.
#[resource(uri = "cluster/{cluster_id}", title = "Cluster configuration", mime_type = "application/json")]
pub fn cluster_config(ctx: &Context, vars: ClusterUri) -> Result<Contents> {
    let cluster: Value = ctx.get("/api/2.1/clusters/get", &[("cluster_id", vars.cluster_id)])?;
    Contents::json(&cluster)
}

/// Arguments of `review_cluster_costs`.
#[schema]
pub struct ReviewCosts {
    /// Only clusters whose name contains this text (default: all).
    #[serde(default)]
    pub name_contains: Option<String>,
}

/// Review what the workspace's clusters cost: which are running, which run with no
/// auto-termination (idle spend), and which are large. Fetches the clusters and says which
/// tools to use to confirm and act.
#[prompt(title = "Review cluster costs")]
pub fn review_cluster_costs(ctx: &Context, args: ReviewCosts) -> Result<Prompt> {
    let filter = args.name_contains.unwrap_or_default().to_lowercase();
    let clusters: Vec<Value> = clusters(ctx)?
        .into_iter()
        .filter(|c| c["cluster_name"].as_str().unwrap_or_default().to_lowercase().contains(&filter))
        .collect();
    let line = |c: &Value| {
        let workers = match (&c["autoscale"]["max_workers"], &c["num_workers"]) {
            (Value::Number(max), _) => format!("autoscale {}-{max}", c["autoscale"]["min_workers"]),
            (_, Value::Number(n)) => format!("{n} workers"),
            _ => "single node".into(),
        };
        format!(
            "- `{}` ({}): {}, {}, node type {}, auto-terminates after {} min",
            c["cluster_name"].as_str().unwrap_or("?"),
            c["cluster_id"].as_str().unwrap_or("?"),
            c["state"].as_str().unwrap_or("?"),
            workers,
            c["node_type_id"].as_str().unwrap_or("?"),
            c["autotermination_minutes"].as_u64().unwrap_or(0),
        )
    };
    let running: Vec<&Value> =
        clusters.iter().filter(|c| matches!(c["state"].as_str(), Some("RUNNING" | "RESIZING"))).collect();
    let never_stop: Vec<&Value> =
        running.iter().copied().filter(|c| c["autotermination_minutes"].as_u64().unwrap_or(0) == 0).collect();
    let large: Vec<&Value> = clusters
        .iter()
        .filter(|c| {
            c["num_workers"].as_u64().unwrap_or(0).max(c["autoscale"]["max_workers"].as_u64().unwrap_or(0))
                > LARGE_WORKERS
        })
        .collect();
    let section = |title: &str, list: &[&Value]| {
        if list.is_empty() {
            format!("{title}: none.")
        } else {
            format!("{title} ({}):\n{}", list.len(), list.iter().map(|c| line(c)).collect::<Vec<_>>().join("\n"))
        }
    };
    Ok(Prompt::new("Review cluster costs").user(format!(
        "Review the cost of this workspace's clusters ({} in all).\n\n{}\n\n{}\n\n{}\n\n\
         For each running cluster, call `list_cluster_events` to see when it last did work (events such as \
         `RUNNING`, `RESIZING`, `UPSIZE_COMPLETED`, `AUTOSCALING_STATS_REPORT`); a cluster with no activity for \
         hours is idle spend. Read `databricks://clusters/cluster/<cluster_id>` (or call `get_cluster`) for its \
         full configuration. Compare node types with `list_node_types` to spot oversized instances.\n\n\
         Then recommend, cluster by cluster: `terminate_cluster` for idle ones, `edit_cluster` to set \
         `autotermination_minutes` (e.g. 30) where it is 0, `resize_cluster` or an autoscale range for large \
         fixed-size clusters, and a smaller `node_type_id` where the workload allows. Ask before changing anything.",
        clusters.len(),
        section("Running", &running),
        section("Running with no auto-termination", &never_stop),
        section(&format!("Large (more than {LARGE_WORKERS} workers)"), &large),
    )))
}

/// Cluster ids (the `cluster_id` of the cluster resource).
pub fn complete_cluster_ids(ctx: &Context, _request: &CompletionRequest) -> Result<Vec<String>> {
    Ok(clusters(ctx)?.iter().filter_map(|c| c["cluster_id"].as_str().map(str::to_string)).collect())
}

/// Clusters a page of `resources/list` holds.
const LIST_PAGE: u32 = 20;

/// The workspace's clusters as concrete resources (`cluster/<cluster_id>`), a page at a time:
/// clusters are few enough that listing them helps a client pick one.
pub fn list_cluster_resources(ctx: &Context, cursor: Option<String>) -> Result<ResourceList> {
    let mut query = vec![("page_size", LIST_PAGE.to_string())];
    if let Some(token) = cursor {
        query.push(("page_token", token));
    }
    let page: Value = ctx.get("/api/2.1/clusters/list", &query)?;
    let resources = page["clusters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let id = c["cluster_id"].as_str()?;
            let name = c["cluster_name"].as_str().unwrap_or(id);
            Some(
                ResourceLink::new(format!("cluster/{id}"), name)
                    .title(format!("Cluster {name}"))
                    .description(format!(
                        "Configuration of cluster `{name}` ({id}), {}",
                        c["state"].as_str().unwrap_or("?")
                    ))
                    .mime_type("application/json"),
            )
        })
        .collect();
    let next_cursor = page["next_page_token"].as_str().filter(|t| !t.is_empty()).map(str::to_string);
    Ok(ResourceList { resources, next_cursor })
}
