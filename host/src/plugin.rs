//! A loaded plugin and how one of its tools is called.
//!
//! Loading: take the manifest kept from an earlier load of the same bytes, or compile the
//! component off the async runtime (Winch first for bytes never seen, see [`crate::engine`]),
//! check its imports against the contract versions this host runs, pre-link it, and read its
//! manifest in a sandboxed instance. The manifest is checked, its schemas compiled (at once on
//! first sight, else on first call), and the operator policy applied before a kept manifest's
//! code is mapped, so a refused plugin costs nothing.
//!
//! Calling: a fresh store and instance per call (nothing leaks between calls or users), run
//! under the plugin's limits; the result is checked against the size limit and the tool's output
//! schema before it reaches the client.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;
use wasmtime::{Store, UpdateDeadline};

use crate::bindings::{self, CallContext, ToolPackPre};
use crate::call::{CallEnv, CallState, ProgressSink, truncate};
use crate::config::{Limits, PluginSetup, Settings};
use crate::engine::{Compiled, Runtime, Tier, TierKind, Upgrade};
use crate::guest_output::GuestOutput;
use crate::manifest::{Grant, Manifest, SUPPORTED_CONTRACTS, ToolSpec};
use crate::policy::Refusal;
use crate::workspace::WorkspaceClient;

/// Manifest reads get this long; a plugin that cannot describe itself in time is refused.
const MANIFEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// A plugin ready to run, with the operator policy applied: `manifest.tools` holds only the
/// tools that are served and the grants in force are the effective ones.
pub struct Plugin {
    pub manifest: Manifest,
    /// Tools the policy does not serve, each with why.
    pub hidden: Vec<(String, String)>,
    /// Whether the operator narrowed the declared grants (`manifest.grants`).
    pub narrowed: bool,
    pub file: PathBuf,
    /// Hex sha256 of the `.wasm` bytes.
    pub digest: String,
    pub limits: Limits,
    /// What the operator configured for this plugin (`setting` import).
    pub settings: Settings,
    /// The code calls instantiate; replaced in place when optimised code is ready (a call in
    /// flight keeps the code it started with).
    code: Arc<RwLock<Code>>,
    runtime: Arc<Runtime>,
    grants: Arc<[Grant]>,
    /// The declared grants when the operator narrowed them, so a refusal can say so.
    narrowed_from: Option<Arc<[Grant]>>,
    /// Per tool, compiled on first use when the manifest was kept from an earlier load.
    validators: HashMap<String, OnceLock<Result<Validators, String>>>,
    /// Served tool name -> the plugin's own name for it (they differ under a prefix).
    own_names: HashMap<String, String>,
    concurrency: Arc<Semaphore>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin").field("name", &self.manifest.name).field("file", &self.file).finish_non_exhaustive()
    }
}

/// Compiled code, pre-linked, and the tier (engine) it belongs to.
#[derive(Clone)]
struct Code {
    tier: Arc<Tier>,
    pre: ToolPackPre<CallState>,
}

impl Code {
    fn new(tier: Arc<Tier>, component: &Component) -> Result<Self, String> {
        let pre = tier.linker.instantiate_pre(component).map_err(|e| format!("cannot be linked: {e}"))?;
        let pre = ToolPackPre::new(pre).map_err(|e| format!("does not implement the tool-pack world: {e}"))?;
        Ok(Self { tier, pre })
    }
}

struct Validators {
    input: jsonschema::Validator,
    output: Option<jsonschema::Validator>,
}

/// Why a plugin did not load. The message names the file and the reason.
#[derive(Debug, thiserror::Error)]
#[error("plugin {}: {reason}", file.display())]
pub struct LoadError {
    pub file: PathBuf,
    pub reason: String,
    /// The operator's policy left it out on purpose (allow/deny lists), as opposed to a broken,
    /// refused or colliding file.
    pub excluded: bool,
    /// Its plugin name or a tool name is taken by a plugin already serving: it may load once
    /// that plugin goes.
    pub collided: bool,
}

impl LoadError {
    pub fn new(file: &Path, reason: impl Into<String>) -> Self {
        Self { file: file.to_path_buf(), reason: reason.into(), excluded: false, collided: false }
    }
}

