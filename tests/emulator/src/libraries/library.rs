//! The `Library` union of the wire (`{pypi:{package,repo}}`, `{maven:{coordinates,repo,exclusions}}`,
//! `{cran:{package,repo}}`, `{jar}`, `{whl}`, `{egg}`, `{requirements}`): exactly one kind per
//! library. Parsing keeps only the known fields, so the stored value is also what statuses echo.

use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};

/// Kinds whose value is a path (workspace file, volume, DBFS or cloud storage).
const PATH_KINDS: [&str; 4] = ["jar", "whl", "egg", "requirements"];
const PACKAGE_KINDS: [&str; 3] = ["pypi", "maven", "cran"];

/// A parsed library: its canonical JSON and the name that identifies it in messages.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Library {
    pub json: Value,
    /// `pypi`, `maven`, ...
    pub kind: &'static str,
    /// The package, coordinates or path.
    pub name: String,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::invalid_parameter(message)
}

fn text<'a>(object: &'a Map<String, Value>, kind: &str, field: &str) -> ApiResult<Option<&'a str>> {
    match object.get(field) {
        None => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s)),
        Some(_) => Err(invalid(format!("{kind}.{field} must be a non-empty string"))),
    }
}

impl Library {
    /// Parses one element of `libraries`.
    pub fn parse(value: &Value) -> ApiResult<Library> {
        let object = value.as_object().ok_or_else(|| invalid("Each library must be a JSON object"))?;
        let kinds: Vec<&'static str> =
            PACKAGE_KINDS.iter().chain(PATH_KINDS.iter()).copied().filter(|k| object.contains_key(*k)).collect();
        let [kind] = kinds[..] else {
            return Err(invalid(format!(
                "Each library must specify exactly one of pypi, maven, cran, jar, whl, egg, requirements; got {}",
                Value::Object(object.clone())
            )));
        };
        let value = &object[kind];
        if PATH_KINDS.contains(&kind) {
            let path = value
                .as_str()
                .filter(|p| !p.trim().is_empty())
                .ok_or_else(|| invalid(format!("{kind} must be a non-empty path")))?;
            return Ok(Library { json: json!({ kind: path }), kind, name: path.to_owned() });
        }
        let spec = value.as_object().ok_or_else(|| invalid(format!("{kind} must be a JSON object")))?;
        let main = if kind == "maven" { "coordinates" } else { "package" };
        let name = text(spec, kind, main)?.ok_or_else(|| ApiError::missing_field(&format!("{kind}.{main}")))?;
        if kind == "maven" && name.split(':').filter(|p| !p.is_empty()).count() < 3 {
            return Err(invalid(format!(
                "Invalid maven coordinates {name}: expected <groupId>:<artifactId>:<version>"
            )));
        }
        let mut canonical = Map::new();
        canonical.insert(main.to_owned(), json!(name));
        if let Some(repo) = text(spec, kind, "repo")? {
            canonical.insert("repo".to_owned(), json!(repo));
        }
        if kind == "maven" {
            match spec.get("exclusions") {
                None => {}
                Some(Value::Array(items)) if items.is_empty() => {}
                Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                    canonical.insert("exclusions".to_owned(), Value::Array(items.clone()));
                }
                Some(_) => return Err(invalid("maven.exclusions must be a list of strings")),
            }
        }
        Ok(Library { json: json!({ kind: canonical }), kind, name: name.to_owned() })
    }

    /// The `libraries` field of an install or uninstall body: a non-empty list.
    pub fn parse_all(body: &Map<String, Value>) -> ApiResult<Vec<Library>> {
        let items = match body.get("libraries") {
            None => return Err(ApiError::missing_field("libraries")),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(invalid("libraries must be a list")),
        };
        if items.is_empty() {
            return Err(invalid("libraries must not be empty"));
        }
        items.iter().map(Library::parse).collect()
    }

    /// Why installing this library fails, if it does: anything naming `does-not-exist`.
    pub fn failure(&self) -> Option<String> {
        if !self.name.contains("does-not-exist") {
            return None;
        }
        let name = &self.name;
        Some(match self.kind {
            "pypi" => format!(
                "Library installation attempted on the driver node of cluster {{cluster}} and failed. Pip could not \
                 find a version that satisfies the requirement for the library. Please check your library version \
                 and dependencies. Error code: ERROR_NO_MATCHING_DISTRIBUTION, error message: \
                 org.apache.spark.SparkException: ERROR: Could not find a version that satisfies the requirement \
                 {name} (from versions: none)\nERROR: No matching distribution found for {name}"
            ),
            "maven" => format!(
                "Library resolution failed because unresolved dependency: {name}: not found. Cause: \
                 java.lang.RuntimeException: unresolved dependency: {name}: not found"
            ),
            "cran" => format!(
                "Library installation attempted on the driver node of cluster {{cluster}} and failed. Error message: \
                 package '{name}' is not available for this version of R"
            ),
            _ => format!(
                "Library installation attempted on the driver node of cluster {{cluster}} and failed. Error code: \
                 FILE_NOT_FOUND_FAILURE, error message: java.io.FileNotFoundException: {name} does not exist"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_known_fields_only() {
        let lib = Library::parse(&json!({"pypi": {"package": "pandas", "junk": 1}})).unwrap();
        assert_eq!(lib.json, json!({"pypi": {"package": "pandas"}}));
        assert_eq!(lib.kind, "pypi");
    }

    #[test]
    fn refuses_zero_or_two_kinds() {
        assert!(Library::parse(&json!({})).is_err());
        assert!(Library::parse(&json!({"jar": "/Volumes/a.jar", "whl": "/Volumes/b.whl"})).is_err());
        assert!(Library::parse(&json!({"maven": {"coordinates": "only:two"}})).is_err());
        assert!(Library::parse(&json!({"pypi": {}})).is_err());
    }

    #[test]
    fn only_does_not_exist_fails() {
        assert!(Library::parse(&json!({"jar": "/Volumes/a.jar"})).unwrap().failure().is_none());
        let bad = Library::parse(&json!({"pypi": {"package": "does-not-exist-pkg"}})).unwrap();
        assert!(bad.failure().unwrap().contains("No matching distribution found for does-not-exist-pkg"));
    }
}
