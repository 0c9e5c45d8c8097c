//! A run (of a job, or one-time) and its task runs: how they advance, end, get repaired, and
//! how they look on the wire (`Run`, `RunTask`).

use serde_json::{Map, Value, json};

use super::{
    lifecycle::{Lifecycle, Outcome},
    settings,
};

/// `run_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunType {
    JobRun,
    SubmitRun,
}

impl RunType {
    pub fn as_str(self) -> &'static str {
        match self {
            RunType::JobRun => "JOB_RUN",
            RunType::SubmitRun => "SUBMIT_RUN",
        }
    }
}

/// What a task does when it runs: succeed (with an optional notebook result) or fail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TaskScript {
    /// `notebook_output.result` (the notebook's `dbutils.notebook.exit` value).
    pub result: Option<String>,
    /// The error a failing task reports (`error` in `runs/get-output`).
    pub error: Option<String>,
    pub error_trace: Option<String>,
    /// `logs` of a Python or JAR task.
    pub logs: Option<String>,
}

impl TaskScript {
    /// What a task from the settings does: it fails if it asks to (`"emulator_outcome": "FAILED"`)
    /// or if its key or its notebook/file path contains "fail"; otherwise it succeeds.
    pub fn from_task(task: &Value) -> Self {
        let key = task.get("task_key").and_then(Value::as_str).unwrap_or_default();
        let path = ["notebook_task", "spark_python_task"]
            .iter()
            .find_map(|kind| {
                let t = task.get(*kind)?;
                t.get("notebook_path").or_else(|| t.get("python_file"))?.as_str()
            })
            .unwrap_or_default();
        let fails = task.get("emulator_outcome").and_then(Value::as_str) == Some("FAILED")
            || key.to_lowercase().contains("fail")
            || path.to_lowercase().contains("fail");
        if fails {
            let error = format!("Exception: task {key} failed");
            let trace = format!(
                "---------------------------------------------------------------------------\n\
                 Exception                                 Traceback (most recent call last)\n\
                 File {path}, line 12\n----> 12 raise Exception(\"task {key} failed\")\n\n{error}"
            );
            TaskScript { error: Some(error), error_trace: Some(trace), ..TaskScript::default() }
        } else if task.get("spark_python_task").is_some() || task.get("python_wheel_task").is_some() {
            TaskScript { logs: Some(format!("Task {key} finished.\n")), ..TaskScript::default() }
        } else {
            TaskScript::default()
        }
    }

    fn outcome(&self) -> Outcome {
        if self.error.is_some() { Outcome::Failed } else { Outcome::Success }
    }
}

/// The value a notebook's source passes to its first `dbutils.notebook.exit(...)`: the text of a
/// string literal, or the expression as written otherwise. `None` without such a call.
pub(crate) fn notebook_exit_value(source: &str) -> Option<String> {
    let start = source.find("dbutils.notebook.exit(")? + "dbutils.notebook.exit(".len();
    let rest = &source[start..];
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut end = None;
    for (i, c) in rest.char_indices() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '(' | '[' | '{' => depth += 1,
                ')' if depth == 0 => {
                    end = Some(i);
                    break;
                }
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    let arg = rest[..end?].trim();
    for q in ["\"\"\"", "\'\'\'", "\"", "\'"] {
        if arg.len() >= 2 * q.len() && arg.starts_with(q) && arg.ends_with(q) {
            let inner = &arg[q.len()..arg.len() - q.len()];
            let escaped = format!("\\{}", &q[..1]);
            // `"a" + "b"` starts and ends with a quote but is no single literal.
            if !inner.replace(&escaped, "").contains(q) {
                return Some(inner.replace(&escaped, &q[..1]));
            }
        }
    }
    Some(arg.to_owned())
}

/// One task of a run.
#[derive(Debug, Clone)]
pub(crate) struct TaskRun {
    pub run_id: i64,
    pub task_key: String,
    /// The task's settings as the job (or submit request) gave them.
    pub settings: Value,
    pub life: Lifecycle,
    pub script: TaskScript,
    pub attempt_number: u32,
}

