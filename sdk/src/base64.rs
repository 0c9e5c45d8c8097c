//! Base64, as the workspace API carries binary content in JSON (workspace `import`/`export`
//! `content`, DBFS `data` and `contents`).
//!
//! [`encode`] writes standard base64 with padding, which every endpoint accepts. [`decode`] is
//! lenient about what it reads, because the text often comes from a model: ASCII whitespace
//! (line breaks) is skipped, padding is optional, and the URL-safe alphabet (`-`, `_`) is read as
//! well as the standard one.

use std::fmt;

use ::base64::Engine as _;
use ::base64::alphabet::STANDARD;
use ::base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::error::ToolError;

const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// `bytes` as standard base64 with padding (`Zm8=`).
///
/// ```
/// assert_eq!(databricks_mcp_sdk::base64::encode(b"foobar"), "Zm9vYmFy");
/// ```
pub fn encode(bytes: &[u8]) -> String {
    ENGINE.encode(bytes)
}

/// The bytes `text` encodes in standard or URL-safe base64; ASCII whitespace is ignored and
/// padding is optional. Fails with [`InvalidBase64`], which `?` turns into
/// [`ToolError::InvalidArguments`]; map it to your own message to name the argument:
///
/// ```
/// use databricks_mcp_sdk::{ToolError, base64};
/// assert_eq!(base64::decode("Zm9v\nYmFy").unwrap(), b"foobar");
/// let err = base64::decode("not base64!").map_err(|_| ToolError::invalid("content is not valid base64"));
/// assert!(err.is_err());
/// ```
pub fn decode(text: &str) -> Result<Vec<u8>, InvalidBase64> {
    let cleaned: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace())
        .map(|c| match c {
            b'-' => b'+',
            b'_' => b'/',
            c => c,
        })
        .collect();
    ENGINE.decode(cleaned).map_err(|e| InvalidBase64(e.to_string()))
}

/// Why [`decode`] refused its input. Converts into [`ToolError::InvalidArguments`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidBase64(String);

impl fmt::Display for InvalidBase64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not valid base64 ({})", self.0)
    }
}

impl std::error::Error for InvalidBase64 {}

impl From<InvalidBase64> for ToolError {
    fn from(error: InvalidBase64) -> Self {
        ToolError::InvalidArguments(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for data in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar", &[0, 255, 128, 7, 62, 63]] {
            let text = encode(data);
            assert_eq!(decode(&text).as_deref(), Ok(data), "{text}");
        }
        assert_eq!(encode("é ü \u{1F600}".as_bytes()), "w6kgw7wg8J+YgA==");
    }

    #[test]
    fn encodes_standard_with_padding() {
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode(b"fo"), "Zm8=");
        assert_eq!(encode(b"f"), "Zg==");
        assert_eq!(encode(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn decodes_leniently() {
        assert_eq!(decode("Zm8").as_deref(), Ok(&b"fo"[..]));
        assert_eq!(decode("Zm8=").as_deref(), Ok(&b"fo"[..]));
        assert_eq!(decode(" Zm9v\r\nYmFy\n").as_deref(), Ok(&b"foobar"[..]));
        assert_eq!(decode("-_8").as_deref(), Ok(&[0xfb, 0xff][..]));
        assert_eq!(decode("+/8=").as_deref(), Ok(&[0xfb, 0xff][..]));
    }

    #[test]
    fn refuses_what_is_not_base64() {
        assert!(decode("Z").is_err(), "six bits cannot make a byte");
        assert!(decode("not base64!").is_err());
        assert!(decode("Zg==Zg==").is_err(), "nothing after padding");
        let error: ToolError = decode("*").unwrap_err().into();
        assert!(matches!(error, ToolError::InvalidArguments(m) if m.starts_with("not valid base64")));
    }
}
