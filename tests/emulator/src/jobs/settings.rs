//! Job settings (`JobSettings`) kept as the JSON the client sent, with the service's defaults,
//! checks and the merge rules of `jobs/update`.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::error::ApiError;

/// Arrays whose elements `jobs/update` merges by a key field rather than replacing the array.
const KEYED_ARRAYS: [(&str, &str); 4] = [
    ("tasks", "task_key"),
    ("job_clusters", "job_cluster_key"),
    ("environments", "environment_key"),
    ("parameters", "name"),
];

/// Fields that belong to the request, not to the stored settings.
const REQUEST_ONLY: [&str; 2] = ["access_control_list", "job_id"];

/// The settings of a new job: the request's fields plus the defaults the service fills in.
pub(crate) fn normalize(mut settings: Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    for key in REQUEST_ONLY {
        settings.remove(key);
    }
    settings.entry("name").or_insert_with(|| json!("Untitled"));
    settings.entry("email_notifications").or_insert_with(|| json!({}));
    settings.entry("webhook_notifications").or_insert_with(|| json!({}));
    settings.entry("timeout_seconds").or_insert_with(|| json!(0));
    settings.entry("max_concurrent_runs").or_insert_with(|| json!(1));
    settings.entry("format").or_insert_with(|| json!("MULTI_TASK"));
    validate(&settings)?;
    Ok(settings)
}

/// `jobs/update`: top-level fields replace, keyed arrays merge element by element, then
/// `fields_to_remove` (`"schedule"`, `"tasks/<task_key>"`, ...) removes.
pub(crate) fn merge(
    settings: &Map<String, Value>,
    changes: Map<String, Value>,
    fields_to_remove: &[String],
) -> Result<Map<String, Value>, ApiError> {
    let mut merged = settings.clone();
    for (field, value) in changes {
        let key_field = KEYED_ARRAYS.iter().find(|(name, _)| *name == field).map(|(_, key)| *key);
        match (key_field, merged.get_mut(&field), value) {
            (Some(key_field), Some(Value::Array(existing)), Value::Array(incoming)) => {
                for item in incoming {
                    let key = item.get(key_field).cloned();
                    match existing.iter_mut().find(|e| key.is_some() && e.get(key_field) == key.as_ref()) {
                        Some(slot) => *slot = item,
                        None => existing.push(item),
                    }
                }
            }
            (_, _, value) => {
                merged.insert(field, value);
            }
        }
    }
    for field in fields_to_remove {
        match field.split_once('/') {
            Some((array, key)) => {
                let key_field = KEYED_ARRAYS.iter().find(|(name, _)| *name == array).map(|(_, k)| *k);
                if let (Some(key_field), Some(Value::Array(items))) = (key_field, merged.get_mut(array)) {
                    items.retain(|item| item.get(key_field).and_then(Value::as_str) != Some(key));
                }
            }
            None => {
                merged.remove(field);
            }
        }
    }
    for key in REQUEST_ONLY {
        merged.remove(key);
    }
    validate(&merged)?;
    Ok(merged)
}

