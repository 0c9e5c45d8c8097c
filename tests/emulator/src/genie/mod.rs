//! Genie (AI/BI) spaces and conversations (`/api/2.0/genie/spaces/...`).
//!
//! A space is a set of Unity Catalog tables, a SQL warehouse and curated example questions. Asking
//! (start a conversation, or send a message in one) creates a message that walks
//! `SUBMITTED` → `ASKING_AI` → `EXECUTING_QUERY` → `COMPLETED`, one transition delay per step and
//! lazily on read like every state machine here. On reaching `COMPLETED` the SQL Genie "wrote"
//! (`answer`) runs on the emulator's SQL engine as the asker, and is recorded as a statement of
//! the space's warehouse, so the query result is real data in the Statement Execution API's shape
//! (`GET …/attachments/{id}/query-result` → `{statement_response}`). SQL that fails ends the
//! message `FAILED` with the engine's error.
//!
//! Permissions (`CAN_VIEW` < `CAN_RUN` < `CAN_EDIT` < `CAN_MANAGE`): asking takes `CAN_RUN`; lists
//! show spaces the caller can view; a conversation belongs to the user who started it (others get
//! 403 `PERMISSION_DENIED`). Missing spaces, conversations, messages and attachments are 404
//! `RESOURCE_DOES_NOT_EXIST`. Lists page with `page_size`/`page_token`.

mod answer;
mod handlers;
pub(crate) mod seed;

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Router,
    routing::{get, post},
};
use serde_json::{Value, json};

use crate::{
    acl::ObjectKind,
    clock::Moment,
    serving::model::fnv,
    sql::{Sql, engine, record_finished},
    unity::Unity,
};

/// Genie spaces: view, run (ask), edit, manage.
pub(crate) const GENIE_SPACE: ObjectKind = ObjectKind {
    api_name: "genie",
    object_type: "genie",
    levels: &[
        ("CAN_VIEW", "Can view the Genie space", "View"),
        ("CAN_RUN", "Can ask questions in the Genie space", "Run"),
        ("CAN_EDIT", "Can edit the Genie space", "Edit"),
        ("CAN_MANAGE", "Can manage the Genie space", "Manage"),
    ],
};

/// A 32-hex-digit id like the service's, from a seed string.
pub(crate) fn genie_id(seed: &str) -> String {
    format!("01f0{:012x}{:016x}", fnv(seed.as_bytes()) >> 16, fnv(format!("genie:{seed}").as_bytes()))
}

#[derive(Debug, Clone)]
pub(crate) struct Space {
    pub id: String,
    pub title: String,
    pub description: String,
    pub warehouse_id: String,
    pub tables: Vec<String>,
    /// Curated example questions and their SQL.
    pub examples: Vec<(String, String)>,
    pub creator: String,
}

