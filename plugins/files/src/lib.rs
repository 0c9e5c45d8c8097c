//! Databricks files as MCP tools: DBFS (list, status, bounded reads, small and streamed writes,
//! directories, move, delete) and files in Unity Catalog volumes through the Files API (list,
//! read, upload, delete, directories).
//!
//! File contents cross MCP as text: UTF-8 by default, base64 with `encoding: "base64"` for binary
//! data. Reads are bounded by `offset`/`length` and say where to continue. Directory listings
//! take `limit` and `page_token`.
//!
//! Modules: `dbfs` and `volumes` (the tools), `codec` (base64, percent-encoding, sizes, times).

mod codec;
mod dbfs;
mod volumes;

use databricks_mcp_sdk::prelude::*;

use codec::{Encoding, human_size};
use dbfs::{
    create_dbfs_directory, delete_dbfs_path, get_dbfs_status, list_dbfs_directory, move_dbfs_path, read_dbfs_file,
    write_dbfs_file,
};
use volumes::{
    create_volume_directory, delete_volume_directory, delete_volume_file, list_volume_directory, read_volume_file,
    upload_volume_file,
};

/// Bytes a read returns when no `length` is given.
pub(crate) const DEFAULT_READ: u64 = 64 * 1024;
/// The most bytes one read returns (the tool result, text plus structured, stays well under
/// the host's output limit even as base64).
pub(crate) const MAX_READ: u64 = 256 * 1024;

/// The byte window `[offset, offset + length)` to read from a file of `size` bytes.
pub(crate) fn read_window(offset: Option<u64>, length: Option<u32>, size: u64) -> Result<(u64, u64)> {
    let offset = offset.unwrap_or(0);
    if offset > size {
        return Err(ToolError::invalid(format!("offset {offset} is past the end of the file ({size} bytes)")));
    }
    let length = length.map_or(DEFAULT_READ, u64::from).clamp(1, MAX_READ);
    Ok((offset, length.min(size - offset)))
}

/// Part of a file's content.
#[schema]
pub struct FileContent {
    /// The file read.
    pub path: String,
    /// Where this chunk starts, in bytes.
    pub offset: u64,
    /// How many bytes of the file this chunk holds.
    pub bytes_read: u64,
    /// The file's size in bytes.
    pub file_size: u64,
    /// How `content` is encoded: `text` (UTF-8) or `base64` (binary content, or asked for).
    pub encoding: Encoding,
    /// The bytes read.
    pub content: String,
    /// Where the next chunk starts, when the file goes on; pass it as `offset`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u64>,
}

impl FileContent {
    pub(crate) fn new(
        path: String,
        offset: u64,
        used: usize,
        file_size: u64,
        encoding: Encoding,
        content: String,
    ) -> Self {
        let bytes_read = used as u64;
        let end = offset + bytes_read;
        let next_offset = (end < file_size).then_some(end);
        Self { path, offset, bytes_read, file_size, encoding, content, next_offset }
    }

    pub(crate) fn into_output(self) -> Output<Self> {
        let end = self.offset + self.bytes_read;
        let mut text = if self.bytes_read == self.file_size {
            format!("{} ({}, {}):", self.path, human_size(self.file_size), self.encoding.as_str())
        } else {
            format!("{}: bytes {}-{} of {} ({}):", self.path, self.offset, end, self.file_size, self.encoding.as_str())
        };
        text.push('\n');
        text.push_str(&self.content);
        if let Some(next) = self.next_offset {
            text.push_str(&format!(
                "\n[{} more bytes: call again with offset {next} to continue.]",
                self.file_size - next
            ));
        }
        Output::new(text, self)
    }
}

/// What a write did.
#[schema]
pub struct Written {
    /// The file written.
    pub path: String,
    /// Bytes written.
    pub bytes_written: u64,
    /// Requests that carried the content (1, or the number of 1 MB blocks of a streamed upload).
    pub blocks: u32,
    /// Whether an existing file could be replaced.
    pub overwrite: bool,
}

impl Written {
    pub(crate) fn output(path: String, bytes: u64, blocks: u32, overwrite: bool) -> Output<Self> {
        let how = if blocks > 1 { format!(" in {blocks} blocks") } else { String::new() };
        Output::new(
            format!("Wrote {} ({bytes} bytes) to {path}{how}.", human_size(bytes)),
            Self { path, bytes_written: bytes, blocks, overwrite },
        )
    }
}

databricks_mcp_sdk::plugin! {
    name: "files",
    description: "Databricks files: DBFS (list, status, read, write, directories, move, delete) and Unity Catalog volume files (list, read, upload, delete, directories)",
    grants: [
        "GET /api/2.0/dbfs/list",
        "GET /api/2.0/dbfs/get-status",
        "GET /api/2.0/dbfs/read",
        "POST /api/2.0/dbfs/put",
        "POST /api/2.0/dbfs/create",
        "POST /api/2.0/dbfs/add-block",
        "POST /api/2.0/dbfs/close",
        "POST /api/2.0/dbfs/mkdirs",
        "POST /api/2.0/dbfs/move",
        "POST /api/2.0/dbfs/delete",
        "GET /api/2.0/fs/directories/Volumes/**",
        "PUT /api/2.0/fs/directories/Volumes/**",
        "DELETE /api/2.0/fs/directories/Volumes/**",
        "GET /api/2.0/fs/files/Volumes/**",
        "PUT /api/2.0/fs/files/Volumes/**",
        "DELETE /api/2.0/fs/files/Volumes/**",
    ],
    tools: [
        list_dbfs_directory,
        get_dbfs_status,
        read_dbfs_file,
        write_dbfs_file,
        create_dbfs_directory,
        move_dbfs_path,
        delete_dbfs_path,
        list_volume_directory,
        read_volume_file,
        upload_volume_file,
        delete_volume_file,
        create_volume_directory,
        delete_volume_directory,
    ],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        assert_eq!(read_window(None, None, 10).unwrap(), (0, 10));
        assert_eq!(read_window(Some(4), Some(3), 10).unwrap(), (4, 3));
        assert_eq!(read_window(Some(10), None, 10).unwrap(), (10, 0));
        assert!(read_window(Some(11), None, 10).is_err());
    }
}
