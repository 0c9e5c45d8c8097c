//! One workspace's settings, resolved as the Databricks SDKs resolve them, and the method they
//! select.
//!
//! The sources, in order (the first that sets an attribute wins):
//! 1. Environment variables: `DATABRICKS_HOST`, `DATABRICKS_TOKEN`, `DATABRICKS_CLIENT_ID`,
//!    `DATABRICKS_CLIENT_SECRET`, `DATABRICKS_AUTH_TYPE`. (Not for a named workspace of the
//!    host's config, whose profile is its only source: otherwise every workspace would be the
//!    one the environment names.)
//! 2. One profile of the configuration file (`DATABRICKS_CONFIG_FILE`, else `~/.databrickscfg`):
//!    the one `DATABRICKS_CONFIG_PROFILE` (or the workspace's `profile`) names, else `DEFAULT`.
//!    As in the Python SDK, `DEFAULT` is read only when the environment set neither a host nor
//!    a credential, so environment settings are never mixed with an unrelated profile. A named
//!    profile that is missing, or a file that does not parse, is an error; a missing file or
//!    `DEFAULT` section is not.
//!
//! The method: `auth_type` (`DATABRICKS_AUTH_TYPE`) when set; else, in the SDKs' order, `pat`
//! when there is a token, `oauth-m2m` when there is a client id and secret, and otherwise
//! `databricks-cli` (OAuth U2M from a cached sign-in). A token and a client secret together,
//! without `auth_type`, are an error, as in the SDKs.

use std::path::PathBuf;

use super::AuthError;
use super::profiles::{DEFAULT_PROFILE, ProfilesFile};
use crate::workspace::Secret;

/// Where one attribute came from, for messages and `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Env(&'static str),
    Profile { profile: String, key: &'static str, file: PathBuf },
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Env(var) => write!(f, "{var}"),
            Self::Profile { profile, key, file } => write!(f, "`{key}` of profile [{profile}] in {}", file.display()),
        }
    }
}

/// An attribute and where it came from.
#[derive(Debug, Clone)]
pub struct Attr<T> {
    pub value: T,
    pub source: Source,
}

/// The unified-auth attributes of one workspace.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The profile read, if any, and its file.
    pub profile: Option<(String, PathBuf)>,
    pub host: Option<Attr<String>>,
    pub token: Option<Attr<Secret>>,
    pub client_id: Option<Attr<String>>,
    pub client_secret: Option<Attr<Secret>>,
    pub auth_type: Option<Attr<String>>,
}

/// How a workspace is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Pat,
    OAuthM2m,
    /// OAuth U2M from a cached sign-in (ours or the Databricks CLI's).
    OAuthU2m,
}

impl Method {
    /// The SDKs' `auth_type` name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pat => "pat",
            Self::OAuthM2m => "oauth-m2m",
            Self::OAuthU2m => "databricks-cli",
        }
    }
}

/// Which sources a workspace reads.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// The environment, then the profile `DATABRICKS_CONFIG_PROFILE` names (or `DEFAULT`).
    Environment,
    /// Only this profile: a named workspace of the host's config.
    Profile(&'a str),
}

const ENV: [(&str, &str); 5] = [
    ("host", "DATABRICKS_HOST"),
    ("token", "DATABRICKS_TOKEN"),
    ("client_id", "DATABRICKS_CLIENT_ID"),
    ("client_secret", "DATABRICKS_CLIENT_SECRET"),
    ("auth_type", "DATABRICKS_AUTH_TYPE"),
];

