//! Build every plugin crate (`plugins/*`) and fixture (`tests/fixtures/*`) for wasm32-wasip2, so
//! `cargo test` always runs against components built from the current source; nothing built is
//! committed.
//!
//! The nested cargo uses its own target directory (`target/wasm`): the outer build holds the lock
//! on `target/release`, and guest crates want the `plugin` profile anyway. `just plugins` builds
//! into the same directory, so nothing is compiled twice.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.join("../..").canonicalize().expect("workspace root exists");
    let target_root =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace.join("target"));
    let wasm_target = target_root.join("wasm");

    let mut packages = Vec::new();
    for dir in ["plugins", "tests/fixtures"] {
        let dir = workspace.join(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        packages.extend(package_names(&dir));
    }
    for dir in ["sdk", "wit"] {
        println!("cargo:rerun-if-changed={}", workspace.join(dir).display());
    }
    packages.sort();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&workspace)
        .args(["build", "--profile", "plugin", "--target", "wasm32-wasip2", "--target-dir"])
        .arg(&wasm_target);
    for package in &packages {
        command.args(["-p", package]);
    }
    // Flags meant for the host build must not leak into the guest build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        command.env_remove(var);
    }
    let status = command.status().expect("running cargo for the wasm plugins");
    if !status.success() {
        panic!(
            "building the wasm plugins failed ({status}). Is the target installed? `rustup target add wasm32-wasip2` (the justfile does it)."
        );
    }
    println!("cargo:rustc-env=TEST_PLUGINS_DIR={}", wasm_target.join("wasm32-wasip2/plugin").display());
}

/// Package names of the crates directly under `dir`.
fn package_names(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path().join("Cargo.toml")).ok())
        .filter_map(|toml| {
            toml.lines().find_map(|l| l.trim().strip_prefix("name = ").map(|n| n.trim_matches('"').to_string()))
        })
        .collect()
}
