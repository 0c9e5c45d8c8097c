//! The state one emulator serves: the workspace's resources, plus the machinery around them
//! (clock, faults, recorded requests, accepted tokens).
//!
//! Each API family keeps its resources in its own field of [`Workspace`]; all of it sits behind
//! one mutex, which handlers hold only for the synchronous work of a request.

use std::sync::{Mutex, MutexGuard};

use crate::{
    DEMO_TOKEN,
    clock::Clock,
    clusters::{self, Clusters},
    config::{EmulatorConfig, Seed},
    faults::FaultQueue,
    lock,
    recording::Recorder,
    sql::{self, Sql},
    unity::{self, Unity},
};

/// The identity requests act as. One user for now; a real identity model will key off the token.
pub(crate) const DEFAULT_USER: &str = "demo.user@example.com";

/// The resources of the workspace.
#[derive(Debug)]
pub(crate) struct Workspace {
    /// The user every request acts as (creator of new clusters, `user` in events).
    pub current_user: String,
    pub clusters: Clusters,
    /// Unity Catalog metadata and the SQLite database holding its tables' rows.
    pub unity: Unity,
    /// SQL warehouses and statements.
    pub sql: Sql,
}

impl Workspace {
    fn seeded(seed: Seed, clock: &Clock) -> Self {
        let mut clusters = Clusters::default();
        clusters::seed::populate(&mut clusters, seed, clock.now_ms());
        let mut unity = Unity::default();
        unity::seed::populate(&mut unity, seed, clock.now_ms());
        let mut sql = Sql::default();
        sql::seed::populate(&mut sql, seed, clock.now_ms());
        Workspace { current_user: DEFAULT_USER.to_owned(), clusters, unity, sql }
    }
}

/// Everything a request handler can reach.
#[derive(Debug)]
pub(crate) struct AppState {
    pub clock: Clock,
    pub faults: FaultQueue,
    pub recorder: Recorder,
    tokens: Vec<String>,
    workspace: Mutex<Workspace>,
}

impl AppState {
    pub fn new(config: &EmulatorConfig) -> Self {
        let clock = Clock::new(config.transition_delay);
        let workspace = Mutex::new(Workspace::seeded(config.seed, &clock));
        AppState {
            clock,
            faults: FaultQueue::default(),
            recorder: Recorder::default(),
            tokens: config.tokens.clone(),
            workspace,
        }
    }

    /// The workspace, locked for the length of one request's work.
    pub fn workspace(&self) -> MutexGuard<'_, Workspace> {
        lock(&self.workspace)
    }

    /// Whether a bearer token is accepted.
    pub fn accepts(&self, token: &str) -> bool {
        token == DEMO_TOKEN || self.tokens.iter().any(|t| t == token)
    }
}
