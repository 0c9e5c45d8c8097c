//! What a snapshot serves, rendered for people and programs: `databricks-mcp tools` prints it,
//! and the README's tool reference is this module's Markdown, so the documentation is generated
//! from the plugins' own manifests and cannot drift from them.

use serde_json::{Value, json};

use crate::manifest::{Annotations, Manifest, ToolSpec};
use crate::registry::Snapshot;

/// How `tools` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One line per tool, grouped by plugin.
    Text,
    /// Every tool with its schemas, as MCP `tools/list` would give them, plus the plugin.
    Json,
    /// The README's reference: a section and a table per plugin.
    Markdown,
}

/// Render the tools of `snapshot` in `format`.
pub fn render(snapshot: &Snapshot, format: Format) -> String {
    match format {
        Format::Text => text(snapshot),
        Format::Json => serde_json::to_string_pretty(&json_of(snapshot)).unwrap_or_default() + "\n",
        Format::Markdown => markdown(snapshot),
    }
}

fn hints(a: &Annotations) -> String {
    let mut out = Vec::new();
    if a.read_only {
        out.push("read-only");
    } else if a.destructive {
        out.push("destructive");
    }
    if a.idempotent && !a.read_only {
        out.push("idempotent");
    }
    if a.open_world {
        out.push("open-world");
    }
    out.join(", ")
}

/// The start of the description, whole sentences up to about 60 characters, for one-line
/// summaries. A sentence ends at ". " before a capital letter, so "e.g. `x`" does not end one.
fn summary(tool: &ToolSpec) -> String {
    let flat = tool.description.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut end = 0;
    for (i, _) in flat.match_indices(". ") {
        let next = flat[i + 2..].chars().next();
        let word = flat[..i].rsplit(' ').next().unwrap_or("");
        if next.is_some_and(char::is_uppercase) && !matches!(word, "e.g" | "i.e" | "etc" | "vs") {
            end = i + 1;
            if end >= 60 {
                break;
            }
        }
    }
    if end == 0 { flat } else { flat[..end].to_string() }
}

fn text(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    for plugin in &snapshot.plugins {
        let m = &plugin.manifest;
        out.push_str(&format!("{} {} ({} tools): {}\n", m.name, m.version, m.tools.len(), m.description));
        out.push_str(&tool_lines(m, "  "));
    }
    out
}

/// One line per tool of `manifest`: name, hints and summary.
pub fn tool_lines(manifest: &Manifest, indent: &str) -> String {
    let mut out = String::new();
    for tool in &manifest.tools {
        let hints = hints(&tool.annotations);
        let hints = if hints.is_empty() { String::new() } else { format!(" [{hints}]") };
        out.push_str(&format!("{indent}{}{hints}: {}\n", tool.name, summary(tool)));
    }
    out
}

/// The tools of `manifest` as MCP `tools/list` gives them, plus the plugin's name.
pub fn tools_json(manifest: &Manifest) -> Vec<Value> {
    manifest.tools.iter().map(|tool| tool_json(&manifest.name, tool)).collect()
}

fn tool_json(plugin: &str, tool: &ToolSpec) -> Value {
    let a = &tool.annotations;
    json!({
        "plugin": plugin,
        "name": tool.name,
        "title": tool.title,
        "description": tool.description,
        "inputSchema": tool.input_schema,
        "outputSchema": tool.output_schema,
        "annotations": {
            "readOnlyHint": a.read_only,
            "destructiveHint": a.destructive,
            "idempotentHint": a.idempotent,
            "openWorldHint": a.open_world,
        },
    })
}

/// The tools of a snapshot as `{"tools": [...]}`.
pub fn json_of(snapshot: &Snapshot) -> Value {
    let tools: Vec<Value> = snapshot.plugins.iter().flat_map(|p| tools_json(&p.manifest)).collect();
    json!({ "tools": tools })
}

fn markdown(snapshot: &Snapshot) -> String {
    let total: usize = snapshot.plugins.iter().map(|p| p.manifest.tools.len()).sum();
    let mut out = format!(
        "{} plugins, {total} tools. Generated from the plugins' manifests by `just readme` (`databricks-mcp tools --format markdown`).\n",
        snapshot.plugins.len()
    );
    for plugin in &snapshot.plugins {
        let m = &plugin.manifest;
        out.push_str(&format!("\n### {} ({} tools)\n\n{}.\n\n", m.name, m.tools.len(), m.description));
        out.push_str("| Tool | What it does | Hints |\n|---|---|---|\n");
        for tool in &m.tools {
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                tool.name,
                summary(tool).replace('|', "\\|"),
                hints(&tool.annotations)
            ));
        }
        let grants: Vec<String> = m.grants.iter().map(|g| format!("`{g}`")).collect();
        out.push_str(&format!(
            "\n<details><summary>Workspace API it may call ({} grants)</summary>\n\n{}\n\n</details>\n",
            grants.len(),
            grants.join("<br>")
        ));
    }
    out
}
