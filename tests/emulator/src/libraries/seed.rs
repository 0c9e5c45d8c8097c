//! The libraries a fresh emulator starts with, on seeded clusters found by name (Demo cluster ids
//! are derived from their names). Seeded installs date from long before start-up, so on a running
//! cluster they read `INSTALLED` at once.

use serde_json::{Value, json};

use super::{
    library::Library,
    store::{Installed, Libraries},
};
use crate::{
    clock::Moment,
    clusters::{self, Clusters},
    config::Seed,
};

const TEST: &[(&str, &[&str])] = &[
    ("shared-autoscaling", &[r#"{"pypi":{"package":"requests==2.32.3"}}"#, MAVEN_XML]),
    ("ml-gpu", &[r#"{"pypi":{"package":"scikit-learn==1.5.2"}}"#]),
];

const MAVEN_XML: &str = r#"{"maven":{"coordinates":"com.databricks:spark-xml_2.12:0.18.0"}}"#;

const DEMO: &[(&str, &[&str])] = &[
    (
        "data-science-shared",
        &[
            r#"{"pypi":{"package":"mlflow==2.19.0"}}"#,
            r#"{"pypi":{"package":"xgboost==2.1.3"}}"#,
            r#"{"pypi":{"package":"shap==0.46.0"}}"#,
            r#"{"whl":"/Volumes/main/data_science/wheels/ds_utils-0.7.2-py3-none-any.whl"}"#,
        ],
    ),
    (
        "streaming-orders",
        &[
            r#"{"maven":{"coordinates":"org.apache.spark:spark-sql-kafka-0-10_2.12:3.5.0"}}"#,
            r#"{"jar":"/Volumes/main/data_eng/jars/orders-schemas-1.4.0.jar"}"#,
        ],
    ),
    ("bi-serving", &[r#"{"pypi":{"package":"great-expectations==1.2.4"}}"#]),
    ("analytics-adhoc", &[r#"{"requirements":"/Workspace/Shared/analytics/requirements.txt"}"#]),
    ("feature-store-refresh", &[r#"{"pypi":{"package":"databricks-feature-engineering==0.8.0"}}"#]),
    ("marketing-attribution", &[r#"{"cran":{"package":"ChannelAttribution"}}"#]),
    ("genai-finetune", &[r#"{"pypi":{"package":"transformers==4.46.3"}}"#, r#"{"pypi":{"package":"peft==0.13.2"}}"#]),
];

/// A library of the demo that failed: a version that was never published.
const FAILED: (&str, &str, &str) = (
    "genai-finetune",
    r#"{"pypi":{"package":"flash-attn==2.99.0"}}"#,
    "Library installation attempted on the driver node of cluster {cluster} and failed. Pip could not find a \
     version that satisfies the requirement for the library. Please check your library version and \
     dependencies. Error code: ERROR_NO_MATCHING_DISTRIBUTION, error message: org.apache.spark.SparkException: \
     ERROR: Could not find a version that satisfies the requirement flash-attn==2.99.0 (from versions: 2.6.3, \
     2.7.0.post2, 2.7.2.post1)\nERROR: No matching distribution found for flash-attn==2.99.0",
);

fn library(text: &str) -> Library {
    let value: Value = serde_json::from_str(text).unwrap_or_else(|_| json!({}));
    Library::parse(&value).unwrap_or_else(|e| panic!("seeded library {text} is invalid: {e:?}"))
}

pub(crate) fn populate(libraries: &mut Libraries, clusters: &mut Clusters, seed: Seed, at: Moment) {
    let entries: Vec<&(&str, &[&str])> = match seed {
        Seed::Empty => return,
        Seed::Test => TEST.iter().collect(),
        Seed::Demo => TEST.iter().chain(DEMO).collect(),
    };
    let runtimes = clusters::runtimes(clusters, at);
    let id_of = |name: &str| runtimes.iter().find(|(_, c)| c.name == name).map(|(id, _)| id.clone());
    for (name, libs) in entries {
        let Some(id) = id_of(name) else { continue };
        for text in libs.iter() {
            libraries.insert(&id, Installed::new(library(text), 0));
        }
    }
    if seed == Seed::Demo {
        let (name, text, message) = FAILED;
        if let Some(id) = id_of(name) {
            let mut failed = Installed::new(library(text), 0);
            failed.failure = Some(message.to_owned());
            libraries.insert(&id, failed);
        }
    }
}
