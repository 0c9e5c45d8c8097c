//! What a cluster can be made of: Spark versions, node types and zones, as an AWS workspace
//! would list them.
//!
//! The SDK's `select_spark_version` and `select_node_type` filter these lists on the client
//! (LTS names contain "LTS", ML keys "-ml-", GPU keys "-gpu-", Photon keys "photon", Graviton keys
//! "-aarch64-"; default Scala "2.12"), so the entries are shaped to make those filters find something.

use serde_json::{Value, json};

/// `(key, name)` of every listed Spark version.
const SPARK_VERSIONS: &[(&str, &str)] = &[
    ("17.3.x-scala2.13", "17.3 LTS (includes Apache Spark 4.0.0, Scala 2.13)"),
    ("17.3.x-cpu-ml-scala2.13", "17.3 LTS ML (includes Apache Spark 4.0.0, Scala 2.13)"),
    ("17.3.x-gpu-ml-scala2.13", "17.3 LTS ML (includes Apache Spark 4.0.0, GPU, Scala 2.13)"),
    ("17.2.x-scala2.13", "17.2 (includes Apache Spark 4.0.0, Scala 2.13)"),
    ("16.4.x-scala2.12", "16.4 LTS (includes Apache Spark 3.5.2, Scala 2.12)"),
    ("16.4.x-scala2.13", "16.4 LTS (includes Apache Spark 3.5.2, Scala 2.13)"),
    ("16.4.x-cpu-ml-scala2.12", "16.4 LTS ML (includes Apache Spark 3.5.2, Scala 2.12)"),
    ("16.4.x-gpu-ml-scala2.12", "16.4 LTS ML (includes Apache Spark 3.5.2, GPU, Scala 2.12)"),
    ("16.4.x-aarch64-scala2.12", "16.4 LTS aarch64 (includes Apache Spark 3.5.2, Scala 2.12)"),
    ("16.3.x-scala2.12", "16.3 (includes Apache Spark 3.5.2, Scala 2.12)"),
    ("16.2.x-scala2.12", "16.2 (includes Apache Spark 3.5.2, Scala 2.12)"),
    ("15.4.x-scala2.12", "15.4 LTS (includes Apache Spark 3.5.0, Scala 2.12)"),
    ("15.4.x-photon-scala2.12", "15.4 LTS Photon (includes Apache Spark 3.5.0, Scala 2.12)"),
    ("15.4.x-cpu-ml-scala2.12", "15.4 LTS ML (includes Apache Spark 3.5.0, Scala 2.12)"),
    ("15.4.x-gpu-ml-scala2.12", "15.4 LTS ML (includes Apache Spark 3.5.0, GPU, Scala 2.12)"),
    ("15.4.x-aarch64-scala2.12", "15.4 LTS aarch64 (includes Apache Spark 3.5.0, Scala 2.12)"),
    ("14.3.x-scala2.12", "14.3 LTS (includes Apache Spark 3.5.0, Scala 2.12)"),
    ("14.3.x-photon-scala2.12", "14.3 LTS Photon (includes Apache Spark 3.5.0, Scala 2.12)"),
    ("14.3.x-cpu-ml-scala2.12", "14.3 LTS ML (includes Apache Spark 3.5.0, Scala 2.12)"),
    ("14.3.x-gpu-ml-scala2.12", "14.3 LTS ML (includes Apache Spark 3.5.0, GPU, Scala 2.12)"),
    ("13.3.x-scala2.12", "13.3 LTS (includes Apache Spark 3.4.1, Scala 2.12)"),
    ("13.3.x-photon-scala2.12", "13.3 LTS Photon (includes Apache Spark 3.4.1, Scala 2.12)"),
    ("13.3.x-cpu-ml-scala2.12", "13.3 LTS ML (includes Apache Spark 3.4.1, Scala 2.12)"),
    ("12.2.x-scala2.12", "12.2 LTS (includes Apache Spark 3.3.2, Scala 2.12)"),
];

/// A worker or driver instance type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NodeType {
    pub id: &'static str,
    pub memory_mb: u64,
    pub cores: f64,
    pub gpus: u32,
    pub category: &'static str,
    pub local_disks: u32,
    pub local_disk_gb: u32,
    pub graviton: bool,
}

const fn node(
    id: &'static str,
    memory_mb: u64,
    cores: f64,
    category: &'static str,
    local_disks: u32,
    local_disk_gb: u32,
) -> NodeType {
    NodeType { id, memory_mb, cores, gpus: 0, category, local_disks, local_disk_gb, graviton: false }
}

