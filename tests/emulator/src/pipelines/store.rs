//! All pipelines of the workspace and the operations on them.
//!
//! Every operation first brings the pipeline up to date ([`Pipeline::advance`]), then applies its
//! rules: one active update at a time, stop cancels the active update, names are unique unless
//! `allow_duplicate_names`.

use std::collections::{BTreeMap, VecDeque};

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::{
    events::Draft,
    ids,
    model::{Pipeline, PipelineState, Update, UpdateState},
    plans::{self, Run},
    spec::Settings,
};
use crate::{clock::Moment, error::ApiError};

/// The causes `start_update` accepts (`pipelines.StartUpdateCause`).
const CAUSES: &[&str] = &[
    "API_CALL",
    "INFRASTRUCTURE_MAINTENANCE",
    "JOB_TASK",
    "RETRY_ON_FAILURE",
    "SCHEMA_CHANGE",
    "SERVICE_UPGRADE",
    "USER_ACTION",
];

/// The pipelines of one workspace, by id.
#[derive(Debug, Default)]
pub(crate) struct Pipelines {
    by_id: BTreeMap<String, Pipeline>,
}

/// 404 `RESOURCE_DOES_NOT_EXIST`, worded as the service words it.
pub(crate) fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
        format!("The specified pipeline {id} was not found."),
    )
}

fn conflict(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, code, message)
}

/// What a `start_update` request asks for.
#[derive(Debug, Clone, Default)]
pub(crate) struct StartRequest {
    pub cause: Option<String>,
    pub full_refresh: bool,
    pub refresh_selection: Vec<String>,
    pub full_refresh_selection: Vec<String>,
    pub validate_only: bool,
}

impl Pipelines {
    pub fn insert(&mut self, pipeline: Pipeline) {
        self.by_id.insert(pipeline.id.clone(), pipeline);
    }

    /// The pipeline, brought up to date.
    pub fn get(&mut self, id: &str, at: Moment) -> Result<&mut Pipeline, ApiError> {
        let pipeline = self.by_id.get_mut(id).ok_or_else(|| not_found(id))?;
        pipeline.advance(at.now, at.delay_ms);
        Ok(pipeline)
    }

    /// Every pipeline, brought up to date, in id order.
    pub fn all(&mut self, at: Moment) -> Vec<&Pipeline> {
        self.by_id
            .values_mut()
            .map(|p| {
                p.advance(at.now, at.delay_ms);
                &*p
            })
            .collect()
    }

    fn name_taken(&self, name: &str, except: Option<&str>) -> Option<&str> {
        self.by_id.values().find(|p| p.spec_name() == name && Some(p.id.as_str()) != except).map(|p| p.id.as_str())
    }

    fn check_name(&self, settings: &Settings, allow_duplicates: bool, except: Option<&str>) -> Result<(), ApiError> {
        match self.name_taken(settings.name(), except) {
            Some(other) if !allow_duplicates => Err(conflict(
                "RESOURCE_CONFLICT",
                format!("Pipeline name '{}' is already used by another pipeline ({other}).", settings.name()),
            )),
            _ => Ok(()),
        }
    }

    /// `create`: a new IDLE pipeline; returns its id. `id` may fix the id (seeds and clients may).
    pub fn create(
        &mut self,
        settings: Settings,
        id: Option<String>,
        allow_duplicates: bool,
        user: &str,
        now: u64,
    ) -> Result<String, ApiError> {
        self.check_name(&settings, allow_duplicates, None)?;
        let id = match id {
            Some(id) if self.by_id.contains_key(&id) => {
                return Err(conflict("RESOURCE_ALREADY_EXISTS", format!("Pipeline {id} already exists.")));
            }
            Some(id) => id,
            None => ids::random_uuid(),
        };
        let pipeline = new_pipeline(&id, settings, user, now);
        self.insert(pipeline);
        Ok(id)
    }

