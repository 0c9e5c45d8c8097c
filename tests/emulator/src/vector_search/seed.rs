//! The vector search endpoints and indexes a fresh emulator starts with.
//!
//! `Test`: endpoint `vs-endpoint` (STANDARD, ONLINE; every user may use it) hosting
//! `main.default.trips_index`, a TRIGGERED Delta Sync index over `main.default.trips` (primary key
//! `trip_id`, embeddings of `payment_type` from `databricks-bge-large-en`). It syncs on first read.
//!
//! `Demo` adds `samples.nyctaxi.trips_index` over `samples.nyctaxi.trips` on the same endpoint.

use super::{Endpoint, Index, VS_ENDPOINT, VectorSearch};
use crate::{
    acl::{Acls, Grantee},
    config::Seed,
};

const OWNER: &str = "demo.user@example.com";

fn index(name: &str, source: &str, created: u64) -> Index {
    Index {
        name: name.into(),
        endpoint: "vs-endpoint".into(),
        primary_key: "trip_id".into(),
        source_table: source.into(),
        text_column: "payment_type".into(),
        model_endpoint: "databricks-bge-large-en".into(),
        pipeline_type: "TRIGGERED".into(),
        columns_to_sync: None,
        creator: OWNER.into(),
        sync_due: Some(created),
        synced_at: None,
        rows: Vec::new(),
        sync_error: None,
    }
}

pub(crate) fn populate(vs: &mut VectorSearch, acls: &mut Acls, seed: Seed, now: u64) {
    if seed == Seed::Empty {
        return;
    }
    let created = now.saturating_sub(7 * 86_400_000);
    let endpoint = Endpoint {
        name: "vs-endpoint".into(),
        id: crate::genie::genie_id("vs-endpoint:vs-endpoint"),
        endpoint_type: "STANDARD".into(),
        creator: OWNER.into(),
        created,
    };
    acls.grant(&VS_ENDPOINT, &endpoint.id, Grantee::Group("users".into()), "CAN_USE");
    vs.endpoints.insert(endpoint.name.clone(), endpoint);
    vs.indexes
        .insert("main.default.trips_index".into(), index("main.default.trips_index", "main.default.trips", created));
    if seed == Seed::Demo {
        vs.indexes.insert(
            "samples.nyctaxi.trips_index".into(),
            index("samples.nyctaxi.trips_index", "samples.nyctaxi.trips", created),
        );
    }
}
