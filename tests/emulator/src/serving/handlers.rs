//! HTTP handlers of model serving: endpoint management, logs, and queries.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Config, Endpoint, Entity, SERVING_ENDPOINT, Task, Update, model};
use crate::{
    acl::Grantee,
    clock::{Moment, civil_from_epoch_ms},
    error::{ApiError, ApiResult},
    extract::ApiJson,
    identity::Caller,
    unity::Unity,
    workspace::{AppState, Workspace},
};

type App = State<Arc<AppState>>;

fn not_found(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
        format!("Endpoint with name '{name}' does not exist."),
    )
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
}

/// `2026-12-04T07:35:38Z`.
pub(crate) fn timestamp(ms: u64) -> String {
    let (y, mo, d, h, mi, s) = civil_from_epoch_ms(ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// The endpoint, advanced to now, if the caller holds `level` on it.
fn endpoint<'a>(
    ws: &'a mut Workspace,
    name: &str,
    caller: &Caller,
    level: &str,
    at: Moment,
) -> ApiResult<&'a mut Endpoint> {
    let ep = ws.serving.endpoints.get_mut(name).ok_or_else(|| not_found(name))?;
    ep.advance(at);
    // Someone who cannot even view it learns nothing about it.
    if !ws.acls.allows(&SERVING_ENDPOINT, &ep.id, caller, Some(&ep.creator), "CAN_VIEW") {
        return Err(not_found(name));
    }
    ws.acls.check(&SERVING_ENDPOINT, &ep.id, caller, Some(&ep.creator), level)?;
    Ok(ep)
}

fn level_of(ws: &Workspace, ep: &Endpoint, caller: &Caller) -> Option<&'static str> {
    ws.acls.effective(&SERVING_ENDPOINT, &ep.id, caller, Some(&ep.creator)).map(|r| SERVING_ENDPOINT.levels[r].0)
}

pub(super) async fn list(State(app): App, caller: Caller) -> ApiResult<Json<Value>> {
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let mut out = Vec::new();
    for ep in ws.serving.endpoints.values_mut() {
        ep.advance(at);
        if ws.acls.allows(&SERVING_ENDPOINT, &ep.id, &caller, Some(&ep.creator), "CAN_VIEW") {
            out.push(ep.render(false, None));
        }
    }
    Ok(Json(json!({ "endpoints": out })))
}

pub(super) async fn get(State(app): App, caller: Caller, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    endpoint(ws, &name, &caller, "CAN_VIEW", at)?;
    let ep = &ws.serving.endpoints[&name];
    Ok(Json(ep.render(true, level_of(ws, ep, &caller))))
}

