//! Databricks secrets as MCP tools: secret scopes, the keys in them, and who may use them
//! (scope ACLs).
//!
//! Secret values go in (`put_secret`) and never come out: no tool reads a value, none echoes one
//! in its text, structured output or logs, and the host refuses `GET /api/2.0/secrets/get` to
//! every plugin anyway. Lists take `limit` and `page_token`.

use databricks_mcp_sdk::format_time_minutes;
use databricks_mcp_sdk::prelude::*;

const API: &str = "/api/2.0/secrets";

fn path(endpoint: &str) -> String {
    format!("{API}/{endpoint}")
}

/// Secret values are at most 128 KB.
const MAX_VALUE_BYTES: usize = 128 * 1024;

/// Check a key or scope name as the service does, before sending anything.
fn check_name(what: &str, name: &str, extra: &[char]) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') || extra.contains(&c));
    if ok {
        Ok(())
    } else {
        Err(ToolError::invalid(format!(
            "{what} `{name}` is invalid: use 1-128 letters, digits, `-`, `_` and `.`{}",
            if extra.contains(&'@') { " (and `@`)" } else { "" }
        )))
    }
}

fn more(lines: &mut Vec<String>, what: &str, token: Option<&String>) {
    if let Some(token) = token {
        lines.push(format!("More {what}: call again with page_token \"{token}\"."));
    }
}

