//! Resources, prompts and completions: what a pack contributes to MCP besides tools.
//!
//! - A **resource** is a workspace object a client can read by URI, such as a notebook's
//!   source. A function marked `#[resource(uri = "notebook/{+path}")]` reads one; the template is
//!   below the pack's root (the host serves it as `databricks://<pack name>/notebook/{+path}`),
//!   and the template's variables arrive as a struct, like tool arguments.
//! - A **prompt** is a ready workflow a user picks, such as "debug a failing job run". A
//!   function marked `#[prompt]` renders one from its arguments (a `#[schema]` struct of
//!   strings: the prompt's arguments are its fields).
//! - A **completion** suggests values for an argument of a prompt or template (catalog names,
//!   cluster names). Completers are named by argument in [`plugin!`](crate::plugin).
//!
//! A tool whose output would be too large returns a short text and links the whole with
//! [`Context::link_resource`]; the client reads it with `resources/read`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::context::Context;
use crate::error::{Result, ToolError};
use crate::tool::schema_for;

/// What reading a resource returns: text (UTF-8) or bytes, with a MIME type.
#[derive(Debug, Clone, PartialEq)]
pub struct Contents {
    /// The URI, below the pack's root; `None` means the URI that was read.
    pub uri: Option<String>,
    /// The MIME type, e.g. `text/x-python`.
    pub mime_type: Option<String>,
    /// The content.
    pub body: Body,
}

/// The content of a resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// UTF-8 text.
    Text(String),
    /// Bytes (sent to the client base64-encoded).
    Blob(Vec<u8>),
}

impl Contents {
    /// Text, with the template's MIME type (or none).
    pub fn text(text: impl Into<String>) -> Self {
        Self { uri: None, mime_type: None, body: Body::Text(text.into()) }
    }

    /// A JSON document, pretty-printed, as `application/json`.
    pub fn json(value: &impl Serialize) -> Result<Self> {
        Ok(Self::text(serde_json::to_string_pretty(value)?).mime_type("application/json"))
    }

    /// Bytes with their MIME type.
    pub fn blob(bytes: Vec<u8>, mime_type: &str) -> Self {
        Self { uri: None, mime_type: Some(mime_type.into()), body: Body::Blob(bytes) }
    }

    /// Set the MIME type.
    pub fn mime_type(mut self, mime_type: &str) -> Self {
        self.mime_type = Some(mime_type.into());
        self
    }

    /// The text, if the body is text.
    pub fn as_text(&self) -> Option<&str> {
        match &self.body {
            Body::Text(t) => Some(t),
            Body::Blob(_) => None,
        }
    }
}

/// A concrete resource: an entry of a resource list, or a link from a tool result or prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceLink {
    /// Below the pack's root, an instance of one of its templates: `notebook/Users/a@b.com/etl`.
    pub uri: String,
    /// A short name, e.g. the object's own name.
    pub name: String,
    /// A human-readable title.
    pub title: Option<String>,
    /// What it is, for the model.
    pub description: Option<String>,
    /// Its MIME type.
    pub mime_type: Option<String>,
    /// Its size in bytes, when known.
    pub size: Option<u64>,
}

impl ResourceLink {
    /// A link to `uri` (below the pack's root) named `name`.
    pub fn new(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Self { uri: uri.into(), name: name.into(), title: None, description: None, mime_type: None, size: None }
    }

    /// Set the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Set the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Set the MIME type.
    pub fn mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.mime_type = Some(mime_type.into());
        self
    }

    /// Set the size in bytes.
    pub fn size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }
}

/// One page of a pack's concrete resources (see `resource_list` in [`plugin!`](crate::plugin)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceList {
    /// The resources of this page.
    pub resources: Vec<ResourceLink>,
    /// Passed back as the cursor for the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// A rendered prompt: messages for the conversation, built in order.
///
/// ```
/// # use databricks_mcp_sdk::Prompt;
/// let prompt = Prompt::new("Explore catalog main")
///     .user("Explore the Unity Catalog catalog `main`: call `list_schemas` first.");
/// assert_eq!(prompt.messages.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prompt {
    /// A one-line description of this rendering.
    pub description: Option<String>,
    /// The messages.
    pub messages: Vec<PromptMessage>,
}

/// One message of a rendered prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptMessage {
    /// From the assistant, else from the user.
    pub assistant: bool,
    /// What it carries.
    pub content: PromptContent,
}

/// What a prompt message carries.
#[derive(Debug, Clone, PartialEq)]
pub enum PromptContent {
    /// Text.
    Text(String),
    /// A resource embedded whole; its URI must be set (below the pack's root).
    Embedded(Contents),
    /// A link to a resource.
    Link(ResourceLink),
}

impl Prompt {
    /// An empty prompt with a description.
    pub fn new(description: impl Into<String>) -> Self {
        Self { description: Some(description.into()), messages: Vec::new() }
    }

