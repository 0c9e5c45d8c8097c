//! The seeded clusters as data. Times are relative to start-up; people are made up.

use super::{
    Life::{Restarting, Running, Starting, Terminated},
    SeedCluster,
    Size::{Auto, Fixed},
    Why::{DriverUnreachable, Inactivity, InitScript, JobFinished, NoCapacity, SpotLost, User},
};
use crate::workspace::DEFAULT_USER;

const ALICE: &str = "alice.nguyen@example.com";
const BOB: &str = "bob.smith@example.com";
const CAROL: &str = "carol.diaz@example.com";
const DAVE: &str = "dave.okafor@example.com";
const ERIN: &str = "erin.park@example.com";
const FRANK: &str = "frank.mueller@example.com";
/// A service principal's application id, as jobs and automation show up.
const ETL_SP: &str = crate::SP_CLIENT_ID;

const BASE: SeedCluster = SeedCluster {
    id: None,
    name: "",
    version: "15.4.x-scala2.12",
    node: "i3.xlarge",
    size: Fixed(2),
    source: "UI",
    creator: DEFAULT_USER,
    mode: "USER_ISOLATION",
    autotermination: 120,
    team: "",
    pinned: false,
    restarted: false,
    age_hours: 72,
    life: Running,
};

/// The `Test` seed: 3 running and 2 terminated clusters with fixed ids.
pub(super) const TEST: &[SeedCluster] = &[
    SeedCluster {
        id: Some("0101-000000-shared01"),
        name: "shared-autoscaling",
        size: Auto(2, 8),
        team: "platform",
        pinned: true,
        age_hours: 240,
        ..BASE
    },
    SeedCluster {
        id: Some("0101-000000-report01"),
        name: "reporting",
        version: "16.4.x-scala2.12",
        node: "m5d.xlarge",
        source: "API",
        mode: "SINGLE_USER",
        autotermination: 60,
        team: "bi",
        age_hours: 30,
        ..BASE
    },
    SeedCluster {
        id: Some("0101-000000-mlgpu001"),
        name: "ml-gpu",
        version: "15.4.x-gpu-ml-scala2.12",
        node: "g4dn.xlarge",
        size: Fixed(1),
        creator: ALICE,
        mode: "SINGLE_USER",
        team: "data-science",
        age_hours: 6,
        ..BASE
    },
    SeedCluster {
        id: Some("0101-000000-etlnig01"),
        name: "etl-nightly",
        version: "14.3.x-scala2.12",
        node: "i3.2xlarge",
        size: Fixed(4),
        source: "API",
        mode: "NONE",
        autotermination: 60,
        team: "data-eng",
        age_hours: 400,
        life: Terminated { hours_ago: 9, why: Inactivity },
        ..BASE
    },
    SeedCluster {
        id: Some("0101-000000-adhoc001"),
        name: "adhoc-analysis",
        version: "13.3.x-scala2.12",
        node: "r5d.xlarge",
        size: Auto(1, 4),
        creator: BOB,
        age_hours: 50,
        life: Terminated { hours_ago: 26, why: User(BOB) },
        ..BASE
    },
];

