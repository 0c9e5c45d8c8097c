//! The jobs and run history a fresh emulator starts with. Times are relative to start-up.
//!
//! `Seed::Test` (ids fixed; task run ids are `run_id * 100 + 1, + 2, ...` in task order):
//!
//! | job_id | name | tasks | runs (newest first) |
//! |---|---|---|---|
//! | 101 | daily-notebook | `main` (notebook on `0101-000000-shared01`) | 1013 SUCCESS, 1012 SUCCESS, 1011 SUCCESS |
//! | 102 | etl-pipeline | `ingest` → `transform` → `publish` | 1022 SUCCESS, 1021 FAILED at `transform` |
//! | 103 | failing-report | `build_report` (notebook `/Shared/reports/fail_report`) | 1032 FAILED, 1031 FAILED |
//!
//! New jobs get ids from 1001 on; new runs get ids above every seeded run and task run.
//!
//! `Seed::Demo` has twelve jobs (ETL, ML training, reports, maintenance) with two to four weeks of
//! history, failures with realistic errors, and one run of `hourly-clickstream-ingest` running now.

use serde_json::{Value, json};

use super::{
    lifecycle::{Lifecycle, Outcome},
    run::{Run, RunType, TaskRun, TaskScript},
    settings,
    store::{Job, Jobs},
};
use crate::{config::Seed, workspace::DEFAULT_USER};

const MINUTE: u64 = 60_000;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

pub(crate) fn populate(jobs: &mut Jobs, seed: Seed, now: u64) {
    match seed {
        Seed::Empty => {}
        Seed::Test => test(jobs, now),
        Seed::Demo => demo(jobs, now),
    }
    jobs.reserve_ids(1001, 5001);
}

fn notebook(key: &str, path: &str, deps: &[&str], cluster: Option<&str>) -> Value {
    let mut task = json!({"task_key": key, "notebook_task": {"notebook_path": path, "source": "WORKSPACE"}});
    if !deps.is_empty() {
        task["depends_on"] = json!(deps.iter().map(|d| json!({"task_key": d})).collect::<Vec<_>>());
    }
    match cluster {
        Some(id) => task["existing_cluster_id"] = json!(id),
        None => task["job_cluster_key"] = json!("job_cluster"),
    }
    task
}

fn python(key: &str, file: &str, deps: &[&str]) -> Value {
    let mut task =
        json!({"task_key": key, "spark_python_task": {"python_file": file}, "job_cluster_key": "job_cluster"});
    if !deps.is_empty() {
        task["depends_on"] = json!(deps.iter().map(|d| json!({"task_key": d})).collect::<Vec<_>>());
    }
    task
}

fn job_cluster(node: &str, workers: u32) -> Value {
    json!([{"job_cluster_key": "job_cluster", "new_cluster": {
        "spark_version": "15.4.x-scala2.12", "node_type_id": node, "num_workers": workers}}])
}

fn add_job(jobs: &mut Jobs, job_id: i64, creator: &str, created: u64, settings: Value) {
    let settings = settings.as_object().cloned().unwrap_or_default();
    let settings = settings::normalize(settings).unwrap_or_else(|e| panic!("seed job {job_id} is invalid: {e}"));
    jobs.insert_job(Job { job_id, creator: creator.to_owned(), created_time: created, settings });
}

/// How a past run went: which task failed and with what error (`None`: all succeeded).
struct Past<'a> {
    run_id: i64,
    start: u64,
    failure: Option<(&'a str, &'a str)>,
    trigger: &'static str,
}

