//! Operator configuration: a TOML file for limits, policy and plugin settings, environment
//! variables for the workspace, its credential and the common settings. Unknown keys and invalid
//! values are errors naming the key and the file, so a typo never silently weakens a limit or a
//! policy.
//!
//! Where each setting comes from, first match wins: a command-line flag, then an environment
//! variable (see [`ENV_OVERRIDES`]), then the file, then the default. The file is the one
//! `--config` names, else `DATABRICKS_MCP_CONFIG`, else
//! `$XDG_CONFIG_HOME/databricks-mcp/config.toml` (`~/.config/...`) when it exists, else none.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::Deserialize;

use crate::manifest::Manifest;
use crate::policy::{Admission, PluginRules, Policy, PolicyConfig};

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
    /// What may load and be served (`[policy]`).
    #[serde(default)]
    pub policy: PolicyConfig,
    /// `watch = false` turns hot reload off (it is on by default; `--no-watch` does the same).
    pub watch: Option<bool>,
    #[serde(default)]
    pub server: ServerConfig,
    /// The HTTP transport (`serve --http`): inbound authentication, allowed hosts and origins.
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default)]
    pub workspace: WorkspaceConfig,
    /// Named workspaces (`[workspaces.NAME]`), each a profile of the Databricks configuration
    /// file. With any, every tool takes an optional `workspace` argument and `list_workspaces`
    /// is served.
    #[serde(default)]
    pub workspaces: BTreeMap<String, NamedWorkspace>,
    /// The workspace a call without `workspace` goes to: a name of `[workspaces]`, or
    /// `default` for the one the environment configures (the default when it configures one).
    pub default_workspace: Option<String>,
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

/// The HTTP transport's settings (`[http]`). Read at start-up; a change needs a restart.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Who may call `/mcp`, and with whose Databricks identity; see [`AuthMode`]. Unset:
    /// `tokens` when tokens are configured, else `none`.
    pub auth: Option<AuthMode>,
    /// The bearer tokens accepted by `auth = "tokens"`. Prefer `DATABRICKS_MCP_HTTP_TOKENS`,
    /// which keeps them out of a file that is often shared.
    #[serde(default)]
    pub tokens: Vec<String>,
    /// Host names (or `host:port`) the server answers to, besides the loopback names when
    /// bound to loopback; against DNS rebinding.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Browser origins (`https://app.example.com`, `http://localhost:6274`) allowed to call,
    /// besides the server's own origin and, when bound to loopback, loopback origins.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// How long in-flight calls may run on after SIGTERM before they are cut (default 30).
    pub shutdown_grace_seconds: Option<u64>,
}

impl std::fmt::Debug for HttpConfig {
    // By hand: the tokens are secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("auth", &self.auth)
            .field("tokens", &format_args!("[{} hidden]", self.tokens.len()))
            .field("allowed_hosts", &self.allowed_hosts)
            .field("allowed_origins", &self.allowed_origins)
            .field("shutdown_grace_seconds", &self.shutdown_grace_seconds)
            .finish()
    }
}

/// How HTTP callers authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    /// No credential: only allowed when bound to loopback.
    None,
    /// A static bearer token from `tokens`; calls use the host's own workspace credential.
    Tokens,
    /// Each request carries its caller's Databricks token (`X-Forwarded-Access-Token` from the
    /// Databricks Apps proxy, or `Authorization: Bearer`), used for that request's calls only.
    PerUser,
}

impl std::str::FromStr for AuthMode {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s.trim() {
            "none" => Ok(Self::None),
            "tokens" => Ok(Self::Tokens),
            "per-user" => Ok(Self::PerUser),
            other => bail!("`{other}` is not an authentication mode: use none, tokens or per-user"),
        }
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

/// One named workspace: where its host and credential come from. Credentials never go in this
/// file; they stay in the Databricks configuration file (or the token cache of `auth login`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedWorkspace {
    /// The profile of `~/.databrickscfg` (or `DATABRICKS_CONFIG_FILE`); default: the
    /// workspace's own name.
    pub profile: Option<String>,
    /// What the workspace is for, shown by `list_workspaces` to help the model choose.
    pub description: Option<String>,
}

/// The name of the workspace the environment configures.
pub const ENV_WORKSPACE: &str = "default";

/// Per-plugin settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// The hex sha256 the plugin's `.wasm` must have (a pin).
    pub sha256: Option<String>,
    /// The grants the plugin may use at most (`"METHOD /path"`); its effective grants are what
    /// it declares intersected with these.
    pub grants: Option<Vec<String>>,
    /// Served tool names are this followed by the plugin's own names (`prefix = "acme_"` serves
    /// `list_jobs` as `acme_list_jobs`).
    pub prefix: Option<String>,
    /// `resources = false` hides the plugin's MCP resources (templates, lists, reads, and the
    /// resource links of its tool results).
    pub resources: Option<bool>,
    /// `prompts = false` hides the plugin's MCP prompts.
    pub prompts: Option<bool>,
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

