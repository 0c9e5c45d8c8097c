//! Pipeline settings (`PipelineSpec`): which fields a create or edit keeps, their validation, and
//! what the service fills in.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// Settings the service keeps as given (`PipelineSpec` fields besides `id`).
const SETTINGS: &[&str] = &[
    "budget_policy_id",
    "catalog",
    "channel",
    "clusters",
    "configuration",
    "continuous",
    "deployment",
    "development",
    "edition",
    "environment",
    "event_log",
    "filters",
    "gateway_definition",
    "ingestion_definition",
    "libraries",
    "name",
    "notifications",
    "parameters",
    "photon",
    "restart_window",
    "root_path",
    "run_as",
    "schema",
    "serverless",
    "serverless_compute_id",
    "storage",
    "tags",
    "target",
    "trigger",
    "usage_policy_id",
];

const BOOLEANS: &[&str] = &["continuous", "development", "photon", "serverless"];
const STRINGS: &[&str] =
    &["budget_policy_id", "catalog", "channel", "edition", "name", "root_path", "schema", "storage", "target"];
const LIBRARY_KINDS: &[&str] = &["notebook", "file", "glob", "jar", "maven", "whl"];

/// Validated settings from a create or edit body, plus what the update machinery derives from them.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub spec: Map<String, Value>,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::invalid_parameter(message)
}