impl Space {
    pub fn render(&self) -> Value {
        json!({
            "space_id": self.id,
            "title": self.title,
            "description": self.description,
            "warehouse_id": self.warehouse_id,
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Conversation {
    pub id: String,
    pub space_id: String,
    pub title: String,
    pub user: String,
    pub user_id: u64,
    pub created: u64,
    pub updated: u64,
}

impl Conversation {
    pub fn render(&self) -> Value {
        json!({
            "id": self.id,
            "conversation_id": self.id,
            "space_id": self.space_id,
            "title": self.title,
            "user_id": self.user_id,
            "created_timestamp": self.created,
            "last_updated_timestamp": self.updated,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Submitted,
    AskingAi,
    ExecutingQuery,
    Completed,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "SUBMITTED",
            Status::AskingAi => "ASKING_AI",
            Status::ExecutingQuery => "EXECUTING_QUERY",
            Status::Completed => "COMPLETED",
            Status::Failed => "FAILED",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub id: String,
    pub space_id: String,
    pub conversation_id: String,
    pub content: String,
    pub user: String,
    pub user_id: u64,
    pub created: u64,
    pub updated: u64,
    pub status: Status,
    pub plan: Option<answer::Plan>,
    /// Once run: the statement holding the result, and its row count and first row.
    pub result: Option<(String, usize, Vec<Option<String>>)>,
    pub error: Option<String>,
}

impl Message {
    pub fn attachment_id(&self) -> String {
        genie_id(&format!("attachment:{}", self.id))
    }

    fn text_attachment_id(&self) -> String {
        genie_id(&format!("text:{}", self.id))
    }

    /// `GenieMessage`.
    pub fn render(&self) -> Value {
        let mut out = json!({
            "id": self.id,
            "message_id": self.id,
            "space_id": self.space_id,
            "conversation_id": self.conversation_id,
            "content": self.content,
            "user_id": self.user_id,
            "status": self.status.as_str(),
            "created_timestamp": self.created,
            "last_updated_timestamp": self.updated,
            "attachments": [],
        });
        match (self.status, &self.plan, &self.result) {
            (Status::Completed, Some(plan), Some((statement_id, rows, first))) => {
                let summary = match (rows, first.as_slice()) {
                    (1, [Some(value)]) => format!("{} The answer is {value}.", plan.description),
                    _ => format!("{} The query returned {rows} row(s).", plan.description),
                };
                out["attachments"] = json!([
                    {"attachment_id": self.attachment_id(), "query": {
                        "query": plan.sql, "description": plan.description, "title": plan.title,
                        "statement_id": statement_id, "query_result_metadata": {"row_count": rows}}},
                    {"attachment_id": self.text_attachment_id(), "text": {"content": summary}},
                ]);
                out["query_result"] = json!({"statement_id": statement_id, "row_count": rows});
            }
            (Status::Completed, None, _) => {
                out["attachments"] = json!([{"attachment_id": self.text_attachment_id(), "text": {
                    "content": "This space has no tables to answer from; ask its owner to add some."}}]);
            }
            _ => {}
        }
        if let Some(e) = &self.error {
            out["error"] = json!({"error": e, "type": "SQL_EXECUTION_EXCEPTION"});
        }
        out
    }
}

/// Spaces, conversations and messages, by id.
#[derive(Debug, Default)]
pub(crate) struct Genie {
    pub spaces: BTreeMap<String, Space>,
    pub conversations: BTreeMap<String, Conversation>,
    pub messages: BTreeMap<String, Message>,
}

/// Steps from `SUBMITTED` to the end.
const STEPS: u64 = 3;

/// Moves a message as far as `at` allows; runs its SQL when it reaches the end.
pub(crate) fn advance(genie: &mut Genie, unity: &mut Unity, sql: &mut Sql, id: &str, at: Moment) {
    let Some(m) = genie.messages.get_mut(id) else { return };
    if matches!(m.status, Status::Completed | Status::Failed) {
        return;
    }
    let steps = at.now.saturating_sub(m.created).checked_div(at.delay_ms).map_or(STEPS, |s| s.min(STEPS));
    m.status = match steps {
        0 => Status::Submitted,
        1 => Status::AskingAi,
        2 => Status::ExecutingQuery,
        _ => Status::Completed,
    };
    m.updated = m.created + steps * at.delay_ms;
    if m.status != Status::Completed {
        return;
    }
    let Some(plan) = m.plan.clone() else { return };
    let warehouse = genie.spaces.get(&m.space_id).map(|s| s.warehouse_id.clone()).unwrap_or_default();
    let context =
        engine::Context { catalog: "main".into(), schema: "default".into(), user: m.user.clone(), now: m.updated };
    let result = engine::execute(unity, &plan.sql, &context, &[]);
    match &result {
        Ok(outcome) => {
            let first = outcome.rows.first().cloned().unwrap_or_default();
            let rows = outcome.rows.len();
            let statement_id = record_finished(sql, &warehouse, &plan.sql, context, result);
            m.result = Some((statement_id, rows, first));
        }
        Err(e) => {
            m.status = Status::Failed;
            m.error = Some(e.message.clone());
        }
    }
}

/// The endpoints, to be nested under `/api/2.0/genie`.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/spaces", get(handlers::list_spaces))
        .route("/spaces/{space}", get(handlers::get_space))
        .route("/spaces/{space}/start-conversation", post(handlers::start_conversation))
        .route("/spaces/{space}/conversations", get(handlers::list_conversations))
        .route("/spaces/{space}/conversations/{conversation}/messages", post(handlers::create_message))
        .route("/spaces/{space}/conversations/{conversation}/messages/{message}", get(handlers::get_message))
        .route(
            "/spaces/{space}/conversations/{conversation}/messages/{message}/attachments/{attachment}/query-result",
            get(handlers::query_result),
        )
}

use crate::workspace::AppState;
