//! Where an HTTP request may come from: the `Host` and `Origin` checks in front of `/mcp`,
//! against DNS rebinding and cross-site requests from browsers (403 when they fail).
//!
//! - `Host`: bound to loopback, the loopback names (`localhost`, `127.0.0.1`, `[::1]`) and the
//!   configured `allowed_hosts`; bound elsewhere, the configured `allowed_hosts` and the bound
//!   address, or any host when none is configured (the server then requires a credential
//!   anyway, and says so at start-up).
//! - `Origin` (sent by browsers only; a request without one passes): the configured
//!   `allowed_origins`, the server's own origin (same host and port as `Host`), and, bound to
//!   loopback, loopback origins such as a local MCP inspector. `null` and anything
//!   unparsable are refused.

use std::net::SocketAddr;

use anyhow::bail;
use axum::http::{HeaderMap, Uri, header};

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Forbidden {
    #[error("the Host header `{0}` is not one this server answers to (add it to http.allowed_hosts)")]
    Host(String),
    #[error("the request has no Host header")]
    NoHost,
    #[error("the Origin `{0}` may not call this server (add it to http.allowed_origins)")]
    Origin(String),
}

/// The checks, built once from the bound address and `[http]`.
#[derive(Debug, Clone)]
pub struct Guard {
    loopback: bool,
    /// The bound IP as a Host would name it, unless it is unspecified (`0.0.0.0`).
    bound: Option<String>,
    hosts: Vec<(String, Option<u16>)>,
    origins: Vec<Origin>,
}

/// `scheme://host:port`, port made explicit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

impl Guard {
    pub fn new(bound: SocketAddr, allowed_hosts: &[String], allowed_origins: &[String]) -> anyhow::Result<Self> {
        let mut hosts = Vec::new();
        for entry in allowed_hosts {
            match split_authority(entry) {
                Some(authority) => hosts.push(authority),
                None => bail!("http.allowed_hosts: `{entry}` is not a host name or host:port"),
            }
        }
        let mut origins = Vec::new();
        for entry in allowed_origins {
            match parse_origin(entry) {
                Some(origin) => origins.push(origin),
                None => bail!("http.allowed_origins: `{entry}` is not an origin like https://app.example.com"),
            }
        }
        let ip = bound.ip();
        let bound_name = match ip {
            _ if ip.is_unspecified() => None,
            std::net::IpAddr::V4(v4) => Some(v4.to_string()),
            std::net::IpAddr::V6(v6) => Some(format!("[{v6}]")),
        };
        Ok(Self { loopback: ip.is_loopback(), bound: bound_name, hosts, origins })
    }

    /// Whether any Host passes: bound off loopback with no `allowed_hosts`.
    pub fn any_host(&self) -> bool {
        !self.loopback && self.hosts.is_empty()
    }

    /// Check a request's `Host` (or, over HTTP/2, its URI authority) and `Origin`.
    pub fn check(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), Forbidden> {
        let host_text = match headers.get(header::HOST) {
            Some(value) => value.to_str().map_err(|_| Forbidden::Host("(not text)".into()))?.to_string(),
            None => uri.authority().map(|a| a.to_string()).ok_or(Forbidden::NoHost)?,
        };
        let host = split_authority(&host_text).ok_or_else(|| Forbidden::Host(host_text.clone()))?;
        if !self.host_allowed(&host) {
            return Err(Forbidden::Host(host_text));
        }
        let Some(origin) = headers.get(header::ORIGIN) else { return Ok(()) };
        let origin_text = origin.to_str().map_err(|_| Forbidden::Origin("(not text)".into()))?;
        let parsed = parse_origin(origin_text).ok_or_else(|| Forbidden::Origin(origin_text.to_string()))?;
        if self.origin_allowed(&parsed, &host) { Ok(()) } else { Err(Forbidden::Origin(origin_text.to_string())) }
    }

    fn host_allowed(&self, (name, port): &(String, Option<u16>)) -> bool {
        if self.any_host() {
            return true;
        }
        if self.loopback && LOOPBACK_NAMES.contains(&name.as_str()) {
            return true;
        }
        if self.bound.as_deref() == Some(name.as_str()) {
            return true;
        }
        self.hosts.iter().any(|(h, p)| h == name && (p.is_none() || p == port))
    }

    fn origin_allowed(&self, origin: &Origin, host: &(String, Option<u16>)) -> bool {
        if self.origins.contains(origin) {
            return true;
        }
        // The server's own pages: same host and port as the request went to.
        if origin.host == host.0 && Some(origin.port) == host.1.or(default_port(&origin.scheme)) {
            return true;
        }
        self.loopback && LOOPBACK_NAMES.contains(&origin.host.as_str())
    }
}

