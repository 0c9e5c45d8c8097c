//! Discovery and the workspace OAuth server, as the SDKs use them for OAuth M2M (reference §3.3):
//!
//! 1. `GET /.well-known/databricks-config` (no auth) names `oidc_endpoint` and the workspace id.
//! 2. `GET {oidc_endpoint}/.well-known/oauth-authorization-server` names the token endpoint.
//! 3. `POST /oidc/v1/token` with `grant_type=client_credentials` and the client id and secret
//!    (HTTP Basic, or `client_id`/`client_secret` form fields) returns a bearer token that then
//!    authenticates as the service principal.
//!
//! Errors follow RFC 6749 §5.2 (`{"error","error_description"}`), not the Databricks shape.

use std::sync::Arc;

use axum::{
    Form, Json,
    extract::{State, rejection::FormRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::WORKSPACE_ID;
use crate::workspace::AppState;

/// The scope clients ask for, and the one granted when they name none.
const DEFAULT_SCOPE: &str = "all-apis";

/// `http://<Host header>`: the address the client used, so URLs we hand out reach us again.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    format!("http://{host}")
}

pub(super) async fn host_metadata(headers: HeaderMap) -> Json<Value> {
    let base = base_url(&headers);
    Json(json!({
        "oidc_endpoint": format!("{base}/oidc"),
        "workspace_id": WORKSPACE_ID,
        "cloud": "aws",
    }))
}

pub(super) async fn discovery(headers: HeaderMap) -> Json<Value> {
    let oidc = format!("{}/oidc", base_url(&headers));
    Json(json!({
        "issuer": oidc,
        "authorization_endpoint": format!("{oidc}/v1/authorize"),
        "token_endpoint": format!("{oidc}/v1/token"),
        "jwks_uri": format!("{oidc}/jwks.json"),
        "scopes_supported": ["all-apis", "offline_access", "sql", "openid", "profile", "email"],
        "response_types_supported": ["code", "id_token"],
        "grant_types_supported": ["client_credentials", "authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

/// An OAuth error response (RFC 6749 §5.2).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({ "error": error, "error_description": description }))).into_response()
}

pub(super) async fn token(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request must be application/x-www-form-urlencoded",
        );
    };
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    match field("grant_type") {
        Some("client_credentials") => {}
        Some(other) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("Grant type '{other}' is not supported by this server"),
            );
        }
        None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Missing grant_type"),
    }
    let credentials = basic_credentials(&headers)
        .or_else(|| Some((field("client_id")?.to_owned(), field("client_secret")?.to_owned())));
    let Some((client_id, secret)) = credentials else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed");
    };
    let scope = field("scope").filter(|s| !s.trim().is_empty()).unwrap_or(DEFAULT_SCOPE).to_owned();
    let issued = app.workspace().identity.issue(&client_id, &secret, app.clock.now_ms());
    let Some((access_token, expires_in)) = issued else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed");
    };
    let mut response = Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": scope,
    }))
    .into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `Authorization: Basic base64(client_id:secret)`, if present and well-formed.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(decode_base64(encoded.trim())?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// Standard base64 with optional padding; `None` on anything else. Small enough not to need a crate.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let text = text.trim_end_matches('=').as_bytes();
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.chunks(4) {
        let mut bits = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            bits |= value(c)? << (18 - 6 * i);
        }
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(decode_base64("YWJjOmRlZg==").as_deref(), Some(&b"abc:def"[..]));
        assert_eq!(decode_base64("YWJjOmRlZg").as_deref(), Some(&b"abc:def"[..]));
        assert_eq!(decode_base64("YWJj").as_deref(), Some(&b"abc"[..]));
        assert_eq!(decode_base64("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(decode_base64("a!bc"), None);
        assert_eq!(decode_base64("abcde"), None);
    }
}
