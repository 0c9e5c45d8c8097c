//! Discovery and the workspace OAuth server, as the SDKs use them for OAuth M2M (reference §3.3):
//!
//! 1. `GET /.well-known/databricks-config` (no auth) names `oidc_endpoint` and the workspace id.
//! 2. `GET {oidc_endpoint}/.well-known/oauth-authorization-server` names the token endpoint.
//! 3. `POST /oidc/v1/token` with `grant_type=client_credentials` and the client id and secret
//!    (HTTP Basic, or `client_id`/`client_secret` form fields) returns a bearer token that then
//!    authenticates as the service principal.
//!
//! OAuth U2M (authorization code with PKCE, as `databricks auth login` uses it):
//!
//! 4. `GET /oidc/v1/authorize?response_type=code&client_id&redirect_uri&state&code_challenge&
//!    code_challenge_method=S256` is where a browser goes to sign in. The emulator plays the
//!    browser step itself: it signs in as the demo user (or [`U2m::user`]) at once and redirects
//!    to the loopback `redirect_uri` with `code` and `state`, so a test follows the URL the
//!    client printed, with no page to click through.
//! 5. `POST /oidc/v1/token` with `grant_type=authorization_code`, the `code`, the PKCE
//!    `code_verifier` and the same `redirect_uri` returns an access token and a refresh token;
//!    `grant_type=refresh_token` trades a refresh token for new ones (the old one stops working:
//!    rotation, as the service does).
//!
//! Errors follow RFC 6749 §5.2 (`{"error","error_description"}`), not the Databricks shape.

use std::sync::Arc;

use std::collections::BTreeMap;

use axum::{
    Form, Json,
    extract::{Query, State, rejection::FormRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::WORKSPACE_ID;
use crate::workspace::{AppState, DEFAULT_USER};

/// How long an authorization code may wait for its exchange.
const CODE_TTL_MS: u64 = 10 * 60 * 1000;

/// OAuth U2M state: sign-ins waiting for their code exchange, and live refresh tokens.
#[derive(Debug, Default)]
pub(crate) struct U2m {
    codes: BTreeMap<String, PendingCode>,
    /// Refresh token → principal SCIM id.
    refresh_tokens: BTreeMap<String, String>,
    /// The user name the scripted browser signs in as; the demo user when unset.
    pub user: Option<String>,
}

#[derive(Debug)]
struct PendingCode {
    principal_id: String,
    client_id: String,
    redirect_uri: String,
    challenge: String,
    expires_at_ms: u64,
}

fn random_token(prefix: &str) -> String {
    use rand::Rng as _;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    prefix.chars().chain((0..48).map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))).collect()
}

/// Whether a redirect goes back to the machine the browser runs on, as public clients must.
fn is_loopback_redirect(uri: &str) -> bool {
    ["http://localhost", "http://127.0.0.1", "http://[::1]"].iter().any(|prefix| {
        uri.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with(':') || rest.starts_with('/'))
    })
}

/// `GET /oidc/v1/authorize`: validate the request, sign in at once (the scripted browser), and
/// send the browser back to the client's loopback redirect with a code.
pub(super) async fn authorize(
    State(app): State<Arc<AppState>>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Response {
    let param = |name: &str| params.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let (Some(client_id), Some(redirect_uri)) = (param("client_id"), param("redirect_uri")) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "client_id and redirect_uri are required");
    };
    // An unknown client or a redirect elsewhere gets an error page, never a redirect (RFC 6749 §4.1.2.1).
    let mut ws = app.workspace();
    let known = client_id == "databricks-cli" || ws.identity.by_user_name(client_id).is_some();
    if !known {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_client", &format!("Unknown client '{client_id}'"));
    }
    if !is_loopback_redirect(redirect_uri) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "redirect_uri must be a loopback http URL");
    }
    let back = |pairs: &[(&str, &str)]| {
        let query: Vec<String> = pairs
            .iter()
            .chain(param("state").map(|s| ("state", s)).as_slice())
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        let separator = if redirect_uri.contains('?') { '&' } else { '?' };
        let location = format!("{redirect_uri}{separator}{}", query.join("&"));
        (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
    };
    if param("response_type") != Some("code") {
        return back(&[("error", "unsupported_response_type")]);
    }
    let (Some(challenge), Some("S256")) = (param("code_challenge"), param("code_challenge_method")) else {
        return back(&[("error", "invalid_request"), ("error_description", "PKCE with S256 is required")]);
    };
    let user = ws.identity.u2m.user.clone().unwrap_or_else(|| DEFAULT_USER.to_owned());
    let Some(principal_id) = ws.identity.by_user_name(&user).map(|p| p.id.clone()) else {
        return back(&[("error", "access_denied")]);
    };
    let code = random_token("dcode");
    let now = app.clock.now_ms();
    let u2m = &mut ws.identity.u2m;
    u2m.codes.retain(|_, c| c.expires_at_ms > now);
    u2m.codes.insert(
        code.clone(),
        PendingCode {
            principal_id,
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            challenge: challenge.to_owned(),
            expires_at_ms: now + CODE_TTL_MS,
        },
    );
    back(&[("code", &code)])
}

/// Percent-encoding for a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The S256 code challenge of a verifier (RFC 7636 §4.2).
fn challenge_of(verifier: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// A successful token response.
fn token_response(access_token: &str, expires_in: u64, scope: &str, refresh_token: Option<&str>) -> Response {
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": scope,
    });
    if let Some(refresh) = refresh_token {
        body["refresh_token"] = json!(refresh);
    }
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `grant_type=authorization_code` and `grant_type=refresh_token`.
fn user_grant(app: &AppState, grant: &str, field: &dyn Fn(&str) -> Option<String>) -> Response {
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    let principal_id = if grant == "authorization_code" {
        let (Some(code), Some(verifier), Some(redirect_uri)) =
            (field("code"), field("code_verifier"), field("redirect_uri"))
        else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "code, code_verifier and redirect_uri are required",
            );
        };
        // A code is good once, whatever happens next.
        let Some(pending) = ws.identity.u2m.codes.remove(&code).filter(|p| p.expires_at_ms > now) else {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Invalid or expired authorization code");
        };
        if pending.redirect_uri != redirect_uri || field("client_id").is_some_and(|c| c != pending.client_id) {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "redirect_uri or client_id does not match");
        }
        if challenge_of(&verifier) != pending.challenge {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "PKCE verification failed");
        }
        pending.principal_id
    } else {
        let Some(refresh) = field("refresh_token") else {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Missing refresh_token");
        };
        match ws.identity.u2m.refresh_tokens.remove(&refresh) {
            Some(principal_id) => principal_id,
            None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Invalid refresh token"),
        }
    };
    let (access, expires_in) = ws.identity.issue_to(principal_id.clone(), now);
    let refresh = random_token("doref");
    ws.identity.u2m.refresh_tokens.insert(refresh.clone(), principal_id);
    token_response(&access, expires_in, &format!("{DEFAULT_SCOPE} offline_access"), Some(&refresh))
}

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
        Some(grant @ ("authorization_code" | "refresh_token")) => {
            return user_grant(&app, grant, &|name| field(name).filter(|v| !v.is_empty()).map(str::to_owned));
        }
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
    token_response(&access_token, expires_in, &scope, None)
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
    fn pkce_challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn only_loopback_redirects_are_allowed() {
        assert!(is_loopback_redirect("http://localhost:8020"));
        assert!(is_loopback_redirect("http://127.0.0.1:5000/callback"));
        assert!(!is_loopback_redirect("http://localhost.evil.example"));
        assert!(!is_loopback_redirect("https://example.com/cb"));
    }

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
