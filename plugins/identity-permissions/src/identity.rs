//! Who is who: the current user, users, groups and their members, service principals (SCIM 2.0,
//! read-only). Lists page the SCIM way behind the usual opaque `page_token`.

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Page, Request, segment};

const SCIM: &str = "/api/2.0/preview/scim/v2";

fn scim(resource: &str) -> String {
    format!("{SCIM}/{resource}")
}

/// A reference to a group or member, as SCIM gives it.
#[schema]
#[derive(Debug, Clone)]
pub struct Ref {
    /// The SCIM id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Its name (a group's name, a user's e-mail, a service principal's display name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// `Users/{id}`, `Groups/{id}` or `ServicePrincipals/{id}`.
    #[serde(rename = "$ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl Ref {
    fn name(&self) -> &str {
        self.display.as_deref().or(self.value.as_deref()).unwrap_or("?")
    }
}

/// An entitlement such as `workspace-access` or `allow-cluster-create`.
#[schema]
#[derive(Debug, Clone)]
pub struct Entitlement {
    /// The entitlement.
    pub value: String,
}

/// A user, or a service principal seen as the current user.
#[schema]
#[derive(Debug, Clone)]
pub struct User {
    /// The SCIM id (use it with `get_user`).
    pub id: String,
    /// The e-mail address (a service principal's application id when it is the current user).
    #[serde(rename = "userName", default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// The display name.
    #[serde(rename = "displayName", default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Whether the account is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// The groups it belongs to directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<Ref>>,
    /// What it may do besides object permissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entitlements: Option<Vec<Entitlement>>,
}

impl User {
    fn line(&self) -> String {
        let name = self.user_name.as_deref().unwrap_or("?");
        let mut line = match self.display_name.as_deref().filter(|d| *d != name) {
            Some(display) => format!("{display} <{name}> (id {})", self.id),
            None => format!("{name} (id {})", self.id),
        };
        if self.active == Some(false) {
            line.push_str(", inactive");
        }
        line
    }

    fn details(&self) -> String {
        let mut lines = vec![self.line()];
        let groups: Vec<&str> = self.groups.iter().flatten().map(Ref::name).collect();
        if !groups.is_empty() {
            lines.push(format!("Groups: {}", groups.join(", ")));
        }
        let entitlements: Vec<&str> = self.entitlements.iter().flatten().map(|e| e.value.as_str()).collect();
        if !entitlements.is_empty() {
            lines.push(format!("Entitlements: {}", entitlements.join(", ")));
        }
        lines.join("\n")
    }
}

/// A group.
#[schema]
#[derive(Debug, Clone)]
pub struct Group {
    /// The SCIM id.
    pub id: String,
    /// The group's name.
    #[serde(rename = "displayName", default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Direct members: users, service principals and groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<Ref>>,
    /// Groups this group belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<Ref>>,
    /// What members may do besides object permissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entitlements: Option<Vec<Entitlement>>,
}

impl Group {
    fn name(&self) -> &str {
        self.display_name.as_deref().unwrap_or("?")
    }

    fn line(&self) -> String {
        let members = self.members.as_ref().map_or(0, Vec::len);
        format!("{} (id {}), {members} direct member{}", self.name(), self.id, if members == 1 { "" } else { "s" })
    }
}

/// A service principal.
#[schema]
#[derive(Debug, Clone)]
pub struct ServicePrincipal {
    /// The SCIM id.
    pub id: String,
    /// The application id: the name it has in permissions, `run_as` and `creator_user_name`.
    #[serde(rename = "applicationId", default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    /// The display name.
    #[serde(rename = "displayName", default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Whether it is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// The groups it belongs to directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<Ref>>,
    /// What it may do besides object permissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entitlements: Option<Vec<Entitlement>>,
}

impl ServicePrincipal {
    fn line(&self) -> String {
        format!(
            "{} (application id {}, id {})",
            self.display_name.as_deref().unwrap_or("?"),
            self.application_id.as_deref().unwrap_or("?"),
            self.id
        )
    }
}

/// Everything known about the caller.
#[schema]
pub struct CurrentUser {
    /// The user (or service principal) the server acts as.
    pub user: Json<User>,
    /// Whether it is a workspace admin (member of `admins`).
    pub is_admin: bool,
}

