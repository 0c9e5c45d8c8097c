//! The databricks-mcp host: the trusted half of the Databricks MCP server.
//!
//! It speaks MCP to clients and runs every Databricks tool family as a sandboxed WebAssembly
//! component (a *plugin*). The host owns everything trusted: the workspace credential and HTTP
//! connection, limits, grants and logging. A plugin can only describe its tools and send
//! requests to the workspace API through the host, which checks each one against the grants the
//! plugin declared.
//!
//! How the modules fit:
//! - vocabulary, no wasmtime: [`manifest`] (plugins, tools, grants), [`config`] (operator
//!   settings, limits, where each comes from), [`policy`] (what may load, be served and be
//!   reached), [`content`] (resources, prompts and completions plugins contribute);
//! - machinery: [`engine`] (wasmtime engine and linker), [`artifacts`] (compiled plugins kept
//!   on disk), [`bindings`] (the generated contract
//!   types), [`call`] (one call's sandbox and the host imports), [`plugin`] (load and call),
//!   [`registry`] (the loaded set), [`reload`] (watching the plugin directory and swapping the
//!   set when it changes);
//! - edges: [`workspace`] (the Databricks API client), [`auth`] (which workspaces, with which
//!   credentials, resolved as the Databricks CLI and SDKs do), [`mcp`] (the MCP handler, with
//!   [`mcp_content`] for resources, prompts and completions), [`server`]
//!   (start-up and the stdio transport), [`http`] (the streamable HTTP transport, with
//!   [`http_guard`] for Host and Origin and [`auth_inbound`] for who may call and as whom),
//!   [`listing`] (what is served, for `databricks-mcp tools` and the README), [`cli`] (the
//!   commands besides `serve`), [`scaffold`] (`plugins new`: a new tool pack from templates).

pub mod artifacts;
pub mod auth;
pub mod auth_inbound;
pub mod bindings;
pub mod call;
pub mod cli;
pub mod config;
pub mod content;
pub mod engine;
pub mod guest_output;
pub mod http;
pub mod http_guard;
pub mod listing;
pub mod manifest;
pub mod mcp;
pub mod mcp_content;
pub mod plugin;
pub mod policy;
pub mod registry;
pub mod reload;
pub mod scaffold;
pub mod server;
pub mod workspace;
