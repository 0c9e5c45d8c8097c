//! SQL warehouses (`/api/2.0/sql/warehouses`): the spec users set, the state machine
//! (STOPPED → STARTING → RUNNING → STOPPING → STOPPED, each step one transition delay) and the
//! `EndpointInfo` rendering.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::{
    acl::WAREHOUSE,
    clock::Moment,
    error::{ApiError, ApiResult},
    extract::ApiJson,
    identity::Caller,
    unity::store::stable_uuid,
    workspace::{AppState, Workspace},
};

const CLUSTER_SIZES: &[&str] =
    &["2X-Small", "X-Small", "Small", "Medium", "Large", "X-Large", "2X-Large", "3X-Large", "4X-Large"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WhState {
    Starting,
    Running,
    Stopping,
    Stopped,
}

impl WhState {
    pub fn as_str(self) -> &'static str {
        match self {
            WhState::Starting => "STARTING",
            WhState::Running => "RUNNING",
            WhState::Stopping => "STOPPING",
            WhState::Stopped => "STOPPED",
        }
    }
}

/// One warehouse: its settings as JSON (what `create`/`edit` accepted) and its lifecycle.
#[derive(Debug, Clone)]
pub(crate) struct Warehouse {
    pub id: String,
    pub spec: Map<String, Value>,
    pub creator_name: String,
    pub state: WhState,
    /// When the current state began.
    pub since: u64,
    /// The state it moves to next, and when.
    pub next: Option<(WhState, u64)>,
}

impl Warehouse {
    /// Brings the state up to `now`.
    pub fn advance(&mut self, now: u64) {
        if let Some((state, at)) = self.next
            && now >= at
        {
            self.state = state;
            self.since = at;
            self.next = None;
        }
    }

    /// STOPPED (or STOPPING) → STARTING → RUNNING; a running or starting warehouse is left alone.
    pub fn start(&mut self, at: Moment) {
        self.advance(at.now);
        if matches!(self.state, WhState::Stopped | WhState::Stopping) {
            self.state = WhState::Starting;
            self.since = at.now;
            self.next = Some((WhState::Running, at.now + at.delay_ms));
            self.advance(at.now);
        }
    }

    pub fn stop(&mut self, at: Moment) {
        self.advance(at.now);
        if matches!(self.state, WhState::Running | WhState::Starting) {
            self.state = WhState::Stopping;
            self.since = at.now;
            self.next = Some((WhState::Stopped, at.now + at.delay_ms));
            self.advance(at.now);
        }
    }

    /// When the warehouse is (or will be) RUNNING, if it is on its way there.
    pub fn running_at(&self) -> Option<u64> {
        match (self.state, self.next) {
            (WhState::Running, _) => Some(self.since),
            (WhState::Starting, Some((WhState::Running, at))) => Some(at),
            _ => None,
        }
    }

    fn min_clusters(&self) -> u64 {
        self.spec.get("min_num_clusters").and_then(Value::as_u64).unwrap_or(1)
    }

    pub fn render(&self, host: &str) -> Value {
        let mut out = self.spec.clone();
        let path = format!("/sql/1.0/warehouses/{}", self.id);
        out.insert("id".into(), json!(self.id));
        out.insert("creator_name".into(), json!(self.creator_name));
        out.insert("state".into(), json!(self.state.as_str()));
        let running = self.state == WhState::Running;
        out.insert("num_clusters".into(), json!(if running { self.min_clusters() } else { 0 }));
        out.insert("num_active_sessions".into(), json!(0));
        let health = if running || self.state == WhState::Stopped {
            json!({"status": "HEALTHY"})
        } else {
            json!({"status": "HEALTHY", "summary": format!("Warehouse is {}", self.state.as_str().to_ascii_lowercase())})
        };
        out.insert("health".into(), health);
        out.insert("odbc_params".into(), json!({"hostname": host, "path": path, "protocol": "https", "port": 443}));
        out.insert(
            "jdbc_url".into(),
            json!(format!("jdbc:databricks://{host}:443/default;transportMode=http;ssl=1;AuthMech=3;httpPath={path};")),
        );
        Value::Object(out)
    }
}

