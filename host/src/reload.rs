//! Hot reload: watch the plugin directory and the config file, and swap in a new snapshot when
//! they change, without dropping a call.
//!
//! 1. A `notify` watcher turns file-system events into "plugins changed" or "config changed".
//! 2. Events are debounced: a rescan starts once the directory has been quiet for [`QUIET`] (or
//!    after [`MAX_WAIT`] of continuous events), so a copy in progress is not read half way; after
//!    an event that ends a write (close after writing, rename into place) [`SETTLE`] is enough.
//! 3. A rescan looks at every `.wasm`: a file whose size and mtime are what was last seen is
//!    skipped; a changed one is read, and skipped if it changed *while* being read (still being
//!    written: its next write brings another event) or if its digest is the one already serving.
//!    The rest go through the same pipeline as start-up ([`registry::load_file`]), compiled off
//!    the async runtime.
//! 4. The new set is the unchanged plugins (shared, not reloaded) plus the freshly loaded ones
//!    that fit: a fresh plugin whose name or tools collide is refused and the previous version of
//!    that file, if any, keeps serving. A removed file unloads its plugin.
//! 5. The snapshot is swapped atomically; calls in flight hold the old one and finish on it. If
//!    the set of plugins changed, every connected client gets `notifications/tools/list_changed`
//!    (and the resources and prompts ones: plugins contribute those too).
//!
//! Reloads run one at a time, on one task. A config file change re-reads the config and reloads
//! every plugin with it; a config that does not parse keeps the previous one.
//!
//! The directory itself may be replaced: deleted and made again, or a symlink to it pointed at
//! another directory (`ln -sfn v2 plugins`, as deployments swap versions). Its parent is watched
//! for that, and a rescan that finds the name leading to another directory watches that one and
//! compares its files by name with what served, so a plugin whose bytes did not change stays.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use futures::future::BoxFuture;
use notify::{EventKind, RecursiveMode, Watcher as _};
use sha2::{Digest as _, Sha256};
use tokio::sync::mpsc;

use crate::config::{Config, Flags};
use crate::engine::Runtime;
use crate::plugin::{LoadError, Plugin};
use crate::registry::{self, Registry, Snapshot};

/// A rescan waits for this long without events.
pub const QUIET: Duration = Duration::from_millis(100);
/// ... or only this long when the last event ended a write (a file closed after writing, renamed
/// into place, or removed): the file is complete, and the wait only gathers the events of files
/// copied together.
pub const SETTLE: Duration = Duration::from_millis(20);
/// ... but no longer than this after the first event, so a file written forever does not hold
/// back the others (it is skipped while it keeps changing).
pub const MAX_WAIT: Duration = Duration::from_secs(2);

/// What is known about a file without reading it: its size and modification time.
pub type Stamp = (u64, SystemTime);

/// Called after a swap that changed the tools (sends `tools/list_changed`).
pub type OnChange = Arc<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>;

/// The `.wasm` files in `dir` and their stamps. Taken before the start-up load, so a file
/// changed while it loads is seen as changed by the first rescan.
pub fn stamps(dir: &Path) -> std::io::Result<BTreeMap<PathBuf, Stamp>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "wasm")
            && let Some(stamp) = stamp(&path)
        {
            files.insert(path, stamp);
        }
    }
    Ok(files)
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    meta.is_file().then_some((meta.len(), meta.modified().ok()?))
}

/// What hot reload works on.
pub struct Watch {
    pub runtime: Arc<Runtime>,
    pub registry: Arc<Registry>,
    pub plugin_dir: PathBuf,
    /// The config file, when there is one: it is watched too.
    pub config_path: Option<PathBuf>,
    /// The command-line settings the config was resolved with; a reload resolves again with
    /// them, so flags and environment keep their precedence over the file.
    pub flags: Flags,
    /// The config the serving snapshot was loaded with.
    pub config: Config,
    /// [`stamps`] of the plugin directory from just before the serving snapshot was loaded.
    pub before: BTreeMap<PathBuf, Stamp>,
    /// Files the start-up load refused because a name was taken: retried when names free up.
    pub collided: Vec<PathBuf>,
    pub on_change: OnChange,
}

