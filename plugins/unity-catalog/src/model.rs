//! Unity Catalog objects as the tools read and return them, and the helpers every tool shares:
//! escaping full names into path segments, pages, and one-line summaries.
//!
//! Known fields are typed (the output schema says what a program can rely on); every other field
//! the workspace sends is kept, since results are passed through as [`Json`].

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::serde::de::DeserializeOwned;
use databricks_mcp_sdk::{Method, Request};

/// The Unity Catalog API root.
pub const API: &str = "/api/2.1/unity-catalog";

/// `{API}/{endpoint}`.
pub fn path(endpoint: &str) -> String {
    format!("{API}/{endpoint}")
}

/// A Unity Catalog name or full name (`catalog.schema.table`) as one path segment (the SDK's
/// [`databricks_mcp_sdk::segment`]). `/` cannot be part of a name, and the host refuses an
/// escaped one, so it is refused here with a message that says why.
pub fn segment(name: &str) -> Result<String> {
    if name.contains('/') {
        return Err(ToolError::invalid(format!("`{name}` is not a Unity Catalog name: names cannot contain '/'")));
    }
    Ok(databricks_mcp_sdk::segment(name))
}

/// Check that `full_name` has `parts` non-empty dot-separated parts (`catalog.schema` is 2,
/// `catalog.schema.table` 3); `what` names the argument and its shape for the message.
pub fn full_name(name: &str, parts: usize, what: &str) -> Result<String> {
    let trimmed = name.trim();
    let pieces: Vec<&str> = trimmed.split('.').collect();
    if pieces.len() != parts || pieces.iter().any(|p| p.trim().is_empty()) {
        let shape = ["catalog", "catalog.schema", "catalog.schema.name"][parts.clamp(1, 3) - 1];
        return Err(ToolError::invalid(format!("{what} must be a full name `{shape}`, got `{name}`")));
    }
    Ok(trimmed.to_string())
}

/// One page of a Unity Catalog list (`max_results` + `page_token`).
pub fn list<T: DeserializeOwned>(
    ctx: &Context,
    request: Request,
    key: &str,
    limit: u32,
    page_token: Option<&str>,
) -> Result<Page<Json<T>>> {
    ctx.page::<Json<T>>(request, key, Paging::QueryToken { size_param: "max_results" }, limit, page_token)
}

/// A GET request on `{API}/{endpoint}`.
pub fn get(endpoint: &str) -> Request {
    Request::new(Method::Get, path(endpoint))
}

/// The text of a list: one line per item, `none` when empty, and how to get more.
pub fn list_text<T: DeserializeOwned>(
    items: &[Json<T>],
    line: impl Fn(&T) -> String,
    none: &str,
    what: &str,
    next: Option<&str>,
) -> Result<String> {
    let mut lines = items.iter().map(|i| i.get().map(|v| line(&v))).collect::<Result<Vec<_>>>()?;
    if lines.is_empty() {
        lines.push(none.to_string());
    }
    if let Some(token) = next {
        lines.push(format!("More {what}: call again with page_token \"{token}\"."));
    }
    Ok(lines.join("\n"))
}

/// The arguments of an update that changes comment and owner.
pub fn update_body(comment: Option<&String>, owner: Option<&String>) -> Result<Value> {
    let mut body = json!({});
    if let Some(comment) = comment {
        body["comment"] = json!(comment);
    }
    if let Some(owner) = owner {
        if owner.trim().is_empty() {
            return Err(ToolError::invalid("owner must not be empty"));
        }
        body["owner"] = json!(owner.trim());
    }
    if body.as_object().is_some_and(|o| o.is_empty()) {
        return Err(ToolError::invalid("nothing to change: give comment and/or owner"));
    }
    Ok(body)
}

/// Owner and comment, as a line suffix.
fn owned(owner: Option<&String>, comment: Option<&String>) -> String {
    let mut out = String::new();
    if let Some(owner) = owner {
        out.push_str(&format!(", owner {owner}"));
    }
    if let Some(comment) = comment.filter(|c| !c.is_empty()) {
        out.push_str(&format!(": {comment}"));
    }
    out
}

/// A catalog (`CatalogInfo`).
#[schema]
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Catalog name.
    pub name: String,
    /// `MANAGED_CATALOG`, `DELTASHARING_CATALOG`, `FOREIGN_CATALOG`, `SYSTEM_CATALOG`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_type: Option<String>,
    /// Owner: a user, service principal or group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Creation time, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
}

impl Catalog {
    pub fn line(&self) -> String {
        let kind = self.catalog_type.as_deref().map_or_else(String::new, |t| format!(" ({t})"));
        format!("{}{kind}{}", self.name, owned(self.owner.as_ref(), self.comment.as_ref()))
    }
}

/// A schema (`SchemaInfo`).
#[schema]
#[derive(Debug, Clone)]
pub struct Schema {
    /// Schema name.
    pub name: String,
    /// `catalog.schema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// The catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_name: Option<String>,
    /// Owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Schema {
    pub fn line(&self) -> String {
        let name = self.full_name.clone().unwrap_or_else(|| self.name.clone());
        format!("{name}{}", owned(self.owner.as_ref(), self.comment.as_ref()))
    }
}

/// A column of a table.
#[schema]
#[derive(Debug, Clone)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Type as Databricks SQL spells it, e.g. `bigint`, `decimal(10,2)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_text: Option<String>,
    /// Type family, e.g. `LONG`, `DECIMAL`, `STRING`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    /// Whether the column may hold nulls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nullable: Option<bool>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// 0-based position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
}

