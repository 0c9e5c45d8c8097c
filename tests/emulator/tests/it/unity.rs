//! Unity Catalog over HTTP: lists and pages, gets by full name, create/delete, errors, and the
//! link to SQL (tables made with SQL appear here and vice versa).

use databricks_emulator::{ALICE_TOKEN, DEMO_TOKEN, Seed};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::util::{Api, assert_error, has_null, read};

const UC: &str = "/api/2.1/unity-catalog";

async fn delete(api: &Api, path: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
    read(api.http.delete(api.url(path)).query(query).bearer_auth(DEMO_TOKEN).send().await).await
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["full_name"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_test_seed_has_main_default_trips() {
    let api = Api::start().await;
    let (status, catalogs) = api.get(&format!("{UC}/catalogs"), &[("max_results", "0")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(names(&catalogs, "catalogs"), vec!["main"]);
    assert!(catalogs.get("next_page_token").is_none());

    let (_, schemas) = api.get(&format!("{UC}/schemas"), &[("catalog_name", "main")]).await;
    assert_eq!(names(&schemas, "schemas"), vec!["main.default", "main.information_schema"]);

    let (status, table) = api.get(&format!("{UC}/tables/main.default.trips"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{table}");
    assert!(!has_null(&table), "{table}");
    assert_eq!(table["table_type"], "MANAGED");
    assert_eq!(table["data_source_format"], "DELTA");
    assert_eq!(table["owner"], "demo.user@example.com");
    assert_eq!(table["comment"], "Taxi trips");
    assert!(table["storage_location"].as_str().is_some_and(|s| s.starts_with("s3://")));
    assert!(table["created_at"].as_u64() > Some(0));
    let fare = &table["columns"][5];
    assert_eq!(
        (fare["name"].clone(), fare["type_text"].clone(), fare["type_name"].clone(), fare["position"].clone()),
        (json!("fare_amount"), json!("decimal(10,2)"), json!("DECIMAL"), json!(5))
    );
    assert_eq!(table["columns"][0]["nullable"], false);
    assert_eq!(table["columns"][0]["type_name"], "LONG");
}

#[tokio::test]
async fn the_files_api_volume_is_a_unity_catalog_volume() {
    // `/Volumes/main/default/landing` holds the Files API's seed files, so UC must know the volume.
    let api = Api::start().await;
    let (status, volumes) =
        api.get(&format!("{UC}/volumes"), &[("catalog_name", "main"), ("schema_name", "default")]).await;
    assert_eq!(status, StatusCode::OK, "{volumes}");
    assert_eq!(names(&volumes, "volumes"), vec!["main.default.landing"]);
    let (status, volume) = api.get(&format!("{UC}/volumes/main.default.landing"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{volume}");
    assert_eq!(volume["volume_type"], "MANAGED");
    assert!(!has_null(&volume), "{volume}");
}

#[tokio::test]
async fn missing_objects_use_the_unity_catalog_codes() {
    let api = Api::start().await;
    let missing_catalog = api.get(&format!("{UC}/catalogs/nope"), &[]).await;
    assert_error(&missing_catalog, StatusCode::NOT_FOUND, "CATALOG_DOES_NOT_EXIST", "Catalog 'nope' does not exist.");
    let missing_schema = api.get(&format!("{UC}/tables"), &[("catalog_name", "main"), ("schema_name", "x")]).await;
    assert_error(&missing_schema, StatusCode::NOT_FOUND, "SCHEMA_DOES_NOT_EXIST", "Schema 'main.x' does not exist.");
    let missing_table = api.get(&format!("{UC}/tables/main.default.nope"), &[]).await;
    assert_error(
        &missing_table,
        StatusCode::NOT_FOUND,
        "TABLE_DOES_NOT_EXIST",
        "Table 'main.default.nope' does not exist.",
    );
    let (status, exists) = api.get(&format!("{UC}/tables/main.default.nope/exists"), &[]).await;
    assert_eq!((status, exists), (StatusCode::OK, json!({"table_exists": false})));
    let (_, exists) = api.get(&format!("{UC}/tables/main.default.trips/exists"), &[]).await;
    assert_eq!(exists, json!({"table_exists": true}));
    let no_catalog_name = api.get(&format!("{UC}/schemas"), &[]).await;
    assert_error(
        &no_catalog_name,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "Missing required field: catalog_name",
    );
    let (status, _) = api.get(&format!("{UC}/catalogs"), &[("max_results", "-1")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn lists_page_with_max_results_and_zero_means_the_default() {
    let api = Api::seeded(Seed::Demo).await;
    let (_, all) = api.get(&format!("{UC}/catalogs"), &[("max_results", "0")]).await;
    assert_eq!(names(&all, "catalogs"), vec!["finance", "main", "samples"]);

    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let mut query = vec![("catalog_name", "samples"), ("schema_name", "tpch"), ("max_results", "3")];
        if !token.is_empty() {
            query.push(("page_token", token.as_str()));
        }
        let (status, page) = api.get(&format!("{UC}/tables"), &query).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(names(&page, "tables"));
        match page.get("next_page_token").and_then(Value::as_str) {
            Some(next) => token = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4);
    assert!(seen.contains(&"samples.tpch.orders".to_owned()));

    let (_, summaries) = api
        .get(&format!("{UC}/table-summaries"), &[("catalog_name", "finance"), ("table_name_pattern", "%entries")])
        .await;
    assert_eq!(summaries["tables"], json!([{"full_name": "finance.gl.journal_entries", "table_type": "MANAGED"}]));

    let (_, view) = api.get(&format!("{UC}/tables/finance.reporting.monthly_revenue"), &[]).await;
    assert_eq!(view["table_type"], "VIEW");
    assert!(view["view_definition"].as_str().is_some_and(|d| d.contains("journal_entries")));
    assert!(view.get("data_source_format").is_none());

    let (_, volumes) = api.get(&format!("{UC}/volumes"), &[("catalog_name", "finance"), ("schema_name", "gl")]).await;
    assert_eq!(names(&volumes, "volumes"), vec!["finance.gl.raw_exports"]);
    let (status, function) = api.get(&format!("{UC}/functions/finance.gl.fiscal_quarter"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{function}");
    assert_eq!(function["input_params"]["parameters"][0]["type_name"], "DATE");
}

#[tokio::test]
async fn catalogs_schemas_and_volumes_can_be_created_and_deleted() {
    let api = Api::start().await;
    let (status, catalog) = api.post(&format!("{UC}/catalogs"), json!({"name": "Sandbox", "comment": "play"})).await;
    assert_eq!(status, StatusCode::OK, "{catalog}");
    assert_eq!((catalog["name"].clone(), catalog["owner"].clone()), (json!("sandbox"), json!("demo.user@example.com")));
    let dup = api.post(&format!("{UC}/catalogs"), json!({"name": "sandbox"})).await;
    assert_error(&dup, StatusCode::CONFLICT, "CATALOG_ALREADY_EXISTS", "Catalog 'sandbox' already exists");

    let (status, schema) = api.post(&format!("{UC}/schemas"), json!({"catalog_name": "sandbox", "name": "raw"})).await;
    assert_eq!(status, StatusCode::OK, "{schema}");
    assert_eq!(schema["full_name"], "sandbox.raw");
    let (status, volume) = api
        .post(
            &format!("{UC}/volumes"),
            json!({"catalog_name": "sandbox", "schema_name": "raw", "name": "files", "volume_type": "MANAGED"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{volume}");
    assert_eq!(volume["full_name"], "sandbox.raw.files");
    let (status, _) = api.get(&format!("{UC}/volumes/sandbox.raw.files"), &[]).await;
    assert_eq!(status, StatusCode::OK);

    let not_empty = delete(&api, &format!("{UC}/schemas/sandbox.raw"), &[]).await;
    assert_eq!(not_empty.1["error_code"], "SCHEMA_NOT_EMPTY");
    let (status, _) = delete(&api, &format!("{UC}/volumes/sandbox.raw.files"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = delete(&api, &format!("{UC}/schemas/sandbox.raw"), &[]).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    let (status, _) = delete(&api, &format!("{UC}/catalogs/sandbox"), &[("force", "true")]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api.get(&format!("{UC}/catalogs/sandbox"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_table_deleted_through_the_api_is_gone_from_sql() {
    let api = Api::start().await;
    let (status, _) = delete(&api, &format!("{UC}/tables/main.default.trips"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = api.get(&format!("{UC}/tables"), &[("catalog_name", "main"), ("schema_name", "default")]).await;
    assert_eq!(list, json!({}));
}

#[tokio::test]
async fn owners_and_comments_can_be_changed() {
    let api = Api::start().await;
    let patch = |path: String, body: Value| {
        let request = api.http.patch(api.url(&path)).json(&body).bearer_auth(DEMO_TOKEN);
        async move { read(request.send().await).await }
    };
    let (status, catalog) =
        patch(format!("{UC}/catalogs/main"), json!({"comment": "renamed?", "owner": "admins"})).await;
    assert_eq!(status, StatusCode::OK, "{catalog}");
    assert_eq!((catalog["comment"].clone(), catalog["owner"].clone()), (json!("renamed?"), json!("admins")));
    let (status, body) = patch(format!("{UC}/tables/main.default.trips"), json!({"owner": "etl-bot"})).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    let (_, table) = api.get(&format!("{UC}/tables/main.default.trips"), &[]).await;
    assert_eq!(table["owner"], "etl-bot");
    let (status, _) = patch(format!("{UC}/schemas/main.default"), json!({"new_name": "other"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn patch_as(api: &Api, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    read(api.http.patch(api.url(path)).json(&body).bearer_auth(token).send().await).await
}

#[tokio::test]
async fn grants_are_read_changed_and_inherited() {
    let api = Api::start().await;
    let (status, grants) = api.get(&format!("{UC}/permissions/table/main.default.trips"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{grants}");
    assert_eq!(grants, json!({"privilege_assignments": [{"principal": "data-engineers", "privileges": ["SELECT"]}]}));

    let change = json!({"changes": [
        {"principal": "bob.smith@example.com", "add": ["MODIFY", "SELECT"]},
        {"principal": "data-engineers", "remove": ["SELECT"]},
    ]});
    let (status, after) =
        patch_as(&api, DEMO_TOKEN, &format!("{UC}/permissions/TABLE/main.default.trips"), change).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(
        after,
        json!({"privilege_assignments": [{"principal": "bob.smith@example.com", "privileges": ["MODIFY", "SELECT"]}]})
    );

    let (_, effective) = api
        .get(&format!("{UC}/effective-permissions/table/main.default.trips"), &[("principal", "data-engineers")])
        .await;
    // USE_CATALOG and USE_SCHEMA do not apply to a table; nothing else is granted to the group now.
    assert_eq!(effective, json!({}));
    patch_as(
        &api,
        DEMO_TOKEN,
        &format!("{UC}/permissions/catalog/main"),
        json!({"changes": [{"principal": "data-engineers", "add": ["SELECT"]}]}),
    )
    .await;
    let (_, effective) = api.get(&format!("{UC}/effective-permissions/table/main.default.trips"), &[]).await;
    let assignments = effective["privilege_assignments"].as_array().unwrap();
    let group = assignments.iter().find(|a| a["principal"] == "data-engineers").unwrap();
    assert_eq!(
        group["privileges"],
        json!([{"privilege": "SELECT", "inherited_from_type": "CATALOG", "inherited_from_name": "main"}])
    );

    let bad = patch_as(
        &api,
        DEMO_TOKEN,
        &format!("{UC}/permissions/table/main.default.trips"),
        json!({"changes": [{"principal": "nobody@example.com", "add": ["SELECT"]}]}),
    )
    .await;
    assert_error(
        &bad,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "Could not find principal with name nobody@example.com.",
    );
    let bad = patch_as(
        &api,
        DEMO_TOKEN,
        &format!("{UC}/permissions/volume/main.default.landing"),
        json!({"changes": [{"principal": "users", "add": ["SELECT"]}]}),
    )
    .await;
    assert_eq!(bad.0, StatusCode::BAD_REQUEST, "{}", bad.1);
    let (status, _) = api.get(&format!("{UC}/permissions/widget/main"), &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = api.get(&format!("{UC}/permissions/table/main.default.nope"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_user_sees_and_changes_only_what_her_privileges_allow() {
    let api = Api::start().await;
    let get = |path: String| {
        let request = api.http.get(api.url(&path)).bearer_auth(ALICE_TOKEN);
        async move { read(request.send().await).await }
    };
    // Through data-engineers she may use main and main.default and read the trips table...
    let (status, catalogs) = get(format!("{UC}/catalogs")).await;
    assert_eq!((status, names(&catalogs, "catalogs")), (StatusCode::OK, vec!["main".to_owned()]));
    let (_, schemas) = get(format!("{UC}/schemas?catalog_name=main")).await;
    assert_eq!(names(&schemas, "schemas"), vec!["main.default"]);
    let (status, _) = get(format!("{UC}/tables/main.default.trips")).await;
    assert_eq!(status, StatusCode::OK);
    // ...but not the landing volume, nor change anything she does not own.
    let (_, volumes) = get(format!("{UC}/volumes?catalog_name=main&schema_name=default")).await;
    assert_eq!(volumes, json!({}));
    let denied = get(format!("{UC}/volumes/main.default.landing")).await;
    assert_error(
        &denied,
        StatusCode::FORBIDDEN,
        "PERMISSION_DENIED",
        "User does not have READ VOLUME on Volume 'main.default.landing'.",
    );
    let denied = read(
        api.http.delete(api.url(&format!("{UC}/tables/main.default.trips"))).bearer_auth(ALICE_TOKEN).send().await,
    )
    .await;
    assert_eq!(denied.0, StatusCode::FORBIDDEN, "{}", denied.1);
    let denied = patch_as(
        &api,
        ALICE_TOKEN,
        &format!("{UC}/permissions/table/main.default.trips"),
        json!({"changes": [{"principal": "users", "add": ["SELECT"]}]}),
    )
    .await;
    assert_eq!(denied.0, StatusCode::FORBIDDEN, "{}", denied.1);
    let denied = read(
        api.http
            .post(api.url(&format!("{UC}/catalogs")))
            .json(&json!({"name": "mine"}))
            .bearer_auth(ALICE_TOKEN)
            .send()
            .await,
    )
    .await;
    assert_eq!(denied.0, StatusCode::FORBIDDEN, "{}", denied.1);
    let denied = read(
        api.http
            .post(api.url(&format!("{UC}/schemas")))
            .json(&json!({"name": "mine", "catalog_name": "main"}))
            .bearer_auth(ALICE_TOKEN)
            .send()
            .await,
    )
    .await;
    assert_error(
        &denied,
        StatusCode::FORBIDDEN,
        "PERMISSION_DENIED",
        "User does not have CREATE SCHEMA on Catalog 'main'.",
    );

    // Once granted CREATE_SCHEMA she may create a schema, which she then owns.
    patch_as(
        &api,
        DEMO_TOKEN,
        &format!("{UC}/permissions/catalog/main"),
        json!({"changes": [{"principal": "alice.nguyen@example.com", "add": ["CREATE_SCHEMA"]}]}),
    )
    .await;
    let (status, schema) = read(
        api.http
            .post(api.url(&format!("{UC}/schemas")))
            .json(&json!({"name": "mine", "catalog_name": "main"}))
            .bearer_auth(ALICE_TOKEN)
            .send()
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{schema}");
    assert_eq!(schema["owner"], "alice.nguyen@example.com");
    let (status, _) = get(format!("{UC}/schemas/main.mine")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn lineage_comes_from_seeds_and_from_ctas() {
    let api = Api::start().await;
    let lineage = |table: &str, entities: bool| {
        let query = [("table_name", table.to_owned()), ("include_entity_lineage", entities.to_string())];
        let request =
            api.http.get(api.url("/api/2.0/lineage-tracking/table-lineage")).query(&query).bearer_auth(DEMO_TOKEN);
        async move { read(request.send().await).await }
    };
    let (status, trips) = lineage("main.default.trips", true).await;
    assert_eq!(status, StatusCode::OK, "{trips}");
    let downstreams = trips["downstreams"].as_array().unwrap();
    assert_eq!(downstreams.len(), 1, "one entity-only entry: {trips}");
    assert_eq!(downstreams[0]["notebookInfos"][0]["notebook_id"], json!(1_000_000_000_000_006_i64));
    assert_eq!(downstreams[0]["jobInfos"][0]["job_id"], 101);
    let (_, without) = lineage("main.default.trips", false).await;
    assert_eq!(without, json!({}), "entity-only entries need include_entity_lineage");

    let (status, result) = api
        .post(
            "/api/2.0/sql/statements",
            json!({"statement": "CREATE TABLE main.default.card_trips AS SELECT trip_id FROM trips WHERE payment_type = 'card'",
                   "warehouse_id": "5a1f0c0ffee00001", "catalog": "main", "schema": "default", "wait_timeout": "10s"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["status"]["state"], "SUCCEEDED", "{result}");
    let (_, trips) = lineage("main.default.trips", false).await;
    let table = &trips["downstreams"][0]["tableInfo"];
    assert_eq!(
        (table["name"].clone(), table["catalog_name"].clone(), table["table_type"].clone()),
        (json!("card_trips"), json!("main"), json!("TABLE"))
    );
    assert!(table["lineage_timestamp"].as_str().is_some_and(|t| t.len() == 21), "{table}");
    let (_, card) = lineage("main.default.card_trips", true).await;
    assert_eq!(card["upstreams"][0]["tableInfo"]["name"], "trips", "{card}");
    assert!(card.get("downstreams").is_none());

    let (status, _) = lineage("main.default.nope", false).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, missing) = api.get("/api/2.0/lineage-tracking/table-lineage", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{missing}");
}

#[tokio::test]
async fn demo_lineage_follows_views_and_pipelines() {
    let api = Api::seeded(Seed::Demo).await;
    let (_, revenue) = api
        .get("/api/2.0/lineage-tracking/table-lineage", &[("table_name", "finance.reporting.monthly_revenue")])
        .await;
    let mut upstream: Vec<&str> =
        revenue["upstreams"].as_array().unwrap().iter().filter_map(|u| u["tableInfo"]["name"].as_str()).collect();
    upstream.sort_unstable();
    assert_eq!(upstream, ["accounts", "journal_entries"]);
    let (_, customers) = api
        .get(
            "/api/2.0/lineage-tracking/table-lineage",
            &[("table_name", "main.sales.customers"), ("include_entity_lineage", "true")],
        )
        .await;
    assert_eq!(customers["upstreams"][0]["pipelineInfos"][0]["pipeline_id"], "11111111-2222-4333-8444-000000000001");
}
