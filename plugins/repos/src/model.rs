//! The Repos and Jobs API data the tools read and return. Known fields are typed; everything else
//! the workspace sends is kept (through `Json<T>`), so structured output is complete.

use databricks_mcp_sdk::prelude::*;

/// A Git folder (`RepoInfo` in the API).
#[schema]
#[derive(Debug, Clone)]
pub struct Repo {
    /// Repo id (also its workspace object id).
    pub id: i64,
    /// Workspace path, e.g. `/Repos/someone@example.com/analytics`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Git remote URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Git provider, e.g. `gitHub`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Checked-out branch; absent when a tag (detached head) is checked out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// SHA-1 of the checked-out commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_commit_id: Option<String>,
}

impl Repo {
    pub fn path(&self) -> &str {
        self.path.as_deref().unwrap_or("(no path)")
    }

    pub fn short_commit(&self) -> &str {
        self.head_commit_id.as_deref().map_or("?", |c| &c[..c.len().min(10)])
    }

    /// What is checked out: `branch main` or `a detached head`.
    pub fn checkout(&self) -> String {
        match &self.branch {
            Some(branch) => format!("branch {branch}"),
            None => "a tag (detached head)".to_string(),
        }
    }

    /// One line a model can read at a glance.
    pub fn line(&self) -> String {
        format!(
            "{} (id {}): {} {}, {} at {}",
            self.path(),
            self.id,
            self.provider.as_deref().unwrap_or("git"),
            self.url.as_deref().unwrap_or("(no url)"),
            self.checkout(),
            self.short_commit()
        )
    }
}

/// A workspace object, as far as finding a repo or notebook by path needs.
#[schema]
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    /// Absolute path.
    pub path: String,
    /// `NOTEBOOK`, `DIRECTORY`, `FILE`, `REPO`...
    #[serde(default)]
    pub object_type: Option<String>,
    /// Object id (the repo id of a `REPO`).
    #[serde(default)]
    pub object_id: Option<i64>,
    /// Notebook language.
    #[serde(default)]
    pub language: Option<String>,
}

/// `state` of a run.
#[schema]
#[derive(Debug, Clone, Default)]
pub struct RunState {
    /// `QUEUED`, `PENDING`, `RUNNING`, `TERMINATING`, `TERMINATED`, `SKIPPED` or `INTERNAL_ERROR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub life_cycle_state: Option<String>,
    /// Once terminal: `SUCCESS`, `FAILED`, `TIMEDOUT`, `CANCELED`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_state: Option<String>,
    /// A message on the state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_message: Option<String>,
}

/// One task of a run.
#[schema]
#[derive(Debug, Clone)]
pub struct RunTask {
    /// The task run's id (for `runs/get-output`).
    pub run_id: i64,
    /// The task key.
    #[serde(default)]
    pub task_key: Option<String>,
}

/// A job run, as far as waiting for it needs.
#[schema]
#[derive(Debug, Clone)]
pub struct Run {
    /// The run id.
    pub run_id: i64,
    /// Its state.
    #[serde(default)]
    pub state: Option<RunState>,
    /// The run's page in the workspace UI.
    #[serde(default)]
    pub run_page_url: Option<String>,
    /// Its task runs.
    #[serde(default)]
    pub tasks: Vec<RunTask>,
}

impl Run {
    pub fn life_cycle_state(&self) -> &str {
        self.state.as_ref().and_then(|s| s.life_cycle_state.as_deref()).unwrap_or("UNKNOWN")
    }

    pub fn result_state(&self) -> Option<&str> {
        self.state.as_ref().and_then(|s| s.result_state.as_deref())
    }

    pub fn is_terminal(&self) -> bool {
        matches!(self.life_cycle_state(), "TERMINATED" | "SKIPPED" | "INTERNAL_ERROR")
    }
}
