//! The plugin as a whole: its manifest, the dispatch of `call-tool` and of the `content`
//! functions (resources, prompts, completions), behind the `plugin!` macro.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::bindings::databricks_mcp::plugin::{content_types as ct, types};
use crate::bindings::exports::databricks_mcp::plugin::content;
use crate::content::{
    Body, CompletionDef, CompletionRequest, CompletionTarget, Contents, PromptContent, PromptDef, ResourceDef,
    ResourceLink,
};
use crate::context::Context;
use crate::error::ToolError;
use crate::host::WitHost;
use crate::tool::ToolDef;

/// The version of the WIT contract this SDK builds plugins against. The host refuses plugins
/// whose contract it cannot run.
pub const CONTRACT_VERSION: &str = "0.1.1";

/// A plugin, as declared with [`plugin!`](crate::plugin) (which names it `ToolPack`). Not
/// implemented by hand.
pub trait Plugin {
    /// Plugin name, `[a-z0-9-]`.
    const NAME: &'static str;
    /// The plugin crate's version.
    const VERSION: &'static str;
    /// One line on what the plugin is for.
    const DESCRIPTION: &'static str;
    /// Workspace API grants, `"METHOD /path/pattern"`.
    const GRANTS: &'static [&'static str];
    /// The tools.
    const TOOLS: &'static [ToolDef];
    /// Resource templates (`#[resource]`).
    const RESOURCES: &'static [ResourceDef] = &[];
    /// Lists concrete resources, one page per call, when the pack can.
    const RESOURCE_LIST: Option<crate::content::ListResources> = None;
    /// Prompts (`#[prompt]`).
    const PROMPTS: &'static [PromptDef] = &[];
    /// Completers, by argument name.
    const COMPLETIONS: &'static [CompletionDef] = &[];
}

/// Read `uri` (below the pack's root) with `P`'s resources.
pub(crate) fn read_resource<P: Plugin>(ctx: &Context, uri: &str) -> crate::Result<Contents> {
    crate::content::read(P::RESOURCES, ctx, uri)
}

/// Render `P`'s prompt `name` with string arguments.
pub(crate) fn render_prompt<P: Plugin>(
    ctx: &Context,
    name: &str,
    arguments: Map<String, Value>,
) -> crate::Result<crate::Prompt> {
    let prompt = P::PROMPTS
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| ToolError::NotFound(format!("plugin {} has no prompt {name}", P::NAME)))?;
    (prompt.render)(ctx, &arguments)
}

/// Complete an argument with `P`'s completer of that name.
pub(crate) fn complete<P: Plugin>(ctx: &Context, request: &CompletionRequest) -> crate::Result<crate::Completion> {
    let known = match &request.target {
        CompletionTarget::Prompt(name) => P::PROMPTS.iter().any(|p| p.name == name),
        CompletionTarget::ResourceTemplate(template) => P::RESOURCES.iter().any(|r| r.uri_template == template),
    };
    if !known {
        return Err(ToolError::NotFound(format!(
            "plugin {} has no such prompt or template: {:?}",
            P::NAME,
            request.target
        )));
    }
    match P::COMPLETIONS.iter().find(|c| c.argument == request.argument) {
        // No completer is an empty answer, not an error: the client just offers nothing.
        None => Ok(crate::Completion::default()),
        Some(completer) => Ok(crate::content::filter_candidates((completer.complete)(ctx, request)?, &request.value)),
    }
}

fn context(context: types::CallContext) -> Context {
    let deadline = Duration::from_millis(context.deadline_ms);
    Context::new(context.request_id, context.progress_requested, deadline, Arc::new(WitHost::new()))
}

impl<P: Plugin> content::Guest for P {
    fn describe() -> ct::ContentManifest {
        ct::ContentManifest {
            templates: P::RESOURCES
                .iter()
                .map(|r| ct::ResourceTemplate {
                    uri_template: r.uri_template.into(),
                    name: r.name.into(),
                    title: r.title.map(Into::into),
                    description: r.description.into(),
                    mime_type: r.mime_type.map(Into::into),
                })
                .collect(),
            lists_resources: P::RESOURCE_LIST.is_some(),
            prompts: P::PROMPTS
                .iter()
                .map(|p| ct::PromptSpec {
                    name: p.name.into(),
                    title: p.title.map(Into::into),
                    description: p.description.into(),
                    arguments: (p.arguments)()
                        .into_iter()
                        .map(|a| ct::PromptArgument { name: a.name, description: a.description, required: a.required })
                        .collect(),
                })
                .collect(),
        }
    }