/// A finished run of a job; tasks run one after another, a failure skips what depends on it.
fn add_past_run(jobs: &mut Jobs, job_id: i64, past: Past<'_>, task_ms: u64) {
    let Ok(job) = jobs.job(job_id) else { return };
    let job = job.clone();
    let mut at = past.start;
    let mut results: Vec<(String, Outcome)> = Vec::new();
    let mut tasks = Vec::new();
    for (i, task) in settings::tasks(&job.settings).iter().enumerate() {
        let key = task.get("task_key").and_then(Value::as_str).unwrap_or_default().to_owned();
        let upstream_failed =
            settings::depends_on(task).iter().any(|d| results.iter().any(|(k, o)| k == d && !o.is_success()));
        let mut script = TaskScript::default();
        let (outcome, message, exec) = if upstream_failed {
            (Outcome::UpstreamFailed, "Upstream task(s) failed.", 0)
        } else if let Some((_, error)) = past.failure.filter(|(k, _)| *k == key) {
            script.error = Some(error.to_owned());
            script.error_trace = Some(format!("Traceback (most recent call last):\n  ...\n{error}"));
            (Outcome::Failed, "Workload failed, see run output for details", task_ms / 3)
        } else {
            if task.get("notebook_task").is_some() {
                script.result = Some(format!("{{\"status\": \"ok\", \"task\": \"{key}\"}}"));
            } else {
                script.logs = Some(format!("Starting {key}\nProcessed partitions: 48/48\nDone.\n"));
            }
            (Outcome::Success, "", task_ms + (past.run_id as u64 % 7) * 11_000)
        };
        let setup = if upstream_failed { 0 } else { 45_000 };
        let life = Lifecycle::finished(at, setup, exec, outcome, message);
        at = life.end_time.unwrap_or(at);
        results.push((key.clone(), outcome));
        tasks.push(TaskRun {
            run_id: past.run_id * 100 + i as i64 + 1,
            task_key: key,
            settings: task.clone(),
            life,
            script,
            attempt_number: 0,
        });
    }
    let (outcome, message) = match past.failure {
        Some((key, error)) => {
            let skipped = results.iter().any(|(_, o)| *o == Outcome::UpstreamFailed);
            let tail = if skipped { " This caused all downstream tasks to get skipped." } else { "" };
            (Outcome::Failed, format!("Task {key} failed with message: {error}.{tail}"))
        }
        None => (Outcome::Success, String::new()),
    };
    let mut life = Lifecycle::finished(past.start, 0, at.saturating_sub(past.start + 4_000), outcome, &message);
    life.end_time = Some(at);
    jobs.insert_run(Run {
        run_id: past.run_id,
        job_id: Some(job_id),
        run_name: job.name().to_owned(),
        run_type: RunType::JobRun,
        trigger: past.trigger,
        creator: job.creator.clone(),
        life,
        tasks,
        job_clusters: job.settings.get("job_clusters").and_then(Value::as_array).cloned().unwrap_or_default(),
        job_parameters: Vec::new(),
        overriding_parameters: Default::default(),
        history: Vec::new(),
        current_repair: None,
    });
}

fn test(jobs: &mut Jobs, now: u64) {
    const SHARED: &str = "0101-000000-shared01";
    add_job(
        jobs,
        101,
        DEFAULT_USER,
        now - 30 * DAY,
        json!({"name": "daily-notebook", "tasks": [notebook("main", "/Shared/daily/summary", &[], Some(SHARED))],
               "schedule": {"quartz_cron_expression": "0 0 6 * * ?", "timezone_id": "UTC", "pause_status": "UNPAUSED"}}),
    );
    add_job(
        jobs,
        102,
        DEFAULT_USER,
        now - 20 * DAY,
        json!({"name": "etl-pipeline", "job_clusters": job_cluster("i3.xlarge", 2), "tasks": [
            notebook("ingest", "/Shared/etl/ingest", &[], None),
            notebook("transform", "/Shared/etl/transform", &["ingest"], None),
            notebook("publish", "/Shared/etl/publish", &["transform"], None)],
            "parameters": [{"name": "run_date", "default": "today"}]}),
    );
    add_job(
        jobs,
        103,
        DEFAULT_USER,
        now - 10 * DAY,
        json!({"name": "failing-report",
               "tasks": [notebook("build_report", "/Shared/reports/fail_report", &[], Some(SHARED))]}),
    );
    let past = |run_id, start, failure, trigger| Past { run_id, start, failure, trigger };
    for (i, run_id) in [1011, 1012, 1013].into_iter().enumerate() {
        add_past_run(jobs, 101, past(run_id, now - (3 - i as u64) * DAY, None, "PERIODIC"), 2 * MINUTE);
    }
    let transform_error = "AnalysisException: [UNRESOLVED_COLUMN] A column `order_ts` cannot be resolved";
    add_past_run(jobs, 102, past(1021, now - 2 * DAY, Some(("transform", transform_error)), "ONE_TIME"), 3 * MINUTE);
    add_past_run(jobs, 102, past(1022, now - DAY, None, "ONE_TIME"), 3 * MINUTE);
    let report_error = "Exception: task build_report failed";
    for (i, run_id) in [1031, 1032].into_iter().enumerate() {
        add_past_run(
            jobs,
            103,
            past(run_id, now - (2 - i as u64) * DAY, Some(("build_report", report_error)), "ONE_TIME"),
            MINUTE,
        );
    }
}

