//! The pipelines a fresh emulator starts with.
//!
//! `Test` (ids are fixed, so tests can name them; [`grant_access`] says who else may see them):
//!
//! | id | name | state | history |
//! |---|---|---|---|
//! | `11111111-2222-4333-8444-000000000001` | sales-etl | IDLE, HEALTHY | 3 updates, all COMPLETED |
//! | `11111111-2222-4333-8444-000000000002` | inventory-ingest | IDLE, UNHEALTHY | COMPLETED, then FAILED (its library path mentions "fail", so new updates fail too) |
//!
//! `Demo` holds seven pipelines in the variety of a lived-in workspace: a bronze/silver/gold
//! medallion ETL with a week of daily updates and one failure, a CDC ingest with a canceled
//! update, a continuous serverless streaming pipeline that is RUNNING, a failing finance pipeline,
//! a development pipeline starting right now, one never run, and a legacy Hive metastore one.
//! Past updates are replayed through the same steps as live ones, so their events are complete.

use serde_json::{Value, json};

use super::{
    access::PIPELINE,
    ids,
    model::Pipeline,
    plans,
    spec::Settings,
    store::{self, Pipelines, StartRequest},
};
use crate::{
    acl::{Acls, Grantee},
    config::Seed,
    workspace::DEFAULT_USER,
};

/// The Test seed's healthy pipeline.
pub(crate) const TEST_HEALTHY: &str = "11111111-2222-4333-8444-000000000001";
/// The Test seed's pipeline whose last update failed.
pub(crate) const TEST_FAILED: &str = "11111111-2222-4333-8444-000000000002";

const HOUR_MS: u64 = 3_600_000;
/// How long each step of a replayed update takes.
const STEP_MS: u64 = 40_000;

const ALICE: &str = "alice.nguyen@example.com";
const BOB: &str = "bob.smith@example.com";
const CAROL: &str = "carol.diaz@example.com";
const ETL_SP: &str = "7c1e5f0a-3b2d-4c8e-9f6a-1d2e3f4a5b6c";

/// How a replayed update ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Completed,
    Failed,
    Canceled,
}

pub(crate) fn populate(pipelines: &mut Pipelines, seed: Seed, now: u64) {
    match seed {
        Seed::Empty => {}
        Seed::Test => test(pipelines, now),
        Seed::Demo => {
            test(pipelines, now);
            demo(pipelines, now);
        }
    }
}

/// Grants every seed's pipelines start with: in `Test`, the data-engineers group (Alice among
/// them) may view `sales-etl` but not run it; in `Demo`, data-engineers run the medallion ETL and
/// every user views the streaming pipeline.
pub(crate) fn grant_access(acls: &mut Acls, seed: Seed) {
    if seed == Seed::Empty {
        return;
    }
    acls.grant(&PIPELINE, TEST_HEALTHY, Grantee::Group("data-engineers".into()), "CAN_VIEW");
    if seed == Seed::Demo {
        let id = |name: &str| ids::derived_uuid(&format!("demo-pipeline/{name}"));
        acls.grant(&PIPELINE, &id("retail-orders-medallion"), Grantee::Group("data-engineers".into()), "CAN_RUN");
        acls.grant(&PIPELINE, &id("clickstream-streaming"), Grantee::Group("users".into()), "CAN_VIEW");
        acls.grant(&PIPELINE, &id("customer-cdc-ingest"), Grantee::User(BOB.into()), "CAN_MANAGE");
    }
}

fn settings(body: Value) -> Settings {
    let body = body.as_object().cloned().unwrap_or_default();
    // Seed rows are written to be valid; a broken row is a bug worth a loud failure in every test.
    Settings::from_body(&body).unwrap_or_else(|e| panic!("invalid seeded pipeline {body:?}: {e}"))
}

fn notebooks(paths: &[&str]) -> Value {
    Value::Array(paths.iter().map(|p| json!({"notebook": {"path": p}})).collect())
}

fn files(paths: &[&str]) -> Value {
    Value::Array(paths.iter().map(|p| json!({"file": {"path": p}})).collect())
}

