//! The load-time checks of the host, run on a pack's manifest without a host.

use serde_json::Value;

use crate::plugin::Plugin;

/// Problems the host would refuse plugin `P` for at load, found without a host: invalid plugin
/// or tool names, duplicate tools, tools without a description, schemas that are not objects,
/// malformed grants. Empty when the manifest is fine; assert on it in a test.
pub fn manifest_problems<P: Plugin>() -> Vec<String> {
    let mut problems = Vec::new();
    let name_ok = !P::NAME.is_empty()
        && P::NAME.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !P::NAME.starts_with('-')
        && !P::NAME.ends_with('-');
    if !name_ok {
        problems.push(format!("plugin name `{}`: use lower-case letters, digits and single '-'", P::NAME));
    }
    let mut seen = std::collections::BTreeSet::new();
    for tool in P::TOOLS {
        let valid = (1..=64).contains(&tool.name.len())
            && tool.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            problems.push(format!("tool name `{}`: use 1-64 characters of a-z, A-Z, 0-9, '_' and '-'", tool.name));
        }
        if !seen.insert(tool.name) {
            problems.push(format!("tool `{}` is declared twice", tool.name));
        }
        if tool.description.trim().is_empty() {
            problems.push(format!("tool `{}` has no description", tool.name));
        }
        let schemas = [("input", Some((tool.input_schema)())), ("output", (tool.output_schema)())];
        for (which, schema) in schemas {
            if let Some(schema) = schema
                && schema.get("type").and_then(Value::as_str) != Some("object")
            {
                problems.push(format!("tool `{}`: the {which} schema must be of `\"type\": \"object\"`", tool.name));
            }
        }
    }
    for grant in P::GRANTS {
        let (method, path) = grant.split_once(' ').unwrap_or(("", grant));
        let method_ok = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"].contains(&method.trim());
        let segments: Vec<&str> = path.trim().strip_prefix('/').map(|p| p.split('/').collect()).unwrap_or_default();
        let path_ok = !segments.is_empty()
            && !segments[0].contains('*')
            && segments.iter().enumerate().all(|(i, s)| match *s {
                "" | "." | ".." => false,
                "*" => true,
                "**" => i + 1 == segments.len(),
                s => !s.contains(['*', '?', '#', '%']),
            });
        if !method_ok || !path_ok {
            problems.push(format!(
                "grant `{grant}`: write `METHOD /literal/path`, with `*` for one segment or a final `**`"
            ));
        }
    }
    problems
}