/// What an event means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Plugins,
    /// The plugin directory itself: deleted, made, renamed, or its link re-pointed.
    Directory,
    Config,
}

/// Start watching; reloads run on a task of their own until the process exits. Fails when the
/// directory cannot be watched (the server then serves what it loaded, without hot reload).
pub fn start(watch: Watch) -> anyhow::Result<()> {
    let dir =
        watch.plugin_dir.canonicalize().with_context(|| format!("plugin directory {}", watch.plugin_dir.display()))?;
    // Editors replace a config file by renaming a new one over it, which a watch on the file
    // itself would lose: watch its directory and pick its name out.
    let config_path = match &watch.config_path {
        Some(path) => {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let parent = parent.canonicalize().with_context(|| format!("config directory {}", parent.display()))?;
            path.file_name().map(|name| parent.join(name))
        }
        None => None,
    };

    // The directory's name in its parent, symlinks not followed: replacing the directory (or
    // re-pointing the link) is an event on this name in the parent.
    let name = match (watch.plugin_dir.parent(), watch.plugin_dir.file_name()) {
        (Some(parent), Some(name)) => {
            let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
            parent.canonicalize().ok().map(|parent| parent.join(name))
        }
        _ => None,
    };

    let (tx, rx) = mpsc::unbounded_channel();
    let current = Arc::new(RwLock::new(dir.clone()));
    let (events_dir, events_name, events_config) = (current.clone(), name.clone(), config_path.clone());
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
        Ok(event) => {
            let dir = events_dir.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(change) = classify(&event, &dir, events_name.as_deref(), events_config.as_deref()) {
                let _ = tx.send((change, ends_a_write(&event.kind)));
            }
        }
        Err(e) => tracing::warn!("file watcher: {e}"),
    })
    .context("creating the file watcher")?;
    watcher
        .watch(&dir, RecursiveMode::NonRecursive)
        .with_context(|| format!("watching the plugin directory {}", dir.display()))?;
    let mut parents: Vec<&Path> = Vec::new();
    if let Some(parent) = config_path.as_deref().and_then(Path::parent)
        && parent != dir
    {
        watcher
            .watch(parent, RecursiveMode::NonRecursive)
            .with_context(|| format!("watching the config file's directory {}", parent.display()))?;
        parents.push(parent);
    }
    if let Some(parent) = name.as_deref().and_then(Path::parent)
        && !parents.contains(&parent)
        && let Err(e) = watcher.watch(parent, RecursiveMode::NonRecursive)
    {
        // Changes inside the directory still reload; only its replacement goes unseen.
        tracing::warn!(dir = %parent.display(), "cannot watch the plugin directory's parent, so a replaced plugin directory will not be seen: {e}");
    }
    tracing::info!(dir = %dir.display(), config = ?config_path, "watching for plugin and config changes (hot reload)");

    let serving = watch.registry.snapshot();
    let mut files: BTreeMap<PathBuf, Entry> = BTreeMap::new();
    for (file, stamp) in &watch.before {
        files.insert(absolute(&dir, file), Entry { seen: Some(*stamp), ..Entry::default() });
    }
    for file in &watch.collided {
        files.entry(absolute(&dir, file)).or_default().collided = true;
    }
    for plugin in &serving.plugins {
        // Files that appeared during the start-up load have no stamp: the first rescan reads them.
        files.entry(absolute(&dir, &plugin.file)).or_default().serving = Some(plugin.clone());
    }
    let reloader = Reloader {
        runtime: watch.runtime,
        registry: watch.registry,
        // Paths as the user gave them (log lines name the files as start-up did).
        dir: watch.plugin_dir,
        canonical_dir: dir,
        config_path: watch.config_path,
        flags: watch.flags,
        max_memory_bytes: watch.config.max_memory_bytes(),
        config: watch.config,
        files,
        on_change: watch.on_change,
        current,
        watcher,
        dir_event: false,
    };
    tokio::spawn(reloader.run(rx));
    Ok(())
}