/// What `Demo` adds to the `Test` clusters.
// One row per cluster: the seed reads as a table.
#[rustfmt::skip]
pub(super) const DEMO: &[SeedCluster] = &[
    SeedCluster { name: "data-science-shared", version: "16.4.x-cpu-ml-scala2.12", node: "i3.2xlarge", size: Auto(2, 10), creator: ALICE, team: "data-science", pinned: true, age_hours: 700, restarted: true, ..BASE },
    SeedCluster { name: "bi-serving", version: "15.4.x-photon-scala2.12", node: "r5d.2xlarge", size: Fixed(4), source: "API", creator: ETL_SP, team: "bi", age_hours: 160, ..BASE },
    SeedCluster { name: "streaming-orders", node: "c5d.2xlarge", size: Fixed(6), source: "API", creator: ETL_SP, mode: "SINGLE_USER", autotermination: 0, team: "data-eng", restarted: true, age_hours: 500, ..BASE },
    SeedCluster { name: "carol-dev", version: "16.4.x-scala2.12", node: "m5d.large", size: Fixed(0), creator: CAROL, mode: "SINGLE_USER", autotermination: 30, age_hours: 3, ..BASE },
    SeedCluster { name: "genai-finetune", version: "17.3.x-gpu-ml-scala2.13", node: "g5.xlarge", size: Fixed(2), creator: DAVE, mode: "SINGLE_USER", team: "data-science", age_hours: 20, ..BASE },
    SeedCluster { name: "job-184467-run-9912034", version: "16.4.x-scala2.12", size: Fixed(8), source: "JOB", creator: ETL_SP, mode: "SINGLE_USER", autotermination: 0, age_hours: 1, ..BASE },
    SeedCluster { name: "graviton-etl", version: "16.4.x-aarch64-scala2.12", node: "m6gd.xlarge", size: Auto(2, 6), source: "API", creator: ETL_SP, team: "data-eng", age_hours: 90, ..BASE },
    SeedCluster { name: "analytics-adhoc", version: "17.3.x-scala2.13", node: "m5d.xlarge", size: Auto(1, 5), creator: BOB, restarted: true, age_hours: 48, ..BASE },
    SeedCluster { name: "feature-store-refresh", version: "15.4.x-cpu-ml-scala2.12", node: "m5d.2xlarge", size: Fixed(3), creator: ALICE, mode: "SINGLE_USER", team: "data-science", age_hours: 300, life: Starting, ..BASE },
    SeedCluster { name: "sql-migration", version: "14.3.x-scala2.12", node: "r5d.xlarge", creator: CAROL, age_hours: 26, life: Restarting, ..BASE },
    SeedCluster { name: "etl-backfill-2024", version: "14.3.x-scala2.12", node: "i3.4xlarge", size: Fixed(16), source: "API", creator: ETL_SP, mode: "SINGLE_USER", team: "data-eng", age_hours: 260, life: Terminated { hours_ago: 200, why: User(ETL_SP) }, ..BASE },
    SeedCluster { name: "marketing-attribution", node: "m5d.xlarge", size: Auto(2, 8), creator: ALICE, team: "marketing", age_hours: 80, life: Terminated { hours_ago: 40, why: Inactivity }, ..BASE },
    SeedCluster { name: "job-184467-run-9911870", version: "16.4.x-scala2.12", size: Fixed(8), source: "JOB", creator: ETL_SP, mode: "SINGLE_USER", autotermination: 0, age_hours: 25, life: Terminated { hours_ago: 24, why: JobFinished }, ..BASE },
    SeedCluster { name: "job-184467-run-9911702", version: "16.4.x-scala2.12", size: Fixed(8), source: "JOB", creator: ETL_SP, mode: "SINGLE_USER", autotermination: 0, age_hours: 49, life: Terminated { hours_ago: 48, why: JobFinished }, ..BASE },
    SeedCluster { name: "job-201355-run-9903311", node: "i3.2xlarge", size: Fixed(20), source: "JOB", creator: ETL_SP, mode: "SINGLE_USER", autotermination: 0, age_hours: 12, life: Terminated { hours_ago: 12, why: NoCapacity }, ..BASE },
    SeedCluster { name: "job-201355-run-9903530", node: "i3.2xlarge", size: Fixed(20), source: "JOB", creator: ETL_SP, mode: "SINGLE_USER", autotermination: 0, age_hours: 11, life: Terminated { hours_ago: 9, why: JobFinished }, ..BASE },
    SeedCluster { name: "job-77120-run-9899004", version: "13.3.x-scala2.12", node: "m5d.xlarge", size: Fixed(2), source: "JOB", creator: BOB, mode: "SINGLE_USER", autotermination: 0, age_hours: 70, life: Terminated { hours_ago: 70, why: InitScript }, ..BASE },
    SeedCluster { name: "gpu-experiments", version: "15.4.x-gpu-ml-scala2.12", node: "g4dn.xlarge", size: Fixed(1), creator: DAVE, mode: "SINGLE_USER", team: "data-science", age_hours: 120, life: Terminated { hours_ago: 100, why: Inactivity }, ..BASE },
    SeedCluster { name: "legacy-hive-jobs", version: "12.2.x-scala2.12", size: Fixed(4), source: "API", creator: BOB, mode: "LEGACY_TABLE_ACL", pinned: true, age_hours: 2_000, life: Terminated { hours_ago: 1_500, why: User(BOB) }, ..BASE },
    SeedCluster { name: "recsys-training", version: "16.4.x-cpu-ml-scala2.12", node: "r5d.2xlarge", size: Auto(4, 16), creator: ALICE, mode: "SINGLE_USER", team: "data-science", age_hours: 36, life: Terminated { hours_ago: 30, why: DriverUnreachable }, ..BASE },
    SeedCluster { name: "notebook-sandbox", version: "16.3.x-scala2.12", node: "m5d.large", size: Fixed(1), creator: ERIN, age_hours: 10, life: Terminated { hours_ago: 7, why: Inactivity }, ..BASE },
    SeedCluster { name: "customer-360", version: "15.4.x-photon-scala2.12", node: "i3.2xlarge", size: Auto(2, 8), source: "API", creator: ETL_SP, team: "marketing", age_hours: 300, life: Terminated { hours_ago: 60, why: User(ETL_SP) }, ..BASE },
    SeedCluster { name: "spot-batch-scoring", version: "15.4.x-cpu-ml-scala2.12", node: "c5d.2xlarge", size: Fixed(10), source: "API", creator: ETL_SP, mode: "SINGLE_USER", team: "data-science", age_hours: 18, life: Terminated { hours_ago: 16, why: SpotLost }, ..BASE },
    SeedCluster { name: "dbt-runner", version: "16.4.x-scala2.12", node: "m5d.xlarge", size: Fixed(2), source: "API", creator: ETL_SP, team: "analytics-eng", age_hours: 50, life: Terminated { hours_ago: 20, why: Inactivity }, ..BASE },
    SeedCluster { name: "finance-close", version: "14.3.x-scala2.12", node: "r5d.xlarge", size: Fixed(4), creator: FRANK, team: "finance", age_hours: 100, life: Terminated { hours_ago: 90, why: User(FRANK) }, ..BASE },
    SeedCluster { name: "job-90210-run-9915120", version: "17.3.x-scala2.13", node: "m5d.2xlarge", size: Fixed(4), source: "JOB", creator: FRANK, mode: "SINGLE_USER", autotermination: 0, age_hours: 5, life: Terminated { hours_ago: 4, why: JobFinished }, ..BASE },
    SeedCluster { name: "tmp-debug-bob", version: "17.2.x-scala2.13", node: "m5d.large", size: Fixed(0), creator: BOB, mode: "SINGLE_USER", autotermination: 20, age_hours: 4, life: Terminated { hours_ago: 2, why: User(BOB) }, ..BASE },
    SeedCluster { name: "photon-benchmark", version: "15.4.x-photon-scala2.12", node: "i3.2xlarge", size: Fixed(8), source: "API", creator: CAROL, age_hours: 150, life: Terminated { hours_ago: 140, why: User(CAROL) }, ..BASE },
    SeedCluster { name: "hr-analytics", version: "16.4.x-scala2.12", node: "m5d.xlarge", size: Auto(1, 3), creator: ERIN, team: "people", age_hours: 400, life: Terminated { hours_ago: 33, why: Inactivity }, ..BASE },
    // Terminated 45 days ago and not pinned: `get` finds it, `list` no longer shows it.
    SeedCluster { name: "old-experiment-q1", version: "13.3.x-scala2.12", size: Fixed(2), creator: DAVE, age_hours: 1_200, life: Terminated { hours_ago: 1_080, why: Inactivity }, ..BASE },
];
