//! The pack's tools against the SDK's scripted workspace: native `cargo test`, no host.

use std::time::Duration;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::testkit::{Reply, Workspace, manifest_problems};
use databricks_mcp_sdk::{Method, ToolError};

use super::*;

/// Every request checked against the grants the plugin declares, as the host checks them.
fn workspace() -> Workspace {
    Workspace::for_plugin::<ToolPack>()
}

fn job(id: i64, name: &str) -> Value {
    json!({"job_id": id, "settings": {"name": name}})
}

fn run(life_cycle_state: &str, result_state: Option<&str>) -> Value {
    json!({"run_id": 7, "state": {"life_cycle_state": life_cycle_state, "result_state": result_state}})
}

#[test]
fn the_manifest_is_one_the_host_accepts() {
    assert_eq!(manifest_problems::<ToolPack>(), Vec::<String>::new());
}

#[test]
fn check_job_names_reports_each_job_a_page_at_a_time() {
    let workspace = workspace()
        .setting("teams", "etl,daily")
        .on(
            Method::Get,
            "/api/2.2/jobs/list",
            json!({"jobs": [job(1, "etl-pipeline"), job(2, "Failing Report")], "next_page_token": "p2"}),
        )
        .on(Method::Get, "/api/2.2/jobs/list", json!({"jobs": [job(3, "sales-report")]}));

    let first = workspace.call(check_job_names, json!({"limit": 2}));
    let report: NameReport = first.data();
    assert_eq!(report.jobs.len(), 2);
    assert_eq!(report.jobs[0].problem, None);
    assert!(report.jobs[1].problem.as_deref().unwrap().contains("lower-case"), "{:?}", report.jobs[1]);
    assert_eq!(report.next_page_token.as_deref(), Some("p2"));
    assert!(first.text().starts_with("2 job(s) checked, 1 break the naming rules."), "{}", first.text());
    assert!(first.text().ends_with("call again with page_token `p2`."), "{}", first.text());
    assert_eq!(first.requests[0].query, [("limit".to_string(), "2".to_string())]);

    let second = workspace.call(check_job_names, json!({"limit": 2, "page_token": "p2"}));
    assert_eq!(second.requests[0].query_value("page_token"), Some("p2"));
    let report: NameReport = second.data();
    assert_eq!(report.jobs[0].problem.as_deref(), Some("team `sales` is not one of: etl, daily"));
    assert_eq!(report.next_page_token, None);
}

#[test]
fn a_conforming_job_runs_and_is_waited_for_with_progress() {
    let workspace = workspace()
        .on(Method::Get, "/api/2.2/jobs/get", job(5, "etl-nightly"))
        .on(Method::Post, "/api/2.2/jobs/run-now", json!({"run_id": 7, "number_in_job": 1}))
        .on(Method::Get, "/api/2.2/jobs/runs/get", run("PENDING", None))
        .on(Method::Get, "/api/2.2/jobs/runs/get", run("RUNNING", None))
        .on(Method::Get, "/api/2.2/jobs/runs/get", run("TERMINATED", Some("SUCCESS")));

    let call = workspace.call(run_conforming_job, json!({"job_id": 5}));

    assert_eq!(call.text(), "Run 7 of job 5 `etl-nightly` finished: SUCCESS.");
    let outcome: RunOutcome = call.data();
    assert_eq!((outcome.finished, outcome.result_state.as_deref()), (true, Some("SUCCESS")));
    assert_eq!(call.sent(Method::Post, "/api/2.2/jobs/run-now")[0].json(), json!({"job_id": 5}));
    assert_eq!(call.sent(Method::Get, "/api/2.2/jobs/runs/get").len(), 3);
    // Two pauses of the SDK's schedule (1 s, then 2 s), on the test kit's clock: no real time.
    assert_eq!(call.sleeps, [Duration::from_secs(1), Duration::from_secs(2)]);
    assert_eq!(call.elapsed, Duration::from_secs(3));
    let messages: Vec<&str> = call.progress.iter().filter_map(|p| p.message.as_deref()).collect();
    assert!(messages[0].starts_with("waiting for run 7 of job 5: PENDING"), "{messages:?}");
    assert!(messages[1].starts_with("waiting for run 7 of job 5: RUNNING"), "{messages:?}");
    assert_eq!(messages[2], "done waiting for run 7 of job 5");
    // The cancel hook was armed while waiting, then dropped: nothing to undo.
    assert_eq!(call.compensations.len(), 1);
    assert_eq!(call.compensations[0].request.json(), json!({"run_id": 7}));
    assert!(call.compensations[0].cleared && call.fired().is_empty());
}

