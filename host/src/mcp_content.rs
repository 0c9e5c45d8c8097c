//! The MCP methods for what plugins contribute besides tools: `resources/list`,
//! `resources/templates/list`, `resources/read`, `prompts/list`, `prompts/get` and
//! `completion/complete`. [`McpServer`]'s handler delegates here.
//!
//! Each is routed to the owning plugin (by the URI's authority, or the prompt's name) and runs
//! like a tool call: a fresh instance, the plugin's grants and limits, the caller's identity,
//! the request's cancellation. Unlike a tool failure, which the model reads as a result, a
//! failure here is a JSON-RPC error: `-32002` for a resource that does not exist, invalid
//! params for arguments that do not fit, internal error (with the reason) for the rest.

use std::sync::Arc;

use base64::Engine as _;
use rmcp::model::{
    CompleteRequestParams, CompleteResult, CompletionInfo, GetPromptRequestParams, GetPromptResult, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, PaginatedRequestParams, Prompt, ReadResourceRequestParams,
    ReadResourceResult, Reference, Resource, ResourceContents, ResourceTemplate,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use serde_json::{Value, json};

use crate::content::{self, Body, CompletionTarget, PromptContent};
use crate::mcp::McpServer;
use crate::plugin::{CallFailure, CallRequest, Plugin};

/// Resource list pages scanned for one `resources/list` answer before it returns what it has:
/// a plugin with nothing to list costs a call, and a page is never left empty for long.
const MAX_PLUGINS_PER_PAGE: usize = 8;

/// Every template of every plugin, in plugin load order.
pub fn templates(server: &McpServer) -> ListResourceTemplatesResult {
    let snapshot = server.registry().snapshot();
    let templates: Vec<ResourceTemplate> = snapshot
        .plugins
        .iter()
        .flat_map(|p| {
            let plugin = p.manifest.name.clone();
            p.content.iter().flat_map(move |c| {
                let plugin = plugin.clone();
                c.templates.iter().filter_map(move |t| {
                    logged(from_json(json!({
                        "uriTemplate": content::absolute(&plugin, &t.uri_template),
                        "name": t.name,
                        "title": t.title,
                        "description": t.description,
                        "mimeType": t.mime_type,
                    })))
                })
            })
        })
        .collect();
    ListResourceTemplatesResult::with_all_items(templates)
}

/// One page of concrete resources: the plugins that list theirs, in load order, each paged by
/// its own cursor. The cursor is `<plugin>:<its cursor>`.
pub async fn list(
    server: &McpServer,
    request: Option<PaginatedRequestParams>,
    context: RequestContext<RoleServer>,
) -> Result<ListResourcesResult, McpError> {
    let snapshot = server.registry().snapshot();
    let listing: Vec<&Arc<Plugin>> =
        snapshot.plugins.iter().filter(|p| p.content.as_ref().is_some_and(|c| c.lists_resources)).collect();
    let (mut index, mut cursor) = match request.and_then(|r| r.cursor) {
        None => (0, None),
        Some(cursor) => {
            let (plugin, inner) = cursor
                .split_once(':')
                .ok_or_else(|| McpError::invalid_params("this cursor did not come from resources/list", None))?;
            let index = listing.iter().position(|p| p.manifest.name == plugin).ok_or_else(|| {
                McpError::invalid_params(
                    format!("plugin `{plugin}` of this cursor is no longer loaded; list again"),
                    None,
                )
            })?;
            (index, Some(inner.to_string()).filter(|s| !s.is_empty()))
        }
    };
    let client = server.client_for(&context).map_err(|why| McpError::invalid_request(why, None))?;
    let mut resources = Vec::new();
    let mut scanned = 0;
    while let Some(plugin) = listing.get(index) {
        let page = plugin
            .list_resources(cursor.take(), call_request(&context), client.clone())
            .await
            .map_err(|failure| to_error(&plugin.manifest.name, failure))?;
        for resource in page.resources {
            resources.push(to_resource(resource)?);
        }
        scanned += 1;
        match page.next_cursor {
            Some(next) => {
                return Ok(page_of(resources, Some(format!("{}:{next}", plugin.manifest.name))));
            }
            None => index += 1,
        }
        if !resources.is_empty() || scanned >= MAX_PLUGINS_PER_PAGE {
            break;
        }
    }
    let next = listing.get(index).map(|p| format!("{}:", p.manifest.name));
    Ok(page_of(resources, next))
}

fn page_of(resources: Vec<Resource>, next: Option<String>) -> ListResourcesResult {
    let mut result = ListResourcesResult::with_all_items(resources);
    result.next_cursor = next;
    result
}

/// Read a resource: route by the URI's authority, check it against the plugin's templates,
/// read it in the plugin.
pub async fn read(
    server: &McpServer,
    request: ReadResourceRequestParams,
    context: RequestContext<RoleServer>,
) -> Result<ReadResourceResult, McpError> {
    let (name, below) = content::split(&request.uri).map_err(|e| McpError::invalid_params(e, None))?;
    let snapshot = server.registry().snapshot();
    let plugin = snapshot.plugin_named(name).filter(|p| p.serves_resources()).ok_or_else(|| {
        McpError::resource_not_found(
            format!(
                "no loaded plugin `{}` serves resources; resources/templates/list gives the URIs this server reads",
                clip(name)
            ),
            None,
        )
    })?;
    let client = server.client_for(&context).map_err(|why| McpError::invalid_request(why, None))?;
    let contents =
        plugin.read_resource(below, call_request(&context), client).await.map_err(|failure| to_error(name, failure))?;
    let contents =
        contents.into_iter().map(|c| from_json(contents_json(c))).collect::<Result<Vec<ResourceContents>, _>>()?;
    Ok(ReadResourceResult::new(contents))
}

/// Every prompt of every plugin, in plugin load order.
pub fn prompts(server: &McpServer) -> ListPromptsResult {
    let snapshot = server.registry().snapshot();
    let prompts: Vec<Prompt> = snapshot
        .plugins
        .iter()
        .flat_map(|p| p.content.iter().flat_map(|c| c.prompts.iter()))
        .filter_map(|p| {
            let arguments: Vec<Value> = p
                .arguments
                .iter()
                .map(|a| json!({"name": a.name, "description": a.description, "required": a.required}))
                .collect();
            logged(from_json(json!({
                "name": p.name,
                "title": p.title,
                "description": p.description,
                "arguments": arguments,
            })))
        })
        .collect();
    ListPromptsResult::with_all_items(prompts)
}

/// Render a prompt in the plugin that owns it.
pub async fn get(
    server: &McpServer,
    request: GetPromptRequestParams,
    context: RequestContext<RoleServer>,
) -> Result<GetPromptResult, McpError> {
    let snapshot = server.registry().snapshot();
    let name = request.name.as_str();
    let plugin = snapshot.plugin_for_prompt(name).ok_or_else(|| {
        McpError::invalid_params(format!("unknown prompt `{}`; prompts/list gives the prompts", clip(name)), None)
    })?;
    let mut arguments = Vec::new();
    for (key, value) in request.arguments.unwrap_or_default() {
        let value = match value {
            Value::String(s) => s,
            Value::Null => continue,
            other => other.to_string(),
        };
        arguments.push((key, value));
    }
    let client = server.client_for(&context).map_err(|why| McpError::invalid_request(why, None))?;
    let rendered = plugin
        .get_prompt(name, arguments, call_request(&context), client)
        .await
        .map_err(|failure| to_error(&plugin.manifest.name, failure))?;
    let messages: Vec<Value> = rendered
        .messages
        .into_iter()
        .map(|m| {
            let content = match m.content {
                PromptContent::Text(text) => json!({"type": "text", "text": text}),
                PromptContent::Embedded(c) => json!({"type": "resource", "resource": contents_json(c)}),
                PromptContent::Link(r) => {
                    let mut link = resource_json(r);
                    link["type"] = json!("resource_link");
                    link
                }
            };
            json!({"role": if m.assistant { "assistant" } else { "user" }, "content": content})
        })
        .collect();
    let mut result: GetPromptResult = from_json(json!({"description": rendered.description, "messages": messages}))?;
    result.result_type = GetPromptResult::new(Vec::new()).result_type;
    Ok(result)
}

/// Complete an argument of a prompt or a resource template in the plugin that owns it.
pub async fn complete(
    server: &McpServer,
    request: CompleteRequestParams,
    context: RequestContext<RoleServer>,
) -> Result<CompleteResult, McpError> {
    let snapshot = server.registry().snapshot();
    let (plugin, target) = match &request.r#ref {
        Reference::Prompt(prompt) => {
            let plugin = snapshot
                .plugin_for_prompt(&prompt.name)
                .ok_or_else(|| McpError::invalid_params(format!("unknown prompt `{}`", clip(&prompt.name)), None))?;
            (plugin, CompletionTarget::Prompt(prompt.name.clone()))
        }
        Reference::Resource(template) => {
            let (name, below) = content::split(&template.uri).map_err(|e| McpError::invalid_params(e, None))?;
            let plugin = snapshot.plugin_named(name).filter(|p| p.serves_resources()).ok_or_else(|| {
                McpError::invalid_params(format!("no loaded plugin `{}` serves resources", clip(name)), None)
            })?;
            (plugin, CompletionTarget::Template(below.to_string()))
        }
        other => {
            return Err(McpError::invalid_params(
                format!("completion for `{}` references is not supported", other.reference_type()),
                None,
            ));
        }
    };
    let context_arguments: Vec<(String, String)> =
        request.context.as_ref().and_then(|c| c.arguments.clone()).unwrap_or_default().into_iter().collect();
    let client = server.client_for(&context).map_err(|why| McpError::invalid_request(why, None))?;
    let completion = plugin
        .complete(
            target,
            request.argument.name.clone(),
            request.argument.value.clone(),
            context_arguments,
            call_request(&context),
            client,
        )
        .await
        .map_err(|failure| to_error(&plugin.manifest.name, failure))?;
    let info =
        CompletionInfo::with_pagination(completion.values, completion.total, completion.has_more).map_err(|e| {
            McpError::internal_error(format!("plugin `{}` gave a bad completion: {e}", plugin.manifest.name), None)
        })?;
    Ok(CompleteResult::new(info))
}