    /// Add a user message.
    pub fn user(mut self, text: impl Into<String>) -> Self {
        self.messages.push(PromptMessage { assistant: false, content: PromptContent::Text(text.into()) });
        self
    }

    /// Add an assistant message.
    pub fn assistant(mut self, text: impl Into<String>) -> Self {
        self.messages.push(PromptMessage { assistant: true, content: PromptContent::Text(text.into()) });
        self
    }

    /// Add a user message embedding `contents` read from `uri` (below the pack's root).
    pub fn embed(mut self, uri: impl Into<String>, mut contents: Contents) -> Self {
        contents.uri = Some(uri.into());
        self.messages.push(PromptMessage { assistant: false, content: PromptContent::Embedded(contents) });
        self
    }

    /// Add a user message linking to a resource.
    pub fn link(mut self, link: ResourceLink) -> Self {
        self.messages.push(PromptMessage { assistant: false, content: PromptContent::Link(link) });
        self
    }
}

/// What a completion is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompletionTarget {
    /// A prompt, by name.
    Prompt(String),
    /// A resource template, as declared (below the pack's root).
    ResourceTemplate(String),
}

/// A request to complete one argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionRequest {
    /// The prompt or template the argument belongs to.
    pub target: CompletionTarget,
    /// The argument being completed.
    pub argument: String,
    /// What the user typed so far.
    pub value: String,
    /// Values of other arguments already chosen (the catalog, when completing a schema).
    pub context: BTreeMap<String, String>,
}

impl CompletionRequest {
    /// The chosen value of another argument, if any and not empty.
    pub fn context(&self, argument: &str) -> Option<&str> {
        self.context.get(argument).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// Completion candidates, as sent to the host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completion {
    /// Matching values, at most 100.
    pub values: Vec<String>,
    /// How many matched in all.
    pub total: Option<u32>,
    /// More matched than are shown.
    pub has_more: bool,
}

/// Lists one page of a pack's concrete resources from a cursor (`resource_list` in
/// [`plugin!`](crate::plugin)).
pub type ListResources = fn(&Context, Option<String>) -> Result<ResourceList>;

/// A resource template as registered by `#[resource]`.
#[derive(Debug, Clone, Copy)]
pub struct ResourceDef {
    /// The RFC 6570 template below the pack's root: `{var}` (one segment) and `{+var}` (may
    /// contain `/`).
    pub uri_template: &'static str,
    /// A short identifier (the function name unless given).
    pub name: &'static str,
    /// A title.
    pub title: Option<&'static str>,
    /// The doc comment of the function.
    pub description: &'static str,
    /// The MIME type of what it reads, when fixed.
    pub mime_type: Option<&'static str>,
    /// Reads one: the URI (below the root) and its variables, decoded.
    pub read: fn(&Context, &Map<String, Value>) -> Result<Contents>,
}

/// One argument of a prompt, derived from the argument struct's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptArgument {
    /// The field name.
    pub name: String,
    /// The field's doc comment.
    pub description: Option<String>,
    /// Not an `Option`.
    pub required: bool,
}

/// A prompt as registered by `#[prompt]`.
#[derive(Debug, Clone, Copy)]
pub struct PromptDef {
    /// The prompt name (the function name unless given).
    pub name: &'static str,
    /// A title.
    pub title: Option<&'static str>,
    /// The doc comment of the function.
    pub description: &'static str,
    /// The arguments, from the argument struct.
    pub arguments: fn() -> Vec<PromptArgument>,
    /// Renders it from its arguments (a JSON object of strings).
    pub render: fn(&Context, &Map<String, Value>) -> Result<Prompt>,
}

/// A completer for every prompt or template argument of one name (see [`plugin!`](crate::plugin)).
#[derive(Debug, Clone, Copy)]
pub struct CompletionDef {
    /// The argument (or template variable) name.
    pub argument: &'static str,
    /// Returns candidates; the SDK keeps those that start with what was typed (ignoring case),
    /// sorted, at most 100.
    pub complete: fn(&Context, &CompletionRequest) -> Result<Vec<String>>,
}

/// The variables of `uri` under `template`, percent-decoded, if it is an instance of it.
pub fn match_template(template: &str, uri: &str) -> Option<Map<String, Value>> {
    let mut vars = Map::new();
    matches(template, uri, &mut vars).then_some(vars)
}

