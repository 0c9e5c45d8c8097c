//! The attributes a user sets on a cluster (`create`, `edit`, `update`), and their validation.
//!
//! Fields the emulator reasons about are typed; everything else (aws_attributes, init_scripts,
//! ...) is kept as given in `other` and echoed back, so clients see their settings round-trip.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::catalog::{self, DEFAULT_NODE_TYPE};
use crate::error::ApiError;

/// `autoscale {min_workers, max_workers}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AutoScale {
    pub min_workers: u32,
    pub max_workers: u32,
}

const DATA_SECURITY_MODES: &[&str] = &[
    "DATA_SECURITY_MODE_AUTO",
    "DATA_SECURITY_MODE_DEDICATED",
    "DATA_SECURITY_MODE_STANDARD",
    "LEGACY_PASSTHROUGH",
    "LEGACY_SINGLE_USER",
    "LEGACY_SINGLE_USER_STANDARD",
    "LEGACY_TABLE_ACL",
    "NONE",
    "SINGLE_USER",
    "USER_ISOLATION",
];
const RUNTIME_ENGINES: &[&str] = &["NULL", "PHOTON", "STANDARD"];

/// A cluster's user-set attributes. Absent stays absent: defaults are applied when rendering.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ClusterSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_type_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_node_type_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_workers: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<AutoScale>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autotermination_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_conf: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_tags: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_security_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_engine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_pool_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_elastic_disk: Option<bool>,
    /// Every other attribute, kept verbatim.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Request fields that steer an operation but are not attributes of the cluster.
const NOT_ATTRIBUTES: &[&str] = &["cluster_id", "apply_policy_default_values", "clone_from"];

impl ClusterSpec {
    /// Parses attributes from a request body, leaving out the operation's own fields.
    pub fn from_body(body: &Map<String, Value>) -> Result<Self, ApiError> {
        let mut attributes = body.clone();
        for key in NOT_ATTRIBUTES {
            attributes.remove(*key);
        }
        serde_json::from_value(Value::Object(attributes))
            .map_err(|e| ApiError::invalid_parameter(format!("Invalid cluster attributes: {e}")))
    }

    /// The attributes as JSON (the `spec` field, and the base of `attributes` in EDITED events).
    pub fn to_json(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }

    /// Checks what the real service checks before accepting a spec.
    pub fn validate(&self) -> Result<(), ApiError> {
        let version = self.spark_version.as_deref().ok_or_else(|| ApiError::missing_field("spark_version"))?;
        if !catalog::is_spark_version(version) {
            return Err(ApiError::invalid_parameter(format!("Invalid spark version {version}.")));
        }
        // A pool or policy supplies the node type; otherwise the request must.
        if self.node_type_id.is_none() && self.instance_pool_id.is_none() && self.policy_id.is_none() {
            return Err(ApiError::missing_field("node_type_id"));
        }
        for id in [&self.node_type_id, &self.driver_node_type_id].into_iter().flatten() {
            if catalog::node_type(id).is_none() {
                return Err(ApiError::invalid_parameter(format!("Node type {id} is not supported.")));
            }
        }
        if let Some(AutoScale { min_workers, max_workers }) = self.autoscale
            && (max_workers == 0 || min_workers > max_workers)
        {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid autoscale: min_workers ({min_workers}) must be at most max_workers ({max_workers}), and max_workers at least 1."
            )));
        }
        if let Some(minutes) = self.autotermination_minutes
            && minutes != 0
            && !(10..=10_000).contains(&minutes)
        {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid autotermination_minutes {minutes}: use 0 (never) or 10 to 10000."
            )));
        }
        check_enum("data_security_mode", self.data_security_mode.as_deref(), DATA_SECURITY_MODES)?;
        check_enum("runtime_engine", self.runtime_engine.as_deref(), RUNTIME_ENGINES)
    }

    /// The workers the cluster runs with once up; autoscaling starts at the minimum.
    pub fn target_workers(&self) -> u32 {
        match self.autoscale {
            Some(a) => a.min_workers,
            None => self.num_workers.unwrap_or(0),
        }
    }

    /// `{num_workers}` or `{autoscale}`, as in `cluster_size` of events.
    pub fn size_json(&self) -> Value {
        match self.autoscale {
            Some(a) => json!({ "autoscale": a }),
            None => json!({ "num_workers": self.num_workers.unwrap_or(0) }),
        }
    }

    pub fn node_type_id(&self) -> &str {
        self.node_type_id.as_deref().unwrap_or(DEFAULT_NODE_TYPE)
    }

    pub fn driver_node_type_id(&self) -> &str {
        self.driver_node_type_id.as_deref().unwrap_or(self.node_type_id())
    }

    /// `STANDARD`, or `PHOTON` when asked for or implied by a Photon runtime key.
    pub fn runtime_engine(&self) -> &str {
        match self.runtime_engine.as_deref() {
            Some(engine) => engine,
            None if self.spark_version.as_deref().is_some_and(|v| v.contains("photon")) => "PHOTON",
            None => "STANDARD",
        }
    }
}

fn check_enum(field: &str, value: Option<&str>, allowed: &[&str]) -> Result<(), ApiError> {
    match value {
        Some(v) if !allowed.contains(&v) => {
            Err(ApiError::invalid_parameter(format!("Invalid {field}: {v}. Expected one of {}.", allowed.join(", "))))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(body: Value) -> Result<ClusterSpec, ApiError> {
        let body = body.as_object().cloned().unwrap_or_default();
        let spec = ClusterSpec::from_body(&body)?;
        spec.validate().map(|()| spec)
    }

    #[test]
    fn unknown_attributes_round_trip() {
        let s = spec(json!({
            "spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 2,
            "aws_attributes": {"availability": "SPOT"}, "cluster_id": "ignored",
        }))
        .expect("valid spec");
        assert_eq!(s.other.get("aws_attributes"), Some(&json!({"availability": "SPOT"})));
        assert!(!s.to_json().contains_key("cluster_id"));
    }

    #[test]
    fn rejections_name_the_problem() {
        let cases = [
            (json!({"node_type_id": "i3.xlarge"}), "Missing required field: spark_version"),
            (json!({"spark_version": "15.4.x-scala2.12"}), "Missing required field: node_type_id"),
            (json!({"spark_version": "1.0.x", "node_type_id": "i3.xlarge"}), "Invalid spark version 1.0.x."),
            (
                json!({"spark_version": "15.4.x-scala2.12", "node_type_id": "z9.huge"}),
                "Node type z9.huge is not supported.",
            ),
        ];
        for (body, message) in cases {
            let err = spec(body).expect_err(message);
            assert_eq!((err.code, err.message.as_str()), ("INVALID_PARAMETER_VALUE", message));
        }
        let bad_scale = json!({"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge",
            "autoscale": {"min_workers": 5, "max_workers": 2}});
        assert!(spec(bad_scale).is_err());
        let negative = json!({"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": -1});
        assert!(spec(negative).is_err());
    }

    #[test]
    fn autoscaling_clusters_start_at_their_minimum() {
        let s = spec(json!({"spark_version": "15.4.x-photon-scala2.12", "node_type_id": "i3.xlarge",
            "autoscale": {"min_workers": 2, "max_workers": 8}}))
        .expect("valid spec");
        assert_eq!(s.target_workers(), 2);
        assert_eq!(s.runtime_engine(), "PHOTON");
        assert_eq!(s.driver_node_type_id(), "i3.xlarge");
    }
}