/// The warehouse-not-found error.
pub(crate) fn not_found(id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", format!("SQL warehouse {id} does not exist."))
}

/// Validates a create/edit body and fills in the service's defaults.
fn spec_from(mut body: Map<String, Value>, base: Option<&Map<String, Value>>) -> ApiResult<Map<String, Value>> {
    body.remove("id");
    let mut spec = base.cloned().unwrap_or_else(|| {
        let defaults = json!({
            "cluster_size": "Small", "min_num_clusters": 1, "max_num_clusters": 1, "auto_stop_mins": 120,
            "enable_photon": true, "enable_serverless_compute": false, "warehouse_type": "CLASSIC",
            "spot_instance_policy": "COST_OPTIMIZED", "channel": {"name": "CHANNEL_NAME_CURRENT"},
        });
        match defaults {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    });
    spec.append(&mut body);
    spec.retain(|_, v| !v.is_null());
    let name = spec.get("name").and_then(Value::as_str).unwrap_or_default();
    if name.trim().is_empty() {
        return Err(ApiError::missing_field("name"));
    }
    let size = spec.get("cluster_size").and_then(Value::as_str).unwrap_or_default();
    if !CLUSTER_SIZES.contains(&size) {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid cluster_size '{size}'. Valid sizes: {}",
            CLUSTER_SIZES.join(", ")
        )));
    }
    let num = |k: &str| {
        spec.get(k)
            .map(|v| {
                v.as_u64().ok_or_else(|| ApiError::invalid_parameter(format!("{k} must be a non-negative integer")))
            })
            .transpose()
    };
    let (min, max) = (num("min_num_clusters")?.unwrap_or(1), num("max_num_clusters")?.unwrap_or(1));
    if min < 1 || max < min || max > 40 {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid cluster counts: min_num_clusters={min}, max_num_clusters={max} (need 1 <= min <= max <= 40)"
        )));
    }
    let stop = num("auto_stop_mins")?.unwrap_or(0);
    if stop != 0 && stop < 10 {
        return Err(ApiError::invalid_parameter("auto_stop_mins must be 0 (never) or at least 10"));
    }
    match spec.get("warehouse_type").and_then(Value::as_str) {
        Some("CLASSIC" | "PRO") => {}
        other => {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid warehouse_type: {}",
                other.unwrap_or("(not a string)")
            )));
        }
    }
    if spec.get("enable_serverless_compute").and_then(Value::as_bool) == Some(true)
        && spec.get("warehouse_type").and_then(Value::as_str) != Some("PRO")
    {
        return Err(ApiError::invalid_parameter("Serverless compute requires warehouse_type PRO"));
    }
    Ok(spec)
}

/// All warehouses of the workspace.
#[derive(Debug, Default)]
pub(crate) struct Warehouses {
    pub by_id: BTreeMap<String, Warehouse>,
}

impl Warehouses {
    pub fn get(&mut self, id: &str, now: u64) -> ApiResult<&mut Warehouse> {
        let w = self.by_id.get_mut(id).ok_or_else(|| not_found(id))?;
        w.advance(now);
        Ok(w)
    }

    /// A new warehouse, starting; returns its id.
    pub fn create(&mut self, spec: Map<String, Value>, creator: &str, at: Moment) -> String {
        let id = stable_uuid(&format!("warehouse:{}:{}", self.by_id.len(), at.now)).replace('-', "")[..16].to_owned();
        let mut w = Warehouse {
            id: id.clone(),
            spec,
            creator_name: creator.to_owned(),
            state: WhState::Stopped,
            since: at.now,
            next: None,
        };
        w.start(at);
        self.by_id.insert(id.clone(), w);
        id
    }
}

type App = State<Arc<AppState>>;

/// The host clients reach the workspace at, for `odbc_params` and `jdbc_url`.
fn host(headers: &HeaderMap) -> String {
    let raw = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    raw.rsplit_once(':').map_or(raw, |(h, _)| h).to_owned()
}

