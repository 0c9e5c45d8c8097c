//! Databricks model serving as MCP tools: list, inspect, create, reconfigure and delete serving
//! endpoints, wait until one is ready, query one (chat, completions, embeddings, or a custom
//! model's dataframe), and read the build and server logs of its served models.
//!
//! Creating or reconfiguring an endpoint returns at once: the service builds and deploys the new
//! config in the background (minutes). `wait_for_serving_endpoint` waits with progress, bounded;
//! when the wait runs out it says so and how to keep waiting, and a failed build comes back as a
//! failure that points at the build logs.

mod model;

use std::collections::BTreeMap;
use std::time::Duration;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Page, Request, segment};

use model::{ENDPOINTS, Endpoint};

fn endpoint_path(name: &str) -> String {
    format!("{ENDPOINTS}/{}", segment(name))
}

fn fetch(ctx: &Context, name: &str) -> Result<Json<Endpoint>> {
    ctx.get(&endpoint_path(name), &[])
}

// ---------------------------------------------------------------------------------------------
// Reading

/// A page of serving endpoints.
#[schema]
pub struct EndpointList {
    /// The endpoints on this page, as the workspace returned them.
    pub endpoints: Vec<Json<Endpoint>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the model serving endpoints you can see, one line each: name, readiness, kind (chat,
/// completions, embeddings or custom model) and what it serves. Use the name with
/// `query_serving_endpoint` and the other serving tools.
#[tool(read_only, idempotent, title = "List serving endpoints")]
fn list_serving_endpoints(ctx: &Context, args: PageArgs) -> Result<Output<EndpointList>> {
    #[databricks_mcp_sdk::schema]
    struct All {
        #[serde(default)]
        endpoints: Vec<Json<Endpoint>>,
    }
    let all: All = ctx.get(ENDPOINTS, &[])?;
    let page = Page::from_items(all.endpoints, args.limit_or(50, 200), args.page_token.as_deref())?;
    let mut lines = page.items.iter().map(|e| e.get().map(|e| e.line())).collect::<Result<Vec<_>>>()?;
    if lines.is_empty() {
        lines.push("No serving endpoints visible to you.".into());
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More endpoints: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(lines.join("\n"), EndpointList { endpoints: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one endpoint.
#[schema]
pub struct EndpointName {
    /// The serving endpoint's name (see `list_serving_endpoints`).
    pub name: String,
}

/// Get one serving endpoint: readiness, config update state, the served models of its live and
/// pending configs with their deployment states, traffic split, task and your permission.
#[tool(read_only, idempotent, title = "Get serving endpoint")]
fn get_serving_endpoint(ctx: &Context, args: EndpointName) -> Result<Output<Json<Endpoint>>> {
    let raw = fetch(ctx, &args.name)?;
    Ok(Output::new(raw.get()?.details(), raw))
}

// ---------------------------------------------------------------------------------------------
// Changing

/// One model to serve.
#[schema]
#[derive(Debug, Clone)]
pub struct ServedEntitySpec {
    /// A Unity Catalog model (`catalog.schema.model`) or a foundation model (`system.ai.<name>`).
    /// Leave out for an external model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_name: Option<String>,
    /// The model version to serve (required for Unity Catalog models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_version: Option<String>,
    /// The served entity's own name (default `<model>-<version>`); traffic routes and logs use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `Small` (default), `Medium` or `Large`: concurrency the entity scales to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_size: Option<String>,
    /// Scale to zero when idle (default true; the first query after idling is slow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_to_zero_enabled: Option<bool>,
    /// `CPU` (default) or a GPU type such as `GPU_SMALL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_type: Option<String>,
    /// An external model instead: `{"name", "provider", "task", "<provider>_config"}`; credentials
    /// must be secret references such as `{{secrets/scope/key}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_model: Option<Value>,
}

/// A share of traffic for one served entity.
#[schema]
#[derive(Debug, Clone)]
pub struct Route {
    /// The served entity's name.
    pub served_model_name: String,
    /// Its share, 0-100; all routes add up to 100.
    pub traffic_percentage: u32,
}

fn config_body(entities: &[ServedEntitySpec], routes: &Option<Vec<Route>>) -> Result<Value> {
    if entities.is_empty() {
        return Err(ToolError::invalid("served_entities is empty: give at least one model to serve"));
    }
    for e in entities {
        if e.entity_name.is_none() && e.external_model.is_none() {
            return Err(ToolError::invalid("each served entity needs entity_name (or external_model)"));
        }
    }
    let mut body = json!({ "served_entities": entities });
    if let Some(routes) = routes {
        let total: u32 = routes.iter().map(|r| r.traffic_percentage).sum();
        if total != 100 {
            return Err(ToolError::invalid(format!("traffic percentages add up to {total}; they must add up to 100")));
        }
        body["traffic_config"] = json!({ "routes": routes });
    }
    Ok(body)
}

/// Arguments of `create_serving_endpoint`.
#[schema]
pub struct CreateEndpoint {
    /// The new endpoint's name: letters, digits, dashes and underscores, at most 63 characters.
    pub name: String,
    /// What to serve; several entities split traffic (see `traffic`).
    pub served_entities: Vec<ServedEntitySpec>,
    /// How traffic splits between the served entities (default: evenly).
    #[serde(default)]
    pub traffic: Option<Vec<Route>>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
    /// Tags, key to value.
    #[serde(default)]
    pub tags: Option<BTreeMap<String, String>>,
}

/// What a change to an endpoint did.
#[schema]
pub struct EndpointChange {
    /// The endpoint.
    pub name: String,
    /// What was done.
    pub message: String,
    /// The endpoint after the change, when it still exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Json<Endpoint>>,
}

/// Create a model serving endpoint for a Unity Catalog model version, a foundation model or an
/// external model. It returns at once while the service builds and deploys it (minutes); call
/// `wait_for_serving_endpoint` to wait until it is READY.
#[tool(title = "Create serving endpoint")]
fn create_serving_endpoint(ctx: &Context, args: CreateEndpoint) -> Result<Output<EndpointChange>> {
    if args.name.trim().is_empty() {
        return Err(ToolError::invalid("name is empty"));
    }
    let mut body = json!({ "name": args.name, "config": config_body(&args.served_entities, &args.traffic)? });
    if let Some(d) = args.description.filter(|d| !d.is_empty()) {
        body["description"] = json!(d);
    }
    if let Some(tags) = args.tags {
        body["tags"] = tags.into_iter().map(|(key, value)| json!({"key": key, "value": value})).collect();
    }
    let created: Json<Endpoint> = ctx.post(ENDPOINTS, &body)?;
    let message = format!(
        "Created serving endpoint {}; it is {} while its config builds and deploys. Call wait_for_serving_endpoint to wait until it is READY.",
        args.name,
        created.get()?.status()
    );
    Ok(Output::new(message.clone(), EndpointChange { name: args.name, message, endpoint: Some(created) }))
}

/// Arguments of `update_serving_endpoint_config`.
#[schema]
pub struct UpdateConfig {
    /// The serving endpoint's name.
    pub name: String,
    /// The complete new set of served entities (it replaces the current one).
    pub served_entities: Vec<ServedEntitySpec>,
    /// How traffic splits between them (default: evenly).
    #[serde(default)]
    pub traffic: Option<Vec<Route>>,
}

/// Replace what a serving endpoint serves (models, versions, sizes, traffic split). The current
/// config keeps serving while the new one builds and deploys; if the new one fails, the old one
/// stays. Call `wait_for_serving_endpoint` to wait for the update. Fails while another update is
/// in progress.
#[tool(destructive, idempotent, title = "Update serving endpoint config")]
fn update_serving_endpoint_config(ctx: &Context, args: UpdateConfig) -> Result<Output<EndpointChange>> {
    let body = config_body(&args.served_entities, &args.traffic)?;
    let request = Request::new(Method::Put, format!("{}/config", endpoint_path(&args.name))).json(&body)?;
    let updated: Json<Endpoint> = ctx.send(request)?.json()?;
    let message = format!(
        "Updating serving endpoint {} to config version {}; the current config serves until the new one is deployed. Call wait_for_serving_endpoint to wait for it.",
        args.name,
        updated.get()?.pending_config.and_then(|c| c.config_version).map_or_else(|| "?".into(), |v| v.to_string())
    );
    Ok(Output::new(message.clone(), EndpointChange { name: args.name, message, endpoint: Some(updated) }))
}

/// Delete a serving endpoint for good: it stops serving at once and its URL stops answering.
#[tool(destructive, idempotent, title = "Delete serving endpoint")]
fn delete_serving_endpoint(ctx: &Context, args: EndpointName) -> Result<Output<EndpointChange>> {
    ctx.send(Request::new(Method::Delete, endpoint_path(&args.name)))?.json::<Value>()?;
    let message = format!("Deleted serving endpoint {}.", args.name);
    Ok(Output::new(message.clone(), EndpointChange { name: args.name, message, endpoint: None }))
}

/// Arguments of `wait_for_serving_endpoint`.
#[schema]
pub struct WaitForEndpoint {
    /// The serving endpoint's name.
    pub name: String,
    /// Give up waiting after this many seconds (default 600, at most 840). The deployment goes on.
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
}

/// How a wait ended.
#[schema]
pub struct WaitResult {
    /// True when the endpoint is READY with no update in progress.
    pub ready: bool,
    /// The endpoint as last read.
    pub endpoint: Json<Endpoint>,
}

/// Wait until a serving endpoint is READY with no config update in progress, reporting progress.
/// Fails if the update fails (read `get_serving_build_logs` for why). If the wait runs out, the
/// result says so; the deployment goes on, and calling this again keeps waiting.
#[tool(read_only, idempotent, title = "Wait for serving endpoint")]
fn wait_for_serving_endpoint(ctx: &Context, args: WaitForEndpoint) -> Result<Output<WaitResult>> {
    let timeout = Duration::from_secs(u64::from(args.timeout_seconds.unwrap_or(600).clamp(1, 840)));
    let wait = Wait::new(format!("serving endpoint {} to be ready", args.name), timeout);
    let mut last = None;
    let waited = ctx.wait_for(&wait, || {
        let raw = fetch(ctx, &args.name)?;
        let e = raw.get()?;
        if matches!(e.update(), "UPDATE_FAILED" | "UPDATE_CANCELED") {
            let failed = e.pending_config.iter().flat_map(|c| &c.served_entities).next();
            let entity = failed.map_or_else(String::new, |x| format!(" with served_model_name \"{}\"", x.name));
            return Err(ToolError::Failed(format!(
                "the config update of serving endpoint {} ended {} (the endpoint is {}). Read get_serving_build_logs{entity} for why.",
                args.name,
                e.update(),
                e.ready()
            )));
        }
        let done = e.ready() == "READY" && e.update() == "NOT_UPDATING";
        let status = e.status();
        last = Some(raw.clone());
        Ok(if done { Poll::Ready(raw) } else { Poll::Pending(status) })
    })?;
    Ok(match waited {
        Waited::Done(raw) => Output::new(raw.get()?.details(), WaitResult { ready: true, endpoint: raw }),
        Waited::StillRunning { last: status, waited } => {
            let raw = last.ok_or_else(|| ToolError::internal("the wait ended before the endpoint was read"))?;
            Output::new(
                format!(
                    "Serving endpoint {} is still {status} after {}s; the deployment goes on. Call wait_for_serving_endpoint again to keep waiting, or get_serving_endpoint to check.",
                    args.name,
                    waited.as_secs()
                ),
                WaitResult { ready: false, endpoint: raw },
            )
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Querying

/// A chat message.
#[schema]
#[derive(Debug, Clone)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The message text.
    pub content: String,
}

/// Arguments of `query_serving_endpoint`: give the input that fits the endpoint's kind.
#[schema]
pub struct QueryEndpoint {
    /// The serving endpoint's name.
    pub name: String,
    /// Chat endpoints (`llm/v1/chat`): the conversation, last message from the user.
    #[serde(default)]
    pub messages: Option<Vec<ChatMessage>>,
    /// Completions endpoints (`llm/v1/completions`): the prompt.
    #[serde(default)]
    pub prompt: Option<String>,
    /// Embeddings endpoints (`llm/v1/embeddings`): the texts to embed.
    #[serde(default)]
    pub input: Option<Vec<String>>,
    /// Custom models: rows as objects, column name to value (pandas `records` orientation).
    #[serde(default)]
    pub dataframe_records: Option<Vec<Value>>,
    /// Custom models: `{"columns": [...], "data": [[...], ...]}` (pandas `split` orientation).
    #[serde(default)]
    pub dataframe_split: Option<Value>,
    /// Custom models taking tensors: the `instances` (or `inputs`) list.
    #[serde(default)]
    pub instances: Option<Vec<Value>>,
    /// Chat and completions: most tokens to generate.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Chat and completions: sampling temperature, 0-2.
    #[serde(default)]
    pub temperature: Option<f64>,
}

/// A query's answer.
#[schema]
pub struct QueryResult {
    /// The endpoint queried.
    pub name: String,
    /// The served model that answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_model_name: Option<String>,
    /// The endpoint's response, as returned (`choices`, `data`, `predictions`, `usage`, ...).
    pub response: Value,
}

const MAX_TEXT_CHARS: usize = 4000;

fn query_text(response: &Value) -> String {
    let mut lines = Vec::new();
    if let Some(choices) = response["choices"].as_array() {
        for c in choices {
            let text = c["message"]["content"].as_str().or(c["text"].as_str()).unwrap_or_default();
            let reason = c["finish_reason"]
                .as_str()
                .filter(|r| *r != "stop")
                .map(|r| format!(" [finish: {r}]"))
                .unwrap_or_default();
            lines.push(format!("{text}{reason}"));
        }
    } else if let Some(data) = response["data"].as_array() {
        let dims = data.first().and_then(|d| d["embedding"].as_array()).map_or(0, Vec::len);
        lines.push(format!("{} embedding(s) of {dims} dimensions (vectors in the structured result).", data.len()));
        for d in data {
            let head: Vec<String> =
                d["embedding"].as_array().into_iter().flatten().take(4).map(|x| x.to_string()).collect();
            lines.push(format!("[{}] {}, ...", d["index"], head.join(", ")));
        }
    } else if let Some(predictions) = response.get("predictions").or(response.get("outputs")) {
        lines.push(format!("Predictions: {predictions}"));
    } else {
        lines.push(response.to_string());
    }
    if let Some(usage) = response.get("usage").filter(|u| u.is_object()) {
        lines.push(format!(
            "Tokens: {} prompt, {} completion.",
            usage["prompt_tokens"].as_u64().unwrap_or(0),
            usage["completion_tokens"].as_u64().unwrap_or(0)
        ));
    }
    let mut text = lines.join("\n");
    if text.len() > MAX_TEXT_CHARS {
        let cut = (0..=MAX_TEXT_CHARS).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        text.truncate(cut);
        text.push_str("\n[cut; the whole response is in the structured result]");
    }
    text
}

/// Query a serving endpoint and return its answer. Give the input its kind takes (see
/// `get_serving_endpoint`): `messages` for chat, `prompt` for completions, `input` for
/// embeddings, `dataframe_records`, `dataframe_split` or `instances` for custom models. Needs
/// CAN_QUERY on the endpoint; external models may cost money per call.
#[tool(title = "Query serving endpoint")]
fn query_serving_endpoint(ctx: &Context, args: QueryEndpoint) -> Result<Output<QueryResult>> {
    let mut body = databricks_mcp_sdk::serde_json::Map::new();
    let given = [
        args.messages.is_some(),
        args.prompt.is_some(),
        args.input.is_some(),
        args.dataframe_records.is_some(),
        args.dataframe_split.is_some(),
        args.instances.is_some(),
    ];
    match given.iter().filter(|g| **g).count() {
        0 => {
            return Err(ToolError::invalid(
                "give the input: messages (chat), prompt (completions), input (embeddings), or dataframe_records / dataframe_split / instances (custom models)",
            ));
        }
        1 => {}
        _ => return Err(ToolError::invalid("give only one kind of input")),
    }
    if let Some(m) = args.messages {
        if m.is_empty() {
            return Err(ToolError::invalid("messages is empty"));
        }
        body.insert("messages".into(), json!(m));
    }
    if let Some(p) = args.prompt {
        body.insert("prompt".into(), json!(p));
    }
    if let Some(i) = args.input {
        if i.is_empty() {
            return Err(ToolError::invalid("input is empty: give at least one text to embed"));
        }
        body.insert("input".into(), json!(i));
    }
    if let Some(r) = args.dataframe_records {
        body.insert("dataframe_records".into(), json!(r));
    }
    if let Some(s) = args.dataframe_split {
        body.insert("dataframe_split".into(), s);
    }
    if let Some(i) = args.instances {
        body.insert("instances".into(), json!(i));
    }
    if let Some(n) = args.max_tokens {
        body.insert("max_tokens".into(), json!(n));
    }
    if let Some(t) = args.temperature {
        if !(0.0..=2.0).contains(&t) {
            return Err(ToolError::invalid("temperature must be between 0 and 2"));
        }
        body.insert("temperature".into(), json!(t));
    }
    let path = format!("/serving-endpoints/{}/invocations", segment(&args.name));
    let response: Value = ctx.post(&path, &Value::Object(body))?;
    let served_model_name = response["served_model_name"].as_str().map(str::to_string);
    Ok(Output::new(query_text(&response), QueryResult { name: args.name, served_model_name, response }))
}

// ---------------------------------------------------------------------------------------------
// Logs

/// Arguments of the log tools.
#[schema]
pub struct LogsArgs {
    /// The serving endpoint's name.
    pub name: String,
    /// The served model (entity) whose logs to read; default: the one being deployed, else the
    /// first live one.
    #[serde(default)]
    pub served_model_name: Option<String>,
    /// Only the last this many lines (default 200, at most 2000).
    #[serde(default)]
    pub tail_lines: Option<u32>,
}

/// Log text.
#[schema]
pub struct Logs {
    /// The endpoint.
    pub name: String,
    /// The served model the logs are of.
    pub served_model_name: String,
    /// The log lines returned (the last `tail_lines`).
    pub logs: String,
    /// True when earlier lines were left out.
    pub truncated: bool,
}

fn logs(ctx: &Context, args: LogsArgs, kind: &str) -> Result<Output<Logs>> {
    let served = match args.served_model_name.filter(|s| !s.is_empty()) {
        Some(s) => s,
        None => {
            let e = fetch(ctx, &args.name)?.get()?;
            let pending = e.pending_config.iter().flat_map(|c| &c.served_entities).next();
            let live = e.config.iter().flat_map(|c| &c.served_entities).next();
            let pick = if kind == "build-logs" { pending.or(live) } else { live.or(pending) };
            pick.map(|x| x.name.clone()).ok_or_else(|| {
                ToolError::invalid(format!("serving endpoint {} serves nothing; give served_model_name", args.name))
            })?
        }
    };
    #[databricks_mcp_sdk::schema]
    struct Raw {
        #[serde(default)]
        logs: String,
    }
    let path = format!("{}/served-models/{}/{kind}", endpoint_path(&args.name), segment(&served));
    let raw: Raw = ctx.get(&path, &[])?;
    let tail = args.tail_lines.unwrap_or(200).clamp(1, 2000) as usize;
    let lines: Vec<&str> = raw.logs.lines().collect();
    let truncated = lines.len() > tail;
    let text = lines[lines.len().saturating_sub(tail)..].join("\n");
    let what = if kind == "build-logs" { "Build logs" } else { "Server logs" };
    let mut shown = format!("{what} of {served} on {}:\n{text}", args.name);
    if truncated {
        shown.push_str(&format!("\n[{} earlier lines left out; raise tail_lines to see them]", lines.len() - tail));
    }
    Ok(Output::new(shown, Logs { name: args.name, served_model_name: served, logs: text, truncated }))
}

/// Read the build logs of a served model: how its container image was built, and why a
/// deployment failed (`UPDATE_FAILED`).
#[tool(read_only, idempotent, title = "Serving build logs")]
fn get_serving_build_logs(ctx: &Context, args: LogsArgs) -> Result<Output<Logs>> {
    logs(ctx, args, "build-logs")
}

/// Read the server logs of a deployed served model: its start-up and what it printed while
/// answering queries (errors, warnings), the last lines first to check.
#[tool(read_only, idempotent, title = "Serving server logs")]
fn get_serving_server_logs(ctx: &Context, args: LogsArgs) -> Result<Output<Logs>> {
    logs(ctx, args, "logs")
}

databricks_mcp_sdk::plugin! {
    name: "serving",
    description: "Databricks model serving: list, get, create, reconfigure, delete and wait for serving endpoints; query them (chat, completions, embeddings, custom models); read build and server logs",
    grants: [
        "GET /api/2.0/serving-endpoints",
        "POST /api/2.0/serving-endpoints",
        "GET /api/2.0/serving-endpoints/*",
        "DELETE /api/2.0/serving-endpoints/*",
        "PUT /api/2.0/serving-endpoints/*/config",
        "GET /api/2.0/serving-endpoints/*/served-models/*/build-logs",
        "GET /api/2.0/serving-endpoints/*/served-models/*/logs",
        "POST /serving-endpoints/*/invocations",
    ],
    tools: [
        list_serving_endpoints,
        get_serving_endpoint,
        create_serving_endpoint,
        update_serving_endpoint_config,
        delete_serving_endpoint,
        wait_for_serving_endpoint,
        query_serving_endpoint,
        get_serving_build_logs,
        get_serving_server_logs,
    ],
}