/// A table or view (`TableInfo`).
#[schema]
#[derive(Debug, Clone)]
pub struct Table {
    /// Table name.
    pub name: String,
    /// `catalog.schema.table`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// `MANAGED`, `EXTERNAL`, `VIEW`, `MATERIALIZED_VIEW`, `STREAMING_TABLE`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_type: Option<String>,
    /// `DELTA`, `PARQUET`, `CSV`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source_format: Option<String>,
    /// Owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The columns (absent when a list omitted them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<Column>>,
    /// The query of a view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_definition: Option<String>,
    /// Where the data lives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_location: Option<String>,
}

impl Table {
    pub fn full(&self) -> String {
        self.full_name.clone().unwrap_or_else(|| self.name.clone())
    }

    pub fn line(&self) -> String {
        let kind: Vec<&str> =
            [self.table_type.as_deref(), self.data_source_format.as_deref()].into_iter().flatten().collect();
        let kind = if kind.is_empty() { String::new() } else { format!(" ({})", kind.join(", ")) };
        let columns = self.columns.as_ref().map_or_else(String::new, |c| format!(", {} columns", c.len()));
        format!("{}{kind}{columns}{}", self.full(), owned(self.owner.as_ref(), self.comment.as_ref()))
    }

    /// The columns as a compact table: name | type | nullable | comment.
    pub fn columns_table(&self) -> String {
        let Some(columns) = self.columns.as_ref().filter(|c| !c.is_empty()) else {
            return "No columns.".to_string();
        };
        let mut lines = vec!["name | type | nullable | comment".to_string()];
        for c in columns {
            let nullable = match c.nullable {
                Some(false) => "no",
                Some(true) => "yes",
                None => "?",
            };
            lines.push(format!(
                "{} | {} | {nullable} | {}",
                c.name,
                c.type_text.as_deref().or(c.type_name.as_deref()).unwrap_or("?"),
                c.comment.as_deref().unwrap_or("")
            ));
        }
        lines.join("\n")
    }
}

/// A table found by `list_table_summaries`.
#[schema]
#[derive(Debug, Clone)]
pub struct TableSummary {
    /// `catalog.schema.table`.
    pub full_name: String,
    /// `MANAGED`, `EXTERNAL`, `VIEW`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_type: Option<String>,
}

/// A volume (`VolumeInfo`).
#[schema]
#[derive(Debug, Clone)]
pub struct Volume {
    /// Volume name.
    pub name: String,
    /// `catalog.schema.volume`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// `MANAGED` or `EXTERNAL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_type: Option<String>,
    /// Where the files live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_location: Option<String>,
    /// Owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Volume {
    pub fn full(&self) -> String {
        self.full_name.clone().unwrap_or_else(|| self.name.clone())
    }

    pub fn line(&self) -> String {
        let kind = self.volume_type.as_deref().map_or_else(String::new, |t| format!(" ({t})"));
        let path = self.full().replace('.', "/");
        format!("{}{kind} at /Volumes/{path}{}", self.full(), owned(self.owner.as_ref(), self.comment.as_ref()))
    }
}

/// A function's parameter.
#[schema]
#[derive(Debug, Clone)]
pub struct FunctionParameter {
    /// Parameter name.
    pub name: String,
    /// Type, e.g. `date`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_text: Option<String>,
}

/// Function parameters.
#[schema]
#[derive(Debug, Clone, Default)]
pub struct FunctionParameters {
    /// The parameters in order.
    #[serde(default)]
    pub parameters: Vec<FunctionParameter>,
}

/// A function (`FunctionInfo`).
#[schema]
#[derive(Debug, Clone)]
pub struct Function {
    /// Function name.
    pub name: String,
    /// `catalog.schema.function`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// Return type, e.g. `string`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_data_type: Option<String>,
    /// Parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_params: Option<FunctionParameters>,
    /// `SQL` or `EXTERNAL` (Python...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routine_body: Option<String>,
    /// The body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routine_definition: Option<String>,
    /// Owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Function {
    pub fn full(&self) -> String {
        self.full_name.clone().unwrap_or_else(|| self.name.clone())
    }

    /// `finance.gl.fiscal_quarter(d date) -> string`.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .input_params
            .as_ref()
            .map(|p| {
                p.parameters.iter().map(|p| format!("{} {}", p.name, p.type_text.as_deref().unwrap_or("?"))).collect()
            })
            .unwrap_or_default();
        let returns = self.full_data_type.as_deref().map_or_else(String::new, |t| format!(" -> {t}"));
        format!("{}({}){returns}", self.full(), params.join(", "))
    }

    pub fn line(&self) -> String {
        format!("{}{}", self.signature(), owned(self.owner.as_ref(), self.comment.as_ref()))
    }
}

/// What a delete did.
#[schema]
pub struct Deleted {
    /// `catalog`, `schema`, `table`, `volume` or `function`.
    pub kind: String,
    /// The full name of what was deleted.
    pub full_name: String,
}

impl Deleted {
    pub fn output(kind: &str, full_name: &str, extra: &str) -> Output<Deleted> {
        Output::new(
            format!("Deleted {kind} {full_name}.{extra}"),
            Deleted { kind: kind.to_string(), full_name: full_name.to_string() },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_names_become_single_escaped_segments() {
        assert_eq!(segment("main.default.trips").unwrap(), "main.default.trips");
        assert_eq!(segment("my cat.s").unwrap(), "my%20cat.s");
        assert_eq!(segment("é").unwrap(), "%C3%A9");
        assert!(segment("a/b").is_err());
    }

    #[test]
    fn full_names_need_their_parts() {
        assert_eq!(full_name(" main.default ", 2, "full_name").unwrap(), "main.default");
        assert!(full_name("main", 2, "full_name").unwrap_err().to_string().contains("catalog.schema"));
        assert!(full_name("main..t", 3, "full_name").is_err());
    }
}
