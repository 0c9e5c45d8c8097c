//! Inbound authentication for the HTTP transport: who may call `/mcp`, and, in per-user mode,
//! whose Databricks identity each request acts with.
//!
//! Three modes ([`AuthMode`]):
//! - `none`: no credential; the HTTP layer allows it only on a loopback address.
//! - `tokens`: the caller presents one of the operator's static bearer tokens (compared in
//!   constant time); tool calls use the host's own workspace credential.
//! - `per-user`: the caller's Databricks token comes with each request, from the Databricks
//!   Apps proxy's `X-Forwarded-Access-Token` or an `Authorization: Bearer` header. It becomes a
//!   [`UserCredential`] in that request's extensions, used for that request's workspace calls
//!   only, and the headers that carried it are removed before anything else sees the request.
//!
//! No credential ever reaches a plugin (plugins only ask the host to send requests), a log
//! line, or an error message: [`Secret`] and [`UserCredential`] print as `..`.

use axum::http::{HeaderMap, header};
use subtle::ConstantTimeEq as _;

use crate::config::{AuthMode, HttpConfig};
use crate::workspace::Secret;

/// The header the Databricks Apps proxy puts the signed-in user's OAuth token in (it strips
/// the caller's own `Authorization`).
pub const FORWARDED_TOKEN: &str = "x-forwarded-access-token";

/// Shortest static token accepted: a short token could be guessed.
const MIN_TOKEN_LEN: usize = 24;

/// How callers authenticate, checked and ready to use.
#[derive(Debug, Clone)]
pub enum InboundAuth {
    None,
    Tokens(Vec<Secret>),
    PerUser,
}

/// A caller's Databricks token, attached to one HTTP request's extensions.
#[derive(Clone)]
pub struct UserCredential(Secret);

impl UserCredential {
    pub fn secret(&self) -> &Secret {
        &self.0
    }
}

impl std::fmt::Debug for UserCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserCredential(..)")
    }
}

/// Why a request is refused (HTTP 401). The messages tell the caller what to send, and never
/// repeat what was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("missing credential: send `Authorization: Bearer <token>` with a token this server accepts")]
    MissingToken,
    #[error("the bearer token is not one this server accepts")]
    WrongToken,
    #[error(
        "missing credential: this server acts as each caller; send your Databricks token as `Authorization: Bearer <token>` (behind Databricks Apps the proxy sends `X-Forwarded-Access-Token`)"
    )]
    MissingUserToken,
    #[error("malformed credential: the Authorization header must be `Bearer <token>` in plain ASCII")]
    Malformed,
}

/// A configuration that cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "http.auth = \"tokens\" but no token is configured: set DATABRICKS_MCP_HTTP_TOKENS (comma-separated) or http.tokens"
    )]
    NoTokens,
    #[error(
        "http token #{index} is too short or contains spaces or control characters: use at least {MIN_TOKEN_LEN} printable characters, e.g. `openssl rand -hex 32`"
    )]
    WeakToken { index: usize },
    #[error(
        "http tokens are configured but http.auth is \"{mode}\": tokens are used only with auth = \"tokens\"; remove them or change the mode"
    )]
    UnusedTokens { mode: &'static str },
}

impl InboundAuth {
    /// From `[http]` (with the environment already applied).
    pub fn from_config(http: &HttpConfig) -> Result<Self, ConfigError> {
        let mode = http.auth.unwrap_or(if http.tokens.is_empty() { AuthMode::None } else { AuthMode::Tokens });
        match mode {
            AuthMode::Tokens => {
                if http.tokens.is_empty() {
                    return Err(ConfigError::NoTokens);
                }
                let mut tokens = Vec::new();
                for (i, token) in http.tokens.iter().enumerate() {
                    if token.len() < MIN_TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
                        return Err(ConfigError::WeakToken { index: i + 1 });
                    }
                    tokens.push(Secret::new(token.clone()));
                }
                Ok(Self::Tokens(tokens))
            }
            AuthMode::None if !http.tokens.is_empty() => Err(ConfigError::UnusedTokens { mode: "none" }),
            AuthMode::PerUser if !http.tokens.is_empty() => Err(ConfigError::UnusedTokens { mode: "per-user" }),
            AuthMode::None => Ok(Self::None),
            AuthMode::PerUser => Ok(Self::PerUser),
        }
    }

    /// Whether callers must present a credential.
    pub fn requires_credential(&self) -> bool {
        !matches!(self, Self::None)
    }

    /// For the start-up log.
    pub fn describe(&self) -> String {
        match self {
            Self::None => "none (loopback only)".into(),
            Self::Tokens(tokens) => format!("static bearer tokens ({} configured)", tokens.len()),
            Self::PerUser => "per-user (each request's own Databricks token)".into(),
        }
    }

    /// Check a request's headers; in per-user mode, return the caller's credential.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Option<UserCredential>, Refusal> {
        match self {
            Self::None => Ok(None),
            Self::Tokens(accepted) => {
                let presented = bearer(headers)?.ok_or(Refusal::MissingToken)?;
                // Compare with every token, without stopping at a match: the time taken says
                // nothing about which token, or how much of one, matched.
                let mut matched = subtle::Choice::from(0u8);
                for token in accepted {
                    matched |= presented.as_bytes().ct_eq(token.expose().as_bytes());
                }
                if bool::from(matched) { Ok(None) } else { Err(Refusal::WrongToken) }
            }
            Self::PerUser => {
                // The proxy's header first: behind Databricks Apps it is the signed-in user.
                let forwarded = match headers.get(FORWARDED_TOKEN) {
                    Some(value) => Some(value.to_str().map_err(|_| Refusal::Malformed)?.trim().to_string()),
                    None => None,
                };
                let token = match forwarded.filter(|t| !t.is_empty()) {
                    Some(token) => token,
                    None => bearer(headers)?.ok_or(Refusal::MissingUserToken)?,
                };
                if !token.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(Refusal::Malformed);
                }
                Ok(Some(UserCredential(Secret::new(token))))
            }
        }
    }
}

