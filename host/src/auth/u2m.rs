//! OAuth U2M for local use: a person signs in once in a browser, and the host keeps working with
//! a refresh token.
//!
//! - `databricks-mcp auth login` runs the authorization-code flow with PKCE (RFC 7636) through a
//!   loopback redirect, as `databricks auth login` does, with the Databricks CLI's public OAuth
//!   client (`databricks-cli`, redirect `http://localhost:8020` by default).
//! - Tokens are kept in this host's cache, `$XDG_CONFIG_HOME/databricks-mcp/token-cache.json`
//!   (`~/.config/...`), directory `0700` and file `0600`, in the Databricks CLI's own format
//!   (`{"version": 1, "tokens": {"<host>": {"access_token", "token_type", "refresh_token",
//!   "expiry"}}}`), keyed by the workspace URL.
//! - A workspace with no token of ours reuses the Databricks CLI's sign-in from
//!   `~/.databricks/token-cache.json` (same format; the CLI keys by profile name or by host).
//!   The CLI's file is only read: refreshed tokens go to this host's cache.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use rand::Rng as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::AuthError;
use super::oauth::{Cached, DEFAULT_SCOPE, form_body};
use crate::workspace::Secret;

/// The Databricks CLI's public OAuth client, which every workspace knows.
pub const CLIENT_ID: &str = "databricks-cli";
/// The redirect port the CLI's client is registered with.
pub const DEFAULT_REDIRECT_PORT: u16 = 8020;

/// One cached token, as the Go `oauth2.Token` the CLI writes serialises.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedToken {
    access_token: String,
    #[serde(default)]
    token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expiry: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    tokens: BTreeMap<String, CachedToken>,
}

/// Where a token cache is and under which key this workspace's token is.
#[derive(Debug, Clone)]
pub struct TokenStore {
    pub path: PathBuf,
    pub key: String,
}

/// A sign-in found in a cache.
pub struct SignIn {
    pub access: Option<Cached>,
    pub refresh_token: Secret,
    /// Where it was found, for `doctor`.
    pub from: PathBuf,
}

/// This host's token cache.
pub fn cache_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let base = env("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| env("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("databricks-mcp").join("token-cache.json"))
}

/// The Databricks CLI's token cache.
pub fn cli_cache_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    env("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".databricks").join("token-cache.json"))
}

/// The cache key of a workspace: its URL without a trailing slash.
pub fn cache_key(host: &reqwest::Url) -> String {
    host.as_str().trim_end_matches('/').to_string()
}

fn read_cache(path: &Path) -> Result<Option<CacheFile>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let file: CacheFile =
        serde_json::from_str(&text).map_err(|e| format!("{} is not a token cache: {e}", path.display()))?;
    if file.version != 1 {
        return Err(format!("{} has version {}; this host reads version 1", path.display(), file.version));
    }
    Ok(Some(file))
}

/// The sign-in for `host` (and `profile`, for the CLI's profile-keyed entries): this host's
/// cache first, then the CLI's. A cache that cannot be read is skipped with a warning.
pub fn find(env: &dyn Fn(&str) -> Option<String>, host: &reqwest::Url, profile: Option<&str>) -> Option<SignIn> {
    let key = cache_key(host);
    let ours = cache_path(env).map(|p| (p, vec![key.clone()]));
    let cli = cli_cache_path(env).map(|p| (p, profile.map(str::to_string).into_iter().chain([key.clone()]).collect()));
    for (path, keys) in ours.into_iter().chain(cli) {
        let file = match read_cache(&path) {
            Ok(Some(file)) => file,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!("skipping a token cache: {e}");
                continue;
            }
        };
        let Some(token) = keys.iter().find_map(|k| file.tokens.get(k)) else { continue };
        let Some(refresh) = token.refresh_token.clone().filter(|r| !r.is_empty()) else { continue };
        let access = token.expiry.as_deref().and_then(parse_rfc3339).and_then(|expiry| {
            let left = expiry.duration_since(SystemTime::now()).ok()?;
            let left = left.checked_sub(Duration::from_secs(60))?;
            Some(Cached { token: Secret::new(token.access_token.clone()), refresh_at: Instant::now() + left })
        });
        return Some(SignIn { access, refresh_token: Secret::new(refresh), from: path });
    }
    None
}