fn absolute(dir: &Path, file: &Path) -> PathBuf {
    dir.join(file.file_name().unwrap_or(file.as_os_str()))
}

/// Whether the event leaves a complete file behind: written and closed, renamed into place, or
/// removed.
fn ends_a_write(kind: &EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
    matches!(
        kind,
        EventKind::Access(AccessKind::Close(AccessMode::Write))
            | EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both))
            | EventKind::Remove(_)
    )
}

/// Which change an event is about, if any. Opening and reading files (the reloader's own reads
/// among them) are not changes; a write being closed is.
/// `name` is the plugin directory's own name in its parent (an event on it: the directory was
/// replaced).
fn classify(event: &notify::Event, dir: &Path, name: Option<&Path>, config: Option<&Path>) -> Option<Change> {
    match event.kind {
        EventKind::Access(notify::event::AccessKind::Close(notify::event::AccessMode::Write)) => {}
        EventKind::Access(_) => return None,
        _ => {}
    }
    let mut change = None;
    for path in &event.paths {
        if Some(path.as_path()) == config {
            return Some(Change::Config);
        }
        // Kubernetes mounts a ConfigMap or Secret volume as `name -> ..data/name` symlinks and
        // updates it by swapping the `..data` link: the `.wasm` names never change, so an event
        // on a `..` entry is a change to every plugin behind it.
        let swapped = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with(".."));
        let in_dir = path.parent() == Some(dir) && (swapped || path.extension().is_some_and(|e| e == "wasm"));
        if path == dir || Some(path.as_path()) == name {
            return Some(Change::Directory);
        }
        if in_dir {
            change = Some(Change::Plugins);
        }
    }
    change
}

/// One plugin file as the reloader knows it.
#[derive(Default)]
struct Entry {
    /// The stamp last dealt with (loaded, refused or found unchanged); `None`: read it.
    seen: Option<Stamp>,
    /// The version serving, if any.
    serving: Option<Arc<Plugin>>,
    /// Its last load was refused because a plugin or tool name was taken.
    collided: bool,
}

struct Reloader {
    runtime: Arc<Runtime>,
    registry: Arc<Registry>,
    dir: PathBuf,
    /// Keys of `files` are under this.
    canonical_dir: PathBuf,
    config_path: Option<PathBuf>,
    flags: Flags,
    config: Config,
    /// The engine reserves memory per instance for the start-up config's largest limit; a
    /// reloaded config cannot raise it.
    max_memory_bytes: usize,
    files: BTreeMap<PathBuf, Entry>,
    on_change: OnChange,
    /// `canonical_dir`, shared with the event callback.
    current: Arc<RwLock<PathBuf>>,
    watcher: notify::RecommendedWatcher,
    /// An event on the directory itself came (deleted, made, renamed, its link re-pointed):
    /// watch what its path leads to now. Only the event tells: a directory made again may get
    /// the inode of the one deleted.
    dir_event: bool,
}