/// The plugin's policy-applied view of its grants and tools, for `plugins list`.
impl Plugin {
    /// The grants in force: declared, intersected with the operator's when narrowed.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }
}

/// How a call ended other than with the tool's own result or error.
#[derive(Debug, thiserror::Error)]
pub enum CallFailure {
    #[error("the arguments do not match the input schema of `{tool}`: {message}")]
    InvalidArguments { tool: String, message: String },
    #[error("{0}")]
    Tool(String),
    #[error("plugin `{plugin}` exceeded its memory limit of {mib} MiB and was stopped")]
    MemoryLimit { plugin: String, mib: usize },
    #[error("plugin `{plugin}` exceeded its deadline of {seconds} s and was stopped")]
    Deadline { plugin: String, seconds: f64 },
    #[error("plugin `{plugin}` crashed: {message}")]
    Crashed { plugin: String, message: String },
    #[error("the call was cancelled")]
    Cancelled,
    #[error(
        "plugin `{plugin}` returned {bytes} bytes of output, over the limit of {limit} bytes; ask for less (a smaller `limit`, a narrower filter, or the next page)"
    )]
    OutputTooLarge { plugin: String, bytes: usize, limit: usize },
    #[error("plugin `{plugin}` returned output that breaks the output schema of `{tool}`: {message}")]
    BadOutput { plugin: String, tool: String, message: String },
}

/// A successful result.
#[derive(Debug, Clone)]
pub struct CallOutput {
    pub text: String,
    pub structured: Option<Value>,
}

/// What the caller knows about the call.
pub struct CallRequest {
    pub request_id: String,
    pub progress: Option<ProgressSink>,
    pub cancel: CancellationToken,
}

impl Plugin {
    /// Load a plugin from its bytes. `configure` gives its limits, settings and policy
    /// admission once the manifest and the file's sha256 are known (see
    /// [`Config::setup_for`](crate::config::Config::setup_for)); an error from it refuses the
    /// plugin.
    pub async fn load(
        runtime: &Arc<Runtime>,
        file: &Path,
        mut bytes: Vec<u8>,
        configure: impl Fn(&Manifest, &str) -> anyhow::Result<PluginSetup>,
    ) -> Result<Self, LoadError> {
        let fail = |reason: String| LoadError::new(file, reason);
        let digest = hex(&Sha256::digest(&bytes));
        let started = Instant::now();

        // A manifest kept from an earlier load of these bytes is checked, and the policy applied
        // to it, before any code is compiled or mapped: a refused plugin costs nothing, and a
        // served one runs no guest code to describe itself. Otherwise the plugin is compiled
        // and asked.
        let kept = runtime.artifacts.as_ref().and_then(|a| a.manifest::<bindings::WitManifest>(&digest));
        let kept_manifest = kept.is_some();
        let (wit_manifest, mut prepared) = match kept {
            Some(manifest) => (manifest, None),
            None => {
                let taken = std::mem::take(&mut bytes);
                let (compiled, code, returned_bytes) = prepare(runtime, &digest, taken).await.map_err(fail)?;
                let manifest = read_manifest(&code, file).await.map_err(fail)?;
                (manifest, Some((compiled, code, returned_bytes)))
            }
        };
        let returned = (!kept_manifest).then(|| wit_manifest.clone());
        let mut manifest =
            bindings::manifest_from_wit(wit_manifest).map_err(|e| fail(format!("invalid manifest: {e}")))?;
        let mut validators: HashMap<String, OnceLock<Result<Validators, String>>> =
            manifest.tools.iter().map(|t| (t.name.clone(), OnceLock::new())).collect();
        if let Some(returned) = returned {
            // First sight of these bytes: a schema that does not compile refuses the plugin now
            // rather than at a first call; then the manifest is kept for the next load (a kept
            // manifest's schemas compile when a tool is first called).
            for tool in &manifest.tools {
                let compiled = compile_validators(tool).map_err(fail)?;
                let _ = validators[&tool.name].set(Ok(compiled));
            }
            if let Some(artifacts) = &runtime.artifacts {
                artifacts.keep_manifest(&digest, &returned);
            }
        }

        let PluginSetup { limits, settings, admission } = configure(&manifest, &digest).map_err(|e| LoadError {
            excluded: e.downcast_ref::<Refusal>().is_some_and(Refusal::is_exclusion),
            ..fail(format!("{e:#}"))
        })?;
        // From here on tools go by the names they are served under (the operator's prefix, if
        // any, then the plugin's own); the plugin is called with its own.
        let mut own_names = HashMap::new();
        for tool in &mut manifest.tools {
            let served = format!("{}{}", admission.prefix, tool.name);
            if served.len() > 64 {
                return Err(fail(format!(
                    "tool `{}` served as `{served}` would have a name over 64 characters; shorten plugins.{}.prefix",
                    tool.name, manifest.name
                )));
            }
            if let Some(slot) = validators.remove(&tool.name) {
                validators.insert(served.clone(), slot);
            }
            own_names.insert(served.clone(), std::mem::replace(&mut tool.name, served));
        }
        // Hidden tools are dropped here, so nothing downstream (index, listing, calls) sees them.
        manifest.tools.retain(|t| !admission.hidden.iter().any(|(name, _)| *name == t.name));
        validators.retain(|name, _| manifest.tools.iter().any(|t| t.name == *name));
        own_names.retain(|name, _| validators.contains_key(name));
        let narrowed_from = admission.narrowed.then(|| Arc::from(manifest.grants.clone()));

        let (compiled, code, bytes) = match prepared.take() {
            Some(prepared) => prepared,
            None => prepare(runtime, &digest, bytes).await.map_err(fail)?,
        };
        tracing::debug!(
            file = %file.display(),
            tier = ?compiled.tier.kind,
            stored = compiled.stored,
            kept_manifest,
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "plugin prepared"
        );
        let code = Arc::new(RwLock::new(code));
        if compiled.tier.kind == TierKind::Baseline {
            optimize_later(runtime, &manifest.name, digest.clone(), bytes, &code);
        }
        Ok(Self {
            grants: admission.grants.into(),
            narrowed_from,
            narrowed: admission.narrowed,
            hidden: admission.hidden,
            manifest,
            file: file.to_path_buf(),
            digest,
            limits,
            settings,
            code,
            runtime: runtime.clone(),
            validators,
            own_names,
            concurrency: Arc::new(Semaphore::new(limits.max_concurrent_calls as usize)),
        })
    }

