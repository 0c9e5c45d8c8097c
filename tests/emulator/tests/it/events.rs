use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::util::{Api, SHARED};

/// Follows `next_page` from `first` to the end, as the SDK does; returns every event and the page count.
async fn all_pages(api: &Api, first: Value) -> (Vec<Value>, usize) {
    let mut events = Vec::new();
    let mut body = first;
    for pages in 1..=50 {
        let (status, page) = api.post("/api/2.1/clusters/events", body).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        events.extend(page["events"].as_array().cloned().unwrap_or_default());
        match page.get("next_page") {
            Some(next) => body = next.clone(),
            None => return (events, pages),
        }
    }
    panic!("events pagination does not end");
}

#[tokio::test]
async fn next_page_walks_every_event_newest_first() {
    let api = Api::start().await;
    let id = api.create("chatty").await;
    for _ in 0..4 {
        api.post("/api/2.1/clusters/pin", json!({"cluster_id": id})).await;
        api.post("/api/2.1/clusters/unpin", json!({"cluster_id": id})).await;
    }
    let total = api.post("/api/2.1/clusters/events", json!({"cluster_id": id})).await.1["total_count"].as_u64();
    assert_eq!(total, Some(10), "CREATING, RUNNING and four pin/unpin pairs");

    let (events, pages) = all_pages(&api, json!({"cluster_id": id, "limit": 3})).await;
    assert_eq!((events.len(), pages), (10, 4));
    let stamps: Vec<u64> = events.iter().filter_map(|e| e["timestamp"].as_u64()).collect();
    assert!(stamps.windows(2).all(|w| w[0] >= w[1]), "newest first: {stamps:?}");
    assert!(events.iter().all(|e| e["cluster_id"] == id.as_str() && e["details"].is_object()));
    assert_eq!(events.last().map(|e| e["type"].clone()), Some(json!("CREATING")));
}

#[tokio::test]
async fn events_filter_by_type() {
    let api = Api::start().await;
    let (events, _) = all_pages(&api, json!({"cluster_id": SHARED, "event_types": ["PINNED"]})).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["details"]["user"], "demo.user@example.com");
}

#[tokio::test]
async fn termination_is_logged_with_its_reason() {
    let api = Api::start().await;
    let id = api.create("doomed").await;
    api.post("/api/2.1/clusters/delete", json!({"cluster_id": id})).await;
    let (events, _) = all_pages(&api, json!({"cluster_id": id, "event_types": ["TERMINATING"]})).await;
    assert_eq!(events[0]["details"]["reason"]["code"], "USER_REQUEST");
}