/// One demo job: its settings, how often it runs, how long a task takes, and its failures.
struct DemoJob {
    id: i64,
    creator: &'static str,
    settings: Value,
    every: u64,
    runs: u64,
    task_ms: u64,
    /// Every `fail_every`-th run fails at `failing_task` with `error` (0: never).
    fail_every: u64,
    failing_task: &'static str,
    error: &'static str,
}

fn schedule(cron: &str, paused: bool) -> Value {
    json!({"quartz_cron_expression": cron, "timezone_id": "America/Los_Angeles",
           "pause_status": if paused { "PAUSED" } else { "UNPAUSED" }})
}

fn demo(jobs: &mut Jobs, now: u64) {
    const ALICE: &str = "alice.nguyen@example.com";
    const BOB: &str = "bob.smith@example.com";
    const CAROL: &str = "carol.diaz@example.com";
    const DAVE: &str = "dave.okafor@example.com";
    const REPORTING: &str = "0101-000000-report01";
    let email = |who: &str| json!({"on_failure": [who]});
    let demo_jobs = vec![
        DemoJob {
            id: 201,
            creator: ALICE,
            settings: json!({"name": "nightly-sales-etl", "job_clusters": job_cluster("i3.2xlarge", 8),
                "schedule": schedule("0 0 2 * * ?", false), "email_notifications": email(ALICE),
                "tags": {"team": "data-eng", "domain": "sales"}, "tasks": [
                notebook("ingest_raw_orders", "/Repos/data-eng/sales/ingest_raw_orders", &[], None),
                notebook("clean_orders", "/Repos/data-eng/sales/clean_orders", &["ingest_raw_orders"], None),
                notebook("build_daily_aggregates", "/Repos/data-eng/sales/build_daily_aggregates", &["clean_orders"], None)]}),
            every: DAY,
            runs: 28,
            task_ms: 11 * MINUTE,
            fail_every: 9,
            failing_task: "clean_orders",
            error: "org.apache.spark.SparkException: Job aborted due to stage failure: Task 17 in stage 42.0 failed 4 times: java.lang.OutOfMemoryError: Java heap space",
        },
        DemoJob {
            id: 202,
            creator: BOB,
            settings: json!({"name": "hourly-clickstream-ingest", "job_clusters": job_cluster("m5d.xlarge", 4),
                "schedule": schedule("0 0 * * * ?", false), "max_concurrent_runs": 1,
                "tags": {"team": "data-eng", "domain": "web"},
                "tasks": [notebook("ingest_clickstream", "/Repos/data-eng/web/ingest_clickstream", &[], None)]}),
            every: HOUR,
            runs: 48,
            task_ms: 14 * MINUTE,
            fail_every: 17,
            failing_task: "ingest_clickstream",
            error: "com.amazonaws.services.s3.model.AmazonS3Exception: Slow Down (Service: Amazon S3; Status Code: 503)",
        },
        DemoJob {
            id: 203,
            creator: CAROL,
            settings: json!({"name": "churn-model-training", "job_clusters": job_cluster("g4dn.xlarge", 2),
                "schedule": schedule("0 0 4 ? * SUN", false), "tags": {"team": "ml", "model": "churn"},
                "parameters": [{"name": "training_window_days", "default": "90"}, {"name": "model_stage", "default": "Staging"}],
                "tasks": [
                notebook("feature_engineering", "/Repos/ml/churn/feature_engineering", &[], None),
                notebook("train_model", "/Repos/ml/churn/train_xgboost", &["feature_engineering"], None),
                notebook("evaluate_model", "/Repos/ml/churn/evaluate", &["train_model"], None),
                notebook("register_model", "/Repos/ml/churn/register", &["evaluate_model"], None)]}),
            every: 7 * DAY,
            runs: 4,
            task_ms: 25 * MINUTE,
            fail_every: 3,
            failing_task: "evaluate_model",
            error: "AssertionError: AUC 0.71 is below the promotion threshold 0.80",
        },
        DemoJob {
            id: 204,
            creator: DAVE,
            settings: json!({"name": "weekly-executive-report", "schedule": schedule("0 0 7 ? * MON", false),
                "email_notifications": {"on_success": ["exec-team@example.com"], "on_failure": [DAVE]},
                "tasks": [notebook("render_report", "/Shared/reports/executive_weekly", &[], Some(REPORTING))]}),
            every: 7 * DAY,
            runs: 4,
            task_ms: 6 * MINUTE,
            fail_every: 0,
            failing_task: "",
            error: "",
        },
        DemoJob {
            id: 205,
            creator: ALICE,
            settings: json!({"name": "inventory-snapshot", "job_clusters": job_cluster("m5d.xlarge", 2),
                "schedule": schedule("0 30 1 * * ?", false),
                "tasks": [python("snapshot_inventory", "/Workspace/Shared/jobs/inventory_snapshot.py", &[])]}),
            every: DAY,
            runs: 21,
            task_ms: 4 * MINUTE,
            fail_every: 0,
            failing_task: "",
            error: "",
        },
        DemoJob {
            id: 206,
            creator: BOB,
            settings: json!({"name": "marketing-attribution", "job_clusters": job_cluster("r5d.2xlarge", 6),
                "schedule": schedule("0 0 5 * * ?", false), "tasks": [
                notebook("load_touchpoints", "/Repos/analytics/attribution/load_touchpoints", &[], None),
                notebook("load_conversions", "/Repos/analytics/attribution/load_conversions", &[], None),
                notebook("attribute", "/Repos/analytics/attribution/shapley_attribution", &["load_touchpoints", "load_conversions"], None)]}),
            every: DAY,
            runs: 14,
            task_ms: 9 * MINUTE,
            fail_every: 5,
            failing_task: "load_conversions",
            error: "AnalysisException: [DELTA_SCHEMA_MISMATCH] A schema mismatch detected when writing to the Delta table: column `campaign_id` changed type from INT to STRING",
        },
        DemoJob {
            id: 207,
            creator: CAROL,
            settings: json!({"name": "data-quality-checks", "schedule": schedule("0 0 3 * * ?", false),
                "tasks": [notebook("run_expectations", "/Shared/quality/run_expectations", &[], Some(REPORTING))]}),
            every: DAY,
            runs: 21,
            task_ms: 3 * MINUTE,
            fail_every: 4,
            failing_task: "run_expectations",
            error: "Exception: Expectation failed on main.sales.orders: 132 rows with NULL customer_id",
        },
        DemoJob {
            id: 208,
            creator: DAVE,
            settings: json!({"name": "gdpr-deletion-requests", "job_clusters": job_cluster("m5d.large", 1),
                "schedule": schedule("0 0 0 ? * SAT", false),
                "tasks": [python("apply_deletions", "/Workspace/Shared/jobs/gdpr_delete.py", &[])]}),
            every: 7 * DAY,
            runs: 4,
            task_ms: 7 * MINUTE,
            fail_every: 0,
            failing_task: "",
            error: "",
        },
        DemoJob {
            id: 209,
            creator: CAROL,
            settings: json!({"name": "recommendation-model-refresh", "job_clusters": job_cluster("g4dn.xlarge", 4),
                "schedule": schedule("0 0 22 * * ?", false), "tasks": [
                notebook("build_interactions", "/Repos/ml/recsys/build_interactions", &[], None),
                notebook("train_als", "/Repos/ml/recsys/train_als", &["build_interactions"], None),
                notebook("publish_embeddings", "/Repos/ml/recsys/publish_embeddings", &["train_als"], None)]}),
            every: DAY,
            runs: 14,
            task_ms: 18 * MINUTE,
            fail_every: 6,
            failing_task: "train_als",
            error: "Py4JJavaError: An error occurred while calling o412.fit: org.apache.spark.SparkException: Python worker exited unexpectedly (crashed)",
        },
        DemoJob {
            id: 210,
            creator: DAVE,
            settings: json!({"name": "finance-month-end-close", "schedule": schedule("0 0 6 1 * ?", true),
                "tasks": [notebook("close_books", "/Shared/finance/month_end_close", &[], Some(REPORTING))]}),
            every: 14 * DAY,
            runs: 2,
            task_ms: 20 * MINUTE,
            fail_every: 0,
            failing_task: "",
            error: "",
        },
        DemoJob {
            id: 211,
            creator: ALICE,
            settings: json!({"name": "sensor-telemetry-compaction", "job_clusters": job_cluster("i3.xlarge", 3),
                "schedule": schedule("0 15 0 * * ?", false), "tasks": [
                python("optimize_tables", "/Workspace/Shared/jobs/optimize_telemetry.py", &[]),
                python("vacuum_tables", "/Workspace/Shared/jobs/vacuum_telemetry.py", &["optimize_tables"])]}),
            every: DAY,
            runs: 14,
            task_ms: 8 * MINUTE,
            fail_every: 7,
            failing_task: "vacuum_tables",
            error: "ConcurrentDeleteReadException: This transaction attempted to read one or more files that were deleted by a concurrent update",
        },
        DemoJob {
            id: 212,
            creator: BOB,
            settings: json!({"name": "customer-360-refresh", "job_clusters": job_cluster("r5d.xlarge", 4),
                "schedule": schedule("0 0 4 * * ?", false), "tasks": [
                notebook("merge_crm", "/Repos/analytics/c360/merge_crm", &[], None),
                notebook("merge_support_tickets", "/Repos/analytics/c360/merge_support", &["merge_crm"], None)]}),
            every: DAY,
            runs: 10,
            task_ms: 6 * MINUTE,
            fail_every: 0,
            failing_task: "",
            error: "",
        },
    ];
    for (n, spec) in demo_jobs.into_iter().enumerate() {
        let created = now - (spec.every * spec.runs).max(DAY) - (n as u64 + 1) * DAY;
        add_job(jobs, spec.id, spec.creator, created, spec.settings);
        for i in 0..spec.runs {
            let run_id = spec.id * 1000 + i as i64 + 1;
            // The hourly job's newest run is the one still running (added below).
            let start = now - (spec.runs - i) * spec.every - (n as u64 % 5) * MINUTE;
            let fails = spec.fail_every > 0 && (i + 1) % spec.fail_every == 0;
            let failure = fails.then_some((spec.failing_task, spec.error));
            add_past_run(jobs, spec.id, Past { run_id, start, failure, trigger: "PERIODIC" }, spec.task_ms);
        }
    }
    // A run in progress: started 6 minutes ago, runs about 20 minutes in all.
    if let Ok(job) = jobs.job(202) {
        let job = job.clone();
        let start = now - 6 * MINUTE;
        let mut life = Lifecycle::start(start, false);
        life.min_running_ms = 20 * MINUTE;
        let task = settings::tasks(&job.settings).first().cloned().unwrap_or_default();
        let run_id = 202_999;
        jobs.insert_run(Run {
            run_id,
            job_id: Some(202),
            run_name: job.name().to_owned(),
            run_type: RunType::JobRun,
            trigger: "PERIODIC",
            creator: job.creator.clone(),
            life: life.clone(),
            tasks: vec![TaskRun {
                run_id: run_id * 100 + 1,
                task_key: "ingest_clickstream".into(),
                script: TaskScript { result: Some("{\"rows\": 1843221}".into()), ..TaskScript::default() },
                settings: task,
                life,
                attempt_number: 0,
            }],
            job_clusters: job.settings.get("job_clusters").and_then(Value::as_array).cloned().unwrap_or_default(),
            job_parameters: Vec::new(),
            overriding_parameters: Default::default(),
            history: Vec::new(),
            current_repair: None,
        });
    }
}
