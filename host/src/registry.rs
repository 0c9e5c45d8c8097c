//! The set of loaded plugins and their tools, as an immutable snapshot that is replaced whole.
//! A call keeps the snapshot it started with, so a reload never pulls a plugin from under it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use crate::config::Config;
use crate::engine::Runtime;
use crate::plugin::{LoadError, Plugin};

/// Plugins and the index of their tools.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// In load order (plugin file names, sorted).
    pub plugins: Vec<Arc<Plugin>>,
    tools: HashMap<String, usize>,
    /// Served prompt name -> plugin; unique like tool names.
    prompts: HashMap<String, usize>,
    /// The policy hides the host's own `list_workspaces` (served with several workspaces).
    pub hide_list_workspaces: bool,
}

impl Snapshot {
    /// Add `plugin` unless its name or a tool name is taken; the error names both plugins.
    pub fn add(&mut self, plugin: Plugin) -> Result<(), LoadError> {
        self.insert(Arc::new(plugin))
    }

    /// [`Snapshot::add`] for a plugin that may already serve in another snapshot (hot reload
    /// keeps the unchanged plugins, shared).
    pub fn insert(&mut self, plugin: Arc<Plugin>) -> Result<(), LoadError> {
        let refuse = |reason: String| Err(LoadError { collided: true, ..LoadError::new(&plugin.file, reason) });
        if let Some(other) = self.plugins.iter().find(|p| p.manifest.name == plugin.manifest.name) {
            return refuse(format!(
                "plugin name `{}` is already taken by {}",
                plugin.manifest.name,
                other.file.display()
            ));
        }
        for tool in &plugin.manifest.tools {
            if let Some(&index) = self.tools.get(&tool.name) {
                let other = &self.plugins[index];
                return refuse(format!(
                    "tool `{}` of plugin `{}` collides with the tool of the same name in plugin `{}` ({}); the plugin was not loaded",
                    tool.name,
                    plugin.manifest.name,
                    other.manifest.name,
                    other.file.display()
                ));
            }
        }
        let prompts = plugin.content.as_ref().map_or(&[][..], |c| &c.prompts[..]);
        for prompt in prompts {
            if let Some(&index) = self.prompts.get(&prompt.name) {
                let other = &self.plugins[index];
                return refuse(format!(
                    "prompt `{}` of plugin `{}` collides with the prompt of the same name in plugin `{}` ({}); the plugin was not loaded (plugins.NAME.prefix renames prompts too)",
                    prompt.name,
                    plugin.manifest.name,
                    other.manifest.name,
                    other.file.display()
                ));
            }
        }
        let index = self.plugins.len();
        for tool in &plugin.manifest.tools {
            self.tools.insert(tool.name.clone(), index);
        }
        for prompt in prompts {
            self.prompts.insert(prompt.name.clone(), index);
        }
        self.plugins.push(plugin);
        Ok(())
    }

    /// The plugin that owns tool `name`.
    pub fn plugin_for(&self, name: &str) -> Option<&Arc<Plugin>> {
        self.tools.get(name).map(|&i| &self.plugins[i])
    }

    /// The plugin that owns prompt `name`.
    pub fn plugin_for_prompt(&self, name: &str) -> Option<&Arc<Plugin>> {
        self.prompts.get(name).map(|&i| &self.plugins[i])
    }

    /// The plugin named `name` (the authority of its resource URIs).
    pub fn plugin_named(&self, name: &str) -> Option<&Arc<Plugin>> {
        self.plugins.iter().find(|p| p.manifest.name == name)
    }

    /// Number of tools.
    pub fn tool_count(&self) -> usize {
        self.tools.len()
    }
}

/// The current snapshot.
#[derive(Debug, Default)]
pub struct Registry {
    current: RwLock<Arc<Snapshot>>,
}

impl Registry {
    pub fn new(snapshot: Snapshot) -> Self {
        Self { current: RwLock::new(Arc::new(snapshot)) }
    }

    /// The snapshot calls and listings should use.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replace the snapshot.
    pub fn replace(&self, snapshot: Snapshot) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(snapshot);
    }
}

/// Whether `config`'s tool patterns leave out the host's own `list_workspaces`.
pub fn hides_list_workspaces(config: &Config) -> bool {
    config.policy().is_ok_and(|p| p.why_hidden_name(crate::auth::workspaces::LIST_TOOL).is_some())
}

/// Load every `.wasm` in `dir` (sorted by file name, so collisions resolve the same way every
/// time), applying the policy in `config`. A plugin that fails to load or that the policy
/// refuses is logged and skipped; the rest still load.
pub async fn load_dir(runtime: &Arc<Runtime>, dir: &Path, config: &Config) -> (Snapshot, Vec<LoadError>) {
    let _foreground = runtime.foreground();
    let mut snapshot = Snapshot { hide_list_workspaces: hides_list_workspaces(config), ..Snapshot::default() };
    let mut errors = Vec::new();
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "wasm") && p.is_file())
            .collect(),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), "cannot read the plugin directory: {e}");
            return (snapshot, errors);
        }
    };
    files.sort();
    for file in files {
        let loaded = match std::fs::read(&file) {
            Ok(bytes) => load_file(runtime, &file, bytes, config).await,
            Err(e) => Err(LoadError::new(&file, format!("cannot read: {e}"))),
        };
        let added = loaded.and_then(|plugin| {
            let (name, version, tools) =
                (plugin.manifest.name.clone(), plugin.manifest.version.clone(), plugin.manifest.tools.len());
            snapshot.add(plugin).map(|()| (name, version, tools))
        });
        match added {
            Ok((name, version, tools)) => {
                tracing::info!(plugin = %name, version = %version, tools, file = %file.display(), "loaded plugin")
            }
            Err(error) => {
                if error.excluded {
                    // The operator's own choice: worth a line, not an alarm.
                    tracing::info!("{error}; not loaded");
                } else {
                    tracing::error!("{error}");
                }
                errors.push(error);
            }
        }
    }
    (snapshot, errors)
}

/// Load one plugin file's `bytes` under `config`: the per-file pipeline that start-up and hot
/// reload share, so both apply the same checks.
pub async fn load_file(
    runtime: &Arc<Runtime>,
    file: &Path,
    bytes: Vec<u8>,
    config: &Config,
) -> Result<Plugin, LoadError> {
    Plugin::load(runtime, file, bytes, |manifest, digest| config.setup_for(manifest, digest)).await
}
