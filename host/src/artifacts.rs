//! Compiled plugins on disk, so a restart maps native code instead of compiling it again.
//!
//! An entry is the engine's serialized compilation of one `.wasm`, named
//! `<sha256 of the wasm>-<engine key>.cwasm`; the engine key changes with every engine setting
//! and wasmtime version that affects code, so a host upgrade never picks up an incompatible
//! entry (and wasmtime checks the entry's header again when it loads it).
//!
//! Loading maps the file (`Component::deserialize_file`): no decompression and no copy, about a
//! millisecond for a plugin whose compilation takes half a second. We keep our own store rather
//! than wasmtime's cache because that cache compresses entries and copies them into fresh memory
//! on every start, about 5 ms a plugin.
//!
//! Beside each entry is the manifest the plugin returned (`.manifest.json`), so a start that
//! finds both never runs the plugin just to learn its tools; the host checks a kept manifest
//! exactly as one just returned.
//!
//! Trust: an entry is native code the host will run. Entries are written only by this module,
//! to a temporary name and renamed into place once complete and synced, in a directory created
//! owner-only; a directory others can write to is refused. That is the same trust wasmtime's
//! own cache asks for. An entry that does not load (truncated, overwritten, from another
//! engine) is deleted and the plugin compiled again.

use std::hash::{Hash as _, Hasher as _};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context as _;
use wasmtime::Engine;
use wasmtime::component::Component;

/// Entries kept; the least recently used beyond this are deleted after each write.
const MAX_ENTRIES: usize = 64;

/// The compiled-plugin store of one engine.
#[derive(Debug)]
pub struct Artifacts {
    dir: PathBuf,
    engine_key: String,
}

impl Artifacts {
    /// Open (creating it owner-only if needed) the store in `dir` for `engine`.
    pub fn open(dir: &Path, engine: &Engine) -> anyhow::Result<Self> {
        create_private_dir(dir)?;
        // A relative directory would move with the working directory: fix it now.
        let dir = std::path::absolute(dir).with_context(|| format!("resolving {}", dir.display()))?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        Ok(Self { dir, engine_key: format!("{:016x}", hasher.finish()) })
    }

    fn entry(&self, digest: &str) -> PathBuf {
        self.dir.join(format!("{digest}-{}.cwasm", self.engine_key))
    }

    fn manifest_entry(&self, digest: &str) -> PathBuf {
        self.entry(digest).with_extension("manifest.json")
    }