/// Who the server acts as in the workspace: user name, display name, groups, entitlements and
/// whether it is a workspace admin. Use it to know whose home folder, clusters and permissions
/// "mine" means.
#[tool(read_only, idempotent, title = "Current user")]
pub(crate) fn get_current_user(ctx: &Context, _args: NoArgs) -> Result<Output<CurrentUser>> {
    let raw: Json<User> = ctx.get(&scim("Me"), &[])?;
    let user = raw.get()?;
    let is_admin = user.groups.iter().flatten().any(|g| g.display.as_deref() == Some("admins"));
    let mut text = user.details();
    if is_admin {
        text.push_str("\nWorkspace admin.");
    }
    Ok(Output::new(text, CurrentUser { user: raw, is_admin }))
}

/// Arguments of the SCIM lists.
#[schema]
pub struct ListPrincipals {
    /// Only those whose name (user name, display name, group name or application id) contains
    /// this text, case-insensitive.
    #[serde(default)]
    pub name_contains: Option<String>,
    /// How many to return, 1-200 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A SCIM filter on `attribute`; quotes cannot be escaped in it, so they are refused.
fn contains_filter(attribute: &str, text: &str) -> Result<String> {
    if text.contains('"') {
        return Err(ToolError::invalid("name_contains must not contain a double quote"));
    }
    Ok(format!("{attribute} co \"{text}\""))
}

/// One page of a SCIM list, sorted by `sort_by`, keeping only `attributes`.
fn scim_page<T: databricks_mcp_sdk::serde::de::DeserializeOwned>(
    ctx: &Context,
    resource: &str,
    filter: Option<String>,
    sort_by: &str,
    attributes: &str,
    args: &ListPrincipals,
) -> Result<Page<T>> {
    let request = Request::new(Method::Get, scim(resource))
        .query_opt("filter", filter)
        .query("sortBy", sort_by)
        .query("attributes", attributes);
    let limit = args.limit.unwrap_or(50).clamp(1, 200);
    ctx.page(request, "Resources", Paging::Scim, limit, args.page_token.as_deref())
}

fn listing<T>(page: &Page<T>, line: impl Fn(&T) -> String, none: &str, what: &str) -> String {
    let mut lines: Vec<String> = page.items.iter().map(line).collect();
    if lines.is_empty() {
        lines.push(none.to_string());
    }
    if let Some(total) = page.raw.get("totalResults").and_then(Value::as_u64) {
        lines.push(format!("{total} {what} match."));
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More {what}: call again with page_token \"{token}\"."));
    }
    lines.join("\n")
}

