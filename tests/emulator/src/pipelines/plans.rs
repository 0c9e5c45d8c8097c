//! The steps an update goes through, with the events each logs. Messages follow the service's
//! event log ("Update 3f1c2a is WAITING_FOR_RESOURCES.", "Flow 'silver_orders' has COMPLETED.").

use serde_json::{Value, json};

use super::{
    events::Draft,
    ids,
    model::{Compute, PipelineState as P, Step, UpdateState as U},
};

/// What an update is asked to do.
#[derive(Debug, Clone)]
pub(crate) struct Run<'a> {
    pub update_id: &'a str,
    pub cause: &'a str,
    pub flows: &'a [String],
    pub fails: bool,
    pub continuous: bool,
    pub validate_only: bool,
    pub full_refresh: bool,
    pub full_refresh_selection: &'a [String],
    /// The cluster it gets; `None` on serverless compute.
    pub cluster_id: Option<String>,
}

fn progress(update_id: &str, state: U) -> Draft {
    Draft::info(
        "update_progress",
        format!("Update {} is {}.", ids::short(update_id), state.as_str()),
        json!({"update_progress": {"state": state.as_str()}}),
    )
}

fn flow(name: &str, status: &str, verb: &str) -> Draft {
    Draft::info(
        "flow_progress",
        format!("Flow '{name}' {verb} {status}."),
        json!({"flow_progress": {"status": status}}),
    )
    .flow(name)
}

/// A stable, plausible row count for a flow.
fn rows(name: &str) -> u64 {
    name.bytes().fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))) % 900_000 + 1_000
}

/// The exception a failing update reports.
fn exception(flow: &str) -> Value {
    json!({
        "exceptions": [{
            "class_name": "org.apache.spark.sql.AnalysisException",
            "message": format!(
                "[TABLE_OR_VIEW_NOT_FOUND] The table or view `{flow}_source` cannot be found. Verify the spelling \
                 and correctness of the schema and catalog."
            ),
        }],
        "fatal": true,
    })
}

/// `start_update`: QUEUED through RUNNING, then COMPLETED or FAILED (a continuous update keeps running).
pub(crate) fn start(run: &Run<'_>) -> Vec<Step> {
    let id = run.update_id;
    let create_update = Draft::info(
        "create_update",
        format!("Update {} started by {}.", ids::short(id), run.cause),
        json!({"create_update": {"cause": run.cause, "full_refresh": run.full_refresh, "validate_only": run.validate_only}}),
    );
    let mut acquire = Compute::Keep;
    if let Some(cluster) = &run.cluster_id {
        acquire = Compute::Acquire(cluster.clone());
    }
    let mut steps = vec![
        Step::new(U::Queued, P::Starting).event(create_update).event(progress(id, U::Queued)),
        Step::new(U::Created, P::Starting).event(progress(id, U::Created)),
        Step::new(U::WaitingForResources, P::Starting).event(progress(id, U::WaitingForResources)),
        Step::new(U::Initializing, P::Running).compute(acquire).event(progress(id, U::Initializing)),
    ];
    if run.full_refresh || !run.full_refresh_selection.is_empty() {
        let reset: Vec<&String> =
            if run.full_refresh { run.flows.iter().collect() } else { run.full_refresh_selection.iter().collect() };
        steps.push(Step::new(U::Resetting, P::Resetting).event(progress(id, U::Resetting)).events(
            reset.into_iter().map(|f| {
                Draft::warn(
                    "flow_progress",
                    format!(
                        "Flow '{f}' is being fully refreshed: its table is truncated and all input is reprocessed."
                    ),
                    json!({"flow_progress": {"status": "QUEUED", "full_refresh": true}}),
                )
                .flow(f)
            }),
        ));
    }
    steps.extend([Step::new(U::SettingUpTables, P::Running).event(progress(id, U::SettingUpTables)).events(
        run.flows.iter().map(|f| {
            Draft::info(
                "flow_definition",
                format!("Flow '{f}' is defined as COMPLETE."),
                json!({"flow_definition": {"output_dataset": f, "flow_type": "COMPLETE"}}),
            )
            .flow(f)
        }),
    )]);
    if run.validate_only {
        steps.push(finish(id, U::Completed, Vec::new()));
        return steps;
    }
    steps.push(
        Step::new(U::Running, P::Running)
            .event(progress(id, U::Running))
            .events(run.flows.iter().map(|f| flow(f, "RUNNING", "is"))),
    );
    if run.fails {
        let failing = run.flows.first().map_or("main", String::as_str);
        let error = exception(failing);
        let drafts = vec![
            Draft::error(
                "flow_progress",
                format!("Flow '{failing}' has FAILED."),
                json!({"flow_progress": {"status": "FAILED"}}),
                error.clone(),
            )
            .flow(failing),
            Draft::error(
                "update_progress",
                format!("Update {} is FAILED.", ids::short(id)),
                json!({"update_progress": {"state": "FAILED"}}),
                error,
            ),
        ];
        steps.push(finish(id, U::Failed, drafts));
    } else if !run.continuous {
        let mut drafts: Vec<Draft> = run
            .flows
            .iter()
            .map(|f| {
                let details = json!({"flow_progress": {
                    "status": "COMPLETED",
                    "metrics": {"num_output_rows": rows(f)},
                    "data_quality": {"dropped_records": 0},
                }});
                Draft::info("flow_progress", format!("Flow '{f}' has COMPLETED."), details).flow(f)
            })
            .collect();
        drafts.push(progress(id, U::Completed));
        steps.push(finish(id, U::Completed, drafts));
    }
    steps
}

