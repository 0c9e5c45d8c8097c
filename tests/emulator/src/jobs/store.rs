//! All jobs and runs of the workspace, and the rules of every operation on them.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use super::{
    lifecycle::{Lifecycle, Outcome},
    run::{Run, RunType, TaskRun, TaskScript},
    settings,
};
use crate::{clock::Moment, error::ApiError};

/// A job: its settings and who made it when.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub job_id: i64,
    pub creator: String,
    pub created_time: u64,
    pub settings: Map<String, Value>,
}

impl Job {
    /// `Job` / `BaseJob`; `with_tasks` false leaves out `tasks` and `job_clusters`, as `jobs/list`
    /// does without `expand_tasks`.
    pub fn to_json(&self, with_tasks: bool) -> Map<String, Value> {
        let mut settings = self.settings.clone();
        if !with_tasks {
            settings.remove("tasks");
            settings.remove("job_clusters");
        }
        let mut job = Map::new();
        job.insert("job_id".into(), json!(self.job_id));
        job.insert("creator_user_name".into(), json!(self.creator));
        // `settings.run_as` names who runs the job; without it the job runs as its creator.
        let run_as = self
            .settings
            .get("run_as")
            .and_then(|r| r.get("user_name").or_else(|| r.get("service_principal_name")).and_then(Value::as_str));
        job.insert("run_as_user_name".into(), json!(run_as.unwrap_or(&self.creator)));
        job.insert("created_time".into(), json!(self.created_time));
        job.insert("settings".into(), Value::Object(settings));
        job
    }

    pub fn name(&self) -> &str {
        self.settings.get("name").and_then(Value::as_str).unwrap_or_default()
    }
}

/// What starts a run: the parameters of `run-now` / `runs/submit`.
#[derive(Debug, Default)]
pub(crate) struct RunRequest {
    pub job_parameters: Map<String, Value>,
    pub overriding_parameters: Map<String, Value>,
    pub idempotency_token: Option<String>,
    /// `only`: run just these tasks.
    pub only: Vec<String>,
}

/// The jobs and runs of one workspace.
#[derive(Debug)]
pub(crate) struct Jobs {
    jobs: BTreeMap<i64, Job>,
    runs: BTreeMap<i64, Run>,
    /// Task run id → the run it belongs to.
    task_runs: HashMap<i64, i64>,
    idempotency: HashMap<String, i64>,
    next_job_id: i64,
    next_run_id: i64,
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs {
            jobs: BTreeMap::new(),
            runs: BTreeMap::new(),
            task_runs: HashMap::new(),
            idempotency: HashMap::new(),
            next_job_id: 1001,
            next_run_id: 5001,
        }
    }
}

/// The errors SDKs turn into `ResourceDoesNotExist` (reference §0.6).
pub(crate) fn job_not_found(id: i64) -> ApiError {
    ApiError::invalid_parameter(format!("Job {id} does not exist"))
}

pub(crate) fn run_not_found(id: i64) -> ApiError {
    ApiError::invalid_parameter(format!("Run {id} does not exist"))
}

impl Jobs {
    /// Ids handed out from here on start above these (seeds use fixed ids below them).
    pub fn reserve_ids(&mut self, next_job_id: i64, next_run_id: i64) {
        self.next_job_id = self.next_job_id.max(next_job_id);
        self.next_run_id = self.next_run_id.max(next_run_id);
    }

    pub fn insert_job(&mut self, job: Job) {
        self.next_job_id = self.next_job_id.max(job.job_id + 1);
        self.jobs.insert(job.job_id, job);
    }

    pub fn insert_run(&mut self, run: Run) {
        self.next_run_id = self.next_run_id.max(run.run_id + 1);
        for task in &run.tasks {
            self.next_run_id = self.next_run_id.max(task.run_id + 1);
            self.task_runs.insert(task.run_id, run.run_id);
        }
        self.runs.insert(run.run_id, run);
    }

    fn new_run_id(&mut self) -> i64 {
        let id = self.next_run_id;
        self.next_run_id += 1;
        id
    }

    pub fn create(&mut self, settings: Map<String, Value>, user: &str, now: u64) -> Result<i64, ApiError> {
        let settings = settings::normalize(settings)?;
        let job_id = self.next_job_id;
        self.insert_job(Job { job_id, creator: user.to_owned(), created_time: now, settings });
        Ok(job_id)
    }

    pub fn job(&self, job_id: i64) -> Result<&Job, ApiError> {
        self.jobs.get(&job_id).ok_or_else(|| job_not_found(job_id))
    }