/// The environment variables that override the file, and the key each overrides.
pub const ENV_OVERRIDES: &[(&str, &str)] = &[
    ("DATABRICKS_MCP_PLUGIN_DIR", "plugin_dir"),
    ("DATABRICKS_MCP_CACHE_DIR", "cache_dir"),
    ("DATABRICKS_MCP_READ_ONLY", "policy.read_only"),
    ("DATABRICKS_MCP_ALLOW_PLUGINS", "policy.allow_plugins"),
    ("DATABRICKS_MCP_DENY_PLUGINS", "policy.deny_plugins"),
    ("DATABRICKS_MCP_ALLOW_TOOLS", "policy.allow_tools"),
    ("DATABRICKS_MCP_DENY_TOOLS", "policy.deny_tools"),
    ("DATABRICKS_MCP_HTTP_AUTH", "http.auth"),
    ("DATABRICKS_MCP_HTTP_TOKENS", "http.tokens"),
];

/// Settings given on the command line; they beat the environment and the file.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub config: Option<PathBuf>,
    pub plugin_dir: Option<PathBuf>,
    pub read_only: bool,
}

/// A plugin's limits, settings and what the policy admits it to.
#[derive(Debug, Clone)]
pub struct PluginSetup {
    pub limits: Limits,
    pub settings: Settings,
    pub admission: Admission,
}

/// Where the config file is: `--config`, else `DATABRICKS_MCP_CONFIG`, else the default
/// location when a file is there. `env` reads an environment variable.
pub fn locate(flag: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(path) = flag {
        return Some(path.to_path_buf());
    }
    if let Some(path) = env("DATABRICKS_MCP_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    default_path(env).filter(|p| p.is_file())
}

/// `$XDG_CONFIG_HOME/databricks-mcp/config.toml`, or `~/.config/databricks-mcp/config.toml`.
pub fn default_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let base = env("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| env("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("databricks-mcp").join("config.toml"))
}

