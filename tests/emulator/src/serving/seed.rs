//! The serving endpoints a fresh emulator starts with.
//!
//! `Test` (creator `demo.user@example.com` unless noted; every user may query the first three):
//!
//! | endpoint | serves | state |
//! |---|---|---|
//! | `databricks-meta-llama-3-3-70b-instruct` | `system.ai.meta_llama_v3_3_70b_instruct` (chat) | READY |
//! | `databricks-bge-large-en` | `system.ai.bge_large_en_v1_5` (embeddings, 1024 dimensions) | READY |
//! | `text-completions` | external model `gpt-3.5-turbo-instruct` (openai, completions) | READY |
//! | `churn-model` | `main.default.churn_model` version 2 (custom), served as `churn_model-2` | READY |
//! | `fraud-scoring` | `main.default.fraud_model` version 1; the update to version 2 failed | READY, UPDATE_FAILED |
//!
//! Alice may view `churn-model` but not query it; `fraud-scoring` is hidden from her.
//! `Demo` adds `taxi-fare` (`main.default.taxi_fare_regressor` version 2) and a chat endpoint that is
//! still deploying a minute after start-up.

use serde_json::{Map, Value, json};

use super::{Config, Endpoint, Entity, Serving, Task, Update, handlers::share, model::fnv};
use crate::{acl::Acls, config::Seed};

const OWNER: &str = "demo.user@example.com";
const DAY_MS: u64 = 86_400_000;

