//! Registered models in Unity Catalog (`/api/2.1/unity-catalog/models`): MLflow models whose
//! versions, aliases and privileges live in the catalog, beside tables and functions.
//!
//! The emulator serves reading them (list, get, versions, get by alias) and moving aliases; models
//! and versions come from the seed (registering a version needs MLflow artifact uploads, which the
//! emulator does not take). Privileges follow functions: seeing a model takes `USE_CATALOG`,
//! `USE_SCHEMA` and `EXECUTE` (or `BROWSE`) on it; moving an alias takes ownership or `MANAGE`.
//!
//! Errors: a missing model or version is 404 `RESOURCE_DOES_NOT_EXIST`, an unknown alias 404
//! `RESOURCE_DOES_NOT_EXIST`, an alias that is not a lower-case identifier 400
//! `INVALID_PARAMETER_VALUE`.
//!
//! `Test` seed, in `main.default` (owner `demo.user@example.com`):
//! - `churn_model`: versions 1, 2, 3 READY (from the MLflow runs of experiment `churn-prediction`);
//!   aliases `champion` → 2, `challenger` → 3. `data-engineers` (alice) hold `EXECUTE` on it.
//! - `fraud_model`: version 1 READY, version 2 FAILED_REGISTRATION; only its owner sees it.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    grants::Securable,
    store::{Meta, Unity, split_name},
};
use crate::{
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    identity::Caller,
    pagination::{decode_token, page},
    workspace::AppState,
};

type App = State<Arc<AppState>>;

const DEFAULT_PAGE_SIZE: usize = 50;
const MAX_PAGE_SIZE: usize = 1000;

/// One version of a registered model.
#[derive(Debug, Clone)]
pub(crate) struct ModelVersion {
    pub version: u64,
    /// Where the MLflow model came from: `runs:/<run_id>/model` or a storage path.
    pub source: String,
    pub run_id: Option<String>,
    /// `READY`, `PENDING_REGISTRATION` or `FAILED_REGISTRATION`.
    pub status: &'static str,
    pub meta: Meta,
}

/// A registered model and its versions.
#[derive(Debug, Clone)]
pub(crate) struct RegisteredModel {
    pub catalog: String,
    pub schema: String,
    pub name: String,
    pub meta: Meta,
    /// Alias → version number.
    pub aliases: BTreeMap<String, u64>,
    pub versions: BTreeMap<u64, ModelVersion>,
}

impl RegisteredModel {
    pub fn full_name(&self) -> String {
        format!("{}.{}.{}", self.catalog, self.schema, self.name)
    }

    fn storage_location(&self) -> String {
        format!("s3://databricks-emulator-metastore/models/{}", self.meta.id)
    }

    fn aliases_json(&self, version: Option<u64>) -> Value {
        self.aliases
            .iter()
            .filter(|(_, v)| version.is_none_or(|want| **v == want))
            .map(|(alias, v)| json!({"alias_name": alias, "version_num": v}))
            .collect::<Vec<_>>()
            .into()
    }

    /// `RegisteredModelInfo`.
    pub fn render(&self, metastore_id: &str, with_aliases: bool) -> Value {
        let mut out = json!({
            "name": self.name,
            "catalog_name": self.catalog,
            "schema_name": self.schema,
            "full_name": self.full_name(),
            "owner": self.meta.owner,
            "created_at": self.meta.created_at,
            "created_by": self.meta.created_by,
            "updated_at": self.meta.updated_at,
            "updated_by": self.meta.updated_by,
            "metastore_id": metastore_id,
            "storage_location": self.storage_location(),
            "securable_type": "FUNCTION",
        });
        if let Some(c) = &self.meta.comment {
            out["comment"] = json!(c);
        }
        if with_aliases {
            out["aliases"] = self.aliases_json(None);
        }
        out
    }