    fn list_resources(cursor: Option<String>, call: types::CallContext) -> Result<ct::ResourcePage, types::ToolError> {
        let Some(list) = P::RESOURCE_LIST else {
            return Ok(ct::ResourcePage { resources: Vec::new(), next_cursor: None });
        };
        let page = list(&context(call), cursor).map_err(to_wit)?;
        Ok(ct::ResourcePage {
            resources: page.resources.into_iter().map(link_to_wit).collect(),
            next_cursor: page.next_cursor,
        })
    }

    fn read_resource(uri: String, call: types::CallContext) -> Result<Vec<ct::ResourceContents>, types::ToolError> {
        let contents = read_resource::<P>(&context(call), &uri).map_err(to_wit)?;
        Ok(vec![contents_to_wit(contents, &uri)])
    }

    fn get_prompt(
        name: String,
        arguments: Vec<(String, String)>,
        call: types::CallContext,
    ) -> Result<ct::PromptResult, types::ToolError> {
        let arguments = arguments.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        let prompt = render_prompt::<P>(&context(call), &name, arguments).map_err(to_wit)?;
        let messages = prompt
            .messages
            .into_iter()
            .map(|m| ct::PromptMessage {
                role: if m.assistant { ct::Role::Assistant } else { ct::Role::User },
                content: match m.content {
                    PromptContent::Text(t) => ct::PromptContent::Text(t),
                    PromptContent::Embedded(c) => ct::PromptContent::Embedded(contents_to_wit(c, "")),
                    PromptContent::Link(l) => ct::PromptContent::Link(link_to_wit(l)),
                },
            })
            .collect();
        Ok(ct::PromptResult { description: prompt.description, messages })
    }

    fn complete(request: ct::CompletionRequest, call: types::CallContext) -> Result<ct::Completion, types::ToolError> {
        let request = CompletionRequest {
            target: match request.target {
                ct::CompletionTarget::Prompt(p) => CompletionTarget::Prompt(p),
                ct::CompletionTarget::ResourceTemplate(t) => CompletionTarget::ResourceTemplate(t),
            },
            argument: request.argument,
            value: request.value,
            context: request.context.into_iter().collect(),
        };
        let completion = complete::<P>(&context(call), &request).map_err(to_wit)?;
        Ok(ct::Completion { values: completion.values, total: completion.total, has_more: completion.has_more })
    }
}

pub(crate) fn link_to_wit(link: ResourceLink) -> ct::ResourceLink {
    ct::ResourceLink {
        uri: link.uri,
        name: link.name,
        title: link.title,
        description: link.description,
        mime_type: link.mime_type,
        size: link.size,
    }
}

fn contents_to_wit(contents: Contents, uri: &str) -> ct::ResourceContents {
    ct::ResourceContents {
        uri: contents.uri.unwrap_or_else(|| uri.to_string()),
        mime_type: contents.mime_type,
        body: match contents.body {
            Body::Text(t) => ct::ResourceBody::Text(t),
            Body::Blob(b) => ct::ResourceBody::Blob(b),
        },
    }
}

impl<P: Plugin> crate::bindings::Guest for P {
    fn manifest() -> types::Manifest {
        types::Manifest {
            name: P::NAME.into(),
            version: P::VERSION.into(),
            description: P::DESCRIPTION.into(),
            contract_version: CONTRACT_VERSION.into(),
            sdk: concat!("databricks-mcp-sdk ", env!("CARGO_PKG_VERSION")).into(),
            tools: P::TOOLS.iter().map(tool_spec).collect(),
            grants: P::GRANTS
                .iter()
                .map(|grant| {
                    // A grant without a method is passed on whole; the host refuses it by name.
                    let (method, path) = grant.split_once(' ').unwrap_or(("", grant));
                    types::Grant { method: method.trim().into(), path: path.trim().into() }
                })
                .collect(),
        }
    }

