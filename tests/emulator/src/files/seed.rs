//! The volume files a fresh emulator starts with.
//!
//! `Test`: volume `/Volumes/main/default/landing` with `readme.txt` and `raw/events.json` (two
//! JSON lines). `Demo` adds images, exports and model artifacts across several volumes.

use super::Volumes;
use crate::config::Seed;

pub(crate) const README: &str = "Landing zone for raw files. Drop new files under raw/.\n";
pub(crate) const EVENTS_JSON: &str = "{\"event\":\"signup\",\"user_id\":1,\"ts\":\"2024-06-01T10:00:00Z\"}\n{\"event\":\"login\",\"user_id\":1,\"ts\":\"2024-06-01T10:05:00Z\"}\n";

const HOUR_MS: u64 = 3_600_000;

pub(crate) fn populate(volumes: &mut Volumes, seed: Seed, now: u64) {
    if seed == Seed::Empty {
        return;
    }
    let mut file = |path: &str, data: &[u8], age_hours: u64| {
        let _ = volumes.tree.write(path, data.to_vec(), true, now.saturating_sub(age_hours * HOUR_MS));
    };
    file("/Volumes/main/default/landing/readme.txt", README.as_bytes(), 48);
    file("/Volumes/main/default/landing/raw/events.json", EVENTS_JSON.as_bytes(), 5);
    if seed == Seed::Demo {
        file(
            "/Volumes/main/sales/exports/2024/q2/revenue_by_region.csv",
            b"region,revenue\nEMEA,1203400.50\nAMER,2330021.10\nAPAC,877310.00\n",
            30,
        );
        file(
            "/Volumes/main/sales/exports/2024/q1/revenue_by_region.csv",
            b"region,revenue\nEMEA,1100200.00\nAMER,2101000.75\nAPAC,790002.25\n",
            2000,
        );
        file(
            "/Volumes/ml/models/artifacts/churn/v3/model.pkl",
            &[0x80, 0x04, 0x95, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x8c],
            72,
        );
        file(
            "/Volumes/ml/models/artifacts/churn/v3/metrics.json",
            b"{\"auc\":0.912,\"f1\":0.78,\"precision\":0.81}\n",
            72,
        );
        file("/Volumes/main/marketing/assets/logo.png", &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a], 500);
        file("/Volumes/main/default/landing/raw/orders_2024-06-01.parquet", b"PAR1\x15\x04PAR1", 20);
    }
}
