//! Registered models in Unity Catalog (`/api/2.1/unity-catalog/models`): models, versions and
//! aliases.

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request, format_time, segment};

const MODELS: &str = "/api/2.1/unity-catalog/models";

fn model_path(full_name: &str) -> String {
    format!("{MODELS}/{}", segment(full_name))
}

/// An alias and the version it points at.
#[schema]
#[derive(Debug, Clone)]
pub struct Alias {
    /// The alias, e.g. `champion`.
    pub alias_name: String,
    /// The version number it points at.
    pub version_num: u64,
}

/// A registered model (`RegisteredModelInfo`).
#[schema]
#[derive(Debug, Clone)]
pub struct RegisteredModel {
    /// `catalog.schema.model`.
    pub full_name: String,
    /// Who owns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Last change, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    /// Its aliases (`get_registered_model` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aliases: Option<Vec<Alias>>,
}

impl RegisteredModel {
    fn line(&self) -> String {
        let comment = self.comment.as_deref().map(|c| format!(": {c}")).unwrap_or_default();
        let owner = self.owner.as_deref().map(|o| format!(" (owner {o})")).unwrap_or_default();
        format!("{}{owner}{comment}", self.full_name)
    }
}

/// A model version (`ModelVersionInfo`).
#[schema]
#[derive(Debug, Clone)]
pub struct ModelVersion {
    /// The model's name (last part).
    #[serde(default)]
    pub model_name: String,
    /// The version number.
    pub version: u64,
    /// `READY`, `PENDING_REGISTRATION` or `FAILED_REGISTRATION`.
    #[serde(default)]
    pub status: String,
    /// Where the model came from, e.g. `runs:/<run_id>/model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The MLflow run that logged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Created, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    /// The aliases pointing at it.
    #[serde(default)]
    pub aliases: Vec<Alias>,
}

impl ModelVersion {
    fn line(&self) -> String {
        let aliases: Vec<&str> = self.aliases.iter().map(|a| a.alias_name.as_str()).collect();
        let aliases = if aliases.is_empty() { String::new() } else { format!(" [{}]", aliases.join(", ")) };
        let comment = self.comment.as_deref().map(|c| format!(": {c}")).unwrap_or_default();
        let run = self.run_id.as_deref().map(|r| format!(", run {r}")).unwrap_or_default();
        let created = self.created_at.map(|t| format!(", {}", format_time(t))).unwrap_or_default();
        format!("v{} {}{aliases}{run}{created}{comment}", self.version, self.status)
    }
}

