//! The clusters a fresh emulator starts with.
//!
//! `Test` is small and fixed, so tests can name its clusters (ids in the crate docs). `Demo` adds
//! thirty more in the variety of a lived-in workspace: all-purpose and job clusters, fixed-size and
//! autoscaling, several runtimes, node types and owners, termination for many reasons, one cluster
//! starting and one restarting. Every cluster gets an event history that matches its state.
//!
//! The rows live in `data`; this file turns a row into a cluster with a consistent history.

mod data;

use std::collections::BTreeMap;

use serde_json::json;

use super::{
    events::EventType,
    model::{Cluster, State, TerminationReason},
    plans,
    render::hash,
    spec::{AutoScale, ClusterSpec},
    store::Clusters,
};
use crate::{
    acl::{Acls, CLUSTER, Grantee},
    clock::Moment,
    config::Seed,
};
use data::{DEMO, TEST};

const HOUR_MS: u64 = 3_600_000;
const MINUTE_MS: u64 = 60_000;

#[derive(Debug, Clone, Copy)]
enum Size {
    Fixed(u32),
    Auto(u32, u32),
}

/// Why a seeded cluster terminated.
#[derive(Debug, Clone, Copy)]
enum Why {
    User(&'static str),
    Inactivity,
    JobFinished,
    NoCapacity,
    DriverUnreachable,
    InitScript,
    SpotLost,
}

/// Where a seeded cluster is in its life.
#[derive(Debug, Clone, Copy)]
enum Life {
    Running,
    /// Being started right now; comes up one transition delay after the emulator starts.
    Starting,
    /// Restarting right now.
    Restarting,
    Terminated {
        hours_ago: u64,
        why: Why,
    },
}

/// One seeded cluster. Fields left at `data::BASE` give a plain running all-purpose cluster.
#[derive(Debug, Clone, Copy)]
struct SeedCluster {
    /// A fixed id; `None` derives one from the name.
    id: Option<&'static str>,
    name: &'static str,
    version: &'static str,
    node: &'static str,
    size: Size,
    source: &'static str,
    creator: &'static str,
    mode: &'static str,
    autotermination: u32,
    team: &'static str,
    pinned: bool,
    /// Restarted once since creation (adds RESTARTING and RUNNING events).
    restarted: bool,
    /// Created this many hours before the emulator started.
    age_hours: u64,
    life: Life,
}

/// Adds the seed's clusters; `now` is when the emulator starts.
pub(crate) fn populate(clusters: &mut Clusters, seed: Seed, now: u64) {
    let seeded: Vec<&SeedCluster> = match seed {
        Seed::Empty => vec![],
        Seed::Test => TEST.iter().collect(),
        Seed::Demo => TEST.iter().chain(DEMO).collect(),
    };
    for s in seeded {
        clusters.insert(s.build(now));
    }
}

impl Why {
    /// The termination reason; `idle_minutes` is the cluster's auto-termination setting.
    fn reason(self, idle_minutes: u32) -> TerminationReason {
        match self {
            Why::User(user) => TerminationReason::user_request(user),
            Why::Inactivity => TerminationReason::new(
                "INACTIVITY",
                "SUCCESS",
                &[("inactivity_duration_min", &idle_minutes.to_string())],
            ),
            Why::JobFinished => TerminationReason::new("JOB_FINISHED", "SUCCESS", &[]),
            Why::NoCapacity => TerminationReason::new(
                "AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE",
                "CLOUD_FAILURE",
                &[
                    ("aws_api_error_code", "InsufficientInstanceCapacity"),
                    (
                        "aws_error_message",
                        "We currently do not have sufficient i3.2xlarge capacity in the Availability Zone you requested (us-west-2a).",
                    ),
                ],
            ),
            Why::DriverUnreachable => TerminationReason::new(
                "DRIVER_UNREACHABLE",
                "SERVICE_FAULT",
                &[("databricks_error_message", "Spark driver was unreachable for 900 seconds.")],
            ),
            Why::InitScript => TerminationReason::new(
                "INIT_SCRIPT_FAILURE",
                "CLIENT_ERROR",
                &[(
                    "databricks_error_message",
                    "Cluster scoped init script /Volumes/main/ops/scripts/install-deps.sh failed: Script exit status is non-zero",
                )],
            ),
            Why::SpotLost => TerminationReason::new(
                "SPOT_INSTANCE_TERMINATION",
                "CLOUD_FAILURE",
                &[("databricks_error_message", "The driver's spot instance was reclaimed by AWS.")],
            ),
        }
    }