    fn job_mut(&mut self, job_id: i64) -> Result<&mut Job, ApiError> {
        self.jobs.get_mut(&job_id).ok_or_else(|| job_not_found(job_id))
    }

    pub fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.jobs.values()
    }

    pub fn reset(&mut self, job_id: i64, new_settings: Map<String, Value>) -> Result<(), ApiError> {
        let job = self.job_mut(job_id)?;
        job.settings = settings::normalize(new_settings)?;
        Ok(())
    }

    pub fn update(
        &mut self,
        job_id: i64,
        changes: Map<String, Value>,
        fields_to_remove: &[String],
    ) -> Result<(), ApiError> {
        let job = self.job_mut(job_id)?;
        job.settings = settings::merge(&job.settings, changes, fields_to_remove)?;
        Ok(())
    }

    /// `jobs/delete`: the job goes; its active runs are cancelled, its history stays readable.
    pub fn delete(&mut self, job_id: i64, at: Moment) -> Result<(), ApiError> {
        self.jobs.remove(&job_id).ok_or_else(|| job_not_found(job_id))?;
        for run in self.runs.values_mut().filter(|r| r.job_id == Some(job_id)) {
            run.advance(at.now, at.delay_ms);
            run.cancel(at.now);
        }
        Ok(())
    }

    /// `run-now`: returns the run id, or the earlier run for a token seen before.
    pub fn run_now(&mut self, job_id: i64, request: RunRequest, user: &str, at: Moment) -> Result<i64, ApiError> {
        if let Some(existing) = request.idempotency_token.as_ref().and_then(|t| self.idempotency.get(t)) {
            return Ok(*existing);
        }
        let job = self.job(job_id)?.clone();
        let mut tasks: Vec<Value> = settings::tasks(&job.settings).to_vec();
        if !request.only.is_empty() {
            for key in &request.only {
                if !tasks.iter().any(|t| t.get("task_key").and_then(Value::as_str) == Some(key)) {
                    return Err(ApiError::invalid_parameter(format!("Task {key} does not exist in job {job_id}")));
                }
            }
            tasks.retain(|t| {
                t.get("task_key").and_then(Value::as_str).is_some_and(|k| request.only.iter().any(|o| o == k))
            });
        }
        if tasks.is_empty() {
            return Err(ApiError::invalid_parameter(format!("Job {job_id} has no tasks to run")));
        }
        for (name, _) in &request.job_parameters {
            let declared = job
                .settings
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|ps| ps.iter().any(|p| p.get("name").and_then(Value::as_str) == Some(name)));
            if !declared {
                return Err(ApiError::invalid_parameter(format!(
                    "Job parameter '{name}' is not defined in job {job_id}"
                )));
            }
        }
        let job_parameters = job
            .settings
            .get("parameters")
            .and_then(Value::as_array)
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        let name = p.get("name").cloned().unwrap_or(Value::Null);
                        let default = p.get("default").cloned().unwrap_or(json!(""));
                        let value = name.as_str().and_then(|n| request.job_parameters.get(n)).cloned();
                        json!({"name": name, "default": default.clone(), "value": value.unwrap_or(default)})
                    })
                    .collect()
            })
            .unwrap_or_default();

        // The concurrent run limit: over it, a run waits in the queue if the job queues, else is skipped.
        let active = self.runs.values_mut().filter(|r| r.job_id == Some(job_id)).fold(0, |n, r| {
            r.advance(at.now, at.delay_ms);
            n + u64::from(r.is_active())
        });
        let limit = job.settings.get("max_concurrent_runs").and_then(Value::as_u64).unwrap_or(1);
        let queues = job.settings.get("queue").and_then(|q| q.get("enabled")).and_then(Value::as_bool) == Some(true);
        let over_limit = active >= limit;
        let life = if over_limit && !queues {
            Lifecycle::skipped(
                at.now,
                Outcome::MaxConcurrentRuns,
                &format!("Skipping this run because the limit of {limit} maximum concurrent runs has been reached."),
            )
        } else {
            Lifecycle::start(at.now, over_limit)
        };
        let job_clusters = job.settings.get("job_clusters").and_then(Value::as_array).cloned().unwrap_or_default();
        let run_id = self.start_run(
            Some(job_id),
            job.name().to_owned(),
            RunType::JobRun,
            &tasks,
            job_clusters,
            job_parameters,
            request.overriding_parameters,
            life,
            user,
        );
        if let Some(token) = request.idempotency_token {
            self.idempotency.insert(token, run_id);
        }
        Ok(run_id)
    }

    /// `runs/submit`: a one-time run of the given tasks.
    pub fn submit(&mut self, mut body: Map<String, Value>, user: &str, at: Moment) -> Result<i64, ApiError> {
        let token = body.get("idempotency_token").and_then(Value::as_str).map(str::to_owned);
        if let Some(existing) = token.as_ref().and_then(|t| self.idempotency.get(t)) {
            return Ok(*existing);
        }
        body.remove("idempotency_token");
        settings::validate(&body)?;
        let tasks = settings::tasks(&body).to_vec();
        if tasks.is_empty() {
            return Err(ApiError::missing_field("tasks"));
        }
        let name = body.get("run_name").and_then(Value::as_str).unwrap_or("Untitled").to_owned();
        let job_clusters = body.get("job_clusters").and_then(Value::as_array).cloned().unwrap_or_default();
        let life = Lifecycle::start(at.now, false);
        let run_id =
            self.start_run(None, name, RunType::SubmitRun, &tasks, job_clusters, Vec::new(), Map::new(), life, user);
        if let Some(token) = token {
            self.idempotency.insert(token, run_id);
        }
        Ok(run_id)
    }

    #[allow(clippy::too_many_arguments)] // One private constructor; a struct would only restate these.
    fn start_run(
        &mut self,
        job_id: Option<i64>,
        run_name: String,
        run_type: RunType,
        tasks: &[Value],
        job_clusters: Vec<Value>,
        job_parameters: Vec<Value>,
        overriding_parameters: Map<String, Value>,
        life: Lifecycle,
        user: &str,
    ) -> i64 {
        let run_id = self.new_run_id();
        let tasks = tasks
            .iter()
            .map(|task| {
                let mut task_life = life.clone();
                task_life.result = None;
                if life.is_terminal() {
                    // A skipped run's tasks never start.
                    task_life.result = life.result;
                }
                TaskRun {
                    run_id: self.new_run_id(),
                    task_key: task.get("task_key").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    settings: task.clone(),
                    life: task_life,
                    script: TaskScript::from_task(task),
                    attempt_number: 0,
                }
            })
            .collect();
        let run = Run {
            run_id,
            job_id,
            run_name,
            run_type,
            trigger: "ONE_TIME",
            creator: user.to_owned(),
            life,
            tasks,
            job_clusters,
            job_parameters,
            overriding_parameters,
            history: Vec::new(),
            current_repair: None,
        };
        self.insert_run(run);
        run_id
    }

    /// A run (or the run a task run belongs to) brought up to date, with the task run id if the
    /// id named a task.
    pub fn run(&mut self, run_id: i64, at: Moment) -> Result<(&Run, Option<i64>), ApiError> {
        let (parent, task) = match self.task_runs.get(&run_id) {
            Some(parent) => (*parent, Some(run_id)),
            None => (run_id, None),
        };
        let run = self.runs.get_mut(&parent).ok_or_else(|| run_not_found(run_id))?;
        run.advance(at.now, at.delay_ms);
        Ok((run, task))
    }

    /// The job a run (or task run) belongs to, and who started it; nothing is advanced.
    pub fn run_owner(&self, run_id: i64) -> Result<(Option<i64>, String), ApiError> {
        let parent = self.task_runs.get(&run_id).copied().unwrap_or(run_id);
        let run = self.runs.get(&parent).ok_or_else(|| run_not_found(run_id))?;
        Ok((run.job_id, run.creator.clone()))
    }

    /// Gives the notebook tasks of a new run the value their notebook passes to
    /// `dbutils.notebook.exit`, looked up by notebook path with `exit_of`.
    pub fn script_notebooks(&mut self, run_id: i64, exit_of: impl Fn(&str) -> Option<String>) {
        let Some(run) = self.runs.get_mut(&run_id) else { return };
        for task in &mut run.tasks {
            if task.script.error.is_some() || task.script.result.is_some() {
                continue;
            }
            let path = task.settings.get("notebook_task").and_then(|n| n.get("notebook_path")).and_then(Value::as_str);
            if let Some(value) = path.and_then(&exit_of) {
                task.script.result = Some(value);
            }
        }
    }

    /// A top-level run, brought up to date; task run ids are refused.
    fn parent_mut(&mut self, run_id: i64, at: Moment) -> Result<&mut Run, ApiError> {
        if self.task_runs.contains_key(&run_id) {
            return Err(ApiError::invalid_parameter(format!(
                "Run {run_id} is a task run; use the id of the job run it belongs to"
            )));
        }
        let run = self.runs.get_mut(&run_id).ok_or_else(|| run_not_found(run_id))?;
        run.advance(at.now, at.delay_ms);
        Ok(run)
    }

    /// Every run, brought up to date, newest first.
    pub fn runs(&mut self, at: Moment) -> Vec<&Run> {
        let mut runs: Vec<&Run> = self
            .runs
            .values_mut()
            .map(|r| {
                r.advance(at.now, at.delay_ms);
                &*r
            })
            .collect();
        runs.sort_by(|a, b| b.life.start_time.cmp(&a.life.start_time).then(b.run_id.cmp(&a.run_id)));
        runs
    }

    pub fn cancel(&mut self, run_id: i64, at: Moment) -> Result<(), ApiError> {
        self.parent_mut(run_id, at)?.cancel(at.now);
        Ok(())
    }

    /// `runs/cancel-all`: every active run of a job, or every queued run.
    pub fn cancel_all(&mut self, job_id: Option<i64>, all_queued: bool, at: Moment) -> Result<(), ApiError> {
        if let Some(job_id) = job_id {
            self.job(job_id)?;
        } else if !all_queued {
            return Err(ApiError::invalid_parameter("Either job_id or all_queued_runs must be specified"));
        }
        for run in self.runs.values_mut() {
            run.advance(at.now, at.delay_ms);
            let matches = match job_id {
                Some(id) => {
                    run.job_id == Some(id) && (!all_queued || run.life.phase == super::lifecycle::Phase::Queued)
                }
                None => run.life.phase == super::lifecycle::Phase::Queued,
            };
            if matches {
                run.cancel(at.now);
            }
        }
        Ok(())
    }

    /// `runs/delete`: only a finished run can be deleted.
    pub fn delete_run(&mut self, run_id: i64, at: Moment) -> Result<(), ApiError> {
        let run = self.parent_mut(run_id, at)?;
        if run.is_active() {
            return Err(ApiError::invalid_state(format!(
                "Run {run_id} is active and cannot be deleted. Cancel it first."
            )));
        }
        if let Some(run) = self.runs.remove(&run_id) {
            for task in &run.tasks {
                self.task_runs.remove(&task.run_id);
            }
            for attempt in &run.history {
                for id in &attempt.task_run_ids {
                    self.task_runs.remove(id);
                }
            }
        }
        Ok(())
    }

    /// `runs/repair`: reruns the named tasks (or all that did not succeed) of a finished run.
    pub fn repair(
        &mut self,
        run_id: i64,
        rerun_tasks: &[String],
        rerun_all_failed: bool,
        rerun_dependents: bool,
        latest_repair_id: Option<i64>,
        at: Moment,
    ) -> Result<i64, ApiError> {
        let run = self.parent_mut(run_id, at)?;
        if run.is_active() {
            return Err(ApiError::invalid_state(format!("Run {run_id} is still active and cannot be repaired")));
        }
        if run.job_id.is_none() {
            return Err(ApiError::invalid_parameter("Only runs of a job can be repaired"));
        }
        if run.current_repair.is_some() && latest_repair_id != run.current_repair {
            return Err(ApiError::invalid_parameter(format!(
                "latest_repair_id must be the id of the latest repair of run {run_id}"
            )));
        }
        let mut keys: Vec<String> = if rerun_all_failed {
            run.tasks
                .iter()
                .filter(|t| t.life.result.is_some_and(|o| !o.is_success()))
                .map(|t| t.task_key.clone())
                .collect()
        } else if !rerun_tasks.is_empty() {
            for key in rerun_tasks {
                if !run.tasks.iter().any(|t| &t.task_key == key) {
                    return Err(ApiError::invalid_parameter(format!("Task {key} does not exist in run {run_id}")));
                }
            }
            rerun_tasks.to_vec()
        } else {
            return Err(ApiError::invalid_parameter("Either rerun_tasks or rerun_all_failed_tasks must be specified"));
        };
        if rerun_dependents {
            loop {
                let more: Vec<String> = run
                    .tasks
                    .iter()
                    .filter(|t| !keys.contains(&t.task_key) && t.depends_on().iter().any(|d| keys.contains(d)))
                    .map(|t| t.task_key.clone())
                    .collect();
                if more.is_empty() {
                    break;
                }
                keys.extend(more);
            }
        }
        if keys.is_empty() {
            return Err(ApiError::invalid_parameter(format!("Run {run_id} has no failed tasks to repair")));
        }
        let mut next = self.next_run_id;
        let repair_id = next;
        next += 1;
        let run = self.runs.get_mut(&run_id).ok_or_else(|| run_not_found(run_id))?;
        run.repair(repair_id, &keys, at.now, &mut || {
            let id = next;
            next += 1;
            id
        });
        self.next_run_id = next;
        let ids: Vec<i64> = run.tasks.iter().map(|t| t.run_id).collect();
        for id in ids {
            self.task_runs.insert(id, run_id);
        }
        Ok(repair_id)
    }
}
