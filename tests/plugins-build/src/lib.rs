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