/// Builds one served entity from its spec, checking what it serves exists.
fn entity(spec: &Value, uc: &Unity, caller: &Caller, now: u64) -> ApiResult<Entity> {
    let Value::Object(spec) = spec else {
        return Err(ApiError::invalid_parameter("Each served entity must be an object."));
    };
    let mut spec: Map<String, Value> = spec.clone();
    let given_name = spec.remove("name").and_then(|n| n.as_str().map(str::to_owned)).filter(|n| !n.is_empty());
    let (default_name, task, build_error) = if let Some(external) = spec.get("external_model") {
        let name = external["name"]
            .as_str()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ApiError::missing_field("external_model.name"))?;
        if external["provider"].as_str().is_none_or(str::is_empty) {
            return Err(ApiError::missing_field("external_model.provider"));
        }
        let task = match external["task"].as_str() {
            Some("llm/v1/chat") => Task::Chat,
            Some("llm/v1/completions") => Task::Completions,
            Some("llm/v1/embeddings") => Task::Embeddings,
            other => {
                return Err(ApiError::invalid_parameter(format!(
                    "Invalid external_model.task {other:?}: expected llm/v1/chat, llm/v1/completions or llm/v1/embeddings."
                )));
            }
        };
        (name.to_owned(), task, None)
    } else {
        let entity_name = spec
            .get("entity_name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ApiError::missing_field("served_entities.entity_name"))?
            .to_owned();
        let version = spec.get("entity_version").map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let last = entity_name.rsplit('.').next().unwrap_or(&entity_name).to_owned();
        if let Some(foundation) = entity_name.strip_prefix("system.ai.") {
            let task = if ["bge", "gte", "embed"].iter().any(|k| foundation.contains(k)) {
                Task::Embeddings
            } else {
                Task::Chat
            };
            let name = version.as_ref().map_or(last.clone(), |v| format!("{last}-{v}"));
            (name, task, None)
        } else {
            let version = version.ok_or_else(|| ApiError::missing_field("served_entities.entity_version"))?;
            let number: u64 = version.parse().map_err(|_| {
                ApiError::invalid_parameter(format!("Invalid entity_version '{version}': expected a version number."))
            })?;
            let (_, v) = uc.model_version(&entity_name, number, caller)?;
            let error = match v.status {
                "READY" => None,
                status => Some(format!(
                    "Model version {number} of '{entity_name}' is {status}: its artifacts cannot be loaded. Register a new version and update the endpoint."
                )),
            };
            (format!("{last}-{version}"), Task::Custom, error)
        }
    };
    spec.entry("workload_size").or_insert_with(|| json!("Small"));
    spec.entry("scale_to_zero_enabled").or_insert_with(|| json!(true));
    Ok(Entity {
        name: given_name.unwrap_or(default_name),
        spec,
        task,
        build_error,
        created: now,
        creator: caller.user_name.clone(),
        log: Vec::new(),
    })
}

/// A config from `{served_entities, traffic_config}`.
fn config(body: &Value, uc: &Unity, caller: &Caller, version: u64, now: u64) -> ApiResult<Config> {
    let list = body
        .get("served_entities")
        .or_else(|| body.get("served_models"))
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| ApiError::missing_field("config.served_entities"))?;
    let entities = list.iter().map(|s| entity(s, uc, caller, now)).collect::<ApiResult<Vec<_>>>()?;
    for (i, e) in entities.iter().enumerate() {
        if entities[..i].iter().any(|o| o.name == e.name) {
            return Err(ApiError::invalid_parameter(format!("Served entity name '{}' is used twice.", e.name)));
        }
    }
    if entities.iter().any(|e| e.task != entities[0].task) {
        return Err(ApiError::invalid_parameter("All served entities of an endpoint must serve the same task."));
    }
    let traffic = match body.get("traffic_config") {
        Some(t) => {
            let routes = t["routes"].as_array().ok_or_else(|| ApiError::missing_field("traffic_config.routes"))?;
            let mut total = 0;
            for r in routes {
                let name = r["served_model_name"].as_str().or(r["served_entity_name"].as_str()).unwrap_or_default();
                if !entities.iter().any(|e| e.name == name) {
                    return Err(ApiError::invalid_parameter(format!(
                        "Traffic route names '{name}', which is not a served entity."
                    )));
                }
                total += r["traffic_percentage"].as_u64().unwrap_or(0);
            }
            if total != 100 {
                return Err(ApiError::invalid_parameter(format!(
                    "Traffic percentages must add up to 100, not {total}."
                )));
            }
            t.clone()
        }
        None => {
            let n = entities.len() as u64;
            let routes: Vec<Value> = entities
                .iter()
                .enumerate()
                .map(|(i, e)| json!({"served_model_name": e.name, "traffic_percentage": 100 / n + u64::from(i == 0) * (100 % n)}))
                .collect();
            json!({ "routes": routes })
        }
    };
    Ok(Config { entities, traffic, version, start: now })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CreateBody {
    name: Option<String>,
    config: Option<Value>,
    description: Option<String>,
    tags: Vec<Value>,
}

