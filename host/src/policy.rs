//! The operator's policy: which plugins may load, which file each one must be, which tools are
//! served, and how much of the workspace API each plugin may reach. Vocabulary only (no
//! wasmtime): the loader asks [`Policy::admit`] once per plugin and bakes the answer into the
//! plugin, so listing, calling and every outbound request see the same decision.
//!
//! The policy only ever takes away. A plugin's effective grants are the intersection of what it
//! declares and what the operator grants, so it can never reach more than it declared; hidden
//! tools are not indexed, so calling one is the same "unknown tool" as calling a tool that does
//! not exist. Nothing an MCP client sends can change any of this.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::manifest::{Grant, Manifest, ToolSpec};

/// `[policy]` as written in the config file (every field optional, so the environment can
/// override one at a time).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Serve only tools annotated read-only.
    pub read_only: Option<bool>,
    /// Plugins (by manifest name) that may load; absent means all.
    pub allow_plugins: Option<Vec<String>>,
    /// Plugins that may not load; wins over `allow_plugins`.
    pub deny_plugins: Option<Vec<String>>,
    /// Tool name patterns (`*` matches any run of characters) that are served; absent means all.
    pub allow_tools: Option<Vec<String>>,
    /// Tool name patterns that are never served; wins over `allow_tools`.
    pub deny_tools: Option<Vec<String>>,
}

/// What the operator says about one plugin (`[plugins.NAME]` `sha256`, `grants` and `prefix`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginRules {
    /// The hex sha256 the plugin's `.wasm` must have.
    pub sha256: Option<String>,
    /// The grants the plugin may use at most, as `METHOD /path` strings.
    pub grants: Option<Vec<String>>,
    /// Put before each of the plugin's tool names, e.g. to serve two plugins that name a tool
    /// alike.
    pub prefix: Option<String>,
    /// `false` hides the plugin's resources (templates, lists, reads and links).
    pub resources: Option<bool>,
    /// `false` hides the plugin's prompts.
    pub prompts: Option<bool>,
}

/// A policy that was written wrong. The message names the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {reason}")]
pub struct PolicyError {
    pub key: String,
    pub reason: String,
}

/// Why a plugin was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("plugin `{0}` is denied by the operator policy (policy.deny_plugins)")]
    Denied(String),
    #[error("plugin `{0}` is not in the operator's allow list (policy.allow_plugins)")]
    NotAllowed(String),
    #[error(
        "the file's sha256 is {found}, but the operator pinned plugin `{name}` to {expected} (plugins.{name}.sha256); install the pinned file or update the pin"
    )]
    PinMismatch { name: String, expected: String, found: String },
}

impl Refusal {
    /// Whether the operator chose to leave the plugin out (as opposed to something being wrong
    /// with the file): such a plugin is reported, not counted as a failed load.
    pub fn is_exclusion(&self) -> bool {
        matches!(self, Self::Denied(_) | Self::NotAllowed(_))
    }
}

/// What an admitted plugin gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// The grants it may use: what it declared, intersected with the operator's grants.
    pub grants: Vec<Grant>,
    /// Whether the operator narrowed its grants.
    pub narrowed: bool,
    /// Operator grants that meet nothing the plugin declared (worth a warning: likely a typo).
    pub unused_grants: Vec<String>,
    /// Tools not served, each with why (by the name it would be served under).
    pub hidden: Vec<(String, String)>,
    /// What goes before each tool name (`plugins.NAME.prefix`), or empty.
    pub prefix: String,
    /// Whether its resources are served (`plugins.NAME.resources`, default true).
    pub resources: bool,
    /// Whether its prompts are served (`plugins.NAME.prompts`, default true).
    pub prompts: bool,
    /// Read-only mode: its resource reads, prompts and completions may only send GET and HEAD.
    pub read_only: bool,
}