    /// `ModelVersionInfo`.
    pub fn render_version(&self, v: &ModelVersion, metastore_id: &str) -> Value {
        let mut out = json!({
            "model_name": self.name,
            "catalog_name": self.catalog,
            "schema_name": self.schema,
            "version": v.version,
            "source": v.source,
            "status": v.status,
            "id": v.meta.id,
            "created_at": v.meta.created_at,
            "created_by": v.meta.created_by,
            "updated_at": v.meta.updated_at,
            "updated_by": v.meta.updated_by,
            "metastore_id": metastore_id,
            "storage_location": format!("{}/versions/{}", self.storage_location(), v.version),
            "aliases": self.aliases_json(Some(v.version)),
        });
        if let Some(run) = &v.run_id {
            out["run_id"] = json!(run);
            out["run_workspace_id"] = json!(crate::identity::WORKSPACE_ID.parse::<u64>().unwrap_or(0));
        }
        if let Some(c) = &v.meta.comment {
            out["comment"] = json!(c);
        }
        out
    }
}

/// Registered models by `(catalog, schema, name)`, lower case.
pub(crate) type Models = BTreeMap<(String, String, String), RegisteredModel>;

fn model_not_found(full: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
        format!("Registered model '{full}' does not exist."),
    )
}

impl Unity {
    /// The model, if it exists and the caller may see it.
    pub fn model(&self, full_name: &str, caller: &Caller) -> ApiResult<&RegisteredModel> {
        let parts = split_name(full_name, 3, "registered model")?;
        let model = self
            .models
            .get(&(parts[0].clone(), parts[1].clone(), parts[2].clone()))
            .ok_or_else(|| model_not_found(full_name))?;
        // Models take a function's privileges; the denial should still name a model.
        self.check_read(caller, Securable::Function, &parts.join(".")).map_err(|mut e| {
            e.message = e.message.replace("on Function", "on Registered model");
            e
        })?;
        Ok(model)
    }

    /// A version of a model the caller may see.
    pub fn model_version(
        &self,
        full_name: &str,
        version: u64,
        caller: &Caller,
    ) -> ApiResult<(&RegisteredModel, &ModelVersion)> {
        let model = self.model(full_name, caller)?;
        let v = model.versions.get(&version).ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "RESOURCE_DOES_NOT_EXIST",
                format!("Model version {version} of '{}' does not exist.", model.full_name()),
            )
        })?;
        Ok((model, v))
    }
}

fn paged(items: Vec<Value>, key: &str, params: &Params) -> ApiResult<Json<Value>> {
    let size = match params.parse::<i64>("max_results")? {
        None | Some(0) => DEFAULT_PAGE_SIZE,
        Some(n) if n < 0 => return Err(ApiError::invalid_parameter("max_results must be greater than or equal to 0")),
        Some(n) => usize::try_from(n).unwrap_or(MAX_PAGE_SIZE).min(MAX_PAGE_SIZE),
    };
    let offset = decode_token(params.get("page_token").unwrap_or_default())?;
    let cut = page(items, offset, size);
    let mut out = Map::new();
    out.insert(key.into(), Value::Array(cut.items));
    if let Some(token) = cut.next_page_token {
        out.insert("next_page_token".into(), json!(token));
    }
    Ok(Json(Value::Object(out)))
}

fn version_number(raw: &str) -> ApiResult<u64> {
    raw.parse()
        .map_err(|_| ApiError::invalid_parameter(format!("Invalid model version '{raw}': expected a positive integer")))
}

/// `GET /models?catalog_name&schema_name&max_results&page_token`.
pub(super) async fn list(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let catalog = params.get("catalog_name").filter(|c| !c.is_empty()).map(str::to_ascii_lowercase);
    let schema = params.get("schema_name").filter(|s| !s.is_empty()).map(str::to_ascii_lowercase);
    if schema.is_some() && catalog.is_none() {
        return Err(ApiError::invalid_parameter("schema_name requires catalog_name"));
    }
    let ws = app.workspace();
    let uc = &ws.unity;
    if let Some(c) = &catalog {
        uc.catalog(c)?;
        if let Some(s) = &schema {
            uc.schema(c, s)?;
        }
    }
    let items = uc
        .models
        .values()
        .filter(|m| catalog.as_ref().is_none_or(|c| *c == m.catalog) && schema.as_ref().is_none_or(|s| *s == m.schema))
        .filter(|m| uc.can_read(&caller, Securable::Function, &m.full_name()))
        .map(|m| m.render(&uc.metastore_id, false))
        .collect();
    paged(items, "registered_models", &params)
}

