//! Jobs API 2.1 / 2.2 over HTTP: jobs CRUD, runs and their life cycle, pagination, errors.

use std::time::Duration;

use databricks_emulator::{EmulatorConfig, Seed};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::util::{Api, assert_error, has_null};

fn notebook_task(key: &str, path: &str, deps: &[&str]) -> Value {
    let deps: Vec<Value> = deps.iter().map(|d| json!({"task_key": d})).collect();
    json!({"task_key": key, "notebook_task": {"notebook_path": path}, "existing_cluster_id": "0101-000000-shared01",
           "depends_on": deps})
}

async fn create_job(api: &Api, body: Value) -> i64 {
    let (status, body) = api.post("/api/2.2/jobs/create", body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["job_id"].as_i64().expect("job_id is an integer")
}

async fn run_now(api: &Api, job_id: i64) -> i64 {
    let (status, body) = api.post("/api/2.2/jobs/run-now", json!({"job_id": job_id})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["number_in_job"], body["run_id"]);
    body["run_id"].as_i64().expect("run_id is an integer")
}

async fn get_run(api: &Api, run_id: i64) -> Value {
    let (status, body) = api.get("/api/2.2/jobs/runs/get", &[("run_id", &run_id.to_string())]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!has_null(&body), "{body}");
    body
}

#[tokio::test]
async fn jobs_are_created_read_updated_and_deleted_on_both_versions() {
    let api = Api::start().await;
    let id = create_job(&api, json!({"name": "nightly", "tasks": [notebook_task("a", "/x/a", &[])]})).await;
    for version in ["2.1", "2.2"] {
        let (status, job) = api.get(&format!("/api/{version}/jobs/get"), &[("job_id", &id.to_string())]).await;
        assert_eq!(status, StatusCode::OK, "{job}");
        assert_eq!(job["settings"]["name"], "nightly");
        assert_eq!(job["settings"]["max_concurrent_runs"], 1);
        assert!(job.get("next_page_token").is_none());
        assert_eq!(job["creator_user_name"], "demo.user@example.com");
    }

    let changes = json!({"job_id": id, "new_settings": {"tasks": [notebook_task("b", "/x/b", &["a"])],
                         "schedule": {"quartz_cron_expression": "0 0 1 * * ?", "timezone_id": "UTC"}}});
    assert_eq!(api.post("/api/2.2/jobs/update", changes).await.0, StatusCode::OK);
    let (_, job) = api.get("/api/2.2/jobs/get", &[("job_id", &id.to_string())]).await;
    assert_eq!(job["settings"]["tasks"].as_array().map(Vec::len), Some(2));
    let remove = json!({"job_id": id, "fields_to_remove": ["schedule", "tasks/b"]});
    assert_eq!(api.post("/api/2.2/jobs/update", remove).await.0, StatusCode::OK);
    let (_, job) = api.get("/api/2.2/jobs/get", &[("job_id", &id.to_string())]).await;
    assert!(job["settings"].get("schedule").is_none());
    assert_eq!(job["settings"]["tasks"].as_array().map(Vec::len), Some(1));

    let reset = json!({"job_id": id, "new_settings": {"name": "renamed", "tasks": [notebook_task("z", "/z", &[])]}});
    assert_eq!(api.post("/api/2.1/jobs/reset", reset).await.0, StatusCode::OK);
    let (_, job) = api.get("/api/2.1/jobs/get", &[("job_id", &id.to_string())]).await;
    assert_eq!(job["settings"]["name"], "renamed");
    assert_eq!(job["settings"]["tasks"][0]["task_key"], "z");

    assert_eq!(api.post("/api/2.2/jobs/delete", json!({"job_id": id})).await.0, StatusCode::OK);
    let missing = api.get("/api/2.2/jobs/get", &[("job_id", &id.to_string())]).await;
    assert_error(&missing, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", &format!("Job {id} does not exist"));
}

#[tokio::test]
async fn bad_job_requests_are_client_errors() {
    let api = Api::start().await;
    let cycle = json!({"tasks": [notebook_task("a", "/a", &["b"]), notebook_task("b", "/b", &["a"])]});
    assert_eq!(api.post("/api/2.2/jobs/create", cycle).await.0, StatusCode::BAD_REQUEST);
    let no_key = api.post("/api/2.2/jobs/create", json!({"tasks": [{"notebook_task": {}}]})).await;
    assert_error(&no_key, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", "Missing required field: tasks.task_key");
    let not_id = api.get("/api/2.2/jobs/get", &[("job_id", "abc")]).await;
    assert_eq!(not_id.0, StatusCode::BAD_REQUEST);
    let missing = api.get("/api/2.2/jobs/runs/get", &[("run_id", "999999")]).await;
    assert_error(&missing, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", "Run 999999 does not exist");
    let limit = api.get("/api/2.2/jobs/list", &[("limit", "101")]).await;
    assert_eq!(limit.0, StatusCode::BAD_REQUEST);
    let both = api.get("/api/2.2/jobs/runs/list", &[("active_only", "true"), ("completed_only", "true")]).await;
    assert_eq!(both.0, StatusCode::BAD_REQUEST);
    let run_now = api.post("/api/2.2/jobs/run-now", json!({"job_id": 424242})).await;
    assert_error(&run_now, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", "Job 424242 does not exist");
}

#[tokio::test]
async fn the_test_seed_has_three_jobs_with_history() {
    let api = Api::start().await;
    let (status, list) = api.get("/api/2.2/jobs/list", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<i64> = list["jobs"].as_array().expect("jobs").iter().filter_map(|j| j["job_id"].as_i64()).collect();
    assert_eq!(ids, vec![101, 102, 103]);
    assert_eq!(list["has_more"], false);
    assert!(list["jobs"][0]["settings"].get("tasks").is_none(), "tasks only with expand_tasks");

    let (_, runs) = api.get("/api/2.2/jobs/runs/list", &[("job_id", "102")]).await;
    let runs = runs["runs"].as_array().expect("runs").clone();
    assert_eq!(runs.iter().map(|r| r["run_id"].as_i64().unwrap_or(0)).collect::<Vec<_>>(), vec![1022, 1021]);
    let failed = get_run(&api, 1021).await;
    assert_eq!(failed["state"]["result_state"], "FAILED");
    let results: Vec<&str> = failed["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| t["state"]["result_state"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(results, vec!["SUCCESS", "FAILED", "UPSTREAM_FAILED"]);
    let (status, output) = api.get("/api/2.2/jobs/runs/get-output", &[("run_id", "102102")]).await;
    assert_eq!(status, StatusCode::OK, "{output}");
    assert!(output["error"].as_str().is_some_and(|e| e.contains("order_ts")));
    let multi = api.get("/api/2.2/jobs/runs/get-output", &[("run_id", "1021")]).await;
    assert_eq!(multi.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_run_finishes_on_the_next_read_with_zero_delay() {
    let api = Api::start().await;
    let run_id = run_now(&api, 101).await;
    let run = get_run(&api, run_id).await;
    assert_eq!(run["state"]["life_cycle_state"], "TERMINATED");
    assert_eq!(run["state"]["result_state"], "SUCCESS");
    assert_eq!(run["status"]["termination_details"]["code"], "SUCCESS");
    assert_eq!(run["job_id"], 101);
    assert!(run["end_time"].as_u64() >= run["start_time"].as_u64());
    assert!(run["run_page_url"].as_str().is_some_and(|u| u.ends_with(&format!("/run/{run_id}"))));
    let (status, output) = api.get("/api/2.2/jobs/runs/get-output", &[("run_id", &run_id.to_string())]).await;
    assert_eq!(status, StatusCode::OK, "{output}");
    assert_eq!(output["notebook_output"]["truncated"], false);

    let failing = run_now(&api, 103).await;
    let run = get_run(&api, failing).await;
    assert_eq!(run["state"]["result_state"], "FAILED");
    assert_eq!(run["status"]["termination_details"]["type"], "CLIENT_ERROR");
}

#[tokio::test]
async fn runs_step_through_their_states_with_a_delay_and_can_be_cancelled() {
    let api =
        Api::with(EmulatorConfig { transition_delay: Duration::from_millis(150), ..EmulatorConfig::default() }).await;
    let run_id = run_now(&api, 102).await;
    let run = get_run(&api, run_id).await;
    assert_eq!(run["state"]["life_cycle_state"], "PENDING");
    assert!(run["state"].get("result_state").is_none());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(get_run(&api, run_id).await["state"]["life_cycle_state"], "RUNNING");

    // The job allows one run at a time: another is skipped.
    let skipped = run_now(&api, 102).await;
    let run = get_run(&api, skipped).await;
    assert_eq!(run["state"]["life_cycle_state"], "SKIPPED");
    assert_eq!(run["state"]["result_state"], "MAXIMUM_CONCURRENT_RUNS_REACHED");

    let (_, active) = api.get("/api/2.2/jobs/runs/list", &[("active_only", "true")]).await;
    assert_eq!(active["runs"].as_array().map(Vec::len), Some(1));

    assert_eq!(api.post("/api/2.2/jobs/runs/cancel", json!({"run_id": run_id})).await.0, StatusCode::OK);
    let run = get_run(&api, run_id).await;
    assert_eq!(run["state"]["life_cycle_state"], "TERMINATED");
    assert_eq!(run["state"]["result_state"], "CANCELED");
    assert_eq!(run["state"]["user_cancelled_or_timedout"], true);
    assert_eq!(run["status"]["termination_details"]["code"], "USER_CANCELED");
}

#[tokio::test]
async fn idempotent_run_now_returns_the_same_run_and_submit_runs_once() {
    let api = Api::start().await;
    let body = json!({"job_id": 101, "idempotency_token": "tok-1", "notebook_params": {"x": "1"}});
    let (_, first) = api.post("/api/2.2/jobs/run-now", body.clone()).await;
    let (_, second) = api.post("/api/2.2/jobs/run-now", body).await;
    assert_eq!(first["run_id"], second["run_id"]);
    let run = get_run(&api, first["run_id"].as_i64().unwrap_or_default()).await;
    assert_eq!(run["overriding_parameters"]["notebook_params"]["x"], "1");

    let submit = json!({"run_name": "one-off", "tasks": [notebook_task("only", "/Users/me/nb", &[])]});
    let (status, body) = api.post("/api/2.1/jobs/runs/submit", submit).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let run = get_run(&api, body["run_id"].as_i64().unwrap_or_default()).await;
    assert_eq!(run["run_type"], "SUBMIT_RUN");
    assert!(run.get("job_id").is_none());
    let (_, submits) = api.get("/api/2.2/jobs/runs/list", &[("run_type", "SUBMIT_RUN")]).await;
    assert_eq!(submits["runs"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_failed_run_can_be_repaired_and_deleted() {
    let api = Api::start().await;
    let id = create_job(
        &api,
        json!({"name": "chain", "tasks": [notebook_task("a", "/a", &[]), notebook_task("b", "/b", &["a"]),
               {"task_key": "c", "notebook_task": {"notebook_path": "/c"}, "depends_on": [{"task_key": "b"}],
                "emulator_outcome": "FAILED"}]}),
    )
    .await;
    let run_id = run_now(&api, id).await;
    let run = get_run(&api, run_id).await;
    assert_eq!(run["state"]["result_state"], "FAILED");
    assert!(run["state"]["state_message"].as_str().is_some_and(|m| m.starts_with("Task c failed")));

    let (status, repair) =
        api.post("/api/2.2/jobs/runs/repair", json!({"run_id": run_id, "rerun_all_failed_tasks": true})).await;
    assert_eq!(status, StatusCode::OK, "{repair}");
    let run = get_run(&api, run_id).await;
    let history = run["repair_history"].as_array().expect("repair history");
    assert_eq!(
        history.iter().map(|h| h["type"].as_str().unwrap_or("")).collect::<Vec<_>>(),
        vec!["ORIGINAL", "REPAIR"]
    );
    assert_eq!(history[1]["id"], repair["repair_id"]);
    assert_eq!(run["tasks"][2]["attempt_number"], 1);

    let stale = api.post("/api/2.2/jobs/runs/repair", json!({"run_id": run_id, "rerun_tasks": ["a"]})).await;
    assert_eq!(stale.0, StatusCode::BAD_REQUEST);
    assert_eq!(api.post("/api/2.2/jobs/runs/delete", json!({"run_id": run_id})).await.0, StatusCode::OK);
    let gone = api.get("/api/2.2/jobs/runs/get", &[("run_id", &run_id.to_string())]).await;
    assert_eq!(gone.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn jobs_2_2_pages_tasks_inside_a_job_and_2_1_does_not() {
    let api = Api::start().await;
    let tasks: Vec<Value> = (0..150).map(|i| notebook_task(&format!("t{i:03}"), "/nb", &[])).collect();
    let id = create_job(&api, json!({"name": "wide", "tasks": tasks})).await.to_string();
    let (_, first) = api.get("/api/2.2/jobs/get", &[("job_id", &id)]).await;
    assert_eq!(first["settings"]["tasks"].as_array().map(Vec::len), Some(100));
    let token = first["next_page_token"].as_str().expect("a second page").to_owned();
    let (_, second) = api.get("/api/2.2/jobs/get", &[("job_id", &id), ("page_token", &token)]).await;
    assert_eq!(second["settings"]["tasks"].as_array().map(Vec::len), Some(50));
    assert!(second.get("next_page_token").is_none());
    let (_, whole) = api.get("/api/2.1/jobs/get", &[("job_id", &id)]).await;
    assert_eq!(whole["settings"]["tasks"].as_array().map(Vec::len), Some(150));
}

#[tokio::test]
async fn job_and_run_lists_page_with_tokens() {
    let api = Api::seeded(Seed::Demo).await;
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let (status, page) = api.get("/api/2.2/jobs/list", &[("limit", "5"), ("page_token", &token)]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(page["jobs"].as_array().expect("jobs").iter().filter_map(|j| j["job_id"].as_i64()));
        match page["next_page_token"].as_str() {
            Some(next) => token = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 12);
    let (_, named) = api.get("/api/2.2/jobs/list", &[("name", "NIGHTLY-SALES-ETL")]).await;
    assert_eq!(named["jobs"][0]["job_id"], 201);

    let (_, runs) = api.get("/api/2.2/jobs/runs/list", &[("limit", "25")]).await;
    assert_eq!(runs["runs"].as_array().map(Vec::len), Some(25));
    assert_eq!(runs["has_more"], true);
    let starts: Vec<u64> =
        runs["runs"].as_array().expect("runs").iter().filter_map(|r| r["start_time"].as_u64()).collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let (_, active) = api.get("/api/2.2/jobs/runs/list", &[("active_only", "true")]).await;
    assert_eq!(active["runs"][0]["state"]["life_cycle_state"], "RUNNING");
    assert_eq!(api.get("/api/2.2/jobs/runs/list", &[("limit", "26")]).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn jobs_and_their_runs_are_visible_to_owners_admins_and_grantees() {
    use databricks_emulator::ALICE_TOKEN;
    let api = Api::start().await;
    let denied =
        |verb: &str, what: &str| format!("User alice.nguyen@example.com does not have {verb} permissions on {what}");
    let get = api.get_as(ALICE_TOKEN, "/api/2.2/jobs/get", &[("job_id", "101")]).await;
    assert_error(&get, StatusCode::FORBIDDEN, "PERMISSION_DENIED", &denied("View", "job 101"));
    let run = api.get_as(ALICE_TOKEN, "/api/2.2/jobs/runs/get", &[("run_id", "1011")]).await;
    assert_error(&run, StatusCode::FORBIDDEN, "PERMISSION_DENIED", &denied("View", "job 101"));
    let output = api.get_as(ALICE_TOKEN, "/api/2.2/jobs/runs/get-output", &[("run_id", "101101")]).await;
    assert_error(&output, StatusCode::FORBIDDEN, "PERMISSION_DENIED", &denied("View", "job 101"));
    let (status, listed) = api.get_as(ALICE_TOKEN, "/api/2.2/jobs/list", &[]).await;
    assert_eq!((status, listed.get("jobs")), (StatusCode::OK, None), "alice sees no seeded job: {listed}");
    let (_, runs) = api.get_as(ALICE_TOKEN, "/api/2.2/jobs/runs/list", &[]).await;
    assert_eq!(runs.get("runs"), None, "nor their runs: {runs}");
    // A missing job is reported before a missing permission.
    let missing = api.get_as(ALICE_TOKEN, "/api/2.2/jobs/get", &[("job_id", "999999")]).await;
    assert_error(&missing, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", "Job 999999 does not exist");

    let grant = |level: &str| json!({"access_control_list": [{"user_name": "alice.nguyen@example.com", "permission_level": level}]});
    let patched = api.http.patch(api.url("/api/2.0/permissions/jobs/101")).json(&grant("CAN_VIEW"));
    let (status, acl) = crate::util::read(patched.bearer_auth(crate::util::DEMO).send().await).await;
    assert_eq!(status, StatusCode::OK, "{acl}");
    assert_eq!(acl["object_id"], "/jobs/101");
    let (status, _) = api.get_as(ALICE_TOKEN, "/api/2.2/jobs/get", &[("job_id", "101")]).await;
    assert_eq!(status, StatusCode::OK);
    let (_, runs) = api.get_as(ALICE_TOKEN, "/api/2.2/jobs/runs/list", &[]).await;
    assert!(runs["runs"].as_array().expect("runs").iter().all(|r| r["job_id"] == 101), "{runs}");
    let run_now = api.post_as(ALICE_TOKEN, "/api/2.2/jobs/run-now", json!({"job_id": 101})).await;
    assert_error(&run_now, StatusCode::FORBIDDEN, "PERMISSION_DENIED", &denied("Manage Run", "job 101"));

    let patched = api.http.patch(api.url("/api/2.0/permissions/jobs/101")).json(&grant("CAN_MANAGE_RUN"));
    assert_eq!(crate::util::read(patched.bearer_auth(crate::util::DEMO).send().await).await.0, StatusCode::OK);
    let (status, started) = api.post_as(ALICE_TOKEN, "/api/2.2/jobs/run-now", json!({"job_id": 101})).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let update =
        api.post_as(ALICE_TOKEN, "/api/2.2/jobs/update", json!({"job_id": 101, "new_settings": {"name": "x"}})).await;
    assert_error(&update, StatusCode::FORBIDDEN, "PERMISSION_DENIED", &denied("Manage", "job 101"));
    let delete = api.post_as(ALICE_TOKEN, "/api/2.2/jobs/delete", json!({"job_id": 101})).await;
    assert_error(&delete, StatusCode::FORBIDDEN, "PERMISSION_DENIED", &denied("Manage", "job 101"));

    // One-time runs belong to whoever submitted them.
    let task = json!({"task_key": "t", "notebook_task": {"notebook_path": "/x"}});
    let (_, submitted) = api.post("/api/2.2/jobs/runs/submit", json!({"tasks": [task]})).await;
    let id = submitted["run_id"].to_string();
    let hidden = api.get_as(ALICE_TOKEN, "/api/2.2/jobs/runs/get", &[("run_id", &id)]).await;
    assert_error(&hidden, StatusCode::FORBIDDEN, "PERMISSION_DENIED", &denied("View", &format!("run {id}")));
}

#[tokio::test]
async fn a_notebook_task_returns_the_value_its_notebook_exits_with() {
    use base64::{Engine as _, engine::general_purpose::STANDARD};
    let api = Api::start().await;
    let path = "/Shared/exit_demo";
    let source = "x = 6 * 7\ndbutils.notebook.exit(\"answer: 42\")\n";
    let import = json!({"path": path, "content": STANDARD.encode(source), "format": "SOURCE", "language": "PYTHON"});
    assert_eq!(api.post("/api/2.0/workspace/import", import).await.0, StatusCode::OK);
    let task = json!({"task_key": "nb", "notebook_task": {"notebook_path": path}});
    let (status, submitted) = api.post("/api/2.2/jobs/runs/submit", json!({"run_name": "exit", "tasks": [task]})).await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    let run = get_run(&api, submitted["run_id"].as_i64().expect("run id")).await;
    let task_run = run["tasks"][0]["run_id"].to_string();
    let (status, output) = api.get("/api/2.2/jobs/runs/get-output", &[("run_id", &task_run)]).await;
    assert_eq!(status, StatusCode::OK, "{output}");
    assert_eq!(output["notebook_output"], json!({"result": "answer: 42", "truncated": false}));
    // A notebook that is not in the tree succeeds without a value, as before.
    let task = json!({"task_key": "nb", "notebook_task": {"notebook_path": "/Shared/elsewhere"}});
    let (_, submitted) = api.post("/api/2.2/jobs/runs/submit", json!({"tasks": [task]})).await;
    let run = get_run(&api, submitted["run_id"].as_i64().expect("run id")).await;
    let (_, output) =
        api.get("/api/2.2/jobs/runs/get-output", &[("run_id", &run["tasks"][0]["run_id"].to_string())]).await;
    assert_eq!(output["notebook_output"], json!({"truncated": false}));
}