/// The last step of an update: the pipeline goes idle and its cluster away.
fn finish(update_id: &str, state: U, drafts: Vec<Draft>) -> Step {
    let mut step = Step::new(state, P::Idle).compute(Compute::Release).events(drafts);
    if state == U::Completed && step.events.is_empty() {
        step = step.event(progress(update_id, state));
    }
    step
}

/// `stop`: the active update stops, then is CANCELED; the pipeline goes IDLE.
pub(crate) fn stop(update_id: &str, user: &str) -> Vec<Step> {
    let action = Draft::info(
        "user_action",
        format!("User {user} stopped the pipeline."),
        json!({"user_action": {"action": "STOP", "user_name": user}}),
    );
    vec![
        Step::new(U::Stopping, P::Stopping).event(action).event(progress(update_id, U::Stopping)),
        finish(update_id, U::Canceled, vec![progress(update_id, U::Canceled)]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(fails: bool, continuous: bool) -> Vec<Step> {
        let flows = vec!["bronze".to_owned(), "silver".to_owned()];
        start(&Run {
            update_id: "abcdef-1234",
            cause: "API_CALL",
            flows: &flows,
            fails,
            continuous,
            validate_only: false,
            full_refresh: false,
            full_refresh_selection: &[],
            cluster_id: Some("0101-000000-abcdef12".into()),
        })
    }

    #[test]
    fn triggered_updates_complete_and_go_idle() {
        let steps = run(false, false);
        let states: Vec<_> = steps.iter().map(|s| s.update.as_str()).collect();
        assert_eq!(
            states,
            ["QUEUED", "CREATED", "WAITING_FOR_RESOURCES", "INITIALIZING", "SETTING_UP_TABLES", "RUNNING", "COMPLETED"]
        );
        assert_eq!(steps.last().map(|s| s.pipeline), Some(P::Idle));
    }

    #[test]
    fn continuous_updates_keep_running_and_failures_log_errors() {
        assert_eq!(run(false, true).last().map(|s| s.update), Some(U::Running));
        let failed = run(true, false);
        let last = failed.last().expect("a last step");
        assert_eq!(last.update, U::Failed);
        assert!(last.events.iter().all(|e| e.error.is_some()));
    }
}