fn valid_name(name: &str) -> bool {
    (1..=63).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

pub(super) async fn create(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<Json<Value>> {
    let name = body.name.filter(|n| !n.is_empty()).ok_or_else(|| ApiError::missing_field("name"))?;
    if !valid_name(&name) {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid endpoint name '{name}': use letters, digits, dashes and underscores, at most 63 characters."
        )));
    }
    let spec = body.config.ok_or_else(|| ApiError::missing_field("config"))?;
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    if ws.serving.endpoints.contains_key(&name) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "RESOURCE_ALREADY_EXISTS",
            format!("Endpoint with name '{name}' already exists."),
        ));
    }
    let pending = config(&spec, &ws.unity, &caller, 1, at.now)?;
    let id = format!("{:016x}{:016x}", model::fnv(name.as_bytes()), model::fnv(format!("endpoint:{name}").as_bytes()));
    let ep = Endpoint {
        name: name.clone(),
        id,
        creator: caller.user_name.clone(),
        created: at.now,
        updated: at.now,
        description: body.description,
        tags: body.tags,
        config: None,
        pending: Some(pending),
        update: Update::InProgress,
        failed: None,
    };
    let out = ep.render(true, Some("CAN_MANAGE"));
    ws.acls.register(&SERVING_ENDPOINT, &ep.id, &ep.creator);
    ws.serving.endpoints.insert(name, ep);
    Ok(Json(out))
}

pub(super) async fn update_config(
    State(app): App,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let ep = endpoint(ws, &name, &caller, "CAN_MANAGE", at)?;
    if ep.update == Update::InProgress {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "RESOURCE_CONFLICT",
            format!(
                "Endpoint '{name}' is currently being updated; wait for the update to finish before changing its config again."
            ),
        ));
    }
    let version = [&ep.config, &ep.failed].into_iter().flatten().map(|c| c.version).max().unwrap_or(0) + 1;
    let pending = config(&body, &ws.unity, &caller, version, at.now)?;
    let ep = ws.serving.endpoints.get_mut(&name).ok_or_else(|| not_found(&name))?;
    ep.pending = Some(pending);
    ep.update = Update::InProgress;
    ep.updated = at.now;
    Ok(Json(ep.render(true, Some("CAN_MANAGE"))))
}

pub(super) async fn delete(State(app): App, caller: Caller, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let id = endpoint(ws, &name, &caller, "CAN_MANAGE", at)?.id.clone();
    ws.serving.endpoints.remove(&name);
    ws.acls.forget(&SERVING_ENDPOINT, &id);
    Ok(Json(json!({})))
}

fn entity_of<'a>(ep: &'a Endpoint, served: &str) -> ApiResult<&'a Entity> {
    ep.entity(served).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "RESOURCE_DOES_NOT_EXIST",
            format!("Served model '{served}' does not exist on endpoint '{}'.", ep.name),
        )
    })
}

/// The build log of an entity: image build steps, then success or the failure.
pub(super) async fn build_logs(
    State(app): App,
    caller: Caller,
    Path((name, served)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ep = endpoint(&mut ws, &name, &caller, "CAN_VIEW", at)?;
    let e = entity_of(ep, &served)?;
    let t = |step: u64| timestamp(e.created + step * 1000);
    let source = e.spec.get("entity_name").and_then(Value::as_str).unwrap_or(&e.name);
    let mut lines = vec![
        format!("{} Building image for served entity {} ({source})", t(0), e.name),
        format!("{} Resolving model artifacts", t(1)),
    ];
    let live = ep.pending.as_ref().is_none_or(|p| !p.entities.iter().any(|x| std::ptr::eq(x, e)));
    match &e.build_error {
        Some(error) => lines.push(format!("{} ERROR {error}", t(2))),
        None if live => {
            lines.push(format!("{} Installing dependencies from requirements.txt", t(2)));
            lines.push(format!("{} Image built successfully", t(3)));
        }
        None => lines.push(format!("{} Installing dependencies from requirements.txt (in progress)", t(2))),
    }
    Ok(Json(json!({ "logs": lines.join("\n") + "\n" })))
}

/// The server log of a live entity: start-up lines, then one line per query.
pub(super) async fn server_logs(
    State(app): App,
    caller: Caller,
    Path((name, served)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ep = endpoint(&mut ws, &name, &caller, "CAN_VIEW", at)?;
    let e = entity_of(ep, &served)?;
    if !ep.config.as_ref().is_some_and(|c| c.entities.iter().any(|x| x.name == served)) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_STATE",
            format!("Served model '{served}' is not deployed, so it has no server logs yet; read its build logs."),
        ));
    }
    let started = ep.config.as_ref().map_or(e.created, |c| c.start + super::STEPS * at.delay_ms);
    let mut lines = vec![
        format!(
            "{} INFO Starting model server for {} (workload {})",
            timestamp(started),
            e.name,
            e.spec["workload_size"].as_str().unwrap_or("Small")
        ),
        format!("{} INFO Model loaded; listening on port 8080", timestamp(started)),
    ];
    lines.extend(e.log.iter().cloned());
    Ok(Json(json!({ "logs": lines.join("\n") + "\n" })))
}

