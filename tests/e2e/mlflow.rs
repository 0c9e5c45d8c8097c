//! Every mlflow tool, through MCP, against the emulator's MLflow tracking and Unity Catalog models
//! (test seed: experiment `4011000000000001` churn-prediction with four runs, `4011000000000002`
//! fraud-detection private to its owner; models `main.default.churn_model` v1-3 with aliases
//! `champion` → 2 and `challenger` → 3, and `main.default.fraud_model`, private).

use databricks_emulator::ALICE_TOKEN;
use serde_json::{Value, json};

use crate::support::{Harness, Setup};

const MLFLOW_TOOLS: [&str; 13] = [
    "search_mlflow_experiments",
    "get_mlflow_experiment",
    "create_mlflow_experiment",
    "delete_mlflow_experiment",
    "search_mlflow_runs",
    "get_mlflow_run",
    "get_mlflow_metric_history",
    "list_registered_models",
    "get_registered_model",
    "list_model_versions",
    "get_model_version",
    "set_registered_model_alias",
    "delete_registered_model_alias",
];
const CHURN: &str = "4011000000000001";
const CHURN_MODEL: &str = "main.default.churn_model";
const XGB_TUNED: &str = "5e1d0c0a11e040b39a7c0d9b2f3a1b02";

fn names(list: &Value, key: &str, field: &str) -> Vec<String> {
    list[key].as_array().unwrap().iter().map(|x| x[field].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn lists_every_mlflow_tool_with_schemas_and_annotations() {
    let h = Harness::start(&["mlflow"]).await;
    let tools = h.tools().await;
    let listed: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(listed, MLFLOW_TOOLS);
    for tool in &tools {
        assert!(tool.description.as_ref().is_some_and(|d| d.len() > 40), "{} needs a real description", tool.name);
        assert!(tool.output_schema.is_some(), "{} declares an output schema", tool.name);
        for (name, prop) in tool.input_schema["properties"].as_object().unwrap() {
            assert!(prop.get("description").is_some(), "{}.{name} is described", tool.name);
        }
        let a = tool.annotations.clone().unwrap();
        let writes = [
            "create_mlflow_experiment",
            "delete_mlflow_experiment",
            "set_registered_model_alias",
            "delete_registered_model_alias",
        ];
        assert_eq!(a.read_only_hint, Some(!writes.contains(&tool.name.as_ref())), "{}", tool.name);
        if writes.contains(&tool.name.as_ref()) {
            assert_eq!(a.destructive_hint, Some(tool.name != "create_mlflow_experiment"), "{}", tool.name);
        }
    }
}

#[tokio::test]
async fn experiments_are_searched_created_read_and_deleted() {
    let h = Harness::start(&["mlflow"]).await;
    let (text, data) = h.ok("search_mlflow_experiments", json!({})).await;
    assert_eq!(
        names(&data, "experiments", "experiment_id"),
        ["4011000000000002", CHURN],
        "newest activity first: {text}"
    );
    let (_, data) = h.ok("search_mlflow_experiments", json!({"filter": "name LIKE '%churn%'"})).await;
    assert_eq!(names(&data, "experiments", "experiment_id"), [CHURN]);
    let (_, data) = h
        .ok("search_mlflow_experiments", json!({"filter": "tags.team = 'ml-platform'", "order_by": ["name ASC"]}))
        .await;
    assert_eq!(names(&data, "experiments", "experiment_id"), [CHURN]);
    let bad = h.err("search_mlflow_experiments", json!({"filter": "name ~ 'x'"})).await;
    assert!(bad.contains("Invalid clause"), "{bad}");

    let (text, first) = h.ok("search_mlflow_experiments", json!({"limit": 1})).await;
    let token = first["next_page_token"].as_str().unwrap();
    assert!(text.contains(token), "{text}");
    let (_, rest) = h.ok("search_mlflow_experiments", json!({"limit": 1, "page_token": token})).await;
    assert_eq!(names(&rest, "experiments", "experiment_id"), [CHURN]);
    let sent: Value =
        serde_json::from_str(&h.requests_to("POST", "/api/2.0/mlflow/experiments/search").last().unwrap().body)
            .unwrap();
    assert_eq!(
        (sent["page_token"].as_str(), sent["max_results"].as_u64()),
        (Some(token), Some(1)),
        "the token goes in the body"
    );

    let (text, data) =
        h.ok("get_mlflow_experiment", json!({"name": "/Users/demo.user@example.com/churn-prediction"})).await;
    assert_eq!(data["experiment_id"], CHURN);
    assert!(text.contains("Tag team = ml-platform"), "{text}");

    let (text, created) = h
        .ok(
            "create_mlflow_experiment",
            json!({"name": "/Users/demo.user@example.com/churn-v2", "tags": {"team": "ml"}}),
        )
        .await;
    let id = created["experiment_id"].as_str().unwrap().to_string();
    assert!(text.contains(&id), "{text}");
    let (_, got) = h.ok("get_mlflow_experiment", json!({"experiment_id": id})).await;
    assert_eq!(got["lifecycle_stage"], "active");
    let dup = h.err("create_mlflow_experiment", json!({"name": "/Users/demo.user@example.com/churn-v2"})).await;
    assert!(dup.contains("already exists"), "{dup}");
    let relative = h.err("create_mlflow_experiment", json!({"name": "churn-v3"})).await;
    assert!(relative.contains("absolute path"), "{relative}");

    h.ok("delete_mlflow_experiment", json!({"experiment_id": id})).await;
    let (_, active) = h.ok("search_mlflow_experiments", json!({"filter": "name LIKE '%churn-v2'"})).await;
    assert!(active.get("experiments").is_none_or(|e| e.as_array().unwrap().is_empty()));
    let (_, deleted) = h.ok("search_mlflow_experiments", json!({"view_type": "DELETED_ONLY"})).await;
    assert_eq!(names(&deleted, "experiments", "experiment_id"), [id.as_str()]);
    let missing = h.err("get_mlflow_experiment", json!({"experiment_id": "999"})).await;
    assert!(missing.contains("does not exist"), "{missing}");
    let both = h.err("get_mlflow_experiment", json!({"experiment_id": CHURN, "name": "/x"})).await;
    assert!(both.contains("exactly one"), "{both}");
}

#[tokio::test]
async fn runs_are_searched_by_metrics_and_read_with_their_history() {
    let h = Harness::start(&["mlflow"]).await;
    let (text, data) = h.ok("search_mlflow_runs", json!({"experiment_ids": [CHURN]})).await;
    let runs = data["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4, "{text}");
    assert_eq!(runs[0]["info"]["run_name"], "xgb-deep", "newest first");

    let (text, best) = h
        .ok("search_mlflow_runs", json!({"experiment_ids": [CHURN], "filter": "metrics.auc > 0.85 AND params.model = 'xgboost'", "order_by": ["metrics.auc DESC"]}))
        .await;
    let best: Vec<&str> =
        best["runs"].as_array().unwrap().iter().map(|r| r["info"]["run_name"].as_str().unwrap()).collect();
    assert_eq!(best, ["xgb-usage-features", "xgb-tuned"], "{text}");
    assert!(text.contains("auc=0.874"), "{text}");
    let (_, failed) =
        h.ok("search_mlflow_runs", json!({"experiment_ids": [CHURN], "filter": "attributes.status = 'FAILED'"})).await;
    assert_eq!(failed["runs"][0]["info"]["run_name"], "xgb-deep");

    let (_, page1) = h.ok("search_mlflow_runs", json!({"experiment_ids": [CHURN], "limit": 3})).await;
    let token = page1["next_page_token"].as_str().unwrap();
    let (_, page2) =
        h.ok("search_mlflow_runs", json!({"experiment_ids": [CHURN], "limit": 3, "page_token": token})).await;
    assert_eq!(page1["runs"].as_array().unwrap().len() + page2["runs"].as_array().unwrap().len(), 4);
    assert!(page2.get("next_page_token").is_none());

    let (text, run) = h.ok("get_mlflow_run", json!({"run_id": XGB_TUNED})).await;
    assert_eq!(run["info"]["status"], "FINISHED");
    assert!(text.contains("Params: eta=0.1, max_depth=6, model=xgboost"), "{text}");
    let metrics: Vec<&str> =
        run["data"]["metrics"].as_array().unwrap().iter().map(|m| m["key"].as_str().unwrap()).collect();
    assert_eq!(metrics, ["auc", "f1", "loss"]);

    let (text, history) =
        h.ok("get_mlflow_metric_history", json!({"run_id": XGB_TUNED, "metric_key": "loss", "limit": 4})).await;
    let points = history["metrics"].as_array().unwrap();
    assert_eq!(points.len(), 4, "{text}");
    assert!(points[0]["value"].as_f64().unwrap() > points[3]["value"].as_f64().unwrap(), "loss falls");
    let token = history["next_page_token"].as_str().unwrap();
    let (_, rest) = h
        .ok(
            "get_mlflow_metric_history",
            json!({"run_id": XGB_TUNED, "metric_key": "loss", "limit": 100, "page_token": token}),
        )
        .await;
    let rest = rest["metrics"].as_array().unwrap();
    assert_eq!(rest.len(), 6, "ten epochs in all");
    assert_eq!(rest.last().unwrap()["value"], 0.35, "the last point is the run's latest value");

    let missing = h.err("get_mlflow_run", json!({"run_id": "0000"})).await;
    assert!(missing.contains("not found"), "{missing}");
    let none = h.err("search_mlflow_runs", json!({"experiment_ids": []})).await;
    assert!(none.contains("experiment_ids is empty"), "{none}");
}

#[tokio::test]
async fn registered_models_versions_and_aliases() {
    let h = Harness::start(&["mlflow"]).await;
    let (text, data) = h.ok("list_registered_models", json!({"catalog_name": "main", "schema_name": "default"})).await;
    assert_eq!(names(&data, "registered_models", "full_name"), [CHURN_MODEL, "main.default.fraud_model"], "{text}");
    let (_, first) = h.ok("list_registered_models", json!({"limit": 1})).await;
    let (_, rest) = h.ok("list_registered_models", json!({"limit": 1, "page_token": first["next_page_token"]})).await;
    assert_eq!(names(&rest, "registered_models", "full_name"), ["main.default.fraud_model"]);

    let (text, model) = h.ok("get_registered_model", json!({"full_name": CHURN_MODEL})).await;
    assert!(text.contains("Alias champion -> version 2") && text.contains("Alias challenger -> version 3"), "{text}");
    assert_eq!(model["aliases"].as_array().unwrap().len(), 2);

    let (text, versions) = h.ok("list_model_versions", json!({"full_name": CHURN_MODEL})).await;
    let numbers: Vec<u64> =
        versions["model_versions"].as_array().unwrap().iter().map(|v| v["version"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [3, 2, 1], "{text}");
    assert!(text.contains("v2 READY [champion], run 5e1d0c0a11e040b39a7c0d9b2f3a1b02"), "{text}");

    let (_, champion) = h.ok("get_model_version", json!({"full_name": CHURN_MODEL, "alias": "champion"})).await;
    assert_eq!(champion["version"], 2);
    // The version's run is a real MLflow run.
    let (_, run) = h.ok("get_mlflow_run", json!({"run_id": champion["run_id"]})).await;
    assert_eq!(run["info"]["run_name"], "xgb-tuned");

    let (text, moved) =
        h.ok("set_registered_model_alias", json!({"full_name": CHURN_MODEL, "alias": "champion", "version": 3})).await;
    assert_eq!(text, "Moved main.default.churn_model@champion from version 2 to version 3.");
    assert_eq!(moved["previous_version"], 2);
    let (_, champion) = h.ok("get_model_version", json!({"full_name": CHURN_MODEL, "alias": "champion"})).await;
    assert_eq!(champion["version"], 3);
    let (_, v3) = h.ok("get_model_version", json!({"full_name": CHURN_MODEL, "version": 3})).await;
    let aliases: Vec<&str> =
        v3["aliases"].as_array().unwrap().iter().map(|a| a["alias_name"].as_str().unwrap()).collect();
    assert_eq!(aliases, ["challenger", "champion"]);

    let (text, _) =
        h.ok("delete_registered_model_alias", json!({"full_name": CHURN_MODEL, "alias": "challenger"})).await;
    assert!(text.contains("Removed alias challenger"), "{text}");
    let gone = h.err("get_model_version", json!({"full_name": CHURN_MODEL, "alias": "challenger"})).await;
    assert!(gone.contains("does not exist"), "{gone}");
    let bad =
        h.err("set_registered_model_alias", json!({"full_name": CHURN_MODEL, "alias": "Prod!", "version": 1})).await;
    assert!(bad.contains("Invalid alias"), "{bad}");
    let no_version =
        h.err("set_registered_model_alias", json!({"full_name": CHURN_MODEL, "alias": "prod", "version": 9})).await;
    assert!(no_version.contains("Model version 9"), "{no_version}");
    let missing = h.err("get_registered_model", json!({"full_name": "main.default.nope"})).await;
    assert!(missing.contains("does not exist"), "{missing}");
}

#[tokio::test]
async fn other_users_see_only_what_they_are_granted() {
    let h = Setup::new(&["mlflow"]).token(ALICE_TOKEN).start().await;
    let (_, data) = h.ok("search_mlflow_experiments", json!({})).await;
    assert_eq!(names(&data, "experiments", "experiment_id"), [CHURN]);
    let hidden = h.err("search_mlflow_runs", json!({"experiment_ids": ["4011000000000002"]})).await;
    assert!(hidden.contains("does not exist"), "{hidden}");
    let denied = h.err("delete_mlflow_experiment", json!({"experiment_id": CHURN})).await;
    assert!(denied.contains("does not have Manage permissions"), "{denied}");
    let (_, models) = h.ok("list_registered_models", json!({})).await;
    assert_eq!(names(&models, "registered_models", "full_name"), [CHURN_MODEL]);
    let denied =
        h.err("set_registered_model_alias", json!({"full_name": CHURN_MODEL, "alias": "champion", "version": 1})).await;
    assert!(denied.contains("MANAGE"), "{denied}");
    let hidden = h.err("get_registered_model", json!({"full_name": "main.default.fraud_model"})).await;
    assert!(hidden.contains("does not have EXECUTE on Registered model"), "{hidden}");
}
