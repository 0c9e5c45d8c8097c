//! A Databricks workspace on loopback: the REST wire format of the real service, backed by
//! in-memory state, so the MCP server and its plugins can be tested and demonstrated without a real
//! workspace.
//!
//! # How it is organised
//!
//! - [`Emulator`] (this file) starts the server on a socket and gives tests a handle on it:
//!   faults, recorded requests, the transition clock, resource state.
//! - `server`: routing and the layers every request passes (record → faults → auth).
//! - `identity`: principals, tokens, OAuth M2M and SCIM; the auth layer turns each token into a
//!   `Caller` that handlers act as.
//! - `acl` (object permissions any family can enforce) and `permissions` (the Permissions API).
//! - `workspace`: the shared state; one field per API family in `Workspace`.
//! - One module per API family, each with its handlers, rules, rendering and seed data. So far:
//!   `clusters` (Clusters API 2.0 and 2.1), `workspace_tree` (Workspace API), `dbfs`, `files`
//!   (Files API on volumes), `repos`, `secrets`, `pipelines` (Lakeflow Declarative Pipelines),
//!   `jobs` (Jobs API 2.1 and 2.2, with run history in the seeds; see its `seed` module for the
//!   Test ids), `commands` (command execution API 1.2), `libraries` (Libraries API; Test seed in
//!   its module docs), `compute_policy` (instance pools, cluster policies, policy families, global
//!   init scripts; Test ids in its `seed`),
//!   `unity` (Unity Catalog catalogs, schemas, tables, volumes, functions) and `sql` (SQL
//!   warehouses and the Statement Execution API, which runs real SQL: every Unity Catalog table is
//!   a table in one in-memory SQLite database per emulator).
//! - Shared pieces: `error` (the `{"error_code","message"}` body), `extract` (request parsing with
//!   Databricks-shaped errors), `pagination` (page tokens), `faults`, `recording`, `clock`
//!   (lazily-advancing transitions), `net` (connections a fault can drop), `admin` (`/emulator/*`).
//!
//! # Using it in a test
//!
//! 1. `let emu = Emulator::start(EmulatorConfig::default()).await?;` binds `127.0.0.1:0`.
//! 2. Point a client at [`Emulator::url`] with the token [`DEMO_TOKEN`].
//! 3. Optionally [`Emulator::inject`] a [`Fault`], or slow transitions with
//!    [`Emulator::set_transition_delay`].
//! 4. Assert on responses, on [`Emulator::requests`] and on [`Emulator::cluster_state`].
//! 5. `emu.shutdown().await` (dropping it also stops the server).
//!
//! # Behaviour worth knowing
//!
//! - Every `/api/...` request needs `Authorization: Bearer <token>`; otherwise 401
//!   `UNAUTHENTICATED`. The token decides who the request acts as:
//!
//!   | token | principal | admin |
//!   |---|---|---|
//!   | [`DEMO_TOKEN`], any of [`EmulatorConfig::tokens`] | `demo.user@example.com` | yes |
//!   | [`ALICE_TOKEN`] | `alice.nguyen@example.com` | no |
//!   | [`SP_TOKEN`], or an OAuth token for [`SP_CLIENT_ID`] / [`SP_CLIENT_SECRET`] | service principal `etl-service-principal` | no |
//!
//!   OAuth M2M works as on the service: `/.well-known/databricks-config` (no token) points the
//!   SDK at `/oidc`, whose token endpoint issues one-hour tokens ([`Emulator::set_oauth_token_ttl`]
//!   shortens them). Every `/api/` response carries `X-Databricks-Org-Id: <WORKSPACE_ID>`.
//! - Cluster permissions are enforced: a non-admin needs `CAN_ATTACH_TO` to see a cluster,
//!   `CAN_RESTART` to start or restart it, and `CAN_MANAGE` (which owners have) for everything
//!   else; otherwise 403 `PERMISSION_DENIED`. `list` shows only what the caller can see.
//!   `/api/2.0/permissions/clusters/{id}` reads and changes the grants.
//! - Unknown routes and wrong methods answer 404 `ENDPOINT_NOT_FOUND`.
//! - State transitions (PENDING → RUNNING, ...) take [`EmulatorConfig::transition_delay`] per step
//!   and advance when read; with `ZERO` the next read already sees the final state.
//! - A missing cluster is 400 `INVALID_PARAMETER_VALUE` `"Cluster <id> does not exist"`, the wording
//!   SDKs turn into `ResourceDoesNotExist`.
//! - Admin routes under `/emulator/` (faults, recorded requests, clock) need no token; they are
//!   neither faulted nor recorded. See the `admin` module.
//!
//! # Seeds
//!
//! [`Seed::Test`] holds five clusters with fixed ids (times are relative to start-up):
//!
//! | id | name | state | size |
//! |---|---|---|---|
//! | `0101-000000-shared01` | shared-autoscaling | RUNNING, pinned | autoscale 2..8, i3.xlarge |
//! | `0101-000000-report01` | reporting | RUNNING | 2 workers, m5d.xlarge |
//! | `0101-000000-mlgpu001` | ml-gpu | RUNNING | 1 worker, g4dn.xlarge |
//! | `0101-000000-etlnig01` | etl-nightly | TERMINATED (INACTIVITY) | 4 workers, i3.2xlarge |
//! | `0101-000000-adhoc001` | adhoc-analysis | TERMINATED (USER_REQUEST) | autoscale 1..4, r5d.xlarge |
//!
//! It also holds, for the file families (details in each module's docs):
//!
//! | family | Test seed |
//! |---|---|
//! | Workspace | `/Users/demo.user@example.com/ETL Pipeline` (PYTHON, object_id `1000000000000005`), `.../Daily Report` (SQL, `1000000000000006`), empty folder `.../experiments`, `/Shared/reports/README.md` |
//! | Repos | `/Repos/demo.user@example.com/analytics`, id `1000000000000011`, gitHub, branch `main` |
//! | DBFS | `/FileStore/tables/sales.csv` (4 rows), empty `/tmp` |
//! | Files API | `/Volumes/main/default/landing/readme.txt`, `.../raw/events.json` |
//! | Secrets | scope `test-scope`: `db-password` = `hunter2`, `api-key` = `sk-test-123` |
//!
//! It also holds the Unity Catalog catalog `main` (schemas `default`, `information_schema`) with
//! the table `main.default.trips` (20 taxi trips), the volume `main.default.landing` and the
//! function `main.default.fare_band` (Unity Catalog privileges are enforced: alice reads `trips`
//! through `data-engineers` but cannot see the volume or the function; see `unity::grants` and
//! `unity::seed`, which also lists the seeded table lineage), and two SQL warehouses: `5a1f0c0ffee00001`
//! "Starter Warehouse" (RUNNING) and `5a1f0c0ffee00002` "Reporting Warehouse" (STOPPED; a statement
//! sent to it starts it). Statement results come in chunks of 1000 rows unless
//! [`Emulator::set_sql_chunk_rows`] says otherwise.
//!
//! [`Seed::Demo`] adds thirty more (35 in all): job and all-purpose clusters, one starting and one
//! restarting, many termination reasons, several owners; one terminated 45 days ago is hidden from
//! `list` as on the real service. It also adds the catalogs `samples` (`nyctaxi.trips`, 300 rows;
//! `tpch.region`, `nation`, `customer`, `orders`) and `finance` (ledger tables, a view, volumes and
//! functions), `main.sales.customers`, and a third warehouse that is still starting.
//! [`Seed::Empty`] has none. Clusters created through the API belong to the caller.
//!
//! Every seed has the same principals (SCIM ids in `identity::seed`). In `Test`, alice sees
//! `shared01` (attach), `etlnig01` (restart, through `data-engineers`) and `mlgpu001` (she created
//! it, so she manages it); `report01` and `adhoc001` are hidden from her.
//!
//! Pipelines (`/api/2.0/pipelines`): [`Seed::Test`] holds `11111111-2222-4333-8444-000000000001`
//! (sales-etl, IDLE, three COMPLETED updates) and `11111111-2222-4333-8444-000000000002`
//! (inventory-ingest, IDLE and UNHEALTHY after a FAILED update); [`Seed::Demo`] adds seven more
//! (see the `pipelines::seed` module). A missing pipeline is 404 `RESOURCE_DOES_NOT_EXIST`
//! `"The specified pipeline <id> was not found."`.
//!
//! # Checking against the official SDK
//!
//! `tests/emulator/sdk_check/run.sh <path to databricks-emulator binary>` runs the Python
//! `databricks-sdk` (0.156.0, in a venv it creates) against a fresh emulator: PAT, OAuth M2M,
//! SCIM, permissions, and every non-SQL family through `WorkspaceClient` (clusters, jobs, command
//! execution, workspace, DBFS, Files, repos, secrets, pipelines): the SDK's own paging loops,
//! waiters, upload/download helpers and error classes. Not part of `cargo test`.

