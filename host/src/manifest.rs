//! What a plugin is, in the host's own vocabulary: its manifest, tools and grants, and the
//! rules they must follow. Nothing here knows about wasmtime; `bindings` converts the
//! generated types into these.

use std::fmt;

use serde_json::Value;

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
}

impl Manifest {
    /// Check everything the host relies on; the first problem is reported.
    pub fn validate(&self) -> Result<(), ManifestError> {
        if !valid_name(&self.name, |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(ManifestError::BadPluginName(self.name.clone()));
        }
        check_contract(&self.contract_version)?;
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

/// Parse a tool schema from the manifest: it must be a JSON object.
pub fn parse_schema(
    tool: &str,
    which: &'static str,
    text: &str,
) -> Result<serde_json::Map<String, Value>, ManifestError> {
    let bad = |reason: String| ManifestError::BadSchema { tool: tool.to_string(), which, reason };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => {
            if which == "input" && map.get("type").and_then(Value::as_str) != Some("object") {
                return Err(bad("MCP requires `\"type\": \"object\"` for tool arguments".into()));
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

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} /{}", self.method, self.segments.join("/"))
    }
}

/// Check a plugin-supplied path and return it ready to send: absolute, no scheme or host, no
/// query or fragment, no empty, `.` or `..` segments, and no percent-encoded separators that a
/// server might decode into them.
pub fn normalize_path(path: &str) -> Result<&str, String> {
    if !path.starts_with('/') || path.starts_with("//") {
        return Err(format!(
            "path `{path}` must start with a single '/': plugins name a path on the workspace, never a host"
        ));
    }
    if path.contains(['?', '#', '\\']) || path.chars().any(|c| c.is_control() || c == ' ') {
        return Err(format!(
            "path `{path}` may not contain a query, fragment, backslash, space or control character; pass query parameters separately"
        ));
    }
    let lower = path.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") || lower.contains("%2e") || lower.contains("%00") {
        return Err(format!("path `{path}` contains an encoded separator or dot"));
    }
    if path[1..].split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return Err(format!("path `{path}` contains an empty, '.' or '..' segment"));
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
    }

    #[test]
    fn contract_versions() {
        assert!(check_contract("0.1.0").is_ok());
        assert!(check_contract("0.1.7").is_ok());
        let err = check_contract("0.9.0").unwrap_err().to_string();
        assert!(err.contains("0.9.0") && err.contains("0.1.x"), "{err}");
    }
}
