//! [`Json<T>`]: a workspace object passed through whole, described and read as `T`.

use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::{Result, ToolError};

/// A JSON value kept exactly as the workspace sent it, whose schema is `T`'s and which reads as
/// `T` with [`Json::get`].
///
/// Structured output should be complete, but API objects have dozens of fields that change
/// between releases. Declare the fields a program can rely on in `T` (unknown fields are
/// allowed by its schema), return `Json<T>`, and every field the workspace sent goes through
/// untouched. It is also faster than decoding and re-encoding the whole object.
pub struct Json<T> {
    value: Value,
    _as: PhantomData<fn() -> T>,
}

impl<T> Json<T> {
    /// Wrap a value.
    pub fn new(value: Value) -> Self {
        Self { value, _as: PhantomData }
    }

    /// The value as the workspace sent it.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// Unwrap the value.
    pub fn into_value(self) -> Value {
        self.value
    }
}

impl<T: DeserializeOwned> Json<T> {
    /// Read the value as `T` (fields `T` does not name are skipped).
    pub fn get(&self) -> Result<T> {
        T::deserialize(&self.value).map_err(|e| {
            ToolError::Internal(format!("the workspace answered with an object this tool cannot read: {e}"))
        })
    }
}

impl<T> Clone for Json<T> {
    fn clone(&self) -> Self {
        Self::new(self.value.clone())
    }
}

impl<T> std::fmt::Debug for Json<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value.fmt(f)
    }
}

impl<T> Serialize for Json<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

impl<'de, T> Deserialize<'de> for Json<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Self::new)
    }
}

impl<T: JsonSchema> JsonSchema for Json<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }

    fn inline_schema() -> bool {
        T::inline_schema()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, JsonSchema)]
    struct Thing {
        id: String,
    }

    #[test]
    fn keeps_every_field_and_reads_as_t() {
        let json: Json<Thing> = serde_json::from_str(r#"{"id":"a","extra":{"n":1}}"#).expect("valid JSON");
        assert_eq!(json.get().expect("reads as Thing").id, "a");
        assert_eq!(serde_json::to_string(&json).expect("serializes"), r#"{"extra":{"n":1},"id":"a"}"#);
        assert_eq!(crate::schema_for::<Json<Thing>>()["properties"]["id"]["type"], "string");
    }
}