    /// Whether the cluster never came up (a launch failure).
    fn failed_launch(self) -> bool {
        matches!(self, Why::NoCapacity | Why::InitScript)
    }
}

impl SeedCluster {
    fn id(&self) -> String {
        if let Some(id) = self.id {
            return id.to_owned();
        }
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let h = hash(self.name);
        let suffix: String = (0..8).map(|i| char::from(CHARS[((h >> (i * 5)) % 36) as usize])).collect();
        let (month, day) = (1 + h % 12, 1 + (h >> 8) % 28);
        let (hour, minute, second) = ((h >> 16) % 24, (h >> 24) % 60, (h >> 32) % 60);
        format!("{month:02}{day:02}-{hour:02}{minute:02}{second:02}-{suffix}")
    }

    fn spec(&self) -> ClusterSpec {
        let (num_workers, autoscale) = match self.size {
            Size::Fixed(n) => (Some(n), None),
            Size::Auto(min, max) => (None, Some(AutoScale { min_workers: min, max_workers: max })),
        };
        let mut spark_conf = BTreeMap::new();
        if num_workers == Some(0) {
            spark_conf.insert("spark.databricks.cluster.profile".into(), "singleNode".into());
            spark_conf.insert("spark.master".into(), "local[*, 4]".into());
        }
        ClusterSpec {
            cluster_name: Some(self.name.to_owned()),
            spark_version: Some(self.version.to_owned()),
            node_type_id: Some(self.node.to_owned()),
            num_workers,
            autoscale,
            autotermination_minutes: Some(self.autotermination),
            spark_conf: Some(spark_conf),
            custom_tags: (!self.team.is_empty()).then(|| BTreeMap::from([("team".to_owned(), self.team.to_owned())])),
            data_security_mode: Some(self.mode.to_owned()),
            single_user_name: (self.mode == "SINGLE_USER").then(|| self.creator.to_owned()),
            ..ClusterSpec::default()
        }
    }

