//! Databricks cluster libraries as MCP tools: install (PyPI, Maven, CRAN, JAR, wheel,
//! requirements file) with an optional bounded wait, uninstall (effective on restart), and the
//! install status per library, for one cluster or all.
//!
//! A library installs on a running cluster (`PENDING → RESOLVING → INSTALLING → INSTALLED`, or
//! `FAILED`); on a terminated cluster it waits for the next start. Uninstalling only marks a
//! library `UNINSTALL_ON_RESTART`: it is gone after the cluster restarts.

use std::time::Duration;

use databricks_mcp_sdk::prelude::*;
use databricks_mcp_sdk::{Method, Request};

const API: &str = "/api/2.0/libraries";

fn path(endpoint: &str) -> String {
    format!("{API}/{endpoint}")
}

// ---------------------------------------------------------------------------------------------
// Libraries as the API spells them

/// A PyPI package.
#[schema]
#[derive(Debug, Clone)]
pub struct PythonPackage {
    /// Name with an optional version spec, e.g. `pandas==2.2.3` or `requests>=2.31`.
    pub package: String,
    /// Package index URL; the default is PyPI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
}

/// A Maven artifact.
#[schema]
#[derive(Debug, Clone)]
pub struct MavenPackage {
    /// `groupId:artifactId:version`, e.g. `com.databricks:spark-xml_2.12:0.18.0`.
    pub coordinates: String,
    /// Maven repository URL; the default is Maven Central.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// Dependencies to leave out, as `groupId:artifactId`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<String>,
}

/// A CRAN package.
#[schema]
#[derive(Debug, Clone)]
pub struct RPackage {
    /// Package name, e.g. `forecast`.
    pub package: String,
    /// CRAN mirror URL; the default is CRAN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
}

/// One library, exactly one kind, as the Libraries API takes it.
#[schema]
#[derive(Debug, Clone)]
#[serde(rename_all = "lowercase")]
pub enum Library {
    /// `{"pypi": {"package": "pandas==2.2.3"}}`
    Pypi(PythonPackage),
    /// `{"maven": {"coordinates": "g:a:v"}}`
    Maven(MavenPackage),
    /// `{"cran": {"package": "forecast"}}`
    Cran(RPackage),
    /// `{"jar": "/Volumes/main/libs/jars/x.jar"}`: a JAR in a volume, workspace file or cloud storage.
    Jar(String),
    /// `{"whl": "/Volumes/main/libs/wheels/x-1.0-py3-none-any.whl"}`: a Python wheel.
    Whl(String),
    /// `{"requirements": "/Workspace/Shared/requirements.txt"}`: a pip requirements file.
    Requirements(String),
}

impl Library {
    /// `(kind, name)`: how statuses are matched to requests.
    fn key(&self) -> (&'static str, &str) {
        match self {
            Self::Pypi(p) => ("pypi", &p.package),
            Self::Maven(m) => ("maven", &m.coordinates),
            Self::Cran(r) => ("cran", &r.package),
            Self::Jar(p) => ("jar", p),
            Self::Whl(p) => ("whl", p),
            Self::Requirements(p) => ("requirements", p),
        }
    }

    fn check(&self) -> Result<()> {
        let (kind, name) = self.key();
        if name.trim().is_empty() {
            return Err(ToolError::invalid(format!("a {kind} library needs a non-empty name or path")));
        }
        if kind == "maven" && name.split(':').filter(|p| !p.is_empty()).count() < 3 {
            return Err(ToolError::invalid(format!(
                "maven coordinates `{name}` must be groupId:artifactId:version, e.g. com.databricks:spark-xml_2.12:0.18.0"
            )));
        }
        Ok(())
    }
}

/// `(kind, name)` of a library as the workspace returned it, e.g. `("pypi", "pandas")`.
fn key_of(library: &Value) -> (String, String) {
    let Some((kind, spec)) = library.as_object().and_then(|o| o.iter().next()) else {
        return ("unknown".into(), library.to_string());
    };
    let name = match spec {
        Value::String(path) => path.clone(),
        Value::Object(o) => {
            o.get("package").or_else(|| o.get("coordinates")).and_then(Value::as_str).unwrap_or_default().to_string()
        }
        other => other.to_string(),
    };
    (kind.clone(), name)
}