#![warn(missing_docs)]

mod acl;
mod admin;
mod clock;
mod clusters;
mod commands;
mod compute_policy;
mod config;
mod dbfs;
mod error;
mod extract;
mod faults;
mod files;
mod identity;
mod jobs;
mod libraries;
mod net;
mod pagination;
mod permissions;
mod pipelines;
mod recording;
mod repos;
mod secrets;
mod server;
mod sql;
mod unity;
mod workspace;
mod workspace_tree;

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use anyhow::Context as _;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub use config::{EmulatorConfig, Seed, UnknownSeed};
pub use faults::{Fault, FaultKind};
pub use identity::WORKSPACE_ID;
pub use recording::RecordedRequest;

use workspace::AppState;

/// The token every seed accepts; the README names it. It authenticates as the workspace admin
/// `demo.user@example.com`.
pub const DEMO_TOKEN: &str = "dapi-emulator-demo-token";

/// A personal access token of `alice.nguyen@example.com`, a user who is not an admin.
pub const ALICE_TOKEN: &str = "dapi-emulator-alice-token";

/// A personal access token of the service principal `etl-service-principal`.
pub const SP_TOKEN: &str = "dapi-emulator-sp-token";

/// The service principal's application id, which is also its OAuth client id.
pub const SP_CLIENT_ID: &str = "7c1e5f0a-3b2d-4c8e-9f6a-1d2e3f4a5b6c";