    /// The manifest the plugin with `digest` returned when it was first loaded, if kept.
    /// The caller checks it again as if the plugin had just returned it.
    pub fn manifest<M: serde::de::DeserializeOwned>(&self, digest: &str) -> Option<M> {
        let path = self.manifest_entry(digest);
        let text = std::fs::read(&path).ok()?;
        match serde_json::from_slice(&text) {
            Ok(manifest) => Some(manifest),
            Err(e) => {
                tracing::warn!(entry = %path.display(), "ignoring a kept manifest that does not parse: {e}");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Keep `manifest` for the plugin with `digest`.
    pub fn keep_manifest(&self, digest: &str, manifest: &impl serde::Serialize) {
        let kept = serde_json::to_vec(manifest)
            .map_err(anyhow::Error::from)
            .and_then(|bytes| self.write(&self.manifest_entry(digest), digest, &bytes));
        if let Err(e) = kept {
            tracing::warn!(dir = %self.dir.display(), "could not keep the plugin's manifest: {e:#}");
        }
    }

    /// Compile `bytes` (hex sha256 `digest`) with `engine` and store the result. Blocking:
    /// call it off the async runtime.
    pub fn compile(&self, engine: &Engine, digest: &str, bytes: &[u8]) -> wasmtime::Result<Component> {
        let component = Component::new(engine, bytes)?;
        if let Err(e) = self.store(digest, &component) {
            // The store is an optimisation: serve the plugin anyway.
            tracing::warn!(dir = %self.dir.display(), "could not store the compiled plugin: {e:#}");
        }
        Ok(component)
    }

    /// The stored compilation of `digest`, if there is a usable one.
    pub fn load(&self, engine: &Engine, digest: &str) -> Option<Component> {
        let path = self.entry(digest);
        if !path.is_file() {
            return None;
        }
        // SAFETY: `deserialize_file` runs the file's code as native code, so it must be what
        // `Component::serialize` wrote for a compatible engine, unchanged while mapped. Entries
        // are written only by `store` below (complete, synced, then renamed into place, never
        // rewritten in place), in a directory only this user can write to (checked by `open`),
        // and wasmtime refuses an entry whose header does not match this engine.
        #[allow(unsafe_code, reason = "mapping our own compiled artifacts; see the SAFETY comment")]
        let loaded = unsafe { Component::deserialize_file(engine, &path) };
        match loaded {
            Ok(component) => {
                // Recently used entries survive pruning.
                let _ =
                    std::fs::File::options().write(true).open(&path).and_then(|f| f.set_modified(SystemTime::now()));
                Some(component)
            }
            Err(e) => {
                tracing::warn!(entry = %path.display(), "ignoring a compiled plugin that does not load (it is rebuilt): {e}");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Write `component` as the entry for `digest`, then prune old entries.
    fn store(&self, digest: &str, component: &Component) -> anyhow::Result<()> {
        let serialized = component.serialize().map_err(anyhow::Error::from)?;
        self.write(&self.entry(digest), digest, &serialized)?;
        self.prune();
        Ok(())
    }

    /// Write `bytes` to `path` whole or not at all: to a temporary file, synced, then renamed.
    fn write(&self, path: &Path, digest: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let temporary = self.dir.join(format!(".{digest}.{}.{}.tmp", std::process::id(), rand::random::<u32>()));
        let written = (|| {
            let mut file = private_file(&temporary)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            std::fs::rename(&temporary, path)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(e).with_context(|| format!("writing {}", path.display()));
        }
        Ok(())
    }

    /// Keep the [`MAX_ENTRIES`] most recently used entries.
    fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        let mut entries: Vec<(SystemTime, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        if entries.len() <= MAX_ENTRIES {
            return;
        }
        entries.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
        for (_, path) in entries.split_off(MAX_ENTRIES) {
            let _ = std::fs::remove_file(path.with_extension("manifest.json"));
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    let mode = std::fs::metadata(dir).with_context(|| format!("reading {}", dir.display()))?.mode();
    anyhow::ensure!(
        mode & 0o022 == 0,
        "{} can be written by other users (mode {:o}); compiled plugins are native code, so the cache needs a directory only this user can write to",
        dir.display(),
        mode & 0o777
    );
    Ok(())
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::File::options();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn engine() -> Engine {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        Engine::new(&config).unwrap()
    }

    #[test]
    fn a_compiled_component_is_stored_and_mapped_back() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let artifacts = Artifacts::open(dir.path(), &engine).unwrap();
        assert!(artifacts.load(&engine, "abc").is_none());
        artifacts.compile(&engine, "abc", &component_bytes()).unwrap();
        assert!(artifacts.load(&engine, "abc").is_some());
        assert!(artifacts.load(&engine, "abd").is_none(), "entries are keyed by digest");
    }

    #[test]
    fn a_corrupt_entry_is_deleted_and_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let artifacts = Artifacts::open(dir.path(), &engine).unwrap();
        artifacts.compile(&engine, "abc", &component_bytes()).unwrap();
        let entry = artifacts.entry("abc");
        let full = std::fs::read(&entry).unwrap();
        for broken in [b"not a compiled component".to_vec(), full[..full.len() / 2].to_vec(), Vec::new()] {
            std::fs::write(&entry, broken).unwrap();
            assert!(artifacts.load(&engine, "abc").is_none());
            assert!(!entry.exists(), "a broken entry is removed");
            artifacts.compile(&engine, "abc", &component_bytes()).unwrap();
            assert_eq!(std::fs::read(&entry).unwrap(), full, "the entry is rewritten whole");
        }
    }

    #[test]
    fn another_engine_does_not_use_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        Artifacts::open(dir.path(), &engine).unwrap().compile(&engine, "abc", &component_bytes()).unwrap();
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true).epoch_interruption(true);
        let other = Engine::new(&config).unwrap();
        assert!(Artifacts::open(dir.path(), &other).unwrap().load(&other, "abc").is_none());
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_others_can_write_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = Artifacts::open(dir.path(), &engine()).unwrap_err().to_string();
        assert!(err.contains("can be written by other users"), "{err}");
    }

    #[test]
    fn only_the_most_recent_entries_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let artifacts = Artifacts::open(dir.path(), &engine).unwrap();
        let bytes = component_bytes();
        for i in 0..MAX_ENTRIES + 3 {
            artifacts.compile(&engine, &format!("d{i}"), &bytes).unwrap();
        }
        let count = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(count, MAX_ENTRIES);
    }

    /// A minimal component in the binary format (wasmtime is built without the text parser).
    fn component_bytes() -> Vec<u8> {
        // `(component (core module))`: the component preamble (version 0x0d, layer 1), then one
        // core-module section holding an empty core module.
        let module = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
        let mut bytes = vec![0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
        bytes.push(0x01); // core module section
        bytes.push(module.len() as u8);
        bytes.extend_from_slice(&module);
        bytes
    }
}