/// The policy, checked and ready to apply. `Policy::default()` allows everything.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    read_only: bool,
    allow_plugins: Option<BTreeSet<String>>,
    deny_plugins: BTreeSet<String>,
    allow_tools: Option<Vec<String>>,
    deny_tools: Vec<String>,
    pins: BTreeMap<String, String>,
    narrowing: BTreeMap<String, Vec<Grant>>,
    prefixes: BTreeMap<String, String>,
    /// Plugins whose resources, or prompts, the operator hides.
    hidden_resources: BTreeSet<String>,
    hidden_prompts: BTreeSet<String>,
}

impl Policy {
    /// Check and compile the policy section and the per-plugin rules.
    pub fn new<'a>(
        section: &PolicyConfig,
        plugins: impl IntoIterator<Item = (&'a str, PluginRules)>,
    ) -> Result<Self, PolicyError> {
        let err = |key: &str, reason: String| PolicyError { key: key.to_string(), reason };
        let plugin_names = |key: &str, list: &Option<Vec<String>>| -> Result<Option<BTreeSet<String>>, PolicyError> {
            let Some(list) = list else { return Ok(None) };
            list.iter()
                .map(|name| {
                    if valid_plugin_name(name) {
                        Ok(name.clone())
                    } else {
                        Err(err(key, format!("`{name}` is not a plugin name (1-64 characters of a-z, 0-9 and '-')")))
                    }
                })
                .collect::<Result<_, _>>()
                .map(Some)
        };
        let patterns = |key: &str, list: &Option<Vec<String>>| -> Result<Option<Vec<String>>, PolicyError> {
            let Some(list) = list else { return Ok(None) };
            for pattern in list {
                let ok = (1..=64).contains(&pattern.len())
                    && pattern.chars().all(|c| c.is_ascii_alphanumeric() || "_-*".contains(c));
                if !ok {
                    return Err(err(
                        key,
                        format!(
                            "`{pattern}` is not a tool name pattern (1-64 characters of a-z, A-Z, 0-9, '_', '-' and '*')"
                        ),
                    ));
                }
            }
            Ok(Some(list.clone()))
        };
        let mut policy = Self {
            read_only: section.read_only.unwrap_or(false),
            allow_plugins: plugin_names("policy.allow_plugins", &section.allow_plugins)?,
            deny_plugins: plugin_names("policy.deny_plugins", &section.deny_plugins)?.unwrap_or_default(),
            allow_tools: patterns("policy.allow_tools", &section.allow_tools)?,
            deny_tools: patterns("policy.deny_tools", &section.deny_tools)?.unwrap_or_default(),
            ..Self::default()
        };
        for (name, rules) in plugins {
            if rules.resources == Some(false) {
                policy.hidden_resources.insert(name.to_string());
            }
            if rules.prompts == Some(false) {
                policy.hidden_prompts.insert(name.to_string());
            }
            if let Some(pin) = &rules.sha256 {
                let key = format!("plugins.{name}.sha256");
                let hex = pin.strip_prefix("sha256:").unwrap_or(pin).to_ascii_lowercase();
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(err(&key, format!("`{pin}` is not a sha256 digest (64 hex digits)")));
                }
                policy.pins.insert(name.to_string(), hex);
            }
            if let Some(grants) = &rules.grants {
                let key = format!("plugins.{name}.grants");
                let parsed = grants
                    .iter()
                    .map(|g| {
                        let (method, path) = g.trim().split_once(' ').unwrap_or((g.as_str(), ""));
                        Grant::parse(method, path.trim())
                            .map_err(|e| err(&key, format!("{e} (write grants as \"METHOD /path\")")))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                policy.narrowing.insert(name.to_string(), parsed);
            }
            if let Some(prefix) = &rules.prefix {
                let ok = (1..=32).contains(&prefix.len())
                    && prefix.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c));
                if !ok {
                    return Err(err(
                        &format!("plugins.{name}.prefix"),
                        format!("`{prefix}` is not a tool name prefix (1-32 characters of a-z, A-Z, 0-9, '_' and '-')"),
                    ));
                }
                policy.prefixes.insert(name.to_string(), prefix.clone());
            }
        }
        Ok(policy)
    }

    /// Whether only read-only tools are served.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Decide about a plugin whose `.wasm` has sha256 `digest` and whose manifest is `manifest`.
    pub fn admit(&self, manifest: &Manifest, digest: &str) -> Result<Admission, Refusal> {
        let name = &manifest.name;
        if self.deny_plugins.contains(name) {
            return Err(Refusal::Denied(name.clone()));
        }
        if self.allow_plugins.as_ref().is_some_and(|allow| !allow.contains(name)) {
            return Err(Refusal::NotAllowed(name.clone()));
        }
        if let Some(expected) = self.pins.get(name)
            && !expected.eq_ignore_ascii_case(digest)
        {
            return Err(Refusal::PinMismatch { name: name.clone(), expected: expected.clone(), found: digest.into() });
        }
        let (grants, narrowed, unused_grants) = match self.narrowing.get(name) {
            None => (manifest.grants.clone(), false, Vec::new()),
            Some(operator) => {
                let mut effective: Vec<Grant> = Vec::new();
                for declared in &manifest.grants {
                    for granted in operator {
                        if let Some(g) = declared.intersect(granted)
                            && !effective.contains(&g)
                        {
                            effective.push(g);
                        }
                    }
                }
                let unused = operator
                    .iter()
                    .filter(|g| manifest.grants.iter().all(|d| d.intersect(g).is_none()))
                    .map(ToString::to_string)
                    .collect();
                (effective, true, unused)
            }
        };
        let prefix = self.prefixes.get(name).cloned().unwrap_or_default();
        let hidden = manifest
            .tools
            .iter()
            .filter_map(|tool| {
                let served = format!("{prefix}{}", tool.name);
                self.why_hidden(tool, &served).map(|why| (served, why))
            })
            .collect();
        Ok(Admission {
            grants,
            narrowed,
            unused_grants,
            hidden,
            prefix,
            resources: !self.hidden_resources.contains(name),
            prompts: !self.hidden_prompts.contains(name),
            read_only: self.read_only,
        })
    }

    /// Why `tool`, served as `served` (its name with the plugin's prefix), is not served, or
    /// `None` when it is. Tool patterns match the name clients see.
    pub fn why_hidden(&self, tool: &ToolSpec, served: &str) -> Option<String> {
        if self.read_only && !tool.annotations.read_only {
            return Some("read-only mode (policy.read_only) serves only tools annotated read-only".into());
        }
        self.why_hidden_name(served)
    }

    /// Why the tool patterns leave out a tool served as `served` (the host's own
    /// `list_workspaces` among them), or `None`.
    pub fn why_hidden_name(&self, served: &str) -> Option<String> {
        if let Some(pattern) = self.deny_tools.iter().find(|p| glob(p, served)) {
            return Some(format!("matches `{pattern}` in policy.deny_tools"));
        }
        if let Some(allow) = &self.allow_tools
            && !allow.iter().any(|p| glob(p, served))
        {
            return Some("matches no pattern in policy.allow_tools".into());
        }
        None
    }
}