/// The service principal's OAuth client secret (`POST /oidc/v1/token`).
pub const SP_CLIENT_SECRET: &str = "emulator-sp-secret";

/// How long [`Emulator::shutdown`] lets open requests finish before cutting them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// A running emulator on a loopback socket. Dropping it stops the server.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Starts an emulator on `127.0.0.1` with a free port.
    pub async fn start(config: EmulatorConfig) -> anyhow::Result<Emulator> {
        Self::start_on(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Starts an emulator on `addr` (port 0 picks a free one).
    pub async fn start_on(config: EmulatorConfig, addr: SocketAddr) -> anyhow::Result<Emulator> {
        let listener = TcpListener::bind(addr).await.with_context(|| format!("binding the emulator to {addr}"))?;
        let addr = listener.local_addr().context("reading the emulator's bound address")?;
        let state = Arc::new(AppState::new(&config));
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async {
            // A dropped sender also means stop.
            let _ = stopped.await;
        };
        let server = server::serve(listener, state.clone(), shutdown);
        let task = tokio::spawn(async move {
            if let Err(e) = server.await {
                tracing::error!("emulator server failed: {e}");
            }
        });
        tracing::info!(%addr, seed = %config.seed, "emulator started");
        Ok(Emulator { addr, state, stop: Some(stop), task: Some(task) })
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues a fault for the next `fault.count` matching requests.
    pub fn inject(&self, fault: Fault) {
        self.state.faults.push(fault);
    }

    /// Every request received so far (admin routes excepted), in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.recorder.all()
    }

    /// Sets how long each state-transition step takes from now on.
    pub fn set_transition_delay(&self, delay: Duration) {
        self.state.clock.set_transition_delay(delay);
    }

    /// Sets how long OAuth tokens issued from now on live (`expires_in`); `ZERO` restores the
    /// default hour. Short lifetimes let tests watch a token expire.
    pub fn set_oauth_token_ttl(&self, ttl: Duration) {
        self.state.workspace().identity.token_ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    }

    /// The current state of a cluster (`"RUNNING"`, ...), or `None` if there is no such cluster.
    pub fn cluster_state(&self, cluster_id: &str) -> Option<String> {
        clusters::state_of(&self.state, cluster_id)
    }

    /// The current state of a pipeline (`"IDLE"`, ...), or `None` if there is no such pipeline.
    pub fn pipeline_state(&self, pipeline_id: &str) -> Option<String> {
        pipelines::state_of(&self.state, pipeline_id)
    }

    /// The state of a SQL warehouse (`"RUNNING"`, ...), or `None` if there is no such warehouse.
    pub fn warehouse_state(&self, warehouse_id: &str) -> Option<String> {
        sql::warehouse_state(&self.state, warehouse_id)
    }

    /// Sets how many rows each chunk of a statement result holds, for statements submitted from
    /// now on (default 1000), so tests can fetch multi-chunk results without big tables.
    pub fn set_sql_chunk_rows(&self, rows: usize) {
        self.state.workspace().sql.chunk_rows = rows.max(1);
    }

    /// Stops accepting connections, lets open requests finish (briefly), and waits for the server.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await.is_err()
        {
            task.abort();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Locks a mutex, carrying on after a panic elsewhere: the emulator's state stays usable for the
/// rest of a test run even if one handler panicked mid-update.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
