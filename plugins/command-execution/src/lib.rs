//! Run code on a running cluster as MCP tools, through the command execution API (1.2):
//! `execute_code`, plus the execution-context tools for state that must survive between calls.
//!
//! How contexts are kept bounded when every call runs in a fresh plugin instance (nothing lives
//! between calls, so nothing can clean up later):
//! - `execute_code` without `context_id` creates its own context, runs the code, and destroys the
//!   context before it answers, whatever happened: the code finished, failed, ran out of time (the
//!   command is cancelled first), or the call was cancelled (a compensation destroys it). Nothing
//!   is left on the cluster. Variables do not survive between such calls.
//! - To keep variables between calls, `create_execution_context` makes a context and returns its
//!   id, `execute_code` with `context_id` runs in it (and leaves a command that outlives the wait
//!   running, to be read with `get_command_status`), and `destroy_execution_context` ends it. Such a
//!   context lives until it is destroyed or the cluster restarts or terminates; the descriptions
//!   tell the model to destroy what it creates, since a cluster holds only about 150.

mod model;

use std::time::Duration;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request};

use model::{CommandStatus, Outcome};

const API: &str = "/api/1.2";

/// Languages a command can be written in.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Python (the default), with `spark`, `dbutils` and `display` at hand.
    #[default]
    Python,
    /// Spark SQL; a query answers with a table.
    Sql,
    /// Scala.
    Scala,
    /// R.
    R,
}

impl Language {
    fn as_str(self) -> &'static str {
        match self {
            Self::Python => "python",
            Self::Sql => "sql",
            Self::Scala => "scala",
            Self::R => "r",
        }
    }
}

fn post(endpoint: &str, body: Value) -> Result<Request> {
    Request::new(Method::Post, format!("{API}/{endpoint}")).json(&body)
}

fn destroy_request(cluster_id: &str, context_id: &str) -> Result<Request> {
    post("contexts/destroy", json!({ "clusterId": cluster_id, "contextId": context_id }))
}

fn cancel_request(cluster_id: &str, context_id: &str, command_id: &str) -> Result<Request> {
    post("commands/cancel", json!({ "clusterId": cluster_id, "contextId": context_id, "commandId": command_id }))
}

#[databricks_mcp_sdk::schema]
struct Created {
    id: String,
}

/// Create a context and wait until it is Running (or fail saying why).
fn create_context(
    ctx: &Context,
    cluster_id: &str,
    language: Language,
    timeout: Duration,
) -> Result<(String, databricks_mcp_sdk::Compensation)> {
    let created: Created = ctx
        .send(post("contexts/create", json!({ "clusterId": cluster_id, "language": language.as_str() }))?)?
        .json()
        .map_err(|e| explain_cluster_error(e, cluster_id))?;
    // From here on, a cancelled call must not leave the context behind.
    let guard = ctx.on_cancel(destroy_request(cluster_id, &created.id)?)?;
    let wait = Wait::new(format!("execution context on cluster {cluster_id} to start"), timeout);
    let started = ctx.wait_until(&wait, || {
        #[databricks_mcp_sdk::schema]
        struct Status {
            status: String,
        }
        let status: Status = ctx.get(
            &format!("{API}/contexts/status"),
            &[("clusterId", cluster_id.to_string()), ("contextId", created.id.clone())],
        )?;
        match status.status.as_str() {
            "Running" => Ok(Poll::Ready(())),
            "Error" => Err(ToolError::Failed(format!("the execution context on cluster {cluster_id} failed to start"))),
            other => Ok(Poll::Pending(other.to_string())),
        }
    });
    if let Err(e) = started {
        // Best effort: the context is useless to anyone now.
        let _ = ctx.send(destroy_request(cluster_id, &created.id)?);
        guard.disarm();
        return Err(e);
    }
    Ok((created.id, guard))
}

/// Says what to do about the API's refusals that name the cluster.
fn explain_cluster_error(e: ToolError, cluster_id: &str) -> ToolError {
    match e.api_error() {
        Some(api) if api.error_code == "INVALID_STATE" => ToolError::Failed(format!(
            "{}. Start the cluster (start_cluster, then wait_for_cluster) and try again.",
            api.message
        )),
        Some(api) if api.error_code == "RESOURCE_EXHAUSTED" => ToolError::Failed(format!(
            "{}. Destroy contexts you no longer need with destroy_execution_context on cluster {cluster_id}.",
            api.message
        )),
        _ => e,
    }
}

fn status(ctx: &Context, cluster_id: &str, context_id: &str, command_id: &str) -> Result<CommandStatus> {
    ctx.get(
        &format!("{API}/commands/status"),
        &[
            ("clusterId", cluster_id.to_string()),
            ("contextId", context_id.to_string()),
            ("commandId", command_id.to_string()),
        ],
    )
}