fn matches(template: &str, uri: &str, vars: &mut Map<String, Value>) -> bool {
    match template.find('{') {
        None => template == uri,
        Some(start) => {
            let Some(rest_uri) = uri.strip_prefix(&template[..start]) else { return false };
            let Some(len) = template[start..].find('}') else { return false };
            let expression = &template[start + 1..start + len];
            let rest_template = &template[start + len + 1..];
            let (name, reserved) = match expression.strip_prefix('+') {
                Some(name) => (name, true),
                None => (expression, false),
            };
            let limit = if reserved { rest_uri.len() } else { rest_uri.find('/').unwrap_or(rest_uri.len()) };
            for end in (1..=limit).rev().filter(|&i| rest_uri.is_char_boundary(i)) {
                let mut inner = vars.clone();
                if matches(rest_template, &rest_uri[end..], &mut inner) {
                    inner.insert(name.to_string(), Value::String(percent_decode(&rest_uri[..end])));
                    *vars = inner;
                    return true;
                }
            }
            false
        }
    }
}

/// Decode `%XX` escapes (invalid ones are kept as written).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encode a value for a URI, keeping `/` when `keep_slash` (for `{+var}` values).
pub fn uri_escape(value: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~@:!$'()*,".contains(&b) || (keep_slash && b == b'/');
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Read `uri` with the first of `resources` whose template it is an instance of.
pub(crate) fn read(resources: &[ResourceDef], ctx: &Context, uri: &str) -> Result<Contents> {
    for resource in resources {
        if let Some(vars) = match_template(resource.uri_template, uri) {
            let mut contents = (resource.read)(ctx, &vars)?;
            if contents.mime_type.is_none() {
                contents.mime_type = resource.mime_type.map(Into::into);
            }
            if contents.uri.is_none() {
                contents.uri = Some(uri.to_string());
            }
            return Ok(contents);
        }
    }
    Err(ToolError::NotFound(format!("no resource template matches `{uri}`")))
}

/// Keep the candidates that start with `value` (ignoring case), sorted and deduplicated.
pub(crate) fn filter_candidates(mut candidates: Vec<String>, value: &str) -> Completion {
    let typed = value.to_lowercase();
    candidates.retain(|c| c.to_lowercase().starts_with(&typed));
    candidates.sort();
    candidates.dedup();
    let total = u32::try_from(candidates.len()).ok();
    let has_more = candidates.len() > 100;
    candidates.truncate(100);
    Completion { values: candidates, total, has_more }
}

/// Glue used by the `#[resource]` and `#[prompt]` macros. Not public API.
#[doc(hidden)]
pub mod private {
    use super::*;

    pub fn read<V: DeserializeOwned>(
        f: fn(&Context, V) -> Result<Contents>,
        ctx: &Context,
        vars: &Map<String, Value>,
    ) -> Result<Contents> {
        let vars: V = serde_json::from_value(Value::Object(vars.clone()))
            .map_err(|e| ToolError::NotFound(format!("the URI does not name a resource: {e}")))?;
        f(ctx, vars)
    }

    pub fn arguments<A: JsonSchema>(_f: fn(&Context, A) -> Result<Prompt>) -> Vec<PromptArgument> {
        let schema = schema_for::<A>();
        let required: Vec<&str> =
            schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        schema["properties"]
            .as_object()
            .map(|properties| {
                properties
                    .iter()
                    .map(|(name, property)| PromptArgument {
                        name: name.clone(),
                        description: property["description"].as_str().map(Into::into),
                        required: required.contains(&name.as_str()),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn render<A: DeserializeOwned>(
        f: fn(&Context, A) -> Result<Prompt>,
        ctx: &Context,
        arguments: &Map<String, Value>,
    ) -> Result<Prompt> {
        let args: A = serde_json::from_value(Value::Object(arguments.clone()))
            .map_err(|e| ToolError::invalid(format!("the prompt's arguments do not fit: {e}")))?;
        f(ctx, args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_give_their_variables_decoded() {
        let vars = match_template("notebook/{+path}", "notebook/Users/a@b.com/my%20etl").unwrap();
        assert_eq!(vars["path"], "Users/a@b.com/my etl");
        let vars = match_template("table/{catalog}/{schema}/{table}", "table/main/sales/orders").unwrap();
        assert_eq!((vars["catalog"].as_str(), vars["table"].as_str()), (Some("main"), Some("orders")));
        assert!(match_template("table/{catalog}/{schema}/{table}", "table/main/sales").is_none());
        assert!(match_template("cluster/{id}", "cluster/a/b").is_none());
        let vars = match_template("run/{run_id}/output", "run/42/output").unwrap();
        assert_eq!(vars["run_id"], "42");
        assert_eq!(uri_escape("Users/a b/c", true), "Users/a%20b/c");
        assert_eq!(uri_escape("a/b", false), "a%2Fb");
    }

    #[test]
    fn completions_keep_what_starts_with_the_typed_value() {
        let c = filter_candidates(vec!["samples".into(), "main".into(), "Marketing".into(), "main".into()], "ma");
        assert_eq!(c.values, ["Marketing", "main"]);
        assert_eq!(c.total, Some(2));
        assert!(!c.has_more);
    }
}
