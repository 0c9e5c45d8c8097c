//! Who may do what with pipelines (pipeline access control, on by default in workspaces).
//!
//! A pipeline's creator owns it (`IS_OWNER`); admins hold every level; others need a grant through
//! the Permissions API (`/api/2.0/permissions/pipelines/{pipeline_id}`). Reading a pipeline, its
//! updates and events needs `CAN_VIEW`; starting and stopping updates `CAN_RUN`; changing or
//! deleting it `CAN_MANAGE`. `GET /pipelines` leaves out what the caller may not view.

use super::model::Pipeline;
use crate::{
    acl::{Acls, ObjectKind},
    error::ApiResult,
    identity::Caller,
};

/// Pipelines, weakest level first.
pub(crate) const PIPELINE: ObjectKind = ObjectKind {
    api_name: "pipelines",
    object_type: "pipelines",
    levels: &[
        ("CAN_VIEW", "Can view the pipeline", "View"),
        ("CAN_RUN", "Can start and stop updates of the pipeline", "Run"),
        ("CAN_MANAGE", "Can manage the pipeline", "Manage"),
        ("IS_OWNER", "Is the owner of the pipeline", "Owner"),
    ],
};

pub(crate) const VIEW: &str = "CAN_VIEW";
pub(crate) const RUN: &str = "CAN_RUN";
pub(crate) const MANAGE: &str = "CAN_MANAGE";

/// `Ok` if the caller holds `level` on the pipeline.
pub(crate) fn check(acls: &Acls, caller: &Caller, pipeline: &Pipeline, level: &str) -> ApiResult<()> {
    acls.check(&PIPELINE, &pipeline.id, caller, Some(&pipeline.creator), level)
}

/// Whether the caller may see the pipeline (for filtering lists).
pub(crate) fn can_view(acls: &Acls, caller: &Caller, pipeline: &Pipeline) -> bool {
    acls.allows(&PIPELINE, &pipeline.id, caller, Some(&pipeline.creator), VIEW)
}
