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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;
use wasmtime::{Store, UpdateDeadline};

use crate::bindings::{self, CallContext, ContentPackPre, ToolPackPre, wit_content};
use crate::call::{CallEnv, CallState, ProgressSink, truncate};
use crate::config::{Limits, PluginSetup, Settings};
use crate::content;
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
    /// Resources and prompts, as served (the policy may have hidden either; prompts renamed
    /// under the prefix); none for a plugin built against contract 0.1.0.
    pub content: Option<content::ContentManifest>,
    /// Served prompt name -> the plugin's own name.
    own_prompt_names: HashMap<String, String>,
    /// Read-only mode: content calls may only send GET and HEAD.
    read_only: bool,
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
    /// The same component seen as a `content-pack` (contract 0.1.1 on), when it exports
    /// `content`.
    content: Option<ContentPackPre<CallState>>,
}

impl Code {
    fn new(tier: Arc<Tier>, component: &Component) -> Result<Self, String> {
        let pre = tier.linker.instantiate_pre(component).map_err(|e| format!("cannot be linked: {e}"))?;
        let exports_content = component
            .component_type()
            .exports(&tier.engine)
            .any(|(name, _)| name.starts_with("databricks-mcp:plugin/content@"));
        let content = if exports_content {
            // Exported, so it must be the contract's: a mismatch is a broken plugin, not a
            // plugin without content.
            Some(
                ContentPackPre::new(pre.clone())
                    .map_err(|e| format!("exports a `content` interface this host cannot use: {e}"))?,
            )
        } else {
            None
        };
        let pre = ToolPackPre::new(pre).map_err(|e| format!("does not implement the tool-pack world: {e}"))?;
        Ok(Self { tier, pre, content })
    }
}

/// What a call runs: a tool, or one of the `content` functions.
enum Invocation {
    Tool { name: String, arguments: String },
    ListResources(Option<String>),
    Read(String),
    Prompt(String, Vec<(String, String)>),
    Complete(wit_content::CompletionRequest),
}

/// What the guest returned, by invocation.
enum Returned {
    Tool(Result<bindings::ToolOutput, bindings::ToolError>),
    Page(Result<wit_content::ResourcePage, bindings::ToolError>),
    Read(Result<Vec<wit_content::ResourceContents>, bindings::ToolError>),
    Prompt(Result<wit_content::PromptResult, bindings::ToolError>),
    Complete(Result<wit_content::Completion, bindings::ToolError>),
}