/// A page of users.
#[schema]
pub struct UserList {
    /// The users on this page.
    pub users: Vec<Json<User>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the workspace's users by user name, one page at a time, optionally those whose user
/// name contains some text. Each line shows display name, e-mail and SCIM id.
#[tool(read_only, idempotent, title = "List users")]
pub(crate) fn list_users(ctx: &Context, args: ListPrincipals) -> Result<Output<UserList>> {
    let filter = args.name_contains.as_deref().map(|t| contains_filter("userName", t)).transpose()?;
    let page = scim_page::<Json<User>>(ctx, "Users", filter, "userName", "id,userName,displayName,active", &args)?;
    let users = page.items.iter().map(Json::get).collect::<Result<Vec<User>>>()?;
    let text = listing(
        &Page { items: users, next_page_token: page.next_page_token.clone(), raw: page.raw.clone() },
        User::line,
        "No users match.",
        "users",
    );
    Ok(Output::new(text, UserList { users: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one user.
#[schema]
pub struct GetUser {
    /// The SCIM id (see `list_users`).
    #[serde(default)]
    pub id: Option<String>,
    /// Or the user name (e-mail).
    #[serde(default)]
    pub user_name: Option<String>,
}

/// Get one user, by SCIM id or user name: display name, groups, entitlements, active.
#[tool(read_only, idempotent, title = "Get user")]
pub(crate) fn get_user(ctx: &Context, args: GetUser) -> Result<Output<Json<User>>> {
    let raw: Json<User> = match (args.id, args.user_name) {
        (Some(id), None) => ctx.get(&scim(&format!("Users/{}", segment(&id))), &[])?,
        (None, Some(name)) => {
            if name.contains('"') {
                return Err(ToolError::invalid("user_name must not contain a double quote"));
            }
            let found: Page<Json<User>> = ctx.page(
                Request::new(Method::Get, scim("Users")).query("filter", format!("userName eq \"{name}\"")),
                "Resources",
                Paging::Scim,
                1,
                None,
            )?;
            found.items.into_iter().next().ok_or_else(|| ToolError::NotFound(format!("no user named {name}")))?
        }
        _ => return Err(ToolError::invalid("give exactly one of id or user_name")),
    };
    Ok(Output::new(raw.get()?.details(), raw))
}

/// A page of groups.
#[schema]
pub struct GroupList {
    /// The groups on this page.
    pub groups: Vec<Json<Group>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the workspace's groups by name, one page at a time, optionally those whose name
/// contains some text. Each line shows name, SCIM id and the number of direct members.
#[tool(read_only, idempotent, title = "List groups")]
pub(crate) fn list_groups(ctx: &Context, args: ListPrincipals) -> Result<Output<GroupList>> {
    let filter = args.name_contains.as_deref().map(|t| contains_filter("displayName", t)).transpose()?;
    let page = scim_page::<Json<Group>>(ctx, "Groups", filter, "displayName", "id,displayName,members", &args)?;
    let groups = page.items.iter().map(Json::get).collect::<Result<Vec<Group>>>()?;
    let text = listing(
        &Page { items: groups, next_page_token: page.next_page_token.clone(), raw: page.raw.clone() },
        Group::line,
        "No groups match.",
        "groups",
    );
    Ok(Output::new(text, GroupList { groups: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one group.
#[schema]
pub struct GetGroup {
    /// The SCIM id (see `list_groups`).
    #[serde(default)]
    pub id: Option<String>,
    /// Or the group's name, e.g. `data-engineers`.
    #[serde(default)]
    pub name: Option<String>,
}

fn fetch_group(ctx: &Context, args: GetGroup) -> Result<Json<Group>> {
    match (args.id, args.name) {
        (Some(id), None) => ctx.get(&scim(&format!("Groups/{}", segment(&id))), &[]),
        (None, Some(name)) => {
            if name.contains('"') {
                return Err(ToolError::invalid("name must not contain a double quote"));
            }
            let found: Page<Json<Group>> = ctx.page(
                Request::new(Method::Get, scim("Groups")).query("filter", format!("displayName eq \"{name}\"")),
                "Resources",
                Paging::Scim,
                1,
                None,
            )?;
            found.items.into_iter().next().ok_or_else(|| ToolError::NotFound(format!("no group named {name}")))
        }
        _ => Err(ToolError::invalid("give exactly one of id or name")),
    }
}

/// Get one group, by SCIM id or name: its members, parent groups and entitlements.
#[tool(read_only, idempotent, title = "Get group")]
pub(crate) fn get_group(ctx: &Context, args: GetGroup) -> Result<Output<Json<Group>>> {
    let raw = fetch_group(ctx, args)?;
    let group = raw.get()?;
    let mut lines = vec![group.line()];
    let parents: Vec<&str> = group.groups.iter().flatten().map(Ref::name).collect();
    if !parents.is_empty() {
        lines.push(format!("Member of: {}", parents.join(", ")));
    }
    let entitlements: Vec<&str> = group.entitlements.iter().flatten().map(|e| e.value.as_str()).collect();
    if !entitlements.is_empty() {
        lines.push(format!("Entitlements: {}", entitlements.join(", ")));
    }
    Ok(Output::new(lines.join("\n"), raw))
}

/// Arguments of `list_group_members`.
#[schema]
pub struct ListGroupMembers {
    /// The group's SCIM id.
    #[serde(default)]
    pub id: Option<String>,
    /// Or the group's name.
    #[serde(default)]
    pub name: Option<String>,
    /// How many members to return, 1-500 (default 100).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// One member of a group.
#[schema]
pub struct Member {
    /// `user`, `service_principal` or `group`.
    pub kind: String,
    /// The member's SCIM id.
    pub id: String,
    /// Its name: e-mail, display name or group name.
    pub name: String,
}

/// A page of a group's members.
#[schema]
pub struct MemberList {
    /// The group.
    pub group: String,
    /// The members on this page.
    pub members: Vec<Member>,
    /// How many direct members the group has.
    pub total: u64,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the direct members of a group (users, service principals and nested groups), by group
/// id or name, one page at a time.
#[tool(read_only, idempotent, title = "List group members")]
pub(crate) fn list_group_members(ctx: &Context, args: ListGroupMembers) -> Result<Output<MemberList>> {
    let group = fetch_group(ctx, GetGroup { id: args.id, name: args.name })?.get()?;
    let members: Vec<Member> = group
        .members
        .iter()
        .flatten()
        .map(|m| {
            let reference = m.reference.as_deref().unwrap_or("");
            let kind = if reference.starts_with("ServicePrincipals/") {
                "service_principal"
            } else if reference.starts_with("Groups/") {
                "group"
            } else {
                "user"
            };
            Member { kind: kind.into(), id: m.value.clone().unwrap_or_default(), name: m.name().to_string() }
        })
        .collect();
    let total = members.len() as u64;
    let page = Page::from_items(members, args.limit.unwrap_or(100).clamp(1, 500), args.page_token.as_deref())?;
    let mut lines: Vec<String> = page.items.iter().map(|m| format!("{} ({}, id {})", m.name, m.kind, m.id)).collect();
    if lines.is_empty() {
        lines.push(format!("Group {} has no members.", group.name()));
    } else {
        lines.insert(0, format!("Group {}: {total} direct member{}", group.name(), if total == 1 { "" } else { "s" }));
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More members: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(
        lines.join("\n"),
        MemberList {
            group: group.name().to_string(),
            members: page.items,
            total,
            next_page_token: page.next_page_token,
        },
    ))
}

/// A page of service principals.
#[schema]
pub struct ServicePrincipalList {
    /// The service principals on this page.
    pub service_principals: Vec<Json<ServicePrincipal>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the workspace's service principals by display name, one page at a time, optionally
/// those whose display name contains some text. Each line shows the name, the application id
/// (the name permissions use) and the SCIM id.
#[tool(read_only, idempotent, title = "List service principals")]
pub(crate) fn list_service_principals(ctx: &Context, args: ListPrincipals) -> Result<Output<ServicePrincipalList>> {
    let filter = args.name_contains.as_deref().map(|t| contains_filter("displayName", t)).transpose()?;
    let page = scim_page::<Json<ServicePrincipal>>(
        ctx,
        "ServicePrincipals",
        filter,
        "displayName",
        "id,applicationId,displayName,active",
        &args,
    )?;
    let principals = page.items.iter().map(Json::get).collect::<Result<Vec<ServicePrincipal>>>()?;
    let text = listing(
        &Page { items: principals, next_page_token: page.next_page_token.clone(), raw: page.raw.clone() },
        ServicePrincipal::line,
        "No service principals match.",
        "service principals",
    );
    Ok(Output::new(
        text,
        ServicePrincipalList { service_principals: page.items, next_page_token: page.next_page_token },
    ))
}

/// Arguments naming one service principal.
#[schema]
pub struct GetServicePrincipal {
    /// The SCIM id (see `list_service_principals`).
    #[serde(default)]
    pub id: Option<String>,
    /// Or the application id (a UUID).
    #[serde(default)]
    pub application_id: Option<String>,
}

/// Get one service principal, by SCIM id or application id: name, groups, entitlements.
#[tool(read_only, idempotent, title = "Get service principal")]
pub(crate) fn get_service_principal(
    ctx: &Context,
    args: GetServicePrincipal,
) -> Result<Output<Json<ServicePrincipal>>> {
    let raw: Json<ServicePrincipal> = match (args.id, args.application_id) {
        (Some(id), None) => ctx.get(&scim(&format!("ServicePrincipals/{}", segment(&id))), &[])?,
        (None, Some(app_id)) => {
            if app_id.contains('"') {
                return Err(ToolError::invalid("application_id must not contain a double quote"));
            }
            let found: Page<Json<ServicePrincipal>> = ctx.page(
                Request::new(Method::Get, scim("ServicePrincipals"))
                    .query("filter", format!("applicationId eq \"{app_id}\"")),
                "Resources",
                Paging::Scim,
                1,
                None,
            )?;
            found
                .items
                .into_iter()
                .next()
                .ok_or_else(|| ToolError::NotFound(format!("no service principal with application id {app_id}")))?
        }
        _ => return Err(ToolError::invalid("give exactly one of id or application_id")),
    };
    let sp = raw.get()?;
    let mut lines = vec![sp.line()];
    let groups: Vec<&str> = sp.groups.iter().flatten().map(Ref::name).collect();
    if !groups.is_empty() {
        lines.push(format!("Groups: {}", groups.join(", ")));
    }
    Ok(Output::new(lines.join("\n"), raw))
}
