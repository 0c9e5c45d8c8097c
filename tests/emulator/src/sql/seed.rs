//! The SQL warehouses a fresh emulator starts with.
//!
//! `Test`: `5a1f0c0ffee00001` "Starter Warehouse" (2X-Small, RUNNING) and `5a1f0c0ffee00002`
//! "Reporting Warehouse" (Small, STOPPED; a statement sent to it starts it).
//!
//! `Demo` adds `5a1f0c0ffee00003` "Finance Serverless" (Medium, PRO serverless, STARTING: running a
//! minute after start-up).

use serde_json::{Map, Value, json};

use super::{
    Sql,
    warehouses::{Warehouse, WhState},
};
use crate::{
    acl::{Acls, Grantee, WAREHOUSE},
    config::Seed,
};

/// The running Test warehouse.
pub(crate) const RUNNING_ID: &str = "5a1f0c0ffee00001";
/// The stopped Test warehouse.
pub(crate) const STOPPED_ID: &str = "5a1f0c0ffee00002";

fn spec(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Who else may use the seeded warehouses (owners and admins need no grant): every user may run
/// statements on the Starter warehouse; the Reporting warehouse is visible to all users, who may
/// not use, stop or edit it (alice's permission-denied case).
pub(crate) fn grant_access(acls: &mut Acls, seed: Seed) {
    if seed == Seed::Empty {
        return;
    }
    acls.grant(&WAREHOUSE, RUNNING_ID, Grantee::Group("users".into()), "CAN_USE");
    acls.grant(&WAREHOUSE, STOPPED_ID, Grantee::Group("users".into()), "CAN_VIEW");
    if seed == Seed::Demo {
        acls.grant(&WAREHOUSE, "5a1f0c0ffee00003", Grantee::Group("users".into()), "CAN_USE");
    }
}

pub(crate) fn populate(sql: &mut Sql, seed: Seed, now: u64) {
    if seed == Seed::Empty {
        return;
    }
    let mut add = |id: &str, creator: &str, state: WhState, next: Option<(WhState, u64)>, s: Value| {
        let w = Warehouse { id: id.into(), spec: spec(s), creator_name: creator.into(), state, since: now, next };
        sql.warehouses.by_id.insert(id.into(), w);
    };
    add(
        RUNNING_ID,
        "demo.user@example.com",
        WhState::Running,
        None,
        json!({"name": "Starter Warehouse", "cluster_size": "2X-Small", "min_num_clusters": 1, "max_num_clusters": 1,
               "auto_stop_mins": 60, "enable_photon": true, "enable_serverless_compute": false,
               "warehouse_type": "PRO", "spot_instance_policy": "COST_OPTIMIZED",
               "channel": {"name": "CHANNEL_NAME_CURRENT"}}),
    );
    add(
        STOPPED_ID,
        "analyst@example.com",
        WhState::Stopped,
        None,
        json!({"name": "Reporting Warehouse", "cluster_size": "Small", "min_num_clusters": 1, "max_num_clusters": 2,
               "auto_stop_mins": 30, "enable_photon": true, "enable_serverless_compute": false,
               "warehouse_type": "CLASSIC", "spot_instance_policy": "RELIABILITY_OPTIMIZED",
               "channel": {"name": "CHANNEL_NAME_CURRENT"},
               "tags": {"custom_tags": [{"key": "team", "value": "bi"}]}}),
    );
    if seed == Seed::Demo {
        add(
            "5a1f0c0ffee00003",
            "finance-admins",
            WhState::Starting,
            Some((WhState::Running, now + 60_000)),
            json!({"name": "Finance Serverless", "cluster_size": "Medium", "min_num_clusters": 1, "max_num_clusters": 4,
                   "auto_stop_mins": 10, "enable_photon": true, "enable_serverless_compute": true,
                   "warehouse_type": "PRO", "spot_instance_policy": "COST_OPTIMIZED",
                   "channel": {"name": "CHANNEL_NAME_PREVIEW"},
                   "tags": {"custom_tags": [{"key": "cost-center", "value": "fin-042"}]}}),
        );
    }
}
