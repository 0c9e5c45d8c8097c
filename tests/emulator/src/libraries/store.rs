//! The libraries of every cluster, and the status each one has at a given moment.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::library::Library;
use crate::{clock::Moment, clusters::Runtime};

/// The steps before the final status, one transition delay each.
const STEPS: [&str; 3] = ["PENDING", "RESOLVING", "INSTALLING"];

/// One library as installed on one cluster.
#[derive(Debug, Clone)]
pub(crate) struct Installed {
    pub library: Library,
    /// When `install` was called (epoch ms).
    pub requested_at: u64,
    /// The `messages` of a failed install (`{cluster}` stands for the cluster id); `None` installs.
    pub failure: Option<String>,
    /// Set by `uninstall`: the Spark context that was running then (the library goes with the next).
    pub uninstalled_in: Option<Option<i64>>,
}

impl Installed {
    pub fn new(library: Library, requested_at: u64) -> Self {
        let failure = library.failure();
        Installed { library, requested_at, failure, uninstalled_in: None }
    }

    /// The install status on a cluster in the given runtime, now.
    pub fn status(&self, cluster: &Runtime, at: Moment) -> &'static str {
        if self.uninstalled_in.is_some() {
            return "UNINSTALL_ON_RESTART";
        }
        let Some(up_since) = cluster.up_since else {
            return "PENDING";
        };
        let started = up_since.max(self.requested_at);
        let step = match at.delay_ms {
            0 => STEPS.len() as u64,
            delay => at.now.saturating_sub(started) / delay,
        };
        match STEPS.get(usize::try_from(step).unwrap_or(usize::MAX)) {
            Some(status) => status,
            None if self.failure.is_some() => "FAILED",
            None => "INSTALLED",
        }
    }

    /// One `LibraryFullStatus`.
    fn render(&self, cluster_id: &str, cluster: &Runtime, at: Moment) -> Value {
        let status = self.status(cluster, at);
        let mut out = json!({
            "library": self.library.json,
            "status": status,
            "is_library_for_all_clusters": false,
        });
        if let (Some(message), "FAILED") = (&self.failure, status) {
            out["messages"] = json!([message.replace("{cluster}", cluster_id)]);
        }
        out
    }
}

/// Libraries by cluster id, in install order within a cluster.
#[derive(Debug, Default)]
pub(crate) struct Libraries {
    by_cluster: BTreeMap<String, Vec<Installed>>,
}

impl Libraries {
    /// `install`: adds the libraries not already there; one pending uninstall is taken back.
    pub fn install(&mut self, cluster_id: &str, libraries: Vec<Library>, now: u64) {
        let installed = self.by_cluster.entry(cluster_id.to_owned()).or_default();
        for library in libraries {
            match installed.iter_mut().find(|i| i.library.json == library.json) {
                Some(existing) => existing.uninstalled_in = None,
                None => installed.push(Installed::new(library, now)),
            }
        }
    }

    /// Seeds a library with a given outcome.
    pub fn insert(&mut self, cluster_id: &str, installed: Installed) {
        self.by_cluster.entry(cluster_id.to_owned()).or_default().push(installed);
    }

    /// `uninstall`: marks the listed libraries for removal at the next restart. Libraries that are
    /// not installed are ignored, as on the service.
    pub fn uninstall(&mut self, cluster_id: &str, libraries: &[Library], cluster: &Runtime) {
        let Some(installed) = self.by_cluster.get_mut(cluster_id) else { return };
        for entry in installed.iter_mut().filter(|i| libraries.iter().any(|l| l.json == i.library.json)) {
            entry.uninstalled_in.get_or_insert(cluster.spark_context_id);
        }
    }

    /// The `library_statuses` of one cluster, after dropping what a restart has uninstalled.
    pub fn statuses(&mut self, cluster_id: &str, cluster: &Runtime, at: Moment) -> Vec<Value> {
        let Some(installed) = self.by_cluster.get_mut(cluster_id) else { return Vec::new() };
        installed.retain(|i| match i.uninstalled_in {
            Some(context) => cluster.spark_context_id.is_none() || cluster.spark_context_id == context,
            None => true,
        });
        installed.iter().map(|i| i.render(cluster_id, cluster, at)).collect()
    }

    /// One `ClusterLibraryStatuses`: `library_statuses` is left out when there are none.
    pub fn cluster_statuses(&mut self, cluster_id: &str, cluster: &Runtime, at: Moment) -> Value {
        let mut out = Map::new();
        out.insert("cluster_id".to_owned(), json!(cluster_id));
        let statuses = self.statuses(cluster_id, cluster, at);
        if !statuses.is_empty() {
            out.insert("library_statuses".to_owned(), Value::Array(statuses));
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime(up_since: Option<u64>, context: Option<i64>) -> Runtime {
        Runtime { owner: "o".into(), name: "c".into(), up: up_since.is_some(), up_since, spark_context_id: context }
    }

    fn pypi(name: &str) -> Library {
        Library::parse(&json!({"pypi": {"package": name}})).unwrap()
    }

    #[test]
    fn steps_advance_one_delay_each_once_the_cluster_is_up() {
        let lib = Installed::new(pypi("pandas"), 1_000);
        let at = |now| Moment { now, delay_ms: 100 };
        assert_eq!(lib.status(&runtime(None, None), at(5_000)), "PENDING");
        let up = runtime(Some(500), Some(1));
        assert_eq!(lib.status(&up, at(1_099)), "PENDING");
        assert_eq!(lib.status(&up, at(1_100)), "RESOLVING");
        assert_eq!(lib.status(&up, at(1_200)), "INSTALLING");
        assert_eq!(lib.status(&up, at(1_300)), "INSTALLED");
        let bad = Installed::new(pypi("does-not-exist"), 1_000);
        assert_eq!(bad.status(&up, Moment { now: 1_000, delay_ms: 0 }), "FAILED");
    }

    #[test]
    fn uninstalled_libraries_leave_with_the_next_spark_context() {
        let mut libs = Libraries::default();
        let at = Moment { now: 10, delay_ms: 0 };
        let before = runtime(Some(1), Some(7));
        libs.install("c1", vec![pypi("a"), pypi("b")], 5);
        libs.uninstall("c1", &[pypi("a")], &before);
        let statuses = libs.statuses("c1", &before, at);
        assert_eq!(statuses[0]["status"], "UNINSTALL_ON_RESTART");
        assert_eq!(statuses[1]["status"], "INSTALLED");
        let after = runtime(Some(20), Some(8));
        let statuses = libs.statuses("c1", &after, Moment { now: 30, delay_ms: 0 });
        assert_eq!(statuses.len(), 1);
        assert_eq!(statuses[0]["library"], json!({"pypi": {"package": "b"}}));
    }
}