fn entity(name: &str, spec: Value, task: Task, build_error: Option<&str>, created: u64) -> Entity {
    let spec: Map<String, Value> = match spec {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let mut e = Entity {
        name: name.into(),
        spec,
        task,
        build_error: build_error.map(Into::into),
        created,
        creator: OWNER.into(),
        log: Vec::new(),
    };
    e.spec.entry("workload_size").or_insert_with(|| json!("Small"));
    e.spec.entry("scale_to_zero_enabled").or_insert_with(|| json!(true));
    e
}

fn config(entity: Entity, version: u64, start: u64) -> Config {
    let traffic = json!({"routes": [{"served_model_name": entity.name, "traffic_percentage": 100}]});
    Config { entities: vec![entity], traffic, version, start }
}

fn add(
    serving: &mut Serving,
    name: &str,
    description: &str,
    live: Option<Config>,
    pending: Option<Config>,
    failed: Option<Config>,
    created: u64,
) -> String {
    let id = format!("{:016x}{:016x}", fnv(name.as_bytes()), fnv(format!("endpoint:{name}").as_bytes()));
    let update = match (&pending, &failed) {
        (Some(_), _) => Update::InProgress,
        (None, Some(_)) => Update::Failed,
        _ => Update::NotUpdating,
    };
    serving.endpoints.insert(
        name.into(),
        Endpoint {
            name: name.into(),
            id: id.clone(),
            creator: OWNER.into(),
            created,
            updated: created,
            description: Some(description.into()),
            tags: vec![json!({"key": "team", "value": "ml-platform"})],
            config: live,
            pending,
            update,
            failed,
        },
    );
    id
}

pub(crate) fn populate(serving: &mut Serving, acls: &mut Acls, seed: Seed, now: u64) {
    seed_endpoints(serving, acls, seed, now);
    // The Permissions API answers for every endpoint, with its creator as owner.
    for endpoint in serving.endpoints.values() {
        acls.register(&super::SERVING_ENDPOINT, &endpoint.id, &endpoint.creator);
    }
}

fn seed_endpoints(serving: &mut Serving, acls: &mut Acls, seed: Seed, now: u64) {
    if seed == Seed::Empty {
        return;
    }
    let at = now.saturating_sub(30 * DAY_MS);
    let llama = entity(
        "meta_llama_v3_3_70b_instruct",
        json!({"entity_name": "system.ai.meta_llama_v3_3_70b_instruct", "entity_version": "1", "foundation_model": {"name": "meta-llama-3.3-70b-instruct", "display_name": "Meta Llama 3.3 70B Instruct"}}),
        Task::Chat,
        None,
        at,
    );
    let id = add(
        serving,
        "databricks-meta-llama-3-3-70b-instruct",
        "Pay-per-token chat model",
        Some(config(llama, 1, at)),
        None,
        None,
        at,
    );
    share(acls, &id, "CAN_QUERY");
    let bge = entity(
        "bge_large_en_v1_5",
        json!({"entity_name": "system.ai.bge_large_en_v1_5", "entity_version": "1", "foundation_model": {"name": "bge-large-en", "display_name": "BGE Large (English)"}}),
        Task::Embeddings,
        None,
        at,
    );
    let id = add(
        serving,
        "databricks-bge-large-en",
        "Pay-per-token embeddings (1024 dimensions)",
        Some(config(bge, 1, at)),
        None,
        None,
        at,
    );
    share(acls, &id, "CAN_QUERY");
    let gpt = entity(
        "gpt-3.5-turbo-instruct",
        json!({"external_model": {"name": "gpt-3.5-turbo-instruct", "provider": "openai", "task": "llm/v1/completions",
               "openai_config": {"openai_api_key": "{{secrets/llm/openai_key}}"}}}),
        Task::Completions,
        None,
        at,
    );
    let id = add(
        serving,
        "text-completions",
        "OpenAI completions through the AI gateway",
        Some(config(gpt, 1, at)),
        None,
        None,
        at,
    );
    share(acls, &id, "CAN_QUERY");
    let at = now.saturating_sub(10 * DAY_MS);
    let churn = entity(
        "churn_model-2",
        json!({"entity_name": "main.default.churn_model", "entity_version": "2"}),
        Task::Custom,
        None,
        at,
    );
    let id = add(
        serving,
        "churn-model",
        "Scores subscribers' 30-day churn risk",
        Some(config(churn, 1, at)),
        None,
        None,
        at,
    );
    share(acls, &id, "CAN_VIEW");
    let fraud1 = entity(
        "fraud_model-1",
        json!({"entity_name": "main.default.fraud_model", "entity_version": "1"}),
        Task::Custom,
        None,
        at,
    );
    let fraud2 = entity(
        "fraud_model-2",
        json!({"entity_name": "main.default.fraud_model", "entity_version": "2"}),
        Task::Custom,
        Some(
            "Model version 2 of 'main.default.fraud_model' is FAILED_REGISTRATION: its artifacts cannot be loaded. Register a new version and update the endpoint.",
        ),
        now.saturating_sub(DAY_MS),
    );
    add(
        serving,
        "fraud-scoring",
        "Card transaction fraud scores",
        Some(config(fraud1, 1, at)),
        None,
        Some(config(fraud2, 2, now.saturating_sub(DAY_MS))),
        at,
    );
    if seed != Seed::Demo {
        return;
    }
    let taxi = entity(
        "taxi_fare_regressor-2",
        json!({"entity_name": "main.default.taxi_fare_regressor", "entity_version": "2", "workload_size": "Medium"}),
        Task::Custom,
        None,
        at,
    );
    let id =
        add(serving, "taxi-fare", "Predicts taxi fares for the pricing app", Some(config(taxi, 1, at)), None, None, at);
    share(acls, &id, "CAN_QUERY");
    let pending = entity(
        "support-bot-llama",
        json!({"entity_name": "system.ai.meta_llama_v3_1_8b_instruct", "entity_version": "2", "workload_type": "GPU_SMALL"}),
        Task::Chat,
        None,
        now + 60_000,
    );
    // Its deployment started so that it goes live about a minute after start-up at the default delay.
    let mut cfg = config(pending, 1, now);
    cfg.start = now.saturating_sub(1);
    add(serving, "support-bot", "Customer support assistant (deploying)", None, Some(cfg), None, now);
}
