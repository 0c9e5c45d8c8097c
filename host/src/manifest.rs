//! What a plugin is, in the host's own vocabulary: its manifest, tools and grants, and the
//! rules they must follow. Nothing here knows about wasmtime; `bindings` converts the
//! generated types into these.

use std::fmt;

use serde_json::Value;

/// Most tools, grants and schema bytes a manifest may declare: a plugin cannot make the host
/// spend unbounded memory or start-up time on its description.
pub const MAX_TOOLS: usize = 256;
pub const MAX_GRANTS: usize = 256;
pub const MAX_SCHEMA_BYTES: usize = 256 * 1024;

/// Parts of the workspace API no plugin may touch, whatever it declares and whatever the
/// operator grants: minting or listing credentials and reading secret values. A tool's output
/// goes to a language model, and credentials must never appear there.
const HARD_DENIES: &[(Option<Method>, &str, &str)] = &[
    (None, "/api/2.0/token/**", "personal access tokens"),
    (None, "/api/2.0/token-management/**", "token management"),
    (Some(Method::Get), "/api/2.0/secrets/get", "secret values"),
    (None, "/oidc/**", "OAuth token endpoints"),
    (None, "/api/2.0/accounts/**", "account administration"),
];

/// Contract (WIT package) versions this host runs, as `major.minor`. Within 0.x a minor bump is
/// breaking, so 0.1.* plugins run here and 0.2.* do not.
pub const SUPPORTED_CONTRACTS: &[&str] = &["0.1"];

/// A plugin's description of itself.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub description: String,
    pub contract_version: String,
    pub sdk: String,
    pub tools: Vec<ToolSpec>,
    pub grants: Vec<Grant>,
}

/// One tool.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    pub input_schema: serde_json::Map<String, Value>,
    pub output_schema: Option<serde_json::Map<String, Value>>,
    pub annotations: Annotations,
}

/// MCP tool annotations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Annotations {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

