//! Every jobs tool, through MCP, against the emulator (test seed: jobs 101 `daily-notebook`,
//! 102 `etl-pipeline` whose run 1021 failed at `transform`, 103 `failing-report`).

use std::time::Duration;

use databricks_emulator::{ALICE_TOKEN, DEMO_TOKEN};
use rmcp::model::{CallToolRequestParams, ClientRequest, Request};
use rmcp::service::PeerRequestOptions;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{Harness, Setup, within};

const JOB_TOOLS: [&str; 17] = [
    "list_jobs",
    "get_job",
    "create_job",
    "update_job",
    "reset_job",
    "delete_job",
    "run_job",
    "run_notebook",
    "list_runs",
    "get_run",
    "get_run_output",
    "cancel_run",
    "cancel_all_runs",
    "repair_run",
    "export_run",
    "wait_for_run",
    "job_status",
];

const SHARED: &str = "0101-000000-shared01";

fn notebook_task(key: &str, path: &str, deps: &[&str]) -> Value {
    let deps: Vec<Value> = deps.iter().map(|d| json!({"task_key": d})).collect();
    json!({"task_key": key, "notebook_task": {"notebook_path": path}, "existing_cluster_id": SHARED, "depends_on": deps})
}

async fn create(h: &Harness, args: Value) -> i64 {
    let (text, data) = h.ok("create_job", args).await;
    assert!(text.starts_with("Created job"), "{text}");
    data["job_id"].as_i64().unwrap()
}

async fn simple_job(h: &Harness, name: &str) -> i64 {
    create(h, json!({"name": name, "tasks": [notebook_task("main", "/Shared/main", &[])]})).await
}

/// A request straight to the emulator, as another client of the workspace would send it.
async fn workspace_call(h: &Harness, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    let mut stream = tokio::net::TcpStream::connect(h.emulator.addr()).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {DEMO_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        h.emulator.addr(),
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).to_string();
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

/// Put a Python notebook with this source in the workspace.
async fn import_notebook(h: &Harness, path: &str, source: &str) {
    let body = json!({"path": path, "content": base64(source.as_bytes()), "format": "SOURCE", "language": "PYTHON"});
    let (status, answer) = workspace_call(h, "POST", "/api/2.0/workspace/import", &body).await;
    assert_eq!(status, 200, "{answer}");
}

fn run_state(run: &Value) -> (String, String) {
    let s = |k: &str| run["state"][k].as_str().unwrap_or_default().to_string();
    (s("life_cycle_state"), s("result_state"))
}

#[tokio::test]
async fn lists_every_jobs_tool_with_schemas_and_annotations() {
    let h = Harness::start(&["jobs"]).await;
    let tools = h.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, JOB_TOOLS, "deterministic order: declaration order");
    for tool in &tools {
        assert!(tool.description.as_ref().is_some_and(|d| d.len() > 40), "{} needs a real description", tool.name);
        assert_eq!(tool.input_schema.get("type"), Some(&json!("object")), "{}", tool.name);
        assert!(tool.output_schema.is_some(), "{} should declare an output schema", tool.name);
        assert!(tool.annotations.is_some(), "{} should have annotations", tool.name);
    }
    let tool = |name: &str| tools.iter().find(|t| t.name == name).unwrap();
    let hints = |name: &str| {
        let a = tool(name).annotations.clone().unwrap();
        (a.read_only_hint, a.destructive_hint)
    };
    for read_only in
        ["list_jobs", "get_job", "list_runs", "get_run", "get_run_output", "export_run", "wait_for_run", "job_status"]
    {
        assert_eq!(hints(read_only).0, Some(true), "{read_only}");
    }
    for destructive in ["update_job", "reset_job", "delete_job", "cancel_run", "cancel_all_runs"] {
        assert_eq!(hints(destructive), (Some(false), Some(true)), "{destructive}");
    }
    for creating in ["create_job", "run_job", "run_notebook", "repair_run"] {
        assert_eq!(hints(creating), (Some(false), Some(false)), "{creating}");
    }
    let job_id = &tool("get_job").input_schema["properties"]["job_id"]["type"];
    assert_eq!(job_id, &json!("integer"), "ids stay integers");
    assert_eq!(tool("get_job").input_schema["required"], json!(["job_id"]));
    let notebook = tool("run_notebook");
    assert!(notebook.description.as_deref().unwrap().contains("dbutils.notebook.exit"));
    let props = notebook.input_schema["properties"].as_object().unwrap();
    for arg in ["notebook_path", "base_parameters", "existing_cluster_id", "new_cluster", "timeout_seconds"] {
        assert!(props[arg]["description"].as_str().is_some_and(|d| !d.is_empty()), "{arg} is described");
    }
    let output = tool("run_notebook").output_schema.clone().unwrap();
    assert!(output["properties"].get("exit_value").is_some(), "{output:?}");
}