    /// Call tool `tool` with `arguments`, validating them first.
    pub async fn call(
        &self,
        tool: &str,
        arguments: Value,
        request: CallRequest,
        client: Option<WorkspaceClient>,
    ) -> Result<CallOutput, CallFailure> {
        let plugin = self.manifest.name.clone();
        let validators = self.validators(tool)?;
        let own_name = self.own_names.get(tool).map_or(tool, String::as_str);
        if let Some(message) = first_errors(&validators.input, &arguments) {
            return Err(CallFailure::InvalidArguments { tool: tool.to_string(), message });
        }
        let _permit = tokio::select! {
            permit = self.concurrency.clone().acquire_owned() => permit.map_err(|_| CallFailure::Cancelled)?,
            () = request.cancel.cancelled() => return Err(CallFailure::Cancelled),
        };

        let started = Instant::now();
        let env = Arc::new(CallEnv {
            plugin: plugin.clone().into(),
            tool: tool.to_string(),
            request_id: request.request_id.clone(),
            grants: self.grants.clone(),
            narrowed_from: self.narrowed_from.clone(),
            limits: self.limits,
            settings: self.settings.clone(),
            client,
            progress: request.progress.clone(),
            cancel: request.cancel.clone(),
            deadline: started + self.limits.deadline,
            compensations: Mutex::new(Vec::new()),
        });
        let (stdout, stderr) = CallState::pipes();
        let code = self.code.read().unwrap_or_else(|e| e.into_inner()).clone();
        let mut store = new_store(&code.tier.engine, CallState::new(env.clone(), stdout.clone(), stderr.clone()));
        let context = CallContext {
            request_id: request.request_id.clone(),
            progress_requested: request.progress.is_some(),
            deadline_ms: u64::try_from(self.limits.deadline.as_millis()).unwrap_or(u64::MAX),
        };
        let arguments = arguments.to_string();

        enum Ended {
            Returned(wasmtime::Result<Result<bindings::ToolOutput, bindings::ToolError>>),
            Deadline,
            Cancelled,
        }
        let ended = {
            let run = async {
                let instance = code.pre.instantiate_async(&mut store).await?;
                instance.call_call_tool(&mut store, own_name, &arguments, &context).await
            };
            tokio::select! {
                result = tokio::time::timeout(self.limits.deadline, run) => match result {
                    Ok(result) => Ended::Returned(result),
                    Err(_) => Ended::Deadline,
                },
                () = request.cancel.cancelled() => Ended::Cancelled,
            }
        };
        let memory_hit = store.data().limiter.memory_hit;
        drop(store);
        log_guest_output(&plugin, tool, &stdout, &stderr);

        let outcome = match ended {
            Ended::Returned(Ok(Ok(output))) => self.check_output(tool, output),
            Ended::Returned(Ok(Err(error))) => Err(CallFailure::Tool(tool_error_text(error))),
            Ended::Returned(Err(_)) if memory_hit => {
                Err(CallFailure::MemoryLimit { plugin: plugin.clone(), mib: self.limits.memory_bytes >> 20 })
            }
            Ended::Returned(Err(trap)) => {
                Err(CallFailure::Crashed { plugin: plugin.clone(), message: crash_message(&trap, &stderr) })
            }
            Ended::Deadline => {
                Err(CallFailure::Deadline { plugin: plugin.clone(), seconds: self.limits.deadline.as_secs_f64() })
            }
            Ended::Cancelled => Err(CallFailure::Cancelled),
        };
        if request.cancel.is_cancelled()
            || matches!(outcome, Err(CallFailure::Deadline { .. } | CallFailure::Cancelled))
        {
            compensate(&env, &self.runtime.tasks);
        }
        tracing::info!(
            plugin = %plugin,
            tool = %tool,
            request = %request.request_id,
            ms = started.elapsed().as_secs_f64() * 1000.0,
            ok = outcome.is_ok(),
            "tool call"
        );
        outcome
    }

