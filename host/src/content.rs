//! What a plugin contributes besides tools, in the host's own vocabulary: resource templates,
//! prompts, and the results of reading, rendering and completing them. Nothing here knows about
//! wasmtime (`bindings` converts the generated types) or about MCP (`mcp_content` does).
//!
//! URIs: every plugin gets a root, `databricks://<plugin name>/`, and speaks only the part below
//! it. The host adds the root to what a plugin lists or links and strips it from what a client
//! asks for, so a plugin can neither name nor read another plugin's resources, and the authority
//! of a URI is enough to route a read.

/// The scheme of every resource URI the host serves.
pub const SCHEME: &str = "databricks";

/// Most templates and prompts one plugin may declare, and the longest template or URI.
pub const MAX_TEMPLATES: usize = 64;
pub const MAX_PROMPTS: usize = 64;
pub const MAX_URI: usize = 4096;
/// Most completion values passed to the client (MCP's own cap).
pub const MAX_COMPLETIONS: usize = 100;

/// A plugin's contribution, read at load time like the manifest.
#[derive(Debug, Clone, Default)]
pub struct ContentManifest {
    pub templates: Vec<ResourceTemplate>,
    /// The plugin can list concrete resources.
    pub lists_resources: bool,
    pub prompts: Vec<PromptSpec>,
}