impl Reloader {
    async fn run(mut self, mut events: mpsc::UnboundedReceiver<(Change, bool)>) {
        // Catch up with what changed between the start-up stamps and the watch.
        self.rescan(false).await;
        while let Some((first, mut settled)) = events.recv().await {
            let mut config_changed = first == Change::Config;
            self.dir_event |= first == Change::Directory;
            let until = tokio::time::Instant::now() + MAX_WAIT;
            loop {
                let quiet = tokio::time::Instant::now() + if settled { SETTLE } else { QUIET };
                match tokio::time::timeout_at(quiet.min(until), events.recv()).await {
                    Ok(Some((change, ends))) => {
                        config_changed |= change == Change::Config;
                        self.dir_event |= change == Change::Directory;
                        settled = ends;
                    }
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            self.rescan(config_changed).await;
        }
    }

    /// Bring the snapshot in line with the directory (and the config file, if it changed).
    async fn rescan(&mut self, config_changed: bool) {
        let _foreground = self.runtime.foreground();
        // A pass that takes plugins away may free the names a refused file wanted: read those
        // files again. Each extra pass only adds plugins, so this ends.
        let mut freed = self.rescan_once(config_changed).await;
        while freed && self.files.values().any(|e| e.collided) {
            for entry in self.files.values_mut().filter(|e| e.collided) {
                entry.seen = None;
            }
            freed = self.rescan_once(false).await;
        }
    }

    /// One pass of [`Reloader::rescan`]; `true` if a plugin stopped serving (removed, replaced
    /// or unloaded).
    async fn rescan_once(&mut self, config_changed: bool) -> bool {
        self.follow_dir();
        let reload_all = config_changed && self.reload_config();
        let current = match stamps(&self.canonical_dir) {
            Ok(current) => current,
            Err(e) => {
                tracing::error!(dir = %self.dir.display(), "cannot read the plugin directory, keeping the plugins serving: {e}");
                return false;
            }
        };

        let mut removed = false;
        self.files.retain(|file, entry| {
            let keep = current.contains_key(file);
            if !keep && let Some(plugin) = &entry.serving {
                tracing::info!(plugin = %plugin.manifest.name, file = %plugin.file.display(), "plugin file removed; unloading the plugin");
                removed = true;
            }
            keep
        });

        let mut fresh: Vec<(PathBuf, Arc<Plugin>)> = Vec::new();
        for (file, stamp) in current {
            let shown = self.dir.join(file.file_name().unwrap_or_default());
            let entry = self.files.entry(file.clone()).or_default();
            if entry.seen == Some(stamp) && !reload_all {
                continue;
            }
            let bytes = match std::fs::read(&file) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    // Removed since the listing: the next event says what became of it.
                    tracing::debug!(file = %shown.display(), "plugin file went away while being read");
                    continue;
                }
                Err(e) => {
                    entry.seen = Some(stamp);
                    let error = LoadError::new(&shown, format!("cannot read: {e}"));
                    tracing::error!("{}", kept(&error, entry.serving.as_ref()));
                    continue;
                }
            };
            if self::stamp(&file) != Some(stamp) {
                tracing::debug!(file = %shown.display(), "plugin file is still being written; waiting for it to settle");
                continue;
            }
            entry.seen = Some(stamp);
            let unchanged = entry.serving.as_ref().is_some_and(|p| p.digest == hex(&Sha256::digest(&bytes)));
            if unchanged && !reload_all {
                continue;
            }
            match registry::load_file(&self.runtime, &shown, bytes, &self.config).await {
                Ok(plugin) => fresh.push((file, Arc::new(plugin))),
                // The previous version was admitted under the previous configuration: after a
                // configuration change, keeping it would serve it under a policy the operator
                // has just replaced. Fail closed.
                Err(error) if reload_all => {
                    tracing::error!("{error}; unloading the plugin this file served (the configuration changed)");
                    entry.serving = None;
                }
                Err(error) => {
                    entry.collided = false;
                    tracing::error!("{}", kept(&error, entry.serving.as_ref()))
                }
            }
        }
        if fresh.is_empty() && !removed && !reload_all {
            return false;
        }

        // Unchanged plugins first: they are serving, and a newcomer must fit around them.
        let fresh_files: HashSet<&PathBuf> = fresh.iter().map(|(file, _)| file).collect();
        let mut fits = Snapshot::default();
        for (file, entry) in &mut self.files {
            if let Some(plugin) = &entry.serving
                && !fresh_files.contains(file)
                && let Err(error) = fits.insert(plugin.clone())
            {
                tracing::error!("{error}; unloading it");
                entry.serving = None;
            }
        }
        for (file, plugin) in &fresh {
            let Some(entry) = self.files.get_mut(file) else { continue };
            match fits.insert(plugin.clone()) {
                Ok(()) => {
                    entry.collided = false;
                    tracing::info!(
                        plugin = %plugin.manifest.name,
                        version = %plugin.manifest.version,
                        tools = plugin.manifest.tools.len(),
                        file = %plugin.file.display(),
                        "loaded plugin"
                    );
                    entry.serving = Some(plugin.clone());
                }
                Err(error) if reload_all => {
                    tracing::error!("{error}; unloading the plugin this file served (the configuration changed)");
                    entry.serving = None;
                }
                Err(error) => {
                    entry.collided = error.collided;
                    tracing::error!("{}", kept(&error, entry.serving.as_ref()));
                    if let Some(old) = &entry.serving
                        && let Err(error) = fits.insert(old.clone())
                    {
                        tracing::error!("{error}; unloading it");
                        entry.serving = None;
                    }
                }
            }
        }

        // The same set again, in file order like start-up, so listings stay deterministic.
        let mut snapshot = Snapshot::default();
        snapshot.hide_list_workspaces = registry::hides_list_workspaces(&self.config);
        for entry in self.files.values() {
            if let Some(plugin) = &entry.serving
                && let Err(error) = snapshot.insert(plugin.clone())
            {
                tracing::error!("{error}");
            }
        }
        let before = self.registry.snapshot();
        let changed = reload_all || versions(&before) != versions(&snapshot);
        if !changed {
            return false;
        }
        let after = versions(&snapshot);
        let freed = versions(&before).iter().any(|v| !after.contains(v));
        tracing::info!(plugins = snapshot.plugins.len(), tools = snapshot.tool_count(), "plugins reloaded");
        self.registry.replace(snapshot);
        (self.on_change)().await;
        freed
    }

