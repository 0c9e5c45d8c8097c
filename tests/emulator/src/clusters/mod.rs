//! The Clusters API family (`compute.ClustersAPI`), served under both `/api/2.0/clusters` and
//! `/api/2.1/clusters`: old SDKs use 2.0 and newer ones 2.1 (reference §0.1). The two differ only
//! in `list`, which pages on 2.1 and returns everything on 2.0.
//!
//! Modules, from the wire inwards:
//! - `handlers`: one function per endpoint.
//! - `list`, `events`: the two paginated reads.
//! - `store`: the collection of clusters and every operation's rules (which state allows what).
//! - `plans`: the state sequence each operation sets off, with messages and events.
//! - `model`: a cluster, its states and the lazily-advancing state machine.
//! - `render`: `ClusterDetails` as JSON.
//! - `spec`: user-set attributes and their validation.
//! - `catalog`: Spark versions, node types and zones.
//! - `seed`: the clusters a fresh emulator starts with.

mod catalog;
mod events;
mod handlers;
mod list;
mod model;
mod plans;
mod render;
pub(crate) mod seed;
mod spec;
mod store;

use std::sync::Arc;

use axum::{
    Router,
    routing::{get, post},
};

pub(crate) use store::Clusters;

use crate::workspace::AppState;

/// Which API version a router serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiVersion {
    V2_0,
    V2_1,
}

/// The clusters endpoints, to be nested under `/api/2.x/clusters`.
pub(crate) fn router(version: ApiVersion) -> Router<Arc<AppState>> {
    let list = match version {
        ApiVersion::V2_0 => get(handlers::list_v20),
        ApiVersion::V2_1 => get(handlers::list_v21),
    };
    Router::new()
        .route("/create", post(handlers::create))
        .route("/edit", post(handlers::edit))
        .route("/update", post(handlers::update))
        .route("/get", get(handlers::get))
        .route("/list", list)
        .route("/start", post(handlers::start))
        .route("/restart", post(handlers::restart))
        .route("/resize", post(handlers::resize))
        .route("/delete", post(handlers::delete))
        .route("/permanent-delete", post(handlers::permanent_delete))
        .route("/pin", post(handlers::pin))
        .route("/unpin", post(handlers::unpin))
        .route("/change-owner", post(handlers::change_owner))
        .route("/events", post(handlers::events))
        .route("/spark-versions", get(handlers::spark_versions))
        .route("/list-node-types", get(handlers::list_node_types))
        .route("/list-zones", get(handlers::list_zones))
}

/// The current state of a cluster (`RUNNING`, ...), after advancing it to now.
pub(crate) fn state_of(app: &AppState, cluster_id: &str) -> Option<String> {
    let mut ws = app.workspace();
    ws.clusters.get(cluster_id, app.clock.moment()).ok().map(|c| c.state.as_str().to_owned())
}

/// What another family needs to know about a cluster's life: who owns it, whether it is up, and
/// which Spark context (a new one after every start or restart) it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Runtime {
    pub owner: String,
    pub name: String,
    /// RUNNING or RESIZING: a driver exists.
    pub up: bool,
    /// When the current Spark context came up (epoch ms), if the cluster is up.
    pub up_since: Option<u64>,
    pub spark_context_id: Option<i64>,
}

impl Runtime {
    fn of(cluster: &model::Cluster) -> Runtime {
        let up = cluster.state.is_up();
        Runtime {
            owner: cluster.creator.clone(),
            name: cluster.spec.cluster_name.clone().unwrap_or_default(),
            up,
            up_since: if up { cluster.last_restarted_time.or(Some(cluster.start_time)) } else { None },
            spark_context_id: cluster.spark_context_id,
        }
    }
}

/// The runtime of one cluster, advanced to `at`; a missing cluster is the usual
/// `INVALID_PARAMETER_VALUE` "Cluster <id> does not exist".
pub(crate) fn runtime(clusters: &mut Clusters, id: &str, at: crate::clock::Moment) -> crate::error::ApiResult<Runtime> {
    clusters.get(id, at).map(|c| Runtime::of(c))
}

/// Every cluster's runtime, by id.
pub(crate) fn runtimes(clusters: &mut Clusters, at: crate::clock::Moment) -> Vec<(String, Runtime)> {
    clusters.all(at).into_iter().map(|c| (c.id.clone(), Runtime::of(c))).collect()
}

/// Whether the workspace offers this node type (for families that name one, e.g. instance pools).
pub(crate) fn node_type_exists(id: &str) -> bool {
    catalog::node_type(id).is_some()
}

/// Whether this is a Databricks Runtime version key the workspace offers.
pub(crate) fn spark_version_exists(key: &str) -> bool {
    catalog::is_spark_version(key)
}

/// The current state of a cluster, for a caller that already holds the workspace.
pub(crate) fn state_in(clusters: &mut Clusters, cluster_id: &str, at: crate::clock::Moment) -> Option<&'static str> {
    clusters.get(cluster_id, at).ok().map(|c| c.state.as_str())
}
