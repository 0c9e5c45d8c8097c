//! The notebooks of the `Demo` seed: ETL, ML and dashboard work by several users, with real source.

use super::store::Language;

type Add<'a> = dyn FnMut(&str, Language, &str, u64) + 'a;

const BRONZE_TO_SILVER: &str = r#"# Bronze -> silver for orders: dedupe, type, and quarantine bad rows.
from pyspark.sql import functions as F

bronze = spark.table("main.sales.orders_bronze")

# COMMAND ----------

typed = (bronze
    .withColumn("amount", F.col("amount").cast("decimal(12,2)"))
    .withColumn("order_ts", F.to_timestamp("ts"))
    .dropDuplicates(["order_id"]))

bad = typed.filter(F.col("amount").isNull() | (F.col("amount") < 0))
bad.write.mode("append").saveAsTable("main.sales.orders_quarantine")

# COMMAND ----------

typed.subtract(bad).write.mode("overwrite").option("mergeSchema", "true").saveAsTable("main.sales.orders_silver")
print(f"silver rows: {spark.table('main.sales.orders_silver').count()}")
"#;

const CHURN_TRAINING: &str = r#"import mlflow
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

mlflow.set_registry_uri("databricks-uc")
df = spark.table("ml.features.customer_churn").toPandas()
X, y = df.drop(columns=["churned", "customer_id"]), df["churned"]

# COMMAND ----------

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
with mlflow.start_run(run_name="gbc-churn"):
    model = GradientBoostingClassifier(n_estimators=300, max_depth=4, learning_rate=0.05)
    model.fit(X_train, y_train)
    auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
    mlflow.log_metric("auc", auc)
    mlflow.sklearn.log_model(model, "model", registered_model_name="ml.models.churn")
"#;

const FEATURE_ENGINEERING: &str = r#"%pip install featuretools==1.31.0

# COMMAND ----------

from pyspark.sql import functions as F, Window

w = Window.partitionBy("customer_id").orderBy("order_ts").rowsBetween(-30, 0)
features = (spark.table("main.sales.orders_silver")
    .withColumn("spend_30", F.sum("amount").over(w))
    .groupBy("customer_id")
    .agg(F.max("spend_30").alias("max_spend_30"), F.count("*").alias("orders")))
features.write.mode("overwrite").saveAsTable("ml.features.customer_churn")
"#;

const REVENUE_DASHBOARD: &str = r#"-- Revenue dashboard: one query per tile.
SELECT date_trunc('week', order_ts) AS week, region, SUM(amount) AS revenue
FROM main.sales.orders_silver
GROUP BY ALL
ORDER BY week

-- COMMAND ----------

SELECT product, SUM(amount) AS revenue, COUNT(DISTINCT customer_id) AS buyers
FROM main.sales.orders_silver
WHERE order_ts >= current_date() - INTERVAL 30 DAYS
GROUP BY product
ORDER BY revenue DESC
LIMIT 10
"#;

const SESSIONIZE: &str = r#"import org.apache.spark.sql.functions._
import org.apache.spark.sql.expressions.Window

val events = spark.table("main.web.events")
val w = Window.partitionBy("user_id").orderBy("ts")

// COMMAND ----------

val sessions = events
  .withColumn("gap", unix_timestamp(col("ts")) - lag(unix_timestamp(col("ts")), 1).over(w))
  .withColumn("new_session", when(col("gap").isNull || col("gap") > 1800, 1).otherwise(0))
  .withColumn("session_id", sum("new_session").over(w))
sessions.write.mode("overwrite").saveAsTable("main.web.sessions")
"#;

const FORECAST_R: &str = r#"library(SparkR)
library(forecast)

sales <- collect(sql("SELECT week, SUM(revenue) AS revenue FROM main.sales.weekly GROUP BY week ORDER BY week"))

# COMMAND ----------

fit <- auto.arima(ts(sales$revenue, frequency = 52))
fc <- forecast(fit, h = 12)
display(as.data.frame(fc))
"#;

const DATA_QUALITY: &str = r#"-- Daily data-quality checks; the job fails when any row comes back.
SELECT 'orders_silver null amounts' AS check_name, COUNT(*) AS bad_rows
FROM main.sales.orders_silver WHERE amount IS NULL
HAVING COUNT(*) > 0
UNION ALL
SELECT 'orders_silver future timestamps', COUNT(*)
FROM main.sales.orders_silver WHERE order_ts > current_timestamp()
HAVING COUNT(*) > 0
"#;

pub(super) fn populate_demo(add: &mut Add<'_>) {
    add("/Users/alice.chen@example.com/ml/Churn Training", Language::Python, CHURN_TRAINING, 4);
    add("/Users/alice.chen@example.com/ml/Feature Engineering", Language::Python, FEATURE_ENGINEERING, 6);
    add("/Users/alice.chen@example.com/Sales Forecast", Language::R, FORECAST_R, 21);
    add("/Users/bob.martin@example.com/etl/Bronze to Silver", Language::Python, BRONZE_TO_SILVER, 1);
    add("/Users/bob.martin@example.com/etl/Sessionize Events", Language::Scala, SESSIONIZE, 14);
    add("/Users/demo.user@example.com/dashboards/Revenue Dashboard", Language::Sql, REVENUE_DASHBOARD, 3);
    add("/Shared/quality/Data Quality Checks", Language::Sql, DATA_QUALITY, 8);
}