fn valid_plugin_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Whether `name` matches `pattern`, where `*` matches any run of characters (none included)
/// and everything else matches itself.
pub fn glob(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    // Greedy with one backtrack point (the last `*`): linear enough for 64-character names.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Annotations, Method};

    fn tool(name: &str, read_only: bool) -> ToolSpec {
        ToolSpec {
            name: name.into(),
            title: None,
            description: "d".into(),
            input_schema: serde_json::Map::new(),
            output_schema: None,
            annotations: Annotations { read_only, ..Annotations::default() },
        }
    }

    fn grant(s: &str) -> Grant {
        let (m, p) = s.split_once(' ').unwrap();
        Grant::parse(m, p).unwrap()
    }

    fn manifest(name: &str, grants: &[&str]) -> Manifest {
        Manifest {
            name: name.into(),
            version: "1.0.0".into(),
            description: "d".into(),
            contract_version: "0.1.0".into(),
            sdk: "x".into(),
            tools: vec![tool("list_clusters", true), tool("create_cluster", false), tool("delete_thing", false)],
            grants: grants.iter().map(|g| grant(g)).collect(),
        }
    }

    fn policy(toml_text: &str) -> Result<Policy, PolicyError> {
        #[derive(Deserialize)]
        struct File {
            #[serde(default)]
            policy: PolicyConfig,
            #[serde(default)]
            plugins: BTreeMap<String, Rules>,
        }
        #[derive(Deserialize)]
        struct Rules {
            sha256: Option<String>,
            grants: Option<Vec<String>>,
            prefix: Option<String>,
        }
        let file: File = toml::from_str(toml_text).unwrap();
        Policy::new(
            &file.policy,
            file.plugins.iter().map(|(n, r)| {
                (
                    n.as_str(),
                    PluginRules {
                        sha256: r.sha256.clone(),
                        grants: r.grants.clone(),
                        prefix: r.prefix.clone(),
                        ..PluginRules::default()
                    },
                )
            }),
        )
    }

    const DIGEST: &str = "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12";

    #[test]
    fn globs_match_like_a_table_says() {
        for (pattern, name, expected) in [
            ("list_*", "list_clusters", true),
            ("list_*", "get_cluster", false),
            ("*delete*", "permanently_delete_cluster", true),
            ("*delete*", "delete", true),
            ("*delete*", "create_cluster", false),
            ("execute_sql", "execute_sql", true),
            ("execute_sql", "execute_sql_x", false),
            ("*", "anything", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbY", false),
            ("*_cluster", "get_cluster_events", false),
        ] {
            assert_eq!(glob(pattern, name), expected, "{pattern} vs {name}");
        }
    }

    #[test]
    fn plugin_lists_deny_wins_over_allow() {
        let m = |name: &str| manifest(name, &[]);
        let p = policy("[policy]\nallow_plugins = [\"clusters\", \"secrets\"]\ndeny_plugins = [\"secrets\"]").unwrap();
        assert!(p.admit(&m("clusters"), DIGEST).is_ok());
        assert_eq!(p.admit(&m("secrets"), DIGEST), Err(Refusal::Denied("secrets".into())));
        assert_eq!(p.admit(&m("sql"), DIGEST), Err(Refusal::NotAllowed("sql".into())));
        assert!(Refusal::Denied("x".into()).is_exclusion());
        let all = Policy::default();
        assert!(all.admit(&m("anything"), DIGEST).is_ok());
        let none = policy("[policy]\nallow_plugins = []").unwrap();
        assert!(none.admit(&m("clusters"), DIGEST).is_err());
    }

    #[test]
    fn refuses_a_file_that_is_not_the_pinned_one_naming_both_digests() {
        let p = policy(&format!("[plugins.clusters]\nsha256 = \"sha256:{}\"", DIGEST.to_uppercase())).unwrap();
        assert!(p.admit(&manifest("clusters", &[]), DIGEST).is_ok(), "prefix and case do not matter");
        let other = "cd".repeat(32);
        let refusal = p.admit(&manifest("clusters", &[]), &other).unwrap_err();
        assert!(!refusal.is_exclusion());
        let text = refusal.to_string();
        assert!(text.contains(DIGEST) && text.contains(&other) && text.contains("plugins.clusters.sha256"), "{text}");
        assert!(p.admit(&manifest("sql", &[]), &other).is_ok(), "pins are per plugin");
    }

    #[test]
    fn hides_tools_by_read_only_mode_and_patterns() {
        let cases: [(&str, &[&str]); 5] = [
            ("", &[]),
            ("read_only = true", &["create_cluster", "delete_thing"]),
            ("deny_tools = [\"*delete*\"]", &["delete_thing"]),
            ("allow_tools = [\"list_*\", \"create_*\"]", &["delete_thing"]),
            ("allow_tools = [\"*\"]\ndeny_tools = [\"create_*\", \"list_*\"]", &["list_clusters", "create_cluster"]),
        ];
        for (section, hidden) in cases {
            let p = policy(&format!("[policy]\n{section}")).unwrap();
            let admission = p.admit(&manifest("clusters", &[]), DIGEST).unwrap();
            let names: Vec<&str> = admission.hidden.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, hidden, "{section}");
        }
        let p = policy("[policy]\nread_only = true").unwrap();
        assert!(p.why_hidden(&tool("x", false), "x").unwrap().contains("policy.read_only"));
    }

    #[test]
    fn tool_patterns_match_the_prefixed_names_clients_see() {
        let p = policy("[policy]\ndeny_tools = [\"acme_*\"]\n[plugins.clusters]\nprefix = \"acme_\"").unwrap();
        let admission = p.admit(&manifest("clusters", &[]), DIGEST).unwrap();
        assert_eq!(admission.prefix, "acme_");
        assert!(admission.hidden.iter().all(|(name, _)| name.starts_with("acme_")), "{:?}", admission.hidden);
        assert_eq!(admission.hidden.len(), manifest("clusters", &[]).tools.len());
        let other = p.admit(&manifest("jobs", &[]), DIGEST).unwrap();
        assert!(other.prefix.is_empty() && other.hidden.is_empty(), "the prefix is per plugin");
    }

    #[test]
    fn narrowing_intersects_and_never_widens() {
        let declared = ["GET /api/2.1/clusters/list", "GET /api/2.1/clusters/get", "POST /api/2.1/clusters/create"];
        let p = policy(
            "[plugins.clusters]\ngrants = [\"GET /api/2.1/clusters/*\", \"POST /api/2.0/secrets/put\", \"DELETE /api/**\"]",
        )
        .unwrap();
        let admission = p.admit(&manifest("clusters", &declared), DIGEST).unwrap();
        assert!(admission.narrowed);
        let effective: Vec<String> = admission.grants.iter().map(ToString::to_string).collect();
        assert_eq!(effective, ["GET /api/2.1/clusters/list", "GET /api/2.1/clusters/get"]);
        assert_eq!(admission.unused_grants, ["POST /api/2.0/secrets/put", "DELETE /api/**"]);
        let allowed = |path: &str, m: Method| admission.grants.iter().any(|g| g.allows(m, path));
        assert!(allowed("/api/2.1/clusters/list", Method::Get));
        assert!(!allowed("/api/2.1/clusters/create", Method::Post), "narrowed away");
        assert!(!allowed("/api/2.1/clusters/events", Method::Get), "granted by the operator but never declared");

        let unnarrowed = Policy::default().admit(&manifest("clusters", &declared), DIGEST).unwrap();
        assert!(!unnarrowed.narrowed);
        assert_eq!(unnarrowed.grants.len(), 3);
        let nothing =
            policy("[plugins.clusters]\ngrants = []").unwrap().admit(&manifest("clusters", &declared), DIGEST);
        assert!(nothing.unwrap().grants.is_empty());
    }

    #[test]
    fn refuses_malformed_policy_naming_the_key() {
        for (text, key) in [
            ("[policy]\ndeny_plugins = [\"Bad Name\"]", "policy.deny_plugins"),
            ("[policy]\nallow_plugins = [\"\"]", "policy.allow_plugins"),
            ("[policy]\nallow_tools = [\"list clusters\"]", "policy.allow_tools"),
            ("[policy]\ndeny_tools = [\"?\"]", "policy.deny_tools"),
            ("[plugins.clusters]\nsha256 = \"abc\"", "plugins.clusters.sha256"),
            ("[plugins.clusters]\ngrants = [\"GET api/x\"]", "plugins.clusters.grants"),
            ("[plugins.clusters]\ngrants = [\"/api/x\"]", "plugins.clusters.grants"),
            ("[plugins.clusters]\nprefix = \"a b\"", "plugins.clusters.prefix"),
            ("[plugins.clusters]\nprefix = \"\"", "plugins.clusters.prefix"),
        ] {
            let e = policy(text).unwrap_err();
            assert_eq!(e.key, key, "{text}: {e}");
        }
    }
}