/// Why a manifest was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("plugin name `{0}` is invalid: use 1-64 characters of a-z, 0-9 and '-'")]
    BadPluginName(String),
    #[error(
        "built for contract {found}, but this host runs contract {supported}; rebuild the plugin with a matching databricks-mcp-sdk"
    )]
    UnsupportedContract { found: String, supported: String },
    #[error("tool name `{0}` is invalid: use 1-64 characters of a-z, A-Z, 0-9, '_' and '-'")]
    BadToolName(String),
    #[error("tool `{0}` is declared twice")]
    DuplicateTool(String),
    #[error("tool `{0}` has no description")]
    NoDescription(String),
    #[error("the {which} schema of tool `{tool}` is not a JSON Schema object: {reason}")]
    BadSchema { tool: String, which: &'static str, reason: String },
    #[error("grant `{0}` is invalid: {1}")]
    BadGrant(String, String),
    #[error("grant `{grant}` reaches {what}, which no plugin may use")]
    DeniedGrant { grant: String, what: &'static str },
    #[error("the manifest declares too many {what} ({count}, at most {max})")]
    TooMany { what: &'static str, count: usize, max: usize },
}

impl Manifest {
    /// Check everything the host relies on; the first problem is reported.
    pub fn validate(&self) -> Result<(), ManifestError> {
        if !valid_name(&self.name, |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(ManifestError::BadPluginName(self.name.clone()));
        }
        check_contract(&self.contract_version)?;
        if self.tools.len() > MAX_TOOLS {
            return Err(ManifestError::TooMany { what: "tools", count: self.tools.len(), max: MAX_TOOLS });
        }
        if self.grants.len() > MAX_GRANTS {
            return Err(ManifestError::TooMany { what: "grants", count: self.grants.len(), max: MAX_GRANTS });
        }
        for grant in &self.grants {
            if let Some(what) = grant.reaches_denied() {
                return Err(ManifestError::DeniedGrant { grant: grant.to_string(), what });
            }
        }
        let mut seen = std::collections::HashSet::new();
        for tool in &self.tools {
            if !valid_name(&tool.name, |c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                return Err(ManifestError::BadToolName(tool.name.clone()));
            }
            if !seen.insert(tool.name.as_str()) {
                return Err(ManifestError::DuplicateTool(tool.name.clone()));
            }
            if tool.description.trim().is_empty() {
                return Err(ManifestError::NoDescription(tool.name.clone()));
            }
        }
        Ok(())
    }
}

fn valid_name(name: &str, allowed: impl Fn(char) -> bool) -> bool {
    (1..=64).contains(&name.len()) && name.chars().all(allowed)
}

/// Refuse a contract version this host cannot run, naming both versions.
pub fn check_contract(version: &str) -> Result<(), ManifestError> {
    let major_minor: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
    if SUPPORTED_CONTRACTS.contains(&major_minor.as_str()) {
        Ok(())
    } else {
        Err(ManifestError::UnsupportedContract {
            found: version.to_string(),
            supported: SUPPORTED_CONTRACTS.iter().map(|v| format!("{v}.x")).collect::<Vec<_>>().join(", "),
        })
    }
}

/// Parse a tool schema from the manifest: a JSON Schema of an object, as MCP requires for both
/// arguments and structured output (clients reject a whole tool list over one that is not).
pub fn parse_schema(
    tool: &str,
    which: &'static str,
    text: &str,
) -> Result<serde_json::Map<String, Value>, ManifestError> {
    let bad = |reason: String| ManifestError::BadSchema { tool: tool.to_string(), which, reason };
    if text.len() > MAX_SCHEMA_BYTES {
        return Err(bad(format!("{} bytes, more than {MAX_SCHEMA_BYTES}", text.len())));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => {
            if map.get("type").and_then(Value::as_str) != Some("object") {
                return Err(bad("MCP requires `\"type\": \"object\"`".into()));
            }
            Ok(map)
        }
        Ok(_) => Err(bad("not an object".into())),
        Err(e) => Err(bad(e.to_string())),
    }
}

/// HTTP methods of the workspace API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }

    /// Whether sending the request twice has the effect of sending it once.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Self::Post | Self::Patch)
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_uppercase().as_str() {
            "GET" => Self::Get,
            "HEAD" => Self::Head,
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "PATCH" => Self::Patch,
            "DELETE" => Self::Delete,
            _ => return None,
        })
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A permission to call part of the workspace API: a method and a path pattern, where `*`
/// matches exactly one path segment and a final `**` matches one or more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub method: Method,
    segments: Vec<String>,
}

impl Grant {
    /// Parse a grant from its manifest parts.
    pub fn parse(method: &str, path: &str) -> Result<Self, ManifestError> {
        let whole = format!("{method} {path}");
        let method = Method::parse(method)
            .ok_or_else(|| ManifestError::BadGrant(whole.clone(), "unknown HTTP method".into()))?;
        if !path.starts_with('/') {
            return Err(ManifestError::BadGrant(whole, "the path must start with '/'".into()));
        }
        let segments: Vec<String> = path[1..].split('/').map(str::to_string).collect();
        for (i, segment) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            let ok = match segment.as_str() {
                "" | "." | ".." => false,
                "*" => true,
                "**" => last,
                s => !s.contains('*') && !s.contains('?') && !s.contains('#') && !s.contains('%'),
            };
            if !ok {
                return Err(ManifestError::BadGrant(
                    whole,
                    format!("segment `{segment}`: use literal segments, `*` for one segment, or a final `**`"),
                ));
            }
        }
        // The workspace API lives under /api (and a few roots the SDKs use); a plugin may not ask
        // for the whole workspace.
        if segments.first().is_none_or(|s| s.starts_with('*')) {
            return Err(ManifestError::BadGrant(whole, "the first segment must be literal, e.g. /api".into()));
        }
        Ok(Self { method, segments })
    }

    /// The denied area this grant could reach, if any: some path matches both the grant and a
    /// denied pattern. Checked at load; [`denied`] checks every request again.
    pub fn reaches_denied(&self) -> Option<&'static str> {
        let segments: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        HARD_DENIES.iter().find_map(|(method, pattern, what)| {
            let same_method = method.is_none_or(|m| m == self.method);
            (same_method && overlap(&segments, &split(pattern))).then_some(*what)
        })
    }

    /// Whether this grant allows `method path`. `path` must already be a normalised workspace
    /// path (see [`normalize_path`]).
    pub fn allows(&self, method: Method, path: &str) -> bool {
        if method != self.method {
            return false;
        }
        let Some(rest) = path.strip_prefix('/') else { return false };
        let parts: Vec<&str> = rest.split('/').collect();
        let mut i = 0;
        for segment in &self.segments {
            match segment.as_str() {
                "**" => return parts.len() > i,
                "*" => {
                    if parts.get(i).is_none_or(|p| p.is_empty()) {
                        return false;
                    }
                }
                literal => {
                    if parts.get(i) != Some(&literal) {
                        return false;
                    }
                }
            }
            i += 1;
        }
        i == parts.len()
    }
}

