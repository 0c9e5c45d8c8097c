use std::time::Duration;

use databricks_emulator::{ALICE_TOKEN, DEMO_TOKEN, SP_CLIENT_ID, SP_CLIENT_SECRET, SP_TOKEN, WORKSPACE_ID};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::util::{Api, SHARED, assert_error, ids, read};

impl Api {
    /// `GET path?query` with any token.
    pub async fn get_as(&self, token: &str, path: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
        read(self.http.get(self.url(path)).query(query).bearer_auth(token).send().await).await
    }

    /// `POST path` with a JSON body and any token.
    pub async fn post_as(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        read(self.http.post(self.url(path)).json(&body).bearer_auth(token).send().await).await
    }

    /// A client-credentials token request with the given form fields and optional Basic auth.
    async fn token_request(&self, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> (StatusCode, Value) {
        // The values here need no percent-encoding; reqwest is built without its form feature.
        let body: Vec<String> = form.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut request = self
            .http
            .post(self.url("/oidc/v1/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.join("&"));
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        read(request.send().await).await
    }
}

const GRANT: (&str, &str) = ("grant_type", "client_credentials");
const SCOPE: (&str, &str) = ("scope", "all-apis");

#[tokio::test]
async fn each_token_acts_as_its_own_principal() {
    let api = Api::start().await;
    for (token, user_name) in
        [(DEMO_TOKEN, "demo.user@example.com"), (ALICE_TOKEN, "alice.nguyen@example.com"), (SP_TOKEN, SP_CLIENT_ID)]
    {
        let (status, me) = api.get_as(token, "/api/2.0/preview/scim/v2/Me", &[]).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["userName"], user_name);
    }
}

#[tokio::test]
async fn me_is_scim_shaped_with_the_org_id_header() {
    let api = Api::start().await;
    let response = api.http.get(api.url("/api/2.0/preview/scim/v2/Me")).bearer_auth(DEMO_TOKEN).send().await;
    let response = response.expect("a response");
    assert_eq!(response.headers()["x-databricks-org-id"], WORKSPACE_ID);
    let me: Value = response.json().await.expect("json");
    assert_eq!(me["id"], "1000000000000001");
    assert_eq!(me["displayName"], "Demo User");
    assert_eq!(me["active"], true);
    assert_eq!(me["emails"][0]["value"], "demo.user@example.com");
    assert!(me["groups"].as_array().expect("groups").iter().any(|g| g["display"] == "admins"));
    assert!(me["entitlements"].as_array().expect("entitlements").iter().any(|e| e["value"] == "allow-cluster-create"));
    assert_eq!(me["schemas"][0], "urn:ietf:params:scim:schemas:core:2.0:User");
}

#[tokio::test]
async fn clusters_created_by_a_user_belong_to_that_user() {
    let api = Api::start().await;
    let spec = json!({"cluster_name": "a", "spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1});
    let (_, created) = api.post_as(ALICE_TOKEN, "/api/2.1/clusters/create", spec).await;
    let id = created["cluster_id"].as_str().expect("an id");
    let (_, cluster) = api.get_as(ALICE_TOKEN, "/api/2.1/clusters/get", &[("cluster_id", id)]).await;
    assert_eq!(cluster["creator_user_name"], "alice.nguyen@example.com");
    let (status, _) = api.post_as(ALICE_TOKEN, "/api/2.1/clusters/delete", json!({"cluster_id": id})).await;
    assert_eq!(status, StatusCode::OK);
    let cluster = api.cluster(id).await;
    assert_eq!(cluster["termination_reason"]["parameters"]["username"], "alice.nguyen@example.com");
}

#[tokio::test]
async fn host_metadata_and_oidc_discovery_need_no_token() {
    let api = Api::start().await;
    let (status, meta) = read(api.http.get(api.url("/.well-known/databricks-config")).send().await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(meta, json!({"oidc_endpoint": api.url("/oidc"), "workspace_id": WORKSPACE_ID, "cloud": "aws"}));
    let (status, discovery) =
        read(api.http.get(api.url("/oidc/.well-known/oauth-authorization-server")).send().await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(discovery["token_endpoint"], api.url("/oidc/v1/token"));
    assert_eq!(discovery["authorization_endpoint"], api.url("/oidc/v1/authorize"));
    assert_eq!(discovery["issuer"], api.url("/oidc"));
}

#[tokio::test]
async fn client_credentials_issue_a_token_for_the_service_principal() {
    let api = Api::start().await;
    for (basic, form) in [
        (Some((SP_CLIENT_ID, SP_CLIENT_SECRET)), vec![GRANT, SCOPE]),
        (None, vec![GRANT, SCOPE, ("client_id", SP_CLIENT_ID), ("client_secret", SP_CLIENT_SECRET)]),
    ] {
        let (status, token) = api.token_request(basic, &form).await;
        assert_eq!(status, StatusCode::OK, "{token}");
        assert_eq!((token["token_type"].clone(), token["expires_in"].clone()), (json!("Bearer"), json!(3600)));
        assert_eq!(token["scope"], "all-apis");
        let access = token["access_token"].as_str().expect("a token");
        let (status, me) = api.get_as(access, "/api/2.0/preview/scim/v2/Me", &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (me["userName"].clone(), me["displayName"].clone()),
            (json!(SP_CLIENT_ID), json!("etl-service-principal"))
        );
    }
}

#[tokio::test]
async fn wrong_client_credentials_are_invalid_client() {
    let api = Api::start().await;
    let (status, body) = api.token_request(Some((SP_CLIENT_ID, "wrong")), &[GRANT, SCOPE]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    assert!(body["error_description"].is_string());
    let (status, body) = api.token_request(None, &[GRANT]).await;
    assert_eq!((status, body["error"].clone()), (StatusCode::UNAUTHORIZED, json!("invalid_client")));
    let (status, body) = api.token_request(Some((SP_CLIENT_ID, SP_CLIENT_SECRET)), &[("grant_type", "password")]).await;
    assert_eq!((status, body["error"].clone()), (StatusCode::BAD_REQUEST, json!("unsupported_grant_type")));
}

#[tokio::test]
async fn issued_tokens_expire() {
    let api = Api::start().await;
    api.emu.set_oauth_token_ttl(Duration::from_millis(200));
    let (_, token) = api.token_request(Some((SP_CLIENT_ID, SP_CLIENT_SECRET)), &[GRANT]).await;
    assert_eq!(token["expires_in"], 1);
    let access = token["access_token"].as_str().expect("a token").to_owned();
    assert_eq!(api.get_as(&access, "/api/2.1/clusters/list", &[]).await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_error(
        &api.get_as(&access, "/api/2.1/clusters/list", &[]).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
        "Token expired. Please obtain a new token.",
    );
}

#[tokio::test]
async fn the_admin_route_sets_the_token_lifetime() {
    let api = Api::start().await;
    let (status, body) =
        read(api.http.post(api.url("/emulator/oauth")).json(&json!({"token_ttl_ms": 5000})).send().await).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"token_ttl_ms": 5000})));
    let (_, token) = api.token_request(Some((SP_CLIENT_ID, SP_CLIENT_SECRET)), &[GRANT]).await;
    assert_eq!(token["expires_in"], 5);
}

#[tokio::test]
async fn scim_users_page_filter_and_get() {
    let api = Api::start().await;
    let (_, first) = api.get("/api/2.0/preview/scim/v2/Users", &[("startIndex", "1"), ("count", "3")]).await;
    assert_eq!((first["totalResults"].clone(), first["itemsPerPage"].clone()), (json!(7), json!(3)));
    assert_eq!(first["startIndex"], 1);
    assert_eq!(first["Resources"].as_array().expect("resources").len(), 3);
    let (_, past) = api.get("/api/2.0/preview/scim/v2/Users", &[("startIndex", "8")]).await;
    assert!(past.get("Resources").is_none(), "{past}");
    assert_eq!(past["itemsPerPage"], 0);

    let (_, found) =
        api.get("/api/2.0/preview/scim/v2/Users", &[("filter", r#"userName eq "alice.nguyen@example.com""#)]).await;
    assert_eq!(found["totalResults"], 1);
    let id = found["Resources"][0]["id"].as_str().expect("an id").to_owned();
    let (status, alice) = api.get(&format!("/api/2.0/preview/scim/v2/Users/{id}"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(alice["userName"], "alice.nguyen@example.com");

    let (status, missing) = api.get("/api/2.0/preview/scim/v2/Users/999", &[]).await;
    assert_eq!((status, missing["status"].clone()), (StatusCode::NOT_FOUND, json!("404")));
    let (status, bad) = api.get("/api/2.0/preview/scim/v2/Users", &[("filter", "userName like x")]).await;
    assert_eq!((status, bad["scimType"].clone()), (StatusCode::BAD_REQUEST, json!("invalidFilter")));
}

#[tokio::test]
async fn scim_lists_service_principals_and_groups() {
    let api = Api::start().await;
    let (_, sps) = api.get("/api/2.0/preview/scim/v2/ServicePrincipals", &[]).await;
    assert_eq!(sps["Resources"][0]["applicationId"], SP_CLIENT_ID);
    assert_eq!(sps["Resources"][0]["displayName"], "etl-service-principal");
    let (_, groups) = api.get("/api/2.0/preview/scim/v2/Groups", &[("attributes", "displayName")]).await;
    let names: Vec<&str> =
        groups["Resources"].as_array().expect("groups").iter().filter_map(|g| g["displayName"].as_str()).collect();
    assert_eq!(names, ["admins", "users", "data-engineers"]);
    assert!(groups["Resources"][0].get("members").is_none(), "projected away");
}

#[tokio::test]
async fn alice_lists_only_what_she_may_see() {
    let api = Api::start().await;
    let (_, list) = api.get_as(ALICE_TOKEN, "/api/2.1/clusters/list", &[]).await;
    let mut seen = ids(&list);
    seen.sort();
    assert_eq!(seen, ["0101-000000-etlnig01", "0101-000000-mlgpu001", SHARED]);
    let (_, old) = api.get_as(ALICE_TOKEN, "/api/2.0/clusters/list", &[]).await;
    assert_eq!(ids(&old).len(), 3);
}
