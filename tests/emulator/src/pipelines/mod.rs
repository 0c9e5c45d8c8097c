//! The Pipelines API family (Lakeflow Declarative Pipelines, `pipelines.PipelinesAPI`), served
//! under `/api/2.0/pipelines`.
//!
//! A pipeline is IDLE until an update starts. An update then walks QUEUED → CREATED →
//! WAITING_FOR_RESOURCES → INITIALIZING → SETTING_UP_TABLES → RUNNING → COMPLETED, one transition
//! delay per step, while the pipeline goes STARTING → RUNNING → IDLE. A continuous pipeline's
//! update stays RUNNING. A pipeline whose name or a library path contains "fail" fails in RUNNING,
//! with ERROR events carrying the exception. `stop` takes the active update through STOPPING to
//! CANCELED and the pipeline to IDLE. Every step is logged in the event log.
//!
//! Modules, from the wire inwards:
//! - `handlers`: one function per endpoint.
//! - `access`: who may view, run and manage a pipeline (the Permissions API's `pipelines`).
//! - `list`, `events`: the paginated reads (`events` also formats RFC 3339 times).
//! - `filter`: the SQL-like `filter` expressions of lists and events.
//! - `store`: the collection of pipelines and each operation's rules.
//! - `plans`: the steps an update or stop goes through, with their events.
//! - `model`: a pipeline, its updates and the lazily-advancing state machine.
//! - `render`: the JSON shapes of pipelines and updates.
//! - `spec`: settings and their validation; `ids`: UUIDs and cluster ids.
//! - `seed`: the pipelines a fresh emulator starts with.

pub(crate) mod access;
mod events;
mod filter;
mod handlers;
mod ids;
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

pub(crate) use store::{Pipelines, not_found};

/// A pipeline's owner (its creator), for the Permissions API.
pub(crate) fn owner_of(pipelines: &mut Pipelines, id: &str, at: crate::clock::Moment) -> Option<String> {
    pipelines.get(id, at).ok().map(|p| p.creator.clone())
}

use crate::workspace::AppState;

/// The pipelines endpoints, to be nested under `/api/2.0/pipelines`.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(handlers::list).post(handlers::create))
        .route("/{pipeline_id}", get(handlers::get).put(handlers::edit).delete(handlers::delete))
        .route("/{pipeline_id}/updates", get(handlers::list_updates).post(handlers::start_update))
        .route("/{pipeline_id}/updates/{update_id}", get(handlers::get_update))
        .route("/{pipeline_id}/stop", post(handlers::stop))
        .route("/{pipeline_id}/events", get(handlers::list_events))
}

/// The current state of a pipeline (`IDLE`, ...), after advancing it to now.
pub(crate) fn state_of(app: &AppState, pipeline_id: &str) -> Option<String> {
    let mut ws = app.workspace();
    ws.pipelines.get(pipeline_id, app.clock.moment()).ok().map(|p| p.state.as_str().to_owned())
}