#[test]
fn cancelling_the_call_cancels_the_run() {
    let workspace = workspace()
        .cancel_after(Duration::from_secs(10))
        .on(Method::Get, "/api/2.2/jobs/get", job(5, "etl-nightly"))
        .on(Method::Post, "/api/2.2/jobs/run-now", json!({"run_id": 7}))
        .on(Method::Get, "/api/2.2/jobs/runs/get", run("RUNNING", None));

    let call = workspace.call(run_conforming_job, json!({"job_id": 5}));

    assert_eq!(call.error(), &ToolError::Cancelled);
    assert!(call.cancelled);
    assert_eq!(call.elapsed, Duration::from_secs(10));
    let fired = call.fired();
    assert_eq!(fired.len(), 1);
    assert_eq!((fired[0].method, fired[0].path.as_str()), (Method::Post, "/api/2.2/jobs/runs/cancel"));
    assert_eq!(fired[0].json(), json!({"run_id": 7}));
}

#[test]
fn a_wait_that_runs_out_leaves_the_run_going() {
    let workspace = workspace()
        .on(Method::Get, "/api/2.2/jobs/get", job(5, "etl-nightly"))
        .on(Method::Post, "/api/2.2/jobs/run-now", json!({"run_id": 7}))
        .on(Method::Get, "/api/2.2/jobs/runs/get", run("RUNNING", None));

    let call = workspace.call(run_conforming_job, json!({"job_id": 5, "timeout_seconds": 30}));

    let outcome: RunOutcome = call.data();
    assert_eq!((outcome.finished, outcome.state.as_str()), (false, "RUNNING"));
    assert!(call.elapsed <= Duration::from_secs(30), "{:?}", call.elapsed);
    assert!(call.fired().is_empty(), "the run goes on: nothing is cancelled");
}

#[test]
fn a_job_that_breaks_the_rules_is_not_run() {
    let workspace = workspace().on(Method::Get, "/api/2.2/jobs/get", job(9, "Adhoc Test"));

    let call = workspace.call(run_conforming_job, json!({"job_id": 9}));

    let ToolError::Failed(message) = call.error() else { panic!("expected Failed, got {:?}", call.error()) };
    assert!(message.starts_with("job 9 `Adhoc Test` breaks the naming rules"), "{message}");
    assert!(call.sent(Method::Post, "/api/2.2/jobs/run-now").is_empty(), "nothing was run");
}

#[test]
fn a_missing_job_is_not_found() {
    let workspace = workspace().on(
        Method::Get,
        "/api/2.2/jobs/get",
        Reply::error(400, "INVALID_PARAMETER_VALUE", "Job 404 does not exist."),
    );

    let call = workspace.call(run_conforming_job, json!({"job_id": 404}));

    assert_eq!(call.error(), &ToolError::NotFound("Job 404 does not exist.".into()));
}

#[test]
fn a_jobs_naming_verdict_reads_as_a_resource() {
    let workspace = workspace().on(Method::Get, "/api/2.2/jobs/get", job(7, "Failing Report"));
    let read = workspace.read::<ToolPack>("job/7/naming");
    assert_eq!(read.structured()["mime_type"], "application/json");
    let verdict: Value = databricks_mcp_sdk::serde_json::from_str(read.text()).unwrap();
    assert_eq!(verdict["job_id"], 7);
    assert!(verdict["problem"].as_str().is_some(), "{verdict}");
    assert_eq!(read.requests[0].query_value("job_id"), Some("7"));

    let missing = workspace.read::<ToolPack>("job/7");
    assert!(matches!(missing.error(), ToolError::NotFound(_)), "{:?}", missing.result);
}

#[test]
fn the_rename_prompt_says_what_is_wrong_and_which_tool_fixes_it() {
    let workspace = workspace().on(Method::Get, "/api/2.2/jobs/get", job(7, "Failing Report"));
    let prompt = workspace.prompt::<ToolPack>("rename_job", json!({"job_id": "7"}));
    assert!(prompt.text().contains("`Failing Report`") && prompt.text().contains("update_job"), "{}", prompt.text());
    let bad = workspace.prompt::<ToolPack>("rename_job", json!({}));
    assert!(matches!(bad.error(), ToolError::InvalidArguments(_)), "{:?}", bad.result);
}

#[test]
fn job_ids_complete_from_what_was_typed() {
    let workspace = workspace().on(
        Method::Get,
        "/api/2.2/jobs/list",
        json!({"jobs": [job(17, "a"), job(7, "b"), job(170, "c"), job(27, "d")]}),
    );
    let target = databricks_mcp_sdk::CompletionTarget::Prompt("rename_job".into());
    let completion = workspace.complete::<ToolPack>(target, "job_id", "17", &[]);
    assert_eq!(completion.structured()["values"], json!(["17", "170"]));
}
