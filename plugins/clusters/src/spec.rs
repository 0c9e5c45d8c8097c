//! The cluster specification accepted by `create_cluster` and `edit_cluster`.

use std::collections::BTreeMap;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::serde_json::Map;

use crate::model::Autoscale;

/// Fields of a cluster that `clusters/edit` accepts; everything else in `ClusterDetails` is
/// read-only state.
pub const EDITABLE_FIELDS: &[&str] = &[
    "cluster_name",
    "spark_version",
    "node_type_id",
    "driver_node_type_id",
    "num_workers",
    "autoscale",
    "autotermination_minutes",
    "spark_conf",
    "spark_env_vars",
    "custom_tags",
    "data_security_mode",
    "single_user_name",
    "runtime_engine",
    "policy_id",
    "instance_pool_id",
    "driver_instance_pool_id",
    "enable_elastic_disk",
    "enable_local_disk_encryption",
    "aws_attributes",
    "azure_attributes",
    "gcp_attributes",
    "init_scripts",
    "cluster_log_conf",
    "ssh_public_keys",
    "docker_image",
    "workload_type",
    "kind",
    "is_single_node",
    "use_ml_runtime",
];

/// A cluster's configuration.
#[schema]
#[derive(Debug, Default)]
pub struct ClusterSpec {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    /// Databricks Runtime key, e.g. `15.4.x-scala2.12` (see `list_spark_versions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_version: Option<String>,
    /// Worker node type, e.g. `i3.xlarge` (see `list_node_types`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_type_id: Option<String>,
    /// Driver node type; defaults to the worker type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_node_type_id: Option<String>,
    /// Fixed number of workers (0 for single node). Give this or `autoscale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_workers: Option<u32>,
    /// Autoscaling bounds. Give this or `num_workers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<Autoscale>,
    /// Terminate after this many idle minutes (10-10000; 0 disables).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autotermination_minutes: Option<u32>,
    /// Spark configuration key-value pairs (in an edit, a key set to null is removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_conf: Option<BTreeMap<String, Option<String>>>,
    /// Environment variables for Spark processes (in an edit, a key set to null is removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_env_vars: Option<BTreeMap<String, Option<String>>>,
    /// Tags for the cluster's cloud resources (in an edit, a key set to null is removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_tags: Option<BTreeMap<String, Option<String>>>,
    /// Access mode: `SINGLE_USER`, `USER_ISOLATION`, `DATA_SECURITY_MODE_AUTO`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_security_mode: Option<String>,
    /// The user of a `SINGLE_USER` cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_user_name: Option<String>,
    /// `STANDARD` or `PHOTON`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_engine: Option<String>,
    /// Cluster policy to apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    /// Instance pool for the workers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_pool_id: Option<String>,
    /// Any other `ClusterSpec` field of the API, as JSON (e.g. `aws_attributes`, `init_scripts`);
    /// in an edit, objects are merged and a field set to null is removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Map<String, Value>>,
}

/// Apply a JSON merge patch (RFC 7396): objects merge key by key, null removes, anything else
/// replaces. Nested settings such as `spark_conf` or `aws_attributes` keep what the patch does
/// not mention.
pub fn merge(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(patch) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(target) = target {
                for (key, value) in patch {
                    if value.is_null() {
                        target.remove(&key);
                    } else {
                        merge(target.entry(key).or_insert(Value::Null), value);
                    }
                }
            }
        }
        other => *target = other,
    }
}

impl ClusterSpec {
    pub fn check_size(&self) -> Result<()> {
        match (self.num_workers, self.autoscale) {
            (Some(_), Some(_)) => Err(ToolError::invalid("give num_workers or autoscale, not both")),
            (_, Some(a)) if a.min_workers > a.max_workers => {
                Err(ToolError::invalid("autoscale.min_workers must not exceed max_workers"))
            }
            _ => Ok(()),
        }
    }

    /// The fields this spec sets, as a JSON merge patch (null means remove).
    pub fn to_patch(&self) -> Result<Map<String, Value>> {
        let Value::Object(mut body) = databricks_mcp_sdk::serde_json::to_value(self)? else {
            return Err(ToolError::internal("cluster spec is not an object"));
        };
        if let Some(Value::Object(extra)) = body.remove("extra") {
            for (key, value) in extra {
                body.entry(key).or_insert(value);
            }
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_what_the_patch_does_not_mention() {
        let mut current = json!({"spark_conf": {"a": "1", "b": "2"}, "aws_attributes": {"availability": "ON_DEMAND", "instance_profile_arn": "arn"}, "num_workers": 2});
        merge(
            &mut current,
            json!({"spark_conf": {"b": null, "c": "3"}, "aws_attributes": {"availability": "SPOT"}, "num_workers": 4}),
        );
        assert_eq!(
            current,
            json!({"spark_conf": {"a": "1", "c": "3"}, "aws_attributes": {"availability": "SPOT", "instance_profile_arn": "arn"}, "num_workers": 4})
        );
    }
}