impl TaskRun {
    pub fn depends_on(&self) -> Vec<String> {
        settings::depends_on(&self.settings)
    }

    pub fn is_notebook(&self) -> bool {
        self.settings.get("notebook_task").is_some()
    }
}

/// One attempt of a run, kept for `repair_history` once a repair replaces it.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    /// `None` for the original run, the repair id otherwise.
    pub repair_id: Option<i64>,
    pub life: Lifecycle,
    pub task_run_ids: Vec<i64>,
}

/// A run of a job (`run-now`) or a one-time run (`runs/submit`).
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub run_id: i64,
    pub job_id: Option<i64>,
    pub run_name: String,
    pub run_type: RunType,
    /// `trigger`: ONE_TIME, PERIODIC, ...
    pub trigger: &'static str,
    pub creator: String,
    pub life: Lifecycle,
    pub tasks: Vec<TaskRun>,
    pub job_clusters: Vec<Value>,
    /// `job_parameters`: `[{name, default, value}]`.
    pub job_parameters: Vec<Value>,
    pub overriding_parameters: Map<String, Value>,
    /// Earlier attempts, oldest first; the current one is `life` and `current_repair`.
    pub history: Vec<Attempt>,
    pub current_repair: Option<i64>,
}

impl Run {
    /// Brings the run and its tasks up to `now`; decides results when the run terminates.
    pub fn advance(&mut self, now: u64, delay_ms: u64) {
        if self.life.is_terminal() {
            return;
        }
        for task in &mut self.tasks {
            if !task.life.is_terminal() {
                task.life.advance(now, delay_ms);
            }
        }
        if self.life.advance(now, delay_ms) {
            self.conclude();
        }
    }

    pub fn is_active(&self) -> bool {
        !self.life.is_terminal()
    }

    /// Decides every unfinished task's result (a task fails by its script, or is skipped when a
    /// task it depends on did not succeed), then the run's.
    fn conclude(&mut self) {
        // Tasks are in dependency order only by accident, so repeat until nothing changes.
        let pending: Vec<usize> = (0..self.tasks.len()).filter(|&i| self.tasks[i].life.result.is_none()).collect();
        let mut undecided = pending.clone();
        while !undecided.is_empty() {
            let mut progressed = false;
            undecided.retain(|&i| {
                let deps = self.tasks[i].depends_on();
                let dep_results: Vec<Option<Outcome>> = deps
                    .iter()
                    .map(|d| self.tasks.iter().find(|t| &t.task_key == d).and_then(|t| t.life.result))
                    .collect();
                if dep_results.iter().any(Option::is_none) {
                    return true;
                }
                let outcome = if dep_results.iter().flatten().all(|o| o.is_success()) {
                    self.tasks[i].script.outcome()
                } else if dep_results.iter().flatten().any(|o| *o == Outcome::Canceled) {
                    Outcome::UpstreamCanceled
                } else {
                    Outcome::UpstreamFailed
                };
                let message = match outcome {
                    Outcome::Failed => "Workload failed, see run output for details",
                    Outcome::UpstreamFailed => "Upstream task(s) failed.",
                    Outcome::UpstreamCanceled => "Upstream task(s) were canceled.",
                    _ => "",
                };
                let task = &mut self.tasks[i];
                if !task.life.is_terminal() {
                    task.life.advance(u64::MAX, 0);
                }
                task.life.conclude(outcome, message);
                progressed = true;
                false
            });
            if !progressed {
                // A dependency outside the run (`only`): treat the rest as independent.
                for &i in &undecided {
                    let outcome = self.tasks[i].script.outcome();
                    self.tasks[i].life.conclude(outcome, "");
                }
                break;
            }
        }
        let (outcome, message) = self.overall();
        self.life.conclude(outcome, &message);
    }

