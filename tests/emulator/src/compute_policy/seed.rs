//! The instance pools, cluster policies and global init scripts a fresh emulator starts with.
//! Ids are fixed, so tests can name them:
//!
//! | kind | id | name | notes |
//! |---|---|---|---|
//! | pool | [`POOL_ID`] | `general-i3` | i3.xlarge, 2 idle, at most 20; created by the demo user |
//! | policy | [`PERSONAL_POLICY_ID`] | `Personal Compute` | from family `personal-vm`, a default policy |
//! | policy | [`ETL_POLICY_ID`] | `etl-standard` | fixed runtime, autotermination at most 60 min |
//! | init script | [`SCRIPT_ID`] | `install-monitoring-agent` | enabled, position 0 |
//!
//! `Demo` adds a memory-optimized pool used by Alice's team, a cost-capped data-science policy
//! and a disabled proxy script.

use serde_json::json;

use super::{ComputePolicy, init_scripts, policies, pools};
use crate::{config::Seed, workspace::DEFAULT_USER};

/// The Test seed's instance pool.
pub(crate) const POOL_ID: &str = "0101-000000-pool0001";
/// The Test seed's family-based default policy.
pub(crate) const PERSONAL_POLICY_ID: &str = "D0C0A5F00D000001";
/// The Test seed's custom policy.
pub(crate) const ETL_POLICY_ID: &str = "E7100C0FFEE00002";
/// The Test seed's init script.
pub(crate) const SCRIPT_ID: &str = "1A17C0DE00000001";

const DAY_MS: u64 = 86_400_000;

pub(crate) fn populate(cp: &mut ComputePolicy, seed: Seed, now: u64) {
    if seed == Seed::Empty {
        return;
    }
    let pool = pools::seeded(
        json!({
            "instance_pool_name": "general-i3",
            "node_type_id": "i3.xlarge",
            "min_idle_instances": 2,
            "max_capacity": 20,
            "idle_instance_autotermination_minutes": 30,
            "custom_tags": {"team": "platform"},
            "preloaded_spark_versions": ["15.4.x-scala2.12"],
        }),
        POOL_ID,
        DEFAULT_USER,
    );
    cp.pools.insert(POOL_ID.to_owned(), pool);
    let personal = policies::seeded(
        json!({"name": "Personal Compute", "policy_family_id": "personal-vm",
               "description": "Single-node compute for one user."}),
        PERSONAL_POLICY_ID,
        DEFAULT_USER,
        now - 90 * DAY_MS,
        true,
    );
    cp.policies.insert(PERSONAL_POLICY_ID.to_owned(), personal);
    let etl = policies::seeded(
        json!({
            "name": "etl-standard",
            "description": "Standard ETL clusters: LTS runtime, autoscaling, short idle time.",
            "definition": json!({
                "spark_version": {"type": "fixed", "value": "15.4.x-scala2.12"},
                "autotermination_minutes": {"type": "range", "maxValue": 60, "defaultValue": 30},
                "autoscale.max_workers": {"type": "range", "maxValue": 8},
                "custom_tags.cost_center": {"type": "fixed", "value": "etl"}
            }).to_string(),
            "max_clusters_per_user": 2,
        }),
        ETL_POLICY_ID,
        DEFAULT_USER,
        now - 30 * DAY_MS,
        false,
    );
    cp.policies.insert(ETL_POLICY_ID.to_owned(), etl);
    init_scripts::add(
        &mut cp.scripts,
        init_scripts::seeded(
            SCRIPT_ID,
            "install-monitoring-agent",
            "#!/bin/bash\nset -euo pipefail\ncurl -fsSL https://monitoring.example.com/agent.sh | bash -s -- --tags databricks\n",
            true,
            DEFAULT_USER,
            now - 60 * DAY_MS,
        ),
    );
    if seed == Seed::Demo {
        demo(cp, now);
    }
}

fn demo(cp: &mut ComputePolicy, now: u64) {
    let pool = pools::seeded(
        json!({
            "instance_pool_name": "memory-r5d-analytics",
            "node_type_id": "r5d.xlarge",
            "min_idle_instances": 0,
            "max_capacity": 40,
            "idle_instance_autotermination_minutes": 15,
            "custom_tags": {"team": "analytics", "cost_center": "bi"},
            "aws_attributes": {"availability": "SPOT_WITH_FALLBACK", "zone_id": "auto"},
        }),
        "0101-000000-pool0002",
        "alice.nguyen@example.com",
    );
    cp.pools.insert(pool.id.clone(), pool);
    let ds = policies::seeded(
        json!({
            "name": "data-science-capped",
            "policy_family_id": "shared-data-science",
            "policy_family_definition_overrides": json!({
                "node_type_id": {"type": "allowlist", "values": ["m5d.xlarge", "r5d.xlarge"]},
                "dbus_per_hour": {"type": "range", "maxValue": 20}
            }).to_string(),
            "description": "Shared notebooks for the data science team, capped at 20 DBU/h.",
        }),
        "DA7A5C1E00000003",
        "demo.user@example.com",
        now - 10 * DAY_MS,
        false,
    );
    cp.policies.insert(ds.id.clone(), ds);
    init_scripts::add(
        &mut cp.scripts,
        init_scripts::seeded(
            "0B5E55ED00000002",
            "set-egress-proxy",
            "#!/bin/bash\necho 'export HTTPS_PROXY=http://proxy.internal:3128' >> /databricks/spark/conf/spark-env.sh\n",
            false,
            DEFAULT_USER,
            now - 5 * DAY_MS,
        ),
    );
}