impl TokenStore {
    /// Write the token, creating the directory `0700` and the file `0600`; other workspaces'
    /// entries are kept.
    pub fn save(&self, access: &Secret, refresh: &Secret, expiry: SystemTime) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir)?;
        let mut file = read_cache(&self.path).ok().flatten().unwrap_or_default();
        file.version = 1;
        file.tokens.insert(
            self.key.clone(),
            CachedToken {
                access_token: access.expose().to_string(),
                token_type: "Bearer".into(),
                refresh_token: Some(refresh.expose().to_string()),
                expiry: Some(format_rfc3339(expiry)),
            },
        );
        let text = serde_json::to_string_pretty(&file).map_err(std::io::Error::other)?;
        // Written beside and renamed: a reader never sees half a file, and the new file has
        // owner-only permissions from its first byte.
        let tmp = self.path.with_extension("json.tmp");
        let mut out = private_file(&tmp)?;
        out.write_all(text.as_bytes())?;
        out.sync_all()?;
        std::fs::rename(&tmp, &self.path)
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(path)
}

/// What `auth login` needs.
pub struct Login<'a> {
    pub http: &'a reqwest::Client,
    pub host: &'a reqwest::Url,
    pub store: TokenStore,
    /// 0 picks a free port (tests).
    pub port: u16,
    pub open_browser: bool,
    pub timeout: Duration,
}

/// Sign in: print (and open) the authorization URL, wait for the browser to come back to the
/// loopback redirect with a code, exchange it with the PKCE verifier, and cache the tokens.
pub async fn login(login: Login<'_>) -> Result<(), AuthError> {
    let host_text = cache_key(login.host);
    let oidc = super::oauth::oidc_endpoint(login.http, login.host).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", login.port)).await.map_err(|e| {
        AuthError::Config(format!(
            "cannot listen on 127.0.0.1:{} for the sign-in redirect: {e}; pass --redirect-port with a free port",
            login.port
        ))
    })?;
    let port = listener.local_addr().map_err(|e| AuthError::Config(e.to_string()))?.port();
    let redirect_uri = format!("http://localhost:{port}");
    let verifier = random_string(64);
    let challenge = base64url(&Sha256::digest(verifier.as_bytes()));
    let state = random_string(24);
    let mut url = reqwest::Url::parse(&format!("{oidc}/v1/authorize"))
        .map_err(|e| AuthError::Config(format!("bad OIDC endpoint {oidc}: {e}")))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", CLIENT_ID)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", &format!("{DEFAULT_SCOPE} offline_access"))
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    eprintln!("Open this URL in a browser to sign in to {host_text}:\n{url}");
    if login.open_browser {
        open_browser(url.as_str());
    }
    let code = tokio::time::timeout(login.timeout, wait_for_code(&listener, &state)).await.map_err(|_| {
        AuthError::Config(format!(
            "no sign-in came back within {} s; run `databricks-mcp auth login` again",
            login.timeout.as_secs()
        ))
    })??;
    let body = form_body(&[
        ("grant_type", "authorization_code".to_string()),
        ("code", code),
        ("code_verifier", verifier),
        ("redirect_uri", redirect_uri),
        ("client_id", CLIENT_ID.to_string()),
    ]);
    let endpoint = format!("{oidc}/v1/token");
    let response = login
        .http
        .post(&endpoint)
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| AuthError::Unreachable { host: host_text.clone(), reason: crate::workspace::error_chain(&e) })?;
    let status = response.status();
    let parsed: serde_json::Value = response.json().await.unwrap_or_default();
    let (Some(access), Some(refresh), true) =
        (parsed["access_token"].as_str(), parsed["refresh_token"].as_str(), status.is_success())
    else {
        let detail =
            parsed["error_description"].as_str().or(parsed["error"].as_str()).unwrap_or("no token in the answer");
        return Err(AuthError::Refused {
            host: host_text,
            what: format!("the sign-in code was refused (HTTP {status}: {detail})"),
            fix: "run `databricks-mcp auth login` again".into(),
        });
    };
    let expiry = SystemTime::now() + Duration::from_secs(parsed["expires_in"].as_u64().unwrap_or(3600));
    login
        .store
        .save(&Secret::new(access.to_string()), &Secret::new(refresh.to_string()), expiry)
        .map_err(|e| AuthError::Config(format!("cannot write the token cache {}: {e}", login.store.path.display())))?;
    Ok(())
}

