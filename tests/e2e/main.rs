#![allow(clippy::unwrap_used, reason = "a test that unwraps fails loudly, which is the point")]

//! End-to-end tests: the `databricks-mcp` binary, spawned over stdio and driven by an MCP
//! client (rmcp), against the workspace emulator on loopback.
//!
//! Each test reads as a specification; `support` holds the harness that makes each a few lines.

mod auth;
mod cli;
mod clusters;
mod command_execution;
mod compute_policy;
mod files;
mod genie;
mod http;
mod identity_permissions;
mod jobs;
mod libraries;
mod loading;
mod mlflow;
mod pipelines;
mod policy;
mod prompts;
mod protocol;
mod readme;
mod reload;
mod repos;
mod resources;
mod sandbox;
mod sdk;
mod secrets;
mod serving;
mod sql;
mod support;
mod unity_catalog;
mod vector_search;
mod workspace;
