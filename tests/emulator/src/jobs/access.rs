//! Who may do what with jobs and runs (job access control, on by default in workspaces).
//!
//! A job's creator owns it (`IS_OWNER`); admins hold every level; others need a grant through the
//! Permissions API (`/api/2.0/permissions/jobs/{job_id}`). Reading a job or its runs needs
//! `CAN_VIEW`; starting, cancelling and repairing runs `CAN_MANAGE_RUN`; changing or deleting the
//! job `CAN_MANAGE`. A one-time run (`runs/submit`) is visible to its submitter and admins only,
//! as is a run whose job was deleted. `jobs/list` and `runs/list` leave out what the caller may
//! not view.

use crate::{
    acl::ObjectKind,
    error::{ApiError, ApiResult},
    identity::Caller,
    workspace::Workspace,
};

/// Jobs, weakest level first.
pub(crate) const JOB: ObjectKind = ObjectKind {
    api_name: "jobs",
    object_type: "job",
    levels: &[
        ("CAN_VIEW", "Can view the job", "View"),
        ("CAN_MANAGE_RUN", "Can manage runs of the job", "Manage Run"),
        ("CAN_MANAGE", "Can manage the job", "Manage"),
        ("IS_OWNER", "Is the owner of the job", "Owner"),
    ],
};

pub(crate) const VIEW: &str = "CAN_VIEW";
pub(crate) const MANAGE_RUN: &str = "CAN_MANAGE_RUN";
pub(crate) const MANAGE: &str = "CAN_MANAGE";

/// `Ok` if the job exists and the caller holds `level` on it (a missing job is reported first).
pub(crate) fn authorize_job(ws: &Workspace, caller: &Caller, job_id: i64, level: &str) -> ApiResult<()> {
    let owner = ws.jobs.job(job_id)?.creator.clone();
    ws.acls.check(&JOB, &job_id.to_string(), caller, Some(&owner), level)
}

/// Whether the caller may view the job (for filtering lists).
pub(crate) fn can_view_job(ws: &Workspace, caller: &Caller, job_id: i64, creator: &str) -> bool {
    ws.acls.allows(&JOB, &job_id.to_string(), caller, Some(creator), VIEW)
}

/// `Ok` if the run (or task run) exists and the caller holds `level` on its job; runs without a
/// (surviving) job belong to their submitter.
pub(crate) fn authorize_run(ws: &Workspace, caller: &Caller, run_id: i64, level: &str) -> ApiResult<()> {
    let (job_id, creator) = ws.jobs.run_owner(run_id)?;
    if let Some(job_id) = job_id
        && ws.jobs.job(job_id).is_ok()
    {
        return authorize_job(ws, caller, job_id, level);
    }
    if caller.is_admin || creator.eq_ignore_ascii_case(&caller.user_name) {
        return Ok(());
    }
    let verb = JOB.rank(level).map_or("Manage", |r| JOB.levels[r].2);
    Err(ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        "PERMISSION_DENIED",
        format!("User {} does not have {verb} permissions on run {run_id}", caller.user_name),
    ))
}
