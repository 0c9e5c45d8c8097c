//! HTTP handlers of Genie: spaces, conversations, messages and query results.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Conversation, GENIE_SPACE, Message, Space, Status, advance, answer, genie_id};
use crate::{
    error::{ApiError, ApiResult},
    extract::{ApiJson, Params},
    identity::Caller,
    pagination::{decode_token, page},
    sql::statement_response,
    workspace::{AppState, Workspace},
};

type App = State<Arc<AppState>>;

const DEFAULT_PAGE_SIZE: usize = 50;
const MAX_PAGE_SIZE: usize = 100;

fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", format!("{what} {id} does not exist."))
}

/// The space, if the caller holds `level` on it (a space they cannot view does not exist to them).
fn space<'a>(ws: &'a Workspace, id: &str, caller: &Caller, level: &str) -> ApiResult<&'a Space> {
    let s = ws.genie.spaces.get(id).ok_or_else(|| not_found("Genie space", id))?;
    if !ws.acls.allows(&GENIE_SPACE, id, caller, Some(&s.creator), "CAN_VIEW") {
        return Err(not_found("Genie space", id));
    }
    ws.acls.check(&GENIE_SPACE, id, caller, Some(&s.creator), level)?;
    Ok(s)
}

/// The conversation, if it is in the space and the caller started it.
fn conversation<'a>(ws: &'a Workspace, space_id: &str, id: &str, caller: &Caller) -> ApiResult<&'a Conversation> {
    space(ws, space_id, caller, "CAN_VIEW")?;
    let c = ws
        .genie
        .conversations
        .get(id)
        .filter(|c| c.space_id == space_id)
        .ok_or_else(|| not_found("Conversation", id))?;
    if !c.user.eq_ignore_ascii_case(&caller.user_name) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            format!("User {} cannot access conversation {id}: it belongs to another user.", caller.user_name),
        ));
    }
    Ok(c)
}

fn paged(items: Vec<Value>, key: &str, params: &Params) -> ApiResult<Json<Value>> {
    let size = match params.parse::<usize>("page_size")? {
        None | Some(0) => DEFAULT_PAGE_SIZE,
        Some(n) => n.min(MAX_PAGE_SIZE),
    };
    let cut = page(items, decode_token(params.get("page_token").unwrap_or_default())?, size);
    let mut out = Map::new();
    out.insert(key.into(), Value::Array(cut.items));
    if let Some(token) = cut.next_page_token {
        out.insert("next_page_token".into(), json!(token));
    }
    Ok(Json(Value::Object(out)))
}

pub(super) async fn list_spaces(State(app): App, caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    let ws = app.workspace();
    let items = ws
        .genie
        .spaces
        .values()
        .filter(|s| ws.acls.allows(&GENIE_SPACE, &s.id, &caller, Some(&s.creator), "CAN_VIEW"))
        .map(Space::render)
        .collect();
    paged(items, "spaces", &params)
}

pub(super) async fn get_space(State(app): App, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let ws = app.workspace();
    Ok(Json(space(&ws, &id, &caller, "CAN_VIEW")?.render()))
}

