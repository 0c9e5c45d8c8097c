//! Files in Unity Catalog volumes, through the Files API: `/api/2.0/fs/files{path}` (raw bytes
//! down and up) and `/api/2.0/fs/directories{path}` (list, create, delete).

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request, Response, format_time_minutes, segments};

use crate::codec::{Encoding, encode_chunk, human_size};
use crate::dbfs::Deleted;
use crate::{FileContent, Written, read_window};

/// A volume path, checked: `/Volumes/<catalog>/<schema>/<volume>[/...]`, no `.` or `..`, no
/// trailing slash. `file` paths must name something inside the volume.
fn volume_path(raw: &str, file: bool) -> Result<String> {
    let bare = raw.trim().strip_prefix("dbfs:").unwrap_or(raw.trim());
    let segments: Vec<&str> = bare.split('/').filter(|s| !s.is_empty()).collect();
    let example = "e.g. /Volumes/main/default/landing/raw/events.json";
    if !bare.starts_with("/Volumes/") || segments.first() != Some(&"Volumes") {
        return Err(ToolError::invalid(format!(
            "`{raw}` is not a Unity Catalog volume path ({example}); for DBFS paths use the *_dbfs_* tools"
        )));
    }
    if segments.len() < 4 {
        return Err(ToolError::invalid(format!(
            "`{raw}` does not name a volume: volume paths are /Volumes/<catalog>/<schema>/<volume>/..., {example}"
        )));
    }
    if file && segments.len() < 5 {
        return Err(ToolError::invalid(format!("`{raw}` is a volume's root directory, not a file ({example})")));
    }
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return Err(ToolError::invalid(format!("`{raw}` must not contain `.` or `..` segments")));
    }
    Ok(format!("/{}", segments.join("/")))
}

/// The API path for `kind` (`files` or `directories`) and a checked volume path.
fn api_path(kind: &str, path: &str) -> String {
    format!("/api/2.0/fs/{kind}/{}", segments(path))
}

/// Turn an error answer into a tool error that names the path.
fn check(response: Response, path: &str, what: &str) -> Result<Response> {
    if response.is_success() {
        return Ok(response);
    }
    let status = response.status;
    match response.json::<databricks_mcp_sdk::serde_json::Value>() {
        Err(e) if e.is_not_found() => Err(ToolError::NotFound(format!("no {what} at {path} ({e})"))),
        Err(e) if status == 409 => Err(ToolError::invalid(format!("{path}: {e}"))),
        Err(e) => Err(e),
        Ok(_) => Ok(Response { status, headers: Vec::new(), body: Vec::new() }),
    }
}

/// A file or directory in a volume (`DirectoryEntry`).
#[schema]
#[derive(Debug, Clone)]
pub struct VolumeEntry {
    /// Absolute path, e.g. `/Volumes/main/default/landing/raw/events.json`.
    pub path: String,
    /// The last path segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// True for a directory.
    #[serde(default)]
    pub is_directory: bool,
    /// Size in bytes (files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_size: Option<u64>,
    /// Last modification, epoch milliseconds (files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<i64>,
}

impl VolumeEntry {
    fn line(&self) -> String {
        if self.is_directory {
            return format!("{}/  (directory)", self.path);
        }
        let size = self.file_size.map_or_else(|| "size unknown".to_string(), human_size);
        let when = self.last_modified.map_or_else(String::new, |t| format!(", modified {}", format_time_minutes(t)));
        format!("{}  ({size}{when})", self.path)
    }
}

