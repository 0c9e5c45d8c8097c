//! The MCP surface: one rmcp handler, shared by every transport, that lists the loaded plugins'
//! tools and routes calls to them.
//!
//! A tool failure of any kind (bad arguments, a refused request, a trap, a limit) is a tool
//! result with `isError`, which the model reads; only a request that cannot be routed (an
//! unknown tool) is a JSON-RPC error.
//!
//! Whose identity a call uses is the [`Identity`]: the host's own workspace credential, or, for
//! the HTTP transport's per-user mode, the caller's token that the HTTP layer attached to that
//! one request ([`UserCredential`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult, ContentBlock,
    GetPromptRequestParams, GetPromptResponse, Implementation, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ProgressNotificationParam, ReadResourceRequestParams,
    ReadResourceResponse, ServerCapabilities, ServerConfig, SubscriptionFilter, Tool, ToolAnnotations,
};
use rmcp::service::{NotificationContext, Peer, RequestContext, SubscriptionContext, SubscriptionSink};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::auth::workspaces::{self, Workspaces};
use crate::auth_inbound::UserCredential;
use crate::call::{Progress, ProgressSink};
use crate::manifest::ToolSpec;
use crate::plugin::{CallFailure, CallOutput, CallRequest};
use crate::registry::Registry;
use crate::workspace::{Secret, WorkspaceClient};

/// Whose workspace identity tool calls use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// The host's own credential (stdio, and HTTP with static tokens or no authentication).
    Host,
    /// Each request's caller: the [`UserCredential`] the HTTP layer put in the request's
    /// extensions, sent with that call's workspace requests and nothing else. A call without
    /// one fails; the host's environment credential is never a fallback.
    PerUser,
}

/// The MCP server. Cheap to clone; every clone shares the registry.
#[derive(Debug, Clone)]
pub struct McpServer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    registry: Arc<Registry>,
    /// The workspaces calls can go to. With [`Identity::PerUser`], clients without a
    /// credential: each call uses a copy with its caller's token.
    workspaces: Arc<Workspaces>,
    identity: Identity,
    calls: Arc<Semaphore>,
    /// Tool calls running now, for a graceful shutdown that waits for them.
    in_flight: tokio::sync::watch::Sender<usize>,
    /// Every connected client, told when the tool list changes (hot reload). Keyed by a
    /// counter: a peer has no identity of its own to remove it by.
    clients: Mutex<HashMap<u64, Peer<RoleServer>>>,
    /// Clients on the stateless protocol revision, listening through `subscriptions/listen`.
    listeners: Mutex<HashMap<u64, SubscriptionSink>>,
    next_client: AtomicU64,
}

impl McpServer {
    pub fn new(registry: Arc<Registry>, client: Option<WorkspaceClient>, max_concurrent_calls: u32) -> Self {
        Self::with_identity(registry, client, max_concurrent_calls, Identity::Host)
    }

    pub fn with_identity(
        registry: Arc<Registry>,
        client: Option<WorkspaceClient>,
        max_concurrent_calls: u32,
        identity: Identity,
    ) -> Self {
        Self::with_workspaces(registry, Workspaces::single(client), max_concurrent_calls, identity)
    }

    pub fn with_workspaces(
        registry: Arc<Registry>,
        workspaces: Workspaces,
        max_concurrent_calls: u32,
        identity: Identity,
    ) -> Self {
        let workspaces = Arc::new(workspaces);
        let calls = Arc::new(Semaphore::new(max_concurrent_calls.max(1) as usize));
        Self {
            inner: Arc::new(Inner {
                registry,
                workspaces,
                identity,
                calls,
                in_flight: tokio::sync::watch::Sender::new(0),
                clients: Mutex::default(),
                listeners: Mutex::default(),
                next_client: AtomicU64::new(0),
            }),
        }
    }