    /// `PUT /pipelines/{id}`: replaces the settings. A running update carries on with the settings
    /// it started with.
    pub fn edit(
        &mut self,
        id: &str,
        settings: Settings,
        allow_duplicates: bool,
        expected_last_modified: Option<u64>,
        user: &str,
        at: Moment,
    ) -> Result<(), ApiError> {
        self.get(id, at)?;
        self.check_name(&settings, allow_duplicates, Some(id))?;
        let pipeline = self.get(id, at)?;
        if let Some(expected) = expected_last_modified.filter(|e| *e != pipeline.last_modified) {
            return Err(conflict(
                "ABORTED",
                format!(
                    "The pipeline {id} was modified at {} since expected_last_modified {expected}.",
                    pipeline.last_modified
                ),
            ));
        }
        pipeline.flows = settings.flows();
        pipeline.fails = settings.fails();
        pipeline.spec = settings.spec;
        pipeline.last_modified = at.now;
        let action = Draft::info(
            "user_action",
            format!("User {user} edited the pipeline."),
            json!({"user_action": {"action": "EDIT", "user_name": user}}),
        );
        pipeline.log(at.now, action, None);
        Ok(())
    }

    /// `DELETE /pipelines/{id}`: gone at once, active update and all.
    pub fn remove(&mut self, id: &str) -> Result<(), ApiError> {
        self.by_id.remove(id).map(drop).ok_or_else(|| not_found(id))
    }

    /// `start_update`: refused while another update is active; returns the new update's id.
    pub fn start_update(&mut self, id: &str, request: StartRequest, at: Moment) -> Result<String, ApiError> {
        let pipeline = self.get(id, at)?;
        let update_id = ids::random_uuid();
        launch(pipeline, &update_id, request, at.now)?;
        Ok(update_id)
    }

    /// `stop`: cancels the active update; a no-op when there is none.
    pub fn stop(&mut self, id: &str, user: &str, at: Moment) -> Result<(), ApiError> {
        let pipeline = self.get(id, at)?;
        if let Some(active) = pipeline.active_update() {
            if active.state == UpdateState::Stopping {
                return Ok(());
            }
            let steps = plans::stop(&active.id.clone(), user);
            pipeline.begin(at.now, steps);
        }
        Ok(())
    }
}

/// A pipeline that has just been created: IDLE, no updates.
pub(crate) fn new_pipeline(id: &str, settings: Settings, user: &str, now: u64) -> Pipeline {
    let mut spec = settings.spec.clone();
    if !spec.contains_key("catalog") && !spec.contains_key("storage") {
        spec.insert("storage".into(), json!(format!("dbfs:/pipelines/{id}")));
    }
    let mut pipeline = Pipeline {
        id: id.to_owned(),
        flows: settings.flows(),
        fails: settings.fails(),
        spec,
        creator: user.to_owned(),
        run_as: user.to_owned(),
        state: PipelineState::Idle,
        last_modified: now,
        updates: Vec::new(),
        events: Vec::new(),
        cluster_id: None,
        plan: VecDeque::new(),
        step_since: now,
    };
    let action = Draft::info(
        "user_action",
        format!("User {user} created pipeline '{}'.", settings.name()),
        json!({"user_action": {"action": "CREATE", "user_name": user}}),
    );
    pipeline.log(now, action, None);
    pipeline
}