/// The text a chat message's `content` carries (a string or a list of text parts).
fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join(" "),
        _ => String::new(),
    }
}

fn strings(value: &Value, field: &str) -> ApiResult<Vec<String>> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| bad_request(format!("'{field}' must be a string or a list of strings.")))
            })
            .collect(),
        _ => Err(bad_request(format!("'{field}' must be a string or a non-empty list of strings."))),
    }
}

/// The rows of a custom model's input, in any of the four MLflow formats.
fn rows(body: &Value) -> ApiResult<Vec<Value>> {
    if let Some(records) = body.get("dataframe_records") {
        return records
            .as_array()
            .cloned()
            .ok_or_else(|| bad_request("'dataframe_records' must be a list of records."));
    }
    if let Some(split) = body.get("dataframe_split") {
        let columns =
            split["columns"].as_array().ok_or_else(|| bad_request("'dataframe_split.columns' is required."))?;
        let data = split["data"].as_array().ok_or_else(|| bad_request("'dataframe_split.data' is required."))?;
        return data
            .iter()
            .map(|row| {
                let row = row.as_array().filter(|r| r.len() == columns.len()).ok_or_else(|| {
                    bad_request(format!(
                        "Every row of 'dataframe_split.data' needs {} values, one per column.",
                        columns.len()
                    ))
                })?;
                Ok(Value::Object(
                    columns
                        .iter()
                        .zip(row)
                        .map(|(c, v)| (c.as_str().unwrap_or_default().to_owned(), v.clone()))
                        .collect(),
                ))
            })
            .collect();
    }
    for key in ["instances", "inputs"] {
        if let Some(v) = body.get(key) {
            return Ok(match v {
                Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            });
        }
    }
    Err(bad_request(
        "Invalid input for a custom model: give one of dataframe_records, dataframe_split, instances or inputs.",
    ))
}

