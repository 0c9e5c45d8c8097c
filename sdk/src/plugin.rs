//! The plugin as a whole: its manifest and the dispatch of `call-tool`, behind the `plugin!`
//! macro.

use std::sync::Arc;
use std::time::Duration;

use crate::bindings::databricks_mcp::plugin::types;
use crate::context::Context;
use crate::error::ToolError;
use crate::host::WitHost;
use crate::tool::ToolDef;

/// The version of the WIT contract this SDK builds plugins against. The host refuses plugins
/// whose contract it cannot run.
pub const CONTRACT_VERSION: &str = "0.1.0";

/// A plugin, as declared with [`plugin!`](crate::plugin) (which names it `ToolPack`). Not
/// implemented by hand.
pub trait Plugin {
    /// Plugin name, `[a-z0-9-]`.
    const NAME: &'static str;
    /// The plugin crate's version.
    const VERSION: &'static str;
    /// One line on what the plugin is for.
    const DESCRIPTION: &'static str;
    /// Workspace API grants, `"METHOD /path/pattern"`.
    const GRANTS: &'static [&'static str];
    /// The tools.
    const TOOLS: &'static [ToolDef];
}

impl<P: Plugin> crate::bindings::Guest for P {
    fn manifest() -> types::Manifest {
        types::Manifest {
            name: P::NAME.into(),
            version: P::VERSION.into(),
            description: P::DESCRIPTION.into(),
            contract_version: CONTRACT_VERSION.into(),
            sdk: concat!("databricks-mcp-sdk ", env!("CARGO_PKG_VERSION")).into(),
            tools: P::TOOLS.iter().map(tool_spec).collect(),
            grants: P::GRANTS
                .iter()
                .map(|grant| {
                    // A grant without a method is passed on whole; the host refuses it by name.
                    let (method, path) = grant.split_once(' ').unwrap_or(("", grant));
                    types::Grant { method: method.trim().into(), path: path.trim().into() }
                })
                .collect(),
        }
    }

    fn call_tool(
        name: String,
        arguments: String,
        context: types::CallContext,
    ) -> Result<types::ToolOutput, types::ToolError> {
        let tool = P::TOOLS
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| types::ToolError::InvalidArguments(format!("plugin {} has no tool {name}", P::NAME)))?;
        let deadline = Duration::from_millis(context.deadline_ms);
        let ctx = Context::new(context.request_id, context.progress_requested, deadline, Arc::new(WitHost::new()));
        match (tool.call)(&ctx, &arguments) {
            Ok(output) => Ok(types::ToolOutput { text: output.text, structured: output.structured }),
            Err(error) => Err(to_wit(error)),
        }
    }
}

fn tool_spec(tool: &ToolDef) -> types::ToolSpec {
    types::ToolSpec {
        name: tool.name.into(),
        title: tool.title.map(Into::into),
        description: tool.description.into(),
        input_schema: (tool.input_schema)().to_string(),
        output_schema: (tool.output_schema)().map(|s| s.to_string()),
        annotations: types::Annotations {
            read_only: tool.annotations.read_only,
            destructive: tool.annotations.destructive,
            idempotent: tool.annotations.idempotent,
            open_world: tool.annotations.open_world,
        },
    }
}

fn to_wit(error: ToolError) -> types::ToolError {
    match error {
        ToolError::InvalidArguments(m) => types::ToolError::InvalidArguments(m),
        ToolError::NotFound(m) => types::ToolError::NotFound(m),
        ToolError::PermissionDenied(m) => types::ToolError::PermissionDenied(m),
        ToolError::Upstream(e) => types::ToolError::Upstream(types::ApiError {
            status: e.status,
            error_code: e.error_code,
            message: e.message,
        }),
        ToolError::Failed(m) => types::ToolError::Failed(m),
        ToolError::Timeout(m) => types::ToolError::Timeout(m),
        ToolError::Cancelled => types::ToolError::Cancelled,
        ToolError::Internal(m) => types::ToolError::Internal(m),
    }
}

/// Declare the plugin: its name, description, workspace API grants and tools, and export it
/// as the component's implementation of the contract. Use it once, at the crate root.
///
/// It also declares `pub struct ToolPack`, the plugin as a type: tests use it to check the
/// manifest and the grants ([`testkit::Workspace::for_plugin`](crate::testkit::Workspace::for_plugin)).
///
/// ```ignore
/// databricks_mcp_sdk::plugin! {
///     name: "clusters",
///     description: "Databricks clusters",
///     grants: ["GET /api/2.1/clusters/*", "POST /api/2.1/clusters/*"],
///     tools: [list_clusters, get_cluster],
/// }
/// ```
#[macro_export]
macro_rules! plugin {
    (
        name: $name:literal,
        description: $description:literal,
        grants: [$($grant:literal),* $(,)?],
        tools: [$($tool:ident),* $(,)?] $(,)?
    ) => {
        /// This tool pack, as declared with `databricks_mcp_sdk::plugin!`.
        pub struct ToolPack;

        impl $crate::Plugin for ToolPack {
            const NAME: &'static str = $name;
            const VERSION: &'static str = env!("CARGO_PKG_VERSION");
            const DESCRIPTION: &'static str = $description;
            const GRANTS: &'static [&'static str] = &[$($grant),*];
            const TOOLS: &'static [$crate::ToolDef] = &[$($tool::TOOL),*];
        }

        $crate::__bindings::__export_tool_pack!(ToolPack with_types_in $crate::__bindings);
    };
}
