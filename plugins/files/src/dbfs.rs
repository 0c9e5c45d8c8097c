//! DBFS (`/api/2.0/dbfs/*`): list, status, bounded reads, writes (one `put` for small content,
//! `create` → `add-block` → `close` for large), directories, move and delete.

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request, base64, format_time_minutes};

use crate::codec::{Encoding, encode_chunk, human_size};
use crate::{FileContent, Written, read_window};

const API: &str = "/api/2.0/dbfs";
/// The largest `put` and the size of each `add-block`: 1 MB, the service's limit for both.
pub const BLOCK: usize = 1024 * 1024;

fn path(endpoint: &str) -> String {
    format!("{API}/{endpoint}")
}

/// A DBFS path as the API takes it: `/x` (a `dbfs:` prefix is dropped).
fn dbfs_path(raw: &str) -> Result<String> {
    let bare = raw.trim().strip_prefix("dbfs:").unwrap_or(raw.trim());
    if !bare.starts_with('/') {
        return Err(ToolError::invalid(format!(
            "DBFS path `{raw}` must be absolute, e.g. `/FileStore/tables/data.csv` or `dbfs:/tmp/x`"
        )));
    }
    if bare.split('/').any(|s| s == "." || s == "..") {
        return Err(ToolError::invalid(format!("DBFS path `{raw}` must not contain `.` or `..` segments")));
    }
    if bare == "/Volumes" || bare.starts_with("/Volumes/") {
        return Err(ToolError::invalid(format!(
            "`{raw}` is a Unity Catalog volume path, which DBFS tools cannot reach: use the *_volume_* tools"
        )));
    }
    Ok(bare.to_string())
}

/// A file or directory on DBFS (`FileInfo`).
#[schema]
#[derive(Debug, Clone)]
pub struct DbfsFile {
    /// Absolute path, e.g. `/FileStore/tables/sales.csv`.
    pub path: String,
    /// True for a directory.
    #[serde(default)]
    pub is_dir: bool,
    /// Size in bytes (0 for a directory).
    #[serde(default)]
    pub file_size: u64,
    /// Last modification, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modification_time: Option<i64>,
}

impl DbfsFile {
    fn line(&self) -> String {
        let when =
            self.modification_time.map_or_else(String::new, |t| format!(", modified {}", format_time_minutes(t)));
        if self.is_dir {
            format!("{}/  (directory{when})", self.path.trim_end_matches('/'))
        } else {
            format!("{}  ({}{when})", self.path, human_size(self.file_size))
        }
    }
}

fn status(ctx: &Context, path: &str) -> Result<Json<DbfsFile>> {
    ctx.get(&self::path("get-status"), &[("path", path.to_string())])
}