impl Settings {
    /// Resolve from `env` (an environment lookup; `HOME` locates `~`).
    pub fn resolve(scope: Scope<'_>, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, AuthError> {
        let get = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let mut settings = Self::default();
        let explicit = match scope {
            Scope::Environment => {
                for (key, var) in ENV {
                    if let Some(value) = get(var) {
                        settings.set(key, value, Source::Env(var));
                    }
                }
                get("DATABRICKS_CONFIG_PROFILE")
            }
            Scope::Profile(name) => Some(name.to_string()),
        };
        let configured = settings.host.is_some() || settings.any_credential();
        if explicit.is_none() && configured {
            return Ok(settings);
        }
        let Some(path) = super::profiles::location(env) else {
            return match explicit {
                Some(p) => Err(AuthError::Config(format!(
                    "profile `{p}` was asked for, but there is no configuration file: HOME is not set; set DATABRICKS_CONFIG_FILE"
                ))),
                None => Ok(settings),
            };
        };
        let file = ProfilesFile::read(&path).map_err(|e| AuthError::Config(e.to_string()))?;
        let asked_by = match scope {
            Scope::Environment => "DATABRICKS_CONFIG_PROFILE",
            Scope::Profile(_) => "the workspace's `profile` in the host config",
        };
        let Some(file) = file else {
            return match explicit {
                Some(p) => Err(AuthError::Config(format!(
                    "profile `{p}` (from {asked_by}) cannot be read: {} does not exist; create it with `databricks configure --profile {p}` or set DATABRICKS_CONFIG_FILE",
                    path.display()
                ))),
                None => Ok(settings),
            };
        };
        let name = explicit.clone().unwrap_or_else(|| DEFAULT_PROFILE.to_string());
        let Some(keys) = file.profile(&name) else {
            if explicit.is_none() {
                return Ok(settings);
            }
            let known: Vec<&str> = file.names().collect();
            return Err(AuthError::Config(format!(
                "{} has no profile [{name}] (from {asked_by}); it has: {}",
                path.display(),
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            )));
        };
        for (key, _) in ENV {
            let already = match key {
                "host" => settings.host.is_some(),
                "token" => settings.token.is_some(),
                "client_id" => settings.client_id.is_some(),
                "client_secret" => settings.client_secret.is_some(),
                _ => settings.auth_type.is_some(),
            };
            if let (false, Some(value)) = (already, keys.get(key).filter(|v| !v.is_empty())) {
                settings.set(key, value.clone(), Source::Profile { profile: name.clone(), key, file: path.clone() });
            }
        }
        settings.profile = Some((name, path));
        Ok(settings)
    }

    fn set(&mut self, key: &str, value: String, source: Source) {
        match key {
            "host" => self.host = Some(Attr { value, source }),
            "token" => self.token = Some(Attr { value: Secret::new(value), source }),
            "client_id" => self.client_id = Some(Attr { value, source }),
            "client_secret" => self.client_secret = Some(Attr { value: Secret::new(value), source }),
            _ => self.auth_type = Some(Attr { value, source }),
        }
    }

    fn any_credential(&self) -> bool {
        self.token.is_some() || self.client_id.is_some() || self.client_secret.is_some()
    }

    /// Where the settings came from, in words: "the environment", "profile [p] of FILE".
    pub fn origin(&self) -> String {
        match &self.profile {
            Some((name, file)) if self.host.as_ref().is_some_and(|h| matches!(h.source, Source::Env(_))) => {
                format!("the environment and profile [{name}] of {}", file.display())
            }
            Some((name, file)) => format!("profile [{name}] of {}", file.display()),
            None => "the environment".to_string(),
        }
    }

    /// What to set, phrased for where these settings come from.
    fn where_to_set(&self, env: &str, key: &str) -> String {
        match &self.profile {
            Some((name, file)) => format!("`{key}` in profile [{name}] of {}, or {env}", file.display()),
            None => env.to_string(),
        }
    }

    /// The workspace host, or an error saying what to set.
    pub fn host(&self) -> Result<&str, AuthError> {
        self.host.as_ref().map(|h| h.value.as_str()).ok_or_else(|| {
            AuthError::Config(match &self.profile {
                Some((name, file)) => format!(
                    "profile [{name}] of {} has no `host`: add `host = https://<workspace>.cloud.databricks.com` there, or set DATABRICKS_HOST",
                    file.display()
                ),
                None => "no workspace configured: set DATABRICKS_HOST to the workspace URL (and DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET), or DATABRICKS_CONFIG_PROFILE to a profile of ~/.databrickscfg".to_string(),
            })
        })
    }

