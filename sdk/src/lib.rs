//! Write Databricks MCP tool packs in Rust.
//!
//! A tool pack is a WebAssembly component (`wasm32-wasip2`) that the `databricks-mcp` host
//! loads from its plugin directory. This crate is the only dependency a tool pack needs: the
//! WIT bindings, JSON Schemas and the wire details of the contract stay inside it.
//!
//! # Writing a tool pack
//! The guide for pack authors is `sdk/README.md` in the repository; in short:
//! 1. Make a `cdylib` crate that depends on `databricks-mcp-sdk` (`databricks-mcp plugins new
//!    NAME` writes one, with a first tool and its test).
//! 2. Describe arguments and results as structs with doc comments and `#[schema]`; their JSON
//!    Schemas are derived, and integers stay integers.
//! 3. Write each tool as `fn(&Context, Args) -> Result<Output<T>>` with a doc comment (the
//!    description the model reads) and `#[tool(read_only, ...)]` for its annotations.
//! 4. Declare the plugin once with [`plugin!`]: name, description, the workspace API paths it
//!    needs, and its tools.
//! 5. `cargo build --release --target wasm32-wasip2` and drop the `.wasm` into the plugin
//!    directory.
//!
//! ```ignore
//! use databricks_mcp_sdk::prelude::*;
//!
//! /// Arguments of `get_cluster`.
//! #[schema]
//! pub struct GetCluster {
//!     /// The cluster id, e.g. `0123-456789-abcdefgh`.
//!     pub cluster_id: String,
//! }
//!
//! /// Get one cluster's full configuration and state.
//! #[tool(read_only, idempotent, title = "Get cluster")]
//! fn get_cluster(ctx: &Context, args: GetCluster) -> Result<Output<Value>> {
//!     let cluster: Value = ctx.get("/api/2.1/clusters/get", &[("cluster_id", args.cluster_id)])?;
//!     Ok(Output::new(format!("{}", cluster["state"]), cluster))
//! }
//!
//! databricks_mcp_sdk::plugin! {
//!     name: "my-clusters",
//!     description: "Clusters, my way",
//!     grants: ["GET /api/2.1/clusters/get"],
//!     tools: [get_cluster],
//! }
//! ```
//!
//! # Resources and prompts
//! Besides tools, a pack can contribute MCP resources (`#[resource(uri = "notebook/{+path}")]`
//! on a function that reads one), prompts (`#[prompt]` on a function that renders one) and
//! completions for their arguments; see [`content`]. A tool links a large result as a resource
//! with [`Context::link_resource`].
//!
//! # Helpers for common chores
//! - Lists: [`Context::page`] for every workspace pagination style, [`Page::from_items`] for a
//!   list an endpoint answers whole.
//! - Waits: [`Context::wait_until`] (running out of time fails) and [`Context::wait_for`]
//!   (running out of time is a [`Waited::StillRunning`] answer).
//! - Paths: [`segment`] and [`segments`] percent-encode ids, names and paths that go in a URL.
//! - Texts: [`format_time`] and [`format_time_minutes`] for the API's epoch-millisecond times;
//!   [`base64`] for the binary content the API carries in JSON.
//!
//! # Testing
//! [`testkit`] runs tools natively under `cargo test`, against a scripted workspace that checks
//! the pack's grants and records requests, progress, logs, sleeps (on a virtual clock) and
//! compensations. It exists on native targets only.
//!
//! # Versions
//! Every pack carries [`CONTRACT_VERSION`], the version of the WIT contract it was built
//! against; the host refuses a pack built for a contract it does not run, naming both versions.
//! The guide (`sdk/README.md`) has the compatibility table and the policy for breaking changes,
//! and `sdk/CHANGELOG.md` the history.
//!
//! # How a call runs
//! The host validates the arguments against the input schema, creates a fresh instance of the
//! component, and calls the tool. [`Context`] is the tool's only way out: workspace requests
//! (the host adds the URL and credential, checks the grants and retries throttling), progress,
//! logs, sleeps and compensations. Each call has a deadline and a memory limit set by the host.

#![deny(missing_docs)]

#[doc(hidden)]
#[path = "bindings.rs"]
pub mod __bindings;
use __bindings as bindings;
pub mod base64;
pub mod content;
mod context;
mod error;
mod host;
mod json;
mod paging;
mod plugin;
mod time;
mod tool;
mod wait;

#[cfg(not(target_arch = "wasm32"))]
pub mod testkit;

pub use content::{
    Body, Completion, CompletionDef, CompletionRequest, CompletionTarget, Contents, Prompt, PromptDef, ResourceDef,
    ResourceLink, ResourceList,
};
pub use context::{Compensation, Context, LogLevel, Method, Request, Response, segment, segments};
pub use databricks_mcp_sdk_macros::{prompt, resource, schema, tool};
pub use error::{ApiError, Result, ToolError};
pub use json::Json;
pub use paging::{Page, PageArgs, Paging};
pub use plugin::{CONTRACT_VERSION, Plugin};
pub use time::{format_time, format_time_minutes};
pub use tool::{Annotations, IntoToolOutput, Output, ToolDef, ToolOutput, schema_for};
pub use wait::{Poll, Wait, Waited};

/// Re-exported so plugins need no direct dependency; `#[schema]` derives through these paths.
pub use {schemars, serde, serde_json};

/// Arguments of a tool that takes none.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// Everything a tool pack usually needs.
pub mod prelude {
    pub use crate::{
        CompletionRequest, Contents, Context, Json, NoArgs, Output, Page, PageArgs, Paging, Poll, Prompt, ResourceLink,
        ResourceList, Result, ToolError, Wait, Waited, plugin, prompt, resource, schema, tool,
    };
    pub use serde_json::{Value, json};
}

#[doc(hidden)]
pub use content::private as __content;
#[doc(hidden)]
pub use tool::private as __private;

#[cfg(test)]
mod tests {
    #[test]
    fn contract_version_matches_the_wit_package() {
        let wit = include_str!("../../wit/plugin.wit");
        let expected = format!("package databricks-mcp:plugin@{};", crate::CONTRACT_VERSION);
        assert!(wit.contains(&expected), "wit/plugin.wit does not declare {expected}");
    }

    #[test]
    fn path_segments_cannot_escape_their_segment() {
        assert_eq!(crate::segment("01ef-abc_1.2~x"), "01ef-abc_1.2~x");
        assert_eq!(crate::segment("a/b c?d"), "a%2Fb%20c%3Fd");
        assert_eq!(crate::segment(".."), "%2E%2E");
        assert_eq!(crate::segment("é"), "%C3%A9");
    }

    #[test]
    fn paths_are_encoded_segment_by_segment() {
        assert_eq!(
            crate::segments("/Volumes/main/default/v/my file (1).csv"),
            "Volumes/main/default/v/my%20file%20%281%29.csv"
        );
        assert_eq!(crate::segments("a//caf\u{e9}/"), "a/caf%C3%A9");
        assert_eq!(crate::segments("/a/../b?x"), "a/%2E%2E/b%3Fx");
        assert_eq!(crate::segments("/"), "");
    }

    #[test]
    fn integers_stay_integers_in_schemas() {
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code, reason = "only the schema is looked at")]
        struct Args {
            /// How many.
            n: u32,
            m: Option<i64>,
        }
        let schema = crate::schema_for::<Args>();
        assert_eq!(schema["properties"]["n"]["type"], "integer");
        assert_eq!(schema["properties"]["n"]["description"], "How many.");
        assert_eq!(schema["required"], serde_json::json!(["n"]));
    }
}
