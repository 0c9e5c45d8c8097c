//! `/emulator/*`: the test tool's own routes, unauthenticated and never faulted or recorded.
//! They do from outside the process what [`Emulator`](crate::Emulator)'s methods do inside it.
//!
//! - `POST /emulator/faults` `{"method"?, "path", "kind": "429"|"503"|"delay"|"drop", "retry_after"?, "delay_ms"?, "count"?}`
//! - `DELETE /emulator/faults`: drop every queued fault.
//! - `GET /emulator/requests`: `{"requests": [RecordedRequest, ...]}`.
//! - `POST /emulator/clock` `{"transition_ms": N}`: the delay of each state-transition step.
//! - `POST /emulator/oauth` `{"token_ttl_ms"?: N, "u2m_user"?: "name"}`: the lifetime of OAuth
//!   tokens issued from now on (0 restores the default hour), and the user the scripted browser
//!   of `/oidc/v1/authorize` signs in as.

use std::{sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::State,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    error::ApiResult,
    extract::ApiJson,
    faults::{Fault, FaultSpec},
    workspace::AppState,
};

/// The path prefix of admin routes.
pub(crate) const PREFIX: &str = "/emulator";

pub(crate) fn router() -> axum::Router<Arc<AppState>> {
    Router::new()
        .route("/faults", post(add_fault).delete(clear_faults))
        .route("/requests", get(requests))
        .route("/clock", post(set_clock))
        .route("/oauth", post(set_oauth))
}

async fn add_fault(State(app): State<Arc<AppState>>, ApiJson(spec): ApiJson<FaultSpec>) -> ApiResult<Json<Value>> {
    app.faults.push(Fault::try_from(spec)?);
    Ok(Json(json!({})))
}

async fn clear_faults(State(app): State<Arc<AppState>>) -> Json<Value> {
    app.faults.clear();
    Json(json!({}))
}

async fn requests(State(app): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({ "requests": app.recorder.all() }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockBody {
    transition_ms: Option<u64>,
}

async fn set_clock(State(app): State<Arc<AppState>>, ApiJson(body): ApiJson<ClockBody>) -> Json<Value> {
    if let Some(ms) = body.transition_ms {
        app.clock.set_transition_delay(Duration::from_millis(ms));
    }
    Json(json!({ "transition_ms": app.clock.transition_delay_ms() }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OauthBody {
    token_ttl_ms: Option<u64>,
    u2m_user: Option<String>,
}

async fn set_oauth(State(app): State<Arc<AppState>>, ApiJson(body): ApiJson<OauthBody>) -> Json<Value> {
    let mut ws = app.workspace();
    if let Some(ms) = body.token_ttl_ms {
        ws.identity.token_ttl_ms = ms;
    }
    if let Some(user) = body.u2m_user {
        ws.identity.u2m.user = Some(user);
    }
    let mut answer = json!({ "token_ttl_ms": ws.identity.token_ttl_ms });
    if let Some(user) = &ws.identity.u2m.user {
        answer["u2m_user"] = json!(user);
    }
    Json(answer)
}