/// `host[:port]`, lower case, IPv6 in brackets; `None` if it is not that shape.
fn split_authority(text: &str) -> Option<(String, Option<u16>)> {
    let text = text.trim().to_ascii_lowercase();
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            after => Some(after.strip_prefix(':')?.parse().ok()?),
        };
        (format!("[{inside}]"), port)
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host.to_string(), Some(port.parse().ok()?)),
            None => (text.clone(), None),
        }
    };
    let valid = !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'[' | b']' | b':'));
    valid.then_some((host, port))
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// An `Origin` header value, `scheme://host[:port]` with nothing after.
fn parse_origin(text: &str) -> Option<Origin> {
    let (scheme, authority) = text.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = authority.strip_suffix('/').unwrap_or(authority);
    if authority.contains('/') || authority.contains('@') {
        return None;
    }
    let (host, port) = split_authority(authority)?;
    let port = port.or(default_port(&scheme))?;
    Some(Origin { scheme, host, port })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn request(host: &str, origin: Option<&str>) -> (Uri, HeaderMap) {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        (Uri::from_static("/mcp"), headers)
    }

    fn check(guard: &Guard, host: &str, origin: Option<&str>) -> Result<(), Forbidden> {
        let (uri, headers) = request(host, origin);
        guard.check(&uri, &headers)
    }

    #[test]
    fn on_loopback_only_loopback_hosts_and_origins_pass() {
        let guard = Guard::new("127.0.0.1:8080".parse().unwrap(), &[], &[]).unwrap();
        for (host, origin, ok) in [
            ("127.0.0.1:8080", None, true),
            ("localhost:8080", Some("http://localhost:6274"), true),
            ("[::1]:8080", Some("http://127.0.0.1:8080"), true),
            ("LOCALHOST", None, true),
            // DNS rebinding: the attacker's name resolves to 127.0.0.1.
            ("evil.example:8080", Some("http://evil.example:8080"), false),
            ("evil.example:8080", None, false),
            ("127.0.0.1:8080", Some("https://evil.example"), false),
            ("127.0.0.1:8080", Some("null"), false),
            ("127.0.0.1:8080", Some("http://localhost:8080/path"), false),
            ("127.0.0.1:x", None, false),
        ] {
            assert_eq!(check(&guard, host, origin).is_ok(), ok, "{host} {origin:?}");
        }
        assert!(
            matches!(check(&guard, "127.0.0.1", Some("https://evil.example")), Err(Forbidden::Origin(o)) if o == "https://evil.example")
        );
    }

    #[test]
    fn off_loopback_the_configured_hosts_and_origins_pass() {
        let guard = Guard::new(
            "0.0.0.0:8000".parse().unwrap(),
            &["mcp.example.com".into(), "other.example:8443".into()],
            &["https://chat.example.com".into()],
        )
        .unwrap();
        assert!(!guard.any_host());
        for (host, origin, ok) in [
            ("mcp.example.com", None, true),
            ("MCP.example.com:8000", None, true),
            ("other.example:8443", None, true),
            ("other.example:9000", None, false),
            ("localhost:8000", None, false),
            ("mcp.example.com", Some("https://chat.example.com"), true),
            ("mcp.example.com", Some("https://chat.example.com:443"), true),
            ("mcp.example.com", Some("http://chat.example.com"), false),
            // Its own origin: same host, same port.
            ("mcp.example.com:8000", Some("http://mcp.example.com:8000"), true),
            ("mcp.example.com", Some("https://mcp.example.com"), true),
            ("mcp.example.com", Some("https://mcp.example.com:8443"), false),
            ("mcp.example.com", Some("http://localhost:3000"), false),
        ] {
            assert_eq!(check(&guard, host, origin).is_ok(), ok, "{host} {origin:?}");
        }
    }

    #[test]
    fn off_loopback_without_allowed_hosts_any_host_passes_but_origins_are_still_checked() {
        let guard = Guard::new("0.0.0.0:8000".parse().unwrap(), &[], &[]).unwrap();
        assert!(guard.any_host());
        assert!(check(&guard, "app.example.com", None).is_ok());
        assert!(check(&guard, "app.example.com", Some("https://evil.example")).is_err());
        let bound = Guard::new("10.1.2.3:8000".parse().unwrap(), &["mcp.example.com".into()], &[]).unwrap();
        assert!(check(&bound, "10.1.2.3:8000", None).is_ok(), "the bound address itself");
    }

    #[test]
    fn bad_configuration_names_the_entry() {
        let bind: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let e = Guard::new(bind, &["https://x.example/".into()], &[]).unwrap_err().to_string();
        assert!(e.contains("allowed_hosts") && e.contains("https://x.example/"), "{e}");
        let e = Guard::new(bind, &[], &["x.example".into()]).unwrap_err().to_string();
        assert!(e.contains("allowed_origins") && e.contains("x.example"), "{e}");
    }
}