    /// The default workspace's client, if one is configured (for readiness probes).
    pub fn workspace(&self) -> Option<&WorkspaceClient> {
        self.inner.workspaces.default_client()
    }

    /// Tool calls running now.
    pub fn calls_in_flight(&self) -> usize {
        *self.inner.in_flight.borrow()
    }

    /// Wait until no tool call is running, at most `limit`; whether that happened.
    pub async fn wait_idle(&self, limit: std::time::Duration) -> bool {
        let mut idle = self.inner.in_flight.subscribe();
        tokio::time::timeout(limit, idle.wait_for(|n| *n == 0)).await.is_ok_and(|r| r.is_ok())
    }

    /// The client a call of this request uses: the named workspace's (else the default's), or,
    /// in per-user mode, a copy with the caller's token.
    fn client_in(
        &self,
        context: &RequestContext<RoleServer>,
        workspace: Option<&str>,
    ) -> Result<WorkspaceClient, String> {
        let caller = self.caller(context)?;
        self.inner.workspaces.select(workspace, caller)
    }

    /// The default workspace's client for resources, prompts and completions (which take no
    /// `workspace` argument): `None` when it cannot be used, so listings still work.
    pub(crate) fn client_for(&self, context: &RequestContext<RoleServer>) -> Result<Option<WorkspaceClient>, String> {
        let caller = self.caller(context)?;
        Ok(self.inner.workspaces.select(None, caller).ok())
    }

