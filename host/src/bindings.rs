//! The one place that runs wasmtime's `bindgen!` for the plugin contract. The generated types
//! are converted to the host's own (`manifest`, `workspace`) here, so no other module depends on
//! their shape.
//!
//! Two worlds of one package: `tool-pack` (every plugin, 0.1.0 on) and `content-pack` (0.1.1:
//! `tool-pack` plus the `content` export for resources, prompts and completions). Both are
//! pre-linked from the same component; a plugin that does not export `content` (one built
//! against 0.1.0) simply has no content. The second world reuses the first one's imports, so
//! there is one set of host traits and one linker.

use crate::content;
use crate::manifest::{self, Annotations, Grant, Manifest, ManifestError, ToolSpec};

mod generated {
    wasmtime::component::bindgen!({
        world: "tool-pack",
        path: "../wit",
        // Host imports do I/O (workspace requests, sleeps, progress), so they are async; exports
        // are called with `call_async` so a plugin can be interrupted at epoch ticks.
        imports: { default: async },
        exports: { default: async },
        // The manifest a plugin returns is kept beside its compiled code (`artifacts`), so a
        // restart need not run the plugin to learn its tools.
        additional_derives: [serde::Serialize, serde::Deserialize],
    });
}

mod content_generated {
    wasmtime::component::bindgen!({
        world: "content-pack",
        path: "../wit",
        imports: { default: async },
        exports: { default: async },
        additional_derives: [serde::Serialize, serde::Deserialize],
        with: {
            "databricks-mcp:plugin/types": super::generated::databricks_mcp::plugin::types,
            "databricks-mcp:plugin/workspace": super::generated::databricks_mcp::plugin::workspace,
            "databricks-mcp:plugin/host": super::generated::databricks_mcp::plugin::host,
            "databricks-mcp:plugin/content-types": super::generated::databricks_mcp::plugin::content_types,
        },
    });
}

pub use content_generated::{ContentPack, ContentPackPre};
pub use databricks_mcp::plugin::content_types as wit_content;
pub use databricks_mcp::plugin::host::LogLevel;
pub use databricks_mcp::plugin::types::{CallContext, Manifest as WitManifest, ToolError, ToolOutput};
pub use databricks_mcp::plugin::workspace::{
    Method as WitMethod, Request as WitRequest, Response as WitResponse, SendError as WitSendError,
};
pub use generated::{ToolPack, ToolPackPre, databricks_mcp};

/// Convert a manifest returned by a plugin, checking everything that can be checked without
/// policy: names, schemas, grants and the contract version.
pub fn manifest_from_wit(m: WitManifest) -> Result<Manifest, ManifestError> {
    manifest::check_contract(&m.contract_version)?;
    let mut tools = Vec::with_capacity(m.tools.len());
    for t in m.tools {
        let input_schema = manifest::parse_schema(&t.name, "input", &t.input_schema)?;
        let output_schema =
            t.output_schema.as_deref().map(|s| manifest::parse_schema(&t.name, "output", s)).transpose()?;
        tools.push(ToolSpec {
            name: t.name,
            title: t.title,
            description: t.description,
            input_schema,
            output_schema,
            annotations: Annotations {
                read_only: t.annotations.read_only,
                destructive: t.annotations.destructive,
                idempotent: t.annotations.idempotent,
                open_world: t.annotations.open_world,
            },
        });
    }
    let grants = m.grants.iter().map(|g| Grant::parse(&g.method, &g.path)).collect::<Result<Vec<_>, _>>()?;
    let manifest = Manifest {
        name: m.name,
        version: m.version,
        description: m.description,
        contract_version: m.contract_version,
        sdk: m.sdk,
        tools,
        grants,
    };
    manifest.validate()?;
    Ok(manifest)
}

impl From<WitMethod> for manifest::Method {
    fn from(m: WitMethod) -> Self {
        match m {
            WitMethod::Get => Self::Get,
            WitMethod::Head => Self::Head,
            WitMethod::Post => Self::Post,
            WitMethod::Put => Self::Put,
            WitMethod::Patch => Self::Patch,
            WitMethod::Delete => Self::Delete,
        }
    }
}

/// Convert what a `content-pack` plugin says it contributes, and check it.
pub fn content_from_wit(m: wit_content::ContentManifest) -> Result<content::ContentManifest, String> {
    let manifest = content::ContentManifest {
        templates: m
            .templates
            .into_iter()
            .map(|t| content::ResourceTemplate {
                uri_template: t.uri_template,
                name: t.name,
                title: t.title,
                description: t.description,
                mime_type: t.mime_type,
            })
            .collect(),
        lists_resources: m.lists_resources,
        prompts: m
            .prompts
            .into_iter()
            .map(|p| content::PromptSpec {
                name: p.name,
                title: p.title,
                description: p.description,
                arguments: p
                    .arguments
                    .into_iter()
                    .map(|a| content::PromptArgument { name: a.name, description: a.description, required: a.required })
                    .collect(),
            })
            .collect(),
    };
    manifest.validate()?;
    Ok(manifest)
}

impl From<wit_content::ResourceLink> for content::Resource {
    fn from(r: wit_content::ResourceLink) -> Self {
        Self {
            uri: r.uri,
            name: r.name,
            title: r.title,
            description: r.description,
            mime_type: r.mime_type,
            size: r.size,
        }
    }
}

impl From<wit_content::ResourceContents> for content::Contents {
    fn from(c: wit_content::ResourceContents) -> Self {
        let body = match c.body {
            wit_content::ResourceBody::Text(t) => content::Body::Text(t),
            wit_content::ResourceBody::Blob(b) => content::Body::Blob(b),
        };
        Self { uri: c.uri, mime_type: c.mime_type, body }
    }
}

impl From<wit_content::ResourcePage> for content::ResourcePage {
    fn from(p: wit_content::ResourcePage) -> Self {
        Self { resources: p.resources.into_iter().map(Into::into).collect(), next_cursor: p.next_cursor }
    }
}

impl From<wit_content::PromptResult> for content::RenderedPrompt {
    fn from(p: wit_content::PromptResult) -> Self {
        let messages = p
            .messages
            .into_iter()
            .map(|m| content::PromptMessage {
                assistant: matches!(m.role, wit_content::Role::Assistant),
                content: match m.content {
                    wit_content::PromptContent::Text(t) => content::PromptContent::Text(t),
                    wit_content::PromptContent::Embedded(c) => content::PromptContent::Embedded(c.into()),
                    wit_content::PromptContent::Link(r) => content::PromptContent::Link(r.into()),
                },
            })
            .collect();
        Self { description: p.description, messages }
    }
}

impl From<wit_content::Completion> for content::Completion {
    fn from(c: wit_content::Completion) -> Self {
        Self { values: c.values, total: c.total, has_more: c.has_more }
    }
}

/// A completion request in the contract's terms.
pub fn completion_to_wit(
    target: content::CompletionTarget,
    argument: String,
    value: String,
    context: Vec<(String, String)>,
) -> wit_content::CompletionRequest {
    let target = match target {
        content::CompletionTarget::Prompt(p) => wit_content::CompletionTarget::Prompt(p),
        content::CompletionTarget::Template(t) => wit_content::CompletionTarget::ResourceTemplate(t),
    };
    wit_content::CompletionRequest { target, argument, value, context }
}
