use std::collections::HashSet;

use databricks_emulator::Seed;
use reqwest::StatusCode;
use serde_json::json;

use crate::util::{Api, ETL_NIGHTLY, SHARED, ids};

/// The `Test` seed's five clusters plus `extra` created ones.
async fn with_clusters(extra: usize) -> Api {
    let api = Api::start().await;
    for i in 0..extra {
        api.create(&format!("extra-{i:02}")).await;
    }
    api
}

#[tokio::test]
async fn pages_cover_every_cluster_once_and_the_last_has_no_token() {
    let api = with_clusters(20).await;
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let (status, page) = api.get("/api/2.1/clusters/list", &[("page_size", "10"), ("page_token", &token)]).await;
        assert_eq!(status, StatusCode::OK);
        pages += 1;
        seen.extend(ids(&page));
        match page.get("next_page_token") {
            Some(next) => token = next.as_str().expect("a string token").to_owned(),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 25);
}

#[tokio::test]
async fn the_default_page_is_twenty() {
    let api = with_clusters(20).await;
    let page = api.get("/api/2.1/clusters/list", &[]).await.1;
    assert_eq!(ids(&page).len(), 20);
    assert!(page["next_page_token"].is_string());
}

#[tokio::test]
async fn filters_narrow_the_list() {
    let api = Api::start().await;
    let list = |query: Vec<(&'static str, &'static str)>| {
        let api = &api;
        async move { ids(&api.get("/api/2.1/clusters/list", &query).await.1) }
    };
    assert_eq!(list(vec![("filter_by.cluster_states", "TERMINATED")]).await.len(), 2);
    assert_eq!(
        list(vec![("filter_by.cluster_states", "TERMINATED"), ("filter_by.cluster_states", "RUNNING")]).await.len(),
        5
    );
    assert_eq!(list(vec![("filter_by.is_pinned", "true")]).await, vec![SHARED]);
    let api_made = list(vec![("filter_by.cluster_sources", "API")]).await;
    assert!(api_made.contains(&ETL_NIGHTLY.to_owned()) && !api_made.contains(&SHARED.to_owned()));

    let bad = api.get("/api/2.1/clusters/list", &[("filter_by.cluster_states", "SLEEPING")]).await;
    assert_eq!(bad.1["error_code"], "INVALID_PARAMETER_VALUE");
}

#[tokio::test]
async fn pins_show_in_the_pinned_filter() {
    let api = Api::start().await;
    api.post("/api/2.1/clusters/pin", json!({"cluster_id": ETL_NIGHTLY})).await;
    api.post("/api/2.1/clusters/unpin", json!({"cluster_id": SHARED})).await;
    let pinned = ids(&api.get("/api/2.1/clusters/list", &[("filter_by.is_pinned", "true")]).await.1);
    assert_eq!(pinned, vec![ETL_NIGHTLY]);
}

#[tokio::test]
async fn sorting_by_name_in_either_direction() {
    let api = Api::start().await;
    let names = |direction: &'static str| {
        let api = &api;
        async move {
            let query = [("sort_by.field", "CLUSTER_NAME"), ("sort_by.direction", direction)];
            let page = api.get("/api/2.1/clusters/list", &query).await.1;
            page["clusters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["cluster_name"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        }
    };
    let ascending = names("ASC").await;
    assert_eq!(ascending, ["adhoc-analysis", "etl-nightly", "ml-gpu", "reporting", "shared-autoscaling"]);
    let mut descending = names("DESC").await;
    descending.reverse();
    assert_eq!(descending, ascending);
}

#[tokio::test]
async fn version_two_zero_lists_everything_at_once() {
    let api = with_clusters(20).await;
    let (status, list) = api.get("/api/2.0/clusters/list", &[("page_size", "5")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&list).len(), 25);
    assert!(list.get("next_page_token").is_none());
}

#[tokio::test]
async fn an_empty_workspace_lists_as_an_empty_object() {
    let api = Api::seeded(Seed::Empty).await;
    assert_eq!(api.get("/api/2.1/clusters/list", &[]).await.1, json!({}));
    assert_eq!(api.get("/api/2.0/clusters/list", &[]).await.1, json!({}));
}

#[tokio::test]
async fn the_demo_seed_lists_dozens_of_clusters() {
    let api = Api::seeded(Seed::Demo).await;
    let list = api.get("/api/2.0/clusters/list", &[]).await.1;
    let clusters = list["clusters"].as_array().cloned().unwrap_or_default();
    assert!((30..=40).contains(&clusters.len()), "{}", clusters.len());
    let states: HashSet<&str> = clusters.iter().filter_map(|c| c["state"].as_str()).collect();
    assert!(states.contains("RUNNING") && states.contains("TERMINATED"));
    assert!(clusters.iter().any(|c| c["cluster_source"] == "JOB"));
}
