//! The DBFS files a fresh emulator starts with.
//!
//! `Test`: `/FileStore/tables/sales.csv` (4 rows, header `date,region,product,units,revenue`) and an
//! empty `/tmp`. `Demo` adds uploaded tables, init scripts, a job's output folder and checkpoints.

use super::Dbfs;
use crate::config::Seed;

/// The `Test` seed's CSV, byte for byte.
pub(crate) const SALES_CSV: &str = "date,region,product,units,revenue\n\
2024-01-01,EMEA,widget,12,1440.00\n\
2024-01-01,AMER,gadget,7,2093.00\n\
2024-01-02,APAC,widget,30,3600.00\n\
2024-01-02,EMEA,gizmo,3,897.00\n";

const DAY_MS: u64 = 86_400_000;

pub(crate) fn populate(dbfs: &mut Dbfs, seed: Seed, now: u64) {
    if seed == Seed::Empty {
        return;
    }
    let mut file = |path: &str, data: &str, age_days: u64| {
        // Seed paths are fixed and valid, so the tree cannot refuse them.
        let _ = dbfs.tree.write(path, data.as_bytes().to_vec(), true, now.saturating_sub(age_days * DAY_MS));
    };
    file("/FileStore/tables/sales.csv", SALES_CSV, 3);
    if seed == Seed::Demo {
        file(
            "/FileStore/tables/customers.csv",
            "customer_id,name,country,segment\n1001,Acme Corp,US,enterprise\n1002,Globex,DE,mid-market\n1003,Initech,US,smb\n1004,Umbrella,JP,enterprise\n",
            40,
        );
        file(
            "/FileStore/tables/exchange_rates.json",
            "{\"base\":\"USD\",\"rates\":{\"EUR\":0.92,\"GBP\":0.79,\"JPY\":151.2}}\n",
            12,
        );
        file(
            "/databricks/init-scripts/install-gdal.sh",
            "#!/bin/bash\nset -euo pipefail\napt-get update && apt-get install -y gdal-bin libgdal-dev\npip install GDAL==$(gdal-config --version)\n",
            120,
        );
        file(
            "/mnt/raw/events/2024-06-01/part-00000.json",
            "{\"event\":\"page_view\",\"user\":\"u1\",\"ts\":1717200000}\n{\"event\":\"click\",\"user\":\"u2\",\"ts\":1717200042}\n",
            2,
        );
        file(
            "/mnt/raw/events/2024-06-02/part-00000.json",
            "{\"event\":\"purchase\",\"user\":\"u1\",\"ts\":1717286400,\"amount\":42.5}\n",
            1,
        );
        file("/jobs/nightly-etl/output/_SUCCESS", "", 1);
        file("/jobs/nightly-etl/output/summary.txt", "rows_in=1203344\nrows_out=1198022\nrejected=5322\n", 1);
        file(
            "/tmp/checkpoints/stream-orders/offsets/0",
            "v1\n{\"batchWatermarkMs\":0,\"batchTimestampMs\":1717200000000}\n",
            5,
        );
        file("/user/hive/warehouse/sales.db/_placeholder", "", 200);
    }
    let _ = dbfs.tree.mkdirs("/tmp", now);
}