    /// The run's result from its tasks' results.
    fn overall(&self) -> (Outcome, String) {
        if let Some(failed) = self.tasks.iter().find(|t| t.life.result == Some(Outcome::Failed)) {
            let skipped = self.tasks.iter().any(|t| t.life.result == Some(Outcome::UpstreamFailed));
            let tail = if skipped { " This caused all downstream tasks to get skipped." } else { "" };
            let error = failed.script.error.as_deref().unwrap_or("Workload failed, see run output for details");
            return (Outcome::Failed, format!("Task {} failed with message: {error}.{tail}", failed.task_key));
        }
        if self.tasks.iter().any(|t| t.life.result == Some(Outcome::Canceled)) {
            return (Outcome::Canceled, "Run cancelled.".to_owned());
        }
        (Outcome::Success, String::new())
    }

    /// `runs/cancel`: the run and its unfinished tasks end now as CANCELED.
    pub fn cancel(&mut self, now: u64) {
        if self.life.is_terminal() {
            return;
        }
        for task in &mut self.tasks {
            task.life.end(now, Outcome::Canceled, "Run cancelled.");
        }
        self.life.end(now, Outcome::Canceled, "Run cancelled.");
    }

    /// Starts a repair that reruns `task_keys` with new task run ids from `next_id`.
    pub fn repair(&mut self, repair_id: i64, task_keys: &[String], now: u64, next_id: &mut impl FnMut() -> i64) {
        self.history.push(Attempt {
            repair_id: self.current_repair,
            life: self.life.clone(),
            task_run_ids: self.tasks.iter().map(|t| t.run_id).collect(),
        });
        self.current_repair = Some(repair_id);
        for task in self.tasks.iter_mut().filter(|t| task_keys.contains(&t.task_key)) {
            task.run_id = next_id();
            task.attempt_number += 1;
            task.life = Lifecycle::start(now, false);
        }
        self.life.restart(now);
    }

    /// The task run with this id, if it is one of this run's.
    pub fn task(&self, task_run_id: i64) -> Option<&TaskRun> {
        self.tasks.iter().find(|t| t.run_id == task_run_id)
    }

    /// The run as `runs/get` returns it; `with_tasks` false leaves out `tasks` and `job_clusters`
    /// as `runs/list` does without `expand_tasks`.
    pub fn to_json(&self, base_url: &str, with_tasks: bool) -> Map<String, Value> {
        let mut run = Map::new();
        if let Some(job_id) = self.job_id {
            run.insert("job_id".into(), json!(self.job_id));
            run.insert("number_in_job".into(), json!(self.run_id));
            run.insert("run_page_url".into(), json!(format!("{base_url}/#job/{job_id}/run/{}", self.run_id)));
        } else {
            run.insert("run_page_url".into(), json!(format!("{base_url}/#job/run/{}", self.run_id)));
        }
        run.insert("run_id".into(), json!(self.run_id));
        run.insert("original_attempt_run_id".into(), json!(self.run_id));
        run.insert("creator_user_name".into(), json!(self.creator));
        run.insert("run_name".into(), json!(self.run_name));
        run.insert("run_type".into(), json!(self.run_type.as_str()));
        run.insert("trigger".into(), json!(self.trigger));
        run.insert("format".into(), json!("MULTI_TASK"));
        run.insert("attempt_number".into(), json!(0));
        insert_life(&mut run, &self.life, true);
        if !self.job_parameters.is_empty() {
            run.insert("job_parameters".into(), json!(self.job_parameters));
        }
        if !self.overriding_parameters.is_empty() {
            run.insert("overriding_parameters".into(), Value::Object(self.overriding_parameters.clone()));
        }
        if with_tasks {
            let tasks: Vec<Value> = self.tasks.iter().map(|t| Value::Object(self.task_json(t, base_url))).collect();
            run.insert("tasks".into(), json!(tasks));
            if !self.job_clusters.is_empty() {
                run.insert("job_clusters".into(), json!(self.job_clusters));
            }
        }
        if self.current_repair.is_some() {
            run.insert("repair_history".into(), json!(self.repair_history()));
        }
        run
    }