fn call_request(context: &RequestContext<RoleServer>) -> CallRequest {
    CallRequest { request_id: crate::mcp::request_id(context), progress: None, cancel: context.ct.clone() }
}

/// A content call's failure as a JSON-RPC error.
fn to_error(plugin: &str, failure: CallFailure) -> McpError {
    match failure {
        CallFailure::NotFound(m) => McpError::resource_not_found(m, None),
        CallFailure::BadArguments(m) => McpError::invalid_params(m, None),
        CallFailure::Tool(m) => McpError::internal_error(format!("plugin `{plugin}`: {m}"), None),
        other => McpError::internal_error(other.to_string(), None),
    }
}

/// A resource link or listing entry (absolute URI) in MCP's shape.
pub fn to_resource(resource: content::Resource) -> Result<Resource, McpError> {
    from_json(resource_json(resource))
}

/// The value, or `None` with the reason logged.
fn logged<T>(result: Result<T, McpError>) -> Option<T> {
    result.map_err(|e| tracing::error!("{}", e.message)).ok()
}

fn resource_json(r: content::Resource) -> Value {
    let mut value = json!({"uri": r.uri, "name": r.name});
    for (key, field) in [("title", r.title), ("description", r.description), ("mimeType", r.mime_type)] {
        if let Some(field) = field {
            value[key] = json!(field);
        }
    }
    if let Some(size) = r.size {
        value["size"] = json!(size);
    }
    value
}

fn contents_json(c: content::Contents) -> Value {
    let mut value = json!({"uri": c.uri});
    if let Some(mime) = c.mime_type {
        value["mimeType"] = json!(mime);
    }
    match c.body {
        Body::Text(text) => value["text"] = json!(text),
        Body::Blob(bytes) => value["blob"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes)),
    }
    value
}

/// Build an rmcp type from its wire form: the types are non-exhaustive, and the wire form is
/// the specification both sides follow.
fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, McpError> {
    serde_json::from_value(value)
        .map_err(|e| McpError::internal_error(format!("the host built an MCP value that does not parse: {e}"), None))
}

fn clip(s: &str) -> String {
    crate::call::sanitize(s, 100)
}
