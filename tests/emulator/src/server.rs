//! The HTTP front: routes, and the three layers every request passes through, outermost first:
//!
//! 1. `record`: logs the request (method, path, query, headers, body) for `requests()`.
//! 2. `inject_faults`: a queued fault may answer 429/503, wait, or drop the connection instead.
//! 3. `authenticate`: `/api/...` needs `Authorization: Bearer <token>`; the token's principal goes
//!    into the request as an `identity::Caller` extension, and the response gets the
//!    `X-Databricks-Org-Id` header. Discovery and `/oidc` routes need no token.
//!
//! Then routing: each API family is nested under its path; anything else answers 404
//! `ENDPOINT_NOT_FOUND`, and a known path with the wrong method answers the same, as the service does.

use std::{future::Future, io, sync::Arc};

use axum::{
    Router,
    body::{Body, to_bytes},
    extract::{ConnectInfo, OriginalUri, Request, State},
    http::{HeaderValue, Method, header},
    middleware::{Next, from_fn_with_state},
    response::{IntoResponse, Response},
};
use tokio::net::TcpListener;

use crate::{
    admin,
    clusters::{self, ApiVersion},
    commands, compute_policy, dbfs,
    error::ApiError,
    faults::FaultKind,
    files,
    identity::{self, TokenError},
    jobs, libraries,
    net::{Connection, DroppableListener},
    permissions, pipelines,
    recording::RecordedRequest,
    repos, secrets, sql, unity,
    workspace::AppState,
    workspace_tree,
};

/// Bodies above this are refused; no Databricks request the emulator serves comes close.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The whole application: API families, admin routes and the layers around them.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .nest("/api/2.0/clusters", clusters::router(ApiVersion::V2_0))
        .nest("/api/2.1/clusters", clusters::router(ApiVersion::V2_1))
        .nest("/api/2.0/dbfs", dbfs::router())
        .nest("/api/2.0/fs", files::router())
        .nest("/api/2.0/workspace", workspace_tree::router())
        .nest("/api/2.0/repos", repos::router())
        .nest("/api/2.0/secrets", secrets::router())
        .nest("/api/2.0/pipelines", pipelines::router())
        .nest("/api/2.0/preview/scim/v2", identity::scim_router())
        .nest("/api/2.0/permissions", permissions::router())
        .nest("/api/2.0/instance-pools", compute_policy::pools_router())
        .nest("/api/2.0/policies/clusters", compute_policy::policies_router())
        .nest("/api/2.0/policy-families", compute_policy::families_router())
        .nest("/api/2.0/global-init-scripts", compute_policy::init_scripts_router())
        .merge(identity::oidc_router())
        .nest("/api/2.1/jobs", jobs::router(jobs::ApiVersion::V2_1))
        .nest("/api/2.2/jobs", jobs::router(jobs::ApiVersion::V2_2))
        .nest("/api/1.2", commands::router())
        .nest("/api/2.0/libraries", libraries::router())
        .nest("/api/2.1/unity-catalog", unity::router())
        .nest("/api/2.0/lineage-tracking", unity::lineage_router())
        .nest("/api/2.0/sql/warehouses", sql::warehouses_router())
        .nest("/api/2.0/sql/statements", sql::statements_router())
        .nest(admin::PREFIX, admin::router())
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(from_fn_with_state(state.clone(), authenticate))
        .layer(from_fn_with_state(state.clone(), inject_faults))
        .layer(from_fn_with_state(state.clone(), record))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then lets open requests finish.
pub(crate) async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<Connection>();
    axum::serve(DroppableListener(listener), app).with_graceful_shutdown(shutdown).await
}

fn is_admin(path: &str) -> bool {
    path.strip_prefix(admin::PREFIX).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

async fn not_found(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::endpoint_not_found(method.as_str(), uri.path())
}

async fn record(State(app): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) => {
            return ApiError::malformed(format!("Could not read the request body: {e}")).into_response();
        }
    };
    let path = parts.uri.path().to_owned();
    tracing::debug!(method = %parts.method, %path, query = parts.uri.query().unwrap_or(""), "request");
    if !is_admin(&path) {
        let header_text = |v: &header::HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
        app.recorder.record(RecordedRequest {
            method: parts.method.to_string(),
            path,
            query: parts.uri.query().unwrap_or_default().to_owned(),
            body: String::from_utf8_lossy(&bytes).into_owned(),
            authorization: parts.headers.get(header::AUTHORIZATION).map(header_text),
            headers: parts.headers.iter().map(|(k, v)| (k.as_str().to_owned(), header_text(v))).collect(),
        });
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

async fn inject_faults(State(app): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if is_admin(path) {
        return next.run(request).await;
    }
    let Some(fault) = app.faults.take(request.method().as_str(), path) else {
        return next.run(request).await;
    };
    tracing::info!(method = %request.method(), path, ?fault, "injecting fault");
    match fault {
        FaultKind::TooManyRequests { retry_after_secs } => {
            ApiError::too_many_requests(retry_after_secs).into_response()
        }
        FaultKind::Unavailable => ApiError::unavailable().into_response(),
        FaultKind::Delay(delay) => {
            tokio::time::sleep(delay).await;
            next.run(request).await
        }
        FaultKind::Drop => match request.extensions().get::<ConnectInfo<Connection>>() {
            // The response below is never delivered: the connection fails as hyper writes it.
            Some(ConnectInfo(connection)) => {
                tracing::info!(remote = %connection.remote, "dropping the connection");
                connection.kill();
                ApiError::unavailable().into_response()
            }
            None => {
                tracing::warn!("drop fault on a request without a connection; answering 503 instead");
                ApiError::unavailable().into_response()
            }
        },
    }
}

async fn authenticate(State(app): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return ApiError::unauthenticated("Missing credentials.").into_response();
    };
    let token = value.to_str().ok().and_then(|v| {
        let (scheme, token) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    let caller = match token.map(|t| app.authenticate(t)) {
        Some(Ok(caller)) => caller,
        Some(Err(TokenError::Expired)) => {
            return ApiError::unauthenticated("Token expired. Please obtain a new token.").into_response();
        }
        _ => return ApiError::unauthenticated("Invalid access token.").into_response(),
    };
    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    response.headers_mut().insert("x-databricks-org-id", HeaderValue::from_static(identity::WORKSPACE_ID));
    response
}