    /// A task run as it appears in `tasks` (and as `runs/get` returns a task run on its own).
    pub fn task_json(&self, task: &TaskRun, base_url: &str) -> Map<String, Value> {
        let mut out = task.settings.as_object().cloned().unwrap_or_default();
        out.remove("emulator_outcome");
        out.insert("run_id".into(), json!(task.run_id));
        out.insert("task_key".into(), json!(task.task_key));
        out.insert("attempt_number".into(), json!(task.attempt_number));
        if let Some(job_id) = self.job_id {
            out.insert("run_page_url".into(), json!(format!("{base_url}/#job/{job_id}/run/{}", task.run_id)));
        }
        if let Some(cluster_id) = task.settings.get("existing_cluster_id").and_then(Value::as_str)
            && task.life.phase != super::lifecycle::Phase::Queued
        {
            out.insert(
                "cluster_instance".into(),
                json!({"cluster_id": cluster_id, "spark_context_id": format!("{}", 7_000_000_000_000_000_000u64 + task.run_id as u64)}),
            );
        }
        out.entry("run_if").or_insert_with(|| json!("ALL_SUCCESS"));
        insert_life(&mut out, &task.life, false);
        out
    }

    fn repair_history(&self) -> Vec<Value> {
        let current = Attempt {
            repair_id: self.current_repair,
            life: self.life.clone(),
            task_run_ids: self.tasks.iter().map(|t| t.run_id).collect(),
        };
        self.history
            .iter()
            .chain(std::iter::once(&current))
            .map(|attempt| {
                let (state, status) = attempt.life.state_json();
                let mut item = json!({
                    "type": if attempt.repair_id.is_some() { "REPAIR" } else { "ORIGINAL" },
                    "id": attempt.repair_id.unwrap_or(self.run_id),
                    "start_time": attempt.life.start_time,
                    "state": state,
                    "status": status,
                    "task_run_ids": attempt.task_run_ids,
                });
                if let Some(end) = attempt.life.end_time {
                    item["end_time"] = json!(end);
                }
                item
            })
            .collect()
    }
}

/// `state`, `status`, times and durations. A run (`parent`) reports `run_duration` and zero
/// phase durations, as multi-task runs do; a task reports its phase durations.
fn insert_life(out: &mut Map<String, Value>, life: &Lifecycle, parent: bool) {
    let (state, status) = life.state_json();
    out.insert("state".into(), state);
    out.insert("status".into(), status);
    out.insert("start_time".into(), json!(life.start_time));
    if parent {
        out.insert("setup_duration".into(), json!(0));
        out.insert("execution_duration".into(), json!(0));
        out.insert("cleanup_duration".into(), json!(0));
    } else {
        out.insert("setup_duration".into(), json!(life.setup_ms));
        out.insert("execution_duration".into(), json!(life.execution_ms));
        out.insert("cleanup_duration".into(), json!(life.cleanup_ms));
    }
    if let Some(end) = life.end_time {
        out.insert("end_time".into(), json!(end));
        out.insert("run_duration".into(), json!(end.saturating_sub(life.start_time)));
    }
}

#[cfg(test)]
mod tests {
    use super::notebook_exit_value;

    #[test]
    fn the_exit_value_is_the_literal_or_the_expression() {
        assert_eq!(notebook_exit_value("x = 1\ndbutils.notebook.exit(\"done: 42\")\n").as_deref(), Some("done: 42"));
        assert_eq!(notebook_exit_value("dbutils.notebook.exit('it\\'s ok')").as_deref(), Some("it's ok"));
        assert_eq!(
            notebook_exit_value("dbutils.notebook.exit(json.dumps({\"rows\": n}))").as_deref(),
            Some("json.dumps({\"rows\": n})")
        );
        assert_eq!(notebook_exit_value("print('no exit')"), None);
    }
}
