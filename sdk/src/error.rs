//! The error a tool returns, and how workspace API errors become one.

use std::fmt;

/// Why a tool call failed. The host shows the message to the model, so say what failed, on what,
/// and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolError {
    /// The arguments were well formed but make no sense together.
    InvalidArguments(String),
    /// The object the tool was asked about does not exist.
    NotFound(String),
    /// The workspace or the host refused the operation.
    PermissionDenied(String),
    /// The workspace API answered with an error the tool did not handle.
    Upstream(ApiError),
    /// The operation ran but did not succeed, e.g. a cluster that ended in ERROR.
    Failed(String),
    /// The tool gave up waiting.
    Timeout(String),
    /// The call was cancelled by the client, or ran past its deadline.
    Cancelled,
    /// A bug or unexpected state in the plugin.
    Internal(String),
}

/// An error answer from the workspace API, as Databricks sends it: `{"error_code", "message"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// Databricks `error_code` such as `INVALID_PARAMETER_VALUE`; empty when the body had none.
    pub error_code: String,
    /// Databricks `message`, or the body text when it was not JSON.
    pub message: String,
}

/// `Result` with [`ToolError`] as the error.
pub type Result<T, E = ToolError> = std::result::Result<T, E>;

impl ToolError {
    /// An [`ToolError::InvalidArguments`] with the given message.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidArguments(message.into())
    }

    /// An [`ToolError::Internal`] with the given message.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }

    /// The API error behind this one, if the workspace answered with an error.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Self::Upstream(error) => Some(error),
            _ => None,
        }
    }

    /// True when the workspace said the object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidArguments(m) => write!(f, "invalid arguments: {m}"),
            Self::NotFound(m) => write!(f, "not found: {m}"),
            Self::PermissionDenied(m) => write!(f, "permission denied: {m}"),
            Self::Upstream(e) => e.fmt(f),
            Self::Failed(m) => write!(f, "failed: {m}"),
            Self::Timeout(m) => write!(f, "timed out: {m}"),
            Self::Cancelled => f.write_str("cancelled"),
            Self::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.error_code.is_empty() {
            write!(f, "Databricks API error {}: {}", self.status, self.message)
        } else {
            write!(f, "Databricks API error {} {}: {}", self.status, self.error_code, self.message)
        }
    }
}

impl std::error::Error for ToolError {}
impl std::error::Error for ApiError {}

impl From<serde_json::Error> for ToolError {
    fn from(error: serde_json::Error) -> Self {
        Self::Internal(format!("JSON: {error}"))
    }
}

impl ApiError {
    /// Parse an error response body the way the Databricks SDKs do: `{error_code, message}`,
    /// API 1.2's `{error}`, SCIM's `{detail, status}`, or plain text.
    pub fn from_response(status: u16, body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let (error_code, message) = match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(map)) => {
                let field = |key: &str| match map.get(key) {
                    Some(serde_json::Value::String(s)) => Some(s.clone()),
                    // Some legacy endpoints put the HTTP status in `error_code` as a number.
                    Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                };
                if let Some(detail) = field("detail") {
                    (format!("SCIM_{}", field("status").unwrap_or_else(|| status.to_string())), detail)
                } else {
                    (
                        field("error_code").unwrap_or_default(),
                        field("message").or_else(|| field("error")).unwrap_or_else(|| text.trim().to_string()),
                    )
                }
            }
            _ => (String::new(), text.trim().to_string()),
        };
        let message = if message.is_empty() { reason_phrase(status).to_string() } else { message };
        Self { status, error_code, message }
    }

    /// Classify the error: missing objects become [`ToolError::NotFound`] (including the
    /// `400 INVALID_PARAMETER_VALUE "... does not exist"` quirk of clusters, jobs and runs),
    /// 401 and 403 become [`ToolError::PermissionDenied`], the rest [`ToolError::Upstream`].
    pub fn into_tool_error(self) -> ToolError {
        let missing = self.status == 404
            || self.error_code == "RESOURCE_DOES_NOT_EXIST"
            || self.error_code == "NOT_FOUND"
            || (self.status == 400
                && self.error_code == "INVALID_PARAMETER_VALUE"
                && (self.message.contains("does not exist") || self.message.contains("doesn't exist")));
        if missing {
            ToolError::NotFound(self.message)
        } else if self.status == 401 || self.status == 403 {
            ToolError::PermissionDenied(format!("{} ({} {})", self.message, self.status, self.error_code))
        } else {
            ToolError::Upstream(self)
        }
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "HTTP error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_databricks_error_body() {
        let e = ApiError::from_response(
            400,
            br#"{"error_code":"INVALID_STATE","message":"Cluster x is in unexpected state Running."}"#,
        );
        assert_eq!(e.error_code, "INVALID_STATE");
        assert_eq!(e.message, "Cluster x is in unexpected state Running.");
        assert!(matches!(e.into_tool_error(), ToolError::Upstream(_)));
    }

    #[test]
    fn missing_cluster_quirk_is_not_found() {
        let e = ApiError::from_response(
            400,
            br#"{"error_code":"INVALID_PARAMETER_VALUE","message":"Cluster abc does not exist"}"#,
        );
        assert_eq!(e.into_tool_error(), ToolError::NotFound("Cluster abc does not exist".into()));
    }

    #[test]
    fn other_body_shapes() {
        let e = ApiError::from_response(400, br#"{"error":"Context not found"}"#);
        assert_eq!((e.error_code.as_str(), e.message.as_str()), ("", "Context not found"));
        let e = ApiError::from_response(404, br#"{"detail":"User not found","status":"404"}"#);
        assert_eq!((e.error_code.as_str(), e.message.as_str()), ("SCIM_404", "User not found"));
        let e = ApiError::from_response(502, b"");
        assert_eq!(e.message, "HTTP error");
        let e = ApiError::from_response(503, b"upstream connect error\n");
        assert_eq!(e.message, "upstream connect error");
        assert!(matches!(ApiError::from_response(403, b"{}").into_tool_error(), ToolError::PermissionDenied(_)));
    }
}