impl Grant {
    /// The grant that allows exactly what both `self` and `other` allow, if anything: how an
    /// operator narrows what a plugin declared without ever widening it.
    pub fn intersect(&self, other: &Grant) -> Option<Grant> {
        if self.method != other.method {
            return None;
        }
        let a: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        let b: Vec<&str> = other.segments.iter().map(String::as_str).collect();
        meet(&a, &b).map(|segments| Grant { method: self.method, segments })
    }
}

/// The segment pattern matching exactly the paths both patterns match (`**` only comes last, so
/// meeting it leaves the other side's remaining segments, if there is at least one).
fn meet(a: &[&str], b: &[&str]) -> Option<Vec<String>> {
    match (a.split_first(), b.split_first()) {
        (None, None) => Some(Vec::new()),
        (Some((&"**", _)), _) => (!b.is_empty()).then(|| b.iter().map(|s| s.to_string()).collect()),
        (_, Some((&"**", _))) => (!a.is_empty()).then(|| a.iter().map(|s| s.to_string()).collect()),
        (Some((x, a_rest)), Some((y, b_rest))) => {
            let segment = if x == y || *y == "*" {
                x
            } else if *x == "*" {
                y
            } else {
                return None;
            };
            let mut rest = meet(a_rest, b_rest)?;
            rest.insert(0, segment.to_string());
            Some(rest)
        }
        _ => None,
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} /{}", self.method, self.segments.join("/"))
    }
}

/// The denied area `method path` is in, if any.
pub fn denied(method: Method, path: &str) -> Option<&'static str> {
    let segments = split(path);
    HARD_DENIES.iter().find_map(|(m, pattern, what)| {
        (m.is_none_or(|m| m == method) && overlap(&segments, &split(pattern))).then_some(*what)
    })
}

fn split(path: &str) -> Vec<&str> {
    path.trim_start_matches('/').split('/').collect()
}

/// Whether some path matches both segment patterns (`*` one segment, final `**` one or more;
/// a concrete path is a pattern of literals).
fn overlap(a: &[&str], b: &[&str]) -> bool {
    match (a.split_first(), b.split_first()) {
        (Some((&"**", _)), _) => !b.is_empty(),
        (_, Some((&"**", _))) => !a.is_empty(),
        (None, None) => true,
        (Some((x, a_rest)), Some((y, b_rest))) => (x == y || *x == "*" || *y == "*") && overlap(a_rest, b_rest),
        _ => false,
    }
}

