//! The Databricks workspace tree as MCP tools: list a folder, get an object's status, export a
//! notebook or file (read in pages of bytes), import one (create or overwrite), create folders,
//! and delete.
//!
//! Names follow `verb_noun` with `workspace` in them, so they stay apart from the DBFS and volume
//! tools of the files plugin. `list_workspace_objects` pages through `limit` and `page_token`
//! although the API answers a folder in one piece; `export_workspace_object` returns at most
//! `max_bytes` at a time and says how to read on from `offset`.

mod model;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request, base64, format_time};

use model::ObjectInfo;

const API: &str = "/api/2.0/workspace";

/// The largest content the Workspace API imports or exports (10 MB).
const MAX_CONTENT_BYTES: usize = 10 * 1024 * 1024;
/// Default and largest page of an export, in bytes. The host caps a tool's output at 1 MiB, text
/// and structured output together, and the content appears in both.
const DEFAULT_EXPORT_BYTES: u32 = 64 * 1024;
const MAX_EXPORT_BYTES: u32 = 256 * 1024;

fn path(endpoint: &str) -> String {
    format!("{API}/{endpoint}")
}

fn status(ctx: &Context, object_path: &str) -> Result<Json<ObjectInfo>> {
    ctx.get(&path("get-status"), &[("path", object_path.to_string())])
}