// ---------------------------------------------------------------------------------------------
// Statuses

/// A library's install status on a cluster (`LibraryFullStatus`).
#[schema]
#[derive(Debug, Clone)]
pub struct LibraryStatus {
    /// The library, as installed: `{"pypi": {...}}`, `{"jar": "..."}`...
    pub library: Value,
    /// `PENDING`, `RESOLVING`, `INSTALLING`, `INSTALLED`, `FAILED`, `SKIPPED`,
    /// `UNINSTALL_ON_RESTART` or `RESTORED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Why it failed, or other notes from the service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<String>,
    /// True for a library installed on all clusters (a legacy setting).
    #[serde(default)]
    pub is_library_for_all_clusters: bool,
}

impl LibraryStatus {
    fn status(&self) -> &str {
        self.status.as_deref().unwrap_or("UNKNOWN")
    }

    fn line(&self) -> String {
        let (kind, name) = key_of(&self.library);
        let mut line = format!("{kind} {name}: {}", self.status());
        if let Some(first) = self.messages.first() {
            line.push_str(&format!(" ({})", first.lines().last().unwrap_or(first).trim()));
        }
        line
    }

    fn settled(&self) -> bool {
        matches!(self.status(), "INSTALLED" | "FAILED" | "SKIPPED" | "UNINSTALL_ON_RESTART" | "RESTORED")
    }
}

/// One cluster's libraries (`ClusterLibraryStatuses`).
#[schema]
pub struct ClusterLibraries {
    /// The cluster.
    pub cluster_id: String,
    /// Its libraries and their status.
    #[serde(default)]
    pub library_statuses: Vec<Json<LibraryStatus>>,
}

fn cluster_libraries(ctx: &Context, cluster_id: &str) -> Result<Vec<Json<LibraryStatus>>> {
    let raw: ClusterLibraries = ctx.get(&path("cluster-status"), &[("cluster_id", cluster_id.to_string())])?;
    Ok(raw.library_statuses)
}

fn typed(statuses: &[Json<LibraryStatus>]) -> Result<Vec<LibraryStatus>> {
    statuses.iter().map(Json::get).collect()
}

/// `3 libraries: 2 INSTALLED, 1 FAILED`.
fn summary(statuses: &[LibraryStatus]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for s in statuses {
        match counts.iter_mut().find(|(k, _)| *k == s.status()) {
            Some((_, n)) => *n += 1,
            None => counts.push((s.status(), 1)),
        }
    }
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let plural = if statuses.len() == 1 { "library" } else { "libraries" };
    format!("{} {plural}: {}", statuses.len(), parts.join(", "))
}

// ---------------------------------------------------------------------------------------------
// Tools