    /// After an event on the plugin directory itself, watch what its path leads to now (made
    /// again, or a symlink re-pointed), its files known by name as before.
    fn follow_dir(&mut self) {
        if !self.dir_event {
            return;
        }
        // Gone for now: the listing says so and the plugins keep serving; the event that brings
        // it back comes here again.
        let Ok(dir) = self.dir.canonicalize() else { return };
        self.dir_event = false;
        // The old watch went with a deleted directory; one on a directory still there is dropped.
        let _ = self.watcher.unwatch(&self.canonical_dir);
        match self.watcher.watch(&dir, RecursiveMode::NonRecursive) {
            Ok(()) => {
                tracing::info!(dir = %self.dir.display(), now = %dir.display(), "the plugin directory was replaced; watching the new one")
            }
            Err(e) => {
                tracing::error!(dir = %dir.display(), "the plugin directory was replaced and the new one cannot be watched; changes in it will not reload until a restart: {e}")
            }
        }
        // A copy may keep sizes and times: read every file again; one whose digest is the one
        // serving stays as it is.
        for entry in self.files.values_mut() {
            entry.seen = None;
        }
        if dir != self.canonical_dir {
            let files = std::mem::take(&mut self.files);
            self.files = files.into_iter().map(|(file, entry)| (absolute(&dir, &file), entry)).collect();
            *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = dir.clone();
            self.canonical_dir = dir;
        }
    }

