//! Cluster policies (list, get, create, edit, delete) and policy families (list, get).
//!
//! The API carries a policy's definition as a JSON document inside a string; these tools take and
//! give it as a JSON object, and translate at the edge.

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::serde_json::Map;
use databricks_mcp_sdk::{Method, Request, format_time, segment};

use crate::Change;

const API: &str = "/api/2.0/policies/clusters";
const FAMILIES: &str = "/api/2.0/policy-families";

/// A cluster policy as the API returns it.
#[schema]
#[derive(Debug, Clone)]
pub struct Policy {
    /// The policy id (use it as a cluster's `policy_id`).
    pub policy_id: String,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The rules, as a JSON document in a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How many clusters one user may create with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_clusters_per_user: Option<i64>,
    /// The family it derives from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_family_id: Option<String>,
    /// The family's rules it overrides, as a JSON document in a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_family_definition_overrides: Option<String>,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_user_name: Option<String>,
    /// When, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at_timestamp: Option<i64>,
    /// Whether it is one of the workspace's default policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_default: Option<bool>,
}

/// A rule's summary: `fixed 15.4.x-scala2.12`, `range ≤ 60 (default 30)`...
fn rule_text(rule: &Value) -> String {
    let kind = rule.get("type").and_then(Value::as_str).unwrap_or("rule");
    let mut parts = vec![kind.to_string()];
    if let Some(value) = rule.get("value") {
        parts.push(value.to_string());
    }
    if let Some(values) = rule.get("values") {
        parts.push(values.to_string());
    }
    if let Some(min) = rule.get("minValue") {
        parts.push(format!("min {min}"));
    }
    if let Some(max) = rule.get("maxValue") {
        parts.push(format!("max {max}"));
    }
    if let Some(default) = rule.get("defaultValue") {
        parts.push(format!("default {default}"));
    }
    if rule.get("hidden").and_then(Value::as_bool) == Some(true) {
        parts.push("hidden".into());
    }
    parts.join(" ")
}

/// A definition string as a JSON object (empty when it cannot be read).
fn parse_definition(text: Option<&str>) -> Map<String, Value> {
    text.and_then(|t| databricks_mcp_sdk::serde_json::from_str::<Map<String, Value>>(t).ok()).unwrap_or_default()
}

impl Policy {
    fn line(&self) -> String {
        let mut line = format!("{} ({})", self.name.as_deref().unwrap_or("(unnamed)"), self.policy_id);
        if let Some(family) = &self.policy_family_id {
            line.push_str(&format!(", family {family}"));
        }
        let rules = parse_definition(self.definition.as_deref()).len();
        line.push_str(&format!(", {rules} rule{}", if rules == 1 { "" } else { "s" }));
        if self.is_default == Some(true) {
            line.push_str(", default");
        }
        line
    }
}

