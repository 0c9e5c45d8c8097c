//! Request extractors that fail with Databricks-shaped errors instead of axum's plain-text ones.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Query, Request},
    http::request::Parts,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// A JSON body. An empty body reads as `{}`, since clients send none for argument-less POSTs.
/// Unparseable JSON is `MALFORMED_REQUEST`; JSON of the wrong shape is `INVALID_PARAMETER_VALUE`.
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::malformed(format!("Could not read the request body: {e}")))?;
        let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::malformed(format!("Invalid JSON given in the body of the request - {e}")))?
        };
        if !value.is_object() {
            return Err(ApiError::malformed("The request body must be a JSON object"));
        }
        serde_json::from_value(value)
            .map(ApiJson)
            .map_err(|e| ApiError::invalid_parameter(format!("Invalid request: {e}")))
    }
}

/// Query parameters in order, repeated keys kept (`filter_by.cluster_states=A&...=B`).
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
    }

    /// The first value of a required `key`.
    pub fn required(&self, key: &str) -> Result<&str, ApiError> {
        self.get(key).filter(|v| !v.is_empty()).ok_or_else(|| ApiError::missing_field(key))
    }

    /// The first value of `key` parsed as `T`; a value that does not parse is a client error.
    pub fn parse<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>, ApiError> {
        self.get(key)
            .map(|v| v.parse().map_err(|_| ApiError::invalid_parameter(format!("Invalid value for {key}: '{v}'"))))
            .transpose()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|e| ApiError::malformed(format!("Invalid query string: {e}")))?;
        Ok(Params(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> Params {
        let uri = format!("/x?{query}").parse().expect("valid uri");
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&uri).expect("parses");
        Params(pairs)
    }

    #[test]
    fn repeated_keys_are_kept_in_order() {
        let p = params("filter_by.cluster_states=RUNNING&page_size=2&filter_by.cluster_states=PENDING");
        assert_eq!(p.all("filter_by.cluster_states"), vec!["RUNNING", "PENDING"]);
        assert_eq!(p.parse::<usize>("page_size"), Ok(Some(2)));
    }

    #[test]
    fn bad_numbers_and_missing_fields_are_client_errors() {
        let p = params("page_size=lots&cluster_id=");
        assert_eq!(p.parse::<usize>("page_size").expect_err("not a number").code, "INVALID_PARAMETER_VALUE");
        assert_eq!(p.required("cluster_id").expect_err("empty").message, "Missing required field: cluster_id");
    }
}