fn check_absolute(object_path: &str) -> Result<()> {
    if object_path.starts_with('/') {
        Ok(())
    } else {
        Err(ToolError::invalid(format!(
            "path `{object_path}` must be absolute, e.g. `/Users/<you>/{object_path}` or `/Shared/{object_path}`"
        )))
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Arguments of `list_workspace_objects`.
#[schema]
pub struct ListWorkspaceObjects {
    /// The folder to list, absolute: `/` for the root, `/Users/<user name>` for a home folder,
    /// `/Shared`, `/Repos/<user name>`... A `/Workspace/...` path names the same object.
    pub path: String,
    /// Only notebooks modified after this time, epoch milliseconds (folders and files are always listed).
    #[serde(default)]
    pub notebooks_modified_after: Option<i64>,
    /// How many objects to return, 1-1000 (default 100).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call with the same `path`, to get the next page.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of a folder's objects.
#[schema]
pub struct WorkspaceObjectList {
    /// The folder listed.
    pub path: String,
    /// The objects on this page, sorted by path, as the workspace returned them.
    pub objects: Vec<Json<ObjectInfo>>,
    /// How many objects the folder holds in all.
    pub total: u32,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the notebooks, files, folders and Git folders (repos) directly inside a workspace folder,
/// one page at a time. Each line shows type, path, language or size, object id and last change.
/// Start at `/` or at `/Users/<user name>`; list a sub-folder by calling again with its path.
#[tool(read_only, idempotent, title = "List workspace folder")]
fn list_workspace_objects(ctx: &Context, args: ListWorkspaceObjects) -> Result<Output<WorkspaceObjectList>> {
    check_absolute(&args.path)?;
    #[databricks_mcp_sdk::schema]
    struct Raw {
        #[serde(default)]
        objects: Vec<Json<ObjectInfo>>,
    }
    let request = Request::new(Method::Get, path("list"))
        .query("path", &args.path)
        .query_opt("notebooks_modified_after", args.notebooks_modified_after);
    // The API answers the whole folder (an empty one as `{}`); pages are cut here.
    let raw: Raw = ctx.send(request)?.json()?;
    let mut objects =
        raw.objects.into_iter().map(|o| Ok((o.get()?, o))).collect::<Result<Vec<(ObjectInfo, Json<ObjectInfo>)>>>()?;
    objects.sort_by(|a, b| a.0.path.cmp(&b.0.path));
    let total = objects.len();
    let limit = args.limit.unwrap_or(100).clamp(1, 1000);
    let Page { items: page, next_page_token, raw } = Page::from_items(objects, limit, args.page_token.as_deref())?;
    let start = raw.get("offset").and_then(Value::as_u64).unwrap_or(0);
    let end = start + page.len() as u64;
    let mut lines = Vec::new();
    if total == 0 {
        lines.push(format!("{} is empty.", args.path));
    } else if page.len() == total {
        lines.push(format!("{}: {total} object{}", args.path, if total == 1 { "" } else { "s" }));
    } else {
        lines.push(format!("{}: objects {}-{end} of {total}", args.path, start + 1));
    }
    lines.extend(page.iter().map(|(info, _)| info.line()));
    if let Some(token) = &next_page_token {
        lines.push(format!("More objects: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(
        lines.join("\n"),
        WorkspaceObjectList {
            path: args.path,
            objects: page.into_iter().map(|(_, raw)| raw).collect(),
            total: u32::try_from(total).unwrap_or(u32::MAX),
            next_page_token,
        },
    ))
}

/// Arguments naming one workspace object.
#[schema]
pub struct ObjectPath {
    /// Absolute workspace path, e.g. `/Users/someone@example.com/ETL Pipeline` (see `list_workspace_objects`).
    pub path: String,
}

/// Get one workspace object's status: its type (notebook, file, folder, repo...), language, size,
/// object id, and creation and modification times. Use it to check that a path exists.
#[tool(read_only, idempotent, title = "Get workspace object status")]
fn get_workspace_object_status(ctx: &Context, args: ObjectPath) -> Result<Output<Json<ObjectInfo>>> {
    check_absolute(&args.path)?;
    let raw = status(ctx, &args.path)?;
    let info = raw.get()?;
    let mut text = info.line();
    if let Some(created) = info.created_at {
        text.push_str(&format!("\nCreated {}", format_time(created)));
    }
    Ok(Output::new(text, raw))
}

/// Text formats a notebook can be exported in.
#[schema]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExportFormat {
    /// Source code with `COMMAND ----------` cell separators (`.py`, `.sql`, `.scala`, `.r`); for files, the file as it is.
    #[default]
    Source,
    /// A rendered HTML page.
    Html,
    /// A Jupyter notebook (`.ipynb` JSON).
    Jupyter,
    /// R Markdown (R notebooks only).
    RMarkdown,
}

impl ExportFormat {
    fn as_str(self) -> &'static str {
        match self {
            Self::Source => "SOURCE",
            Self::Html => "HTML",
            Self::Jupyter => "JUPYTER",
            Self::RMarkdown => "R_MARKDOWN",
        }
    }
}

/// Arguments of `export_workspace_object`.
#[schema]
pub struct ExportWorkspaceObject {
    /// Absolute path of the notebook or file.
    pub path: String,
    /// `SOURCE` (default), `HTML`, `JUPYTER` or `R_MARKDOWN`. Folders and the binary `DBC` archive
    /// format are not offered: a model cannot read them.
    #[serde(default)]
    pub format: ExportFormat,
    /// Return at most this many bytes of the export, 1-262144 (default 65536).
    #[serde(default)]
    pub max_bytes: Option<u32>,
    /// Start at this byte of the export (default 0); pass the `next_offset` of a truncated export to read on.
    #[serde(default)]
    pub offset: Option<u64>,
}

/// A notebook or file, exported.
#[schema]
pub struct ExportedObject {
    /// The object exported.
    pub path: String,
    /// The format asked for.
    pub format: String,
    /// The exported file's type (extension), e.g. `py`, `sql`, `html`, `ipynb`, `md`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_type: Option<String>,
    /// `utf-8` when `content` is the text itself, `base64` when the object is binary.
    pub encoding: String,
    /// The exported bytes from `offset` on, at most `max_bytes` of them.
    pub content: String,
    /// Size of the whole export, bytes.
    pub total_bytes: u64,
    /// The first byte returned.
    pub offset: u64,
    /// How many bytes `content` holds (before base64).
    pub returned_bytes: u64,
    /// True when bytes after this part were left out.
    pub truncated: bool,
    /// Where to continue (`offset` of the next call) when truncated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u64>,
}

/// The largest `end <= limit` that does not split a UTF-8 character of `text` (at least one
/// character past `start`, so a page always moves forward).
fn char_end(text: &str, start: usize, limit: usize) -> usize {
    if limit >= text.len() {
        return text.len();
    }
    let mut end = limit;
    while end > start && !text.is_char_boundary(end) {
        end -= 1;
    }
    if end == start {
        end = start + text[start..].chars().next().map_or(0, char::len_utf8);
    }
    end
}

/// Export a notebook (as source code, HTML, Jupyter or R Markdown) or a workspace file, to read
/// it. Large exports come in parts: at most `max_bytes` (64 KiB by default) per call, with a note
/// saying how much was left out and the `offset` to read on from.
#[tool(read_only, idempotent, title = "Export notebook or file")]
fn export_workspace_object(ctx: &Context, args: ExportWorkspaceObject) -> Result<Output<ExportedObject>> {
    check_absolute(&args.path)?;
    #[databricks_mcp_sdk::schema]
    struct Raw {
        #[serde(default)]
        content: String,
        #[serde(default)]
        file_type: Option<String>,
    }
    let exported = ctx.get(&path("export"), &[("path", args.path.clone()), ("format", args.format.as_str().into())]);
    let raw: Raw = match exported {
        // Folders export only as DBC archives: say what to do instead.
        Err(e)
            if e.api_error().is_some_and(|a| a.status == 400)
                && status(ctx, &args.path).and_then(|s| s.get()).is_ok_and(|s| s.is_folder()) =>
        {
            return Err(ToolError::invalid(format!(
                "{} is a folder; folders export only as DBC archives, which this tool does not offer. List it with \
                 list_workspace_objects and export its notebooks and files one by one",
                args.path
            )));
        }
        other => other?,
    };
    let bytes = base64::decode(&raw.content)
        .map_err(|_| ToolError::internal("the workspace sent export content that is not base64"))?;
    let total = bytes.len();
    let offset = usize::try_from(args.offset.unwrap_or(0)).unwrap_or(usize::MAX);
    if offset > total || (offset == total && total > 0) {
        return Err(ToolError::invalid(format!(
            "offset {offset} is past the end of the export of {} ({total} bytes)",
            args.path
        )));
    }
    let max = args.max_bytes.unwrap_or(DEFAULT_EXPORT_BYTES).clamp(1, MAX_EXPORT_BYTES) as usize;
    let limit = offset.saturating_add(max).min(total);
    let (content, encoding, start, end) = match std::str::from_utf8(&bytes) {
        Ok(text) => {
            // Never split a character: move a start inside one forward, an end inside one back.
            let mut start = offset;
            while !text.is_char_boundary(start) {
                start += 1;
            }
            let end = char_end(text, start, limit.max(start));
            (text[start..end].to_string(), "utf-8", start, end)
        }
        Err(_) => (base64::encode(&bytes[offset..limit]), "base64", offset, limit),
    };
    let truncated = end < total;
    let next_offset = truncated.then_some(end as u64);
    let mut text = if encoding == "base64" {
        format!(
            "{} is binary ({total} bytes); bytes {start}-{end} are in the structured output as base64 (`content`).",
            args.path
        )
    } else {
        content.clone()
    };
    if truncated {
        if args.format == ExportFormat::Source {
            // The whole source is one resource read away: link it rather than make the client
            // page through it.
            let uri = object_uri(&args.path);
            text.push_str(&format!("\n\n[The whole source is the resource databricks://workspace/{uri}.]"));
            let name = args.path.rsplit('/').next().unwrap_or(&args.path).to_string();
            ctx.link_resource(
                ResourceLink::new(uri, name)
                    .title(format!("Source of {}", args.path))
                    .description(format!("The whole exported source of {} ({total} bytes)", args.path))
                    .mime_type(source_mime(raw.file_type.as_deref()))
                    .size(total as u64),
            );
        }
        text.push_str(&format!(
            "\n\n[Truncated: bytes {start}-{end} of {total} shown, {} bytes left out. Call export_workspace_object \
             again with the same path and format and offset {end} to read on (max_bytes up to {MAX_EXPORT_BYTES}).]",
            total - end
        ));
    } else if start > 0 && encoding != "base64" {
        text.push_str(&format!("\n\n[Bytes {start}-{end} of {total}: the end of the export.]"));
    }
    Ok(Output::new(
        text,
        ExportedObject {
            path: args.path,
            format: args.format.as_str().into(),
            file_type: raw.file_type.filter(|t| !t.is_empty()),
            encoding: encoding.into(),
            content,
            total_bytes: total as u64,
            offset: start as u64,
            returned_bytes: (end - start) as u64,
            truncated,
            next_offset,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// Resources

/// The resource URI (below the plugin's root) of the object at absolute `object_path`.
fn object_uri(object_path: &str) -> String {
    databricks_mcp_sdk::content::uri_escape(object_path.trim_start_matches('/'), true)
}

/// The MIME type of source exported with file type `file_type`.
fn source_mime(file_type: Option<&str>) -> &'static str {
    match file_type.unwrap_or_default() {
        "py" => "text/x-python",
        "sql" => "application/sql",
        "scala" => "text/x-scala",
        "r" | "R" => "text/x-r",
        "ipynb" | "json" => "application/json",
        "md" => "text/markdown",
        _ => "text/plain",
    }
}

/// The variables of the workspace object template.
#[schema]
pub struct ObjectUri {
    /// The object's path without the leading `/`.
    pub path: String,
}

/// The source of a workspace notebook (with `COMMAND ----------` cell separators) or the content
/// of a workspace file, whole. The URI is the object's path: `databricks://workspace/Users/<user
/// name>/etl` for the notebook `/Users/<user name>/etl`. Folders are not resources: list them
/// with `list_workspace_objects`.
#[resource(uri = "{+path}", title = "Workspace notebook or file source")]
pub fn workspace_object(ctx: &Context, vars: ObjectUri) -> Result<Contents> {
    #[databricks_mcp_sdk::schema]
    struct Raw {
        #[serde(default)]
        content: String,
        #[serde(default)]
        file_type: Option<String>,
    }
    let object_path = format!("/{}", vars.path);
    let info = status(ctx, &object_path)?.get()?;
    if info.is_folder() {
        return Err(ToolError::NotFound(format!(
            "{object_path} is a folder, not a notebook or file; list it with list_workspace_objects"
        )));
    }
    let raw: Raw = ctx.get(&path("export"), &[("path", object_path.clone()), ("format", "SOURCE".into())])?;
    let bytes = base64::decode(&raw.content)
        .map_err(|_| ToolError::internal("the workspace sent export content that is not base64"))?;
    let mime = source_mime(raw.file_type.as_deref());
    Ok(match String::from_utf8(bytes) {
        Ok(text) => Contents::text(text).mime_type(mime),
        Err(e) => Contents::blob(e.into_bytes(), "application/octet-stream"),
    })
}

// ---------------------------------------------------------------------------------------------
// Changing

/// How the content of an import is to be read.
#[schema]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ImportFormat {
    /// Notebook source code; needs `language` unless the path ends in `.py`, `.sql`, `.scala` or `.r` (the extension is dropped).
    #[default]
    Source,
    /// A Jupyter notebook (`.ipynb` JSON).
    Jupyter,
    /// An R Markdown document, imported as an R notebook.
    RMarkdown,
    /// A workspace file (not a notebook), stored byte for byte.
    Raw,
    /// Let the workspace decide: `.ipynb` and source with a `Databricks notebook source` header become notebooks, anything else a file.
    Auto,
}

impl ImportFormat {
    fn as_str(self) -> &'static str {
        match self {
            Self::Source => "SOURCE",
            Self::Jupyter => "JUPYTER",
            Self::RMarkdown => "R_MARKDOWN",
            Self::Raw => "RAW",
            Self::Auto => "AUTO",
        }
    }
}

/// Notebook languages.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum Language {
    /// Python.
    Python,
    /// SQL.
    Sql,
    /// Scala.
    Scala,
    /// R.
    R,
}

/// Arguments of `import_workspace_object`.
#[schema]
pub struct ImportWorkspaceObject {
    /// Absolute path of the object to create, e.g. `/Users/<you>/etl/clean`. The parent folder must
    /// exist (see `create_workspace_directory`).
    pub path: String,
    /// The content as text (source code, Jupyter JSON, a text file). Give this or `content_base64`.
    #[serde(default)]
    pub content: Option<String>,
    /// The content as base64, for binary files. Give this or `content`.
    #[serde(default)]
    pub content_base64: Option<String>,
    /// `SOURCE` (default, a notebook), `JUPYTER`, `R_MARKDOWN`, `RAW` (a plain file) or `AUTO`.
    #[serde(default)]
    pub format: ImportFormat,
    /// Notebook language for `SOURCE`: `PYTHON`, `SQL`, `SCALA` or `R`.
    #[serde(default)]
    pub language: Option<Language>,
    /// Replace an object already at `path` (its previous content is lost). Default false: an
    /// existing object makes the import fail.
    #[serde(default)]
    pub overwrite: bool,
}

/// What an import, folder creation or delete did.
#[schema]
pub struct WorkspaceChange {
    /// The object as the workspace describes it afterwards (before, for a delete).
    pub object: Json<ObjectInfo>,
    /// What was done, e.g. `imported`, `overwritten`, `created`, `deleted`.
    pub action: String,
}

fn extension(object_path: &str) -> Option<(&str, &str)> {
    let name_start = object_path.rfind('/').map_or(0, |i| i + 1);
    let dot = object_path[name_start..].rfind('.')? + name_start;
    (dot > name_start).then(|| (&object_path[..dot], &object_path[dot + 1..]))
}

/// Import a notebook or file into the workspace: notebook source (`SOURCE` with a `language`),
/// Jupyter or R Markdown, or a plain file (`RAW`). Fails if something is already at `path` unless
/// `overwrite` is true, which replaces it and loses its previous content.
#[tool(destructive, title = "Import notebook or file")]
fn import_workspace_object(ctx: &Context, args: ImportWorkspaceObject) -> Result<Output<WorkspaceChange>> {
    check_absolute(&args.path)?;
    let bytes = match (&args.content, &args.content_base64) {
        (Some(text), None) => text.as_bytes().to_vec(),
        (None, Some(b64)) => {
            base64::decode(b64).map_err(|_| ToolError::invalid("content_base64 is not valid base64"))?
        }
        _ => return Err(ToolError::invalid("give exactly one of content (text) or content_base64 (binary)")),
    };
    if bytes.len() > MAX_CONTENT_BYTES {
        return Err(ToolError::invalid(format!(
            "the content is {} bytes; the workspace imports at most {MAX_CONTENT_BYTES} bytes",
            bytes.len()
        )));
    }
    let by_extension = extension(&args.path)
        .is_some_and(|(_, ext)| ["py", "sql", "scala", "r"].contains(&ext.to_ascii_lowercase().as_str()));
    if args.format == ImportFormat::Source && args.language.is_none() && !by_extension {
        return Err(ToolError::invalid(
            "a SOURCE import needs `language` (PYTHON, SQL, SCALA or R), or a path ending in .py, .sql, .scala or .r; \
             use format RAW for a plain file",
        ));
    }
    let mut body = json!({
        "path": args.path,
        "content": base64::encode(&bytes),
        "format": args.format.as_str(),
        "overwrite": args.overwrite,
    });
    if let Some(language) = args.language {
        body["language"] = json!(language);
    }
    ctx.post_empty(&path("import"), &body)?;
    // A notebook imported from `x.py` or `x.ipynb` lands at `x`.
    let raw = match status(ctx, &args.path) {
        Err(e) if e.is_not_found() => match extension(&args.path) {
            Some((stem, _)) => status(ctx, stem)?,
            None => return Err(e),
        },
        other => other?,
    };
    let info = raw.get()?;
    let action = if args.overwrite { "imported (overwrite allowed)" } else { "imported" };
    Ok(Output::new(
        format!("Imported {} ({} bytes).\n{}", info.path, bytes.len(), info.line()),
        WorkspaceChange { object: raw, action: action.into() },
    ))
}

/// Create a workspace folder and any missing parent folders (like `mkdir -p`). Succeeds if the
/// folder already exists.
#[tool(idempotent, title = "Create workspace folder")]
fn create_workspace_directory(ctx: &Context, args: ObjectPath) -> Result<Output<WorkspaceChange>> {
    check_absolute(&args.path)?;
    ctx.post_empty(&path("mkdirs"), &json!({ "path": args.path }))?;
    let raw = status(ctx, &args.path)?;
    let info = raw.get()?;
    Ok(Output::new(
        format!("Folder {} is there.\n{}", info.path, info.line()),
        WorkspaceChange { object: raw, action: "created".into() },
    ))
}

/// Arguments of `delete_workspace_object`.
#[schema]
pub struct DeleteWorkspaceObject {
    /// Absolute path of the notebook, file or folder to delete.
    pub path: String,
    /// Delete a folder with everything in it. Without it, deleting a non-empty folder fails.
    #[serde(default)]
    pub recursive: bool,
}

/// Delete a notebook, file or folder from the workspace. A non-empty folder is deleted only with
/// `recursive: true`, together with everything in it (Git folders included). This cannot be undone
/// through the API.
#[tool(destructive, title = "Delete workspace object")]
fn delete_workspace_object(ctx: &Context, args: DeleteWorkspaceObject) -> Result<Output<WorkspaceChange>> {
    check_absolute(&args.path)?;
    let raw = status(ctx, &args.path)?;
    let info = raw.get()?;
    let deleted = ctx.post_empty(&path("delete"), &json!({ "path": args.path, "recursive": args.recursive }));
    if let Err(e) = deleted {
        return Err(match e.api_error() {
            Some(api) if api.error_code == "DIRECTORY_NOT_EMPTY" => ToolError::invalid(format!(
                "{} is a folder that is not empty; call again with recursive: true to delete it and everything in it",
                info.path
            )),
            _ => e,
        });
    }
    let what = if info.is_folder() && args.recursive { " and everything in it" } else { "" };
    Ok(Output::new(
        format!("Deleted {} {}{what}.", info.kind(), info.path),
        WorkspaceChange { object: raw, action: "deleted".into() },
    ))
}

databricks_mcp_sdk::plugin! {
    name: "workspace",
    description: "Databricks workspace tree: list folders, get object status, export and import notebooks and files, create folders, delete",
    grants: [
        "GET /api/2.0/workspace/list",
        "GET /api/2.0/workspace/get-status",
        "GET /api/2.0/workspace/export",
        "POST /api/2.0/workspace/import",
        "POST /api/2.0/workspace/mkdirs",
        "POST /api/2.0/workspace/delete",
    ],
    tools: [
        list_workspace_objects,
        get_workspace_object_status,
        export_workspace_object,
        import_workspace_object,
        create_workspace_directory,
        delete_workspace_object,
    ],
    resources: [workspace_object],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_of_text_never_split_a_character() {
        let text = "aé€😀b";
        assert_eq!(char_end(text, 0, 2), 1, "inside é");
        assert_eq!(char_end(text, 1, 2), 3, "at least one character");
        assert_eq!(char_end(text, 0, 100), text.len());
    }

    #[test]
    fn extensions_are_split_off_the_name_only() {
        assert_eq!(extension("/a/etl.py"), Some(("/a/etl", "py")));
        assert_eq!(extension("/a.b/etl"), None);
        assert_eq!(extension("/a/.hidden"), None);
    }
}
