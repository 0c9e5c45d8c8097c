//! The Files API (`files.FilesAPI`) under `/api/2.0/fs`, for Unity Catalog volume paths
//! `/Volumes/<catalog>/<schema>/<volume>/...` (segments percent-escaped on the wire):
//!
//! - `GET|HEAD|PUT|DELETE /fs/files{path}`: raw bytes down and up (`?overwrite=`), metadata in the
//!   `Content-Type`, `Content-Length` and `Last-Modified` headers; writes answer 204 with no body.
//! - `GET|HEAD|PUT|DELETE /fs/directories{path}`: list (`page_size` ≤ 1000, `page_token`), check,
//!   `mkdir -p`, delete an empty directory.
//!
//! The `POST /fs/create-download-url` the SDK tries first is not served: its 404 sends the SDK to
//! the plain `GET` (reference §2). Every volume root is taken to exist; the volumes themselves
//! belong to the Unity Catalog family.

mod handlers;
pub(crate) mod seed;

use std::sync::Arc;

use axum::{Router, extract::DefaultBodyLimit, routing::get};

use crate::{dbfs::MAX_REQUEST_BYTES, dbfs::tree::FileTree, workspace::AppState};

/// Files stored in volumes.
#[derive(Debug, Default)]
pub(crate) struct Volumes {
    pub tree: FileTree,
}

/// The Files API endpoints, nested under `/api/2.0/fs`.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/files/{*path}",
            get(handlers::download).head(handlers::metadata).put(handlers::upload).delete(handlers::delete_file),
        )
        .route(
            "/directories/{*path}",
            get(handlers::list)
                .head(handlers::directory_metadata)
                .put(handlers::create_directory)
                .delete(handlers::delete_directory),
        )
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`) from epoch milliseconds, for `Last-Modified`.
pub(crate) fn http_date(epoch_ms: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = epoch_ms / 1000;
    let days = secs / 86_400;
    let (h, m, s) = ((secs % 86_400) / 3600, (secs % 3600) / 60, secs % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{}, {day:02} {} {year} {h:02}:{m:02}:{s:02} GMT", DAYS[(days % 7) as usize], MONTHS[(month - 1) as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_match_rfc_7231() {
        assert_eq!(http_date(784_111_777_000), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_709_251_200_000), "Fri, 01 Mar 2024 00:00:00 GMT");
    }
}
