//! Operator configuration: a TOML file (`--config` or `DATABRICKS_MCP_CONFIG`) for limits and
//! plugin settings, environment variables for the workspace and its credential. Unknown keys are
//! errors, so a typo never silently weakens a limit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::Deserialize;

/// Everything the server is configured with.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where plugins are loaded from.
    pub plugin_dir: Option<PathBuf>,
    /// Where compiled plugins are cached.
    pub cache_dir: Option<PathBuf>,
    /// `cache = false` disables the compiled-plugin cache (it is on by default).
    pub cache: Option<bool>,
    /// `watch = false` turns hot reload off (it is on by default; `--no-watch` does the same).
    pub watch: Option<bool>,
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub workspace: WorkspaceConfig,
    /// Default limits for every plugin.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Per-plugin settings, by plugin name.
    #[serde(default)]
    pub plugins: BTreeMap<String, PluginConfig>,
}

/// Server-wide settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Calls running at once across all plugins; more wait their turn.
    pub max_concurrent_calls: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self { max_concurrent_calls: 32 }
    }
}

/// How the host talks to the workspace.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceConfig {
    /// Timeout of one HTTP request.
    pub http_timeout_seconds: u64,
    /// Total time spent retrying one request (429, 503, connection failures).
    pub retry_timeout_seconds: u64,
    /// Most attempts of one request.
    pub max_attempts: u32,
}

impl Default for WorkspaceConfig {
    fn default() -> Self {
        Self { http_timeout_seconds: 60, retry_timeout_seconds: 300, max_attempts: 8 }
    }
}

/// Per-plugin settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// Limits for this plugin; unset fields take the defaults.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Settings the plugin reads through the `setting` import, e.g. the SQL plugin's
    /// `warehouse_id`. Strings, numbers and booleans; the plugin sees them as text.
    #[serde(default)]
    pub settings: BTreeMap<String, SettingValue>,
}

/// A setting's value as written in the file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum SettingValue {
    Text(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
}

impl std::fmt::Display for SettingValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(s) => f.write_str(s),
            Self::Integer(n) => write!(f, "{n}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// One plugin's settings as the plugin reads them.
pub type Settings = Arc<BTreeMap<String, String>>;

/// Longest setting key and value.
const MAX_SETTING_KEY: usize = 64;
const MAX_SETTING_VALUE: usize = 4096;

/// Limits as written in the file; every field optional so per-plugin tables can override a few.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub memory_mib: Option<u64>,
    pub deadline_seconds: Option<f64>,
    pub max_requests: Option<u32>,
    pub max_response_mib: Option<u64>,
    pub max_output_kib: Option<u64>,
    pub max_concurrent_calls: Option<u32>,
}

/// The limits of one call of one plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory of the instance.
    pub memory_bytes: usize,
    /// Wall-clock time of the whole call, host waits included.
    pub deadline: Duration,
    /// Workspace requests per call.
    pub max_requests: u32,
    /// Body bytes of one workspace response.
    pub max_response_bytes: usize,
    /// Bytes of tool output (text plus structured JSON).
    pub max_output_bytes: usize,
    /// Calls of this plugin running at once.
    pub max_concurrent_calls: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            // Long enough for a cluster to start; `wait_*` tools stop themselves before it.
            deadline: Duration::from_secs(900),
            max_requests: 1000,
            max_response_bytes: 16 << 20,
            max_output_bytes: 1 << 20,
            max_concurrent_calls: 16,
        }
    }
}

impl Limits {
    fn apply(mut self, c: &LimitsConfig) -> anyhow::Result<Self> {
        if let Some(m) = c.memory_mib {
            if !(1..=4096).contains(&m) {
                bail!("limits.memory_mib must be 1..=4096, not {m}");
            }
            self.memory_bytes = usize::try_from(m << 20)?;
        }
        if let Some(s) = c.deadline_seconds {
            if !(s > 0.0 && s <= 86_400.0) {
                bail!("limits.deadline_seconds must be in (0, 86400], not {s}");
            }
            self.deadline = Duration::from_secs_f64(s);
        }
        if let Some(n) = c.max_requests {
            self.max_requests = n;
        }
        if let Some(m) = c.max_response_mib {
            self.max_response_bytes = usize::try_from(m << 20)?;
        }
        if let Some(k) = c.max_output_kib {
            self.max_output_bytes = usize::try_from(k << 10)?;
        }
        if let Some(n) = c.max_concurrent_calls {
            if n == 0 {
                bail!("limits.max_concurrent_calls must be at least 1");
            }
            self.max_concurrent_calls = n;
        }
        Ok(self)
    }
}

