//! All clusters of the workspace and the operations on them.
//!
//! Every operation first brings the cluster up to date ([`Cluster::advance`]), then checks that
//! its state allows the operation, exactly as the real service answers `INVALID_STATE`.

use std::collections::BTreeMap;

use rand::Rng;
use serde_json::{Map, Value, json};

use super::{
    events::EventType,
    model::{Cluster, State, TerminationReason},
    plans,
    spec::{AutoScale, ClusterSpec},
};
use crate::{
    clock::{Moment, civil_from_epoch_ms},
    error::ApiError,
};

/// The clusters of one workspace, by id.
#[derive(Debug, Default)]
pub(crate) struct Clusters {
    by_id: BTreeMap<String, Cluster>,
}

/// The error for an id that names no cluster; SDKs match this exact wording (reference §0.6).
fn does_not_exist(id: &str) -> ApiError {
    ApiError::invalid_parameter(format!("Cluster {id} does not exist"))
}

fn unexpected_state(cluster: &Cluster) -> ApiError {
    ApiError::invalid_state(format!("Cluster {} is in unexpected state {}.", cluster.id, cluster.state.title()))
}

impl Clusters {
    pub fn insert(&mut self, cluster: Cluster) {
        self.by_id.insert(cluster.id.clone(), cluster);
    }

    /// The cluster, brought up to date.
    pub fn get(&mut self, id: &str, at: Moment) -> Result<&mut Cluster, ApiError> {
        let cluster = self.by_id.get_mut(id).ok_or_else(|| does_not_exist(id))?;
        cluster.advance(at.now, at.delay_ms);
        Ok(cluster)
    }

    /// Every cluster, brought up to date, in id order.
    pub fn all(&mut self, at: Moment) -> Vec<&Cluster> {
        self.by_id
            .values_mut()
            .map(|c| {
                c.advance(at.now, at.delay_ms);
                &*c
            })
            .collect()
    }

    /// `create`: a new PENDING cluster that will come up; returns its id.
    pub fn create(&mut self, spec: ClusterSpec, user: &str, source: &str, at: Moment) -> String {
        let id = self.new_id(at.now);
        let plan = plans::create(&spec, user);
        let mut cluster = Cluster::new(id.clone(), spec, user, source, at.now);
        cluster.begin(at.now, plan);
        self.insert(cluster);
        id
    }

    /// `start`: only a TERMINATED cluster can start.
    pub fn start(&mut self, id: &str, user: &str, at: Moment) -> Result<(), ApiError> {
        let cluster = self.get(id, at)?;
        if cluster.state != State::Terminated {
            return Err(unexpected_state(cluster));
        }
        let plan = plans::start(&cluster.spec, user);
        cluster.begin(at.now, plan);
        Ok(())
    }

    /// `restart`: only a RUNNING cluster can restart.
    pub fn restart(&mut self, id: &str, user: &str, at: Moment) -> Result<(), ApiError> {
        let cluster = self.get(id, at)?;
        if cluster.state != State::Running {
            return Err(unexpected_state(cluster));
        }
        let plan = plans::restart(&cluster.spec, user);
        cluster.begin(at.now, plan);
        Ok(())
    }

    /// `resize`: only a RUNNING cluster can resize; the new size replaces the old one.
    pub fn resize(
        &mut self,
        id: &str,
        num_workers: Option<u32>,
        autoscale: Option<AutoScale>,
        user: &str,
        at: Moment,
    ) -> Result<(), ApiError> {
        let cluster = self.get(id, at)?;
        if cluster.state != State::Running {
            return Err(unexpected_state(cluster));
        }
        let mut spec = cluster.spec.clone();
        match (num_workers, autoscale) {
            (_, Some(scale)) => {
                spec.autoscale = Some(scale);
                spec.num_workers = None;
            }
            (Some(n), None) => {
                spec.num_workers = Some(n);
                spec.autoscale = None;
            }
            (None, None) => {
                return Err(ApiError::invalid_parameter("Either num_workers or autoscale must be specified."));
            }
        }
        spec.validate()?;
        let current = cluster.workers;
        cluster.spec = spec;
        let plan = plans::resize(current, cluster.target_workers(), user);
        cluster.begin(at.now, plan);
        Ok(())
    }