/// Accept connections on the loopback listener until one brings `?code=...&state=...`.
async fn wait_for_code(listener: &tokio::net::TcpListener, state: &str) -> Result<String, AuthError> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    loop {
        let (mut stream, _) = listener.accept().await.map_err(|e| AuthError::Config(e.to_string()))?;
        let mut buf = vec![0u8; 8192];
        let mut len = 0;
        // The request line is all we need; browsers send it in the first packet.
        while len < buf.len() {
            let n = stream.read(&mut buf[len..]).await.unwrap_or(0);
            len += n;
            if n == 0 || buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let head = String::from_utf8_lossy(&buf[..len]);
        let target = head.lines().next().and_then(|l| l.split_whitespace().nth(1)).unwrap_or("/");
        let query = reqwest::Url::parse(&format!("http://localhost{target}")).ok();
        let get = |name: &str| {
            query.as_ref().and_then(|u| u.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()))
        };
        let (outcome, page) = match (get("code"), get("state"), get("error")) {
            (_, _, Some(error)) => {
                let description = get("error_description").unwrap_or_default();
                (Some(Err(format!("the sign-in failed: {error} {description}"))), "Sign-in failed. See the terminal.")
            }
            (Some(code), Some(s), None) if s == state => (Some(Ok(code)), "Signed in. You can close this tab."),
            (Some(_), _, None) => (None, "This sign-in does not match the one in progress."),
            _ => (None, "Waiting for the sign-in."),
        };
        let html = format!("<!doctype html><title>databricks-mcp</title><p>{page}</p>");
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{html}",
            html.len()
        );
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
        match outcome {
            Some(Ok(code)) => return Ok(code),
            Some(Err(e)) => return Err(AuthError::Config(e)),
            None => continue,
        }
    }
}

fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    if let Err(e) = std::process::Command::new(opener)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        eprintln!("(could not open a browser with {opener}: {e}; open the URL yourself)");
    }
}

fn random_string(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    let mut rng = rand::rng();
    (0..len).map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())])).collect()
}

/// Base64url without padding (RFC 7636 §4.2).
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// `2026-12-04T09:00:00Z` (UTC, whole seconds).
fn format_rfc3339(time: SystemTime) -> String {
    let secs = time.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// RFC 3339 as Go writes it (`2026-12-04T09:00:00.123456+01:00` or `...Z`).
fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let (date, time) = text.split_once('T')?;
    let mut parts = date.splitn(3, '-');
    let (y, m, d): (i64, u32, u32) =
        (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
    let (clock, offset) = match time.find(['Z', 'z', '+', '-']) {
        Some(i) => time.split_at(i),
        None => return None,
    };
    let clock = clock.split('.').next()?;
    let mut hms = clock.splitn(3, ':');
    let (h, mi, s): (i64, i64, i64) = (hms.next()?.parse().ok()?, hms.next()?.parse().ok()?, hms.next()?.parse().ok()?);
    let offset_secs = match offset {
        "Z" | "z" => 0,
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (oh, om) = o[1..].split_once(':')?;
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60)
        }
    };
    let secs = days_from_civil(y, m, d) * 86_400 + h * 3600 + mi * 60 + s - offset_secs;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

// Howard Hinnant's civil-date algorithms.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(base64url(&Sha256::digest(verifier.as_bytes())), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn timestamps_round_trip_and_read_go_offsets() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_374_800);
        let text = format_rfc3339(t);
        assert_eq!(text, "2026-12-04T09:00:00Z");
        assert_eq!(parse_rfc3339(&text), Some(t));
        assert_eq!(parse_rfc3339("2026-12-04T10:00:00.123456789+01:00"), Some(t));
        assert_eq!(parse_rfc3339("not a time"), None);
    }

    #[test]
    fn the_cache_is_private_and_keeps_other_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("token-cache.json");
        let a = TokenStore { path: path.clone(), key: "https://a".into() };
        let b = TokenStore { path: path.clone(), key: "https://b".into() };
        let later = SystemTime::now() + Duration::from_secs(3600);
        a.save(&Secret::new("access-a".into()), &Secret::new("refresh-a".into()), later).unwrap();
        b.save(&Secret::new("access-b".into()), &Secret::new("refresh-b".into()), later).unwrap();
        let file = read_cache(&path).unwrap().unwrap();
        assert_eq!(file.tokens.len(), 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
        }
        let home = dir.path().display().to_string();
        let config = dir.path().join("sub").display().to_string();
        let env = move |k: &str| match k {
            "HOME" => Some(home.clone()),
            "XDG_CONFIG_HOME" => Some(config.clone()),
            _ => None,
        };
        // XDG_CONFIG_HOME/databricks-mcp/token-cache.json is elsewhere: nothing found there.
        assert!(find(&env, &reqwest::Url::parse("https://a/").unwrap(), None).is_none());
    }
}
