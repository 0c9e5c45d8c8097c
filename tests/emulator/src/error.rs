//! The one error type every handler returns, and how it looks on the wire.
//!
//! Databricks answers errors with `{"error_code": "...", "message": "..."}`; clients pick the
//! exception class from `error_code` first and the HTTP status second, so both must match the real
//! service (reference §1.6).

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

/// An API error: HTTP status, Databricks `error_code` and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Sent as a `Retry-After` header (seconds); only 429 uses it.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), retry_after: None }
    }

    /// 400 `INVALID_PARAMETER_VALUE`: a field has a bad value, or names something that does not exist.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", message)
    }

    /// 400 `INVALID_PARAMETER_VALUE` for a required field the request left out.
    pub fn missing_field(field: &str) -> Self {
        Self::invalid_parameter(format!("Missing required field: {field}"))
    }

    /// 400 `INVALID_STATE`: the resource exists but cannot do that right now.
    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_STATE", message)
    }

    /// 400 `MALFORMED_REQUEST`: the body or query could not be parsed at all.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", message)
    }

    /// 401 `UNAUTHENTICATED`.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message)
    }

    /// 404 `ENDPOINT_NOT_FOUND`, worded like the real service.
    pub fn endpoint_not_found(method: &str, path: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "ENDPOINT_NOT_FOUND", format!("No API found for '{method} {path}'"))
    }

    /// 429 `REQUEST_LIMIT_EXCEEDED`, with a `Retry-After` header when `retry_after` is given.
    pub fn too_many_requests(retry_after: Option<u64>) -> Self {
        ApiError {
            retry_after,
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "REQUEST_LIMIT_EXCEEDED",
                "The request rate limit has been exceeded. Please retry later.",
            )
        }
    }

    /// 503 `TEMPORARILY_UNAVAILABLE`.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "TEMPORARILY_UNAVAILABLE",
            "The service is temporarily unavailable. Please try again later.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error_code": self.code, "message": self.message });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// What every handler returns.
pub(crate) type ApiResult<T> = Result<T, ApiError>;