fn cluster(workers: u32) -> Value {
    json!([{"label": "default", "node_type_id": "i3.xlarge", "num_workers": workers}])
}

/// Creates a pipeline `created_hours_ago` and replays its updates (`(hours_ago, outcome)`, oldest first).
fn add(
    pipelines: &mut Pipelines,
    id: &str,
    body: Value,
    creator: &str,
    created_hours_ago: u64,
    history: &[(u64, Outcome)],
    now: u64,
) -> Pipeline {
    let mut pipeline = store::new_pipeline(id, settings(body), creator, now - created_hours_ago * HOUR_MS);
    for (n, &(hours_ago, outcome)) in history.iter().enumerate() {
        replay(&mut pipeline, n, now - hours_ago * HOUR_MS, outcome);
    }
    pipelines.insert(pipeline.clone());
    pipeline
}

/// Runs one past update to its end, `STEP_MS` per step.
fn replay(pipeline: &mut Pipeline, n: usize, start: u64, outcome: Outcome) {
    let update_id = ids::derived_uuid(&format!("{}/update/{n}", pipeline.id));
    let fails = pipeline.fails;
    pipeline.fails = outcome == Outcome::Failed;
    let cause = if n.is_multiple_of(3) { "USER_ACTION" } else { "JOB_TASK" };
    let request = StartRequest { cause: Some(cause.to_owned()), ..StartRequest::default() };
    if let Err(e) = store::launch(pipeline, &update_id, request, start) {
        tracing::warn!(pipeline = %pipeline.id, "could not replay a seeded update: {e}");
    }
    pipeline.fails = fails;
    if outcome == Outcome::Canceled {
        let stop_at = start + 4 * STEP_MS;
        pipeline.advance(stop_at, STEP_MS);
        pipeline.begin(stop_at, plans::stop(&update_id, &pipeline.creator.clone()));
    }
    pipeline.advance(start + 20 * STEP_MS, STEP_MS);
}

fn test(pipelines: &mut Pipelines, now: u64) {
    use Outcome::{Completed, Failed};
    add(
        pipelines,
        TEST_HEALTHY,
        json!({
            "name": "sales-etl",
            "catalog": "main",
            "schema": "sales",
            "libraries": notebooks(&["/Workspace/pipelines/sales/bronze_sales", "/Workspace/pipelines/sales/silver_sales"]),
            "clusters": cluster(2),
            "configuration": {"source_path": "s3://acme-landing/sales/"},
            "development": false,
            "continuous": false,
        }),
        DEFAULT_USER,
        96,
        &[(72, Completed), (48, Completed), (24, Completed)],
        now,
    );
    add(
        pipelines,
        TEST_FAILED,
        json!({
            "name": "inventory-ingest",
            "catalog": "main",
            "schema": "inventory",
            "libraries": files(&["/Workspace/pipelines/inventory/failing_merge.py"]),
            "serverless": true,
            "development": true,
        }),
        DEFAULT_USER,
        50,
        &[(30, Completed), (6, Failed)],
        now,
    );
}

