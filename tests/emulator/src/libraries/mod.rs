//! The Libraries API (`compute.LibrariesAPI`) under `/api/2.0/libraries`: libraries installed on
//! clusters, and their install status.
//!
//! A library installed on a cluster goes `PENDING → RESOLVING → INSTALLING → INSTALLED`, one
//! transition delay per step, counted from when the cluster's current Spark context came up (or
//! from the install request, if later); while the cluster is not running it stays `PENDING`, and
//! every start or restart installs it again. A package, coordinate or path containing
//! `does-not-exist` ends `FAILED`, with the service's `messages`. `uninstall` marks a library
//! `UNINSTALL_ON_RESTART`; it disappears once the cluster runs a new Spark context.
//!
//! Permissions follow the cluster's: `install` and `uninstall` need `CAN_MANAGE`, `cluster-status`
//! needs `CAN_ATTACH_TO`, and `all-cluster-statuses` covers the clusters the caller can attach to.
//!
//! Modules: `library` (the `Library` union: parsing, validation, failures), `store` (installs and
//! their status), `handlers` (the four endpoints), `seed`.
//!
//! # Test seed
//!
//! | cluster | libraries (all `INSTALLED`) |
//! |---|---|
//! | `0101-000000-shared01` | pypi `requests==2.32.3`, maven `com.databricks:spark-xml_2.12:0.18.0` |
//! | `0101-000000-mlgpu001` | pypi `scikit-learn==1.5.2` |
//!
//! The Demo seed adds realistic libraries to the Demo clusters, one of which failed to install.

mod handlers;
mod library;
pub(crate) mod seed;
mod store;

use std::sync::Arc;

use axum::{
    Router,
    routing::{get, post},
};

pub(crate) use store::Libraries;

use crate::workspace::AppState;

/// The endpoints, to be nested under `/api/2.0/libraries`.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/install", post(handlers::install))
        .route("/uninstall", post(handlers::uninstall))
        .route("/cluster-status", get(handlers::cluster_status))
        .route("/all-cluster-statuses", get(handlers::all_cluster_statuses))
}
