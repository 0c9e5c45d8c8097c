//! `databricks-mcp plugins new NAME`: write a ready tool-pack crate, outside any repository.
//!
//! The templates live in `host/templates/pack/` and are compiled into the binary, so the command
//! needs nothing but itself. They are plain files with `{{name}}`-style placeholders (no space
//! inside the braces: the justfile template's own `{{ var }}` stay as they are). The crate they
//! make builds and loads unchanged; `tests/e2e/sdk.rs` builds one, runs its tests and loads it.

use std::path::{Path, PathBuf};

/// Where the crate's `databricks-mcp-sdk` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdkSource {
    /// A local checkout of the SDK (`sdk/` of the databricks-mcp repository).
    Path(PathBuf),
    /// A released version, from the registry.
    Version(String),
}

impl SdkSource {
    /// The SDK of the checkout this binary was built from, when it is still there; else the
    /// SDK version matching this host.
    pub fn default_for_this_host() -> Self {
        let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
        match checkout.join("Cargo.toml").is_file().then(|| checkout.canonicalize()) {
            Some(Ok(path)) => Self::Path(path),
            _ => Self::Version(env!("CARGO_PKG_VERSION").to_string()),
        }
    }

    fn dependency(&self) -> String {
        match self {
            // TOML basic strings: escape what a path may contain.
            Self::Path(path) => {
                let path = path.display().to_string().replace('\\', "\\\\").replace('"', "\\\"");
                format!("databricks-mcp-sdk = {{ path = \"{path}\" }}")
            }
            Self::Version(version) => format!("databricks-mcp-sdk = \"{version}\""),
        }
    }
}

/// Why a pack could not be created.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error(
        "`{0}` is not a valid pack name: use kebab-case, a lower-case letter then lower-case letters, digits and single dashes, at most 40 characters (e.g. `acme-jobs`)"
    )]
    BadName(String),
    #[error("{0} exists and is not empty; choose another --dir or remove it")]
    NotEmpty(PathBuf),
    #[error("`{0}` is not a valid SDK version: use a semver requirement such as `0.1` or `=0.1.0`")]
    BadVersion(String),
    #[error("writing {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// The files of a new pack, relative to its directory, and their contents.
const TEMPLATES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../templates/pack/Cargo.toml.tmpl")),
    (".gitignore", include_str!("../templates/pack/gitignore.tmpl")),
    (".cargo/config.toml", include_str!("../templates/pack/cargo/config.toml.tmpl")),
    ("README.md", include_str!("../templates/pack/README.md.tmpl")),
    ("justfile", include_str!("../templates/pack/justfile.tmpl")),
    ("src/lib.rs", include_str!("../templates/pack/src/lib.rs.tmpl")),
    ("src/tests.rs", include_str!("../templates/pack/src/tests.rs.tmpl")),
];

/// What was created.
#[derive(Debug)]
pub struct Created {
    /// The pack's directory.
    pub dir: PathBuf,
    /// The files written, relative to `dir`.
    pub files: Vec<&'static str>,
    /// The component `cargo build --release --target wasm32-wasip2` will make, relative to `dir`.
    pub wasm: String,
    /// The first tool's name.
    pub tool: String,
}

/// Check a pack name: kebab-case, as plugin names and crate names both allow.
pub fn check_name(name: &str) -> Result<(), ScaffoldError> {
    let bytes = name.as_bytes();
    let ok = (1..=40).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && !name.ends_with('-')
        && !name.contains("--")
        // Crate names cargo or rustc reserve.
        && !["test", "core", "std", "alloc", "proc-macro", "self", "crate", "super"].contains(&name);
    if ok { Ok(()) } else { Err(ScaffoldError::BadName(name.to_string())) }
}

/// Write a new pack named `name` into `dir` (created if missing; refused if not empty).
pub fn create(name: &str, dir: &Path, sdk: &SdkSource) -> Result<Created, ScaffoldError> {
    check_name(name)?;
    if let SdkSource::Version(version) = sdk
        && (version.is_empty() || !version.chars().all(|c| c.is_ascii_alphanumeric() || ".=^~<>*, -+".contains(c)))
    {
        return Err(ScaffoldError::BadVersion(version.clone()));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ScaffoldError::Io { path, source }
    };
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(ScaffoldError::NotEmpty(dir.to_path_buf()));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::create_dir_all(dir).map_err(io(dir))?,
        Err(e) => return Err(io(dir)(e)),
    }
    let crate_name = name.replace('-', "_");
    let tool = format!("{crate_name}_list_clusters");
    let description = format!("Databricks tools of the {name} pack");
    for (file, template) in TEMPLATES {
        let text = template
            .replace("{{name}}", name)
            .replace("{{crate}}", &crate_name)
            .replace("{{tool}}", &tool)
            .replace("{{description}}", &description)
            .replace("{{sdk_dependency}}", &sdk.dependency());
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    Ok(Created {
        dir: dir.to_path_buf(),
        files: TEMPLATES.iter().map(|(file, _)| *file).collect(),
        wasm: format!("target/wasm32-wasip2/release/{crate_name}.wasm"),
        tool,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_names_are_kebab_case() {
        for good in ["acme", "acme-jobs", "team2-rules-v3"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Acme", "acme_jobs", "-acme", "acme-", "acme--jobs", "2acme", "acme jobs", "../x", "test"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name(&"a".repeat(41)).is_err());
    }

    #[test]
    fn writes_every_template_with_no_placeholder_left() {
        let dir = tempfile::tempdir().unwrap();
        let pack = dir.path().join("acme-jobs");
        let created = create("acme-jobs", &pack, &SdkSource::Path("/opt/sdk \"x\"".into())).unwrap();
        assert_eq!(created.tool, "acme_jobs_list_clusters");
        for file in created.files {
            let text = std::fs::read_to_string(pack.join(file)).unwrap();
            for placeholder in ["{{name}}", "{{crate}}", "{{tool}}", "{{description}}", "{{sdk_dependency}}"] {
                assert!(!text.contains(placeholder), "{file} still has {placeholder}");
            }
        }
        let manifest = std::fs::read_to_string(pack.join("Cargo.toml")).unwrap();
        assert!(manifest.contains(r#"databricks-mcp-sdk = { path = "/opt/sdk \"x\"" }"#), "{manifest}");
        assert!(std::fs::read_to_string(pack.join("justfile")).unwrap().contains("{{ wasm }}"));
    }

    #[test]
    fn refuses_a_non_empty_dir_and_a_bad_version() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keep.txt"), "mine").unwrap();
        let error = create("acme", dir.path(), &SdkSource::Version("0.1".into())).unwrap_err();
        assert!(matches!(error, ScaffoldError::NotEmpty(_)), "{error}");
        assert_eq!(std::fs::read_to_string(dir.path().join("keep.txt")).unwrap(), "mine");
        let error = create("acme", &dir.path().join("new"), &SdkSource::Version("0.1\"\n[x]".into())).unwrap_err();
        assert!(matches!(error, ScaffoldError::BadVersion(_)), "{error}");
        let created = create("acme", &dir.path().join("v"), &SdkSource::Version("0.1".into())).unwrap();
        let manifest = std::fs::read_to_string(created.dir.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("databricks-mcp-sdk = \"0.1\""), "{manifest}");
    }
}
