//! The state sequences each cluster operation sets off, with the message, event and effect of
//! every step. Messages and event details follow what the real service shows.

use serde_json::{Value, json};

use super::{
    events::EventType,
    model::{Effect, Phase, State, TerminationReason},
    spec::ClusterSpec,
};

const FINDING_INSTANCES: &str = "Finding instances for new nodes, acquiring more instances if necessary";

/// A fresh Spark context id: large and positive, like the service's.
pub(crate) fn new_spark_context_id() -> i64 {
    i64::try_from(rand::random::<u64>() >> 2).unwrap_or(i64::MAX)
}

fn running(workers: u32, spark_context_id: i64) -> Phase {
    Phase::new(State::Running, "")
        .event(EventType::Running, json!({"current_num_workers": workers, "target_num_workers": workers}))
        .effect(Effect::Started { spark_context_id })
}

/// `create`: PENDING, then RUNNING.
pub(crate) fn create(spec: &ClusterSpec, user: &str) -> Vec<Phase> {
    let details = json!({
        "cluster_size": spec.size_json(),
        "user": user,
        "attributes": Value::Object(spec.to_json()),
    });
    vec![
        Phase::new(State::Pending, FINDING_INSTANCES).event(EventType::Creating, details),
        running(spec.target_workers(), new_spark_context_id()),
    ]
}

/// `start`: PENDING, then RUNNING.
pub(crate) fn start(spec: &ClusterSpec, user: &str) -> Vec<Phase> {
    vec![
        Phase::new(State::Pending, FINDING_INSTANCES).event(EventType::Starting, json!({"user": user})),
        running(spec.target_workers(), new_spark_context_id()),
    ]
}

/// `restart`, or an `edit` of a running cluster: RESTARTING, then RUNNING with a new Spark context.
pub(crate) fn restart(spec: &ClusterSpec, user: &str) -> Vec<Phase> {
    vec![
        Phase::new(State::Restarting, "Restarting Spark driver")
            .event(EventType::Restarting, json!({"user": user}))
            .effect(Effect::LostState),
        running(spec.target_workers(), new_spark_context_id()),
    ]
}

/// `resize`: RESIZING, then RUNNING with the new worker count.
pub(crate) fn resize(current: u32, target: u32, user: &str) -> Vec<Phase> {
    let sizes = json!({"current_num_workers": current, "target_num_workers": target});
    let mut resizing = sizes.clone();
    resizing["user"] = json!(user);
    let mut done = Phase::new(State::Running, "").effect(Effect::Resized);
    if target > current {
        done = done
            .event(EventType::UpsizeCompleted, json!({"current_num_workers": target, "target_num_workers": target}));
    }
    vec![Phase::new(State::Resizing, "Resizing cluster").event(EventType::Resizing, resizing), done]
}

/// `delete`: TERMINATING, then TERMINATED for `reason`.
pub(crate) fn terminate(reason: TerminationReason, user: Option<&str>) -> Vec<Phase> {
    let mut details = json!({"reason": reason.to_json()});
    if let Some(user) = user {
        details["user"] = json!(user);
    }
    let message = reason.message();
    vec![
        Phase::new(State::Terminating, "Terminating the Spark cluster").event(EventType::Terminating, details),
        Phase::new(State::Terminated, &message).effect(Effect::Terminated(reason)),
    ]
}

impl TerminationReason {
    /// The `state_message` of a cluster terminated for this reason.
    pub fn message(&self) -> String {
        let param = |key: &str| self.parameters.get(key).map_or("", String::as_str);
        match self.code.as_str() {
            "USER_REQUEST" => format!("Termination requested by {}", param("username")),
            "INACTIVITY" => {
                format!("Inactive cluster terminated (inactive for {} minutes).", param("inactivity_duration_min"))
            }
            "JOB_FINISHED" => "Job finished and the cluster was terminated.".to_owned(),
            code => match self.parameters.get("databricks_error_message") {
                Some(message) => message.clone(),
                None => format!("Cluster terminated. Reason: {code}"),
            },
        }
    }
}