/// Polls the command until it is over or `timeout` runs out; `None` when it is still going.
fn wait_command(
    ctx: &Context,
    cluster_id: &str,
    context_id: &str,
    command_id: &str,
    timeout: Duration,
) -> Result<(CommandStatus, bool)> {
    let wait = Wait::new(format!("command {command_id} on cluster {cluster_id}"), timeout);
    match ctx.wait_for(&wait, || {
        let current = status(ctx, cluster_id, context_id, command_id)?;
        Ok(if current.is_over() { Poll::Ready(current) } else { Poll::Pending(current.status) })
    })? {
        Waited::Done(done) => Ok((done, true)),
        Waited::StillRunning { .. } => Ok((status(ctx, cluster_id, context_id, command_id)?, false)),
    }
}

/// What a command produced, or where it stands.
#[schema]
pub struct CommandResult {
    /// The cluster.
    pub cluster_id: String,
    /// The context the command ran in; absent when `execute_code` made its own and destroyed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_id: Option<String>,
    /// The command id.
    pub command_id: String,
    /// `Queued`, `Running`, `Cancelling`, `Finished`, `Cancelled` or `Error`.
    pub status: String,
    /// Whether the command is over (Finished, Error or Cancelled).
    pub finished: bool,
    /// What it produced, once over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}

/// The timeout of a wait: `seconds` (default `default`), at most 1200 s.
fn timeout(seconds: Option<u32>, default: u32) -> Duration {
    Duration::from_secs(u64::from(seconds.unwrap_or(default).clamp(1, 1200)))
}

fn describe(result: &CommandResult, max_rows: usize) -> String {
    match &result.outcome {
        Some(outcome) if result.status == "Cancelled" => {
            format!("Command {} was cancelled.\n{}", result.command_id, outcome.text(max_rows))
        }
        Some(outcome) => outcome.text(max_rows),
        None => format!("Command {} is {}.", result.command_id, result.status),
    }
}

fn result_of(cluster_id: &str, context_id: Option<&str>, current: CommandStatus, max_chars: usize) -> CommandResult {
    let finished = current.is_over();
    CommandResult {
        cluster_id: cluster_id.to_string(),
        context_id: context_id.map(str::to_string),
        command_id: current.id.clone(),
        outcome: current.results.as_ref().filter(|_| finished).map(|r| Outcome::from_results(r, max_chars)),
        status: current.status,
        finished,
    }
}

/// Arguments of `execute_code`.
#[schema]
pub struct ExecuteCode {
    /// The cluster, which must be RUNNING (see `list_clusters`, `start_cluster`).
    pub cluster_id: String,
    /// The code to run, e.g. `spark.table("main.sales.orders").count()` or a SQL query.
    pub code: String,
    /// `python` (default), `sql`, `scala` or `r`.
    #[serde(default)]
    pub language: Language,
    /// Run in this context (from `create_execution_context`), keeping its variables. Without it,
    /// a temporary context is made for this call and destroyed before the call answers.
    #[serde(default)]
    pub context_id: Option<String>,
    /// How long to wait for the code, in seconds (default 300, at most 1200). Without
    /// `context_id`, code still running then is cancelled; with it, the code keeps running.
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
    /// Show at most this many characters of output or error trace (default 10000, at most 100000).
    #[serde(default)]
    pub max_chars: Option<u32>,
    /// Show at most this many rows of a table in the text (default 50; all rows are in the
    /// structured result, up to the cluster's 1000).
    #[serde(default)]
    pub max_rows: Option<u32>,
}

/// Run Python, SQL, Scala or R code on a running cluster and return its output, table or error,
/// reporting progress while it runs. Without `context_id` the call makes a temporary execution
/// context and always destroys it before answering (variables do not persist; code still running
/// at the timeout is cancelled; cancelling the call destroys the context). With a `context_id` from
/// `create_execution_context`, the code runs there, variables persist, and code that outlives the
/// wait keeps running: poll it with `get_command_status`. Needs attach permission on the cluster.
#[tool(destructive, open_world, title = "Execute code on a cluster")]
fn execute_code(ctx: &Context, args: ExecuteCode) -> Result<Output<CommandResult>> {
    if args.code.trim().is_empty() {
        return Err(ToolError::invalid("code is empty"));
    }
    let max_chars = args.max_chars.unwrap_or(10_000).clamp(100, 100_000) as usize;
    let max_rows = args.max_rows.unwrap_or(50).clamp(1, 1000) as usize;
    let total = timeout(args.timeout_seconds, 300);
    let cluster_id = args.cluster_id.as_str();
    let started = std::time::Instant::now();

    let (context_id, owned) = match &args.context_id {
        Some(id) => (id.clone(), None),
        None => {
            let (id, guard) = create_context(ctx, cluster_id, args.language, total.min(Duration::from_secs(300)))?;
            (id, Some(guard))
        }
    };
    let body = json!({ "clusterId": cluster_id, "contextId": context_id, "language": args.language.as_str(), "command": args.code });
    let executed = ctx.send(post("commands/execute", body)?).and_then(|r| r.json::<Created>());
    let command_id = match executed {
        Ok(created) => created.id,
        Err(e) => {
            if let Some(guard) = owned {
                let _ = ctx.send(destroy_request(cluster_id, &context_id)?);
                guard.disarm();
            }
            return Err(explain_cluster_error(e, cluster_id));
        }
    };
    // A caller's context survives this call, so cancelling the call cancels only the command; an
    // owned context is destroyed instead (which ends its command too).
    let command_guard = match owned {
        Some(_) => None,
        None => Some(ctx.on_cancel(cancel_request(cluster_id, &context_id, &command_id)?)?),
    };
    let remaining = total.saturating_sub(started.elapsed()).max(Duration::from_secs(1));
    let waited = wait_command(ctx, cluster_id, &context_id, &command_id, remaining);
    if let Some(guard) = command_guard {
        guard.disarm();
    }
    let Some(guard) = owned else {
        // The caller's context: report where the command stands.
        let (current, finished) = waited?;
        let result = result_of(cluster_id, Some(&context_id), current, max_chars);
        let mut text = describe(&result, max_rows);
        if !finished {
            text.push_str(&format!(
                "\nStill {} after {:.0} s; it keeps running. Call get_command_status with cluster_id {cluster_id}, context_id {context_id} and command_id {command_id} (wait: true) to keep waiting, or cancel_command to stop it.",
                result.status,
                started.elapsed().as_secs_f64()
            ));
        }
        return Ok(Output::new(text, result));
    };
    // Our own context: whatever happened, leave nothing behind.
    let outcome = match waited {
        Ok((current, true)) => Ok(current),
        Ok((current, false)) => {
            let _ = ctx.send(cancel_request(cluster_id, &context_id, &command_id)?);
            Err(ToolError::Timeout(format!(
                "the code was still {} after {:.0} s, so it was cancelled and its temporary context destroyed. For longer work, pass a larger timeout_seconds (at most 1200), or create_execution_context and pass its context_id: the code then keeps running past the wait and get_command_status reads it.",
                current.status,
                started.elapsed().as_secs_f64()
            )))
        }
        Err(e) => Err(e),
    };
    let destroyed = ctx.send(destroy_request(cluster_id, &context_id)?);
    guard.disarm();
    let current = outcome?;
    destroyed?;
    let result = result_of(cluster_id, None, current, max_chars);
    Ok(Output::new(describe(&result, max_rows), result))
}

/// Arguments of `create_execution_context`.
#[schema]
pub struct CreateContext {
    /// The cluster, which must be RUNNING.
    pub cluster_id: String,
    /// The context's default language: `python` (default), `sql`, `scala` or `r`.
    #[serde(default)]
    pub language: Language,
}

/// A context that was made.
#[schema]
pub struct ContextCreated {
    /// The cluster.
    pub cluster_id: String,
    /// Pass as `context_id` to `execute_code`; destroy it with `destroy_execution_context`.
    pub context_id: String,
}

/// Create an execution context on a running cluster: a REPL whose variables and imports persist
/// across `execute_code` calls that pass its `context_id`. It lives until
/// `destroy_execution_context` or until the cluster restarts or terminates, and holds driver
/// memory (a cluster allows about 150): destroy it when you are done. For one-off code, call
/// `execute_code` without a context instead.
#[tool(title = "Create execution context")]
fn create_execution_context(ctx: &Context, args: CreateContext) -> Result<Output<ContextCreated>> {
    let (context_id, guard) = create_context(ctx, &args.cluster_id, args.language, Duration::from_secs(300))?;
    guard.disarm();
    Ok(Output::new(
        format!(
            "Created execution context {context_id} ({}) on cluster {}. Pass context_id {context_id} to execute_code; call destroy_execution_context when done.",
            args.language.as_str(),
            args.cluster_id
        ),
        ContextCreated { cluster_id: args.cluster_id, context_id },
    ))
}

/// Arguments naming one context.
#[schema]
pub struct ContextRef {
    /// The cluster.
    pub cluster_id: String,
    /// The context id.
    pub context_id: String,
}

/// What `destroy_execution_context` did.
#[schema]
pub struct ContextDestroyed {
    /// The cluster.
    pub cluster_id: String,
    /// The context that is gone.
    pub context_id: String,
}

/// Destroy an execution context: its variables are gone and any command still running in it
/// stops. Call it for every context `create_execution_context` made, once you are done.
#[tool(destructive, idempotent, title = "Destroy execution context")]
fn destroy_execution_context(ctx: &Context, args: ContextRef) -> Result<Output<ContextDestroyed>> {
    match ctx.send(destroy_request(&args.cluster_id, &args.context_id)?)?.json::<Value>() {
        Ok(_) => {}
        // Gone already (destroyed, or the cluster restarted): what was asked for is true.
        Err(e) if e.is_not_found() || e.api_error().is_some_and(|a| a.message.contains("does not exist")) => {}
        Err(e) => return Err(e),
    }
    Ok(Output::new(
        format!("Destroyed execution context {} on cluster {}.", args.context_id, args.cluster_id),
        ContextDestroyed { cluster_id: args.cluster_id, context_id: args.context_id },
    ))
}

/// Arguments naming one command.
#[schema]
pub struct CommandRef {
    /// The cluster.
    pub cluster_id: String,
    /// The context the command runs in.
    pub context_id: String,
    /// The command id (from `execute_code`).
    pub command_id: String,
    /// Wait for the command to finish, reporting progress (default false: answer at once).
    #[serde(default)]
    pub wait: bool,
    /// With `wait`: give up waiting after this many seconds (default 300, at most 1200); the
    /// command keeps running.
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
    /// Show at most this many characters of output or error trace (default 10000).
    #[serde(default)]
    pub max_chars: Option<u32>,
}

/// Read where a command in an execution context stands, and its output, table or error once it
/// is over; optionally wait for it with progress.
#[tool(read_only, idempotent, title = "Get command status")]
fn get_command_status(ctx: &Context, args: CommandRef) -> Result<Output<CommandResult>> {
    let max_chars = args.max_chars.unwrap_or(10_000).clamp(100, 100_000) as usize;
    let current = if args.wait {
        let limit = timeout(args.timeout_seconds, 300);
        wait_command(ctx, &args.cluster_id, &args.context_id, &args.command_id, limit)?.0
    } else {
        status(ctx, &args.cluster_id, &args.context_id, &args.command_id)?
    };
    let result = result_of(&args.cluster_id, Some(&args.context_id), current, max_chars);
    let mut text = describe(&result, 50);
    if !result.finished {
        text.push_str(" Call again with wait: true to wait for it, or cancel_command to stop it.");
    }
    Ok(Output::new(text, result))
}

/// Arguments of `cancel_command`.
#[schema]
pub struct CancelCommand {
    /// The cluster.
    pub cluster_id: String,
    /// The context the command runs in.
    pub context_id: String,
    /// The command id.
    pub command_id: String,
}

/// Cancel a command running in an execution context and wait (briefly) until it is Cancelled.
/// The context and its variables stay.
#[tool(destructive, idempotent, title = "Cancel command")]
fn cancel_command(ctx: &Context, args: CancelCommand) -> Result<Output<CommandResult>> {
    let before = status(ctx, &args.cluster_id, &args.context_id, &args.command_id)?;
    if before.is_over() {
        let result = result_of(&args.cluster_id, Some(&args.context_id), before, 10_000);
        let text = format!("Command {} is already {}; nothing to cancel.", args.command_id, result.status);
        return Ok(Output::new(text, result));
    }
    ctx.send(cancel_request(&args.cluster_id, &args.context_id, &args.command_id)?)?.json::<Value>()?;
    let (current, _) =
        wait_command(ctx, &args.cluster_id, &args.context_id, &args.command_id, Duration::from_secs(60))?;
    let result = result_of(&args.cluster_id, Some(&args.context_id), current, 10_000);
    let text = format!("Cancelled command {}: it is {}.", args.command_id, result.status);
    Ok(Output::new(text, result))
}

databricks_mcp_sdk::plugin! {
    name: "command-execution",
    description: "Run Python, SQL, Scala or R on a running cluster (command execution API 1.2), in a temporary context or one that keeps variables between calls",
    grants: [
        "POST /api/1.2/contexts/create",
        "GET /api/1.2/contexts/status",
        "POST /api/1.2/contexts/destroy",
        "POST /api/1.2/commands/execute",
        "GET /api/1.2/commands/status",
        "POST /api/1.2/commands/cancel",
    ],
    tools: [
        execute_code,
        create_execution_context,
        get_command_status,
        cancel_command,
        destroy_execution_context,
    ],
}