impl Config {
    /// Read the file at `path`.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading config file {}", path.display()))?;
        let config: Self = toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))?;
        config.limits_for("")?;
        for name in config.plugins.keys() {
            config.limits_for(name).with_context(|| format!("in [plugins.{name}.limits] of {}", path.display()))?;
            config.settings_for(name).with_context(|| format!("in [plugins.{name}.settings] of {}", path.display()))?;
        }
        Ok(config)
    }

    /// The settings of plugin `name`, checked: keys are `[a-z0-9_]`, values short.
    pub fn settings_for(&self, name: &str) -> anyhow::Result<Settings> {
        let Some(plugin) = self.plugins.get(name) else { return Ok(Settings::default()) };
        let mut settings = BTreeMap::new();
        for (key, value) in &plugin.settings {
            if key.is_empty()
                || key.len() > MAX_SETTING_KEY
                || !key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                bail!("setting `{key}`: keys are 1 to {MAX_SETTING_KEY} characters of a-z, 0-9 and _");
            }
            let value = value.to_string();
            if value.len() > MAX_SETTING_VALUE {
                bail!("setting `{key}` is longer than {MAX_SETTING_VALUE} bytes");
            }
            settings.insert(key.clone(), value);
        }
        Ok(Arc::new(settings))
    }

    /// The limits of plugin `name`: defaults, then `[limits]`, then `[plugins.NAME.limits]`.
    pub fn limits_for(&self, name: &str) -> anyhow::Result<Limits> {
        let limits = Limits::default().apply(&self.limits)?;
        match self.plugins.get(name) {
            Some(plugin) => limits.apply(&plugin.limits),
            None => Ok(limits),
        }
    }

    /// Whether compiled plugins are cached on disk.
    pub fn cache_enabled(&self) -> bool {
        self.cache.unwrap_or(true)
    }

    /// Whether the plugin directory and this file are watched for changes (hot reload).
    pub fn watch_enabled(&self) -> bool {
        self.watch.unwrap_or(true)
    }

    /// The largest memory limit any plugin may have: the engine reserves this much per slot.
    pub fn max_memory_bytes(&self) -> usize {
        std::iter::once("")
            .chain(self.plugins.keys().map(String::as_str))
            .filter_map(|name| self.limits_for(name).ok())
            .map(|l| l.memory_bytes)
            .max()
            .unwrap_or(Limits::default().memory_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_limits_override_defaults() {
        let config: Config =
            toml::from_str("[limits]\nmemory_mib = 32\n[plugins.slow.limits]\ndeadline_seconds = 0.5\n").unwrap();
        let slow = config.limits_for("slow").unwrap();
        assert_eq!(slow.memory_bytes, 32 << 20);
        assert_eq!(slow.deadline, Duration::from_millis(500));
        assert_eq!(config.limits_for("other").unwrap().deadline, Limits::default().deadline);
    }

    #[test]
    fn the_cache_is_on_unless_turned_off() {
        assert!(Config::default().cache_enabled());
        assert!(!toml::from_str::<Config>("cache = false").unwrap().cache_enabled());
    }

    #[test]
    fn plugin_settings_are_text_and_checked() {
        let config: Config =
            toml::from_str("[plugins.sql.settings]\nwarehouse_id = \"abc\"\nrow_limit = 50\nstrict = true\n").unwrap();
        let sql = config.settings_for("sql").unwrap();
        assert_eq!(sql.get("warehouse_id").map(String::as_str), Some("abc"));
        assert_eq!(sql.get("row_limit").map(String::as_str), Some("50"));
        assert_eq!(sql.get("strict").map(String::as_str), Some("true"));
        assert!(config.settings_for("other").unwrap().is_empty());
        let bad: Config = toml::from_str("[plugins.sql.settings]\n\"Bad Key\" = 1\n").unwrap();
        assert!(bad.settings_for("sql").unwrap_err().to_string().contains("Bad Key"));
        assert!(toml::from_str::<Config>("[plugins.sql.settings]\nnested = { a = 1 }\n").is_err());
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(toml::from_str::<Config>("[limits]\nmemory_mb = 32\n").is_err());
    }
}