    fn validators(&self, tool: &str) -> Result<&Validators, CallFailure> {
        let plugin = &self.manifest.name;
        let Some(slot) = self.validators.get(tool) else {
            return Err(CallFailure::Tool(format!("plugin `{plugin}` has no tool `{tool}`")));
        };
        let spec = || self.manifest.tools.iter().find(|t| t.name == tool);
        slot.get_or_init(|| spec().map_or_else(|| Err(format!("no tool `{tool}`")), compile_validators))
            .as_ref()
            .map_err(|e| CallFailure::Tool(format!("plugin `{plugin}`: {e}")))
    }

    fn check_output(&self, tool: &str, output: bindings::ToolOutput) -> Result<CallOutput, CallFailure> {
        let plugin = &self.manifest.name;
        let bytes = output.text.len() + output.structured.as_ref().map_or(0, String::len);
        if bytes > self.limits.max_output_bytes {
            return Err(CallFailure::OutputTooLarge {
                plugin: plugin.clone(),
                bytes,
                limit: self.limits.max_output_bytes,
            });
        }
        let bad = |message: String| CallFailure::BadOutput { plugin: plugin.clone(), tool: tool.to_string(), message };
        let structured = output
            .structured
            .map(|s| serde_json::from_str::<Value>(&s).map_err(|e| bad(format!("structured output is not JSON: {e}"))))
            .transpose()?;
        if structured.as_ref().is_some_and(|v| !v.is_object()) {
            return Err(bad("structured output must be a JSON object".into()));
        }
        if let Some(validator) = self.validators(tool)?.output.as_ref() {
            match &structured {
                Some(value) => {
                    if let Some(message) = first_errors(validator, value) {
                        return Err(bad(message));
                    }
                }
                None => return Err(bad("the tool declares an output schema but returned no structured output".into())),
            }
        }
        Ok(CallOutput { text: output.text, structured })
    }
}

/// A store for one call (or manifest read), with its memory limiter and epoch behaviour.
fn new_store(engine: &wasmtime::Engine, state: CallState) -> Store<CallState> {
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.limiter);
    // Yield to the async runtime at every epoch tick: a busy guest shares the workers, and the
    // deadline timer (and cancellation) can drop the call between ticks.
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));
    store
}

