//! The one place that runs `wit-bindgen`. Everything else in the SDK speaks its own types and
//! converts at this edge, so plugin authors never see generated code.

#![allow(unsafe_code, reason = "wit-bindgen generates the canonical ABI glue")]
#![allow(missing_docs, clippy::all, reason = "generated code")]

wit_bindgen::generate!({
    // The `content-pack` world: `tool-pack` plus resources, prompts and completions. Every pack
    // built with this SDK exports it (with empty lists when it declares none).
    world: "content-pack",
    // `sdk/wit` links to the repository's `wit/`, so the contract ships inside the packaged crate
    // (`cargo package` copies the link's target) and a pack can depend on the SDK by version.
    path: "wit",
    // The `plugin!` macro expands in the plugin's crate and exports through this macro.
    pub_export_macro: true,
    export_macro_name: "__export_tool_pack",
    default_bindings_module: "::databricks_mcp_sdk::__bindings",
});