/// The tasks of some settings (an empty slice when there are none).
pub(crate) fn tasks(settings: &Map<String, Value>) -> &[Value] {
    settings.get("tasks").and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// The keys a task depends on.
pub(crate) fn depends_on(task: &Value) -> Vec<String> {
    task.get("depends_on")
        .and_then(Value::as_array)
        .map(|deps| deps.iter().filter_map(|d| d.get("task_key")?.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// The checks the service makes on job (and one-time run) settings.
pub(crate) fn validate(settings: &Map<String, Value>) -> Result<(), ApiError> {
    if let Some(name) = settings.get("name")
        && !name.is_string()
    {
        return Err(ApiError::invalid_parameter("Invalid value for name: expected a string"));
    }
    if let Some(max) = settings.get("max_concurrent_runs")
        && max.as_u64().is_none()
    {
        return Err(ApiError::invalid_parameter("max_concurrent_runs must be a non-negative integer"));
    }
    let job_clusters = keys_of(settings, "job_clusters", "job_cluster_key")?;
    keys_of(settings, "parameters", "name")?;
    let task_keys = keys_of(settings, "tasks", "task_key")?;
    for task in tasks(settings) {
        let key = task.get("task_key").and_then(Value::as_str).unwrap_or_default();
        let Some(fields) = task.as_object() else {
            return Err(ApiError::invalid_parameter("Each task must be an object"));
        };
        if !fields.keys().any(|k| k.ends_with("_task")) {
            return Err(ApiError::invalid_parameter(format!(
                "Task {key} must specify a task type, for example notebook_task or spark_python_task"
            )));
        }
        for dep in depends_on(task) {
            if !task_keys.contains(&dep) {
                return Err(ApiError::invalid_parameter(format!(
                    "Task {key} depends on {dep}, which is not a task of this job"
                )));
            }
        }
        if let Some(cluster_key) = task.get("job_cluster_key").and_then(Value::as_str)
            && !job_clusters.contains(cluster_key)
        {
            return Err(ApiError::invalid_parameter(format!(
                "Task {key} refers to job cluster {cluster_key}, which is not defined in job_clusters"
            )));
        }
    }
    if has_cycle(tasks(settings)) {
        return Err(ApiError::invalid_parameter("The task dependencies of this job contain a cycle"));
    }
    Ok(())
}

/// The key field of every element of an array field, which must be present and unique.
fn keys_of(settings: &Map<String, Value>, array: &str, key_field: &str) -> Result<BTreeSet<String>, ApiError> {
    let Some(value) = settings.get(array) else { return Ok(BTreeSet::new()) };
    let items = value.as_array().ok_or_else(|| ApiError::invalid_parameter(format!("{array} must be an array")))?;
    let mut keys = BTreeSet::new();
    for item in items {
        let key = item
            .get(key_field)
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| ApiError::missing_field(&format!("{array}.{key_field}")))?;
        if !keys.insert(key.to_owned()) {
            return Err(ApiError::invalid_parameter(format!("Duplicate {key_field} '{key}' in {array}")));
        }
    }
    Ok(keys)
}

fn has_cycle(tasks: &[Value]) -> bool {
    let mut done: BTreeSet<String> = BTreeSet::new();
    loop {
        let ready: Vec<String> = tasks
            .iter()
            .filter_map(|t| t.get("task_key")?.as_str())
            .filter(|k| !done.contains(*k))
            .filter(|k| {
                let task = tasks.iter().find(|t| t.get("task_key").and_then(Value::as_str) == Some(k));
                task.is_some_and(|t| depends_on(t).iter().all(|d| done.contains(d)))
            })
            .map(str::to_owned)
            .collect();
        if ready.is_empty() {
            return done.len() < tasks.len();
        }
        done.extend(ready);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    fn nb(key: &str, deps: &[&str]) -> Value {
        let deps: Vec<Value> = deps.iter().map(|d| json!({"task_key": d})).collect();
        json!({"task_key": key, "notebook_task": {"notebook_path": "/x"}, "depends_on": deps})
    }

    #[test]
    fn defaults_are_filled_in() {
        let s = normalize(obj(json!({"tasks": [nb("a", &[])]}))).expect("valid");
        assert_eq!(s["name"], "Untitled");
        assert_eq!(s["max_concurrent_runs"], 1);
    }

    #[test]
    fn bad_dependencies_are_refused() {
        assert!(normalize(obj(json!({"tasks": [nb("a", &["zz"])]}))).is_err());
        assert!(normalize(obj(json!({"tasks": [nb("a", &["b"]), nb("b", &["a"])]}))).is_err());
        assert!(normalize(obj(json!({"tasks": [nb("a", &[]), nb("a", &[])]}))).is_err());
        assert!(normalize(obj(json!({"tasks": [{"task_key": "a"}]}))).is_err());
    }

    #[test]
    fn update_merges_tasks_by_key_and_removes_fields() {
        let s = normalize(obj(json!({"name": "j", "schedule": {}, "tasks": [nb("a", &[]), nb("b", &["a"])]})))
            .expect("valid");
        let changes = obj(json!({"name": "k", "tasks": [{"task_key": "c", "python_wheel_task": {}}]}));
        let merged = merge(&s, changes, &["schedule".into(), "tasks/b".into()]).expect("valid");
        assert_eq!(merged["name"], "k");
        assert!(merged.get("schedule").is_none());
        let keys: Vec<_> = tasks(&merged).iter().map(|t| t["task_key"].as_str().unwrap_or_default()).collect();
        assert_eq!(keys, vec!["a", "c"]);
    }
}