/// `POST /serving-endpoints/{name}/invocations`.
pub(super) async fn invoke(
    State(app): App,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ep = endpoint(&mut ws, &name, &caller, "CAN_QUERY", at)?;
    let Some(live) = ep.config.as_mut() else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_STATE",
            format!("Endpoint '{name}' is not ready yet (NOT_READY); wait until its state is READY."),
        ));
    };
    // Traffic goes to the first route with a share (deterministic, unlike the service's split).
    let target = live.traffic["routes"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["traffic_percentage"].as_u64().unwrap_or(0) > 0))
        .and_then(|r| r["served_model_name"].as_str().or(r["served_entity_name"].as_str()))
        .map(str::to_owned);
    let entity = live.entities.iter_mut().find(|e| target.as_deref().is_none_or(|t| t == e.name)).ok_or_else(|| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "No served entity takes traffic.")
    })?;
    let model_name = entity
        .spec
        .get("entity_name")
        .and_then(Value::as_str)
        .or_else(|| entity.spec.get("external_model").and_then(|m| m["name"].as_str()))
        .unwrap_or(&entity.name)
        .to_owned();
    let max_tokens = body.get("max_tokens").and_then(Value::as_u64);
    let created = at.now / 1000;
    let request_id = format!("{:016x}", model::fnv(format!("{name}:{body}:{}", entity.log.len()).as_bytes()));
    let (out, summary) = match entity.task {
        Task::Chat => {
            let messages =
                body.get("messages").and_then(Value::as_array).filter(|m| !m.is_empty()).ok_or_else(|| {
                    bad_request(format!(
                        "Endpoint '{name}' serves a chat model: send 'messages', a list of {{role, content}}."
                    ))
                })?;
            let prompt: String = messages.iter().map(|m| content_text(&m["content"])).collect::<Vec<_>>().join(" ");
            let last = messages
                .iter()
                .rev()
                .find(|m| m["role"] == "user")
                .map_or_else(String::new, |m| content_text(&m["content"]));
            let (text, cut) = model::reply(&model_name, &last, max_tokens);
            let (p, c) = (model::tokens(&prompt), model::tokens(&text));
            (
                json!({
                    "id": format!("chatcmpl-{request_id}"), "object": "chat.completion", "created": created, "model": model_name,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": if cut { "length" } else { "stop" }}],
                    "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c},
                }),
                format!("chat, {p} prompt tokens"),
            )
        }
        Task::Completions => {
            let prompts = strings(
                body.get("prompt").ok_or_else(|| {
                    bad_request(format!(
                        "Endpoint '{name}' serves a completions model: send 'prompt', a string or list of strings."
                    ))
                })?,
                "prompt",
            )?;
            let mut choices = Vec::new();
            let (mut p, mut c) = (0, 0);
            for (index, prompt) in prompts.iter().enumerate() {
                let (text, cut) = model::reply(&model_name, prompt, max_tokens);
                p += model::tokens(prompt);
                c += model::tokens(&text);
                choices
                    .push(json!({"index": index, "text": text, "finish_reason": if cut { "length" } else { "stop" }}));
            }
            (
                json!({"id": format!("cmpl-{request_id}"), "object": "text_completion", "created": created, "model": model_name,
                       "choices": choices, "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}}),
                format!("completions, {} prompts", prompts.len()),
            )
        }
        Task::Embeddings => {
            let inputs = strings(
                body.get("input").ok_or_else(|| {
                    bad_request(format!(
                        "Endpoint '{name}' serves an embedding model: send 'input', a string or list of strings."
                    ))
                })?,
                "input",
            )?;
            let data: Vec<Value> = inputs
                .iter()
                .enumerate()
                .map(|(index, text)| json!({"object": "embedding", "index": index, "embedding": model::vector_json(&model::embed(text))}))
                .collect();
            let p: u64 = inputs.iter().map(|i| model::tokens(i)).sum();
            (
                json!({"id": format!("emb-{request_id}"), "object": "list", "model": model_name, "data": data,
                       "usage": {"prompt_tokens": p, "total_tokens": p}}),
                format!("embeddings, {} inputs", inputs.len()),
            )
        }
        Task::Custom => {
            if body.get("messages").is_some() || body.get("prompt").is_some() {
                return Err(bad_request(format!(
                    "Endpoint '{name}' serves a custom model: send dataframe_records, dataframe_split, instances or inputs, not chat messages or a prompt."
                )));
            }
            let rows = rows(&body)?;
            let predictions: Vec<f64> = rows.iter().map(model::score).collect();
            (json!({ "predictions": predictions }), format!("{} rows scored", rows.len()))
        }
    };
    entity.log.push(format!("{} INFO POST /invocations 200 ({summary}) by {}", timestamp(at.now), caller.user_name));
    let mut out = out;
    out["served_model_name"] = json!(entity.name);
    Ok(Json(out))
}

/// Grants every user of the workspace `level` on an endpoint (the seed's shared endpoints).
pub(crate) fn share(ws_acls: &mut crate::acl::Acls, id: &str, level: &str) {
    ws_acls.grant(&SERVING_ENDPOINT, id, Grantee::Group("users".into()), level);
}