    /// The cluster with a history leading to its state.
    fn build(&self, now: u64) -> Cluster {
        let created = now.saturating_sub(self.age_hours * HOUR_MS);
        let mut c = Cluster::new(self.id(), self.spec(), self.creator, self.source, created);
        if self.source == "JOB"
            && let Some((job, run)) = self.name.strip_prefix("job-").and_then(|r| r.split_once("-run-"))
        {
            c.extra_default_tags.insert("JobId".into(), job.to_owned());
            c.extra_default_tags.insert("RunName".into(), format!("run-{run}"));
        }
        let workers = c.target_workers();
        let sizes = json!({"current_num_workers": workers, "target_num_workers": workers});
        c.log(created, EventType::Creating, json!({"cluster_size": c.spec.size_json(), "user": self.creator}));

        let ended = match self.life {
            Life::Terminated { hours_ago, .. } => now.saturating_sub(hours_ago * HOUR_MS),
            _ => now,
        };
        let launch_failed = matches!(self.life, Life::Terminated { why, .. } if why.failed_launch());
        if !launch_failed {
            let up = created + 5 * MINUTE_MS;
            c.log(up, EventType::Running, sizes.clone());
            c.log(up + MINUTE_MS, EventType::DriverHealthy, json!({}));
            c.last_restarted_time = Some(up);
            if self.pinned {
                c.log(up + 10 * MINUTE_MS, EventType::Pinned, json!({"user": self.creator}));
            }
            if self.restarted {
                let restart = up + (ended.saturating_sub(up)) / 2;
                c.log(restart, EventType::Restarting, json!({"user": self.creator}));
                c.log(restart + 3 * MINUTE_MS, EventType::Running, sizes);
                c.last_restarted_time = Some(restart + 3 * MINUTE_MS);
                c.last_state_loss_time = Some(restart);
            }
        }
        c.pinned = self.pinned;
        c.spark_context_id = Some(i64::try_from(hash(&c.id) >> 2).unwrap_or(1));
        c.workers = workers;
        c.state = State::Running;
        c.state_since = c.last_restarted_time.unwrap_or(created);

        match self.life {
            Life::Running => {}
            Life::Starting => {
                // Idle overnight, and its owner is starting it again right now.
                let idled = now.saturating_sub(HOUR_MS);
                c.begin(idled, plans::terminate(Why::Inactivity.reason(self.autotermination), None));
                c.advance(idled, 0);
                c.begin(now, plans::start(&c.spec, self.creator));
            }
            Life::Restarting => c.begin(now, plans::restart(&c.spec, self.creator)),
            Life::Terminated { why, .. } => {
                let user = match why {
                    Why::User(user) => Some(user),
                    _ => None,
                };
                // Replays the termination at the time it happened: both steps are long past.
                c.begin(ended, plans::terminate(why.reason(self.autotermination), user));
                c.advance(ended, 0);
            }
        }
        c
    }
}

/// Who else may use the seeded clusters (owners and admins need no grant). In `Test`, alice sees
/// `shared01` (all users may attach), restarts `etlnig01` (through `data-engineers`) and manages
/// `mlgpu001` (her own); `report01` and `adhoc001` are hidden from her. `Demo` also opens the
/// service principal's clusters to `data-engineers` and pinned clusters to everyone.
pub(crate) fn grant_access(acls: &mut Acls, clusters: &mut Clusters, seed: Seed, at: Moment) {
    if seed == Seed::Empty {
        return;
    }
    acls.grant(&CLUSTER, "0101-000000-shared01", Grantee::Group("users".into()), "CAN_ATTACH_TO");
    acls.grant(&CLUSTER, "0101-000000-etlnig01", Grantee::Group("data-engineers".into()), "CAN_RESTART");
    acls.grant(&CLUSTER, "0101-000000-report01", Grantee::User("bob.smith@example.com".into()), "CAN_RESTART");
    if seed == Seed::Demo {
        for cluster in clusters.all(at) {
            if cluster.creator == crate::SP_CLIENT_ID {
                acls.grant(&CLUSTER, &cluster.id, Grantee::Group("data-engineers".into()), "CAN_RESTART");
            } else if cluster.pinned {
                acls.grant(&CLUSTER, &cluster.id, Grantee::Group("users".into()), "CAN_ATTACH_TO");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Moment;

    fn seeded(seed: Seed) -> Clusters {
        let mut clusters = Clusters::default();
        populate(&mut clusters, seed, 10_000 * HOUR_MS);
        clusters
    }

    #[test]
    fn test_seed_is_three_running_and_two_terminated() {
        let mut clusters = seeded(Seed::Test);
        let at = Moment { now: 10_000 * HOUR_MS, delay_ms: 3_000 };
        let states: Vec<(String, State)> = clusters.all(at).iter().map(|c| (c.id.clone(), c.state)).collect();
        assert_eq!(states.len(), 5);
        assert_eq!(states.iter().filter(|(_, s)| *s == State::Running).count(), 3);
        assert_eq!(states.iter().filter(|(_, s)| *s == State::Terminated).count(), 2);
        let etl = clusters.get("0101-000000-etlnig01", at).expect("seeded");
        assert_eq!(etl.termination_reason.as_ref().map(|r| r.code.as_str()), Some("INACTIVITY"));
    }

    #[test]
    fn demo_seed_has_dozens_of_distinct_clusters() {
        let mut clusters = seeded(Seed::Demo);
        let at = Moment { now: 10_000 * HOUR_MS, delay_ms: 3_000 };
        let all = clusters.all(at);
        assert_eq!(all.len(), TEST.len() + DEMO.len(), "derived ids must not collide");
        assert!((30..=40).contains(&all.len()), "{} clusters", all.len());
        assert!(all.iter().any(|c| c.state == State::Pending));
        assert!(all.iter().any(|c| c.source == "JOB" && c.extra_default_tags.contains_key("JobId")));
        assert!(all.iter().all(|c| !c.events.is_empty() && c.spec.validate().is_ok()));
    }

    #[test]
    fn empty_seed_is_empty() {
        let mut clusters = seeded(Seed::Empty);
        assert!(clusters.all(Moment { now: 0, delay_ms: 0 }).is_empty());
    }
}
