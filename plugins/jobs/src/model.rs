//! The Jobs API's data, as the tools read and return it. Known fields are typed (so the output
//! schema says what a program can rely on); everything else the workspace sends is kept under
//! the same names through `Json<T>`, so structured output is complete.

use std::collections::BTreeMap;

use databricks_mcp_sdk::format_time;
use databricks_mcp_sdk::prelude::*;

/// When a job runs by itself.
#[schema]
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Quartz cron expression, e.g. `0 0 6 * * ?` (every day at 06:00).
    pub quartz_cron_expression: String,
    /// Java time zone id, e.g. `UTC`, `Europe/Paris`.
    pub timezone_id: String,
    /// `PAUSED` or `UNPAUSED` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_status: Option<String>,
}

impl Schedule {
    pub fn describe(&self) -> String {
        let paused = self.pause_status.as_deref().unwrap_or("UNPAUSED");
        format!("\"{}\" {} ({paused})", self.quartz_cron_expression, self.timezone_id)
    }
}

/// A job parameter and its default.
#[schema]
#[derive(Debug, Clone)]
pub struct JobParameter {
    /// Parameter name.
    pub name: String,
    /// Value used when a run does not set it.
    #[serde(default)]
    pub default: String,
}

/// A task another task waits for.
#[schema]
#[derive(Debug, Clone)]
pub struct TaskDependency {
    /// The key of the task depended on.
    pub task_key: String,
}

/// A task of a job, as its settings define it.
#[schema]
#[derive(Debug, Clone)]
pub struct JobTask {
    /// The task's key, unique in the job.
    pub task_key: String,
    /// Tasks that must finish first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<TaskDependency>>,
    /// All-purpose cluster the task runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_cluster_id: Option<String>,
    /// Job cluster (from the job's `job_clusters`) the task runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_cluster_key: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A job's settings (`JobSettings`).
#[schema]
#[derive(Debug, Clone, Default)]
pub struct JobSettings {
    /// Job name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The tasks (all pages, as the tools return them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<Json<JobTask>>>,
    /// Shared job cluster specifications tasks refer to by `job_cluster_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_clusters: Option<Vec<Value>>,
    /// Job-level parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Vec<JobParameter>>,
    /// Cron schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    /// How many runs may be active at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_runs: Option<u64>,
    /// Run timeout, seconds (0: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// A job (`Job` in the API).
#[schema]
#[derive(Debug, Clone)]
pub struct Job {
    /// Job id.
    pub job_id: i64,
    /// Who created (owns) it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_user_name: Option<String>,
    /// Whose identity its runs use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_user_name: Option<String>,
    /// Creation time, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<i64>,
    /// Settings. `jobs/list` leaves out tasks unless asked to expand them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<JobSettings>,
}

impl Job {
    pub fn name(&self) -> &str {
        self.settings.as_ref().and_then(|s| s.name.as_deref()).unwrap_or("(unnamed)")
    }

    /// One line: name, id, schedule, creator.
    pub fn line(&self) -> String {
        let mut line = format!("{} (job {})", self.name(), self.job_id);
        match self.settings.as_ref().and_then(|s| s.schedule.as_ref()) {
            Some(schedule) => line.push_str(&format!(": schedule {}", schedule.describe())),
            None => line.push_str(": no schedule"),
        }
        if let Some(tasks) = self.settings.as_ref().and_then(|s| s.tasks.as_ref()) {
            let keys: Vec<String> = tasks.iter().filter_map(|t| t.get().ok().map(|t| t.task_key)).take(10).collect();
            let more = if tasks.len() > keys.len() { ", ..." } else { "" };
            line.push_str(&format!(", {} task(s): {}{more}", tasks.len(), keys.join(", ")));
        }
        if let Some(creator) = &self.creator_user_name {
            line.push_str(&format!(", created by {creator}"));
        }
        line
    }
}

/// What a task does, from its settings: `notebook /path`, `python file.py`, `pipeline 123`...
pub fn task_kind(task: &Value) -> String {
    let Some(fields) = task.as_object() else { return "task".into() };
    let Some((kind, spec)) = fields.iter().find(|(k, _)| k.ends_with("_task") && *k != "run_if") else {
        return "task of unknown type".into();
    };
    let detail = ["notebook_path", "python_file", "pipeline_id", "job_id", "main_class_name", "package_name"]
        .iter()
        .find_map(|f| spec.get(*f).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)));
    let name = kind.trim_end_matches("_task").replace('_', " ");
    match detail {
        Some(detail) => format!("{name} {detail}"),
        None => name,
    }
}

