//! Small codecs the tools need and the SDK does not offer: base64 (DBFS carries file contents as
//! base64 in JSON), percent-encoding of volume path segments (the Files API takes the path in the
//! URL), file contents as MCP text, and human-readable sizes and times.

use databricks_mcp_sdk::prelude::*;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64, padding optional, ASCII whitespace ignored; `None` when it is not base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    let mut padding = 0;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            padding += 1;
            continue;
        }
        if padding > 0 {
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
    // Six leftover bits cannot come from whole bytes.
    (bits < 6 && padding <= 2).then_some(out)
}

/// One path segment for a URL: everything but unreserved characters is percent-encoded.
pub fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// How file contents cross MCP.
#[schema]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// UTF-8 text, as is (the default).
    #[default]
    Text,
    /// Base64 of the raw bytes, for binary files.
    Base64,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Base64 => "base64",
        }
    }

    /// The bytes of `content` given in this encoding.
    pub fn decode(self, content: &str) -> Result<Vec<u8>> {
        match self {
            Self::Text => Ok(content.as_bytes().to_vec()),
            Self::Base64 => base64_decode(content)
                .ok_or_else(|| ToolError::invalid("content is not valid base64 (encoding is \"base64\")")),
        }
    }
}

/// A chunk of a file, ready for MCP: the text itself when it is UTF-8 and text was asked for,
/// otherwise base64. Returns the content, the encoding used, and how many bytes it holds (a text
/// chunk that ends inside a multi-byte character stops before that character).
pub fn encode_chunk(chunk: &[u8], wanted: Encoding, at_end: bool) -> (String, Encoding, usize) {
    if wanted == Encoding::Text {
        match std::str::from_utf8(chunk) {
            Ok(text) => return (text.to_string(), Encoding::Text, chunk.len()),
            // Cut in the middle of a character at the end of the window: stop before it.
            Err(e) if e.error_len().is_none() && !at_end && e.valid_up_to() > 0 => {
                let n = e.valid_up_to();
                let text = std::str::from_utf8(&chunk[..n]).unwrap_or_default();
                return (text.to_string(), Encoding::Text, n);
            }
            Err(_) => {}
        }
    }
    (base64_encode(chunk), Encoding::Base64, chunk.len())
}

/// `1.2 KB`, `3.4 MB`...
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

/// Format epoch milliseconds as `YYYY-MM-DD HH:MM UTC`.
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
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for data in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar", &[0, 255, 128, 7]] {
            let text = base64_encode(data);
            assert_eq!(base64_decode(&text).as_deref(), Some(data), "{text}");
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_decode("Zm8"), Some(b"fo".to_vec()));
        assert_eq!(base64_decode("Z"), None);
        assert_eq!(base64_decode("not base64!"), None);
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(percent_encode("my file (1).csv"), "my%20file%20%281%29.csv");
        assert_eq!(percent_encode("caf\u{e9}"), "caf%C3%A9");
    }

    #[test]
    fn text_chunks_stop_before_a_split_character() {
        let bytes = "a\u{e9}".as_bytes();
        assert_eq!(encode_chunk(&bytes[..2], Encoding::Text, false), ("a".into(), Encoding::Text, 1));
        assert_eq!(encode_chunk(&[0xff, 0], Encoding::Text, true).1, Encoding::Base64);
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(format_time(0), "1970-01-01 00:00 UTC");
    }
}