    /// The method these settings select; see the module docs.
    pub fn method(&self) -> Result<Method, AuthError> {
        let m2m = self.client_id.is_some() || self.client_secret.is_some();
        if let Some(auth_type) = &self.auth_type {
            let method = match auth_type.value.as_str() {
                "pat" => Method::Pat,
                "oauth-m2m" => Method::OAuthM2m,
                "databricks-cli" | "external-browser" | "oauth-u2m" => Method::OAuthU2m,
                other => {
                    return Err(AuthError::Config(format!(
                        "auth type `{other}` (from {}) is not supported here: use pat, oauth-m2m or databricks-cli",
                        auth_type.source
                    )));
                }
            };
            return match method {
                Method::Pat if self.token.is_none() => Err(AuthError::Config(format!(
                    "auth type pat needs a token: set {}",
                    self.where_to_set("DATABRICKS_TOKEN", "token")
                ))),
                Method::OAuthM2m => self.check_m2m().map(|()| method),
                _ => Ok(method),
            };
        }
        match (&self.token, m2m) {
            (Some(token), true) => Err(AuthError::Config(format!(
                "more than one authorization method configured: oauth and pat (a token from {} and a client id or secret); remove one, or set DATABRICKS_AUTH_TYPE to pat or oauth-m2m",
                token.source
            ))),
            (Some(_), false) => Ok(Method::Pat),
            (None, true) => self.check_m2m().map(|()| Method::OAuthM2m),
            (None, false) => Ok(Method::OAuthU2m),
        }
    }

    fn check_m2m(&self) -> Result<(), AuthError> {
        match (&self.client_id, &self.client_secret) {
            (Some(_), Some(_)) => Ok(()),
            (None, _) => Err(AuthError::Config(format!(
                "OAuth M2M needs a client id: set {}",
                self.where_to_set("DATABRICKS_CLIENT_ID", "client_id")
            ))),
            (_, None) => Err(AuthError::Config(format!(
                "OAuth M2M needs the client secret of client `{}`: set {}",
                self.client_id.as_ref().map_or("", |c| c.value.as_str()),
                self.where_to_set("DATABRICKS_CLIENT_SECRET", "client_secret")
            ))),
        }
    }

