//! Databricks SQL: SQL warehouses (`/api/2.0/sql/warehouses`) and the Statement Execution API
//! (`/api/2.0/sql/statements`), running real SQL against Unity Catalog tables held in SQLite.
//!
//! Modules:
//! - `lexer`: Databricks SQL text to tokens and back as SQLite text.
//! - `engine`: runs one statement (catalog commands here, queries and DML in SQLite).
//! - `functions`: Databricks functions SQLite lacks (`current_user()`, `year()`, ...).
//! - `warehouses`: the warehouse state machine and its endpoints.
//! - `statements`: statement lifecycle, waiting, chunked results.
//! - `seed`: the warehouses a fresh emulator starts with.

pub(crate) mod engine;
mod functions;
mod lexer;
pub(crate) mod seed;
mod statements;
mod warehouses;

pub(crate) use statements::{record_finished, response as statement_response};

use std::sync::Arc;

use axum::{
    Router,
    routing::{get, post},
};

use crate::workspace::AppState;

/// Rows per result chunk unless a test sets another size.
pub(crate) const DEFAULT_CHUNK_ROWS: usize = 1000;

/// The SQL state of a workspace: warehouses and statements.
#[derive(Debug)]
pub(crate) struct Sql {
    pub warehouses: warehouses::Warehouses,
    pub statements: statements::Statements,
    /// Rows per result chunk for statements submitted from now on.
    pub chunk_rows: usize,
}

impl Default for Sql {
    fn default() -> Self {
        Sql { warehouses: Default::default(), statements: Default::default(), chunk_rows: DEFAULT_CHUNK_ROWS }
    }
}

/// The warehouse endpoints, to be nested under `/api/2.0/sql/warehouses`.
pub(crate) fn warehouses_router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(warehouses::list).post(warehouses::create))
        .route("/{id}", get(warehouses::get).delete(warehouses::delete))
        .route("/{id}/edit", post(warehouses::edit))
        .route("/{id}/start", post(warehouses::start))
        .route("/{id}/stop", post(warehouses::stop))
}

/// The statement endpoints, to be nested under `/api/2.0/sql/statements`.
pub(crate) fn statements_router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", post(statements::execute))
        .route("/{id}", get(statements::get))
        .route("/{id}/cancel", post(statements::cancel))
        .route("/{id}/result/chunks/{index}", get(statements::chunk))
}

/// The state of a warehouse (`"RUNNING"`, ...), or `None` if there is no such warehouse.
pub(crate) fn warehouse_state(app: &AppState, id: &str) -> Option<String> {
    let now = app.clock.now_ms();
    app.workspace().sql.warehouses.get(id, now).ok().map(|w| w.state.as_str().to_owned())
}
