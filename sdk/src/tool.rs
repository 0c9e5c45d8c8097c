//! What a tool is to the SDK: a typed Rust function plus its description, annotations and the
//! JSON Schemas derived from its argument and result types.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::context::Context;
use crate::error::{Result, ToolError};

/// MCP tool annotations. Hints to the client, and `read_only` drives the host's read-only mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Annotations {
    /// The tool changes nothing.
    pub read_only: bool,
    /// The tool may destroy or overwrite something.
    pub destructive: bool,
    /// Repeating the call with the same arguments has no further effect.
    pub idempotent: bool,
    /// The tool reaches entities outside the workspace.
    pub open_world: bool,
}

/// A tool as registered by `#[tool]`: everything the manifest needs, and how to call it.
#[derive(Debug, Clone, Copy)]
pub struct ToolDef {
    /// The tool name, `verb_noun`.
    pub name: &'static str,
    /// A short title.
    pub title: Option<&'static str>,
    /// The doc comment of the tool function.
    pub description: &'static str,
    /// The annotations given to `#[tool(...)]`.
    pub annotations: Annotations,
    /// Builds the input JSON Schema from the argument type.
    pub input_schema: fn() -> Value,
    /// Builds the output JSON Schema from the result type, if it has one.
    pub output_schema: fn() -> Option<Value>,
    /// Decodes the arguments, runs the function and encodes its result.
    pub call: fn(&Context, &str) -> Result<ToolOutput>,
}

/// A tool's result as the host receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    /// Concise text for the model.
    pub text: String,
    /// The complete structured result, as JSON text (encoded once, straight from the data).
    pub structured: Option<String>,
}

/// The result of a tool: a short text a model can read at a glance, and the complete data for
/// programs (MCP `structuredContent`, described by the output schema derived from `T`).
#[derive(Debug, Clone)]
pub struct Output<T> {
    /// What the model reads.
    pub text: String,
    /// The complete result.
    pub data: T,
}

impl<T> Output<T> {
    /// A result with its text.
    pub fn new(text: impl Into<String>, data: T) -> Self {
        Self { text: text.into(), data }
    }
}

/// Anything a tool function may return on success.
pub trait IntoToolOutput {
    /// The JSON Schema of the structured result, if any.
    fn output_schema() -> Option<Value>;
    /// Convert into what the host receives.
    fn into_tool_output(self) -> Result<ToolOutput>;
}

impl<T: Serialize + JsonSchema> IntoToolOutput for Output<T> {
    fn output_schema() -> Option<Value> {
        Some(schema_for::<T>())
    }

    fn into_tool_output(self) -> Result<ToolOutput> {
        Ok(ToolOutput { text: self.text, structured: Some(serde_json::to_string(&self.data)?) })
    }
}

/// A plain text result, for tools whose output has no stable shape.
impl IntoToolOutput for String {
    fn output_schema() -> Option<Value> {
        None
    }

    fn into_tool_output(self) -> Result<ToolOutput> {
        Ok(ToolOutput { text: self, structured: None })
    }
}

/// The JSON Schema of `T` as tools publish it: draft 2020-12 with every subschema inlined, since
/// several MCP clients do not follow `$ref`.
pub fn schema_for<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .with(|s| {
            s.inline_subschemas = true;
        })
        .into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    if let Value::Object(map) = &mut schema {
        // The Rust type name is noise to a model; the tool has its own title.
        map.remove("title");
    }
    schema
}

/// Glue used by the `#[tool]` macro. Not public API.
#[doc(hidden)]
pub mod private {
    use super::*;

    pub fn input_schema<A: JsonSchema, O>(_f: fn(&Context, A) -> Result<O>) -> Value {
        schema_for::<A>()
    }

    pub fn output_schema<A, O: IntoToolOutput>(_f: fn(&Context, A) -> Result<O>) -> Option<Value> {
        O::output_schema()
    }

    pub fn call<A: DeserializeOwned, O: IntoToolOutput>(
        f: fn(&Context, A) -> Result<O>,
        ctx: &Context,
        arguments: &str,
    ) -> Result<ToolOutput> {
        // The host validated the arguments against the schema; this only fails when the type
        // carries rules the schema cannot say.
        let args: A = serde_json::from_str(arguments).map_err(|e| ToolError::invalid(e.to_string()))?;
        f(ctx, args)?.into_tool_output()
    }
}