    /// `delete`: terminates the cluster; terminating a terminated cluster is a no-op.
    pub fn terminate(
        &mut self,
        id: &str,
        reason: TerminationReason,
        user: Option<&str>,
        at: Moment,
    ) -> Result<(), ApiError> {
        let cluster = self.get(id, at)?;
        if matches!(cluster.state, State::Terminated | State::Terminating) {
            return Ok(());
        }
        cluster.begin(at.now, plans::terminate(reason, user));
        Ok(())
    }

    /// `edit`: replaces the spec. A running cluster restarts to apply it; a terminated one keeps
    /// it for its next start. Clusters in between cannot be edited.
    pub fn edit(&mut self, id: &str, spec: ClusterSpec, user: &str, at: Moment) -> Result<(), ApiError> {
        self.apply_spec(id, spec, false, user, at)
    }

    /// `update`: sets the fields named in `update_mask` from `changes` (a field missing from
    /// `changes` is cleared). A change of size alone resizes a running cluster instead of restarting it.
    pub fn update(
        &mut self,
        id: &str,
        update_mask: &str,
        changes: &Map<String, Value>,
        user: &str,
        at: Moment,
    ) -> Result<(), ApiError> {
        let fields: Vec<&str> = update_mask.split(',').map(str::trim).filter(|f| !f.is_empty()).collect();
        if fields.is_empty() {
            return Err(ApiError::missing_field("update_mask"));
        }
        let mut attributes = self.get(id, at)?.spec.to_json();
        for field in &fields {
            set_path(&mut attributes, field, get_path(changes, field));
        }
        let spec = ClusterSpec::from_body(&attributes)?;
        spec.validate()?;
        let resize_only = fields.iter().all(|f| f.starts_with("num_workers") || f.starts_with("autoscale"));
        self.apply_spec(id, spec, resize_only, user, at)
    }

    fn apply_spec(
        &mut self,
        id: &str,
        spec: ClusterSpec,
        resize_only: bool,
        user: &str,
        at: Moment,
    ) -> Result<(), ApiError> {
        let cluster = self.get(id, at)?;
        if !matches!(cluster.state, State::Running | State::Terminated) {
            return Err(unexpected_state(cluster));
        }
        let details = json!({
            "previous_attributes": Value::Object(cluster.spec.to_json()),
            "attributes": Value::Object(spec.to_json()),
            "previous_cluster_size": cluster.spec.size_json(),
            "cluster_size": spec.size_json(),
            "user": user,
        });
        cluster.log(at.now, EventType::Edited, details);
        let current = cluster.workers;
        cluster.spec = spec;
        if cluster.state == State::Running {
            let plan = if resize_only {
                plans::resize(current, cluster.target_workers(), user)
            } else {
                plans::restart(&cluster.spec, user)
            };
            cluster.begin(at.now, plan);
        }
        Ok(())
    }

    /// `pin` / `unpin`; a call that changes nothing logs nothing.
    pub fn set_pinned(&mut self, id: &str, pinned: bool, user: &str, at: Moment) -> Result<(), ApiError> {
        let cluster = self.get(id, at)?;
        if cluster.pinned != pinned {
            cluster.pinned = pinned;
            let kind = if pinned { EventType::Pinned } else { EventType::Unpinned };
            cluster.log(at.now, kind, json!({"user": user}));
        }
        Ok(())
    }

    /// `permanent-delete`: the cluster and its events are gone.
    pub fn remove(&mut self, id: &str) -> Result<(), ApiError> {
        self.by_id.remove(id).map(drop).ok_or_else(|| does_not_exist(id))
    }

    /// `change-owner`: the cluster must be terminated, as the service requires.
    pub fn change_owner(&mut self, id: &str, owner: &str, at: Moment) -> Result<(), ApiError> {
        let cluster = self.get(id, at)?;
        if cluster.state != State::Terminated {
            return Err(unexpected_state(cluster));
        }
        cluster.creator = owner.to_owned();
        Ok(())
    }