/// Arguments of `get_cluster_libraries`.
#[schema]
pub struct GetClusterLibraries {
    /// The cluster id, e.g. `0123-456789-abcdefgh`.
    pub cluster_id: String,
    /// How many libraries to return, 1-500 (default 100).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_page_token` from the previous call, to get the next page.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A page of one cluster's libraries.
#[schema]
pub struct ClusterLibraryPage {
    /// The cluster.
    pub cluster_id: String,
    /// Libraries on this page, with their status.
    pub library_statuses: Vec<Json<LibraryStatus>>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the libraries of a cluster with each one's install status (INSTALLED, PENDING, FAILED
/// with the reason, UNINSTALL_ON_RESTART...).
#[tool(read_only, idempotent, title = "Get cluster libraries")]
fn get_cluster_libraries(ctx: &Context, args: GetClusterLibraries) -> Result<Output<ClusterLibraryPage>> {
    let all = cluster_libraries(ctx, &args.cluster_id)?;
    let header = summary(&typed(&all)?);
    let Page { items: page, next_page_token, .. } =
        Page::from_items(all, args.limit.unwrap_or(100).clamp(1, 500), args.page_token.as_deref())?;
    let mut lines = if page.is_empty() && next_page_token.is_none() && args.page_token.is_none() {
        vec![format!("Cluster {} has no libraries.", args.cluster_id)]
    } else {
        let mut lines = vec![format!("Cluster {}: {header}", args.cluster_id)];
        lines.extend(typed(&page)?.iter().map(LibraryStatus::line));
        lines
    };
    if let Some(token) = &next_page_token {
        lines.push(format!("More libraries: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(
        lines.join("\n"),
        ClusterLibraryPage { cluster_id: args.cluster_id, library_statuses: page, next_page_token },
    ))
}

/// A page of clusters' libraries.
#[schema]
pub struct AllClusterLibraries {
    /// Clusters with libraries on this page.
    pub statuses: Vec<ClusterLibraries>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// List the library status of every cluster that has libraries (and that you can attach to),
/// one line per cluster with counts by status and any failed library named. Use
/// `get_cluster_libraries` for one cluster's details.
#[tool(read_only, idempotent, title = "List all clusters' library statuses")]
fn list_all_cluster_library_statuses(ctx: &Context, args: PageArgs) -> Result<Output<AllClusterLibraries>> {
    #[schema]
    struct Raw {
        #[serde(default)]
        statuses: Vec<ClusterLibraries>,
    }
    let raw: Raw = ctx.get(&path("all-cluster-statuses"), &[])?;
    let Page { items: statuses, next_page_token, .. } =
        Page::from_items(raw.statuses, args.limit_or(50, 500), args.page_token.as_deref())?;
    let mut lines = Vec::new();
    for cluster in &statuses {
        let libs = typed(&cluster.library_statuses)?;
        let mut line = format!("{}: {}", cluster.cluster_id, summary(&libs));
        let failed: Vec<String> =
            libs.iter().filter(|l| l.status() == "FAILED").map(|l| key_of(&l.library).1).collect();
        if !failed.is_empty() {
            line.push_str(&format!(" (failed: {})", failed.join(", ")));
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push("No cluster has libraries.".into());
    }
    if let Some(token) = &next_page_token {
        lines.push(format!("More clusters: call again with page_token \"{token}\"."));
    }
    Ok(Output::new(lines.join("\n"), AllClusterLibraries { statuses, next_page_token }))
}

/// Arguments of `install_libraries`.
#[schema]
pub struct InstallLibraries {
    /// The cluster id.
    pub cluster_id: String,
    /// The libraries, each exactly one kind, e.g. `[{"pypi": {"package": "pandas==2.2.3"}},
    /// {"maven": {"coordinates": "com.databricks:spark-xml_2.12:0.18.0"}}, {"whl": "/Volumes/main/libs/w/x.whl"}]`.
    pub libraries: Vec<Library>,
    /// Wait up to this many seconds for the libraries to finish installing, reporting progress
    /// (0, the default, returns at once; at most 1200). Waiting only makes sense on a running
    /// cluster.
    #[serde(default)]
    pub wait_seconds: Option<u32>,
}

/// The outcome of an install or uninstall.
#[schema]
pub struct LibrariesChange {
    /// The cluster.
    pub cluster_id: String,
    /// The status of each library named in the request, in request order, when it is known.
    pub library_statuses: Vec<Json<LibraryStatus>>,
    /// False when a wait ran out before every library settled: poll with `get_cluster_libraries`.
    pub settled: bool,
    /// What happened.
    pub message: String,
}

fn requested(statuses: Vec<Json<LibraryStatus>>, keys: &[(String, String)]) -> Result<Vec<Json<LibraryStatus>>> {
    let mut out = Vec::new();
    for key in keys {
        for s in &statuses {
            if key_of(&s.get()?.library) == *key {
                out.push(s.clone());
                break;
            }
        }
    }
    Ok(out)
}

fn the_cluster_state(ctx: &Context, cluster_id: &str) -> Option<String> {
    #[schema]
    struct Cluster {
        #[serde(default)]
        state: Option<String>,
    }
    ctx.get::<Cluster>("/api/2.1/clusters/get", &[("cluster_id", cluster_id.to_string())]).ok()?.state
}

/// Install libraries on a cluster: PyPI, Maven and CRAN packages, JARs, wheels and requirements
/// files. On a running cluster they install right away; on a terminated one, at its next start.
/// With `wait_seconds` the call waits (with progress) until each library is INSTALLED or FAILED;
/// if the wait runs out it says so and `get_cluster_libraries` shows progress. Cancelling the
/// call during the wait uninstalls the libraries it added.
#[tool(idempotent, title = "Install libraries")]
fn install_libraries(ctx: &Context, args: InstallLibraries) -> Result<Output<LibrariesChange>> {
    if args.libraries.is_empty() {
        return Err(ToolError::invalid("give at least one library to install"));
    }
    for library in &args.libraries {
        library.check()?;
    }
    let keys: Vec<(String, String)> =
        args.libraries.iter().map(|l| (l.key().0.to_string(), l.key().1.to_string())).collect();
    // What the cluster already has: those are not this call's to undo.
    let before = typed(&cluster_libraries(ctx, &args.cluster_id)?)?;
    let had: Vec<(String, String)> = before.iter().map(|s| key_of(&s.library)).collect();
    let new: Vec<Library> = args
        .libraries
        .iter()
        .filter(|l| !had.contains(&(l.key().0.to_string(), l.key().1.to_string())))
        .cloned()
        .collect();
    ctx.post_empty(&path("install"), &json!({ "cluster_id": args.cluster_id, "libraries": args.libraries }))?;
    let names: Vec<String> = keys.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let requested_text = format!("{} on cluster {}", names.join(", "), args.cluster_id);

    let wait_seconds = args.wait_seconds.unwrap_or(0).min(1200);
    if wait_seconds == 0 {
        let statuses = requested(cluster_libraries(ctx, &args.cluster_id)?, &keys)?;
        let lines: Vec<String> = typed(&statuses)?.iter().map(LibraryStatus::line).collect();
        let settled = typed(&statuses)?.iter().all(LibraryStatus::settled);
        let message = format!(
            "Requested install of {requested_text}.{}",
            if settled { "" } else { " Check progress with get_cluster_libraries, or call again with wait_seconds." }
        );
        return Ok(Output::new(
            format!("{message}\n{}", lines.join("\n")),
            LibrariesChange { cluster_id: args.cluster_id, library_statuses: statuses, settled, message },
        ));
    }
    // A cluster that is not up will not install anything until it starts: nothing to wait for.
    if let Some(state) = the_cluster_state(ctx, &args.cluster_id)
        && matches!(state.as_str(), "TERMINATED" | "TERMINATING" | "ERROR")
    {
        let statuses = requested(cluster_libraries(ctx, &args.cluster_id)?, &keys)?;
        let message = format!(
            "Requested install of {requested_text}. The cluster is {state}: the libraries install when it starts (start_cluster), so there was nothing to wait for."
        );
        return Ok(Output::new(
            message.clone(),
            LibrariesChange { cluster_id: args.cluster_id, library_statuses: statuses, settled: false, message },
        ));
    }
    let guard = if new.is_empty() {
        None
    } else {
        let undo = Request::new(Method::Post, path("uninstall"))
            .json(&json!({ "cluster_id": args.cluster_id, "libraries": new }))?;
        Some(ctx.on_cancel(undo)?)
    };
    let wait =
        Wait::new(format!("libraries to install ({requested_text})"), Duration::from_secs(u64::from(wait_seconds)));
    let polled = ctx.wait_for(&wait, || {
        let statuses = requested(cluster_libraries(ctx, &args.cluster_id)?, &keys)?;
        let typed = typed(&statuses)?;
        if typed.len() == keys.len() && typed.iter().all(LibraryStatus::settled) {
            return Ok(Poll::Ready(statuses));
        }
        Ok(Poll::Pending(typed.iter().map(LibraryStatus::line).collect::<Vec<_>>().join(", ")))
    });
    if let Some(guard) = guard {
        guard.disarm();
    }
    let (statuses, settled) = match polled? {
        Waited::Done(statuses) => (statuses, true),
        Waited::StillRunning { .. } => (requested(cluster_libraries(ctx, &args.cluster_id)?, &keys)?, false),
    };
    let list = typed(&statuses)?;
    let lines: Vec<String> = list.iter().map(LibraryStatus::line).collect();
    let failed: Vec<&LibraryStatus> = list.iter().filter(|s| s.status() == "FAILED").collect();
    if !failed.is_empty() {
        let details: Vec<String> =
            failed.iter().map(|s| format!("{}: {}", key_of(&s.library).1, s.messages.join(" "))).collect();
        return Err(ToolError::Failed(format!(
            "{} of {} libraries failed to install on cluster {}:\n{}\nAll statuses:\n{}",
            failed.len(),
            list.len(),
            args.cluster_id,
            details.join("\n"),
            lines.join("\n")
        )));
    }
    let message = if settled {
        format!("Installed {requested_text}.")
    } else {
        format!(
            "Still installing after {wait_seconds} s: {requested_text}. Poll with get_cluster_libraries, or call install_libraries again with wait_seconds (it does not install twice)."
        )
    };
    Ok(Output::new(
        format!("{message}\n{}", lines.join("\n")),
        LibrariesChange { cluster_id: args.cluster_id, library_statuses: statuses, settled, message },
    ))
}

/// Arguments of `uninstall_libraries`.
#[schema]
pub struct UninstallLibraries {
    /// The cluster id.
    pub cluster_id: String,
    /// The libraries to remove, spelled as they were installed (see `get_cluster_libraries`).
    pub libraries: Vec<Library>,
}

/// Uninstall libraries from a cluster. This takes effect only when the cluster restarts: until
/// then the libraries stay loaded and read UNINSTALL_ON_RESTART. Restart the cluster
/// (`restart_cluster`) to finish. Libraries the cluster does not have are ignored.
#[tool(destructive, idempotent, title = "Uninstall libraries")]
fn uninstall_libraries(ctx: &Context, args: UninstallLibraries) -> Result<Output<LibrariesChange>> {
    if args.libraries.is_empty() {
        return Err(ToolError::invalid("give at least one library to uninstall"));
    }
    for library in &args.libraries {
        library.check()?;
    }
    let keys: Vec<(String, String)> =
        args.libraries.iter().map(|l| (l.key().0.to_string(), l.key().1.to_string())).collect();
    let before = typed(&cluster_libraries(ctx, &args.cluster_id)?)?;
    let had: Vec<(String, String)> = before.iter().map(|s| key_of(&s.library)).collect();
    let missing: Vec<String> = keys.iter().filter(|k| !had.contains(k)).map(|(k, n)| format!("{k} {n}")).collect();
    ctx.post_empty(&path("uninstall"), &json!({ "cluster_id": args.cluster_id, "libraries": args.libraries }))?;
    let statuses = requested(cluster_libraries(ctx, &args.cluster_id)?, &keys)?;
    let marked = statuses.len();
    let mut message = format!(
        "Marked {marked} {} on cluster {} for removal: uninstalling takes effect when the cluster restarts (restart_cluster); until then they stay installed.",
        if marked == 1 { "library" } else { "libraries" },
        args.cluster_id
    );
    if !missing.is_empty() {
        message.push_str(&format!(" Not installed on this cluster, so ignored: {}.", missing.join(", ")));
    }
    let lines: Vec<String> = typed(&statuses)?.iter().map(LibraryStatus::line).collect();
    let text = if lines.is_empty() { message.clone() } else { format!("{message}\n{}", lines.join("\n")) };
    Ok(Output::new(
        text,
        LibrariesChange { cluster_id: args.cluster_id, library_statuses: statuses, settled: true, message },
    ))
}

databricks_mcp_sdk::plugin! {
    name: "libraries",
    description: "Databricks cluster libraries: install (with an optional wait), uninstall on restart, and install status per cluster",
    grants: [
        "GET /api/2.0/libraries/cluster-status",
        "GET /api/2.0/libraries/all-cluster-statuses",
        "POST /api/2.0/libraries/install",
        "POST /api/2.0/libraries/uninstall",
        "GET /api/2.1/clusters/get",
    ],
    tools: [
        install_libraries,
        uninstall_libraries,
        get_cluster_libraries,
        list_all_cluster_library_statuses,
    ],
}
