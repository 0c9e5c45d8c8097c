//! Where the test build put the plugin components. See `build.rs`.

use std::path::PathBuf;

/// The directory holding every built plugin and fixture `.wasm`.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("TEST_PLUGINS_DIR"))
}

/// The component of crate `package` (dashes as in the package name).
pub fn wasm(package: &str) -> PathBuf {
    dir().join(format!("{}.wasm", package.replace('-', "_")))
}

/// The example tool pack (`tests/example-pack`), built as a third party builds theirs.
pub fn example_pack() -> PathBuf {
    PathBuf::from(env!("TEST_EXAMPLE_PACK"))
}

/// The target directory third-party packs are built in by the tests (the example pack's, shared
/// so the SDK's dependencies compile once).
pub fn packs_target_dir() -> PathBuf {
    PathBuf::from(env!("TEST_PACKS_TARGET_DIR"))
}