/// Compile (or map) `bytes`, check its imports and pre-link it; the bytes come back for a
/// later Cranelift compilation.
async fn prepare(runtime: &Arc<Runtime>, digest: &str, bytes: Vec<u8>) -> Result<(Compiled, Code, Vec<u8>), String> {
    // Compiling takes from milliseconds (Winch) to a second (Cranelift) of CPU: keep it off the
    // async workers.
    let (task_runtime, task_digest) = (runtime.clone(), digest.to_string());
    let (compiled, bytes) = tokio::task::spawn_blocking(move || {
        let compiled = task_runtime.compile(&task_digest, &bytes, task_runtime.tiered);
        (compiled, bytes)
    })
    .await
    .map_err(|e| format!("compilation task failed: {e}"))?;
    let compiled =
        compiled.map_err(|e| format!("not a valid WebAssembly component: {}", first_line(&e.to_string())))?;
    check_imports(&compiled.component, &compiled.tier.engine)?;
    let code = Code::new(compiled.tier.clone(), &compiled.component)?;
    Ok((compiled, code, bytes))
}

/// Read and check the manifest in a sandboxed instance with a short deadline.
async fn read_manifest(code: &Code, file: &Path) -> Result<bindings::WitManifest, String> {
    let env = Arc::new(CallEnv {
        plugin: file.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default().into(),
        tool: "manifest".into(),
        request_id: "load".into(),
        grants: Arc::new([]),
        narrowed_from: None,
        limits: Limits::default(),
        settings: Settings::default(),
        client: None,
        progress: None,
        cancel: CancellationToken::new(),
        deadline: Instant::now() + MANIFEST_DEADLINE,
        compensations: Mutex::new(Vec::new()),
    });
    let (stdout, stderr) = CallState::pipes();
    let mut store = new_store(&code.tier.engine, CallState::new(env, stdout, stderr.clone()));
    let run = async {
        let instance = code.pre.instantiate_async(&mut store).await?;
        instance.call_manifest(&mut store).await
    };
    let manifest = match tokio::time::timeout(MANIFEST_DEADLINE, run).await {
        Ok(Ok(manifest)) => manifest,
        Ok(Err(trap)) => return Err(format!("crashed while describing itself: {}", crash_message(&trap, &stderr))),
        Err(_) => return Err(format!("did not describe itself within {} s", MANIFEST_DEADLINE.as_secs())),
    };
    Ok(manifest)
}

/// Have Cranelift compile the plugin in the background and swap its code in when ready. A
/// plugin unloaded meanwhile is not compiled (or, once compiled, not updated).
fn optimize_later(runtime: &Arc<Runtime>, name: &str, digest: String, bytes: Vec<u8>, code: &Arc<RwLock<Code>>) {
    let (wanted, slot) = (Arc::downgrade(code), Arc::downgrade(code));
    let optimized = runtime.optimized.clone();
    let plugin = name.to_string();
    runtime.upgrade_later(Upgrade {
        name: name.to_string(),
        digest,
        bytes,
        wanted: Box::new(move || wanted.strong_count() > 0),
        done: Box::new(move |component| {
            let Some(slot) = slot.upgrade() else { return };
            match Code::new(optimized, &component) {
                Ok(code) => {
                    *slot.write().unwrap_or_else(|e| e.into_inner()) = code;
                    tracing::info!(plugin = %plugin, "plugin now runs optimized code");
                }
                Err(e) => tracing::warn!(plugin = %plugin, "optimized code not used: {e}"),
            }
        }),
    });
}

/// Refuse components that import anything but WASI and this contract, or another version of
/// the contract, before linking would fail with a less helpful message.
fn check_imports(component: &Component, engine: &wasmtime::Engine) -> Result<(), String> {
    for (name, item) in component.component_type().imports(engine) {
        if !matches!(item.ty, ComponentItem::ComponentInstance(_)) {
            return Err(format!("imports `{name}`, which is not an interface this host provides"));
        }
        if let Some(rest) = name.strip_prefix("databricks-mcp:plugin/") {
            let version = rest.split_once('@').map_or("", |(_, v)| v);
            if crate::manifest::check_contract(version).is_err() {
                return Err(format!(
                    "built for contract {} (imports {name}), but this host runs contract {}; rebuild the plugin with a matching databricks-mcp-sdk",
                    if version.is_empty() { "(unversioned)" } else { version },
                    SUPPORTED_CONTRACTS.iter().map(|v| format!("{v}.x")).collect::<Vec<_>>().join(", "),
                ));
            }
        } else if !name.starts_with("wasi:") {
            return Err(format!(
                "imports `{name}`; plugins may import only WASI and the databricks-mcp:plugin interfaces"
            ));
        }
    }
    Ok(())
}