/// What a manifest read returns, and what is kept beside the compiled code: the manifest and,
/// for a `content-pack`, its content.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Described {
    manifest: bindings::WitManifest,
    content: Option<wit_content::ContentManifest>,
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
    /// A resource, prompt or template that does not exist (JSON-RPC `-32002` for a resource).
    #[error("{0}")]
    NotFound(String),
    /// Arguments of a prompt or completion that do not fit it.
    #[error("{0}")]
    BadArguments(String),
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
    /// Resources the result links to (URIs absolute), each a `resource_link` content item.
    pub links: Vec<content::Resource>,
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
        let kept = runtime.artifacts.as_ref().and_then(|a| a.manifest::<Described>(&digest));
        let kept_manifest = kept.is_some();
        let (described, mut prepared) = match kept {
            Some(described) => (described, None),
            None => {
                let taken = std::mem::take(&mut bytes);
                let (compiled, code, returned_bytes) = prepare(runtime, &digest, taken).await.map_err(fail)?;
                let described = read_manifest(&code, file).await.map_err(fail)?;
                (described, Some((compiled, code, returned_bytes)))
            }
        };
        let returned = (!kept_manifest).then(|| described.clone());
        let Described { manifest: wit_manifest, content: wit_content } = described;
        let mut manifest =
            bindings::manifest_from_wit(wit_manifest).map_err(|e| fail(format!("invalid manifest: {e}")))?;
        let mut content = wit_content
            .map(bindings::content_from_wit)
            .transpose()
            .map_err(|e| fail(format!("invalid resources or prompts: {e}")))?;
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
        // Resources and prompts: hidden whole when the operator says so; prompts are renamed
        // under the prefix like tools, so two plugins' prompts can be told apart.
        let mut own_prompt_names = HashMap::new();
        if let Some(content) = &mut content {
            if !admission.resources {
                content.templates.clear();
                content.lists_resources = false;
            }
            if !admission.prompts {
                content.prompts.clear();
            }
            for prompt in &mut content.prompts {
                let served = format!("{}{}", admission.prefix, prompt.name);
                own_prompt_names.insert(served.clone(), std::mem::replace(&mut prompt.name, served));
            }
        }

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
            content,
            own_prompt_names,
            read_only: admission.read_only,
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
        let validators = self.validators(tool)?;
        let own_name = self.own_names.get(tool).map_or(tool, String::as_str);
        if let Some(message) = first_errors(&validators.input, &arguments) {
            return Err(CallFailure::InvalidArguments { tool: tool.to_string(), message });
        }
        let invocation = Invocation::Tool { name: own_name.to_string(), arguments: arguments.to_string() };
        let (returned, env) = self.run(tool, invocation, request, client, false).await?;
        let Returned::Tool(result) = returned else { unreachable!("a tool call returns a tool result") };
        let mut output = result
            .map_err(|e| refusal_explained(CallFailure::Tool(tool_error_text(e)), &env))
            .and_then(|o| self.check_output(tool, o))?;
        output.links = self.accept_links(tool, &env);
        Ok(output)
    }

    /// The links a tool call attached that a client can follow: resources served, URI under a
    /// declared template. The rest are dropped with a warning (a link that cannot be read
    /// would only mislead the model).
    fn accept_links(&self, tool: &str, env: &CallEnv) -> Vec<content::Resource> {
        let links = std::mem::take(&mut *env.links.lock().unwrap_or_else(|e| e.into_inner()));
        let plugin = &self.manifest.name;
        links
            .into_iter()
            .filter(|link| {
                let readable = self.content.as_ref().is_some_and(|c| c.template_for(&link.uri).is_some());
                if !readable {
                    tracing::warn!(plugin = %plugin, tool = %tool, uri = %crate::call::sanitize(&link.uri, 200), "dropping a resource link no served template matches");
                }
                readable
            })
            .map(|link| link.placed(plugin))
            .collect()
    }

    /// Whether this plugin serves resources (templates or a list) after the policy.
    pub fn serves_resources(&self) -> bool {
        self.content.as_ref().is_some_and(|c| !c.templates.is_empty() || c.lists_resources)
    }

    /// List one page of this plugin's concrete resources (URIs absolute).
    pub async fn list_resources(
        &self,
        cursor: Option<String>,
        request: CallRequest,
        client: Option<WorkspaceClient>,
    ) -> Result<content::ResourcePage, CallFailure> {
        let (returned, env) =
            self.run("resources/list", Invocation::ListResources(cursor), request, client, self.read_only).await?;
        let Returned::Page(page) = returned else { unreachable!("resources/list returns a page") };
        let page: content::ResourcePage = page.map_err(|e| refusal_explained(content_error(e), &env))?.into();
        let plugin = &self.manifest.name;
        Ok(content::ResourcePage {
            resources: page.resources.into_iter().map(|r| r.placed(plugin)).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Read the resource at `uri` (below this plugin's root).
    pub async fn read_resource(
        &self,
        uri: &str,
        request: CallRequest,
        client: Option<WorkspaceClient>,
    ) -> Result<Vec<content::Contents>, CallFailure> {
        let plugin = &self.manifest.name;
        if self.content.as_ref().and_then(|c| c.template_for(uri)).is_none() {
            return Err(CallFailure::NotFound(format!(
                "no resource template of plugin `{plugin}` matches `{}`; resources/templates/list gives the templates",
                content::absolute(plugin, &crate::call::sanitize(uri, 200))
            )));
        }
        let (returned, env) =
            self.run("resources/read", Invocation::Read(uri.to_string()), request, client, self.read_only).await?;
        let Returned::Read(contents) = returned else { unreachable!("resources/read returns contents") };
        let contents: Vec<content::Contents> =
            contents.map_err(|e| refusal_explained(content_error(e), &env))?.into_iter().map(Into::into).collect();
        // Reading is how a client gets what was too large for a tool result, so the bound is the
        // size of a workspace response rather than of a tool's output.
        let bytes: usize = contents.iter().map(|c| c.body.len()).sum();
        if bytes > self.limits.max_response_bytes {
            return Err(CallFailure::OutputTooLarge {
                plugin: plugin.clone(),
                bytes,
                limit: self.limits.max_response_bytes,
            });
        }
        Ok(contents
            .into_iter()
            .map(|mut c| {
                c.uri = content::absolute(plugin, &c.uri);
                c
            })
            .collect())
    }

    /// Render prompt `name` (as served) with `arguments`.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: Vec<(String, String)>,
        request: CallRequest,
        client: Option<WorkspaceClient>,
    ) -> Result<content::RenderedPrompt, CallFailure> {
        let spec = self.prompt(name).ok_or_else(|| CallFailure::NotFound(format!("no prompt `{name}`")))?;
        if let Some(missing) =
            spec.arguments.iter().find(|a| a.required && !arguments.iter().any(|(k, _)| *k == a.name))
        {
            return Err(CallFailure::BadArguments(format!("prompt `{name}` needs argument `{}`", missing.name)));
        }
        if let Some((unknown, _)) = arguments.iter().find(|(k, _)| !spec.arguments.iter().any(|a| a.name == *k)) {
            return Err(CallFailure::BadArguments(format!(
                "prompt `{name}` has no argument `{}`; it takes: {}",
                crate::call::sanitize(unknown, 100),
                spec.arguments.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        let own = self.own_prompt_names.get(name).cloned().unwrap_or_else(|| name.to_string());
        let (returned, env) =
            self.run("prompts/get", Invocation::Prompt(own, arguments), request, client, self.read_only).await?;
        let Returned::Prompt(rendered) = returned else { unreachable!("prompts/get returns a prompt") };
        let mut rendered: content::RenderedPrompt =
            rendered.map_err(|e| refusal_explained(content_error(e), &env))?.into();
        let plugin = &self.manifest.name;
        let output: usize = rendered
            .messages
            .iter()
            .map(|m| match &m.content {
                content::PromptContent::Text(t) => t.len(),
                content::PromptContent::Embedded(c) => c.body.len(),
                content::PromptContent::Link(_) => 0,
            })
            .sum();
        if output > self.limits.max_output_bytes {
            return Err(CallFailure::OutputTooLarge {
                plugin: plugin.clone(),
                bytes: output,
                limit: self.limits.max_output_bytes,
            });
        }
        for message in &mut rendered.messages {
            match &mut message.content {
                content::PromptContent::Embedded(c) => c.uri = content::absolute(plugin, &c.uri),
                content::PromptContent::Link(r) => r.uri = content::absolute(plugin, &r.uri),
                content::PromptContent::Text(_) => {}
            }
        }
        Ok(rendered)
    }

    /// Complete an argument of one of this plugin's prompts (by served name) or templates.
    pub async fn complete(
        &self,
        target: content::CompletionTarget,
        argument: String,
        value: String,
        context: Vec<(String, String)>,
        request: CallRequest,
        client: Option<WorkspaceClient>,
    ) -> Result<content::Completion, CallFailure> {
        let target = match target {
            content::CompletionTarget::Prompt(name) => {
                let spec = self.prompt(&name).ok_or_else(|| CallFailure::NotFound(format!("no prompt `{name}`")))?;
                if !spec.arguments.iter().any(|a| a.name == argument) {
                    return Err(CallFailure::BadArguments(format!("prompt `{name}` has no argument `{argument}`")));
                }
                content::CompletionTarget::Prompt(self.own_prompt_names.get(&name).cloned().unwrap_or(name))
            }
            content::CompletionTarget::Template(template) => {
                let known =
                    self.content.as_ref().is_some_and(|c| c.templates.iter().any(|t| t.uri_template == template));
                if !known {
                    return Err(CallFailure::NotFound(format!(
                        "no resource template `{}`",
                        content::absolute(&self.manifest.name, &template)
                    )));
                }
                if !content::template_variables(&template).contains(&argument) {
                    return Err(CallFailure::BadArguments(format!(
                        "template `{template}` has no variable `{argument}`"
                    )));
                }
                content::CompletionTarget::Template(template)
            }
        };
        let wit = bindings::completion_to_wit(target, argument, value, context);
        let (returned, _) =
            self.run("completion/complete", Invocation::Complete(wit), request, client, self.read_only).await?;
        let Returned::Complete(completion) = returned else { unreachable!("completion/complete returns a completion") };
        let mut completion: content::Completion = completion.map_err(content_error)?.into();
        if completion.values.len() > content::MAX_COMPLETIONS {
            completion.values.truncate(content::MAX_COMPLETIONS);
            completion.has_more = true;
        }
        Ok(completion)
    }

    /// The prompt served as `name`.
    pub fn prompt(&self, name: &str) -> Option<&content::PromptSpec> {
        self.content.as_ref()?.prompts.iter().find(|p| p.name == name)
    }

    /// Run one export of the plugin in a fresh instance, under its limits, with `request`'s
    /// cancellation and `client`'s identity. `what` names the call in logs and errors (the tool,
    /// or the MCP method). `read_only_sends` limits the call to GET and HEAD requests.
    async fn run(
        &self,
        what: &str,
        invocation: Invocation,
        request: CallRequest,
        client: Option<WorkspaceClient>,
        read_only_sends: bool,
    ) -> Result<(Returned, Arc<CallEnv>), CallFailure> {
        let plugin = self.manifest.name.clone();
        let _permit = tokio::select! {
            permit = self.concurrency.clone().acquire_owned() => permit.map_err(|_| CallFailure::Cancelled)?,
            () = request.cancel.cancelled() => return Err(CallFailure::Cancelled),
        };

        let started = Instant::now();
        let env = Arc::new(CallEnv {
            plugin: plugin.clone().into(),
            tool: what.to_string(),
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
            read_only_sends,
            links: Mutex::new(Vec::new()),
            refused: AtomicBool::new(false),
        });
        let (stdout, stderr) = CallState::pipes();
        let code = self.code.read().unwrap_or_else(|e| e.into_inner()).clone();
        let mut store = new_store(&code.tier.engine, CallState::new(env.clone(), stdout.clone(), stderr.clone()));
        let context = CallContext {
            request_id: request.request_id.clone(),
            progress_requested: request.progress.is_some(),
            deadline_ms: u64::try_from(self.limits.deadline.as_millis()).unwrap_or(u64::MAX),
        };

        enum Ended {
            Returned(wasmtime::Result<Returned>),
            Deadline,
            Cancelled,
        }
        let ended = {
            let run = async {
                if let Invocation::Tool { name, arguments } = &invocation {
                    let instance = code.pre.instantiate_async(&mut store).await?;
                    return Ok(Returned::Tool(instance.call_call_tool(&mut store, name, arguments, &context).await?));
                }
                let Some(content_pre) = &code.content else {
                    wasmtime::bail!("plugin `{plugin}` was built without resources and prompts (contract 0.1.0)");
                };
                let instance = content_pre.instantiate_async(&mut store).await?;
                let guest = instance.databricks_mcp_plugin_content();
                Ok::<_, wasmtime::Error>(match invocation {
                    Invocation::Tool { .. } => unreachable!("handled above"),
                    Invocation::ListResources(cursor) => {
                        Returned::Page(guest.call_list_resources(&mut store, cursor.as_deref(), &context).await?)
                    }
                    Invocation::Read(uri) => {
                        Returned::Read(guest.call_read_resource(&mut store, &uri, &context).await?)
                    }
                    Invocation::Prompt(name, arguments) => {
                        Returned::Prompt(guest.call_get_prompt(&mut store, &name, &arguments, &context).await?)
                    }
                    Invocation::Complete(completion) => {
                        Returned::Complete(guest.call_complete(&mut store, &completion, &context).await?)
                    }
                })
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
        log_guest_output(&plugin, what, &stdout, &stderr);

        let outcome = match ended {
            Ended::Returned(Ok(returned)) => Ok(returned),
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
        let ok = match &outcome {
            Ok(Returned::Tool(r)) => r.is_ok(),
            Ok(Returned::Page(r)) => r.is_ok(),
            Ok(Returned::Read(r)) => r.is_ok(),
            Ok(Returned::Prompt(r)) => r.is_ok(),
            Ok(Returned::Complete(r)) => r.is_ok(),
            Err(_) => false,
        };
        tracing::info!(
            plugin = %plugin,
            tool = %what,
            request = %request.request_id,
            ms = started.elapsed().as_secs_f64() * 1000.0,
            ok,
            "{}",
            if what.contains('/') { "content call" } else { "tool call" }
        );
        outcome.map(|returned| (returned, env))
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
        Ok(CallOutput { text: output.text, structured, links: Vec::new() })
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
async fn read_manifest(code: &Code, file: &Path) -> Result<Described, String> {
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
        read_only_sends: true,
        links: Mutex::new(Vec::new()),
        refused: AtomicBool::new(false),
    });
    let (stdout, stderr) = CallState::pipes();
    let mut store = new_store(&code.tier.engine, CallState::new(env, stdout, stderr.clone()));
    let run = async {
        if let Some(content_pre) = &code.content {
            let instance = content_pre.instantiate_async(&mut store).await?;
            let manifest = instance.call_manifest(&mut store).await?;
            let content = instance.databricks_mcp_plugin_content().call_describe(&mut store).await?;
            return Ok(Described { manifest, content: Some(content) });
        }
        let instance = code.pre.instantiate_async(&mut store).await?;
        Ok::<_, wasmtime::Error>(Described { manifest: instance.call_manifest(&mut store).await?, content: None })
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

/// A failure of a call during which the workspace refused the credential (HTTP 401) says what
/// to fix: the plugin only saw the workspace's "invalid token", and cannot know which setting
/// (or sign-in) the token came from.
fn refusal_explained(failure: CallFailure, env: &CallEnv) -> CallFailure {
    if !env.refused.load(Ordering::Relaxed) {
        return failure;
    }
    let hint = env.client.as_ref().map_or("", WorkspaceClient::refusal_hint);
    let note = format!("\n\nThe workspace refused the credential (HTTP 401): {hint}.");
    match failure {
        CallFailure::Tool(m) => CallFailure::Tool(m + &note),
        CallFailure::NotFound(m) => CallFailure::NotFound(m + &note),
        other => other,
    }
}

/// A plugin's error from a content call: not-found and bad arguments keep their kind (they
/// map to their own JSON-RPC errors); the rest read as for a tool.
fn content_error(error: bindings::ToolError) -> CallFailure {
    use bindings::ToolError as E;
    match error {
        E::NotFound(m) => CallFailure::NotFound(format!("Not found: {m}")),
        E::InvalidArguments(m) => CallFailure::BadArguments(format!("Invalid arguments: {m}")),
        other => CallFailure::Tool(tool_error_text(other)),
    }
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