impl Config {
    /// The configuration in effect: the file (see [`locate`]), then the environment, then the
    /// flags. Returns the file it read, if any. Errors name the key and the file, or the
    /// variable.
    pub fn resolve(flags: &Flags, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<(Self, Option<PathBuf>)> {
        let file = locate(flags.config.as_deref(), env);
        let mut config = match &file {
            Some(path) => Self::load(path)?,
            None => Self::default(),
        };
        config.apply_env(env)?;
        if let Some(dir) = &flags.plugin_dir {
            config.plugin_dir = Some(dir.clone());
        }
        if flags.read_only {
            config.policy.read_only = Some(true);
        }
        Ok((config, file))
    }

    /// Apply the environment overrides in [`ENV_OVERRIDES`]. An empty variable counts as unset.
    pub fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        if let Some(dir) = get("DATABRICKS_MCP_PLUGIN_DIR") {
            self.plugin_dir = Some(PathBuf::from(dir));
        }
        if let Some(dir) = get("DATABRICKS_MCP_CACHE_DIR") {
            self.cache_dir = Some(PathBuf::from(dir));
        }
        if let Some(value) = get("DATABRICKS_MCP_READ_ONLY") {
            self.policy.read_only = Some(match value.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => bail!("environment variable DATABRICKS_MCP_READ_ONLY is `{value}`: use true, false, 1 or 0"),
            });
        }
        if let Some(value) = get("DATABRICKS_MCP_HTTP_AUTH") {
            self.http.auth = Some(value.parse().context("environment variable DATABRICKS_MCP_HTTP_AUTH")?);
        }
        if let Some(value) = get("DATABRICKS_MCP_HTTP_TOKENS") {
            // Never echoed: a bad value is reported by position, not content.
            self.http.tokens = value.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect();
        }
        let list = |name: &str| {
            get(name).map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
        };
        let policy = &mut self.policy;
        for (name, field) in [
            ("DATABRICKS_MCP_ALLOW_PLUGINS", &mut policy.allow_plugins),
            ("DATABRICKS_MCP_DENY_PLUGINS", &mut policy.deny_plugins),
            ("DATABRICKS_MCP_ALLOW_TOOLS", &mut policy.allow_tools),
            ("DATABRICKS_MCP_DENY_TOOLS", &mut policy.deny_tools),
        ] {
            if let Some(values) = list(name) {
                *field = Some(values);
            }
        }
        // The file was checked when it was read, so a policy error now comes from a variable.
        match Policy::new(&self.policy, self.plugin_rules()) {
            Ok(_) => Ok(()),
            Err(e) => match ENV_OVERRIDES.iter().find(|(_, key)| *key == e.key) {
                Some((var, _)) => bail!("environment variable {var}: {}", e.reason),
                None => Err(e.into()),
            },
        }
    }

    /// The policy: `[policy]` and the `sha256` and `grants` of each `[plugins.NAME]`.
    pub fn policy(&self) -> anyhow::Result<Policy> {
        Ok(Policy::new(&self.policy, self.plugin_rules())?)
    }

    fn plugin_rules(&self) -> impl Iterator<Item = (&str, PluginRules)> {
        self.plugins.iter().map(|(name, p)| {
            let rules = PluginRules {
                sha256: p.sha256.clone(),
                grants: p.grants.clone(),
                prefix: p.prefix.clone(),
                resources: p.resources,
                prompts: p.prompts,
            };
            (name.as_str(), rules)
        })
    }

    /// Everything the host needs to run the plugin described by `manifest`, whose file has
    /// sha256 `digest`; a policy [`Refusal`](crate::policy::Refusal) if it may not load.
    pub fn setup_for(&self, manifest: &Manifest, digest: &str) -> anyhow::Result<PluginSetup> {
        let admission = self.policy()?.admit(manifest, digest)?;
        for grant in &admission.unused_grants {
            tracing::warn!(
                plugin = %manifest.name,
                "grant `{grant}` in plugins.{}.grants matches nothing the plugin declares",
                manifest.name
            );
        }
        Ok(PluginSetup {
            limits: self.limits_for(&manifest.name)?,
            settings: self.settings_for(&manifest.name)?,
            admission,
        })
    }

    /// Read the file at `path`.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading config file {}", path.display()))?;
        let config: Self = toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))?;
        config.policy().with_context(|| format!("in config file {}", path.display()))?;
        config.limits_for("").with_context(|| format!("in [limits] of {}", path.display()))?;
        for name in config.plugins.keys() {
            config.limits_for(name).with_context(|| format!("in [plugins.{name}.limits] of {}", path.display()))?;
            config.settings_for(name).with_context(|| format!("in [plugins.{name}.settings] of {}", path.display()))?;
        }
        config.check_workspaces().with_context(|| format!("in config file {}", path.display()))?;
        Ok(config)
    }

    /// Workspace names are short identifiers, and `default_workspace` names one that exists.
    pub fn check_workspaces(&self) -> anyhow::Result<()> {
        for name in self.workspaces.keys() {
            let valid = !name.is_empty()
                && name.len() <= 64
                && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
            if !valid {
                bail!("[workspaces.{name}]: a workspace name is 1 to 64 of a-z, 0-9, `_` and `-`");
            }
        }
        if let Some(default) = &self.default_workspace
            && default != ENV_WORKSPACE
            && !self.workspaces.contains_key(default)
        {
            let mut known: Vec<&str> = self.workspaces.keys().map(String::as_str).collect();
            known.push(ENV_WORKSPACE);
            bail!("default_workspace = \"{default}\" names no workspace: use one of {}", known.join(", "));
        }
        Ok(())
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

    /// An environment made of `pairs`.
    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn the_config_file_is_the_flag_then_the_variable_then_the_default_location() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_str().unwrap();
        let flag = Path::new("/flag.toml");
        let var = [("DATABRICKS_MCP_CONFIG", "/var.toml"), ("XDG_CONFIG_HOME", home)];
        assert_eq!(locate(Some(flag), &env(&var)), Some(flag.to_path_buf()));
        assert_eq!(locate(None, &env(&var)), Some(PathBuf::from("/var.toml")));
        assert_eq!(locate(None, &env(&[("XDG_CONFIG_HOME", home)])), None, "the default only when it exists");
        let default = write(dir.path(), "databricks-mcp/config.toml", "");
        assert_eq!(locate(None, &env(&[("XDG_CONFIG_HOME", home)])), Some(default));
        let fallback = env(&[("HOME", "/home/op")]);
        assert_eq!(default_path(&fallback), Some(PathBuf::from("/home/op/.config/databricks-mcp/config.toml")));
    }

    #[test]
    fn flags_beat_the_environment_which_beats_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "c.toml",
            "plugin_dir = \"/file\"\n[policy]\nread_only = true\ndeny_plugins = [\"secrets\"]\nallow_tools = [\"list_*\"]\n",
        );
        let flags = |plugin_dir: Option<&str>, read_only| Flags {
            config: Some(file.clone()),
            plugin_dir: plugin_dir.map(PathBuf::from),
            read_only,
        };
        let none = env(&[]);
        let (c, used) = Config::resolve(&flags(None, false), &none).unwrap();
        assert_eq!(used, Some(file.clone()));
        assert_eq!(c.plugin_dir, Some(PathBuf::from("/file")));
        assert_eq!(c.policy.read_only, Some(true));
        assert_eq!(c.policy.deny_plugins, Some(vec!["secrets".to_string()]));

        let vars = env(&[
            ("DATABRICKS_MCP_PLUGIN_DIR", "/env"),
            ("DATABRICKS_MCP_READ_ONLY", "0"),
            ("DATABRICKS_MCP_DENY_PLUGINS", "sql, jobs"),
            ("DATABRICKS_MCP_ALLOW_TOOLS", ""),
            ("DATABRICKS_MCP_CACHE_DIR", "/cache"),
        ]);
        let (c, _) = Config::resolve(&flags(None, false), &vars).unwrap();
        assert_eq!(c.plugin_dir, Some(PathBuf::from("/env")));
        assert_eq!(c.cache_dir, Some(PathBuf::from("/cache")));
        assert_eq!(c.policy.read_only, Some(false));
        assert_eq!(c.policy.deny_plugins, Some(vec!["sql".to_string(), "jobs".to_string()]));
        assert_eq!(c.policy.allow_tools, Some(vec!["list_*".to_string()]), "an empty variable is unset");

        let (c, _) = Config::resolve(&flags(Some("/flag"), true), &vars).unwrap();
        assert_eq!(c.plugin_dir, Some(PathBuf::from("/flag")));
        assert_eq!(c.policy.read_only, Some(true));

        let (c, used) = Config::resolve(&Flags::default(), &none).unwrap();
        assert_eq!((used, c.policy), (None, PolicyConfig::default()), "no file: defaults");
    }

    #[test]
    fn bad_environment_values_name_the_variable() {
        for (var, value) in [
            ("DATABRICKS_MCP_READ_ONLY", "yes please"),
            ("DATABRICKS_MCP_ALLOW_PLUGINS", "Clusters"),
            ("DATABRICKS_MCP_DENY_TOOLS", "list clusters"),
        ] {
            let e = Config::resolve(&Flags::default(), &env(&[(var, value)])).unwrap_err().to_string();
            assert!(e.contains(var) && e.contains(value.split(' ').next().unwrap()), "{var}: {e}");
        }
    }

    #[test]
    fn bad_files_name_the_key_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        for (text, key) in [
            ("[policy]\nread_only = true\nallow_tool = [\"x\"]\n", "allow_tool"),
            ("[policy]\nread_only = \"yes\"\n", "read_only"),
            ("[plugins.clusters]\nsha256 = \"nope\"\n", "plugins.clusters.sha256"),
            ("[plugins.clusters]\ngrants = [\"GET nowhere\"]\n", "plugins.clusters.grants"),
            ("[policy]\ndeny_tools = [\"a b\"]\n", "policy.deny_tools"),
        ] {
            let file = write(dir.path(), "bad.toml", text);
            let e = format!("{:#}", Config::load(&file).unwrap_err());
            assert!(e.contains(key) && e.contains("bad.toml"), "{text}: {e}");
        }
        let missing =
            Config::resolve(&Flags { config: Some(dir.path().join("nope.toml")), ..Flags::default() }, &env(&[]));
        assert!(missing.unwrap_err().to_string().contains("nope.toml"));
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(toml::from_str::<Config>("[limits]\nmemory_mb = 32\n").is_err());
        assert!(toml::from_str::<Config>("[workspaces.prod]\ntoken = \"dapi\"\n").is_err(), "no credentials here");
    }

    #[test]
    fn workspace_names_and_the_default_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let ok = write(
            dir.path(),
            "ok.toml",
            "default_workspace = \"prod\"\n[workspaces.prod]\n[workspaces.dev]\nprofile = \"x\"\n",
        );
        assert_eq!(Config::load(&ok).unwrap().workspaces.len(), 2);
        let env_default = write(dir.path(), "env.toml", "default_workspace = \"default\"\n[workspaces.prod]\n");
        assert!(Config::load(&env_default).is_ok());
        let missing = write(dir.path(), "missing.toml", "default_workspace = \"stage\"\n[workspaces.prod]\n");
        let err = format!("{:#}", Config::load(&missing).unwrap_err());
        assert!(err.contains("names no workspace") && err.contains("prod, default"), "{err}");
        let bad = write(dir.path(), "bad.toml", "[workspaces.\"Prod West\"]\n");
        assert!(format!("{:#}", Config::load(&bad).unwrap_err()).contains("a-z, 0-9"));
    }
}