/// Arguments of `list_volume_directory`.
#[schema]
pub struct ListVolume {
    /// The directory: a volume root `/Volumes/<catalog>/<schema>/<volume>` or a directory in it.
    pub path: String,
    /// How many entries to return, 1-1000 (default 200).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call, to get the next page.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of a volume directory.
#[schema]
pub struct VolumeListing {
    /// The directory listed.
    pub path: String,
    /// Entries on this page, as the workspace returned them.
    pub contents: Vec<Json<VolumeEntry>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List a directory of a Unity Catalog volume (`/Volumes/<catalog>/<schema>/<volume>/...`), one
/// page at a time: one line per file (size, modification time) or subdirectory (ending in `/`).
#[tool(read_only, idempotent, title = "List volume directory")]
pub(crate) fn list_volume_directory(ctx: &Context, args: ListVolume) -> Result<Output<VolumeListing>> {
    let dir = volume_path(&args.path, false)?;
    let limit = args.limit.unwrap_or(200).clamp(1, 1000);
    let page = ctx
        .page::<Json<VolumeEntry>>(
            Request::new(Method::Get, api_path("directories", &dir)),
            "contents",
            Paging::QueryToken { size_param: "page_size" },
            limit,
            args.page_token.as_deref(),
        )
        .map_err(|e| if e.is_not_found() { ToolError::NotFound(format!("no directory at {dir} ({e})")) } else { e })?;
    let mut lines = page.items.iter().map(|e| e.get().map(|e| e.line())).collect::<Result<Vec<_>>>()?;
    if lines.is_empty() {
        lines.push(format!("{dir} is empty."));
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More entries: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(
        lines.join("\n"),
        VolumeListing { path: dir, contents: page.items, next_page_token: page.next_page_token },
    ))
}

/// Arguments of `read_volume_file`.
#[schema]
pub struct ReadVolume {
    /// The file, e.g. `/Volumes/main/default/landing/readme.txt`.
    pub path: String,
    /// Byte offset to start at (default 0). To continue a partial read, pass its `next_offset`.
    #[serde(default)]
    pub offset: Option<u64>,
    /// How many bytes to return, 1-262144 (default 65536).
    #[serde(default)]
    pub length: Option<u32>,
    /// `text` (default: UTF-8, falls back to base64 for binary content) or `base64`.
    #[serde(default)]
    pub encoding: Encoding,
}

/// Read part of a file in a Unity Catalog volume: up to `length` bytes from `offset` (64 KB from
/// the start by default). Text comes back as is; binary content (or `encoding: "base64"`) as
/// base64. When the file goes on, the result says so and gives `next_offset` to continue. Files
/// larger than the server's response limit (16 MB by default) cannot be read.
#[tool(read_only, idempotent, title = "Read volume file")]
pub(crate) fn read_volume_file(ctx: &Context, args: ReadVolume) -> Result<Output<FileContent>> {
    let file = volume_path(&args.path, true)?;
    let request = Request {
        headers: vec![("accept".into(), "application/octet-stream".into())],
        ..Request::new(Method::Get, api_path("files", &file))
    };
    // The Files API sends the whole file (the host passes no `Range` header), so a file larger
    // than the host's response limit cannot be read here; say so rather than fail obscurely.
    let response = ctx.send(request).map_err(|e| match e {
        ToolError::Internal(m) if m.starts_with("host limit reached") => ToolError::Failed(format!(
            "{file} is larger than one workspace response may be on this server ({m}); read_volume_file fetches the whole file, so it cannot read this one"
        )),
        other => other,
    })?;
    let response = check(response, &file, "file")?;
    let bytes = response.body;
    let size = bytes.len() as u64;
    let (offset, length) = read_window(args.offset, args.length, size)?;
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(bytes.len());
    let end = start.saturating_add(usize::try_from(length).unwrap_or(usize::MAX)).min(bytes.len());
    let (content, encoding, used) = encode_chunk(&bytes[start..end], args.encoding, end == bytes.len());
    Ok(FileContent::new(file, offset, used, size, encoding, content).into_output())
}

/// Arguments of `upload_volume_file`.
#[schema]
pub struct UploadVolume {
    /// Where to write, e.g. `/Volumes/main/default/landing/raw/new.csv`. Missing parent
    /// directories are created.
    pub path: String,
    /// The whole content: UTF-8 text, or base64 when `encoding` is `base64`.
    pub content: String,
    /// `text` (default) or `base64` (for binary content).
    #[serde(default)]
    pub encoding: Encoding,
    /// Replace the file if it exists (default false: an existing file is an error).
    #[serde(default)]
    pub overwrite: bool,
}

/// Upload a file to a Unity Catalog volume (one request). Refuses to replace an existing file
/// unless `overwrite` is true.
#[tool(destructive, idempotent, title = "Upload volume file")]
pub(crate) fn upload_volume_file(ctx: &Context, args: UploadVolume) -> Result<Output<Written>> {
    let file = volume_path(&args.path, true)?;
    let bytes = args.encoding.decode(&args.content)?;
    let size = bytes.len() as u64;
    let mut request = Request::new(Method::Put, api_path("files", &file)).query("overwrite", args.overwrite);
    request.headers.push(("content-type".into(), "application/octet-stream".into()));
    request.body = Some(bytes);
    check(ctx.send(request)?, &file, "parent directory").map_err(|e| match e {
        ToolError::InvalidArguments(m) if !args.overwrite && m.contains("already exists") => {
            ToolError::invalid(format!("{m}; pass overwrite: true to replace it"))
        }
        other => other,
    })?;
    Ok(Written::output(file, size, 1, args.overwrite))
}

/// Arguments naming one volume path.
#[schema]
pub struct VolumePath {
    /// The path, e.g. `/Volumes/main/default/landing/raw/old.csv`.
    pub path: String,
}

/// Delete a file from a Unity Catalog volume. Deleting a file that does not exist succeeds and
/// says so. (Directories: `delete_volume_directory`.)
#[tool(destructive, idempotent, title = "Delete volume file")]
pub(crate) fn delete_volume_file(ctx: &Context, args: VolumePath) -> Result<Output<Deleted>> {
    let file = volume_path(&args.path, true)?;
    match check(ctx.send(Request::new(Method::Delete, api_path("files", &file)))?, &file, "file") {
        Ok(_) => Ok(Output::new(
            format!("Deleted file {file}."),
            Deleted { path: file, existed: true, was_directory: false },
        )),
        Err(e) if e.is_not_found() => Ok(Output::new(
            format!("Nothing to delete: no file at {file} (for a directory use delete_volume_directory)."),
            Deleted { path: file, existed: false, was_directory: false },
        )),
        Err(e) => Err(e),
    }
}

/// Create a directory in a Unity Catalog volume, with any missing parents (like `mkdir -p`); an
/// existing directory is left as it is.
#[tool(idempotent, title = "Create volume directory")]
pub(crate) fn create_volume_directory(ctx: &Context, args: VolumePath) -> Result<Output<VolumePath>> {
    let dir = volume_path(&args.path, true)?;
    check(ctx.send(Request::new(Method::Put, api_path("directories", &dir)))?, &dir, "parent directory")?;
    Ok(Output::new(format!("Directory {dir} exists."), VolumePath { path: dir }))
}

/// Delete an empty directory from a Unity Catalog volume (delete its files first with
/// `delete_volume_file`). A volume's root cannot be deleted here.
#[tool(destructive, idempotent, title = "Delete volume directory")]
pub(crate) fn delete_volume_directory(ctx: &Context, args: VolumePath) -> Result<Output<Deleted>> {
    let dir = volume_path(&args.path, true)?;
    match check(ctx.send(Request::new(Method::Delete, api_path("directories", &dir)))?, &dir, "directory") {
        Ok(_) => Ok(Output::new(
            format!("Deleted directory {dir}."),
            Deleted { path: dir, existed: true, was_directory: true },
        )),
        Err(e) if e.is_not_found() => Ok(Output::new(
            format!("Nothing to delete: no directory at {dir}."),
            Deleted { path: dir, existed: false, was_directory: true },
        )),
        Err(e) => Err(match e.api_error() {
            Some(a) if a.message.contains("not empty") => ToolError::invalid(format!(
                "{dir} is not empty; list it with list_volume_directory and delete its contents first"
            )),
            _ => e,
        }),
    }
}
