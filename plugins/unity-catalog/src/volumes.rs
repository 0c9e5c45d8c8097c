//! Volumes (list, get, create, update, delete) and functions (list, get, delete). Functions are
//! created with SQL (`CREATE FUNCTION`): the API's create takes a full routine spec that SQL
//! writes far more reliably.

use databricks_mcp_sdk::prelude::*;

use crate::model::{Deleted, Function, Volume, full_name, get, list, list_text, path, segment, update_body};
use crate::{delete, page_limit, patch};

/// Arguments of the lists of a schema's objects.
#[schema]
pub struct ListInSchema {
    /// The catalog, e.g. `main`.
    pub catalog_name: String,
    /// The schema in that catalog, e.g. `default`.
    pub schema_name: String,
    /// How many to return, 1-1000 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call, to get the next page.
    #[serde(default)]
    pub page_token: Option<String>,
}

impl ListInSchema {
    fn names(&self) -> Result<(String, String)> {
        Ok((full_name(&self.catalog_name, 1, "catalog_name")?, full_name(&self.schema_name, 1, "schema_name")?))
    }
}

/// A page of volumes.
#[schema]
pub struct VolumeList {
    /// The volumes on this page, as the workspace returned them.
    pub volumes: Vec<Json<Volume>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the volumes of a schema that you can read, one page at a time, one line each with the
/// full name, type (MANAGED or EXTERNAL), the `/Volumes/...` path its files live under, owner
/// and comment.
#[tool(read_only, idempotent, title = "List volumes")]
pub fn list_volumes(ctx: &Context, args: ListInSchema) -> Result<Output<VolumeList>> {
    let (catalog, schema) = args.names()?;
    let request = get("volumes").query("catalog_name", &catalog).query("schema_name", &schema);
    let page = list::<Volume>(ctx, request, "volumes", page_limit(args.limit), args.page_token.as_deref())?;
    let none = format!("No volumes in {catalog}.{schema} that you can read.");
    let text = list_text(&page.items, Volume::line, &none, "volumes", page.next_page_token.as_deref())?;
    Ok(Output::new(text, VolumeList { volumes: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one volume.
#[schema]
pub struct VolumeName {
    /// The volume's full name `catalog.schema.volume`, e.g. `main.default.landing`.
    pub full_name: String,
}

fn volume_path(name: &str) -> Result<String> {
    Ok(path(&format!("volumes/{}", segment(&full_name(name, 3, "full_name")?)?)))
}

/// Get one volume: type, storage location, owner, comment.
#[tool(read_only, idempotent, title = "Get volume")]
pub fn get_volume(ctx: &Context, args: VolumeName) -> Result<Output<Json<Volume>>> {
    let raw: Json<Volume> = ctx.get(&volume_path(&args.full_name)?, &[])?;
    Ok(Output::new(raw.get()?.line(), raw))
}

/// Volume types.
#[schema]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum VolumeType {
    /// Files stored in the schema's managed storage.
    #[default]
    Managed,
    /// Files at an existing cloud location (needs `storage_location`).
    External,
}

/// Arguments of `create_volume`.
#[schema]
pub struct CreateVolume {
    /// The catalog, e.g. `main`.
    pub catalog_name: String,
    /// The schema in that catalog, e.g. `default`.
    pub schema_name: String,
    /// The new volume's name, e.g. `raw_files`.
    pub name: String,
    /// `MANAGED` (default) or `EXTERNAL`.
    #[serde(default)]
    pub volume_type: VolumeType,
    /// For an EXTERNAL volume only: the cloud location, e.g. `s3://bucket/path`, inside an
    /// external location you may use.
    #[serde(default)]
    pub storage_location: Option<String>,
    /// What the volume holds.
    #[serde(default)]
    pub comment: Option<String>,
}

/// Create a volume in a schema (needs USE CATALOG, USE SCHEMA and CREATE VOLUME). Its files
/// are then at `/Volumes/<catalog>/<schema>/<volume>/`.
#[tool(title = "Create volume")]
pub fn create_volume(ctx: &Context, args: CreateVolume) -> Result<Output<Json<Volume>>> {
    let catalog = full_name(&args.catalog_name, 1, "catalog_name")?;
    let schema = full_name(&args.schema_name, 1, "schema_name")?;
    let name = full_name(&args.name, 1, "name")?;
    let location = args.storage_location.as_deref().map(str::trim).filter(|l| !l.is_empty());
    let volume_type = match (args.volume_type, location) {
        (VolumeType::Managed, None) => "MANAGED",
        (VolumeType::External, Some(_)) => "EXTERNAL",
        (VolumeType::Managed, Some(_)) => {
            return Err(ToolError::invalid(
                "storage_location is only for EXTERNAL volumes; leave it out for a MANAGED volume",
            ));
        }
        (VolumeType::External, None) => {
            return Err(ToolError::invalid("an EXTERNAL volume needs storage_location (e.g. s3://bucket/path)"));
        }
    };
    let mut body = json!({ "catalog_name": catalog, "schema_name": schema, "name": name, "volume_type": volume_type });
    if let Some(location) = location {
        body["storage_location"] = json!(location);
    }
    if let Some(comment) = &args.comment {
        body["comment"] = json!(comment);
    }
    let raw: Json<Volume> = ctx.post(&path("volumes"), &body)?;
    Ok(Output::new(format!("Created volume {}", raw.get()?.line()), raw))
}

/// Arguments of `update_volume`: the volume and only what changes.
#[schema]
pub struct UpdateVolume {
    /// The volume's full name `catalog.schema.volume`.
    pub full_name: String,
    /// New description (an empty string removes it).
    #[serde(default)]
    pub comment: Option<String>,
    /// New owner: a user name (e-mail), service principal application id, or group name.
    #[serde(default)]
    pub owner: Option<String>,
}

/// Change a volume's comment and/or owner; give only what changes. Its files are not touched.
#[tool(destructive, idempotent, title = "Update volume")]
pub fn update_volume(ctx: &Context, args: UpdateVolume) -> Result<Output<Json<Volume>>> {
    let body = update_body(args.comment.as_ref(), args.owner.as_ref())?;
    let raw: Json<Volume> = patch(ctx, &volume_path(&args.full_name)?, &body)?;
    Ok(Output::new(format!("Updated volume {}", raw.get()?.line()), raw))
}

/// Delete a volume. A MANAGED volume's files are deleted with it; an EXTERNAL volume's files
/// stay at their location.
#[tool(destructive, title = "Delete volume")]
pub fn delete_volume(ctx: &Context, args: VolumeName) -> Result<Output<Deleted>> {
    let name = full_name(&args.full_name, 3, "full_name")?;
    delete(ctx, &volume_path(&name)?, &[])?;
    Ok(Deleted::output("volume", &name, ""))
}

// ---------------------------------------------------------------------------------------------
// Functions

/// A page of functions.
#[schema]
pub struct FunctionList {
    /// The functions on this page, as the workspace returned them.
    pub functions: Vec<Json<Function>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the functions (user-defined functions) of a schema that you can use, one page at a
/// time, one line each with the signature `catalog.schema.fn(arg type, ...) -> type`, owner and
/// comment.
#[tool(read_only, idempotent, title = "List functions")]
pub fn list_functions(ctx: &Context, args: ListInSchema) -> Result<Output<FunctionList>> {
    let (catalog, schema) = args.names()?;
    let request = get("functions").query("catalog_name", &catalog).query("schema_name", &schema);
    let page = list::<Function>(ctx, request, "functions", page_limit(args.limit), args.page_token.as_deref())?;
    let none = format!("No functions in {catalog}.{schema} that you can use.");
    let text = list_text(&page.items, Function::line, &none, "functions", page.next_page_token.as_deref())?;
    Ok(Output::new(text, FunctionList { functions: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one function.
#[schema]
pub struct FunctionName {
    /// The function's full name `catalog.schema.function`.
    pub full_name: String,
}

fn function_path(name: &str) -> Result<String> {
    Ok(path(&format!("functions/{}", segment(&full_name(name, 3, "full_name")?)?)))
}

/// Get one function: signature, return type, language and body.
#[tool(read_only, idempotent, title = "Get function")]
pub fn get_function(ctx: &Context, args: FunctionName) -> Result<Output<Json<Function>>> {
    let raw: Json<Function> = ctx.get(&function_path(&args.full_name)?, &[])?;
    let function = raw.get()?;
    let mut text = function.line();
    if let Some(body) = &function.routine_definition {
        let language = function.routine_body.as_deref().unwrap_or("SQL");
        text.push_str(&format!("\n{language} body: {body}"));
    }
    Ok(Output::new(text, raw))
}

/// Delete a function. Queries, views and column masks that call it stop working.
#[tool(destructive, title = "Delete function")]
pub fn delete_function(ctx: &Context, args: FunctionName) -> Result<Output<Deleted>> {
    let name = full_name(&args.full_name, 3, "full_name")?;
    delete(ctx, &function_path(&name)?, &[])?;
    Ok(Deleted::output("function", &name, ""))
}
