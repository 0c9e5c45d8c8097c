//! The README's tool reference is generated from the first-party plugins' manifests
//! (`databricks-mcp tools --format markdown`, spliced in by `just readme`); this test fails when
//! a plugin's tools change and the README was not regenerated, so the two cannot drift.
//! It also serves every first-party plugin together, so a tool name shared by two of them fails
//! here first.

use std::path::{Path, PathBuf};
use std::process::Command;

const START: &str = "<!-- tools:start -->\n";
const END: &str = "<!-- tools:end -->";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Package names of the crates under `plugins/`.
fn first_party() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(workspace().join("plugins"))
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path().join("Cargo.toml")).ok())
        .filter_map(|toml| {
            toml.lines().find_map(|l| l.trim().strip_prefix("name = ").map(|n| n.trim_matches('"').to_string()))
        })
        .collect();
    names.sort();
    names
}

#[test]
fn the_readme_lists_every_first_party_tool_as_the_manifests_describe_it() {
    let dir = tempfile::tempdir().unwrap();
    for package in first_party() {
        let wasm = test_plugins::wasm(&package);
        std::fs::copy(&wasm, dir.path().join(wasm.file_name().unwrap())).unwrap();
    }
    let output = Command::new(env!("CARGO_BIN_EXE_databricks-mcp"))
        .args(["tools", "--format", "markdown", "--plugin-dir"])
        .arg(dir.path())
        .env("XDG_CACHE_HOME", test_plugins::dir().join("../../test-cache"))
        // The reference shows every tool: no operator config or policy from the developer's
        // environment may hide any.
        .env("XDG_CONFIG_HOME", dir.path())
        .env_remove("DATABRICKS_MCP_CONFIG")
        .env_remove("DATABRICKS_MCP_READ_ONLY")
        .env_remove("DATABRICKS_MCP_ALLOW_PLUGINS")
        .env_remove("DATABRICKS_MCP_DENY_PLUGINS")
        .env_remove("DATABRICKS_MCP_ALLOW_TOOLS")
        .env_remove("DATABRICKS_MCP_DENY_TOOLS")
        .env("DATABRICKS_MCP_LOG", "warn")
        .output()
        .unwrap();
    assert!(output.status.success(), "every first-party plugin loads: {}", String::from_utf8_lossy(&output.stderr));
    let generated = String::from_utf8(output.stdout).unwrap();
    for package in first_party() {
        assert!(generated.contains(&format!("\n### {package} (")), "{package} is listed");
    }

    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let start = readme.find(START).expect("README.md has a <!-- tools:start --> marker") + START.len();
    let end = readme.find(END).expect("README.md has a <!-- tools:end --> marker");
    assert!(
        readme[start..end] == generated,
        "README.md's tool reference is out of date: run `just readme` and commit the result"
    );
}
