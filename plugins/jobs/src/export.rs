//! `export_run`: a notebook task run as HTML.

use databricks_mcp_sdk::prelude::*;

use crate::model::truncate;
use crate::{fetch_run, path};

/// Which views of a notebook run to export.
#[schema]
#[derive(Debug, Clone, Copy, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum ExportViews {
    /// The notebook with its results (default).
    #[default]
    Code,
    /// The notebook's dashboards.
    Dashboards,
    /// Both.
    All,
}

/// Arguments of `export_run`.
#[schema]
pub struct ExportRun {
    /// A notebook task run id, or a run id (then `task_key` picks the task when there are several).
    pub run_id: i64,
    /// For a run of several tasks: the notebook task to export.
    #[serde(default)]
    pub task_key: Option<String>,
    /// `CODE` (default), `DASHBOARDS` or `ALL`.
    #[serde(default)]
    pub views: ExportViews,
    /// Keep at most this many characters of each view (default 20000, at most 500000).
    #[serde(default)]
    pub max_chars: Option<u32>,
}

/// One exported view.
#[schema]
pub struct ExportedView {
    /// The view's name (the notebook's or the dashboard's).
    #[serde(default)]
    pub name: String,
    /// `NOTEBOOK` or `DASHBOARD`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// HTML content, cut at `max_chars`.
    pub content: String,
    /// True when the content was cut.
    pub truncated: bool,
    /// The content's full length, characters.
    pub total_chars: u64,
}

/// An exported run.
#[schema]
pub struct ExportedRun {
    /// The task run exported.
    pub run_id: i64,
    /// The views.
    pub views: Vec<ExportedView>,
}

/// Export a finished notebook task run as HTML: the notebook with its cell results (`CODE`), its
/// dashboards, or both. Large content is cut at `max_chars`, with a note.
#[tool(read_only, idempotent, title = "Export run")]
pub(crate) fn export_run(ctx: &Context, args: ExportRun) -> Result<Output<ExportedRun>> {
    let max = args.max_chars.unwrap_or(20_000).clamp(100, 500_000) as usize;
    let run = fetch_run(ctx, args.run_id)?.get()?;
    let target = match (run.tasks.as_deref(), &args.task_key) {
        (Some(tasks), Some(key)) => tasks.iter().find(|t| &t.task_key == key).map(|t| t.run_id).ok_or_else(|| {
            let known: Vec<&str> = tasks.iter().map(|t| t.task_key.as_str()).collect();
            ToolError::invalid(format!("run {} has no task \"{key}\"; its tasks are {}", args.run_id, known.join(", ")))
        })?,
        (Some([only]), None) => only.run_id,
        (Some(tasks), None) if tasks.len() > 1 => {
            let known: Vec<String> = tasks.iter().map(|t| format!("{} (task run {})", t.task_key, t.run_id)).collect();
            return Err(ToolError::invalid(format!(
                "run {} has {} tasks; give task_key, one of: {}",
                args.run_id,
                tasks.len(),
                known.join(", ")
            )));
        }
        _ => args.run_id,
    };
    let views = match args.views {
        ExportViews::Code => "CODE",
        ExportViews::Dashboards => "DASHBOARDS",
        ExportViews::All => "ALL",
    };
    #[databricks_mcp_sdk::schema]
    struct RawView {
        #[serde(default)]
        name: String,
        #[serde(rename = "type", default)]
        kind: String,
        #[serde(default)]
        content: String,
    }
    #[databricks_mcp_sdk::schema]
    struct Raw {
        #[serde(default)]
        views: Vec<RawView>,
    }
    let raw: Raw =
        ctx.get(&path("runs/export"), &[("run_id", target.to_string()), ("views_to_export", views.into())])?;
    let mut lines = vec![format!("Export of task run {target} ({views}): {} view(s).", raw.views.len())];
    let views: Vec<ExportedView> = raw
        .views
        .into_iter()
        .map(|v| {
            let total_chars = v.content.chars().count() as u64;
            let (content, truncated) = truncate(&v.content, max);
            let note = if truncated {
                format!(" (first {max} of {total_chars} characters; raise max_chars for more)")
            } else {
                String::new()
            };
            lines.push(format!("--- {} \"{}\"{note}\n{content}", v.kind, v.name));
            ExportedView { name: v.name, kind: v.kind, content, truncated, total_chars }
        })
        .collect();
    Ok(Output::new(lines.join("\n"), ExportedRun { run_id: target, views }))
}