/// Paging arguments.
#[schema]
pub struct Paged {
    /// How many entries to return, 1-1000 (default 100).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call, to get the next page.
    #[serde(default)]
    pub page_token: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Scopes

/// Azure Key Vault behind a scope.
#[schema]
#[derive(Debug, Clone)]
pub struct KeyVault {
    /// The vault's Azure resource id, `/subscriptions/.../providers/Microsoft.KeyVault/vaults/<name>`.
    pub resource_id: String,
    /// The vault's DNS name, e.g. `https://my-vault.vault.azure.net/`.
    pub dns_name: String,
}

/// A secret scope.
#[schema]
#[derive(Debug, Clone)]
pub struct Scope {
    /// Scope name.
    pub name: String,
    /// `DATABRICKS` (secrets stored by Databricks) or `AZURE_KEYVAULT` (read-only here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_type: Option<String>,
    /// The vault, for an Azure Key Vault-backed scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyvault_metadata: Option<KeyVault>,
}

/// A page of secret scopes.
#[schema]
pub struct ScopeList {
    /// Scopes on this page, as the workspace returned them.
    pub scopes: Vec<Json<Scope>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the workspace's secret scopes, one line each with its backend (`DATABRICKS` or
/// `AZURE_KEYVAULT`). Use a scope name with `list_secrets` and `list_secret_acls`.
#[tool(read_only, idempotent, title = "List secret scopes")]
fn list_secret_scopes(ctx: &Context, args: Paged) -> Result<Output<ScopeList>> {
    #[schema]
    struct Raw {
        #[serde(default)]
        scopes: Vec<Json<Scope>>,
    }
    let raw: Raw = ctx.get(&path("scopes/list"), &[])?;
    let Page { items: scopes, next_page_token, .. } =
        Page::from_items(raw.scopes, args.limit.unwrap_or(100).clamp(1, 1000), args.page_token.as_deref())?;
    let mut lines = scopes
        .iter()
        .map(|s| {
            let s = s.get()?;
            let backend = s.backend_type.as_deref().unwrap_or("DATABRICKS");
            Ok(match &s.keyvault_metadata {
                Some(kv) => format!("{} ({backend}: {})", s.name, kv.dns_name),
                None => format!("{} ({backend})", s.name),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if lines.is_empty() {
        lines.push("No secret scopes.".into());
    }
    more(&mut lines, "scopes", next_page_token.as_ref());
    Ok(Output::new(lines.join("\n"), ScopeList { scopes, next_page_token }))
}

/// Arguments of `create_secret_scope`.
#[schema]
pub struct CreateScope {
    /// The new scope's name: letters, digits, `-`, `_`, `.` and `@`, at most 128 characters.
    pub scope: String,
    /// Leave out to make you the only principal with MANAGE; `users` gives MANAGE to every user
    /// of the workspace (the only other value the service accepts).
    #[serde(default)]
    pub initial_manage_principal: Option<String>,
    /// Back the scope by this Azure Key Vault instead of Databricks (Azure workspaces only).
    #[serde(default)]
    pub azure_keyvault: Option<KeyVault>,
}

/// What was done to a scope.
#[schema]
pub struct ScopeAction {
    /// The scope.
    pub scope: String,
    /// What was done.
    pub message: String,
}

/// Create a secret scope. By default you get MANAGE on it and nobody else has access; grant
/// others with `put_secret_acl`.
#[tool(title = "Create secret scope")]
fn create_secret_scope(ctx: &Context, args: CreateScope) -> Result<Output<ScopeAction>> {
    check_name("scope name", &args.scope, &['@'])?;
    let mut body = json!({ "scope": args.scope });
    match args.initial_manage_principal.as_deref() {
        None | Some("") => {}
        Some("users") => body["initial_manage_principal"] = json!("users"),
        Some(other) => {
            return Err(ToolError::invalid(format!(
                "initial_manage_principal must be `users` or left out, not `{other}`; grant other principals with put_secret_acl after creating the scope"
            )));
        }
    }
    if let Some(kv) = &args.azure_keyvault {
        body["scope_backend_type"] = json!("AZURE_KEYVAULT");
        body["backend_azure_keyvault"] = json!(kv);
    }
    ctx.post_empty(&path("scopes/create"), &body)?;
    let who = if body.get("initial_manage_principal").is_some() { "every user" } else { "you" };
    let message = format!("Created secret scope {} ({who} can manage it).", args.scope);
    Ok(Output::new(message.clone(), ScopeAction { scope: args.scope, message }))
}

/// Arguments naming a scope.
#[schema]
pub struct ScopeName {
    /// The scope name (see `list_secret_scopes`).
    pub scope: String,
}

/// Delete a secret scope with every secret and ACL in it. Jobs and notebooks reading its
/// secrets fail afterwards. Needs MANAGE on the scope.
#[tool(destructive, idempotent, title = "Delete secret scope")]
fn delete_secret_scope(ctx: &Context, args: ScopeName) -> Result<Output<ScopeAction>> {
    ctx.post_empty(&path("scopes/delete"), &json!({ "scope": args.scope }))?;
    let message = format!("Deleted secret scope {} and all its secrets.", args.scope);
    Ok(Output::new(message.clone(), ScopeAction { scope: args.scope, message }))
}

// ---------------------------------------------------------------------------------------------
// Secrets

/// A secret's metadata (never its value).
#[schema]
#[derive(Debug, Clone)]
pub struct SecretMetadata {
    /// The key.
    pub key: String,
    /// Last update, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_timestamp: Option<i64>,
}

/// Arguments of `list_secrets`.
#[schema]
pub struct ListSecrets {
    /// The scope.
    pub scope: String,
    /// How many keys to return, 1-1000 (default 100).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call, to get the next page.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of secret keys.
#[schema]
pub struct SecretList {
    /// The scope listed.
    pub scope: String,
    /// Keys and last-update times on this page (values are never returned).
    pub secrets: Vec<SecretMetadata>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

fn fetch_secrets(ctx: &Context, scope: &str) -> Result<Vec<SecretMetadata>> {
    #[schema]
    struct Raw {
        #[serde(default)]
        secrets: Vec<SecretMetadata>,
    }
    let raw: Raw = ctx.get(&path("list"), &[("scope", scope.to_string())])?;
    Ok(raw.secrets)
}

/// List the secret keys in a scope with when each was last updated. Values are never shown;
/// notebooks and jobs read them with `dbutils.secrets.get(scope, key)`. Needs READ on the scope.
#[tool(read_only, idempotent, title = "List secrets")]
fn list_secrets(ctx: &Context, args: ListSecrets) -> Result<Output<SecretList>> {
    let all = fetch_secrets(ctx, &args.scope)?;
    let Page { items: secrets, next_page_token, .. } =
        Page::from_items(all, args.limit.unwrap_or(100).clamp(1, 1000), args.page_token.as_deref())?;
    let mut lines: Vec<String> = secrets
        .iter()
        .map(|s| match s.last_updated_timestamp {
            Some(t) => format!("{}  (updated {})", s.key, format_time_minutes(t)),
            None => s.key.clone(),
        })
        .collect();
    if lines.is_empty() {
        lines.push(format!("Scope {} holds no secrets.", args.scope));
    }
    more(&mut lines, "keys", next_page_token.as_ref());
    Ok(Output::new(lines.join("\n"), SecretList { scope: args.scope, secrets, next_page_token }))
}

/// Arguments of `put_secret`.
#[schema]
pub struct PutSecret {
    /// The scope (must be Databricks-backed).
    pub scope: String,
    /// The key: letters, digits, `-`, `_` and `.`, at most 128 characters.
    pub key: String,
    /// The secret value, at most 128 KB. It is stored and never shown again.
    pub string_value: String,
}

/// What was done to a secret (never its value).
#[schema]
pub struct SecretAction {
    /// The scope.
    pub scope: String,
    /// The key.
    pub key: String,
    /// For `put_secret`: true when an existing value was replaced, false when the key is new,
    /// absent when that could not be told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced: Option<bool>,
    /// What was done.
    pub message: String,
}

/// Store a secret under a key in a scope, replacing any value the key had. The value is never
/// echoed back. Notebooks and jobs read it with `dbutils.secrets.get(scope, key)`. Needs WRITE
/// on the scope.
#[tool(destructive, idempotent, title = "Put secret")]
fn put_secret(ctx: &Context, args: PutSecret) -> Result<Output<SecretAction>> {
    check_name("secret key", &args.key, &[])?;
    if args.string_value.len() > MAX_VALUE_BYTES {
        return Err(ToolError::invalid(format!(
            "the secret value is {} bytes; secrets hold at most {MAX_VALUE_BYTES} bytes",
            args.string_value.len()
        )));
    }
    // Whether the key existed, so the model knows if something was overwritten. Only keys are
    // read; a failure here must not stop the write.
    let replaced = fetch_secrets(ctx, &args.scope).ok().map(|keys| keys.iter().any(|s| s.key == args.key));
    let body = json!({ "scope": args.scope, "key": args.key, "string_value": args.string_value });
    ctx.post_empty(&path("put"), &body)?;
    let message = match replaced {
        Some(true) => format!("Replaced the value of secret {} in scope {}.", args.key, args.scope),
        Some(false) => format!("Stored new secret {} in scope {}.", args.key, args.scope),
        None => format!("Stored secret {} in scope {}.", args.key, args.scope),
    };
    Ok(Output::new(message.clone(), SecretAction { scope: args.scope, key: args.key, replaced, message }))
}

/// Arguments naming a secret.
#[schema]
pub struct SecretKey {
    /// The scope.
    pub scope: String,
    /// The key (see `list_secrets`).
    pub key: String,
}

/// Delete a secret from a scope. Jobs and notebooks reading it fail afterwards. Needs WRITE on
/// the scope.
#[tool(destructive, idempotent, title = "Delete secret")]
fn delete_secret(ctx: &Context, args: SecretKey) -> Result<Output<SecretAction>> {
    ctx.post_empty(&path("delete"), &json!({ "scope": args.scope, "key": args.key }))?;
    let message = format!("Deleted secret {} from scope {}.", args.key, args.scope);
    Ok(Output::new(message.clone(), SecretAction { scope: args.scope, key: args.key, replaced: None, message }))
}

// ---------------------------------------------------------------------------------------------
// ACLs

/// A scope permission, weakest to strongest.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum Permission {
    /// Read secrets (`dbutils.secrets.get`) and list keys.
    Read,
    /// READ, plus put and delete secrets.
    Write,
    /// WRITE, plus change ACLs and delete the scope.
    Manage,
}

/// One access-control entry of a scope.
#[schema]
#[derive(Debug, Clone)]
pub struct Acl {
    /// A user name (e-mail), group name, or service principal application id.
    pub principal: String,
    /// The permission it holds.
    pub permission: Permission,
}

/// Arguments of `list_secret_acls`.
#[schema]
pub struct ListAcls {
    /// The scope.
    pub scope: String,
    /// How many entries to return, 1-1000 (default 100).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call, to get the next page.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of a scope's ACLs.
#[schema]
pub struct AclList {
    /// The scope.
    pub scope: String,
    /// Entries on this page.
    pub acls: Vec<Acl>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List who may use a secret scope: one line per principal (user, group or service principal)
/// with READ, WRITE or MANAGE. Needs MANAGE on the scope.
#[tool(read_only, idempotent, title = "List secret scope ACLs")]
fn list_secret_acls(ctx: &Context, args: ListAcls) -> Result<Output<AclList>> {
    #[schema]
    struct Raw {
        #[serde(default)]
        items: Vec<Acl>,
    }
    let raw: Raw = ctx.get(&path("acls/list"), &[("scope", args.scope.clone())])?;
    let Page { items: acls, next_page_token, .. } =
        Page::from_items(raw.items, args.limit.unwrap_or(100).clamp(1, 1000), args.page_token.as_deref())?;
    let mut lines: Vec<String> =
        acls.iter().map(|a| format!("{}: {}", a.principal, permission_str(a.permission))).collect();
    if lines.is_empty() {
        lines.push(format!("Scope {} has no ACLs (only workspace admins can use it).", args.scope));
    }
    more(&mut lines, "ACLs", next_page_token.as_ref());
    Ok(Output::new(lines.join("\n"), AclList { scope: args.scope, acls, next_page_token }))
}

fn permission_str(p: Permission) -> &'static str {
    match p {
        Permission::Read => "READ",
        Permission::Write => "WRITE",
        Permission::Manage => "MANAGE",
    }
}

/// Arguments of `put_secret_acl`.
#[schema]
pub struct PutAcl {
    /// The scope.
    pub scope: String,
    /// Who: a user name (e-mail), a group name such as `users` or `data-engineers`, or a service
    /// principal application id.
    pub principal: String,
    /// `READ`, `WRITE` or `MANAGE`.
    pub permission: Permission,
}

/// What was done to an ACL.
#[schema]
pub struct AclAction {
    /// The scope.
    pub scope: String,
    /// The principal.
    pub principal: String,
    /// The permission it holds now; absent after a delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission: Option<Permission>,
    /// What was done.
    pub message: String,
}

/// Grant a principal READ, WRITE or MANAGE on a secret scope, replacing any permission it had
/// there (which may lower it). Needs MANAGE on the scope.
#[tool(destructive, idempotent, title = "Put secret scope ACL")]
fn put_secret_acl(ctx: &Context, args: PutAcl) -> Result<Output<AclAction>> {
    if args.principal.trim().is_empty() {
        return Err(ToolError::invalid("principal must name a user, group or service principal"));
    }
    let body = json!({ "scope": args.scope, "principal": args.principal, "permission": args.permission });
    ctx.post_empty(&path("acls/put"), &body)?;
    let message = format!("{} now has {} on scope {}.", args.principal, permission_str(args.permission), args.scope);
    Ok(Output::new(
        message.clone(),
        AclAction { scope: args.scope, principal: args.principal, permission: Some(args.permission), message },
    ))
}

/// Arguments of `delete_secret_acl`.
#[schema]
pub struct DeleteAcl {
    /// The scope.
    pub scope: String,
    /// The principal whose access to remove (see `list_secret_acls`).
    pub principal: String,
}

/// Remove a principal's access to a secret scope. Needs MANAGE on the scope.
#[tool(destructive, idempotent, title = "Delete secret scope ACL")]
fn delete_secret_acl(ctx: &Context, args: DeleteAcl) -> Result<Output<AclAction>> {
    ctx.post_empty(&path("acls/delete"), &json!({ "scope": args.scope, "principal": args.principal }))?;
    let message = format!("Removed {}'s access to scope {}.", args.principal, args.scope);
    Ok(Output::new(
        message.clone(),
        AclAction { scope: args.scope, principal: args.principal, permission: None, message },
    ))
}

databricks_mcp_sdk::plugin! {
    name: "secrets",
    description: "Databricks secrets: scopes, secret keys (write-only values) and scope ACLs",
    grants: [
        "GET /api/2.0/secrets/scopes/list",
        "POST /api/2.0/secrets/scopes/create",
        "POST /api/2.0/secrets/scopes/delete",
        "GET /api/2.0/secrets/list",
        "POST /api/2.0/secrets/put",
        "POST /api/2.0/secrets/delete",
        "GET /api/2.0/secrets/acls/list",
        "POST /api/2.0/secrets/acls/put",
        "POST /api/2.0/secrets/acls/delete",
    ],
    tools: [
        list_secret_scopes,
        create_secret_scope,
        delete_secret_scope,
        list_secrets,
        put_secret,
        delete_secret,
        list_secret_acls,
        put_secret_acl,
        delete_secret_acl,
    ],
}