fn compile_validators(tool: &ToolSpec) -> Result<Validators, String> {
    let compile = |which: &str, schema: &serde_json::Map<String, Value>| {
        jsonschema::validator_for(&Value::Object(schema.clone()))
            .map_err(|e| format!("tool `{}`: the {which} schema is not valid JSON Schema: {e}", tool.name))
    };
    Ok(Validators {
        input: compile("input", &tool.input_schema)?,
        output: tool.output_schema.as_ref().map(|s| compile("output", s)).transpose()?,
    })
}

/// The validator's first few complaints, with where in the value they are; `None` if valid.
fn first_errors(validator: &jsonschema::Validator, value: &Value) -> Option<String> {
    // Collecting errors costs far more than a yes/no answer, and almost every value is valid.
    if validator.is_valid(value) {
        return None;
    }
    let errors: Vec<String> = validator
        .iter_errors(value)
        .take(3)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() { e.to_string() } else { format!("at {at}: {e}") }
        })
        .collect();
    (!errors.is_empty()).then(|| errors.join("; "))
}

fn tool_error_text(error: bindings::ToolError) -> String {
    use bindings::ToolError as E;
    match error {
        E::InvalidArguments(m) => format!("Invalid arguments: {m}"),
        E::NotFound(m) => format!("Not found: {m}"),
        E::PermissionDenied(m) => format!("Permission denied: {m}"),
        E::Upstream(e) if e.error_code.is_empty() => format!("Databricks API error {}: {}", e.status, e.message),
        E::Upstream(e) => format!("Databricks API error {} {}: {}", e.status, e.error_code, e.message),
        E::Failed(m) => format!("Failed: {m}"),
        E::Timeout(m) => format!("Timed out: {m}"),
        E::Cancelled => "Cancelled".to_string(),
        E::Internal(m) => format!("Internal error in the plugin: {m}"),
    }
}

/// The trap, plus the guest's panic message when it printed one.
fn crash_message(trap: &wasmtime::Error, stderr: &GuestOutput) -> String {
    let output = stderr.contents();
    let output = String::from_utf8_lossy(&output);
    let trap = first_line(&trap.to_string()).to_string();
    match output.lines().find_map(|l| l.split_once("panicked at ").map(|(_, rest)| rest)) {
        Some(location) => {
            // std prints "panicked at src/lib.rs:1:2:\nmessage".
            let message = output.split_once(location).map(|(_, after)| after.trim()).unwrap_or("");
            format!("panicked at {} ({trap})", truncate(&format!("{location} {message}"), 500).trim())
        }
        None => trap,
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

fn log_guest_output(plugin: &str, tool: &str, stdout: &GuestOutput, stderr: &GuestOutput) {
    for (stream, pipe) in [("stdout", stdout), ("stderr", stderr)] {
        let bytes = pipe.contents();
        for line in String::from_utf8_lossy(&bytes).lines().filter(|l| !l.trim().is_empty()) {
            tracing::info!(plugin = %plugin, tool = %tool, stream = %stream, "guest: {}", truncate(line, 2000));
        }
    }
}

/// Send the compensations of a cancelled or timed-out call, in the background.
fn compensate(env: &Arc<CallEnv>, tasks: &tokio_util::task::TaskTracker) {
    let requests = env.take_compensations();
    let (Some(client), false) = (env.client.clone(), requests.is_empty()) else { return };
    let plugin = env.plugin.clone();
    let max_body = env.limits.max_response_bytes;
    tasks.spawn(async move {
        for request in requests {
            match client.send(&request, max_body).await {
                Ok(r) => {
                    tracing::info!(plugin = %plugin, method = %request.method, path = %request.path, status = r.status, "sent compensation")
                }
                Err(e) => {
                    tracing::warn!(plugin = %plugin, method = %request.method, path = %request.path, "compensation failed: {e}")
                }
            }
        }
    });
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
