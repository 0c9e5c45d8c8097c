//! SQL warehouses as the API describes them (`EndpointInfo`), and the settings the create and
//! edit tools take.

use std::collections::BTreeMap;

use databricks_mcp_sdk::prelude::*;

pub const WAREHOUSES: &str = "/api/2.0/sql/warehouses";

/// Warehouse lifecycle states.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WarehouseState {
    /// Starting up.
    Starting,
    /// Up: statements run right away.
    Running,
    /// Shutting down.
    Stopping,
    /// Stopped: a statement sent to it starts it (a few minutes for classic warehouses).
    Stopped,
    /// Being deleted.
    Deleting,
    /// Deleted.
    Deleted,
}

impl WarehouseState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "STARTING",
            Self::Running => "RUNNING",
            Self::Stopping => "STOPPING",
            Self::Stopped => "STOPPED",
            Self::Deleting => "DELETING",
            Self::Deleted => "DELETED",
        }
    }
}

/// A SQL warehouse (`EndpointInfo`). The fields below are the ones tools and programs rely on;
/// every other field the workspace returns is kept as well.
#[schema]
#[derive(Debug, Clone)]
pub struct Warehouse {
    /// Warehouse id, e.g. `5a1f0c0ffee00001`.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Current state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<WarehouseState>,
    /// T-shirt size: `2X-Small` ... `4X-Large`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_size: Option<String>,
    /// `PRO` or `CLASSIC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_type: Option<String>,
    /// Serverless compute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_serverless_compute: Option<bool>,
    /// Fewest clusters when scaling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_num_clusters: Option<u32>,
    /// Most clusters when scaling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_num_clusters: Option<u32>,
    /// Clusters running now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_clusters: Option<u32>,
    /// Minutes idle before it stops by itself; 0 = never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_stop_mins: Option<u32>,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_name: Option<String>,
    /// Connection details for ODBC/JDBC clients (`hostname`, `path`, `port`, `protocol`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odbc_params: Option<Value>,
}

impl Warehouse {
    pub fn state_str(&self) -> &'static str {
        self.state.map_or("UNKNOWN", WarehouseState::as_str)
    }

    /// One line for lists: name, id, state, size, type, scaling, auto stop.
    pub fn line(&self) -> String {
        let mut parts = vec![self.state_str().to_string()];
        if let Some(size) = &self.cluster_size {
            parts.push(size.clone());
        }
        let kind = match (self.warehouse_type.as_deref(), self.enable_serverless_compute) {
            (_, Some(true)) => "serverless".to_string(),
            (Some(t), _) => t.to_lowercase(),
            _ => String::new(),
        };
        if !kind.is_empty() {
            parts.push(kind);
        }
        if let (Some(min), Some(max)) = (self.min_num_clusters, self.max_num_clusters) {
            parts.push(if min == max {
                format!("{min} cluster{}", if min == 1 { "" } else { "s" })
            } else {
                format!("{min}-{max} clusters")
            });
        }
        match self.auto_stop_mins {
            Some(0) => parts.push("never auto-stops".into()),
            Some(m) => parts.push(format!("auto-stop {m} min")),
            None => {}
        }
        format!("{} ({}): {}", self.name, self.id, parts.join(", "))
    }
}

/// Warehouse settings for `create_warehouse` and `edit_warehouse`. In an edit, give only what
/// changes.
#[schema]
#[derive(Debug, Clone, Default)]
pub struct WarehouseSpec {
    /// Display name (required to create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Size: `2X-Small`, `X-Small`, `Small`, `Medium`, `Large`, `X-Large`, `2X-Large`, `3X-Large`, `4X-Large` (default `Small`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_size: Option<String>,
    /// Fewest clusters (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_num_clusters: Option<u32>,
    /// Most clusters, for concurrency scaling (default 1, at most 40).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_num_clusters: Option<u32>,
    /// Minutes idle before it stops itself: 0 = never, otherwise at least 10 (default 120; serverless: 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_stop_mins: Option<u32>,
    /// `PRO` or `CLASSIC`. Serverless needs `PRO`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_type: Option<String>,
    /// Serverless compute (starts in seconds; needs `warehouse_type` `PRO`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_serverless_compute: Option<bool>,
    /// Photon acceleration (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_photon: Option<bool>,
    /// `COST_OPTIMIZED` or `RELIABILITY_OPTIMIZED` (classic warehouses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot_instance_policy: Option<String>,
    /// Tags on the warehouse's resources, key to value; in an edit they are merged key by key and
    /// a key set to null is removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, Option<String>>>,
}

impl WarehouseSpec {
    /// The fields given, as the API's JSON, with tags as `{"custom_tags": [{key, value}]}`
    /// merged onto `current_tags` (the warehouse's tags, for an edit).
    pub fn to_body(&self, current_tags: Option<&Value>) -> Result<databricks_mcp_sdk::serde_json::Map<String, Value>> {
        let mut body = match databricks_mcp_sdk::serde_json::to_value(self)? {
            Value::Object(m) => m,
            _ => return Err(ToolError::internal("warehouse settings did not serialize to an object")),
        };
        body.remove("tags");
        if let Some(changes) = &self.tags {
            let mut tags: BTreeMap<String, String> = BTreeMap::new();
            if let Some(list) = current_tags.and_then(|t| t.get("custom_tags")).and_then(Value::as_array) {
                for tag in list {
                    if let (Some(k), Some(v)) = (tag["key"].as_str(), tag["value"].as_str()) {
                        tags.insert(k.to_string(), v.to_string());
                    }
                }
            }
            for (key, value) in changes {
                match value {
                    Some(v) => tags.insert(key.clone(), v.clone()),
                    None => tags.remove(key),
                };
            }
            let list: Vec<Value> = tags.into_iter().map(|(key, value)| json!({"key": key, "value": value})).collect();
            body.insert("tags".into(), json!({ "custom_tags": list }));
        }
        Ok(body)
    }

    pub fn check(&self) -> Result<()> {
        if let (Some(min), Some(max)) = (self.min_num_clusters, self.max_num_clusters)
            && min > max
        {
            return Err(ToolError::invalid("min_num_clusters must not exceed max_num_clusters"));
        }
        if let Some(m) = self.auto_stop_mins
            && m != 0
            && m < 10
        {
            return Err(ToolError::invalid("auto_stop_mins must be 0 (never) or at least 10"));
        }
        Ok(())
    }
}

/// The settings `edit` sends back: what a warehouse's spec is made of (the API replaces them).
pub const EDITABLE_FIELDS: &[&str] = &[
    "name",
    "cluster_size",
    "min_num_clusters",
    "max_num_clusters",
    "auto_stop_mins",
    "warehouse_type",
    "enable_serverless_compute",
    "enable_photon",
    "spot_instance_policy",
    "channel",
    "tags",
    "instance_profile_arn",
];
