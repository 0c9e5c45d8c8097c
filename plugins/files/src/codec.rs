//! File contents as MCP text (or base64, as DBFS carries them in JSON) and human-readable sizes.

use databricks_mcp_sdk::base64;
use databricks_mcp_sdk::prelude::*;

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
            Self::Base64 => base64::decode(content)
                .map_err(|_| ToolError::invalid("content is not valid base64 (encoding is \"base64\")")),
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
    (base64::encode(chunk), Encoding::Base64, chunk.len())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_chunks_stop_before_a_split_character() {
        let bytes = "a\u{e9}".as_bytes();
        assert_eq!(encode_chunk(&bytes[..2], Encoding::Text, false), ("a".into(), Encoding::Text, 1));
        assert_eq!(encode_chunk(&[0xff, 0], Encoding::Text, true).1, Encoding::Base64);
        assert_eq!(human_size(1536), "1.5 KB");
    }
}