    /// In per-user mode, the caller's token from the request (required); else `None`.
    fn caller<'a>(&self, context: &'a RequestContext<RoleServer>) -> Result<Option<&'a Secret>, String> {
        match self.inner.identity {
            Identity::Host => Ok(None),
            Identity::PerUser => context
                .extensions
                .get::<axum::http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<UserCredential>())
                .map(|credential| Some(credential.secret()))
                .ok_or_else(|| {
                    "this server acts as each caller, and this request carried no Databricks credential".into()
                }),
        }
    }

    /// The registry the tools come from; hot reload swaps its snapshot.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.inner.registry
    }

    /// Send `notifications/tools/list_changed`, and the resources and prompts ones (plugins
    /// contribute all three), to every connected client, forgetting those that are gone.
    pub async fn notify_tools_changed(&self) {
        let clients: Vec<(u64, Peer<RoleServer>)> =
            self.clients().iter().map(|(id, peer)| (*id, peer.clone())).collect();
        let mut gone = Vec::new();
        for (id, peer) in clients {
            if peer.is_transport_closed() {
                gone.push(id);
            } else if let Err(e) = notify_peer(&peer).await {
                tracing::debug!("client {id} did not take a list_changed notification, forgetting it: {e}");
                gone.push(id);
            }
        }
        let count = {
            let mut clients = self.clients();
            for id in gone {
                clients.remove(&id);
            }
            clients.len()
        };
        let listeners: Vec<SubscriptionSink> = self.listeners().values().cloned().collect();
        for sink in &listeners {
            let sent = async {
                sink.notify_tool_list_changed().await?;
                sink.notify_resource_list_changed().await?;
                sink.notify_prompt_list_changed().await
            };
            if let Err(e) = sent.await {
                // The listen request ends and removes itself; nothing to forget here.
                tracing::debug!("a subscription did not take a list_changed notification: {e}");
            }
        }
        tracing::debug!(
            clients = count,
            subscriptions = listeners.len(),
            "sent tools, resources and prompts list_changed"
        );
    }

    fn listeners(&self) -> std::sync::MutexGuard<'_, HashMap<u64, SubscriptionSink>> {
        self.inner.listeners.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn clients(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Peer<RoleServer>>> {
        self.inner.clients.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every tool of every loaded plugin, in plugin load order then declaration order.
    pub fn tools(&self) -> Vec<Tool> {
        let snapshot = self.inner.registry.snapshot();
        let workspaces = &self.inner.workspaces;
        let mut tools: Vec<Tool> = snapshot
            .plugins
            .iter()
            .flat_map(|p| p.manifest.tools.iter().map(|spec| workspaces.decorate(to_mcp_tool(spec))))
            .collect();
        if workspaces.is_multi() && !snapshot.hide_list_workspaces {
            tools.push(Workspaces::list_tool());
        }
        tools
    }
}

/// The three list_changed notifications a plugin set change means.
async fn notify_peer(peer: &Peer<RoleServer>) -> Result<(), rmcp::service::ServiceError> {
    peer.notify_tool_list_changed().await?;
    peer.notify_resource_list_changed().await?;
    peer.notify_prompt_list_changed().await
}

fn to_mcp_tool(spec: &ToolSpec) -> Tool {
    let mut tool = Tool::new(spec.name.clone(), spec.description.clone(), Arc::new(spec.input_schema.clone()));
    tool.title = spec.title.clone();
    tool.output_schema = spec.output_schema.clone().map(Arc::new);
    let a = spec.annotations;
    let mut annotations = ToolAnnotations::new().read_only(a.read_only).open_world(a.open_world);
    if !a.read_only {
        // Only meaningful for tools that change something.
        annotations = annotations.destructive(a.destructive).idempotent(a.idempotent);
    }
    annotations.title = spec.title.clone();
    tool.annotations = Some(annotations);
    tool
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        // Plugins can change at run time (hot reload); clients are told with list_changed.
        // Resources, prompts and completions come from plugins too (`mcp_content`).
        let capabilities = ServerCapabilities::builder()
            .enable_completions()
            .enable_prompts()
            .enable_prompts_list_changed()
            .enable_resources()
            .enable_resources_list_changed()
            .enable_tools()
            .enable_tool_list_changed()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("databricks-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Tools for a Databricks workspace. List tools return one page at a time: pass `next_page_token` back as \
                 `page_token` for more. Tools that start long operations return at once; use the matching `wait_for_*` \
                 tool to wait for the result. Workspace objects (notebook source, table schemas, cluster and job \
                 definitions, run output) are also resources under databricks://; prompts give ready workflows.",
            )
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        let id = self.inner.next_client.fetch_add(1, Ordering::Relaxed);
        let mut clients = self.clients();
        // HTTP sessions come and go for as long as the server runs: forget the ended ones
        // here too, not only when a reload notifies.
        clients.retain(|_, peer| !peer.is_transport_closed());
        clients.insert(id, context.peer);
        tracing::debug!("client {id} initialized");
    }

    fn accepted_subscription_filter(&self, _requested: &SubscriptionFilter) -> Option<SubscriptionFilter> {
        Some(SubscriptionFilter::builder().tools_list_changed().resources_list_changed().prompts_list_changed().build())
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        let id = self.inner.next_client.fetch_add(1, Ordering::Relaxed);
        self.listeners().insert(id, context.sink().clone());
        tracing::debug!("subscription {id} listening");
        context.cancelled().await;
        self.listeners().remove(&id);
        Ok(())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        // Dozens of tools, not thousands: one page.
        Ok(ListToolsResult::with_all_items(self.tools()))
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        crate::mcp_content::list(self, request, context).await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(crate::mcp_content::templates(self))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let _in_flight = InFlight::enter(&self.inner.in_flight);
        crate::mcp_content::read(self, request, context).await.map(Into::into)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(crate::mcp_content::prompts(self))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let _in_flight = InFlight::enter(&self.inner.in_flight);
        crate::mcp_content::get(self, request, context).await.map(Into::into)
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        crate::mcp_content::complete(self, request, context).await
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let _in_flight = InFlight::enter(&self.inner.in_flight);
        let snapshot = self.inner.registry.snapshot();
        let name = request.name.as_ref();
        if name == workspaces::LIST_TOOL && self.inner.workspaces.is_multi() && !snapshot.hide_list_workspaces {
            return Ok(self.inner.workspaces.list_result().into());
        }
        let Some(plugin) = snapshot.plugin_for(name).cloned() else {
            return Err(McpError::invalid_params(
                format!("unknown tool `{name}`; call tools/list for the tools this server has"),
                None,
            ));
        };
        let mut arguments = request.arguments.clone().unwrap_or_default();
        let own_schema = plugin.manifest.tools.iter().find(|t| t.name == name).map(|t| &t.input_schema);
        let workspace = match self.inner.workspaces.take_argument(&mut arguments, own_schema) {
            Ok(workspace) => workspace,
            Err(why) => return Ok(error_result(why).into()),
        };
        let arguments = Value::Object(arguments);
        let client = match self.client_in(&context, workspace.as_deref()) {
            Ok(client) => Some(client),
            Err(why) => return Ok(error_result(why).into()),
        };

        let progress_token = {
            use rmcp::model::RequestParamsMeta as _;
            request.progress_token().or_else(|| context.meta.get_progress_token())
        };
        let progress: Option<ProgressSink> = progress_token.map(|token| {
            let peer = context.peer.clone();
            let sink: ProgressSink = Arc::new(move |p: Progress| {
                let peer = peer.clone();
                let mut param = ProgressNotificationParam::new(token.clone(), p.progress);
                if let Some(total) = p.total {
                    param = param.with_total(total);
                }
                if let Some(message) = p.message {
                    param = param.with_message(message);
                }
                Box::pin(async move {
                    if let Err(e) = peer.notify_progress(param).await {
                        tracing::debug!("could not send progress: {e}");
                    }
                })
            });
            sink
        });

        let _permit = tokio::select! {
            permit = self.inner.calls.clone().acquire_owned() => permit.map_err(|_| McpError::internal_error("server is shutting down", None))?,
            () = context.ct.cancelled() => return Ok(error_result("the call was cancelled").into()),
        };
        let call = CallRequest { request_id: request_id(&context), progress, cancel: context.ct.clone() };
        let result = plugin.call(name, arguments, call, client).await;
        if let Err(CallFailure::Cancelled) = result {
            // rmcp sends nothing for a cancelled request; this is only for the log.
            tracing::info!(tool = name, "call cancelled");
        }
        Ok(to_call_result(result).into())
    }
}