/// A family of resources, named by an RFC 6570 template below the plugin's root.
#[derive(Debug, Clone)]
pub struct ResourceTemplate {
    pub uri_template: String,
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    pub mime_type: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PromptSpec {
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    pub arguments: Vec<PromptArgument>,
}

#[derive(Debug, Clone)]
pub struct PromptArgument {
    pub name: String,
    pub description: Option<String>,
    pub required: bool,
}

/// One concrete resource. `uri` is below the plugin's root when it comes from the plugin and
/// absolute once the host has placed it ([`Resource::placed`]).
#[derive(Debug, Clone)]
pub struct Resource {
    pub uri: String,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub mime_type: Option<String>,
    pub size: Option<u64>,
}

impl Resource {
    /// The resource with its URI under `plugin`'s root.
    pub fn placed(mut self, plugin: &str) -> Self {
        self.uri = absolute(plugin, &self.uri);
        self
    }
}

#[derive(Debug, Clone)]
pub enum Body {
    Text(String),
    Blob(Vec<u8>),
}

impl Body {
    /// Bytes of content.
    pub fn len(&self) -> usize {
        match self {
            Self::Text(t) => t.len(),
            Self::Blob(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What reading a resource gives.
#[derive(Debug, Clone)]
pub struct Contents {
    pub uri: String,
    pub mime_type: Option<String>,
    pub body: Body,
}

/// One page of concrete resources.
#[derive(Debug, Clone, Default)]
pub struct ResourcePage {
    pub resources: Vec<Resource>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone)]
pub enum PromptContent {
    Text(String),
    Embedded(Contents),
    Link(Resource),
}

#[derive(Debug, Clone)]
pub struct PromptMessage {
    /// From the assistant, else from the user.
    pub assistant: bool,
    pub content: PromptContent,
}

#[derive(Debug, Clone)]
pub struct RenderedPrompt {
    pub description: Option<String>,
    pub messages: Vec<PromptMessage>,
}

/// What a completion is for, below the plugin's root: a prompt name or a template.
#[derive(Debug, Clone)]
pub enum CompletionTarget {
    Prompt(String),
    Template(String),
}

#[derive(Debug, Clone)]
pub struct Completion {
    pub values: Vec<String>,
    pub total: Option<u32>,
    pub has_more: bool,
}

/// `uri` (below `plugin`'s root) as clients see it.
pub fn absolute(plugin: &str, uri: &str) -> String {
    format!("{SCHEME}://{plugin}/{}", uri.trim_start_matches('/'))
}

/// Split a client's URI into the plugin it belongs to and the part below that plugin's root.
pub fn split(uri: &str) -> Result<(&str, &str), String> {
    let shown: String = uri.chars().take(200).collect();
    let rest = uri
        .strip_prefix(SCHEME)
        .and_then(|r| r.strip_prefix("://"))
        .ok_or_else(|| format!("`{shown}` is not a {SCHEME}:// URI; resources/list and resources/templates/list give the URIs this server reads"))?;
    let (plugin, below) = rest.split_once('/').unwrap_or((rest, ""));
    if plugin.is_empty() {
        return Err(format!("`{shown}` names no plugin: {SCHEME}://<plugin>/<path>"));
    }
    Ok((plugin, below))
}

impl ContentManifest {
    /// Check what the host relies on: names, template syntax, counts.
    pub fn validate(&self) -> Result<(), String> {
        if self.templates.len() > MAX_TEMPLATES {
            return Err(format!("too many resource templates ({}, at most {MAX_TEMPLATES})", self.templates.len()));
        }
        if self.prompts.len() > MAX_PROMPTS {
            return Err(format!("too many prompts ({}, at most {MAX_PROMPTS})", self.prompts.len()));
        }
        for template in &self.templates {
            parse_template(&template.uri_template)
                .map_err(|e| format!("resource template `{}`: {e}", template.uri_template))?;
            if template.description.trim().is_empty() {
                return Err(format!("resource template `{}` has no description", template.uri_template));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for prompt in &self.prompts {
            let ok = (1..=64).contains(&prompt.name.len())
                && prompt.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !ok {
                return Err(format!(
                    "prompt name `{}` is invalid: use 1-64 characters of a-z, A-Z, 0-9, '_' and '-'",
                    prompt.name
                ));
            }
            if !seen.insert(prompt.name.as_str()) {
                return Err(format!("prompt `{}` is declared twice", prompt.name));
            }
            if prompt.description.trim().is_empty() {
                return Err(format!("prompt `{}` has no description", prompt.name));
            }
        }
        Ok(())
    }

    /// The template `uri` (below the root) is an instance of, if any.
    pub fn template_for(&self, uri: &str) -> Option<&ResourceTemplate> {
        self.templates.iter().find(|t| template_matches(&t.uri_template, uri))
    }
}

/// A piece of a template: literal text, or an expression (`{var}` one segment, `{+var}` any).
#[derive(Debug, PartialEq, Eq)]
enum Part<'a> {
    Literal(&'a str),
    Var { name: &'a str, reserved: bool },
}

/// Parse the subset of RFC 6570 the contract allows: literals, `{var}` and `{+var}`, with a
/// literal between two expressions (otherwise a URI could not be split back into values).
fn parse_template(template: &str) -> Result<Vec<Part<'_>>, String> {
    if template.is_empty() || template.len() > MAX_URI {
        return Err("a template is 1 to 4096 characters".into());
    }
    if template.contains("://") || template.starts_with('/') {
        return Err(
            "write the template below the plugin's root (`notebook/{+path}`), without a scheme or leading '/'".into()
        );
    }
    let mut parts = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        match rest.find('{') {
            Some(0) => {
                let end = rest.find('}').ok_or("an expression is not closed with '}'")?;
                let inner = &rest[1..end];
                let (name, reserved) = match inner.strip_prefix('+') {
                    Some(name) => (name, true),
                    None => (inner, false),
                };
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(format!(
                        "expression `{{{inner}}}` is not supported: use `{{name}}` or `{{+name}}` with a-z, 0-9 and '_'"
                    ));
                }
                if matches!(parts.last(), Some(Part::Var { .. })) {
                    return Err("two expressions need literal text between them".into());
                }
                parts.push(Part::Var { name, reserved });
                rest = &rest[end + 1..];
            }
            found => {
                let end = found.unwrap_or(rest.len());
                let literal = &rest[..end];
                if literal.contains('}') {
                    return Err("a '}' outside an expression".into());
                }
                parts.push(Part::Literal(literal));
                rest = &rest[end..];
            }
        }
    }
    Ok(parts)
}

/// Whether `uri` (below the root) is an instance of `template`.
pub fn template_matches(template: &str, uri: &str) -> bool {
    let Ok(parts) = parse_template(template) else { return false };
    matches_parts(&parts, uri)
}

fn matches_parts(parts: &[Part<'_>], uri: &str) -> bool {
    match parts.split_first() {
        None => uri.is_empty(),
        Some((Part::Literal(l), rest)) => uri.strip_prefix(l).is_some_and(|u| matches_parts(rest, u)),
        Some((Part::Var { reserved, .. }, rest)) => {
            // A value is at least one character; a simple one stays within a segment.
            let limit = if *reserved { uri.len() } else { uri.find('/').unwrap_or(uri.len()) };
            (1..=limit).filter(|&i| uri.is_char_boundary(i)).any(|i| matches_parts(rest, &uri[i..]))
        }
    }
}

/// The variable names of `template`, in order.
pub fn template_variables(template: &str) -> Vec<String> {
    parse_template(template)
        .map(|parts| {
            parts
                .into_iter()
                .filter_map(|p| match p {
                    Part::Var { name, .. } => Some(name.to_string()),
                    Part::Literal(_) => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_like_rfc_6570_level_2() {
        let cases = [
            ("notebook/{+path}", "notebook/Users/a@b.com/etl", true),
            ("notebook/{+path}", "notebook/", false),
            ("cluster/{cluster_id}", "cluster/0123-abc", true),
            ("cluster/{cluster_id}", "cluster/0123/abc", false),
            ("table/{catalog}/{schema}/{table}", "table/main/sales/orders", true),
            ("table/{catalog}/{schema}/{table}", "table/main/sales", false),
            ("run/{run_id}/output", "run/42/output", true),
            ("run/{run_id}/output", "run/42/output/x", false),
            ("job/{job_id}", "jobs/1", false),
        ];
        for (template, uri, expected) in cases {
            assert_eq!(template_matches(template, uri), expected, "{template} vs {uri}");
        }
    }

    #[test]
    fn refuses_templates_it_cannot_split() {
        for bad in ["", "/notebook/{path}", "databricks://x/{a}", "a/{x}{y}", "a/{?q}", "a/{x", "a}", "a/{}"] {
            assert!(parse_template(bad).is_err(), "{bad} should be refused");
        }
        assert_eq!(template_variables("table/{catalog}/{schema}/{+rest}"), ["catalog", "schema", "rest"]);
    }

    #[test]
    fn uris_split_into_plugin_and_path() {
        assert_eq!(split("databricks://workspace/notebook/a/b"), Ok(("workspace", "notebook/a/b")));
        assert_eq!(split("databricks://jobs"), Ok(("jobs", "")));
        assert!(split("file:///etc/passwd").is_err());
        assert!(split("databricks:///x").is_err());
        assert_eq!(absolute("clusters", "cluster/1"), "databricks://clusters/cluster/1");
    }
}
