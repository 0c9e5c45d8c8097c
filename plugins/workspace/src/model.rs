//! The Workspace API's data as the tools read and return it.

use databricks_mcp_sdk::format_time;
use databricks_mcp_sdk::prelude::*;

/// A workspace object (`ObjectInfo` in the API). The fields below are the ones tools and programs
/// rely on; every other field the workspace returns is kept as well.
#[schema]
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    /// Absolute workspace path, e.g. `/Users/someone@example.com/ETL Pipeline`.
    pub path: String,
    /// `NOTEBOOK`, `DIRECTORY`, `FILE`, `REPO` (a Git folder), `LIBRARY` or `DASHBOARD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_type: Option<String>,
    /// Numeric object id (also the repo id of a `REPO`, and the id in permission APIs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<i64>,
    /// Notebook language: `PYTHON`, `SQL`, `SCALA` or `R`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Creation time, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    /// Last modification time, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<i64>,
    /// Size in bytes (files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

impl ObjectInfo {
    pub fn kind(&self) -> &str {
        self.object_type.as_deref().unwrap_or("OBJECT")
    }

    pub fn is_folder(&self) -> bool {
        matches!(self.kind(), "DIRECTORY" | "REPO")
    }

    /// One line a model can read at a glance: type, path, then language, size, id and time.
    pub fn line(&self) -> String {
        let mut details = Vec::new();
        if let Some(language) = &self.language {
            details.push(language.clone());
        }
        if let Some(size) = self.size {
            details.push(format!("{size} bytes"));
        }
        if let Some(id) = self.object_id {
            details.push(format!("id {id}"));
        }
        if let Some(modified) = self.modified_at {
            details.push(format!("modified {}", format_time(modified)));
        }
        if details.is_empty() {
            format!("{:<9} {}", self.kind(), self.path)
        } else {
            format!("{:<9} {}  ({})", self.kind(), self.path, details.join(", "))
        }
    }
}
