//! The state one emulator serves: the workspace's resources, plus the machinery around them
//! (clock, faults, recorded requests, accepted tokens).
//!
//! Each API family keeps its resources in its own field of [`Workspace`]; all of it sits behind
//! one mutex, which handlers hold only for the synchronous work of a request.

use std::sync::{Mutex, MutexGuard};

use crate::{
    DEMO_TOKEN,
    acl::Acls,
    clock::Clock,
    clusters::{self, Clusters},
    commands::Contexts,
    compute_policy::{self, ComputePolicy},
    config::{EmulatorConfig, Seed},
    dbfs::{self, Dbfs},
    faults::FaultQueue,
    files::{self, Volumes},
    identity::{self, Caller, Directory},
    jobs::{self, Jobs},
    libraries::{self, Libraries},
    lock,
    pipelines::{self, Pipelines},
    recording::Recorder,
    repos::Repos,
    secrets::{self, Secrets},
    sql::{self, Sql},
    unity::{self, Unity},
    workspace_tree::{self, Tree},
};

/// The demo user: the identity of [`DEMO_TOKEN`] and of the extra configured tokens.
pub(crate) const DEFAULT_USER: &str = "demo.user@example.com";

/// The resources of the workspace.
#[derive(Debug)]
pub(crate) struct Workspace {
    /// The demo user. Handlers should act as the request's [`Caller`]; this remains for code that
    /// has no request at hand.
    #[allow(dead_code, reason = "the fallback identity for families that do not take a Caller yet")]
    pub current_user: String,
    pub clusters: Clusters,
    pub dbfs: Dbfs,
    /// Files in Unity Catalog volumes, served by the Files API.
    pub volumes: Volumes,
    /// The Workspace API's tree of notebooks, files, folders and repos.
    pub workspace_tree: Tree,
    pub repos: Repos,
    pub secrets: Secrets,
    pub pipelines: Pipelines,
    /// Users, service principals, groups and their tokens.
    pub identity: Directory,
    /// Object permissions of every family.
    pub acls: Acls,
    pub jobs: Jobs,
    pub contexts: Contexts,
    /// Unity Catalog metadata and the SQLite database holding its tables' rows.
    pub unity: Unity,
    /// SQL warehouses and statements.
    pub sql: Sql,
    /// Libraries installed on clusters.
    pub libraries: Libraries,
    /// Instance pools, cluster policies and global init scripts.
    pub compute_policy: ComputePolicy,
}

impl Workspace {
    fn seeded(seed: Seed, clock: &Clock) -> Self {
        let mut clusters = Clusters::default();
        clusters::seed::populate(&mut clusters, seed, clock.now_ms());
        let mut dbfs = Dbfs::default();
        dbfs::seed::populate(&mut dbfs, seed, clock.now_ms());
        let mut volumes = Volumes::default();
        files::seed::populate(&mut volumes, seed, clock.now_ms());
        let (mut workspace_tree, mut repos) = (Tree::default(), Repos::default());
        workspace_tree::seed::populate(&mut workspace_tree, &mut repos, seed, clock.now_ms());
        let mut secrets = Secrets::default();
        secrets::seed::populate(&mut secrets, seed, clock.now_ms());
        let mut pipelines = Pipelines::default();
        pipelines::seed::populate(&mut pipelines, seed, clock.now_ms());
        let mut acls = Acls::default();
        clusters::seed::grant_access(&mut acls, &mut clusters, seed, clock.moment());
        let mut jobs = Jobs::default();
        jobs::seed::populate(&mut jobs, seed, clock.now_ms());
        let mut unity = Unity::default();
        unity::seed::populate(&mut unity, seed, clock.now_ms());
        let mut libraries = Libraries::default();
        libraries::seed::populate(&mut libraries, &mut clusters, seed, clock.moment());
        let mut sql = Sql::default();
        sql::seed::populate(&mut sql, seed, clock.now_ms());
        sql::seed::grant_access(&mut acls, seed);
        pipelines::seed::grant_access(&mut acls, seed);
        let mut compute_policy = ComputePolicy::default();
        compute_policy::seed::populate(&mut compute_policy, seed, clock.now_ms());
        Workspace {
            current_user: DEFAULT_USER.to_owned(),
            clusters,
            dbfs,
            volumes,
            workspace_tree,
            repos,
            secrets,
            pipelines,
            identity: identity::seed::directory(),
            acls,
            jobs,
            contexts: Contexts::default(),
            unity,
            sql,
            libraries,
            compute_policy,
        }
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

    /// Whether a bearer token is accepted as the demo user without a directory lookup.
    pub fn accepts(&self, token: &str) -> bool {
        token == DEMO_TOKEN || self.tokens.iter().any(|t| t == token)
    }

    /// The principal a bearer token authenticates as: a seeded or issued token, or a configured
    /// extra token (the demo user).
    pub fn authenticate(&self, token: &str) -> Result<Caller, identity::TokenError> {
        let ws = self.workspace();
        match ws.identity.resolve(token, self.clock.now_ms()) {
            Err(identity::TokenError::Unknown) if self.accepts(token) => ws
                .identity
                .by_user_name(DEFAULT_USER)
                .map(|p| ws.identity.caller(p))
                .ok_or(identity::TokenError::Unknown),
            other => other,
        }
    }
}