/// The token of an `Authorization: Bearer` header; `None` when there is no such header.
fn bearer(headers: &HeaderMap) -> Result<Option<String>, Refusal> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().map_err(|_| Refusal::Malformed)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(Refusal::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(Refusal::Malformed);
    }
    Ok(Some(token.to_string()))
}

/// Remove the headers that carry credentials, once they have been checked: what follows (rmcp,
/// the handler, any log of the request) never sees them.
pub fn strip_credentials(headers: &mut HeaderMap) {
    headers.remove(header::AUTHORIZATION);
    headers.remove(FORWARDED_TOKEN);
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    const GOOD: &str = "0123456789abcdef0123456789abcdef";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn http(auth: Option<AuthMode>, tokens: &[&str]) -> HttpConfig {
        HttpConfig { auth, tokens: tokens.iter().map(|t| t.to_string()).collect(), ..HttpConfig::default() }
    }

    #[test]
    fn the_mode_follows_the_configuration() {
        assert!(matches!(InboundAuth::from_config(&http(None, &[])), Ok(InboundAuth::None)));
        assert!(matches!(InboundAuth::from_config(&http(None, &[GOOD])), Ok(InboundAuth::Tokens(t)) if t.len() == 1));
        assert!(matches!(InboundAuth::from_config(&http(Some(AuthMode::PerUser), &[])), Ok(InboundAuth::PerUser)));
        let cases = [
            (http(Some(AuthMode::Tokens), &[]), ConfigError::NoTokens),
            (http(None, &[GOOD, "short"]), ConfigError::WeakToken { index: 2 }),
            (http(None, &["0123456789abcdef 0123456789abcdef"]), ConfigError::WeakToken { index: 1 }),
            (http(Some(AuthMode::PerUser), &[GOOD]), ConfigError::UnusedTokens { mode: "per-user" }),
            (http(Some(AuthMode::None), &[GOOD]), ConfigError::UnusedTokens { mode: "none" }),
        ];
        for (config, expected) in cases {
            let error = InboundAuth::from_config(&config).unwrap_err();
            assert_eq!(error, expected);
            assert!(!error.to_string().contains(GOOD), "a token never appears in an error: {error}");
        }
    }

    #[test]
    fn static_tokens_must_match_one_configured() {
        let other = "fedcba9876543210fedcba9876543210";
        let auth = InboundAuth::from_config(&http(None, &[GOOD, other])).unwrap();
        for (sent, expected) in [
            (vec![("authorization", format!("Bearer {GOOD}"))], Ok(())),
            (vec![("authorization", format!("bearer {other}"))], Ok(())),
            (vec![("authorization", format!("Bearer {GOOD}x"))], Err(Refusal::WrongToken)),
            (vec![("authorization", GOOD[..20].to_string())], Err(Refusal::Malformed)),
            (vec![("authorization", format!("Basic {GOOD}"))], Err(Refusal::Malformed)),
            (vec![("authorization", "Bearer ".to_string())], Err(Refusal::Malformed)),
            (vec![(FORWARDED_TOKEN, GOOD.to_string())], Err(Refusal::MissingToken)),
            (vec![], Err(Refusal::MissingToken)),
        ] {
            let sent: Vec<(&'static str, &str)> = sent.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let outcome = auth.authenticate(&headers(&sent));
            assert!(
                outcome.as_ref().is_ok_and(Option::is_none) || outcome.is_err(),
                "no user credential in token mode"
            );
            assert_eq!(outcome.map(|_| ()), expected, "{sent:?}");
        }
    }

    #[test]
    fn per_user_mode_takes_the_proxy_header_first_then_the_bearer() {
        let auth = InboundAuth::PerUser;
        let token = |pairs: &[(&'static str, &str)]| {
            auth.authenticate(&headers(pairs)).map(|c| c.map(|c| c.secret().expose().to_string()))
        };
        assert_eq!(token(&[(FORWARDED_TOKEN, "user-a")]), Ok(Some("user-a".into())));
        assert_eq!(token(&[("authorization", "Bearer user-b")]), Ok(Some("user-b".into())));
        assert_eq!(
            token(&[(FORWARDED_TOKEN, "user-a"), ("authorization", "Bearer user-b")]),
            Ok(Some("user-a".into()))
        );
        assert_eq!(token(&[(FORWARDED_TOKEN, "  ")]), Err(Refusal::MissingUserToken));
        assert_eq!(token(&[]), Err(Refusal::MissingUserToken));
        assert_eq!(token(&[("authorization", "Token x")]), Err(Refusal::Malformed));
    }

    #[test]
    fn credentials_do_not_print_and_are_stripped() {
        let credential = InboundAuth::PerUser.authenticate(&headers(&[(FORWARDED_TOKEN, "dapi-secret")])).unwrap();
        assert_eq!(format!("{credential:?}"), "Some(UserCredential(..))");
        let mut sent = headers(&[(FORWARDED_TOKEN, "a"), ("authorization", "Bearer b"), ("accept", "*/*")]);
        strip_credentials(&mut sent);
        assert_eq!(sent.len(), 1);
        let config = http(None, &[GOOD]);
        assert!(!format!("{config:?}").contains(GOOD));
    }
}