/// Arguments of `list_dbfs_directory`.
#[schema]
pub struct ListDbfs {
    /// The directory, e.g. `/FileStore/tables` or `dbfs:/tmp` (`/` for the root). A file path
    /// lists just that file.
    pub path: String,
    /// How many entries to return, 1-1000 (default 200).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call, to get the next page.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of a DBFS directory.
#[schema]
pub struct DbfsListing {
    /// The directory listed.
    pub path: String,
    /// Entries on this page, directories and files, as the workspace returned them.
    pub files: Vec<Json<DbfsFile>>,
    /// How many entries the directory has in all.
    pub total: u32,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List a DBFS directory (the legacy Databricks File System: `/FileStore`, `/tmp`, `/mnt`,
/// `/databricks/init-scripts`...), one page at a time. One line per entry with its size and
/// modification time; directories end with `/`. For Unity Catalog volumes use
/// `list_volume_directory`.
#[tool(read_only, idempotent, title = "List DBFS directory")]
pub(crate) fn list_dbfs_directory(ctx: &Context, args: ListDbfs) -> Result<Output<DbfsListing>> {
    let dir = dbfs_path(&args.path)?;
    #[schema]
    struct Raw {
        #[serde(default)]
        files: Vec<Json<DbfsFile>>,
    }
    // The service returns a whole directory at once; the tool pages it.
    let raw: Raw = ctx.get(&path("list"), &[("path", dir.clone())])?;
    let mut entries = raw.files.into_iter().map(|f| Ok((f.get()?, f))).collect::<Result<Vec<_>>>()?;
    entries.sort_by(|(a, _), (b, _)| b.is_dir.cmp(&a.is_dir).then_with(|| a.path.cmp(&b.path)));
    let total = u32::try_from(entries.len()).unwrap_or(u32::MAX);
    let limit = args.limit.unwrap_or(200).clamp(1, 1000);
    let Page { items: entries, next_page_token, .. } = Page::from_items(entries, limit, args.page_token.as_deref())?;
    let mut lines: Vec<String> = entries.iter().map(|(f, _)| f.line()).collect();
    if lines.is_empty() {
        lines.push(format!("{dir} is empty."));
    }
    if let Some(token) = &next_page_token {
        lines
            .push(format!("{} of {total} shown. More entries: call again with page_token \"{token}\".", entries.len()));
    }
    Ok(Output::new(
        lines.join("\n"),
        DbfsListing { path: dir, files: entries.into_iter().map(|(_, raw)| raw).collect(), total, next_page_token },
    ))
}

/// Arguments naming one DBFS path.
#[schema]
pub struct DbfsPath {
    /// Absolute DBFS path, e.g. `/FileStore/tables/sales.csv` or `dbfs:/tmp/out`.
    pub path: String,
}

/// Get a DBFS path's status: whether it exists, is a file or a directory, its size and when it
/// was last modified.
#[tool(read_only, idempotent, title = "Get DBFS path status")]
pub(crate) fn get_dbfs_status(ctx: &Context, args: DbfsPath) -> Result<Output<Json<DbfsFile>>> {
    let raw = status(ctx, &dbfs_path(&args.path)?)?;
    Ok(Output::new(raw.get()?.line(), raw))
}

/// Arguments of `read_dbfs_file`.
#[schema]
pub struct ReadDbfs {
    /// The file, e.g. `/FileStore/tables/sales.csv`.
    pub path: String,
    /// Byte offset to start at (default 0). To continue a partial read, pass its `next_offset`.
    #[serde(default)]
    pub offset: Option<u64>,
    /// How many bytes to read, 1-262144 (default 65536).
    #[serde(default)]
    pub length: Option<u32>,
    /// `text` (default: UTF-8, falls back to base64 for binary content) or `base64`.
    #[serde(default)]
    pub encoding: Encoding,
}

/// Read part of a DBFS file: up to `length` bytes from `offset` (64 KB from the start by
/// default). Text comes back as is; binary content (or `encoding: "base64"`) as base64. When the
/// file goes on, the result says so and gives `next_offset` to continue.
#[tool(read_only, idempotent, title = "Read DBFS file")]
pub(crate) fn read_dbfs_file(ctx: &Context, args: ReadDbfs) -> Result<Output<FileContent>> {
    let file_path = dbfs_path(&args.path)?;
    let info = status(ctx, &file_path)?.get()?;
    if info.is_dir {
        return Err(ToolError::invalid(format!("{file_path} is a directory; list it with list_dbfs_directory")));
    }
    let (offset, length) = read_window(args.offset, args.length, info.file_size)?;
    let mut data = Vec::new();
    if length > 0 {
        #[schema]
        struct Chunk {
            #[serde(default)]
            data: String,
        }
        let query = [("path", file_path.clone()), ("offset", offset.to_string()), ("length", length.to_string())];
        let chunk: Chunk = ctx.get(&path("read"), &query)?;
        data = base64::decode(&chunk.data)
            .map_err(|_| ToolError::internal("the workspace answered DBFS read with data that is not base64"))?;
    }
    let at_end = offset + data.len() as u64 >= info.file_size;
    let (content, encoding, used) = encode_chunk(&data, args.encoding, at_end);
    Ok(FileContent::new(file_path, offset, used, info.file_size, encoding, content).into_output())
}

/// Arguments of `write_dbfs_file`.
#[schema]
pub struct WriteDbfs {
    /// The file to write, e.g. `/FileStore/scripts/setup.sh`. Missing parent directories are
    /// created.
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

/// Write a file to DBFS. Content up to 1 MB goes in one request; larger content is streamed in
/// 1 MB blocks with progress. Refuses to replace an existing file unless `overwrite` is true. If
/// the call is cancelled during a streamed upload of a new file, the partial file is deleted.
#[tool(destructive, idempotent, title = "Write DBFS file")]
pub(crate) fn write_dbfs_file(ctx: &Context, args: WriteDbfs) -> Result<Output<Written>> {
    let file_path = dbfs_path(&args.path)?;
    let bytes = args.encoding.decode(&args.content)?;
    let size = bytes.len() as u64;
    if bytes.len() <= BLOCK {
        let body = json!({ "path": file_path, "contents": base64::encode(&bytes), "overwrite": args.overwrite });
        ctx.post_empty(&path("put"), &body)?;
        return Ok(Written::output(file_path, size, 1, args.overwrite));
    }
    // A new file that is cancelled half-way must not stay behind; an existing one is replaced
    // anyway, so only a path that did not exist gets the compensation.
    let existed = match status(ctx, &file_path) {
        Ok(_) => true,
        Err(e) if e.is_not_found() => false,
        Err(e) => return Err(e),
    };
    if existed && !args.overwrite {
        return Err(ToolError::invalid(format!("{file_path} already exists; pass overwrite: true to replace it")));
    }
    #[schema]
    struct Handle {
        handle: i64,
    }
    let handle: Handle = ctx.post(&path("create"), &json!({ "path": file_path, "overwrite": args.overwrite }))?;
    let guard = if existed {
        None
    } else {
        let undo =
            Request::new(Method::Post, path("delete")).json(&json!({ "path": file_path, "recursive": false }))?;
        Some(ctx.on_cancel(undo)?)
    };
    let blocks = bytes.len().div_ceil(BLOCK);
    let streamed = (|| {
        for (i, block) in bytes.chunks(BLOCK).enumerate() {
            ctx.post_empty(&path("add-block"), &json!({ "handle": handle.handle, "data": base64::encode(block) }))?;
            let done = (i * BLOCK + block.len()) as u64;
            ctx.progress(
                done as f64,
                Some(size as f64),
                format!(
                    "uploaded block {}/{blocks} of {file_path} ({} of {})",
                    i + 1,
                    human_size(done),
                    human_size(size)
                ),
            );
        }
        ctx.post_empty(&path("close"), &json!({ "handle": handle.handle }))
    })();
    if let Err(e) = streamed {
        // Failed, not cancelled: clean up a new file here (the compensation is for cancellation).
        if guard.is_some() && e != ToolError::Cancelled {
            let _ = ctx.post_empty(&path("delete"), &json!({ "path": file_path, "recursive": false }));
        }
        return Err(e);
    }
    if let Some(guard) = guard {
        guard.disarm();
    }
    Ok(Written::output(file_path, size, blocks as u32, args.overwrite))
}

/// Create a DBFS directory and any missing parents (like `mkdir -p`); an existing directory is
/// left as it is.
#[tool(idempotent, title = "Create DBFS directory")]
pub(crate) fn create_dbfs_directory(ctx: &Context, args: DbfsPath) -> Result<Output<Json<DbfsFile>>> {
    let dir = dbfs_path(&args.path)?;
    ctx.post_empty(&path("mkdirs"), &json!({ "path": dir }))?;
    let raw = status(ctx, &dir)?;
    Ok(Output::new(format!("Directory {dir} exists."), raw))
}

/// Arguments of `move_dbfs_path`.
#[schema]
pub struct MoveDbfs {
    /// The file or directory to move, e.g. `/tmp/out.csv`.
    pub source_path: String,
    /// Where it goes; must not exist yet. Missing parent directories are created.
    pub destination_path: String,
}

/// Move or rename a DBFS file or a whole directory. The destination must not exist.
#[tool(destructive, title = "Move DBFS path")]
pub(crate) fn move_dbfs_path(ctx: &Context, args: MoveDbfs) -> Result<Output<Json<DbfsFile>>> {
    let (from, to) = (dbfs_path(&args.source_path)?, dbfs_path(&args.destination_path)?);
    if from == to || to.starts_with(&format!("{}/", from.trim_end_matches('/'))) {
        return Err(ToolError::invalid(format!("cannot move {from} onto itself or into itself ({to})")));
    }
    ctx.post_empty(&path("move"), &json!({ "source_path": from, "destination_path": to }))?;
    let raw = status(ctx, &to)?;
    Ok(Output::new(format!("Moved {from} to {to}.\n{}", raw.get()?.line()), raw))
}

/// Arguments of `delete_dbfs_path`.
#[schema]
pub struct DeleteDbfs {
    /// The file or directory to delete.
    pub path: String,
    /// Delete a non-empty directory with everything in it (default false).
    #[serde(default)]
    pub recursive: bool,
}

/// What a delete did.
#[schema]
pub struct Deleted {
    /// The path deleted.
    pub path: String,
    /// False when there was nothing at the path.
    pub existed: bool,
    /// True when it was a directory.
    pub was_directory: bool,
}

/// Delete a DBFS file or directory. A non-empty directory needs `recursive: true`. Deleting a
/// path that does not exist succeeds and says so.
#[tool(destructive, idempotent, title = "Delete DBFS path")]
pub(crate) fn delete_dbfs_path(ctx: &Context, args: DeleteDbfs) -> Result<Output<Deleted>> {
    let target = dbfs_path(&args.path)?;
    if target == "/" {
        return Err(ToolError::invalid("refusing to delete the DBFS root `/`"));
    }
    let before = match status(ctx, &target) {
        Ok(raw) => Some(raw.get()?),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e),
    };
    let Some(before) = before else {
        return Ok(Output::new(
            format!("Nothing to delete: {target} does not exist."),
            Deleted { path: target, existed: false, was_directory: false },
        ));
    };
    ctx.post_empty(&path("delete"), &json!({ "path": target, "recursive": args.recursive })).map_err(|e| {
        match e.api_error() {
            Some(a) if a.message.contains("non-empty") || a.error_code == "IO_ERROR" => ToolError::invalid(format!(
                "{target} is a non-empty directory; pass recursive: true to delete it with its contents"
            )),
            _ => e,
        }
    })?;
    let what = if before.is_dir { "directory" } else { "file" };
    Ok(Output::new(
        format!("Deleted {what} {target}."),
        Deleted { path: target, existed: true, was_directory: before.is_dir },
    ))
}
