//! Opaque page tokens for token-paginated lists.
//!
//! A token is the offset of the next item, hex-encoded behind a prefix so clients treat it as
//! opaque and a mangled token is caught. Lists answer without `next_page_token` on the last page:
//! some SDK loops run `while next_page_token is not None`, so an empty string would loop forever
//! (reference §0.4).

use crate::error::ApiError;

const PREFIX: &str = "emu1";

/// The token that resumes a list at `offset`.
pub(crate) fn encode_token(offset: usize) -> String {
    let hex: String = format!("offset:{offset}").bytes().map(|b| format!("{b:02x}")).collect();
    format!("{PREFIX}{hex}")
}

/// The offset a token resumes at; an empty token means the start.
pub(crate) fn decode_token(token: &str) -> Result<usize, ApiError> {
    if token.is_empty() {
        return Ok(0);
    }
    let invalid = || ApiError::invalid_parameter(format!("Invalid page token: {token}"));
    let hex = token.strip_prefix(PREFIX).ok_or_else(invalid)?;
    if hex.len() % 2 != 0 {
        return Err(invalid());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| hex.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(invalid)?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix("offset:").and_then(|n| n.parse().ok()).ok_or_else(invalid)
}

/// One page cut from a full result list.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    /// Set only when more items follow.
    pub next_page_token: Option<String>,
    /// Set only when items precede this page.
    pub prev_page_token: Option<String>,
}

/// Cuts `items[offset..offset + size]` and the tokens around it.
pub(crate) fn page<T>(items: Vec<T>, offset: usize, size: usize) -> Page<T> {
    let total = items.len();
    let next_page_token = (offset + size < total).then(|| encode_token(offset + size));
    let prev_page_token = (offset > 0).then(|| encode_token(offset.saturating_sub(size)));
    let items = items.into_iter().skip(offset).take(size).collect();
    Page { items, next_page_token, prev_page_token }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        for offset in [0, 1, 20, 12345] {
            assert_eq!(decode_token(&encode_token(offset)), Ok(offset));
        }
        assert_eq!(decode_token(""), Ok(0));
    }

    #[test]
    fn mangled_tokens_are_rejected() {
        for token in ["nope", "emu1zz", "emu1abc", "emu16f6666"] {
            let err = decode_token(token).expect_err(token);
            assert_eq!(err.code, "INVALID_PARAMETER_VALUE");
        }
    }

    #[test]
    fn last_page_has_no_next_token() {
        let first = page((0..5).collect(), 0, 2);
        assert_eq!(first.items, vec![0, 1]);
        assert_eq!(first.prev_page_token, None);
        let next = first.next_page_token.expect("more items follow");

        let last = page((0..5).collect::<Vec<_>>(), decode_token(&next).expect("valid") + 2, 2);
        assert_eq!(last.items, vec![4]);
        assert_eq!(last.next_page_token, None);
        assert!(last.prev_page_token.is_some());
    }
}