/// `GET /models/{full_name}?include_aliases`.
pub(super) async fn get(
    State(app): App,
    caller: Caller,
    Path(full): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let with_aliases = params.parse::<bool>("include_aliases")?.unwrap_or(false);
    let ws = app.workspace();
    let model = ws.unity.model(&full, &caller)?;
    Ok(Json(model.render(&ws.unity.metastore_id, with_aliases)))
}

/// `GET /models/{full_name}/versions?max_results&page_token`, newest first.
pub(super) async fn list_versions(
    State(app): App,
    caller: Caller,
    Path(full): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let ws = app.workspace();
    let model = ws.unity.model(&full, &caller)?;
    let items = model.versions.values().rev().map(|v| model.render_version(v, &ws.unity.metastore_id)).collect();
    paged(items, "model_versions", &params)
}

/// `GET /models/{full_name}/versions/{version}`.
pub(super) async fn get_version(
    State(app): App,
    caller: Caller,
    Path((full, version)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let ws = app.workspace();
    let (model, v) = ws.unity.model_version(&full, version_number(&version)?, &caller)?;
    Ok(Json(model.render_version(v, &ws.unity.metastore_id)))
}

fn check_alias(alias: &str) -> ApiResult<()> {
    let ok = alias.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && alias.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && alias.len() <= 255;
    if !ok || alias.starts_with('v') && alias[1..].chars().all(|c| c.is_ascii_digit()) && alias.len() > 1 {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid alias '{alias}': an alias is a lower-case identifier (letters, digits, underscores) and cannot look like a version (v1, v2, ...)"
        )));
    }
    Ok(())
}

/// `GET /models/{full_name}/aliases/{alias}`: the version the alias points at.
pub(super) async fn get_by_alias(
    State(app): App,
    caller: Caller,
    Path((full, alias)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let ws = app.workspace();
    let model = ws.unity.model(&full, &caller)?;
    let version = model.aliases.get(&alias).copied().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "RESOURCE_DOES_NOT_EXIST",
            format!("Alias '{alias}' does not exist on registered model '{}'.", model.full_name()),
        )
    })?;
    let (model, v) = ws.unity.model_version(&full, version, &caller)?;
    Ok(Json(model.render_version(v, &ws.unity.metastore_id)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AliasBody {
    version_num: Option<u64>,
}

/// `PUT /models/{full_name}/aliases/{alias}` `{version_num}`: points the alias at a version
/// (moving it if it pointed elsewhere).
pub(super) async fn set_alias(
    State(app): App,
    caller: Caller,
    Path((full, alias)): Path<(String, String)>,
    ApiJson(body): ApiJson<AliasBody>,
) -> ApiResult<Json<Value>> {
    let version = body.version_num.ok_or_else(|| ApiError::missing_field("version_num"))?;
    check_alias(&alias)?;
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    let uc = &mut ws.unity;
    let (model, _) = uc.model_version(&full, version, &caller)?;
    let key = (model.catalog.clone(), model.schema.clone(), model.name.clone());
    uc.check_manage(&caller, Securable::Function, &model.full_name())?;
    let model = uc.models.get_mut(&key).ok_or_else(|| model_not_found(&full))?;
    model.aliases.insert(alias.clone(), version);
    model.meta.updated_at = now;
    model.meta.updated_by.clone_from(&caller.user_name);
    Ok(Json(json!({
        "alias_name": alias,
        "version_num": version,
        "catalog_name": model.catalog,
        "schema_name": model.schema,
        "model_name": model.name,
        "id": model.versions.get(&version).map(|v| v.meta.id.clone()),
    })))
}

/// `DELETE /models/{full_name}/aliases/{alias}`.
pub(super) async fn delete_alias(
    State(app): App,
    caller: Caller,
    Path((full, alias)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let mut ws = app.workspace();
    let uc = &mut ws.unity;
    let model = uc.model(&full, &caller)?;
    let key = (model.catalog.clone(), model.schema.clone(), model.name.clone());
    uc.check_manage(&caller, Securable::Function, &model.full_name())?;
    let model = uc.models.get_mut(&key).ok_or_else(|| model_not_found(&full))?;
    if model.aliases.remove(&alias).is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "RESOURCE_DOES_NOT_EXIST",
            format!("Alias '{alias}' does not exist on registered model '{}'.", model.full_name()),
        ));
    }
    Ok(Json(json!({})))
}

