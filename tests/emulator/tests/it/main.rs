//! The emulator through real HTTP, as clients see it. One test binary; each module is one area.

mod util;

mod admin;
mod auth_and_routing;
mod clusters;
mod commands;
mod compute_policy;
mod creators;
mod events;
mod faults;
mod files;
mod identity;
mod jobs;
mod libraries;
mod lifecycle;
mod list;
mod permissions;
mod pipelines;
mod sql;
mod unity;
mod workspace;