impl Settings {
    /// Keeps the settings fields of `body`, checks their types and fills in the service's defaults.
    pub fn from_body(body: &Map<String, Value>) -> Result<Settings, ApiError> {
        let mut spec: Map<String, Value> =
            body.iter().filter(|(k, _)| SETTINGS.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
        for key in BOOLEANS {
            if spec.get(*key).is_some_and(|v| !v.is_boolean()) {
                return Err(bad(format!("Invalid value for {key}: expected a boolean")));
            }
        }
        for key in STRINGS {
            if spec.get(*key).is_some_and(|v| !v.is_string()) {
                return Err(bad(format!("Invalid value for {key}: expected a string")));
            }
        }
        match spec.get("name").and_then(Value::as_str) {
            Some(name) if !name.trim().is_empty() => {}
            _ => return Err(bad("Pipeline name must be specified.")),
        }
        if spec.contains_key("target") && spec.contains_key("schema") {
            return Err(bad("Only one of 'target' and 'schema' may be specified."));
        }
        if let Some(config) = spec.get("configuration") {
            let all_strings = config.as_object().is_some_and(|c| c.values().all(Value::is_string));
            if !all_strings {
                return Err(bad("Invalid value for configuration: expected a map of strings"));
            }
        }
        if spec.get("clusters").is_some_and(|c| !c.as_array().is_some_and(|a| a.iter().all(Value::is_object))) {
            return Err(bad("Invalid value for clusters: expected a list of cluster settings"));
        }
        if let Some(libraries) = spec.get("libraries") {
            let libraries = libraries.as_array().ok_or_else(|| bad("Invalid value for libraries: expected a list"))?;
            for library in libraries {
                check_library(library)?;
            }
        }
        let upper = |spec: &mut Map<String, Value>, key: &str, allowed: &[&str]| -> Result<(), ApiError> {
            if let Some(value) = spec.get(key).and_then(Value::as_str) {
                let value = value.to_ascii_uppercase();
                if !allowed.contains(&value.as_str()) {
                    return Err(bad(format!("Invalid {key} '{value}': expected one of {}", allowed.join(", "))));
                }
                spec.insert(key.into(), Value::String(value));
            }
            Ok(())
        };
        upper(&mut spec, "channel", &["CURRENT", "PREVIEW"])?;
        upper(&mut spec, "edition", &["CORE", "PRO", "ADVANCED"])?;
        spec.entry("channel").or_insert_with(|| "CURRENT".into());
        if !spec.get("serverless").and_then(Value::as_bool).unwrap_or(false) {
            spec.entry("edition").or_insert_with(|| "ADVANCED".into());
        }
        Ok(Settings { spec })
    }

    pub fn name(&self) -> &str {
        self.spec.get("name").and_then(Value::as_str).unwrap_or_default()
    }

    /// The source paths of the libraries, in order.
    pub fn library_paths(&self) -> Vec<&str> {
        library_paths(&self.spec)
    }

    /// The datasets an update refreshes: one per source file, named after it.
    pub fn flows(&self) -> Vec<String> {
        let mut flows: Vec<String> = self
            .library_paths()
            .iter()
            .map(|path| {
                let file = path.rsplit('/').next().unwrap_or(path);
                let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
                stem.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect()
            })
            .filter(|s: &String| !s.is_empty())
            .collect();
        flows.dedup();
        if flows.is_empty() {
            flows.push("main".to_owned());
        }
        flows
    }

    /// Whether updates of this pipeline fail: its name or a library path mentions "fail".
    pub fn fails(&self) -> bool {
        let mentions = |s: &str| s.to_ascii_lowercase().contains("fail");
        mentions(self.name()) || self.library_paths().into_iter().any(mentions)
    }
}

pub(crate) fn is_continuous(spec: &Map<String, Value>) -> bool {
    spec.get("continuous").and_then(Value::as_bool).unwrap_or(false)
}

fn library_paths(spec: &Map<String, Value>) -> Vec<&str> {
    let Some(libraries) = spec.get("libraries").and_then(Value::as_array) else {
        return Vec::new();
    };
    libraries
        .iter()
        .filter_map(|l| {
            ["notebook", "file", "glob"].iter().find_map(|k| {
                let source = l.get(*k)?;
                source.get("path").or_else(|| source.get("include")).and_then(Value::as_str)
            })
        })
        .collect()
}

fn check_library(library: &Value) -> Result<(), ApiError> {
    let object = library.as_object().ok_or_else(|| bad("Invalid library: expected an object"))?;
    let kinds: Vec<&String> = object.keys().filter(|k| LIBRARY_KINDS.contains(&k.as_str())).collect();
    let [kind] = kinds.as_slice() else {
        return Err(bad(format!("Each library must specify exactly one of {}", LIBRARY_KINDS.join(", "))));
    };
    if matches!(kind.as_str(), "notebook" | "file") {
        let path = object.get(kind.as_str()).and_then(|s| s.get("path")).and_then(Value::as_str);
        if path.is_none_or(str::is_empty) {
            return Err(bad(format!("Invalid {kind} library: 'path' is required")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn settings(body: Value) -> Result<Settings, ApiError> {
        Settings::from_body(body.as_object().expect("an object"))
    }

    #[test]
    fn defaults_are_filled_and_unknown_fields_dropped() {
        let s = settings(json!({"name": "p", "edition": "pro", "dry_run": true, "bogus": 1})).expect("valid");
        assert_eq!(Value::Object(s.spec), json!({"name": "p", "edition": "PRO", "channel": "CURRENT"}));
    }

    #[test]
    fn flows_come_from_library_paths() {
        let s = settings(json!({"name": "p", "libraries": [
            {"notebook": {"path": "/Repos/etl/Bronze Orders"}}, {"file": {"path": "/src/silver.py"}}]}))
        .expect("valid");
        assert_eq!(s.flows(), vec!["bronze_orders", "silver"]);
        assert!(!s.fails());
        assert!(settings(json!({"name": "will-fail"})).expect("valid").fails());
    }

    #[test]
    fn bad_settings_are_refused() {
        for body in [
            json!({}),
            json!({"name": 3}),
            json!({"name": "p", "continuous": "yes"}),
            json!({"name": "p", "target": "a", "schema": "b"}),
            json!({"name": "p", "libraries": [{"notebook": {}}]}),
            json!({"name": "p", "libraries": [{"notebook": {"path": "/a"}, "file": {"path": "/b"}}]}),
            json!({"name": "p", "configuration": {"a": 1}}),
            json!({"name": "p", "channel": "NIGHTLY"}),
        ] {
            let err = settings(body.clone()).expect_err("invalid");
            assert_eq!(err.code, "INVALID_PARAMETER_VALUE", "{body}");
        }
    }
}