/// The MLflow runs (experiment `churn-prediction`) that logged `churn_model` versions 1, 2 and 3;
/// the `mlflow` seed holds them.
pub(crate) const CHURN_RUN_IDS: [&str; 3] =
    ["5e1d0c0a11e040b39a7c0d9b2f3a1b01", "5e1d0c0a11e040b39a7c0d9b2f3a1b02", "5e1d0c0a11e040b39a7c0d9b2f3a1b03"];

const DAY_MS: u64 = 86_400_000;

/// The models of a seed (see the module docs).
pub(crate) fn seed(uc: &mut Unity, seed: crate::config::Seed, created: u64) {
    use crate::config::Seed;
    if seed == Seed::Empty {
        return;
    }
    const OWNER: &str = "demo.user@example.com";
    let runs = CHURN_RUN_IDS.map(|r| (format!("runs:/{r}/model"), r));
    seed_model(
        uc,
        ("main", "default", "churn_model"),
        OWNER,
        "Predicts which subscribers cancel within 30 days (gradient boosted trees)",
        &[
            (&runs[0].0, Some(runs[0].1), "READY", "Baseline logistic regression"),
            (&runs[1].0, Some(runs[1].1), "READY", "XGBoost, tuned"),
            (&runs[2].0, Some(runs[2].1), "READY", "XGBoost with usage features"),
        ],
        &[("champion", 2), ("challenger", 3)],
        created,
    );
    uc.grant(Securable::Function, "main.default.churn_model", "data-engineers", &["EXECUTE"]);
    seed_model(
        uc,
        ("main", "default", "fraud_model"),
        OWNER,
        "Scores card transactions for fraud",
        &[
            ("dbfs:/models/fraud/1", None, "READY", ""),
            ("dbfs:/models/fraud/2", None, "FAILED_REGISTRATION", "Artifact upload failed"),
        ],
        &[("champion", 1)],
        created + DAY_MS,
    );
    if seed == Seed::Demo {
        seed_model(
            uc,
            ("main", "default", "taxi_fare_regressor"),
            OWNER,
            "Predicts a taxi fare from distance and zip codes",
            &[
                ("dbfs:/models/taxi/1", None, "READY", "Linear baseline"),
                ("dbfs:/models/taxi/2", None, "READY", "LightGBM"),
            ],
            &[("champion", 2)],
            created + 2 * DAY_MS,
        );
    }
}

/// A seeded model: one version per entry of `versions` (source, run id, status, comment).
fn seed_model(
    uc: &mut Unity,
    (catalog, schema, name): (&str, &str, &str),
    owner: &str,
    comment: &str,
    versions: &[(&str, Option<&str>, &'static str, &str)],
    aliases: &[(&str, u64)],
    created: u64,
) {
    let full = format!("{catalog}.{schema}.{name}");
    let mut model = RegisteredModel {
        catalog: catalog.into(),
        schema: schema.into(),
        name: name.into(),
        meta: Meta::new(owner, Some(comment.into()), created, &format!("model:{full}")),
        aliases: aliases.iter().map(|(a, v)| ((*a).to_owned(), *v)).collect(),
        versions: BTreeMap::new(),
    };
    for (i, (source, run_id, status, comment)) in versions.iter().enumerate() {
        let version = i as u64 + 1;
        let at = created + version * 86_400_000;
        let mut meta = Meta::new(
            owner,
            (!comment.is_empty()).then(|| (*comment).to_owned()),
            at,
            &format!("model-version:{full}:{version}"),
        );
        meta.updated_at = at;
        model.versions.insert(
            version,
            ModelVersion { version, source: (*source).into(), run_id: run_id.map(Into::into), status, meta },
        );
    }
    model.meta.updated_at = created + versions.len() as u64 * 86_400_000;
    uc.models.insert((catalog.into(), schema.into(), name.into()), model);
}
