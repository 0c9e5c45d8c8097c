//! Helpers that make each test a few lines: a started emulator with a client, and JSON calls
//! that return `(status, body)`.

use std::time::Duration;

use databricks_emulator::{DEMO_TOKEN, Emulator, EmulatorConfig, Seed};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Every request gives up after this, so a hang fails the test instead of stalling the suite.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

pub const SHARED: &str = "0101-000000-shared01";
pub const ETL_NIGHTLY: &str = "0101-000000-etlnig01";
pub const DEMO: &str = DEMO_TOKEN;

/// An emulator and a client authenticated with the demo token.
pub struct Api {
    pub emu: Emulator,
    pub http: reqwest::Client,
}

pub fn client() -> reqwest::Client {
    // reqwest refuses to build without a process-wide provider, even for plain http; a second
    // install (from another test) fails harmlessly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().expect("an HTTP client")
}

impl Api {
    /// The `Test` seed with instant transitions.
    pub async fn start() -> Api {
        Self::with(EmulatorConfig::default()).await
    }

    pub async fn seeded(seed: Seed) -> Api {
        Self::with(EmulatorConfig { seed, ..EmulatorConfig::default() }).await
    }

    pub async fn with(config: EmulatorConfig) -> Api {
        let emu = Emulator::start(config).await.expect("emulator starts");
        Api { emu, http: client() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.url())
    }

    /// `GET path?query` with the demo token.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
        read(self.http.get(self.url(path)).query(query).bearer_auth(DEMO_TOKEN).send().await).await
    }

    /// `POST path` with a JSON body and the demo token.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        read(self.http.post(self.url(path)).json(&body).bearer_auth(DEMO_TOKEN).send().await).await
    }

    /// Creates a small cluster through 2.1 and returns its id.
    pub async fn create(&self, name: &str) -> String {
        let (status, body) = self
            .post(
                "/api/2.1/clusters/create",
                json!({"cluster_name": name, "spark_version": "15.4.x-scala2.12",
                       "node_type_id": "i3.xlarge", "num_workers": 1}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["cluster_id"].as_str().expect("create returns cluster_id").to_owned()
    }

    /// `clusters/get` through 2.1, expecting success.
    pub async fn cluster(&self, id: &str) -> Value {
        let (status, body) = self.get("/api/2.1/clusters/get", &[("cluster_id", id)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

/// The status and JSON body of a response.
pub async fn read(response: reqwest::Result<reqwest::Response>) -> (StatusCode, Value) {
    let response = response.expect("the request gets a response");
    let status = response.status();
    let text = response.text().await.expect("a readable body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("a JSON body, got {text:?}"));
    (status, body)
}

/// Asserts a Databricks error body.
#[track_caller]
pub fn assert_error(actual: &(StatusCode, Value), status: StatusCode, code: &str, message: &str) {
    assert_eq!(actual.0, status, "{}", actual.1);
    assert_eq!(actual.1, json!({"error_code": code, "message": message}));
}

/// The `cluster_id`s of a list response, in order.
pub fn ids(list: &Value) -> Vec<String> {
    list["clusters"]
        .as_array()
        .map(|clusters| clusters.iter().filter_map(|c| c["cluster_id"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Whether a JSON value contains a `null` anywhere.
pub fn has_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().any(has_null),
        Value::Object(map) => map.values().any(has_null),
        _ => false,
    }
}
