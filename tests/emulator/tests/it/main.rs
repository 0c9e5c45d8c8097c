//! The emulator through real HTTP, as clients see it. One test binary; each module is one area.

mod util;

mod admin;
mod auth_and_routing;
mod clusters;
mod events;
mod faults;
mod lifecycle;
mod list;
mod sql;
mod unity;