/// Arguments of `list_cluster_policies`.
#[schema]
pub struct ListPolicies {
    /// Only policies whose name contains this text (case-insensitive).
    #[serde(default)]
    pub name_contains: Option<String>,
    /// Newest first instead of by name.
    #[serde(default)]
    pub newest_first: bool,
    /// How many to return, 1-200 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of cluster policies.
#[schema]
pub struct PolicyList {
    /// The policies on this page.
    pub policies: Vec<Json<Policy>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the cluster policies (rules that limit how clusters may be configured), by name or
/// newest first, one page at a time; each line shows name, id, family and number of rules.
#[tool(read_only, idempotent, title = "List cluster policies")]
pub(crate) fn list_cluster_policies(ctx: &Context, args: ListPolicies) -> Result<Output<PolicyList>> {
    #[databricks_mcp_sdk::schema]
    struct Raw {
        #[serde(default)]
        policies: Vec<Json<Policy>>,
    }
    let request = if args.newest_first {
        Request::new(Method::Get, format!("{API}/list"))
            .query("sort_column", "POLICY_CREATION_TIME")
            .query("sort_order", "DESC")
    } else {
        Request::new(Method::Get, format!("{API}/list")).query("sort_column", "POLICY_NAME").query("sort_order", "ASC")
    };
    let raw: Raw = ctx.send(request)?.json()?;
    let needle = args.name_contains.as_deref().map(str::to_lowercase);
    let mut matching = Vec::new();
    for policy in raw.policies {
        let name = policy.get()?.name.unwrap_or_default().to_lowercase();
        if needle.as_deref().is_none_or(|n| name.contains(n)) {
            matching.push(policy);
        }
    }
    let page = Page::from_items(matching, args.limit.unwrap_or(50).clamp(1, 200), args.page_token.as_deref())?;
    let mut lines = page.items.iter().map(|p| p.get().map(|p| p.line())).collect::<Result<Vec<_>>>()?;
    if lines.is_empty() {
        lines.push("No cluster policies match.".to_string());
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More policies: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(lines.join("\n"), PolicyList { policies: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one policy.
#[schema]
pub struct PolicyId {
    /// The policy id (see `list_cluster_policies`).
    pub policy_id: String,
}

/// A policy with its rules read out.
#[schema]
pub struct PolicyDetails {
    /// The policy as the workspace returned it.
    pub policy: Json<Policy>,
    /// Its rules as a JSON object: attribute path to rule (`{"type": "fixed", "value": ...}`).
    pub rules: Map<String, Value>,
}

fn fetch(ctx: &Context, id: &str) -> Result<Json<Policy>> {
    ctx.get(&format!("{API}/get"), &[("policy_id", id.to_string())])
}

/// Get one cluster policy with its rules read out (which cluster attributes are fixed, limited
/// to a range or a list, or defaulted), its family and who created it.
#[tool(read_only, idempotent, title = "Get cluster policy")]
pub(crate) fn get_cluster_policy(ctx: &Context, args: PolicyId) -> Result<Output<PolicyDetails>> {
    let raw = fetch(ctx, &args.policy_id)?;
    let policy = raw.get()?;
    let rules = parse_definition(policy.definition.as_deref());
    let mut lines = vec![policy.line()];
    if let Some(description) = &policy.description {
        lines.push(description.clone());
    }
    if let (Some(creator), Some(at)) = (&policy.creator_user_name, policy.created_at_timestamp) {
        lines.push(format!("Created by {creator} at {}", format_time(at)));
    }
    if let Some(max) = policy.max_clusters_per_user {
        lines.push(format!("At most {max} clusters per user"));
    }
    lines.extend(rules.iter().map(|(path, rule)| format!("  {path}: {}", rule_text(rule))));
    Ok(Output::new(lines.join("\n"), PolicyDetails { policy: raw, rules }))
}

/// Settings of a policy; on edit, give only what changes.
#[schema]
#[derive(Debug, Clone, Default)]
pub struct PolicySettings {
    /// The policy's name (unique).
    #[serde(default)]
    pub name: Option<String>,
    /// The rules, as a JSON object of attribute path to rule, e.g.
    /// `{"spark_version": {"type": "fixed", "value": "15.4.x-scala2.12"},
    /// "autotermination_minutes": {"type": "range", "maxValue": 60}}`. Not with a family.
    #[serde(default)]
    pub definition: Option<Map<String, Value>>,
    /// Derive the rules from this policy family (see `list_policy_families`).
    #[serde(default)]
    pub policy_family_id: Option<String>,
    /// With a family: rules that override or add to the family's, as a JSON object.
    #[serde(default)]
    pub policy_family_definition_overrides: Option<Map<String, Value>>,
    /// What it is for.
    #[serde(default)]
    pub description: Option<String>,
    /// How many clusters one user may create with it.
    #[serde(default)]
    pub max_clusters_per_user: Option<u32>,
}

impl PolicySettings {
    /// The fields to set, by API name, with JSON objects turned into the strings the API takes.
    fn to_patch(&self) -> Result<Map<String, Value>> {
        if self.definition.is_some() && self.policy_family_id.is_some() {
            return Err(ToolError::invalid(
                "give definition or policy_family_id (with policy_family_definition_overrides), not both",
            ));
        }
        let mut patch = Map::new();
        if let Some(name) = &self.name {
            if name.trim().is_empty() {
                return Err(ToolError::invalid("name must not be empty"));
            }
            patch.insert("name".into(), json!(name));
        }
        if let Some(definition) = &self.definition {
            patch.insert("definition".into(), json!(Value::Object(definition.clone()).to_string()));
        }
        if let Some(family) = &self.policy_family_id {
            patch.insert("policy_family_id".into(), json!(family));
        }
        if let Some(overrides) = &self.policy_family_definition_overrides {
            patch.insert(
                "policy_family_definition_overrides".into(),
                json!(Value::Object(overrides.clone()).to_string()),
            );
        }
        if let Some(description) = &self.description {
            patch.insert("description".into(), json!(description));
        }
        if let Some(max) = self.max_clusters_per_user {
            patch.insert("max_clusters_per_user".into(), json!(max));
        }
        Ok(patch)
    }
}

/// Create a cluster policy from rules or from a policy family (with overrides). Users then
/// pick it when they create clusters; admins grant who may use it. Only workspace admins may
/// create policies.
#[tool(title = "Create cluster policy")]
pub(crate) fn create_cluster_policy(ctx: &Context, args: PolicySettings) -> Result<Output<Change>> {
    let body = args.to_patch()?;
    let Some(name) = args.name.as_deref() else { return Err(ToolError::invalid("name is required")) };
    if args.definition.is_none() && args.policy_family_id.is_none() {
        return Err(ToolError::invalid("give the rules: definition, or policy_family_id"));
    }
    #[databricks_mcp_sdk::schema]
    struct Created {
        policy_id: String,
    }
    let created: Created = ctx.post(&format!("{API}/create"), &body)?;
    Ok(Output::new(
        format!("Created cluster policy {name} ({}).", created.policy_id),
        Change { id: created.policy_id, message: "created".into() },
    ))
}

/// Arguments of `edit_cluster_policy`.
#[schema]
pub struct EditPolicy {
    /// The policy id.
    pub policy_id: String,
    /// What to change; everything not given keeps its value. `definition` replaces the rules
    /// whole (get them with `get_cluster_policy` first).
    #[serde(flatten)]
    pub changes: PolicySettings,
}

/// Change a cluster policy's name, rules, family overrides, description or per-user limit. Give
/// only what changes. Clusters already made under the policy keep running; their next edit must
/// comply. Only workspace admins may edit policies.
#[tool(destructive, idempotent, title = "Edit cluster policy")]
pub(crate) fn edit_cluster_policy(ctx: &Context, args: EditPolicy) -> Result<Output<Change>> {
    let changes = args.changes.to_patch()?;
    if changes.is_empty() {
        return Err(ToolError::invalid("nothing to change: give at least one setting besides policy_id"));
    }
    let current = fetch(ctx, &args.policy_id)?;
    let mut body = Map::new();
    let family_based = current.value().get("policy_family_id").is_some_and(|f| !f.is_null());
    for key in
        ["name", "description", "max_clusters_per_user", "policy_family_id", "policy_family_definition_overrides"]
    {
        if let Some(value) = current.value().get(key) {
            body.insert(key.into(), value.clone());
        }
    }
    // A family-based policy's definition is derived; sending it back would conflict.
    if !family_based && let Some(definition) = current.value().get("definition") {
        body.insert("definition".into(), definition.clone());
    }
    if changes.contains_key("definition") {
        body.remove("policy_family_id");
        body.remove("policy_family_definition_overrides");
    }
    if changes.contains_key("policy_family_id") {
        body.remove("definition");
    }
    let changed: Vec<String> = changes.keys().cloned().collect();
    body.extend(changes);
    body.insert("policy_id".into(), json!(args.policy_id));
    ctx.post_empty(&format!("{API}/edit"), &body)?;
    Ok(Output::new(
        format!("Edited cluster policy {}: {}.", args.policy_id, changed.join(", ")),
        Change { id: args.policy_id, message: format!("edited {}", changed.join(", ")) },
    ))
}

/// Delete a cluster policy. Clusters made under it keep running but are no longer governed by
/// it. Only workspace admins may delete policies.
#[tool(destructive, title = "Delete cluster policy")]
pub(crate) fn delete_cluster_policy(ctx: &Context, args: PolicyId) -> Result<Output<Change>> {
    ctx.post_empty(&format!("{API}/delete"), &json!({ "policy_id": args.policy_id }))?;
    Ok(Output::new(
        format!("Deleted cluster policy {}.", args.policy_id),
        Change { id: args.policy_id, message: "deleted".into() },
    ))
}

/// A policy family.
#[schema]
#[derive(Debug, Clone)]
pub struct Family {
    /// The family id, e.g. `personal-vm`.
    pub policy_family_id: String,
    /// Its name, e.g. `Personal Compute`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its rules, as a JSON document in a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
}

/// A page of policy families.
#[schema]
pub struct FamilyList {
    /// The families on this page.
    pub policy_families: Vec<Json<Family>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the policy families: Databricks-curated rule sets (Personal Compute, Shared Compute,
/// Power User Compute, Job Compute...) that cluster policies can derive from.
#[tool(read_only, idempotent, title = "List policy families")]
pub(crate) fn list_policy_families(ctx: &Context, args: PageArgs) -> Result<Output<FamilyList>> {
    let page = ctx.page::<Json<Family>>(
        Request::new(Method::Get, FAMILIES.to_string()),
        "policy_families",
        Paging::QueryToken { size_param: "max_results" },
        args.limit_or(20, 100),
        args.page_token.as_deref(),
    )?;
    let mut lines = Vec::new();
    for family in &page.items {
        let f = family.get()?;
        lines.push(format!(
            "{} ({}): {}",
            f.name.as_deref().unwrap_or("?"),
            f.policy_family_id,
            f.description.as_deref().unwrap_or("")
        ));
    }
    if lines.is_empty() {
        lines.push("No policy families.".into());
    }
    if let Some(token) = &page.next_page_token {
        lines.push(format!("More families: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(lines.join("\n"), FamilyList { policy_families: page.items, next_page_token: page.next_page_token }))
}

/// Arguments naming one family.
#[schema]
pub struct FamilyId {
    /// The family id, e.g. `personal-vm`.
    pub policy_family_id: String,
}

/// A family with its rules read out.
#[schema]
pub struct FamilyDetails {
    /// The family as the workspace returned it.
    pub family: Json<Family>,
    /// Its rules as a JSON object.
    pub rules: Map<String, Value>,
}

/// Get one policy family with its rules read out, to decide which rules a policy derived from
/// it should override.
#[tool(read_only, idempotent, title = "Get policy family")]
pub(crate) fn get_policy_family(ctx: &Context, args: FamilyId) -> Result<Output<FamilyDetails>> {
    let raw: Json<Family> = ctx.get(&format!("{FAMILIES}/{}", segment(&args.policy_family_id)), &[])?;
    let family = raw.get()?;
    let rules = parse_definition(family.definition.as_deref());
    let mut lines = vec![format!("{} ({})", family.name.as_deref().unwrap_or("?"), family.policy_family_id)];
    if let Some(description) = &family.description {
        lines.push(description.clone());
    }
    lines.extend(rules.iter().map(|(path, rule)| format!("  {path}: {}", rule_text(rule))));
    Ok(Output::new(lines.join("\n"), FamilyDetails { family: raw, rules }))
}
