//! The one place that runs wasmtime's `bindgen!` for the plugin contract. The generated types
//! are converted to the host's own (`manifest`, `workspace`) here, so no other module depends on
//! their shape.

use crate::manifest::{self, Annotations, Grant, Manifest, ManifestError, ToolSpec};

mod generated {
    wasmtime::component::bindgen!({
        world: "tool-pack",
        path: "../wit",
        // Host imports do I/O (workspace requests, sleeps, progress), so they are async; exports
        // are called with `call_async` so a plugin can be interrupted at epoch ticks.
        imports: { default: async },
        exports: { default: async },
        // The manifest a plugin returns is kept beside its compiled code (`artifacts`), so a
        // restart need not run the plugin to learn its tools.
        additional_derives: [serde::Serialize, serde::Deserialize],
    });
}

pub use databricks_mcp::plugin::host::LogLevel;
pub use databricks_mcp::plugin::types::{CallContext, Manifest as WitManifest, ToolError, ToolOutput};
pub use databricks_mcp::plugin::workspace::{
    Method as WitMethod, Request as WitRequest, Response as WitResponse, SendError as WitSendError,
};
pub use generated::{ToolPack, ToolPackPre, databricks_mcp};

/// Convert a manifest returned by a plugin, checking everything that can be checked without
/// policy: names, schemas, grants and the contract version.
pub fn manifest_from_wit(m: WitManifest) -> Result<Manifest, ManifestError> {
    manifest::check_contract(&m.contract_version)?;
    let mut tools = Vec::with_capacity(m.tools.len());
    for t in m.tools {
        let input_schema = manifest::parse_schema(&t.name, "input", &t.input_schema)?;
        let output_schema =
            t.output_schema.as_deref().map(|s| manifest::parse_schema(&t.name, "output", s)).transpose()?;
        tools.push(ToolSpec {
            name: t.name,
            title: t.title,
            description: t.description,
            input_schema,
            output_schema,
            annotations: Annotations {
                read_only: t.annotations.read_only,
                destructive: t.annotations.destructive,
                idempotent: t.annotations.idempotent,
                open_world: t.annotations.open_world,
            },
        });
    }
    let grants = m.grants.iter().map(|g| Grant::parse(&g.method, &g.path)).collect::<Result<Vec<_>, _>>()?;
    let manifest = Manifest {
        name: m.name,
        version: m.version,
        description: m.description,
        contract_version: m.contract_version,
        sdk: m.sdk,
        tools,
        grants,
    };
    manifest.validate()?;
    Ok(manifest)
}

impl From<WitMethod> for manifest::Method {
    fn from(m: WitMethod) -> Self {
        match m {
            WitMethod::Get => Self::Get,
            WitMethod::Head => Self::Head,
            WitMethod::Post => Self::Post,
            WitMethod::Put => Self::Put,
            WitMethod::Patch => Self::Patch,
            WitMethod::Delete => Self::Delete,
        }
    }
}