pub(super) async fn list_conversations(
    State(app): App,
    caller: Caller,
    Path(space_id): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let ws = app.workspace();
    space(&ws, &space_id, &caller, "CAN_VIEW")?;
    let mut items: Vec<&Conversation> = ws
        .genie
        .conversations
        .values()
        .filter(|c| c.space_id == space_id && c.user.eq_ignore_ascii_case(&caller.user_name))
        .collect();
    items.sort_by_key(|c| std::cmp::Reverse(c.created));
    paged(items.into_iter().map(Conversation::render).collect(), "conversations", &params)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Ask {
    content: Option<String>,
}

/// Adds a message asking `content` in a conversation; returns its id.
fn ask(
    ws: &mut Workspace,
    space_id: &str,
    conversation_id: &str,
    content: String,
    caller: &Caller,
    now: u64,
) -> String {
    let plan = ws.genie.spaces.get(space_id).and_then(|s| answer::plan(&content, &s.tables, &s.examples));
    let id = genie_id(&format!("message:{}:{now}:{content}", ws.genie.messages.len()));
    ws.genie.messages.insert(
        id.clone(),
        Message {
            id: id.clone(),
            space_id: space_id.to_owned(),
            conversation_id: conversation_id.to_owned(),
            content,
            user: caller.user_name.clone(),
            user_id: caller.id.parse().unwrap_or(0),
            created: now,
            updated: now,
            status: Status::Submitted,
            plan,
            result: None,
            error: None,
        },
    );
    if let Some(c) = ws.genie.conversations.get_mut(conversation_id) {
        c.updated = now;
    }
    id
}

fn content(body: Ask) -> ApiResult<String> {
    body.content.filter(|c| !c.trim().is_empty()).ok_or_else(|| ApiError::missing_field("content"))
}

pub(super) async fn start_conversation(
    State(app): App,
    caller: Caller,
    Path(space_id): Path<String>,
    ApiJson(body): ApiJson<Ask>,
) -> ApiResult<Json<Value>> {
    let content = content(body)?;
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    space(ws, &space_id, &caller, "CAN_RUN")?;
    let conversation_id = genie_id(&format!("conversation:{}:{}:{content}", ws.genie.conversations.len(), at.now));
    let title: String = content.chars().take(100).collect();
    ws.genie.conversations.insert(
        conversation_id.clone(),
        Conversation {
            id: conversation_id.clone(),
            space_id: space_id.clone(),
            title,
            user: caller.user_name.clone(),
            user_id: caller.id.parse().unwrap_or(0),
            created: at.now,
            updated: at.now,
        },
    );
    let message_id = ask(ws, &space_id, &conversation_id, content, &caller, at.now);
    advance(&mut ws.genie, &mut ws.unity, &mut ws.sql, &message_id, at);
    Ok(Json(json!({
        "conversation_id": conversation_id,
        "message_id": message_id,
        "conversation": ws.genie.conversations[&conversation_id].render(),
        "message": ws.genie.messages[&message_id].render(),
    })))
}

pub(super) async fn create_message(
    State(app): App,
    caller: Caller,
    Path((space_id, conversation_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Ask>,
) -> ApiResult<Json<Value>> {
    let content = content(body)?;
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    conversation(ws, &space_id, &conversation_id, &caller)?;
    space(ws, &space_id, &caller, "CAN_RUN")?;
    let id = ask(ws, &space_id, &conversation_id, content, &caller, at.now);
    advance(&mut ws.genie, &mut ws.unity, &mut ws.sql, &id, at);
    Ok(Json(ws.genie.messages[&id].render()))
}

/// The message, advanced to now, if the caller may read its conversation.
fn message(
    app: &AppState,
    ws: &mut Workspace,
    space_id: &str,
    conversation_id: &str,
    id: &str,
    caller: &Caller,
) -> ApiResult<Value> {
    conversation(ws, space_id, conversation_id, caller)?;
    if ws.genie.messages.get(id).is_none_or(|m| m.conversation_id != conversation_id) {
        return Err(not_found("Message", id));
    }
    advance(&mut ws.genie, &mut ws.unity, &mut ws.sql, id, app.clock.moment());
    Ok(ws.genie.messages[id].render())
}

pub(super) async fn get_message(
    State(app): App,
    caller: Caller,
    Path((space_id, conversation_id, id)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let mut ws = app.workspace();
    Ok(Json(message(&app, &mut ws, &space_id, &conversation_id, &id, &caller)?))
}

pub(super) async fn query_result(
    State(app): App,
    caller: Caller,
    Path((space_id, conversation_id, id, attachment)): Path<(String, String, String, String)>,
) -> ApiResult<Json<Value>> {
    let mut ws = app.workspace();
    let ws = &mut *ws;
    message(&app, ws, &space_id, &conversation_id, &id, &caller)?;
    let m = &ws.genie.messages[&id];
    if m.attachment_id() != attachment {
        return Err(not_found("Query attachment", &attachment));
    }
    let Some((statement_id, _, _)) = &m.result else {
        return Err(ApiError::invalid_state(format!(
            "Message {id} is {}; its query result is available once it is COMPLETED.",
            m.status.as_str()
        )));
    };
    let response = statement_response(&ws.sql, statement_id).ok_or_else(|| not_found("Statement", statement_id))?;
    Ok(Json(json!({ "statement_response": response })))
}
