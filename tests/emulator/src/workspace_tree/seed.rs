//! The workspace tree (and repos) a fresh emulator starts with.
//!
//! `Test` (object ids in the crate docs):
//! - `/Users/demo.user@example.com/ETL Pipeline` (PYTHON notebook, 2 cells),
//!   `/Users/demo.user@example.com/Daily Report` (SQL notebook), and the empty folder
//!   `/Users/demo.user@example.com/experiments`;
//! - `/Shared/reports/README.md` (a FILE);
//! - repo `/Repos/demo.user@example.com/analytics` (gitHub, branch `main`) holding the notebook
//!   `main`.
//!
//! `Demo` adds several users' folders with ETL, ML and dashboard notebooks, shared libraries and
//! three more repos.

use super::store::{Kind, Language, Tree};
use crate::{
    config::Seed,
    repos::{Repo, Repos, commit_id},
    workspace::DEFAULT_USER,
};

const DAY_MS: u64 = 86_400_000;

pub(crate) const ETL_PIPELINE: &str = "from pyspark.sql import functions as F\n\nraw = spark.read.csv(\"dbfs:/FileStore/tables/sales.csv\", header=True, inferSchema=True)\n\n# COMMAND ----------\n\ndaily = raw.groupBy(\"date\", \"region\").agg(F.sum(\"revenue\").alias(\"revenue\"))\ndaily.write.mode(\"overwrite\").saveAsTable(\"main.default.daily_revenue\")\n";
pub(crate) const DAILY_REPORT: &str =
    "SELECT date, region, revenue\nFROM main.default.daily_revenue\nORDER BY date DESC, revenue DESC\n";

struct Seeder<'a> {
    tree: &'a mut Tree,
    repos: &'a mut Repos,
    now: u64,
}

impl Seeder<'_> {
    fn at(&self, age_days: u64) -> u64 {
        self.now.saturating_sub(age_days * DAY_MS)
    }

    fn dir(&mut self, path: &str) {
        let _ = self.tree.mkdirs(path, self.at(90));
    }

    fn notebook(&mut self, path: &str, language: Language, source: &str, age_days: u64) {
        if let Some(dir) = crate::dbfs::tree::parent(path) {
            self.dir(dir);
        }
        let _ =
            self.tree.put(path, Kind::Notebook, Some(language), source.as_bytes().to_vec(), true, self.at(age_days));
    }

    fn file(&mut self, path: &str, content: &str, age_days: u64) {
        if let Some(dir) = crate::dbfs::tree::parent(path) {
            self.dir(dir);
        }
        let _ = self.tree.put(path, Kind::File, None, content.as_bytes().to_vec(), true, self.at(age_days));
    }

    fn repo(&mut self, path: &str, url: &str, branch: &str) {
        let Ok(id) = self.tree.add_repo(path, self.at(60)) else { return };
        let repo = Repo {
            id,
            path: path.to_owned(),
            url: url.to_owned(),
            provider: "gitHub".to_owned(),
            branch: Some(branch.to_owned()),
            head_commit_id: commit_id(url, branch),
            sparse_checkout: None,
        };
        self.repos.by_id.insert(id, repo);
    }
}

pub(crate) fn populate(tree: &mut Tree, repos: &mut Repos, seed: Seed, now: u64) {
    if seed == Seed::Empty {
        return;
    }
    let mut s = Seeder { tree, repos, now };
    let home = format!("/Users/{DEFAULT_USER}");
    s.notebook(&format!("{home}/ETL Pipeline"), Language::Python, ETL_PIPELINE, 10);
    s.notebook(&format!("{home}/Daily Report"), Language::Sql, DAILY_REPORT, 2);
    s.dir(&format!("{home}/experiments"));
    s.file("/Shared/reports/README.md", "# Reports\n\nShared dashboards and their source queries.\n", 30);
    s.repo(&format!("/Repos/{DEFAULT_USER}/analytics"), "https://github.com/example/analytics.git", "main");
    s.notebook(
        &format!("/Repos/{DEFAULT_USER}/analytics/main"),
        Language::Python,
        "import analytics\n\nanalytics.run(spark)\n",
        5,
    );
    if seed == Seed::Demo {
        super::seed_demo::populate_demo(&mut |path, language, source, age| s.notebook(path, language, source, age));
        s.file("/Shared/libraries/requirements.txt", "pandas==2.2.2\nscikit-learn==1.5.0\nmlflow==2.14.1\n", 40);
        s.file("/Shared/reports/kpi_definitions.md", "# KPI definitions\n\n- **Revenue**: gross, in USD, at booking time.\n- **Active user**: one session in 28 days.\n", 12);
        s.repo("/Repos/alice.chen@example.com/ml-platform", "https://github.com/example/ml-platform.git", "develop");
        s.repo("/Repos/bob.martin@example.com/dbt-models", "https://github.com/example/dbt-models.git", "main");
        s.repo("/Repos/Production/etl-jobs", "https://github.com/example/etl-jobs.git", "release-2024.06");
        s.notebook("/Repos/Production/etl-jobs/jobs/ingest_orders", Language::Python, "dbutils.widgets.text(\"date\", \"\")\nrun_date = dbutils.widgets.get(\"date\")\nspark.read.json(f\"/mnt/raw/events/{run_date}\").write.mode(\"append\").saveAsTable(\"main.sales.orders_bronze\")\n", 3);
        s.dir("/Users/carol.diaz@example.com");
    }
}