/// `Ok` with the warehouse if it exists and the caller holds `level` on it.
fn authorize<'a>(
    ws: &'a mut Workspace,
    caller: &Caller,
    id: &str,
    level: &str,
    now: u64,
) -> ApiResult<&'a mut Warehouse> {
    let owner = ws.sql.warehouses.get(id, now)?.creator_name.clone();
    ws.acls.check(&WAREHOUSE, id, caller, Some(&owner), level)?;
    ws.sql.warehouses.get(id, now)
}

/// `page_size` and `page_token` of the list, as newer API versions page it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ListParams {
    page_size: Option<String>,
    page_token: Option<String>,
}

pub(super) async fn list(
    State(app): App,
    caller: Caller,
    Query(params): Query<ListParams>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    let ws = &mut *ws;
    let host = host(&headers);
    let acls = &ws.acls;
    let items: Vec<Value> = ws
        .sql
        .warehouses
        .by_id
        .values_mut()
        .filter(|w| acls.allows(&WAREHOUSE, &w.id, &caller, Some(&w.creator_name), "CAN_VIEW"))
        .map(|w| {
            w.advance(now);
            w.render(&host)
        })
        .collect();
    let size = match params.page_size.as_deref() {
        None | Some("") | Some("0") => None,
        Some(n) => Some(
            n.parse::<usize>()
                .ok()
                .filter(|n| *n <= 1000)
                .ok_or_else(|| ApiError::invalid_parameter(format!("Invalid page_size '{n}'")))?,
        ),
    };
    let (items, next) = page(items, size, params.page_token.as_deref())?;
    let mut out = Map::new();
    if !items.is_empty() {
        out.insert("warehouses".into(), json!(items));
    }
    if let Some(next) = next {
        out.insert("next_page_token".into(), json!(next));
    }
    Ok(Json(Value::Object(out)))
}

/// One page of `items` after the offset `token` encodes; without a size, everything from there.
fn page(items: Vec<Value>, size: Option<usize>, token: Option<&str>) -> ApiResult<(Vec<Value>, Option<String>)> {
    let offset = match token.filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => t
            .strip_prefix("wh-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| ApiError::invalid_parameter(format!("Invalid page_token '{t}'")))?,
    };
    let size = size.unwrap_or(usize::MAX);
    let end = offset.saturating_add(size).min(items.len());
    let next = (end < items.len()).then(|| format!("wh-{end}"));
    Ok((items.into_iter().skip(offset).take(end - offset).collect(), next))
}

pub(super) async fn get(
    State(app): App,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    Ok(Json(authorize(&mut ws, &caller, &id, "CAN_VIEW", now)?.render(&host(&headers))))
}

pub(super) async fn create(
    State(app): App,
    caller: Caller,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let spec = spec_from(body, None)?;
    let mut ws = app.workspace();
    let id = ws.sql.warehouses.create(spec, &caller.user_name, app.clock.moment());
    Ok(Json(json!({ "id": id })))
}

pub(super) async fn edit(
    State(app): App,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let at = app.clock.moment();
    let mut ws = app.workspace();
    let w = authorize(&mut ws, &caller, &id, "CAN_MANAGE", at.now)?;
    w.spec = spec_from(body, Some(&w.spec))?;
    // Editing a running warehouse restarts it with the new settings, as the service does.
    if w.state == WhState::Running {
        w.state = WhState::Starting;
        w.since = at.now;
        w.next = Some((WhState::Running, at.now + at.delay_ms));
        w.advance(at.now);
    }
    Ok(Json(json!({})))
}

pub(super) async fn start(State(app): App, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let at = app.clock.moment();
    authorize(&mut app.workspace(), &caller, &id, "CAN_USE", at.now)?.start(at);
    Ok(Json(json!({})))
}

pub(super) async fn stop(State(app): App, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let at = app.clock.moment();
    authorize(&mut app.workspace(), &caller, &id, "CAN_MANAGE", at.now)?.stop(at);
    Ok(Json(json!({})))
}

pub(super) async fn delete(State(app): App, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let now = app.clock.now_ms();
    let mut ws = app.workspace();
    authorize(&mut ws, &caller, &id, "CAN_MANAGE", now)?;
    ws.sql.warehouses.by_id.remove(&id).ok_or_else(|| not_found(&id))?;
    ws.acls.forget(&WAREHOUSE, &id);
    Ok(Json(json!({})))
}