/// One line per task of a job's settings.
pub fn task_line(raw: &Json<JobTask>) -> String {
    let Ok(task) = raw.get() else { return "  (a task this tool cannot read)".into() };
    let mut line = format!("  {}: {}", task.task_key, task_kind(raw.value()));
    if let Some(deps) = task.depends_on.as_ref().filter(|d| !d.is_empty()) {
        let keys: Vec<&str> = deps.iter().map(|d| d.task_key.as_str()).collect();
        line.push_str(&format!(", after {}", keys.join(", ")));
    }
    if let Some(cluster) = &task.existing_cluster_id {
        line.push_str(&format!(", on cluster {cluster}"));
    } else if let Some(key) = &task.job_cluster_key {
        line.push_str(&format!(", on job cluster {key}"));
    } else if raw.value().get("new_cluster").is_some() {
        line.push_str(", on a new cluster");
    }
    line
}

/// `state` of a run or task run.
#[schema]
#[derive(Debug, Clone, Default)]
pub struct RunState {
    /// `QUEUED`, `PENDING`, `RUNNING`, `TERMINATING`, `TERMINATED`, `SKIPPED`, `INTERNAL_ERROR`, `BLOCKED`, `WAITING_FOR_RETRY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub life_cycle_state: Option<String>,
    /// Once finished: `SUCCESS`, `FAILED`, `TIMEDOUT`, `CANCELED`, `UPSTREAM_FAILED`, `MAXIMUM_CONCURRENT_RUNS_REACHED`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_state: Option<String>,
    /// Why it is in this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_message: Option<String>,
    /// Whether a user cancelled it or it timed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_cancelled_or_timedout: Option<bool>,
}

impl RunState {
    pub fn is_terminal(&self) -> bool {
        matches!(self.life_cycle_state.as_deref(), Some("TERMINATED" | "SKIPPED" | "INTERNAL_ERROR"))
    }

    pub fn succeeded(&self) -> bool {
        self.result_state.as_deref() == Some("SUCCESS")
    }

    /// `RUNNING`, or the result once finished (`SUCCESS`, `FAILED`...).
    pub fn summary(&self) -> String {
        let life = self.life_cycle_state.as_deref().unwrap_or("UNKNOWN");
        match self.result_state.as_deref() {
            Some(result) if self.is_terminal() => {
                if life == "TERMINATED" {
                    result.to_string()
                } else {
                    format!("{life} {result}")
                }
            }
            _ => life.to_string(),
        }
    }

    pub fn message(&self) -> Option<&str> {
        self.state_message.as_deref().filter(|m| !m.is_empty())
    }
}

/// A task of a run.
#[schema]
#[derive(Debug, Clone)]
pub struct RunTask {
    /// The task run's id: use it with `get_run_output` or `export_run`.
    pub run_id: i64,
    /// The task's key.
    pub task_key: String,
    /// Where it stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<RunState>,
    /// Start, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// End, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// Milliseconds spent executing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_duration: Option<i64>,
    /// Retry attempt, 0 for the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt_number: Option<i64>,
}

impl RunTask {
    pub fn state(&self) -> RunState {
        self.state.clone().unwrap_or_default()
    }

    pub fn line(&self) -> String {
        let state = self.state();
        let mut line = format!("  {} (task run {}): {}", self.task_key, self.run_id, state.summary());
        if let (Some(start), Some(end)) = (self.start_time, self.end_time)
            && start > 0
        {
            line.push_str(&format!(", {}", format_duration(end - start)));
        }
        if let Some(message) = state.message() {
            line.push_str(&format!(": {message}"));
        }
        line
    }
}

/// One attempt of a run (the original, then each repair).
#[schema]
#[derive(Debug, Clone)]
pub struct RepairAttempt {
    /// `ORIGINAL` or `REPAIR`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The repair id (the run id for the original).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// How it went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<RunState>,
}

/// A run of a job, or a one-time run (`Run` in the API).
#[schema]
#[derive(Debug, Clone)]
pub struct Run {
    /// Run id.
    pub run_id: i64,
    /// The job, for job runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<i64>,
    /// Name (the job's name for job runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_name: Option<String>,
    /// `JOB_RUN`, `SUBMIT_RUN` or `WORKFLOW_RUN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_type: Option<String>,
    /// What started it: `ONE_TIME`, `PERIODIC`, `RETRY`, `FILE_ARRIVAL`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    /// Who started it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_user_name: Option<String>,
    /// Where it stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<RunState>,
    /// Start, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// End, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// Milliseconds from start to end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_duration: Option<i64>,
    /// The run's page in the workspace UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_page_url: Option<String>,
    /// Task runs (all pages, as the tools return them; absent in lists unless expanded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<RunTask>>,
    /// The original attempt and each repair, oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repair_history: Option<Vec<RepairAttempt>>,
}

impl Run {
    pub fn state(&self) -> RunState {
        self.state.clone().unwrap_or_default()
    }

    pub fn is_terminal(&self) -> bool {
        self.state().is_terminal()
    }

    /// The id of the latest repair, which the next repair must name.
    pub fn latest_repair_id(&self) -> Option<i64> {
        self.repair_history.as_ref()?.iter().rev().find(|a| a.kind.as_deref() == Some("REPAIR"))?.id
    }