fn demo(pipelines: &mut Pipelines, now: u64) {
    use Outcome::{Canceled, Completed, Failed};
    let id = |name: &str| ids::derived_uuid(&format!("demo-pipeline/{name}"));
    let daily: Vec<(u64, Outcome)> =
        (1..=7).rev().map(|d| (d * 24 - 2, if d == 3 { Failed } else { Completed })).collect();
    add(
        pipelines,
        &id("retail-orders-medallion"),
        json!({
            "name": "retail-orders-medallion",
            "catalog": "retail",
            "schema": "orders",
            "libraries": files(&[
                "/Repos/data-eng/retail/pipelines/bronze_orders.py",
                "/Repos/data-eng/retail/pipelines/silver_orders.py",
                "/Repos/data-eng/retail/pipelines/gold_daily_revenue.py",
            ]),
            "clusters": cluster(4),
            "photon": true,
            "configuration": {"landing_zone": "s3://acme-landing/orders/", "pipelines.trigger.interval": "1 day"},
            "tags": {"team": "data-eng", "tier": "gold"},
        }),
        ETL_SP,
        24 * 30,
        &daily,
        now,
    );
    add(
        pipelines,
        &id("customer-cdc-ingest"),
        json!({
            "name": "customer-cdc-ingest",
            "catalog": "crm",
            "schema": "customers",
            "libraries": notebooks(&["/Repos/data-eng/crm/cdc_customers_raw", "/Repos/data-eng/crm/customers_scd2"]),
            "clusters": cluster(2),
            "edition": "PRO",
            "configuration": {"cdc.source": "kafka://cdc.crm.customers"},
        }),
        ALICE,
        24 * 12,
        &[(50, Completed), (26, Canceled), (25, Completed), (2, Completed)],
        now,
    );
    let mut streaming = add(
        pipelines,
        &id("clickstream-streaming"),
        json!({
            "name": "clickstream-streaming",
            "catalog": "web",
            "schema": "clickstream",
            "libraries": files(&[
                "/Repos/analytics/clickstream/raw_clicks.py",
                "/Repos/analytics/clickstream/sessionized_clicks.py",
                "/Repos/analytics/clickstream/click_funnel_metrics.sql",
            ]),
            "serverless": true,
            "continuous": true,
            "channel": "CURRENT",
        }),
        BOB,
        24 * 20,
        &[(24 * 9, Completed)],
        now,
    );
    // Restarted two days ago and streaming ever since.
    let update_id = ids::derived_uuid(&format!("{}/update/live", streaming.id));
    let request = StartRequest { cause: Some("API_CALL".to_owned()), ..StartRequest::default() };
    if store::launch(&mut streaming, &update_id, request, now - 48 * HOUR_MS).is_ok() {
        streaming.advance(now, STEP_MS);
        pipelines.insert(streaming);
    }
    add(
        pipelines,
        &id("finance-gl-reconciliation"),
        json!({
            "name": "finance-gl-reconciliation",
            "catalog": "finance",
            "schema": "ledger",
            "libraries": notebooks(&["/Repos/finance/dlt/gl_entries", "/Repos/finance/dlt/gl_failed_postings"]),
            "clusters": cluster(3),
            "configuration": {"fiscal_calendar": "4-4-5"},
        }),
        CAROL,
        24 * 60,
        &[(24 * 5, Completed), (24 * 2, Failed), (24 + 3, Failed), (5, Failed)],
        now,
    );
    let mut starting = add(
        pipelines,
        &id("iot-sensor-quality"),
        json!({
            "name": "iot-sensor-quality",
            "catalog": "iot",
            "schema": "sensors",
            "libraries": files(&["/Users/alice.nguyen@example.com/iot/sensor_readings.py"]),
            "clusters": cluster(1),
            "development": true,
            "channel": "PREVIEW",
        }),
        ALICE,
        30,
        &[(20, Completed)],
        now,
    );
    // An update that starts as the emulator does, so a demo can watch one progress.
    let update_id = ids::derived_uuid(&format!("{}/update/now", starting.id));
    let request = StartRequest { cause: Some("USER_ACTION".to_owned()), ..StartRequest::default() };
    if store::launch(&mut starting, &update_id, request, now).is_ok() {
        pipelines.insert(starting);
    }
    add(
        pipelines,
        &id("marketing-attribution"),
        json!({
            "name": "marketing-attribution",
            "catalog": "marketing",
            "schema": "attribution",
            "libraries": files(&["/Repos/marketing/attribution/touchpoints.py"]),
            "serverless": true,
        }),
        DEFAULT_USER,
        3,
        &[],
        now,
    );
    add(
        pipelines,
        &id("hr-snapshot-legacy"),
        json!({
            "name": "hr-snapshot-legacy",
            "target": "hr_legacy",
            "libraries": notebooks(&["/Shared/hr/employee_snapshot"]),
            "clusters": cluster(1),
            "edition": "CORE",
        }),
        BOB,
        24 * 400,
        &[(24 * 21, Completed), (24 * 20, Canceled)],
        now,
    );
}
