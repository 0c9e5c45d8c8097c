//! The Workspace API's data as the tools read and return it, and the small codecs the tools need
//! (base64 for `import`/`export` content, epoch-millisecond times).

use databricks_mcp_sdk::prelude::*;

/// A workspace object (`ObjectInfo` in the API). The fields below are the ones tools and programs
/// rely on; every other field the workspace returns is kept as well.
#[schema]
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    /// Absolute workspace path, e.g. `/Users/someone@example.com/ETL Pipeline`.
    pub path: String,
    /// `NOTEBOOK`, `DIRECTORY`, `FILE`, `REPO` (a Git folder), `LIBRARY` or `DASHBOARD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_type: Option<String>,
    /// Numeric object id (also the repo id of a `REPO`, and the id in permission APIs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<i64>,
    /// Notebook language: `PYTHON`, `SQL`, `SCALA` or `R`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Creation time, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    /// Last modification time, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<i64>,
    /// Size in bytes (files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

impl ObjectInfo {
    pub fn kind(&self) -> &str {
        self.object_type.as_deref().unwrap_or("OBJECT")
    }

    pub fn is_folder(&self) -> bool {
        matches!(self.kind(), "DIRECTORY" | "REPO")
    }

    /// One line a model can read at a glance: type, path, then language, size, id and time.
    pub fn line(&self) -> String {
        let mut details = Vec::new();
        if let Some(language) = &self.language {
            details.push(language.clone());
        }
        if let Some(size) = self.size {
            details.push(format!("{size} bytes"));
        }
        if let Some(id) = self.object_id {
            details.push(format!("id {id}"));
        }
        if let Some(modified) = self.modified_at {
            details.push(format!("modified {}", format_time(modified)));
        }
        if details.is_empty() {
            format!("{:<9} {}", self.kind(), self.path)
        } else {
            format!("{:<9} {}  ({})", self.kind(), self.path, details.join(", "))
        }
    }
}

/// Format epoch milliseconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn format_time(epoch_ms: i64) -> String {
    let secs = epoch_ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm): no date library in a small plugin.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem % 3600 / 60, rem % 60)
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding, as the Workspace API sends and expects `content`.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decode standard (or URL-safe) base64; whitespace is ignored, padding optional.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    let mut padding = false;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            padding = true;
            continue;
        }
        if padding {
            return None;
        }
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A lone sextet cannot encode a byte.
    (bits < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for text in ["", "f", "fo", "foo", "foob", "fooba", "foobar", "é ü \u{1F600}"] {
            let encoded = base64_encode(text.as_bytes());
            assert_eq!(base64_decode(&encoded).as_deref(), Some(text.as_bytes()), "{encoded}");
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_decode("Zm8").as_deref(), Some(&b"fo"[..]));
        assert_eq!(base64_decode("not base64!"), None);
    }

    #[test]
    fn formats_epoch_millis() {
        assert_eq!(format_time(1_709_294_400_000), "2024-03-01 12:00:00 UTC");
    }
}
