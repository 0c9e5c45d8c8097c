//! The Databricks CLI's configuration file (`~/.databrickscfg`, or `DATABRICKS_CONFIG_FILE`):
//! INI sections, one per profile, with `key = value` lines. Keys before the first section belong
//! to `DEFAULT`, as in the SDKs. Comments start with `#` or `;`. Keys this host does not use
//! (`cluster_id`, `account_id`, ...) are kept and ignored, so a file the CLI wrote always reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The profile the SDKs read when none is named.
pub const DEFAULT_PROFILE: &str = "DEFAULT";

/// A parsed configuration file.
#[derive(Debug, Clone, Default)]
pub struct ProfilesFile {
    pub path: PathBuf,
    /// Profile name -> key -> value, in the file's order of sections.
    profiles: Vec<(String, BTreeMap<String, String>)>,
}

/// Why the file could not be used. Messages name the file and the line, never a value (a value
/// may be a token).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ProfilesError {
    #[error("cannot read {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error(
        "{path} line {line} is not a `[profile]` header, a `key = value` pair or a comment; fix the file (it is INI, as `databricks configure` writes it)"
    )]
    Malformed { path: String, line: usize },
}

impl ProfilesFile {
    /// Read and parse `path`; `Ok(None)` when there is no such file.
    pub fn read(path: &Path) -> Result<Option<Self>, ProfilesError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ProfilesError::Unreadable { path: path.display().to_string(), reason: e.to_string() }),
        }
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self, ProfilesError> {
        let mut profiles: Vec<(String, BTreeMap<String, String>)> = Vec::new();
        let mut current = DEFAULT_PROFILE.to_string();
        let malformed = |line: usize| ProfilesError::Malformed { path: path.display().to_string(), line };
        for (number, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let name =
                    rest.strip_suffix(']').map(str::trim).filter(|n| !n.is_empty()).ok_or(malformed(number + 1))?;
                current = name.to_string();
                if !profiles.iter().any(|(n, _)| n == name) {
                    profiles.push((current.clone(), BTreeMap::new()));
                }
                continue;
            }
            let (key, value) = line.split_once('=').ok_or(malformed(number + 1))?;
            let key = key.trim();
            if key.is_empty() || key.contains(char::is_whitespace) {
                return Err(malformed(number + 1));
            }
            let value = unquote(value.trim());
            let section = match profiles.iter_mut().find(|(n, _)| *n == current) {
                Some((_, section)) => section,
                None => {
                    profiles.push((current.clone(), BTreeMap::new()));
                    &mut profiles.last_mut().expect("just pushed").1
                }
            };
            section.insert(key.to_ascii_lowercase(), value.to_string());
        }
        Ok(Self { path: path.to_path_buf(), profiles })
    }

    /// The keys of `profile`, if the file has it. Like the Go SDK (and unlike Python's
    /// configparser), a named profile does not inherit `DEFAULT`'s keys.
    pub fn profile(&self, name: &str) -> Option<&BTreeMap<String, String>> {
        self.profiles.iter().find(|(n, _)| n == name).map(|(_, keys)| keys)
    }

    /// Profile names in file order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.profiles.iter().map(|(n, _)| n.as_str())
    }
}

fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(quote).and_then(|v| v.strip_suffix(quote)) {
            return inner;
        }
    }
    value
}

/// `DATABRICKS_CONFIG_FILE` (with `~` expanded), else `~/.databrickscfg`.
pub fn location(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let home = env("HOME").filter(|h| !h.is_empty());
    match env("DATABRICKS_CONFIG_FILE").filter(|p| !p.trim().is_empty()) {
        Some(path) => match (path.strip_prefix('~'), &home) {
            (Some(rest), Some(home)) => Some(PathBuf::from(format!("{home}{rest}"))),
            _ => Some(PathBuf::from(path)),
        },
        None => home.map(|h| PathBuf::from(h).join(".databrickscfg")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ProfilesFile, ProfilesError> {
        ProfilesFile::parse(Path::new("/x/.databrickscfg"), text)
    }

    #[test]
    fn reads_default_and_named_profiles_like_the_cli_writes_them() {
        let file = parse(
            "host = https://a.cloud.databricks.com\n; a comment\n[DEFAULT]\ntoken = dapi1\n\n[prod]\nhost=https://p.cloud.databricks.com/\n  client_id = abc\n# c\nclient_secret = \"s=cret\"\njobs-api-version = 2.1\n",
        )
        .unwrap();
        let default = file.profile("DEFAULT").unwrap();
        assert_eq!(default["host"], "https://a.cloud.databricks.com");
        assert_eq!(default["token"], "dapi1");
        let prod = file.profile("prod").unwrap();
        assert_eq!(prod["client_secret"], "s=cret");
        assert!(!prod.contains_key("token"), "named profiles do not inherit DEFAULT");
        assert_eq!(file.names().collect::<Vec<_>>(), ["DEFAULT", "prod"]);
        assert!(file.profile("staging").is_none());
    }

    #[test]
    fn malformed_lines_are_named_by_number_without_their_content() {
        let err = parse("[ok]\nhost = h\nthis is not ini dapi-secret\n").unwrap_err();
        assert_eq!(err, ProfilesError::Malformed { path: "/x/.databrickscfg".into(), line: 3 });
        assert!(!err.to_string().contains("dapi-secret"));
        assert!(parse("[unclosed\n").is_err());
        assert!(parse("[]\n").is_err());
    }

    #[test]
    fn the_file_is_the_variable_then_the_home_default() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        assert_eq!(location(&env(&[("HOME", "/h")])), Some(PathBuf::from("/h/.databrickscfg")));
        assert_eq!(
            location(&env(&[("HOME", "/h"), ("DATABRICKS_CONFIG_FILE", "~/cfg")])),
            Some(PathBuf::from("/h/cfg"))
        );
        assert_eq!(location(&env(&[("DATABRICKS_CONFIG_FILE", "/etc/dbcfg")])), Some(PathBuf::from("/etc/dbcfg")));
    }
}