#[tokio::test]
async fn lists_jobs_one_page_at_a_time_and_by_name() {
    let h = Harness::start(&["jobs"]).await;
    for i in 0..3 {
        simple_job(&h, &format!("paging-{i}")).await;
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..20 {
        let mut args = json!({"limit": 2});
        if let Some(t) = &token {
            args["page_token"] = json!(t);
        }
        let (text, data) = h.ok("list_jobs", args).await;
        let page = data["jobs"].as_array().unwrap();
        assert!(page.len() <= 2);
        assert_eq!(text.lines().filter(|l| l.contains("(job ")).count(), page.len(), "one line per job: {text}");
        seen.extend(page.iter().map(|j| j["job_id"].as_i64().unwrap()));
        token = data.get("next_page_token").and_then(Value::as_str).map(str::to_string);
        if token.is_none() {
            break;
        }
        assert!(text.contains("page_token"), "the text tells the model how to get more: {text}");
    }
    assert!(token.is_none(), "pagination ends");
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no job twice across pages");
    assert_eq!(seen.len(), 6, "three seeded jobs plus three created: {seen:?}");

    let (text, data) = h.ok("list_jobs", json!({"name": "ETL-Pipeline", "expand_tasks": true})).await;
    let jobs = data["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{text}");
    assert_eq!(jobs[0]["job_id"], 102);
    assert!(text.contains("3 task(s): ingest, transform, publish"), "{text}");
    let (text, data) = h.ok("list_jobs", json!({"name": "no-such-job"})).await;
    assert_eq!(data["jobs"], json!([]));
    assert!(text.contains("No job is named"), "{text}");
}

#[tokio::test]
async fn a_job_lives_its_whole_life_through_the_tools() {
    let h = Harness::start(&["jobs"]).await;
    let id = create(
        &h,
        json!({"name": "lifecycle", "tasks": [notebook_task("extract", "/Shared/extract", &[]), notebook_task("load", "/Shared/load", &["extract"])],
               "parameters": [{"name": "env", "default": "dev"}],
               "schedule": {"quartz_cron_expression": "0 0 6 * * ?", "timezone_id": "UTC"},
               "tags": {"team": "data"}, "extra": {"email_notifications": {"on_failure": ["me@example.com"]}}}),
    )
    .await;

    let (text, job) = h.ok("get_job", json!({"job_id": id})).await;
    assert!(text.contains("extract: notebook /Shared/extract, on cluster 0101-000000-shared01"), "{text}");
    assert!(text.contains("load: notebook /Shared/load, after extract"), "{text}");
    assert!(text.contains("Parameters (defaults): env=dev") && text.contains("\"0 0 6 * * ?\" UTC"), "{text}");
    assert_eq!(
        job["settings"]["email_notifications"]["on_failure"],
        json!(["me@example.com"]),
        "extra settings go through"
    );
    assert_eq!(job["settings"]["tags"]["team"], "data");

    let (text, changed) = h
        .ok(
            "update_job",
            json!({"job_id": id, "new_settings": {"max_concurrent_runs": 3, "tasks": [notebook_task("report", "/Shared/report", &["load"])]},
                   "fields_to_remove": ["schedule"]}),
        )
        .await;
    assert!(text.contains("set max_concurrent_runs, tasks; removed schedule"), "{text}");
    let settings = &changed["job"]["settings"];
    assert_eq!(settings["max_concurrent_runs"], 3);
    assert!(settings.get("schedule").is_none(), "{settings}");
    let keys: Vec<&str> =
        settings["tasks"].as_array().unwrap().iter().map(|t| t["task_key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["extract", "load", "report"], "tasks merge by key");
    assert_eq!(settings["tags"]["team"], "data", "update keeps what it does not name");

    let refused = h.err("reset_job", json!({"job_id": id, "new_settings": {"name": "bare"}})).await;
    assert!(refused.starts_with("Invalid arguments") && refused.contains("delete all 3 tasks"), "{refused}");
    let refused = h.err("update_job", json!({"job_id": id})).await;
    assert!(refused.starts_with("Invalid arguments: nothing to change"), "{refused}");

    let (_, reset) = h
        .ok("reset_job", json!({"job_id": id, "new_settings": {"name": "lifecycle-v2", "tasks": [notebook_task("only", "/Shared/only", &[])]}}))
        .await;
    let settings = &reset["job"]["settings"];
    assert_eq!(settings["name"], "lifecycle-v2");
    assert!(
        settings.get("tags").is_none() && settings.get("email_notifications").is_none_or(|e| e == &json!({})),
        "{settings}"
    );
    assert_eq!(settings["tasks"].as_array().unwrap().len(), 1, "reset replaces everything");

    let (text, deleted) = h.ok("delete_job", json!({"job_id": id})).await;
    assert_eq!(text, format!("Deleted job lifecycle-v2 ({id})."));
    assert_eq!(deleted["job_id"], id);
    let gone = h.err("get_job", json!({"job_id": id})).await;
    assert_eq!(gone, format!("Not found: Job {id} does not exist"));
    assert_eq!(h.requests_to("POST", "/api/2.2/jobs/delete").len(), 1);
}

#[tokio::test]
async fn jobs_run_with_parameters_and_their_runs_are_read_back() {
    let h = Harness::start(&["jobs"]).await;
    let (text, started) = h.ok("run_job", json!({"job_id": 102, "job_parameters": {"run_date": "2024-06-01"}})).await;
    let run_id = started["run_id"].as_i64().unwrap();
    assert!(
        text.contains(&format!("call wait_for_run with run_id {run_id}")) || text.contains("wait_for_run"),
        "{text}"
    );
    let sent = h.requests_to("POST", "/api/2.2/jobs/run-now");
    let body: Value = serde_json::from_str(&sent[0].body).unwrap();
    assert_eq!(body, json!({"job_id": 102, "job_parameters": {"run_date": "2024-06-01"}}));

    let (text, waited) = h.ok("wait_for_run", json!({"run_id": run_id})).await;
    assert_eq!(waited["finished"], true);
    assert_eq!(run_state(&waited["run"]), ("TERMINATED".into(), "SUCCESS".into()), "{text}");
    assert!(text.starts_with(&format!("run {run_id} (job 102, etl-pipeline): SUCCESS")), "{text}");
    assert!(text.contains("Tasks (3):") && text.contains("  transform (task run "), "{text}");

    let (text, run) = h.ok("get_run", json!({"run_id": run_id})).await;
    assert_eq!(run["job_parameters"], json!([{"name": "run_date", "default": "today", "value": "2024-06-01"}]));
    assert!(text.contains("Run page: http"), "{text}");

    // Waiting inside run_job, with notebook parameters for a notebook job.
    let (text, done) = h.ok("run_job", json!({"job_id": 101, "notebook_params": {"env": "prod"}, "wait": true})).await;
    assert_eq!(done["finished"], true, "{text}");
    assert_eq!(done["run"]["overriding_parameters"]["notebook_params"], json!({"env": "prod"}));
    assert!(text.contains("SUCCESS"), "{text}");

    // A task key that the job does not have: the workspace's words.
    let text = h.err("run_job", json!({"job_id": 101, "only": ["nope"]})).await;
    assert_eq!(text, "Not found: Task nope does not exist in job 101");
    let text = h.err("run_job", json!({"job_id": 101, "timeout_seconds": 5})).await;
    assert!(text.starts_with("Invalid arguments: timeout_seconds applies only with wait"), "{text}");
    let text = h.err("get_run", json!({"run_id": 999_999})).await;
    assert_eq!(text, "Not found: Run 999999 does not exist");
}

#[tokio::test]
async fn get_job_and_get_run_follow_every_page_of_tasks() {
    let h = Harness::start(&["jobs"]).await;
    let tasks: Vec<Value> = (0..130).map(|i| notebook_task(&format!("t{i:03}"), "/Shared/many", &[])).collect();
    let id = create(&h, json!({"name": "many-tasks", "tasks": tasks})).await;
    let before = h.requests_to("GET", "/api/2.2/jobs/get").len();
    let (text, job) = h.ok("get_job", json!({"job_id": id})).await;
    let got: Vec<&str> =
        job["settings"]["tasks"].as_array().unwrap().iter().map(|t| t["task_key"].as_str().unwrap()).collect();
    assert_eq!(got.len(), 130, "every page of tasks");
    assert_eq!((got[0], got[129]), ("t000", "t129"));
    assert!(job.get("next_page_token").is_none() && job.get("has_more").is_none(), "paging fields are consumed");
    assert!(text.contains("Tasks (130):"), "{text}");
    let gets = h.requests_to("GET", "/api/2.2/jobs/get");
    assert_eq!(gets.len() - before, 2, "two pages of 100");
    assert!(gets.last().unwrap().query.contains("page_token="), "{:?}", gets.last().unwrap().query);

    let (_, done) = h.ok("run_job", json!({"job_id": id, "wait": true})).await;
    let run_id = done["run_id"].as_i64().unwrap();
    assert_eq!(done["run"]["tasks"].as_array().unwrap().len(), 130, "the waited run has all its tasks");
    let (_, run) = h.ok("get_run", json!({"run_id": run_id})).await;
    assert_eq!(run["tasks"].as_array().unwrap().len(), 130);

    let (text, outputs) = h.ok("get_run_output", json!({"run_id": run_id})).await;
    assert_eq!(outputs["outputs"].as_array().unwrap().len(), 20, "at most 20 outputs per call");
    assert_eq!(outputs["omitted_task_keys"].as_array().unwrap().len(), 110);
    assert!(text.contains("110 more tasks not shown: call again with task_keys"), "{text}");
    let (_, two) = h.ok("get_run_output", json!({"run_id": run_id, "task_keys": ["t128", "t129"]})).await;
    let keys: Vec<&str> = two["outputs"].as_array().unwrap().iter().map(|o| o["task_key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["t128", "t129"]);
    let text = h.err("get_run_output", json!({"run_id": run_id, "task_keys": ["t999"]})).await;
    assert!(text.starts_with("Invalid arguments: run") && text.contains("no task \"t999\""), "{text}");
}

#[tokio::test]
async fn run_notebook_returns_the_exit_value_or_the_error() {
    let h = Harness::start(&["jobs"]).await;
    import_notebook(&h, "/Shared/answer", "x = 6 * 7\ndbutils.notebook.exit(\"answer: 42\")\n").await;
    let (text, result) = h
        .ok("run_notebook", json!({"notebook_path": "/Shared/answer", "existing_cluster_id": SHARED, "base_parameters": {"date": "2024-06-01"}}))
        .await;
    assert_eq!(result["exit_value"], "answer: 42", "{text}");
    assert_eq!((result["finished"].clone(), result["state"].clone()), (json!(true), json!("SUCCESS")));
    assert!(text.contains("Exit value:\nanswer: 42"), "{text}");
    let sent: Value = serde_json::from_str(&h.requests_to("POST", "/api/2.2/jobs/runs/submit")[0].body).unwrap();
    assert_eq!(
        sent["tasks"][0],
        json!({"task_key": "notebook", "existing_cluster_id": SHARED,
               "notebook_task": {"notebook_path": "/Shared/answer", "source": "WORKSPACE", "base_parameters": {"date": "2024-06-01"}}})
    );
    assert_eq!(sent["run_name"], "MCP: answer");
    let task_run = result["task_run_id"].as_i64().unwrap();
    let (_, output) = h.ok("get_run_output", json!({"run_id": task_run})).await;
    assert_eq!(output["outputs"][0]["output"]["notebook_output"]["result"], "answer: 42", "a task run id works too");
    let (_, runs) = h.ok("list_runs", json!({"run_type": "SUBMIT_RUN"})).await;
    assert_eq!(runs["runs"][0]["run_id"], result["run_id"], "one-time runs are listed by kind");

    // Serverless (no cluster given), and the notebook fails: the error and trace come back.
    let text = h.err("run_notebook", json!({"notebook_path": "/Shared/reports/fail_report"})).await;
    assert!(text.starts_with("Failed: notebook /Shared/reports/fail_report did not succeed"), "{text}");
    assert!(text.contains("Error: Exception: task notebook failed") && text.contains("Traceback"), "{text}");
    assert!(text.contains("get_run_output"), "{text}");
    let sent: Value = serde_json::from_str(&h.requests_to("POST", "/api/2.2/jobs/runs/submit")[1].body).unwrap();
    let task = sent["tasks"][0].as_object().unwrap();
    assert!(!task.contains_key("existing_cluster_id") && !task.contains_key("new_cluster"), "serverless: {sent}");

    let text = h.err("run_notebook", json!({"notebook_path": "/Shared/answer", "existing_cluster_id": SHARED, "new_cluster": {"num_workers": 1}})).await;
    assert!(text.starts_with("Invalid arguments: give existing_cluster_id or new_cluster, not both"), "{text}");
    let text = h.err("run_notebook", json!({"notebook_path": "answer"})).await;
    assert!(text.starts_with("Invalid arguments: notebook_path must be an absolute workspace path"), "{text}");
    assert_eq!(h.requests_to("POST", "/api/2.2/jobs/runs/submit").len(), 2, "refused calls send nothing");
}

#[tokio::test]
async fn runs_are_listed_filtered_and_paged() {
    let h = Setup::new(&["jobs"]).transition_delay(Duration::from_secs(60)).start().await;
    let (_, started) = h.ok("run_job", json!({"job_id": 101})).await;
    let active_id = started["run_id"].as_i64().unwrap();

    let (text, runs) = h.ok("list_runs", json!({"job_id": 101})).await;
    let ids: Vec<i64> = runs["runs"].as_array().unwrap().iter().map(|r| r["run_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [active_id, 1013, 1012, 1011], "newest first: {text}");
    assert!(
        text.lines().next().unwrap().contains(&format!("run {active_id} (job 101, daily-notebook): PENDING since")),
        "{text}"
    );
    assert!(text.contains("run 1013 (job 101, daily-notebook): SUCCESS, started"), "{text}");

    let (_, active) = h.ok("list_runs", json!({"active_only": true})).await;
    assert_eq!(active["runs"].as_array().unwrap().len(), 1);
    let (_, done) = h.ok("list_runs", json!({"job_id": 101, "completed_only": true})).await;
    assert_eq!(done["runs"].as_array().unwrap().len(), 3);

    // The seed's runs of job 101 started 3, 2 and 1 days ago; keep those older than 36 hours.
    let start_1011 = runs["runs"][3]["start_time"].as_i64().unwrap();
    let start_1012 = runs["runs"][2]["start_time"].as_i64().unwrap();
    let (_, window) =
        h.ok("list_runs", json!({"job_id": 101, "start_time_from": start_1011, "start_time_to": start_1012})).await;
    let ids: Vec<i64> = window["runs"].as_array().unwrap().iter().map(|r| r["run_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1012, 1011]);
    let sent = h.requests_to("GET", "/api/2.2/jobs/runs/list");
    assert!(sent.last().unwrap().query.contains(&format!("start_time_from={start_1011}")));

    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut args = json!({"limit": 3});
        if let Some(t) = &token {
            args["page_token"] = json!(t);
        }
        let (text, page) = h.ok("list_runs", args).await;
        seen.extend(page["runs"].as_array().unwrap().iter().map(|r| r["run_id"].as_i64().unwrap()));
        token = page.get("next_page_token").and_then(Value::as_str).map(str::to_string);
        match &token {
            Some(_) => assert!(text.contains("More runs: call again with page_token"), "{text}"),
            None => break,
        }
        assert!(seen.len() < 50, "pagination ends");
    }
    assert_eq!(seen.len(), 8, "seven seeded runs and the new one: {seen:?}");

    let text = h.err("list_runs", json!({"active_only": true, "completed_only": true})).await;
    assert!(text.starts_with("Invalid arguments: active_only and completed_only exclude each other"), "{text}");
    let text = h.err("list_runs", json!({"start_time_from": 20, "start_time_to": 10})).await;
    assert!(text.starts_with("Invalid arguments: start_time_from is after"), "{text}");
}

#[tokio::test]
async fn a_failed_job_is_explained_and_repaired() {
    let h = Harness::start(&["jobs"]).await;
    let (text, status) = h.ok("job_status", json!({"job_id": 102})).await;
    assert!(text.starts_with("etl-pipeline (job 102): last 2 run(s): 0 active, 1 succeeded, 1 failed"), "{text}");
    assert!(text.contains("run 1021: FAILED"), "{text}");
    assert!(
        text.contains("  transform (task run 102102): FAILED: AnalysisException: [UNRESOLVED_COLUMN] A column `order_ts` cannot be resolved"),
        "{text}"
    );
    assert!(text.contains("  publish (task run 102103): UPSTREAM_FAILED"), "{text}");
    let failed = &status["runs"][1];
    assert_eq!(failed["run_id"], 1021);
    assert_eq!(failed["failed_tasks"].as_array().unwrap().len(), 2);
    assert!(failed["failed_tasks"][1].get("error").is_none(), "a skipped task has no error of its own");
    assert_eq!(h.requests_to("GET", "/api/2.2/jobs/runs/get-output").len(), 1, "one lookup per failed task");

    let (text, outputs) = h.ok("get_run_output", json!({"run_id": 1021})).await;
    let outputs = outputs["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 3, "each task of a multi-task run, by task run id");
    assert!(outputs[0]["output"]["notebook_output"]["result"].as_str().unwrap().contains("ingest"));
    assert!(outputs[1]["output"]["error"].as_str().unwrap().contains("UNRESOLVED_COLUMN"));
    assert!(text.contains("transform (task run 102102): FAILED\n  Error: AnalysisException"), "{text}");
    assert!(text.contains("Trace:"), "{text}");
    let asked: Vec<String> =
        h.requests_to("GET", "/api/2.2/jobs/runs/get-output").iter().map(|r| r.query.clone()).collect();
    assert!(asked.contains(&"run_id=102102".to_string()), "{asked:?}");

    let (text, repaired) = h.ok("repair_run", json!({"run_id": 1021, "wait": true})).await;
    assert!(text.starts_with("Repair ") && text.contains("of run 1021 reruns transform, publish."), "{text}");
    assert!(text.contains("Errors and traces: get_run_output with run_id 1021."), "it failed again: {text}");
    assert_eq!(repaired["finished"], true);
    let body: Value = serde_json::from_str(&h.requests_to("POST", "/api/2.2/jobs/runs/repair")[0].body).unwrap();
    assert_eq!(body, json!({"run_id": 1021, "rerun_all_failed_tasks": true}));
    let history = repaired["run"]["repair_history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "the original attempt and the repair");
    let repair_id = history[1]["id"].as_i64().unwrap();

    // A second repair must name the latest one; the tool finds it.
    let (text, _) =
        h.ok("repair_run", json!({"run_id": 1021, "rerun_tasks": ["ingest"], "rerun_dependent_tasks": true})).await;
    assert!(text.contains("reruns ingest.") && text.contains("wait_for_run"), "{text}");
    let body: Value = serde_json::from_str(&h.requests_to("POST", "/api/2.2/jobs/runs/repair")[1].body).unwrap();
    assert_eq!(body["latest_repair_id"], repair_id);
    let (_, run) = h.ok("wait_for_run", json!({"run_id": 1021})).await;
    assert_eq!(run["run"]["repair_history"].as_array().unwrap().len(), 3);

    let text = h.err("repair_run", json!({"run_id": 1013})).await;
    assert!(text.starts_with("Invalid arguments: every task of run 1013 succeeded"), "{text}");
}

#[tokio::test]
async fn export_run_gives_the_notebook_html_cut_to_size() {
    let h = Harness::start(&["jobs"]).await;
    let (text, export) = h.ok("export_run", json!({"run_id": 1011})).await;
    let view = &export["views"][0];
    assert_eq!(
        (view["type"].clone(), view["name"].clone(), view["truncated"].clone()),
        (json!("NOTEBOOK"), json!("summary"), json!(false))
    );
    assert!(view["content"].as_str().unwrap().starts_with("<!DOCTYPE html>"), "{view}");
    assert_eq!(export["run_id"], 101101, "a single-task run exports its task run");
    assert!(text.contains("<h1>summary</h1>"), "{text}");

    let (text, cut) = h.ok("export_run", json!({"run_id": 1011, "max_chars": 100})).await;
    let view = &cut["views"][0];
    assert_eq!(view["truncated"], true);
    assert_eq!(view["content"].as_str().unwrap().chars().count(), 100);
    assert!(view["total_chars"].as_u64().unwrap() > 100);
    assert!(text.contains("raise max_chars for more"), "{text}");

    let text = h.err("export_run", json!({"run_id": 1021})).await;
    assert!(
        text.starts_with("Invalid arguments: run 1021 has 3 tasks; give task_key")
            && text.contains("transform (task run 102102)"),
        "{text}"
    );
    let (_, one) = h.ok("export_run", json!({"run_id": 1021, "task_key": "transform", "views": "ALL"})).await;
    assert_eq!(one["run_id"], 102102);
    let sent = h.requests_to("GET", "/api/2.2/jobs/runs/export");
    assert_eq!(sent.last().unwrap().query, "run_id=102102&views_to_export=ALL");
}

#[tokio::test]
async fn waits_report_progress_and_say_how_to_poll_on() {
    let h = Setup::new(&["jobs"]).transition_delay(Duration::from_millis(1500)).start().await;
    let (_, started) = h.ok("run_job", json!({"job_id": 101})).await;
    let run_id = started["run_id"].as_i64().unwrap();
    let (text, early) = h.ok("wait_for_run", json!({"run_id": run_id, "timeout_seconds": 1})).await;
    assert_eq!(early["finished"], false, "running out of time is a result, not an error");
    assert!(
        text.contains(&format!("call wait_for_run with run_id {run_id} to keep waiting"))
            || text.contains(&format!("Call wait_for_run with run_id {run_id} to keep waiting")),
        "{text}"
    );
    assert!(text.starts_with(&format!("Run {run_id} is still ")), "{text}");

    h.progress.lock().unwrap().clear();
    let params = CallToolRequestParams::new("wait_for_run")
        .with_arguments(json!({"run_id": run_id}).as_object().unwrap().clone());
    let result = within(Duration::from_secs(60), "wait_for_run", h.client.call_tool(params)).await.unwrap();
    assert_ne!(result.is_error, Some(true), "{result:?}");
    let done = result.structured_content.unwrap();
    assert_eq!(done["finished"], true);
    assert_eq!(run_state(&done["run"]).1, "SUCCESS");
    let progress = h.progress.lock().unwrap().clone();
    assert!(!progress.is_empty(), "at least one progress notification");
    assert!(
        progress.iter().any(|p| p.message.as_deref().is_some_and(|m| m.contains(&format!("run {run_id} to finish"))
            && (m.contains("RUNNING") || m.contains("PENDING") || m.contains("TERMINATING")))),
        "{progress:?}"
    );
}

#[tokio::test]
async fn cancelling_run_notebook_cancels_its_run() {
    let h = Setup::new(&["jobs"]).transition_delay(Duration::from_secs(60)).start().await;
    let params = CallToolRequestParams::new("run_notebook").with_arguments(
        json!({"notebook_path": "/Shared/slow", "existing_cluster_id": SHARED}).as_object().unwrap().clone(),
    );
    let handle = h
        .client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(params)),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    within(Duration::from_secs(20), "the run to be submitted", async {
        while h.requests_to("GET", "/api/2.2/jobs/runs/get").is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(h.requests_to("POST", "/api/2.2/jobs/runs/cancel").is_empty(), "nothing cancelled while waiting");
    handle.cancel(Some("test".into())).await.unwrap();
    within(Duration::from_secs(10), "the compensation request", async {
        while h.requests_to("POST", "/api/2.2/jobs/runs/cancel").is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let submitted = h.requests_to("GET", "/api/2.2/jobs/runs/get")[0].query.clone();
    let run_id: i64 = submitted.trim_start_matches("run_id=").parse().unwrap();
    let cancel: Value = serde_json::from_str(&h.requests_to("POST", "/api/2.2/jobs/runs/cancel")[0].body).unwrap();
    assert_eq!(cancel, json!({"run_id": run_id}));
    let (_, run) = h.ok("get_run", json!({"run_id": run_id})).await;
    assert_eq!(run_state(&run), ("TERMINATED".into(), "CANCELED".into()));

    // A wait that runs out is a result, and the run is left running: nothing is cancelled.
    let (text, result) = h.ok("run_notebook", json!({"notebook_path": "/Shared/slow", "timeout_seconds": 1})).await;
    let second = result["run_id"].as_i64().unwrap();
    assert_eq!((result["finished"].clone(), result["state"].clone()), (json!(false), json!("PENDING")), "{text}");
    assert!(text.contains(&format!("Call wait_for_run with run_id {second} to keep waiting")), "{text}");
    assert!(result.get("exit_value").is_none());
    assert_eq!(h.requests_to("POST", "/api/2.2/jobs/runs/cancel").len(), 1, "only the first run was cancelled");
    let (_, run) = h.ok("get_run", json!({"run_id": second})).await;
    assert_eq!(run_state(&run).0, "PENDING");
}

#[tokio::test]
async fn runs_are_cancelled_one_or_all_at_once() {
    let h = Setup::new(&["jobs"]).transition_delay(Duration::from_secs(60)).start().await;
    let id = create(
        &h,
        json!({"name": "parallel", "max_concurrent_runs": 3, "tasks": [notebook_task("main", "/Shared/main", &[])]}),
    )
    .await;
    let mut runs = Vec::new();
    for _ in 0..3 {
        let (_, started) = h.ok("run_job", json!({"job_id": id})).await;
        runs.push(started["run_id"].as_i64().unwrap());
    }
    let (text, cancelled) = h.ok("cancel_run", json!({"run_id": runs[0]})).await;
    assert_eq!(run_state(&cancelled["run"]), ("TERMINATED".into(), "CANCELED".into()), "{text}");
    assert!(text.starts_with(&format!("Cancelling run {}", runs[0])), "{text}");
    let (text, _) = h.ok("cancel_run", json!({"run_id": runs[0]})).await;
    assert!(text.contains("already finished (CANCELED); nothing to cancel"), "{text}");
    assert_eq!(h.requests_to("POST", "/api/2.2/jobs/runs/cancel").len(), 1, "a finished run is not cancelled again");

    let (text, all) = h.ok("cancel_all_runs", json!({"job_id": id})).await;
    assert_eq!(all["run_ids"], json!([runs[2], runs[1]]), "{text}");
    assert!(text.starts_with(&format!("Cancelling 2 active run(s) of job {id}")), "{text}");
    let (_, active) = h.ok("list_runs", json!({"job_id": id, "active_only": true})).await;
    assert_eq!(active["runs"], json!([]));
    let (text, _) = h.ok("cancel_all_runs", json!({"job_id": id})).await;
    assert_eq!(text, format!("No active runs of job {id} to cancel."));

    let text = h.err("cancel_all_runs", json!({})).await;
    assert!(text.starts_with("Invalid arguments: give job_id"), "{text}");
    let text = h.err("cancel_all_runs", json!({"job_id": 424_242})).await;
    assert_eq!(text, "Not found: Job 424242 does not exist");
    assert_eq!(h.requests_to("POST", "/api/2.2/jobs/runs/cancel-all").len(), 2, "refused calls send nothing");
}

#[tokio::test]
async fn alice_cannot_see_or_run_jobs_she_was_not_granted() {
    let h = Setup::new(&["jobs"]).token(ALICE_TOKEN).start().await;
    let text = h.err("get_job", json!({"job_id": 101})).await;
    assert!(
        text.starts_with("Permission denied: User alice.nguyen@example.com does not have View permissions on job 101"),
        "{text}"
    );
    let text = h.err("run_job", json!({"job_id": 101})).await;
    assert!(text.starts_with("Permission denied") && text.contains("Manage Run permissions on job 101"), "{text}");
    let text = h.err("get_run", json!({"run_id": 1011})).await;
    assert!(text.starts_with("Permission denied"), "{text}");
    let text = h.err("job_status", json!({"job_id": 102})).await;
    assert!(text.starts_with("Permission denied"), "{text}");
    assert!(h.requests_to("POST", "/api/2.2/jobs/run-now").len() == 1, "the workspace decided");
    let (_, listed) = h.ok("list_jobs", json!({})).await;
    assert_eq!(listed["jobs"], json!([]), "she sees none of the seeded jobs");

    // Her own job is hers to run.
    let id = simple_job(&h, "alice-job").await;
    let (_, listed) = h.ok("list_jobs", json!({})).await;
    assert_eq!(listed["jobs"][0]["job_id"], id);
    let (_, done) = h.ok("run_job", json!({"job_id": id, "wait": true})).await;
    assert_eq!(run_state(&done["run"]).1, "SUCCESS");

    // Granted view on job 101 (by an admin), she can read it but still not run it.
    let grant =
        json!({"access_control_list": [{"user_name": "alice.nguyen@example.com", "permission_level": "CAN_VIEW"}]});
    let (status, acl) = workspace_call(&h, "PATCH", "/api/2.0/permissions/jobs/101", &grant).await;
    assert_eq!(status, 200, "{acl}");
    let (_, job) = h.ok("get_job", json!({"job_id": 101})).await;
    assert_eq!(job["settings"]["name"], "daily-notebook");
    let text = h.err("run_job", json!({"job_id": 101})).await;
    assert!(text.contains("Manage Run permissions on job 101"), "{text}");
}

#[tokio::test]
async fn arguments_that_break_the_schema_never_reach_the_plugin() {
    let h = Harness::start(&["jobs"]).await;
    let before = h.emulator.requests().len();
    let text = h.err("get_job", json!({})).await;
    assert!(text.contains("input schema") && text.contains("job_id"), "{text}");
    let text = h.err("get_job", json!({"job_id": "one-oh-one"})).await;
    assert!(text.contains("job_id") || text.contains("one-oh-one"), "{text}");
    let text = h.err("list_runs", json!({"run_type": "NIGHTLY_RUN"})).await;
    assert!(text.contains("NIGHTLY_RUN"), "{text}");
    let text = h.err("export_run", json!({"run_id": 1011, "views": "PDF"})).await;
    assert!(text.contains("PDF"), "{text}");
    let text = h.err("create_job", json!({"name": "no tasks field"})).await;
    assert!(text.contains("tasks"), "{text}");
    assert_eq!(h.emulator.requests().len(), before, "nothing was sent to the workspace");

    // Well-formed but meaningless: the plugin says why, still without a request.
    let text = h.err("create_job", json!({"name": "x", "tasks": []})).await;
    assert_eq!(text, "Invalid arguments: give at least one task");
    let text = h.err("create_job", json!({"name": "x", "tasks": [{"notebook_task": {"notebook_path": "/a"}}]})).await;
    assert_eq!(text, "Invalid arguments: task 1 has no task_key");
    assert_eq!(h.emulator.requests().len(), before);
    // What only the workspace knows comes back as its error.
    let text = h.err("create_job", json!({"name": "x", "tasks": [{"task_key": "a"}]})).await;
    assert!(
        text.starts_with("Databricks API error 400 INVALID_PARAMETER_VALUE: Task a must specify a task type"),
        "{text}"
    );
}