/// Check a plugin-supplied path and return it ready to send: absolute, no scheme or host, only
/// unreserved characters, a few sub-delimiters and `%XX` escapes; no `;` (matrix parameters,
/// which some servers read as `..;`), no empty, `.` or `..` segments, and no escapes a server
/// might decode into a separator, a dot, a NUL, a `;` or another escape.
pub fn normalize_path(path: &str) -> Result<&str, String> {
    let shown: String = path.chars().take(200).flat_map(char::escape_debug).collect();
    if !path.starts_with('/') || path.starts_with("//") {
        return Err(format!(
            "path `{shown}` must start with a single '/': plugins name a path on the workspace, never a host"
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "/-._~:@!$&'()*+,=%".contains(c);
    if let Some(c) = path.chars().find(|&c| !allowed(c)) {
        return Err(format!(
            "path `{shown}` contains {c:?}; percent-encode it (a query, fragment or `;` is not part of a path: pass query parameters separately)"
        ));
    }
    let bytes = path.as_bytes();
    for (i, _) in path.match_indices('%') {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b'/' | b'\\' | b'.' | 0 | b';' | b'%') => {
                return Err(format!("path `{shown}` contains an encoded separator, dot, NUL, ';' or '%'"));
            }
            Some(_) => {}
            None => return Err(format!("path `{shown}` has a '%' that does not start a %XX escape")),
        }
    }
    if path[1..].split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return Err(format!("path `{shown}` contains an empty, '.' or '..' segment"));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(s: &str) -> Grant {
        let (m, p) = s.split_once(' ').unwrap();
        Grant::parse(m, p).unwrap()
    }

    #[test]
    fn grants_match_like_a_table_says() {
        let cases = [
            ("GET /api/2.1/clusters/get", "GET", "/api/2.1/clusters/get", true),
            ("GET /api/2.1/clusters/get", "POST", "/api/2.1/clusters/get", false),
            ("GET /api/2.1/clusters/get", "GET", "/api/2.1/clusters/get/x", false),
            ("GET /api/2.1/clusters/*", "GET", "/api/2.1/clusters/list", true),
            ("GET /api/2.1/clusters/*", "GET", "/api/2.1/clusters", false),
            ("GET /api/2.1/clusters/*", "GET", "/api/2.1/clusters/a/b", false),
            ("GET /api/2.0/workspace/**", "GET", "/api/2.0/workspace/a/b/c", true),
            ("GET /api/2.0/workspace/**", "GET", "/api/2.0/workspace", false),
            ("GET /api/*/jobs/list", "GET", "/api/2.2/jobs/list", true),
            ("GET /api/2.1/clusters/get", "GET", "/api/2.1/jobs/get", false),
        ];
        for (g, method, path, expected) in cases {
            assert_eq!(grant(g).allows(Method::parse(method).unwrap(), path), expected, "{g} vs {method} {path}");
        }
    }

    #[test]
    fn intersections_allow_what_both_allow() {
        let cases = [
            ("GET /api/2.1/clusters/*", "GET /api/2.1/clusters/list", Some("GET /api/2.1/clusters/list")),
            ("GET /api/2.1/clusters/list", "GET /api/2.1/clusters/*", Some("GET /api/2.1/clusters/list")),
            ("GET /api/2.1/clusters/list", "POST /api/2.1/clusters/list", None),
            ("GET /api/2.1/clusters/list", "GET /api/2.1/jobs/list", None),
            ("GET /api/**", "GET /api/2.0/workspace/*", Some("GET /api/2.0/workspace/*")),
            ("GET /api/2.0/workspace/**", "GET /api/**", Some("GET /api/2.0/workspace/**")),
            ("GET /api/**", "GET /api", None),
            ("GET /api/*/x", "GET /api/2.0/*", Some("GET /api/2.0/x")),
            ("GET /api/*/x", "GET /api/2.0/x/y", None),
        ];
        for (a, b, expected) in cases {
            let got = grant(a).intersect(&grant(b)).map(|g| g.to_string());
            assert_eq!(got.as_deref(), expected, "{a} ∩ {b}");
        }
        // The defining property, on sample paths: allowed by the intersection iff by both.
        let paths =
            ["/api/2.0/x", "/api/2.0/x/y", "/api/2.1/x", "/api/2.0/workspace/a", "/api/2.0/workspace/a/b", "/api"];
        let patterns = ["GET /api/**", "GET /api/2.0/*", "GET /api/*/x", "GET /api/2.0/workspace/**", "GET /api/*/*/*"];
        for a in patterns {
            for b in patterns {
                let (ga, gb) = (grant(a), grant(b));
                let both = ga.intersect(&gb);
                for p in paths {
                    let expected = ga.allows(Method::Get, p) && gb.allows(Method::Get, p);
                    assert_eq!(both.as_ref().is_some_and(|g| g.allows(Method::Get, p)), expected, "{a} ∩ {b} on {p}");
                }
            }
        }
    }

    #[test]
    fn refuses_malformed_grants() {
        for (m, p) in [
            ("FETCH", "/api"),
            ("GET", "api/x"),
            ("GET", "/**"),
            ("GET", "/*/x"),
            ("GET", "/api/**/x"),
            ("GET", "/api/../x"),
            ("GET", "/api/clu*"),
        ] {
            assert!(Grant::parse(m, p).is_err(), "{m} {p} should be refused");
        }
    }

    #[test]
    fn refuses_paths_that_could_leave_the_workspace_api() {
        for p in [
            "/api/2.0/workspace/..;/..;/2.0/token/list",
            "/api/2.0/x;jsessionid=1",
            "/api/%252e%252e/x",
            "/api/%3b/x",
            "/api/caf\u{e9}",
            "/api/x%",
            "/api/x%zz",
            "/api/x\nHost: evil",
            "https://evil.example/api",
            "//evil.example/api",
            "api/2.1",
            "/api/../admin",
            "/api/./x",
            "/api//x",
            "/api/x?y=1",
            "/api/%2e%2e/x",
            "/api/a%2Fb",
            "/api/x#f",
        ] {
            assert!(normalize_path(p).is_err(), "{p} should be refused");
        }
        assert_eq!(normalize_path("/api/2.1/clusters/get"), Ok("/api/2.1/clusters/get"));
        assert_eq!(
            normalize_path("/api/2.0/fs/files/Volumes/a/b/my%20file.csv"),
            Ok("/api/2.0/fs/files/Volumes/a/b/my%20file.csv")
        );
        assert_eq!(
            normalize_path("/api/2.1/unity-catalog/tables/main.default.t"),
            Ok("/api/2.1/unity-catalog/tables/main.default.t")
        );
    }

    #[test]
    fn no_grant_reaches_credentials_or_secret_values() {
        for (m, p) in [
            ("POST", "/api/2.0/token/create"),
            ("GET", "/api/2.0/token/*"),
            ("GET", "/api/2.0/**"),
            ("GET", "/api/*/secrets/get"),
            ("POST", "/oidc/v1/token"),
            ("GET", "/api/2.0/token-management/tokens"),
        ] {
            assert!(grant(&format!("{m} {p}")).reaches_denied().is_some(), "{m} {p} must be denied");
        }
        for (m, p) in
            [("POST", "/api/2.0/secrets/put"), ("GET", "/api/2.0/secrets/list"), ("GET", "/api/2.1/clusters/*")]
        {
            assert_eq!(grant(&format!("{m} {p}")).reaches_denied(), None, "{m} {p} is fine");
        }
        assert!(denied(Method::Post, "/api/2.0/token/create").is_some());
        assert!(denied(Method::Get, "/api/2.0/secrets/get").is_some());
        assert!(denied(Method::Get, "/api/2.0/secrets/list").is_none());
    }

    #[test]
    fn contract_versions() {
        assert!(check_contract("0.1.0").is_ok());
        assert!(check_contract("0.1.7").is_ok());
        let err = check_contract("0.9.0").unwrap_err().to_string();
        assert!(err.contains("0.9.0") && err.contains("0.1.x"), "{err}");
    }
}
