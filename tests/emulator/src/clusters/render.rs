//! `ClusterDetails` as the service returns it from `get` and `list`.
//!
//! The user's attributes come first, then everything the service adds: resolved defaults, state,
//! times, tags, sizes, and the driver and executors while the cluster is up. Absent fields are left
//! out, never sent as `null`.

use serde_json::{Map, Value, json};

use super::{catalog, model::Cluster};

const JDBC_PORT: u16 = 10_000;

impl Cluster {
    /// The `ClusterDetails` object.
    pub fn details(&self) -> Value {
        let spec = &self.spec;
        let mut out = spec.to_json();
        let mut put = |key: &str, value: Value| {
            out.insert(key.to_owned(), value);
        };

        put("cluster_id", json!(self.id));
        put("cluster_name", json!(spec.cluster_name.as_deref().unwrap_or_default()));
        put("node_type_id", json!(spec.node_type_id()));
        put("driver_node_type_id", json!(spec.driver_node_type_id()));
        match spec.autoscale {
            Some(scale) => put("autoscale", json!(scale)),
            None => put("num_workers", json!(spec.num_workers.unwrap_or(0))),
        }
        put("autotermination_minutes", json!(spec.autotermination_minutes.unwrap_or(0)));
        put("state", json!(self.state.as_str()));
        put("state_message", json!(self.state_message));
        put("start_time", json!(self.start_time));
        for (key, time) in [
            ("last_restarted_time", self.last_restarted_time),
            ("last_state_loss_time", self.last_state_loss_time),
            ("terminated_time", self.terminated_time),
        ] {
            if let Some(t) = time {
                put(key, json!(t));
            }
        }
        if let Some(reason) = &self.termination_reason {
            put("termination_reason", reason.to_json());
        }
        put("creator_user_name", json!(self.creator));
        put("cluster_source", json!(self.source));
        put("default_tags", self.default_tags());
        put("data_security_mode", json!(spec.data_security_mode.as_deref().unwrap_or("NONE")));
        put("runtime_engine", json!(spec.runtime_engine()));
        put("enable_elastic_disk", json!(spec.enable_elastic_disk.unwrap_or(true)));
        put("jdbc_port", json!(JDBC_PORT));
        put("spec", Value::Object(spec.to_json()));

        let (memory_mb, cores) = self.size();
        put("cluster_memory_mb", json!(memory_mb));
        put("cluster_cores", json!(cores));

        for (key, default) in [
            ("spark_conf", json!({})),
            ("spark_env_vars", json!({"PYSPARK_PYTHON": "/databricks/python3/bin/python3"})),
            (
                "aws_attributes",
                json!({
                    "availability": "SPOT_WITH_FALLBACK",
                    "first_on_demand": 1,
                    "zone_id": catalog::ZONES[0],
                    "spot_bid_price_percent": 100,
                }),
            ),
        ] {
            out.entry(key).or_insert(default);
        }

        if self.state.is_up() {
            if let Some(id) = self.spark_context_id {
                out.insert("spark_context_id".into(), json!(id));
            }
            out.insert("driver".into(), self.node(0));
            let executors: Vec<Value> = (1..=self.workers).map(|i| self.node(i)).collect();
            if !executors.is_empty() {
                out.insert("executors".into(), Value::Array(executors));
            }
        }
        Value::Object(out)
    }

    /// `default_tags`: what the service tags every cluster's instances with.
    fn default_tags(&self) -> Value {
        let mut tags = Map::new();
        tags.insert("Vendor".into(), json!("Databricks"));
        tags.insert("Creator".into(), json!(self.creator));
        tags.insert("ClusterName".into(), json!(self.spec.cluster_name.as_deref().unwrap_or_default()));
        tags.insert("ClusterId".into(), json!(self.id));
        for (k, v) in &self.extra_default_tags {
            tags.insert(k.clone(), json!(v));
        }
        Value::Object(tags)
    }

    /// Total memory (MB) and cores of the driver and the workers: those up, or those it will start with.
    fn size(&self) -> (u64, f64) {
        let workers = if self.state.is_up() { self.workers } else { self.target_workers() };
        let driver = catalog::node_type(self.spec.driver_node_type_id());
        let worker = catalog::node_type(self.spec.node_type_id());
        let memory = driver.map_or(0, |n| n.memory_mb) + u64::from(workers) * worker.map_or(0, |n| n.memory_mb);
        let cores = driver.map_or(0.0, |n| n.cores) + f64::from(workers) * worker.map_or(0.0, |n| n.cores);
        (memory, cores)
    }

    /// A `SparkNode`: index 0 is the driver, 1.. the executors. Addresses derive from the cluster id
    /// and Spark context, so they stay put between reads and change on restart.
    fn node(&self, index: u32) -> Value {
        let seed = hash(&format!("{}/{}/{index}", self.id, self.spark_context_id.unwrap_or(0)));
        let ip = format!("10.{}.{}.{}", (seed >> 8) % 256, (seed >> 16) % 256, 4 + index % 250);
        let started = self.last_restarted_time.unwrap_or(self.start_time);
        json!({
            "node_id": format!("{seed:016x}{:016x}", hash(&ip)),
            "instance_id": format!("i-{:017x}", seed % (1 << 60)),
            "private_ip": ip,
            "host_private_ip": ip,
            "public_dns": "",
            "start_timestamp": started,
            "node_aws_attributes": {"is_spot": index > 0},
        })
    }
}

/// A tiny stable hash for made-up but consistent identifiers: FNV-1a, then the SplitMix64
/// finaliser so that similar inputs (`id/0`, `id/1`) give unrelated-looking outputs.
pub(crate) fn hash(text: &str) -> u64 {
    let h = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}