    /// A fresh id shaped like the service's: `MMDD-HHMMSS-` and eight random characters.
    fn new_id(&self, now: u64) -> String {
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let (_, month, day, hour, minute, second) = civil_from_epoch_ms(now);
        let mut rng = rand::rng();
        loop {
            let suffix: String = (0..8).map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())])).collect();
            let id = format!("{month:02}{day:02}-{hour:02}{minute:02}{second:02}-{suffix}");
            if !self.by_id.contains_key(&id) {
                return id;
            }
        }
    }
}

/// The value at a dotted path (`autoscale.max_workers`), or `None`.
fn get_path(map: &Map<String, Value>, path: &str) -> Option<Value> {
    let mut parts = path.split('.');
    let mut current = map.get(parts.next()?)?;
    for part in parts {
        current = current.get(part)?;
    }
    Some(current.clone())
}

/// Sets (or, for `None`, removes) the value at a dotted path, creating objects along the way.
fn set_path(map: &mut Map<String, Value>, path: &str, value: Option<Value>) {
    match path.split_once('.') {
        None => {
            match value {
                Some(v) => map.insert(path.to_owned(), v),
                None => map.remove(path),
            };
        }
        Some((head, rest)) => {
            let child = map.entry(head).or_insert_with(|| json!({}));
            if !child.is_object() {
                *child = json!({});
            }
            if let Value::Object(child) = child {
                set_path(child, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: Moment = Moment { now: 1_000_000, delay_ms: 0 };

    fn spec(workers: u32) -> ClusterSpec {
        ClusterSpec {
            spark_version: Some("15.4.x-scala2.12".into()),
            node_type_id: Some("i3.xlarge".into()),
            num_workers: Some(workers),
            ..ClusterSpec::default()
        }
    }

    fn state(clusters: &mut Clusters, id: &str) -> State {
        clusters.get(id, AT).expect("cluster exists").state
    }

    #[test]
    fn new_ids_look_like_real_ones() {
        let mut clusters = Clusters::default();
        let id = clusters.create(spec(1), "me", "API", AT);
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), vec![4, 6, 8]);
    }

    #[test]
    fn start_needs_a_terminated_cluster() {
        let mut clusters = Clusters::default();
        let id = clusters.create(spec(1), "me", "API", AT);
        let err = clusters.start(&id, "me", AT).expect_err("running clusters cannot start");
        assert_eq!(err.code, "INVALID_STATE");
        assert_eq!(err.message, format!("Cluster {id} is in unexpected state Running."));

        clusters.terminate(&id, TerminationReason::user_request("me"), Some("me"), AT).expect("terminates");
        assert_eq!(state(&mut clusters, &id), State::Terminated);
        clusters.start(&id, "me", AT).expect("starts");
        assert_eq!(state(&mut clusters, &id), State::Running);
    }

    #[test]
    fn update_sets_masked_fields_only() {
        let mut clusters = Clusters::default();
        let id = clusters.create(spec(1), "me", "API", AT);
        let changes = json!({"num_workers": 5, "cluster_name": "ignored"});
        let changes = changes.as_object().expect("object");
        clusters.update(&id, "num_workers", changes, "me", AT).expect("updates");
        let cluster = clusters.get(&id, AT).expect("exists");
        assert_eq!(cluster.spec.num_workers, Some(5));
        assert_eq!(cluster.spec.cluster_name, None);
        assert_eq!(cluster.workers, 5);
        let kinds: Vec<_> = cluster.events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds.last(), Some(&EventType::UpsizeCompleted));
    }

    #[test]
    fn dotted_paths_reach_into_objects() {
        let mut map = Map::new();
        set_path(&mut map, "autoscale.max_workers", Some(json!(9)));
        assert_eq!(get_path(&map, "autoscale.max_workers"), Some(json!(9)));
        set_path(&mut map, "autoscale.max_workers", None);
        assert_eq!(Value::Object(map), json!({"autoscale": {}}));
    }

    #[test]
    fn missing_clusters_use_the_sdk_wording() {
        let mut clusters = Clusters::default();
        let err = clusters.restart("nope", "me", AT).expect_err("no such cluster");
        assert_eq!(err.message, "Cluster nope does not exist");
        assert_eq!(clusters.remove("nope").expect_err("no such cluster").code, "INVALID_PARAMETER_VALUE");
    }
}
