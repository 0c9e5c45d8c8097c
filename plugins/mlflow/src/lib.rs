//! MLflow on Databricks as MCP tools: search, inspect, create and delete experiments; search runs
//! and read their metrics, params and tags; read a metric's history; and read registered models
//! in Unity Catalog with their versions, moving their aliases (`champion`, ...).
//!
//! Tool names carry `mlflow` where a bare name would be ambiguous (`get_run` is a job run).
//! Searches page with `limit` and `page_token` (MLflow's searches take the token in the POST body,
//! the SDK's `Paging::BodyToken`).

mod experiments;
mod models;

use databricks_mcp_sdk::prelude::*;

use experiments::{
    create_mlflow_experiment, delete_mlflow_experiment, get_mlflow_experiment, get_mlflow_metric_history,
    get_mlflow_run, search_mlflow_experiments, search_mlflow_runs,
};
use models::{
    delete_registered_model_alias, get_model_version, get_registered_model, list_model_versions,
    list_registered_models, set_registered_model_alias,
};

/// Tags as the API lists them, `[{key, value}]`, to a map.
pub(crate) fn tag_map(tags: &Value) -> std::collections::BTreeMap<String, String> {
    tags.as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t["key"].as_str()?.to_string(), t["value"].as_str().unwrap_or_default().to_string())))
        .collect()
}

databricks_mcp_sdk::plugin! {
    name: "mlflow",
    description: "MLflow on Databricks: search, get, create and delete experiments; search and inspect runs and metric histories; registered models in Unity Catalog, their versions and aliases",
    grants: [
        "POST /api/2.0/mlflow/experiments/search",
        "GET /api/2.0/mlflow/experiments/get",
        "GET /api/2.0/mlflow/experiments/get-by-name",
        "POST /api/2.0/mlflow/experiments/create",
        "POST /api/2.0/mlflow/experiments/delete",
        "POST /api/2.0/mlflow/runs/search",
        "GET /api/2.0/mlflow/runs/get",
        "GET /api/2.0/mlflow/metrics/get-history",
        "GET /api/2.1/unity-catalog/models",
        "GET /api/2.1/unity-catalog/models/*",
        "GET /api/2.1/unity-catalog/models/*/versions",
        "GET /api/2.1/unity-catalog/models/*/versions/*",
        "GET /api/2.1/unity-catalog/models/*/aliases/*",
        "PUT /api/2.1/unity-catalog/models/*/aliases/*",
        "DELETE /api/2.1/unity-catalog/models/*/aliases/*",
    ],
    tools: [
        search_mlflow_experiments,
        get_mlflow_experiment,
        create_mlflow_experiment,
        delete_mlflow_experiment,
        search_mlflow_runs,
        get_mlflow_run,
        get_mlflow_metric_history,
        list_registered_models,
        get_registered_model,
        list_model_versions,
        get_model_version,
        set_registered_model_alias,
        delete_registered_model_alias,
    ],
}
