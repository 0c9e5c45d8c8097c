//! Build every plugin crate (`plugins/*`) and fixture (`tests/fixtures/*`) for wasm32-wasip2, so
//! `cargo test` always runs against components built from the current source; nothing built is
//! committed. Then build the example tool pack (`tests/example-pack`) the way a third party
//! builds theirs: in its own directory and workspace, `cargo build --release --target
//! wasm32-wasip2`.
//!
//! The nested cargos use their own target directories (`target/wasm`, `target/packs`): the outer
//! build holds the lock on `target/release`, and guest crates want their own profiles anyway.
//! `just plugins` builds into `target/wasm`, so nothing is compiled twice; the scaffold test
//! builds into `target/packs`, so the SDK's dependencies are compiled once for both packs.

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

    let mut command = cargo(&workspace);
    command.args(["build", "--profile", "plugin", "--target", "wasm32-wasip2", "--target-dir"]).arg(&wasm_target);
    for package in &packages {
        command.args(["-p", package]);
    }
    run(command, "the wasm plugins");
    println!("cargo:rustc-env=TEST_PLUGINS_DIR={}", wasm_target.join("wasm32-wasip2/plugin").display());

    let pack = workspace.join("tests/example-pack");
    let packs_target = target_root.join("packs");
    for file in ["Cargo.toml", "Cargo.lock", "src"] {
        println!("cargo:rerun-if-changed={}", pack.join(file).display());
    }
    let mut command = cargo(&pack);
    command.args(["build", "--release", "--target", "wasm32-wasip2"]).env("CARGO_TARGET_DIR", &packs_target);
    run(command, "the example tool pack (tests/example-pack)");
    println!("cargo:rustc-env=TEST_PACKS_TARGET_DIR={}", packs_target.display());
    println!(
        "cargo:rustc-env=TEST_EXAMPLE_PACK={}",
        packs_target.join("wasm32-wasip2/release/job_conventions.wasm").display()
    );
}

/// A cargo command in `dir`, without the flags meant for the host build.
fn cargo(dir: &Path) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(dir);
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
    command
}

fn run(mut command: Command, what: &str) {
    let status = command.status().unwrap_or_else(|e| panic!("running cargo for {what}: {e}"));
    if !status.success() {
        panic!(
            "building {what} failed ({status}). Is the target installed? `rustup target add wasm32-wasip2` (the justfile does it)."
        );
    }
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