const NODE_TYPES: &[NodeType] = &[
    node("m5d.large", 8_192, 2.0, "General Purpose", 1, 75),
    node("m5d.xlarge", 16_384, 4.0, "General Purpose", 1, 150),
    node("m5d.2xlarge", 32_768, 8.0, "General Purpose", 1, 300),
    node("m5d.4xlarge", 65_536, 16.0, "General Purpose", 2, 300),
    NodeType { graviton: true, ..node("m6gd.xlarge", 16_384, 4.0, "General Purpose", 1, 237) },
    node("i3.xlarge", 31_232, 4.0, "Storage Optimized", 1, 950),
    node("i3.2xlarge", 62_464, 8.0, "Storage Optimized", 1, 1_900),
    node("i3.4xlarge", 124_928, 16.0, "Storage Optimized", 2, 1_900),
    node("r5d.xlarge", 32_768, 4.0, "Memory Optimized", 1, 150),
    node("r5d.2xlarge", 65_536, 8.0, "Memory Optimized", 1, 300),
    node("c5d.2xlarge", 16_384, 8.0, "Compute Optimized", 1, 200),
    NodeType { gpus: 1, ..node("g4dn.xlarge", 16_384, 4.0, "GPU Accelerated", 1, 125) },
    NodeType { gpus: 1, ..node("g5.xlarge", 16_384, 4.0, "GPU Accelerated", 1, 250) },
];

/// The node type a cluster gets when its spec names none (a pool or policy decides in reality).
pub(crate) const DEFAULT_NODE_TYPE: &str = "i3.xlarge";

pub(crate) const ZONES: &[&str] = &["us-west-2a", "us-west-2b", "us-west-2c"];

pub(crate) fn is_spark_version(key: &str) -> bool {
    SPARK_VERSIONS.iter().any(|(k, _)| *k == key)
}

pub(crate) fn node_type(id: &str) -> Option<&'static NodeType> {
    NODE_TYPES.iter().find(|n| n.id == id)
}

/// `GET /clusters/spark-versions`.
pub(crate) fn spark_versions_json() -> Value {
    let versions: Vec<Value> = SPARK_VERSIONS.iter().map(|(key, name)| json!({"key": key, "name": name})).collect();
    json!({ "versions": versions })
}

/// `GET /clusters/list-node-types`.
pub(crate) fn node_types_json() -> Value {
    let node_types: Vec<Value> = NODE_TYPES.iter().copied().map(NodeType::to_json).collect();
    json!({ "node_types": node_types })
}

/// `GET /clusters/list-zones`.
pub(crate) fn zones_json() -> Value {
    json!({ "zones": ZONES, "default_zone": ZONES[0] })
}

impl NodeType {
    fn to_json(self) -> Value {
        let memory_gb = self.memory_mb as f64 / 1024.0;
        let description = if self.gpus > 0 {
            format!("{} ({:.0} GB Memory, {} Cores, {} GPU)", self.id, memory_gb, self.cores, self.gpus)
        } else {
            format!("{} ({:.1} GB Memory, {} Cores)", self.id, memory_gb, self.cores)
        };
        let mut v = json!({
            "node_type_id": self.id,
            "instance_type_id": self.id,
            "memory_mb": self.memory_mb,
            "num_cores": self.cores,
            "description": description,
            "category": self.category,
            "is_deprecated": false,
            "is_hidden": false,
            "is_io_cache_enabled": self.id.starts_with("i3") || self.id.contains("d."),
            "is_graviton": self.graviton,
            "support_ebs_volumes": true,
            "support_cluster_tags": true,
            "support_port_forwarding": true,
            "photon_driver_capable": self.gpus == 0,
            "photon_worker_capable": self.gpus == 0,
            "node_instance_type": {
                "instance_type_id": self.id,
                "local_disks": self.local_disks,
                "local_disk_size_gb": self.local_disk_gb,
                "local_nvme_disks": self.local_disks,
                "local_nvme_disk_size_gb": self.local_disk_gb,
            },
            "node_info": {},
        });
        if self.gpus > 0 {
            v["num_gpus"] = json!(self.gpus);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_selectors_have_something_to_find() {
        let keys: Vec<&str> = SPARK_VERSIONS.iter().map(|(k, _)| *k).collect();
        let names: Vec<&str> = SPARK_VERSIONS.iter().map(|(_, n)| *n).collect();
        assert!(keys.iter().any(|k| k.contains("-ml-") && k.contains("-scala2.12")));
        assert!(keys.iter().any(|k| k.contains("-gpu-") && k.contains("-scala2.12")));
        assert!(keys.iter().any(|k| k.contains("photon")));
        assert!(names.iter().any(|n| n.contains("LTS")));
        assert!(names.iter().any(|n| !n.contains("LTS")));
    }

    #[test]
    fn every_node_type_is_listed_once() {
        let listed = node_types_json();
        let ids: Vec<&str> = listed["node_types"]
            .as_array()
            .map_or(vec![], |a| a.iter().filter_map(|n| n["node_type_id"].as_str()).collect());
        assert_eq!(ids.len(), NODE_TYPES.len());
        assert!(ids.contains(&DEFAULT_NODE_TYPE));
        assert!(node_type("i3.xlarge").is_some_and(|n| n.memory_mb == 31_232));
    }
}
