//! The Jobs API family (`jobs.JobsAPI`), served under both `/api/2.1/jobs` (SDKs up to 0.44) and
//! `/api/2.2/jobs` (later ones). The two differ in `jobs/get` and `runs/get`: 2.2 pages the
//! arrays inside a job or run (`tasks`, `job_clusters`, ...) 100 at a time, 2.1 returns them whole.
//!
//! Runs advance lazily with the clock: `QUEUED? → PENDING → RUNNING → TERMINATING → TERMINATED`,
//! one transition delay per step. A task fails if its key or notebook/file path contains "fail"
//! (or it sets `"emulator_outcome": "FAILED"`); tasks downstream of a failure end UPSTREAM_FAILED.
//! A run over the job's `max_concurrent_runs` is SKIPPED, or QUEUED when the job's `queue` is
//! enabled (the queue then drains with the clock, not when the earlier run ends). A notebook task
//! whose notebook is in the workspace tree returns the value its source passes to
//! `dbutils.notebook.exit(...)` as `notebook_output.result`.
//!
//! Job access control is on: a job is visible to its owner (creator), admins and whoever was
//! granted a level on it through `/api/2.0/permissions/jobs/{job_id}` (see `access`).
//!
//! Modules, from the wire inwards:
//! - `handlers`: one function per endpoint.
//! - `access`: who may read, run and change which job (job access control).
//! - `store`: jobs and runs, and every operation's rules.
//! - `run`: a run and its task runs, their results and wire shape.
//! - `lifecycle`: the lazily-advancing life cycle of a run or task.
//! - `settings`: job settings, their defaults, checks and the `update` merge.
//! - `seed`: the jobs and run history a fresh emulator starts with.

mod access;
mod handlers;
mod lifecycle;
mod run;
pub(crate) mod seed;
mod settings;
mod store;

use std::sync::Arc;

use axum::{
    Router,
    extract::State,
    http::HeaderMap,
    routing::{get, post},
};

pub(crate) use access::JOB;
pub(crate) use store::Jobs;

use crate::{extract::Params, identity::Caller, workspace::AppState};

/// Which Jobs API version a router serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiVersion {
    V2_1,
    V2_2,
}

/// The jobs endpoints, to be nested under `/api/2.x/jobs`.
pub(crate) fn router(version: ApiVersion) -> Router<Arc<AppState>> {
    Router::new()
        .route("/create", post(handlers::create))
        .route(
            "/get",
            get(move |app: State<Arc<AppState>>, caller: Caller, params: Params| {
                handlers::get(app, caller, params, version)
            }),
        )
        .route("/list", get(handlers::list))
        .route("/reset", post(handlers::reset))
        .route("/update", post(handlers::update))
        .route("/delete", post(handlers::delete))
        .route("/run-now", post(handlers::run_now))
        .route("/runs/submit", post(handlers::submit))
        .route(
            "/runs/get",
            get(move |app: State<Arc<AppState>>, caller: Caller, params: Params, headers: HeaderMap| {
                handlers::get_run(app, caller, params, headers, version)
            }),
        )
        .route("/runs/list", get(handlers::list_runs))
        .route("/runs/cancel", post(handlers::cancel_run))
        .route("/runs/cancel-all", post(handlers::cancel_all))
        .route("/runs/delete", post(handlers::delete_run))
        .route("/runs/repair", post(handlers::repair))
        .route("/runs/get-output", get(handlers::get_output))
        .route("/runs/export", get(handlers::export))
}