    fn call_tool(
        name: String,
        arguments: String,
        context: types::CallContext,
    ) -> Result<types::ToolOutput, types::ToolError> {
        let tool = P::TOOLS
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| types::ToolError::InvalidArguments(format!("plugin {} has no tool {name}", P::NAME)))?;
        let ctx = self::context(context);
        match (tool.call)(&ctx, &arguments) {
            Ok(output) => Ok(types::ToolOutput { text: output.text, structured: output.structured }),
            Err(error) => Err(to_wit(error)),
        }
    }
}

fn tool_spec(tool: &ToolDef) -> types::ToolSpec {
    types::ToolSpec {
        name: tool.name.into(),
        title: tool.title.map(Into::into),
        description: tool.description.into(),
        input_schema: (tool.input_schema)().to_string(),
        output_schema: (tool.output_schema)().map(|s| s.to_string()),
        annotations: types::Annotations {
            read_only: tool.annotations.read_only,
            destructive: tool.annotations.destructive,
            idempotent: tool.annotations.idempotent,
            open_world: tool.annotations.open_world,
        },
    }
}

fn to_wit(error: ToolError) -> types::ToolError {
    match error {
        ToolError::InvalidArguments(m) => types::ToolError::InvalidArguments(m),
        ToolError::NotFound(m) => types::ToolError::NotFound(m),
        ToolError::PermissionDenied(m) => types::ToolError::PermissionDenied(m),
        ToolError::Upstream(e) => types::ToolError::Upstream(types::ApiError {
            status: e.status,
            error_code: e.error_code,
            message: e.message,
        }),
        ToolError::Failed(m) => types::ToolError::Failed(m),
        ToolError::Timeout(m) => types::ToolError::Timeout(m),
        ToolError::Cancelled => types::ToolError::Cancelled,
        ToolError::Internal(m) => types::ToolError::Internal(m),
    }
}

/// Declare the plugin: its name, description, workspace API grants and tools, and export it
/// as the component's implementation of the contract. Use it once, at the crate root.
///
/// After `tools`, optionally and in this order: `resources: [..]` (functions marked
/// `#[resource]`), `resource_list: function` (lists concrete resources, a page per call),
/// `prompts: [..]` (functions marked `#[prompt]`) and `completions: [argument => function, ..]`
/// (candidates for every prompt argument or template variable of that name).
///
/// It also declares `pub struct ToolPack`, the plugin as a type: tests use it to check the
/// manifest and the grants ([`testkit::Workspace::for_plugin`](crate::testkit::Workspace::for_plugin)).
///
/// ```ignore
/// databricks_mcp_sdk::plugin! {
///     name: "clusters",
///     description: "Databricks clusters",
///     grants: ["GET /api/2.1/clusters/*", "POST /api/2.1/clusters/*"],
///     tools: [list_clusters, get_cluster],
/// }
/// ```
#[macro_export]
macro_rules! plugin {
    (
        name: $name:literal,
        description: $description:literal,
        grants: [$($grant:literal),* $(,)?],
        tools: [$($tool:ident),* $(,)?]
        $(, resources: [$($resource:ident),* $(,)?])?
        $(, resource_list: $list:path)?
        $(, prompts: [$($prompt:ident),* $(,)?])?
        $(, completions: [$($argument:ident => $completer:path),* $(,)?])?
        $(,)?
    ) => {
        /// This tool pack, as declared with `databricks_mcp_sdk::plugin!`.
        pub struct ToolPack;

        impl $crate::Plugin for ToolPack {
            const NAME: &'static str = $name;
            const VERSION: &'static str = env!("CARGO_PKG_VERSION");
            const DESCRIPTION: &'static str = $description;
            const GRANTS: &'static [&'static str] = &[$($grant),*];
            const TOOLS: &'static [$crate::ToolDef] = &[$($tool::TOOL),*];
            $(const RESOURCES: &'static [$crate::ResourceDef] = &[$($resource::RESOURCE),*];)?
            $(const RESOURCE_LIST: Option<$crate::content::ListResources> = Some($list);)?
            $(const PROMPTS: &'static [$crate::PromptDef] = &[$($prompt::PROMPT),*];)?
            $(const COMPLETIONS: &'static [$crate::CompletionDef] = &[$($crate::CompletionDef {
                argument: stringify!($argument),
                complete: $completer,
            }),*];)?
        }

        $crate::__bindings::__export_tool_pack!(ToolPack with_types_in $crate::__bindings);
    };
}