/// Starts update `update_id` on `pipeline` at `now` (its first step happens at once).
pub(crate) fn launch(
    pipeline: &mut Pipeline,
    update_id: &str,
    request: StartRequest,
    now: u64,
) -> Result<(), ApiError> {
    if let Some(active) = pipeline.active_update() {
        return Err(conflict(
            "RESOURCE_CONFLICT",
            format!("An active update {} already exists for pipeline {}.", active.id, pipeline.id),
        ));
    }
    let cause = request.cause.unwrap_or_else(|| "API_CALL".to_owned());
    if !CAUSES.contains(&cause.as_str()) {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid cause '{cause}': expected one of {}",
            CAUSES.join(", ")
        )));
    }
    if request.full_refresh && !request.full_refresh_selection.is_empty() {
        return Err(ApiError::invalid_parameter("full_refresh and full_refresh_selection cannot both be set."));
    }
    let selected: Vec<String> =
        request.refresh_selection.iter().chain(&request.full_refresh_selection).cloned().collect();
    if let Some(unknown) = selected.iter().find(|t| !pipeline.flows.contains(t)) {
        return Err(ApiError::invalid_parameter(format!(
            "Table '{unknown}' is not defined in pipeline {}. Defined tables: {}",
            pipeline.id,
            pipeline.flows.join(", ")
        )));
    }
    let flows = if selected.is_empty() { pipeline.flows.clone() } else { selected };
    let serverless = pipeline.spec.get("serverless").and_then(Value::as_bool).unwrap_or(false);
    let mut config: Map<String, Value> = pipeline.spec.clone();
    config.insert("id".into(), json!(pipeline.id));
    pipeline.updates.push(Update {
        id: update_id.to_owned(),
        state: UpdateState::Queued,
        cause: cause.clone(),
        creation_time: now,
        full_refresh: request.full_refresh,
        refresh_selection: request.refresh_selection,
        full_refresh_selection: request.full_refresh_selection,
        validate_only: request.validate_only,
        cluster_id: None,
        config,
    });
    let full_refresh_selection = pipeline.updates.last().map(|u| u.full_refresh_selection.clone()).unwrap_or_default();
    let run = Run {
        update_id,
        cause: &cause,
        flows: &flows,
        fails: pipeline.fails,
        continuous: super::spec::is_continuous(&pipeline.spec),
        validate_only: request.validate_only,
        full_refresh: request.full_refresh,
        full_refresh_selection: &full_refresh_selection,
        cluster_id: (!serverless).then(|| ids::cluster_id(now, update_id)),
    };
    let steps = plans::start(&run);
    pipeline.begin(now, steps);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: Moment = Moment { now: 1_000_000, delay_ms: 0 };

    fn settings(name: &str) -> Settings {
        let body = json!({"name": name, "libraries": [{"notebook": {"path": "/etl/orders"}}]});
        Settings::from_body(body.as_object().expect("object")).expect("valid")
    }

    #[test]
    fn an_update_runs_to_completion_and_the_pipeline_goes_idle() {
        let mut store = Pipelines::default();
        let id = store.create(settings("p"), None, false, "me", AT.now).expect("creates");
        let update = store.start_update(&id, StartRequest::default(), AT).expect("starts");
        let p = store.get(&id, AT).expect("exists");
        assert_eq!(p.state, PipelineState::Idle);
        assert_eq!(p.update(&update).map(|u| u.state), Some(UpdateState::Completed));
        assert_eq!(p.health(), "HEALTHY");
        assert_eq!(p.cluster_id, None);
    }

    #[test]
    fn only_one_update_at_a_time_and_stop_cancels_it() {
        let slow = Moment { now: 1_000_000, delay_ms: 1_000 };
        let mut store = Pipelines::default();
        let id = store.create(settings("p"), None, false, "me", slow.now).expect("creates");
        let update = store.start_update(&id, StartRequest::default(), slow).expect("starts");
        let err = store.start_update(&id, StartRequest::default(), slow).expect_err("one at a time");
        assert_eq!((err.status, err.code), (StatusCode::CONFLICT, "RESOURCE_CONFLICT"));
        store.stop(&id, "me", slow).expect("stops");
        let later = Moment { now: slow.now + 1_000, ..slow };
        let p = store.get(&id, later).expect("exists");
        assert_eq!(p.state, PipelineState::Idle);
        assert_eq!(p.update(&update).map(|u| u.state), Some(UpdateState::Canceled));
    }

    #[test]
    fn names_are_unique_unless_allowed() {
        let mut store = Pipelines::default();
        store.create(settings("p"), None, false, "me", AT.now).expect("creates");
        assert_eq!(store.create(settings("p"), None, false, "me", AT.now).expect_err("dup").code, "RESOURCE_CONFLICT");
        store.create(settings("p"), None, true, "me", AT.now).expect("duplicates allowed");
    }

    #[test]
    fn missing_pipelines_are_404() {
        let mut store = Pipelines::default();
        let err = store.stop("nope", "me", AT).expect_err("missing");
        assert_eq!(err.status, StatusCode::NOT_FOUND);
        assert_eq!(err.message, "The specified pipeline nope was not found.");
    }
}