    /// What to fix when the workspace refuses the credential of `method`.
    pub fn fix_hint(&self, method: Method) -> String {
        match method {
            Method::Pat => format!(
                "the token is invalid or expired: set a valid personal access token in {}",
                self.token.as_ref().map_or("DATABRICKS_TOKEN".to_string(), |t| t.source.to_string())
            ),
            Method::OAuthM2m => format!(
                "check the service principal's client id ({}) and secret ({})",
                self.client_id.as_ref().map_or("DATABRICKS_CLIENT_ID".to_string(), |c| c.source.to_string()),
                self.client_secret.as_ref().map_or("DATABRICKS_CLIENT_SECRET".to_string(), |c| c.source.to_string())
            ),
            Method::OAuthU2m => {
                let profile = self.profile.as_ref().map(|(p, _)| format!(" --profile {p}")).unwrap_or_default();
                format!("the sign-in has expired: run `databricks-mcp auth login{profile}` again")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(home: &std::path::Path, pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let mut all: Vec<(String, String)> = vec![("HOME".into(), home.display().to_string())];
        all.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        move |k: &str| all.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    fn home_with(cfg: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".databrickscfg"), cfg).unwrap();
        dir
    }

    const CFG: &str = "[DEFAULT]\nhost = https://default.example\ntoken = dapi-default\n\n[m2m]\nhost = https://m2m.example\nclient_id = cid\nclient_secret = csecret\n\n[both]\nhost = https://b.example\ntoken = t\nclient_id = c\nclient_secret = s\n";

    #[test]
    fn the_environment_alone_needs_no_file() {
        let home = home_with(CFG);
        let s = Settings::resolve(
            Scope::Environment,
            &env(home.path(), &[("DATABRICKS_HOST", "https://env.example"), ("DATABRICKS_TOKEN", "dapi-env")]),
        )
        .unwrap();
        assert_eq!(s.host.unwrap().value, "https://env.example");
        assert_eq!(s.token.unwrap().value.expose(), "dapi-env");
        assert!(s.profile.is_none(), "DEFAULT is not mixed into an environment configuration");
    }

    #[test]
    fn default_profile_when_the_environment_names_nothing() {
        let home = home_with(CFG);
        let s = Settings::resolve(Scope::Environment, &env(home.path(), &[])).unwrap();
        assert_eq!(s.host.as_ref().unwrap().value, "https://default.example");
        assert_eq!(s.method().unwrap(), Method::Pat);
    }

    #[test]
    fn the_environment_beats_the_named_profile() {
        let home = home_with(CFG);
        let s = Settings::resolve(
            Scope::Environment,
            &env(home.path(), &[("DATABRICKS_CONFIG_PROFILE", "m2m"), ("DATABRICKS_HOST", "https://override.example")]),
        )
        .unwrap();
        assert_eq!(s.host.as_ref().unwrap().value, "https://override.example");
        assert_eq!(s.host.as_ref().unwrap().source, Source::Env("DATABRICKS_HOST"));
        assert_eq!(s.client_id.as_ref().unwrap().value, "cid");
        assert_eq!(s.method().unwrap(), Method::OAuthM2m);
    }

    #[test]
    fn a_named_workspace_reads_only_its_profile() {
        let home = home_with(CFG);
        let s = Settings::resolve(
            Scope::Profile("m2m"),
            &env(home.path(), &[("DATABRICKS_HOST", "https://env.example"), ("DATABRICKS_TOKEN", "dapi-env")]),
        )
        .unwrap();
        assert_eq!(s.host.unwrap().value, "https://m2m.example");
        assert!(s.token.is_none());
    }

    #[test]
    fn a_missing_profile_names_the_file_and_the_profiles_it_has() {
        let home = home_with(CFG);
        let err = Settings::resolve(Scope::Environment, &env(home.path(), &[("DATABRICKS_CONFIG_PROFILE", "prod")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no profile [prod]") && err.contains("DEFAULT, m2m, both"), "{err}");
        let empty = tempfile::tempdir().unwrap();
        let err = Settings::resolve(Scope::Profile("prod"), &env(empty.path(), &[])).unwrap_err().to_string();
        assert!(err.contains("does not exist") && err.contains("databricks configure --profile prod"), "{err}");
    }

    #[test]
    fn methods_follow_the_sdk_order_and_conflicts_are_errors() {
        let home = home_with(CFG);
        let both = Settings::resolve(Scope::Profile("both"), &env(home.path(), &[])).unwrap();
        let err = both.method().unwrap_err().to_string();
        assert!(err.contains("more than one authorization method") && err.contains("DATABRICKS_AUTH_TYPE"), "{err}");
        let chosen = Settings::resolve(
            Scope::Environment,
            &env(home.path(), &[("DATABRICKS_CONFIG_PROFILE", "both"), ("DATABRICKS_AUTH_TYPE", "oauth-m2m")]),
        )
        .unwrap();
        assert_eq!(chosen.method().unwrap(), Method::OAuthM2m);
        let half = Settings::resolve(
            Scope::Environment,
            &env(home.path(), &[("DATABRICKS_HOST", "https://h"), ("DATABRICKS_CLIENT_ID", "cid")]),
        )
        .unwrap();
        assert!(half.method().unwrap_err().to_string().contains("DATABRICKS_CLIENT_SECRET"));
        let host_only =
            Settings::resolve(Scope::Environment, &env(home.path(), &[("DATABRICKS_HOST", "https://h")])).unwrap();
        assert_eq!(host_only.method().unwrap(), Method::OAuthU2m);
        let bad = Settings::resolve(
            Scope::Environment,
            &env(home.path(), &[("DATABRICKS_HOST", "https://h"), ("DATABRICKS_AUTH_TYPE", "azure-msi")]),
        )
        .unwrap();
        assert!(bad.method().unwrap_err().to_string().contains("not supported here"));
    }

    #[test]
    fn no_host_says_what_to_set() {
        let empty = tempfile::tempdir().unwrap();
        let s = Settings::resolve(Scope::Environment, &env(empty.path(), &[])).unwrap();
        assert!(s.host().unwrap_err().to_string().contains("set DATABRICKS_HOST"));
    }
}