/// Counts a tool call as running while it lives.
struct InFlight<'a>(&'a tokio::sync::watch::Sender<usize>);

impl<'a> InFlight<'a> {
    fn enter(counter: &'a tokio::sync::watch::Sender<usize>) -> Self {
        counter.send_modify(|n| *n += 1);
        Self(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// A call's outcome as MCP reports it: any failure is a result with `isError` (shared with
/// `databricks-mcp call`).
pub fn to_call_result(result: Result<CallOutput, CallFailure>) -> CallToolResult {
    match result {
        Ok(output) => {
            let mut content = vec![ContentBlock::text(output.text)];
            for link in output.links {
                match crate::mcp_content::to_resource(link) {
                    Ok(resource) => content.push(ContentBlock::resource_link(resource)),
                    Err(e) => tracing::error!("{}", e.message),
                }
            }
            let mut result = CallToolResult::success(content);
            result.structured_content = output.structured;
            result
        }
        Err(failure) => error_result(failure.to_string()),
    }
}

/// Longest error text sent to the model: an error page from a proxy is not worth its context.
const MAX_ERROR_TEXT: usize = 8 * 1024;

fn error_result(message: impl Into<String>) -> CallToolResult {
    let message = message.into();
    let text = if message.len() > MAX_ERROR_TEXT {
        format!("{} [... cut: {} bytes in all]", crate::call::truncate(&message, MAX_ERROR_TEXT), message.len())
    } else {
        message
    };
    CallToolResult::error(vec![ContentBlock::text(text)])
}

pub(crate) fn request_id(context: &RequestContext<RoleServer>) -> String {
    match serde_json::to_value(&context.id) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}