/// A page of registered models.
#[schema]
pub struct ModelList {
    /// The models on this page.
    pub registered_models: Vec<Json<RegisteredModel>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// Arguments of `list_registered_models`.
#[schema]
pub struct ListModels {
    /// Only models in this catalog.
    #[serde(default)]
    pub catalog_name: Option<String>,
    /// Only models in this schema (needs `catalog_name`).
    #[serde(default)]
    pub schema_name: Option<String>,
    /// How many to return, 1-200 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// List the registered models in Unity Catalog you can see, optionally in one catalog or schema.
#[tool(read_only, idempotent, title = "List registered models")]
pub(crate) fn list_registered_models(ctx: &Context, args: ListModels) -> Result<Output<ModelList>> {
    if args.schema_name.is_some() && args.catalog_name.is_none() {
        return Err(ToolError::invalid("schema_name needs catalog_name"));
    }
    let request = Request::new(Method::Get, MODELS)
        .query_opt("catalog_name", args.catalog_name.filter(|c| !c.is_empty()))
        .query_opt("schema_name", args.schema_name.filter(|s| !s.is_empty()));
    let page = ctx.page::<Json<RegisteredModel>>(
        request,
        "registered_models",
        Paging::QueryToken { size_param: "max_results" },
        args.limit.unwrap_or(50).clamp(1, 200),
        args.page_token.as_deref(),
    )?;
    let mut lines = page.items.iter().map(|m| m.get().map(|m| m.line())).collect::<Result<Vec<_>>>()?;
    if lines.is_empty() {
        lines.push("No registered models visible to you here.".into());
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More models: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(
        lines.join("\n"),
        ModelList { registered_models: page.items, next_page_token: page.next_page_token },
    ))
}

/// Arguments naming one model.
#[schema]
pub struct ModelName {
    /// The model's full name, `catalog.schema.model`.
    pub full_name: String,
}

/// Get a registered model in Unity Catalog: owner, description and its aliases with the
/// versions they point at.
#[tool(read_only, idempotent, title = "Get registered model")]
pub(crate) fn get_registered_model(ctx: &Context, args: ModelName) -> Result<Output<Json<RegisteredModel>>> {
    let raw: Json<RegisteredModel> = ctx.get(&model_path(&args.full_name), &[("include_aliases", "true".into())])?;
    let m = raw.get()?;
    let mut lines = vec![m.line()];
    for a in m.aliases.iter().flatten() {
        lines.push(format!("Alias {} -> version {}", a.alias_name, a.version_num));
    }
    Ok(Output::new(lines.join("\n"), raw))
}

/// A page of model versions.
#[schema]
pub struct VersionList {
    /// The versions on this page, newest first.
    pub model_versions: Vec<Json<ModelVersion>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// Arguments of `list_model_versions`.
#[schema]
pub struct ListVersions {
    /// The model's full name, `catalog.schema.model`.
    pub full_name: String,
    /// How many to return, 1-200 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// List the versions of a registered model, newest first: status, aliases, the MLflow run that
/// logged each, and its description.
#[tool(read_only, idempotent, title = "List model versions")]
pub(crate) fn list_model_versions(ctx: &Context, args: ListVersions) -> Result<Output<VersionList>> {
    let page = ctx.page::<Json<ModelVersion>>(
        Request::new(Method::Get, format!("{}/versions", model_path(&args.full_name))),
        "model_versions",
        Paging::QueryToken { size_param: "max_results" },
        args.limit.unwrap_or(50).clamp(1, 200),
        args.page_token.as_deref(),
    )?;
    let mut lines = page.items.iter().map(|v| v.get().map(|v| v.line())).collect::<Result<Vec<_>>>()?;
    if lines.is_empty() {
        lines.push(format!("{} has no versions.", args.full_name));
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More versions: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(lines.join("\n"), VersionList { model_versions: page.items, next_page_token: page.next_page_token }))
}

/// Arguments of `get_model_version`: a version number or an alias.
#[schema]
pub struct GetVersion {
    /// The model's full name, `catalog.schema.model`.
    pub full_name: String,
    /// The version number.
    #[serde(default)]
    pub version: Option<u64>,
    /// Or an alias, e.g. `champion`: the version it points at.
    #[serde(default)]
    pub alias: Option<String>,
}

/// Get one version of a registered model, by number or by alias (e.g. which version is
/// `champion`): status, source run, aliases, description.
#[tool(read_only, idempotent, title = "Get model version")]
pub(crate) fn get_model_version(ctx: &Context, args: GetVersion) -> Result<Output<Json<ModelVersion>>> {
    let path = match (args.version, args.alias.filter(|a| !a.is_empty())) {
        (Some(v), None) => format!("{}/versions/{v}", model_path(&args.full_name)),
        (None, Some(a)) => format!("{}/aliases/{}", model_path(&args.full_name), segment(&a)),
        _ => return Err(ToolError::invalid("give exactly one of version or alias")),
    };
    let raw: Json<ModelVersion> = ctx.get(&path, &[])?;
    let text = format!("{} {}", args.full_name, raw.get()?.line());
    Ok(Output::new(text, raw))
}

/// Arguments of `set_registered_model_alias`.
#[schema]
pub struct SetAlias {
    /// The model's full name, `catalog.schema.model`.
    pub full_name: String,
    /// The alias, a lower-case identifier such as `champion`.
    pub alias: String,
    /// The version it should point at.
    pub version: u64,
}

/// What an alias change did.
#[schema]
pub struct AliasChange {
    /// The model.
    pub full_name: String,
    /// The alias.
    pub alias: String,
    /// The version it points at now; absent once deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// The version it pointed at before, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<u64>,
}

fn current_alias(ctx: &Context, full_name: &str, alias: &str) -> Result<Option<u64>> {
    let m: RegisteredModel = ctx.get(&model_path(full_name), &[("include_aliases", "true".into())])?;
    Ok(m.aliases.into_iter().flatten().find(|a| a.alias_name == alias).map(|a| a.version_num))
}

/// Point an alias of a registered model at a version (moving it if it pointed elsewhere). Anything
/// that loads the model by alias, such as `models:/<name>@champion`, gets the new version.
#[tool(destructive, idempotent, title = "Set model alias")]
pub(crate) fn set_registered_model_alias(ctx: &Context, args: SetAlias) -> Result<Output<AliasChange>> {
    let previous = current_alias(ctx, &args.full_name, &args.alias)?;
    let request =
        Request::new(Method::Put, format!("{}/aliases/{}", model_path(&args.full_name), segment(&args.alias)))
            .json(&json!({ "version_num": args.version }))?;
    ctx.send(request)?.json::<Value>()?;
    let text = match previous {
        Some(p) if p == args.version => format!("{}@{} already pointed at version {p}.", args.full_name, args.alias),
        Some(p) => format!("Moved {}@{} from version {p} to version {}.", args.full_name, args.alias, args.version),
        None => format!("Set {}@{} to version {}.", args.full_name, args.alias, args.version),
    };
    Ok(Output::new(
        text,
        AliasChange {
            full_name: args.full_name,
            alias: args.alias,
            version: Some(args.version),
            previous_version: previous,
        },
    ))
}

/// Arguments of `delete_registered_model_alias`.
#[schema]
pub struct DeleteAlias {
    /// The model's full name, `catalog.schema.model`.
    pub full_name: String,
    /// The alias to remove.
    pub alias: String,
}

/// Remove an alias from a registered model; the version it pointed at stays.
#[tool(destructive, idempotent, title = "Delete model alias")]
pub(crate) fn delete_registered_model_alias(ctx: &Context, args: DeleteAlias) -> Result<Output<AliasChange>> {
    let previous = current_alias(ctx, &args.full_name, &args.alias)?;
    ctx.send(Request::new(
        Method::Delete,
        format!("{}/aliases/{}", model_path(&args.full_name), segment(&args.alias)),
    ))?
    .json::<Value>()?;
    let text = format!("Removed alias {} from {}.", args.alias, args.full_name);
    Ok(Output::new(
        text,
        AliasChange { full_name: args.full_name, alias: args.alias, version: None, previous_version: previous },
    ))
}
