//! A hostile plugin tries every way out; each is refused with a clear error and the host keeps
//! serving the well-behaved plugin next to it.

use std::time::Duration;

use databricks_emulator::DEMO_TOKEN;
use rmcp::model::{CallToolRequestParams, ClientRequest, Request};
use rmcp::service::PeerRequestOptions;
use serde_json::json;

use crate::support::{Harness, Setup, within};

async fn sandboxed() -> Harness {
    Setup::new(&["clusters", "fixture-escape"])
        .config("[plugins.escape.limits]\ndeadline_seconds = 1\nmemory_mib = 32")
        .start()
        .await
}

/// The host still answers the clusters plugin.
async fn still_serving(h: &Harness) {
    let (_, data) = h.ok("list_clusters", json!({"limit": 1})).await;
    assert_eq!(data["clusters"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn cannot_read_host_files_environment_or_network() {
    let h = sandboxed().await;
    let text = h.err("read_file", json!({"target": "/etc/passwd"})).await;
    assert!(text.contains("reading /etc/passwd failed"), "{text}");
    assert!(!text.contains("root:"));

    let text = h.err("read_env", json!({})).await;
    assert!(text.contains("no environment variables"), "{text}");

    // Even the emulator, which is listening on loopback, is out of reach except through the host.
    let text = h.err("open_socket", json!({"target": h.emulator.addr().to_string()})).await;
    assert!(text.contains("failed"), "{text}");
    still_serving(&h).await;
}

#[tokio::test]
async fn a_runaway_loop_is_stopped_at_the_deadline() {
    let h = sandboxed().await;
    let started = std::time::Instant::now();
    let text = h.err("spin", json!({})).await;
    assert_eq!(text, "plugin `escape` exceeded its deadline of 1 s and was stopped");
    assert!(started.elapsed() < Duration::from_secs(10));
    still_serving(&h).await;
}

#[tokio::test]
async fn allocating_past_the_memory_limit_is_stopped() {
    let h = sandboxed().await;
    let text = h.err("allocate", json!({})).await;
    assert_eq!(text, "plugin `escape` exceeded its memory limit of 32 MiB and was stopped");
    still_serving(&h).await;
}

#[tokio::test]
async fn requests_outside_the_grants_or_with_own_credentials_are_refused() {
    let h = sandboxed().await;
    let refused = [
        ("/api/2.0/secrets/list", "GET /api/2.0/secrets/list is outside the grants of plugin `escape`"),
        ("/api/2.0/token/create", "reaches personal access tokens, which no plugin may use"),
        ("/api/2.0/secrets/get", "reaches secret values, which no plugin may use"),
        ("//evil.example.com/api/2.1/clusters/get", "never a host"),
        ("/api/2.1/clusters/../../admin", "'..'"),
        ("/api/2.1/clusters/get;..;/..;/token/list", "contains ';'"),
        ("/api/2.1/clusters/%2e%2e/secrets/list", "encoded separator, dot"),
        ("/api/2.1/clusters/get?x=1", "contains '?'"),
    ];
    for (path, expected) in refused {
        let text = h.err("outside_grants", json!({ "target": path })).await;
        assert!(text.contains(expected), "{path}: {text}");
    }
    for header in ["Authorization", "Host", "X-Databricks-Azure-SP-Management-Token", "X-Databricks-Org-Id"] {
        let text = h.err("own_header", json!({ "target": header })).await;
        assert!(text.contains(&format!("header `{header}` may not be set by a plugin")), "{text}");
    }

    let sent = h.emulator.requests();
    assert!(
        sent.iter().all(|r| !r.path.contains("secrets") && !r.path.contains("token") && !r.path.contains("admin")),
        "no refused request left the host: {sent:?}"
    );
    assert!(sent.iter().all(|r| r.authorization.as_deref() == Some(&format!("Bearer {DEMO_TOKEN}")[..])));
    still_serving(&h).await;
}

#[tokio::test]
async fn a_chatty_plugin_is_capped_not_crashed() {
    let h = sandboxed().await;
    let (text, _) = h.ok("chatty", json!({})).await;
    assert_eq!(text, "still alive");
    let log = h.log();
    let plugin_lines = log.lines().filter(|l| l.contains("plugin=escape") && l.contains("line ")).count();
    assert!((900..=1000).contains(&plugin_lines), "log lines are capped per call: {plugin_lines}");
    assert!(log.contains("dropping the rest"), "the cap is logged once");
    assert!(!log.lines().any(|l| l.starts_with("2099-01-01")), "a plugin cannot forge log lines");
    let progress = h.progress.lock().unwrap().len();
    assert!(progress <= 1000, "progress reports are capped per call: {progress}");
    still_serving(&h).await;
}

#[tokio::test]
async fn output_that_breaks_the_schema_and_panics_are_tool_errors() {
    let h = sandboxed().await;
    let text = h.err("bad_output", json!({})).await;
    assert!(
        text.starts_with("plugin `escape` returned output that breaks the output schema of `bad_output`"),
        "{text}"
    );
    assert!(text.contains("count"), "{text}");
    let text = h.err("array_output", json!({})).await;
    assert!(text.contains("structured output must be a JSON object"), "{text}");
    let text = h.err("panic", json!({})).await;
    assert!(text.contains("panicked at") && text.contains("on purpose"), "{text}");
    still_serving(&h).await;
    let log = h.log();
    assert!(
        log.lines().any(|l| l.contains("plugin=escape") && l.contains("stream=stderr") && l.contains("on purpose")),
        "the guest's stderr is logged, tagged with the plugin:\n{log}"
    );
}

#[tokio::test]
async fn cancelling_a_call_stops_it_and_sends_its_compensation() {
    let h = Harness::start(&["clusters", "fixture-escape"]).await;
    let (_, listed) = h.ok("list_clusters", json!({"states": ["RUNNING"], "limit": 1})).await;
    let id = listed["clusters"][0]["cluster_id"].as_str().unwrap().to_string();

    let params = CallToolRequestParams::new("hang_with_compensation")
        .with_arguments(json!({"target": id}).as_object().unwrap().clone());
    let handle = h
        .client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(params)),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    // Let the call start and register its compensation.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(h.requests_to("POST", "/api/2.1/clusters/delete").is_empty(), "nothing sent while the call runs");
    handle.cancel(Some("test".into())).await.unwrap();

    within(Duration::from_secs(10), "the compensation request", async {
        while h.requests_to("POST", "/api/2.1/clusters/delete").is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let sent = h.requests_to("POST", "/api/2.1/clusters/delete");
    assert!(sent[0].body.contains(&id), "{}", sent[0].body);
    within(Duration::from_secs(10), "the cancelled call to end", async {
        while !h.log().lines().any(|l| l.contains("tool call") && l.contains("tool=hang_with_compensation")) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    still_serving(&h).await;
    assert!(!h.log().contains(DEMO_TOKEN), "the token is never logged");
}

/// Every call runs in a fresh instance, and a slot's memory is put back to the module's image
/// before another call uses it (in place, when the kernel lists the written pages): nothing one
/// call wrote (on its heap, stack or in a static) is readable by the next, e.g. another user's.
#[tokio::test]
async fn a_call_never_sees_what_an_earlier_call_left_in_memory() {
    let h = sandboxed().await;
    let token = "k3p7-memory-probe-x9";
    let found = |text: &str| -> usize {
        let count = text.strip_prefix("found ").and_then(|t| t.split(' ').next());
        count.and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("unexpected probe answer: {text}"))
    };
    // The probe finds what its own call wrote: it would see what another left.
    let (planted, _) = h.ok("memory_probe", json!({"target": format!("plant:{token}")})).await;
    assert!(found(&planted) > 4096, "{planted}");
    for round in 0..3 {
        let finds = (0..8).map(|_| h.ok("memory_probe", json!({"target": format!("find:{token}")})));
        for (seen, _) in futures::future::join_all(finds).await {
            assert_eq!(seen, "found 0 copies; static holds \"\"", "round {round}");
        }
        // Plant again from several calls at once, so that many slots hold the marker.
        let plants = (0..8).map(|_| h.ok("memory_probe", json!({"target": format!("plant:{token}")})));
        futures::future::join_all(plants).await;
    }
    still_serving(&h).await;
}