    /// Re-read the config file; `true` if it changed and every plugin must be reloaded with it.
    fn reload_config(&mut self) -> bool {
        let Some(path) = &self.config_path else { return false };
        let config = match Config::resolve(&self.flags, &|name| std::env::var(name).ok()) {
            Ok((config, _)) => config,
            Err(e) => {
                // TOML errors span lines (they quote the file); the log line stays one line.
                let reason =
                    format!("{e:#}").lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
                tracing::error!("{reason}; keeping the previous configuration");
                return false;
            }
        };
        if config.max_memory_bytes() > self.max_memory_bytes {
            tracing::error!(
                "config file {}: a memory limit of {} MiB is above the {} MiB the server started with; keeping the previous configuration (restart the server to raise it)",
                path.display(),
                config.max_memory_bytes() >> 20,
                self.max_memory_bytes >> 20
            );
            return false;
        }
        tracing::info!(
            file = %path.display(),
            "configuration reloaded; reloading every plugin with it (plugin_dir, cache, watch, server and workspace settings apply at the next start)"
        );
        self.config = config;
        true
    }
}

/// The log line for a load that failed, saying what still serves.
fn kept(error: &LoadError, serving: Option<&Arc<Plugin>>) -> String {
    match serving {
        Some(old) => format!(
            "{error}; the previous version of this file (plugin `{}` {}) keeps serving",
            old.manifest.name, old.manifest.version
        ),
        // Collision messages already say so.
        None if error.reason.ends_with("not loaded") => error.to_string(),
        None => format!("{error}; not loaded"),
    }
}

/// What identifies a snapshot's plugins: which file holds which bytes.
fn versions(snapshot: &Snapshot) -> Vec<(&Path, &str)> {
    snapshot.plugins.iter().map(|p| (p.file.as_path(), p.digest.as_str())).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RemoveKind};

    use super::*;

    #[test]
    fn classifies_events() {
        let dir = Path::new("/p");
        let config = Some(Path::new("/etc/c.toml"));
        let event = |kind: EventKind, path: &str| notify::Event::new(kind).add_path(PathBuf::from(path));
        let cases = [
            (event(EventKind::Create(CreateKind::File), "/p/a.wasm"), Some(Change::Plugins)),
            (event(EventKind::Modify(ModifyKind::Any), "/p/a.wasm"), Some(Change::Plugins)),
            (event(EventKind::Remove(RemoveKind::File), "/p/a.wasm"), Some(Change::Plugins)),
            (event(EventKind::Access(AccessKind::Close(AccessMode::Write)), "/p/a.wasm"), Some(Change::Plugins)),
            // The reloader's own reads.
            (event(EventKind::Access(AccessKind::Open(AccessMode::Any)), "/p/a.wasm"), None),
            (event(EventKind::Access(AccessKind::Close(AccessMode::Read)), "/p/a.wasm"), None),
            (event(EventKind::Modify(ModifyKind::Any), "/p/notes.txt"), None),
            (event(EventKind::Create(CreateKind::Any), "/p/..data_tmp"), Some(Change::Plugins)),
            (
                event(EventKind::Modify(ModifyKind::Name(notify::event::RenameMode::To)), "/p/..data"),
                Some(Change::Plugins),
            ),
            (event(EventKind::Modify(ModifyKind::Any), "/p/sub/a.wasm"), None),
            (event(EventKind::Remove(RemoveKind::Folder), "/p"), Some(Change::Directory)),
            // The directory's name in its parent: the directory made again, or its link re-pointed.
            (event(EventKind::Create(CreateKind::Folder), "/srv/plugins"), Some(Change::Directory)),
            (
                event(EventKind::Modify(ModifyKind::Name(notify::event::RenameMode::To)), "/srv/plugins"),
                Some(Change::Directory),
            ),
            (event(EventKind::Create(CreateKind::File), "/srv/other.wasm"), None),
            (event(EventKind::Modify(ModifyKind::Any), "/etc/c.toml"), Some(Change::Config)),
            (event(EventKind::Modify(ModifyKind::Any), "/etc/other.toml"), None),
        ];
        for (event, want) in cases {
            assert_eq!(classify(&event, dir, Some(Path::new("/srv/plugins")), config), want, "{event:?}");
        }
    }
}