    /// One line: id, job, state, start, duration.
    pub fn line(&self) -> String {
        let state = self.state();
        let name = self.run_name.as_deref().unwrap_or("(unnamed)");
        let owner = match self.job_id {
            Some(job) => format!("job {job}, {name}"),
            None => format!("one-time, {name}"),
        };
        let mut line = format!("run {} ({owner}): {}", self.run_id, state.summary());
        if let Some(start) = self.start_time.filter(|s| *s > 0) {
            if state.is_terminal() {
                line.push_str(&format!(", started {}", format_time(start)));
                if let Some(ms) = self.run_duration.or_else(|| self.end_time.map(|e| e - start)) {
                    line.push_str(&format!(", took {}", format_duration(ms)));
                }
            } else {
                line.push_str(&format!(" since {}", format_time(start)));
            }
        }
        line
    }

    /// Where an active run stands, for progress: `RUNNING (1 of 3 tasks done)`.
    pub fn progress(&self) -> String {
        let state = self.state().summary();
        match &self.tasks {
            Some(tasks) if tasks.len() > 1 => {
                let done = tasks.iter().filter(|t| t.state().is_terminal()).count();
                format!("{state} ({done} of {} tasks done)", tasks.len())
            }
            _ => state,
        }
    }

    /// The run line, its message, each task and the page, as the run tools show a run.
    pub fn details(&self) -> String {
        let mut lines = vec![self.line()];
        if let Some(message) = self.state().message() {
            lines.push(format!("Message: {message}"));
        }
        if let Some(tasks) = self.tasks.as_ref().filter(|t| !t.is_empty()) {
            lines.push(format!("Tasks ({}):", tasks.len()));
            lines.extend(tasks.iter().map(RunTask::line));
        }
        if let Some(history) = self.repair_history.as_ref().filter(|h| h.len() > 1) {
            let attempts: Vec<String> = history
                .iter()
                .map(|a| {
                    let state = a.state.clone().unwrap_or_default().summary();
                    format!("{} {} {state}", a.kind.as_deref().unwrap_or("?"), a.id.unwrap_or_default())
                })
                .collect();
            lines.push(format!("Attempts: {}", attempts.join("; ")));
        }
        if let Some(url) = &self.run_page_url {
            lines.push(format!("Run page: {url}"));
        }
        let state = self.state();
        if state.is_terminal() && !state.succeeded() && state.result_state.as_deref() != Some("CANCELED") {
            lines.push(format!("Errors and traces: get_run_output with run_id {}.", self.run_id));
        }
        lines.join("\n")
    }
}

/// A notebook task's output.
#[schema]
#[derive(Debug, Clone)]
pub struct NotebookOutput {
    /// The value passed to `dbutils.notebook.exit()`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Whether the workspace truncated it (at 5 MB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
}

/// The output of one task run (`RunOutput`).
#[schema]
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// A notebook task's exit value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notebook_output: Option<NotebookOutput>,
    /// The error a failed task reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its stack trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_trace: Option<String>,
    /// Standard output of a Python, wheel or JAR task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<String>,
    /// Whether `logs` were truncated by the workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs_truncated: Option<bool>,
}

/// `2h 05m`, `3m 07s`, `12s`, `450 ms`.
pub fn format_duration(ms: i64) -> String {
    let ms = ms.max(0);
    let secs = ms / 1000;
    match secs {
        0 => format!("{ms} ms"),
        1..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m", secs / 3600, secs % 3600 / 60),
    }
}

/// At most `max` characters of `text`, and whether it was cut.
pub fn truncate(text: &str, max: usize) -> (String, bool) {
    match text.char_indices().nth(max) {
        Some((cut, _)) => (text[..cut].to_string(), true),
        None => (text.to_string(), false),
    }
}

/// The last `max` characters of `text` (the end of a stack trace is where the cause is).
pub fn tail(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_string();
    }
    let skip = count - max;
    let start = text.char_indices().nth(skip).map_or(0, |(i, _)| i);
    format!("...{}", &text[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_and_durations() {
        assert_eq!(format_duration(450), "450 ms");
        assert_eq!(format_duration(187_000), "3m 07s");
        assert_eq!(format_duration(7_500_000), "2h 05m");
    }

    #[test]
    fn truncates_on_characters() {
        assert_eq!(truncate("héllo", 2), ("hé".to_string(), true));
        assert_eq!(truncate("hi", 5), ("hi".to_string(), false));
        assert_eq!(tail("abcdef", 2), "...ef");
    }

    #[test]
    fn names_task_kinds() {
        assert_eq!(task_kind(&json!({"task_key": "a", "notebook_task": {"notebook_path": "/x"}})), "notebook /x");
        assert_eq!(task_kind(&json!({"task_key": "a", "pipeline_task": {"pipeline_id": "p"}})), "pipeline p");
        assert_eq!(task_kind(&json!({"task_key": "a", "sql_task": {"query": {}}})), "sql");
    }
}
