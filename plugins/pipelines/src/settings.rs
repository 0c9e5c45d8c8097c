//! Pipeline settings as create and update take them: the fields people set by hand typed and
//! described, anything else of `PipelineSpec` passed through under `settings`.

use std::collections::BTreeMap;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::serde_json::Map;

/// Settings of a pipeline. On update, give only what changes.
#[schema]
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The pipeline's name (unique in the workspace).
    #[serde(default)]
    pub name: Option<String>,
    /// Unity Catalog catalog the tables are published to.
    #[serde(default)]
    pub catalog: Option<String>,
    /// Schema (in `catalog`) the tables are published to.
    #[serde(default)]
    pub schema: Option<String>,
    /// Source notebooks by workspace path, e.g. `/Users/me/dlt/bronze`. With `files`, replaces the
    /// pipeline's libraries.
    #[serde(default)]
    pub notebooks: Option<Vec<String>>,
    /// Source files (`.py`, `.sql`) by workspace path. With `notebooks`, replaces the pipeline's
    /// libraries.
    #[serde(default)]
    pub files: Option<Vec<String>>,
    /// Run on serverless compute.
    #[serde(default)]
    pub serverless: Option<bool>,
    /// Run continuously instead of once per update (triggered).
    #[serde(default)]
    pub continuous: Option<bool>,
    /// Development mode: the cluster is reused between updates and failures are not retried.
    #[serde(default)]
    pub development: Option<bool>,
    /// Use Photon.
    #[serde(default)]
    pub photon: Option<bool>,
    /// `CURRENT` or `PREVIEW` runtime channel.
    #[serde(default)]
    pub channel: Option<String>,
    /// Product edition: `CORE`, `PRO` or `ADVANCED`.
    #[serde(default)]
    pub edition: Option<String>,
    /// Key-value configuration the pipeline's code reads (`spark.conf.get`). On update, keys are
    /// merged; a key set to null is removed.
    #[serde(default)]
    pub configuration: Option<BTreeMap<String, Option<String>>>,
    /// Classic compute: the `clusters` array of the API (label, num_workers or autoscale,
    /// node_type_id...). Replaces the current clusters.
    #[serde(default)]
    pub clusters: Option<Vec<Value>>,
    /// Any other `PipelineSpec` field by its API name (`notifications`, `trigger`, `root_path`,
    /// `tags`, `event_log`...), set as given.
    #[serde(default)]
    pub settings: Option<Map<String, Value>>,
}

/// Fields the workspace owns; never sent back or accepted from `settings`.
const NOT_SETTINGS: [&str; 2] = ["id", "pipeline_id"];

impl Settings {
    /// The fields to set, by API name. Maps (`configuration`) are given as patches: values of
    /// null mean "remove".
    pub fn to_patch(&self) -> Result<Map<String, Value>> {
        let mut patch = Map::new();
        if let Some(extra) = &self.settings {
            for (key, value) in extra {
                if NOT_SETTINGS.contains(&key.as_str()) {
                    return Err(ToolError::invalid(format!("settings.{key} cannot be set; the workspace assigns it")));
                }
                patch.insert(key.clone(), value.clone());
            }
        }
        let strings = [
            ("name", &self.name),
            ("catalog", &self.catalog),
            ("schema", &self.schema),
            ("channel", &self.channel),
            ("edition", &self.edition),
        ];
        for (key, value) in strings {
            if let Some(value) = value {
                if value.trim().is_empty() {
                    return Err(ToolError::invalid(format!("{key} must not be empty")));
                }
                patch.insert(key.into(), json!(value));
            }
        }
        let flags = [
            ("serverless", self.serverless),
            ("continuous", self.continuous),
            ("development", self.development),
            ("photon", self.photon),
        ];
        for (key, value) in flags {
            if let Some(value) = value {
                patch.insert(key.into(), json!(value));
            }
        }
        if self.notebooks.is_some() || self.files.is_some() {
            let notebooks = self.notebooks.iter().flatten().map(|p| json!({ "notebook": { "path": p } }));
            let files = self.files.iter().flatten().map(|p| json!({ "file": { "path": p } }));
            patch.insert("libraries".into(), Value::Array(notebooks.chain(files).collect()));
        }
        if let Some(configuration) = &self.configuration {
            patch.insert("configuration".into(), json!(configuration));
        }
        if let Some(clusters) = &self.clusters {
            patch.insert("clusters".into(), json!(clusters));
        }
        Ok(patch)
    }
}

/// Applies `patch` to `spec`: objects under `configuration` merge key by key (null removes);
/// everything else replaces.
pub fn merge(spec: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (key, value) in patch {
        match (key.as_str(), spec.get_mut(&key), value) {
            ("configuration", Some(Value::Object(current)), Value::Object(changes)) => {
                for (k, v) in changes {
                    if v.is_null() {
                        current.remove(&k);
                    } else {
                        current.insert(k, v);
                    }
                }
            }
            (_, _, Value::Null) if key != "configuration" => {
                spec.remove(&key);
            }
            (_, _, Value::Object(mut changes)) if key == "configuration" => {
                changes.retain(|_, v| !v.is_null());
                spec.insert(key, Value::Object(changes));
            }
            (_, _, value) => {
                spec.insert(key, value);
            }
        }
    }
}
