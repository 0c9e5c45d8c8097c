//! Who may read and change which part of the workspace tree, as the service's default folder
//! permissions have it. No per-object ACLs are kept (the Permissions API does not serve notebooks
//! or directories here), only the defaults every workspace starts with:
//!
//! - admins manage everything;
//! - every principal manages its home folder `/Users/<user name>`, its repos folder
//!   `/Repos/<user name>`, and `/Shared` (the `users` group holds `CAN_MANAGE` there);
//! - everyone can list the root and the top folders `/Users` and `/Repos`, which show only what
//!   the caller can read, but not create anything directly in them;
//! - anything else, such as another user's home folder or repos, is out of reach: 403
//!   `PERMISSION_DENIED` "<user> does not have <Read|Edit|Manage> permissions on <path>. ...",
//!   whether or not the object exists.

use axum::http::StatusCode;

use crate::{error::ApiError, identity::Caller};

/// What the caller may do with a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Access {
    None,
    /// Read (list) only: the root and the top folders.
    List,
    Manage,
}

/// What an operation needs, with the verb the service's message uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    Read,
    Edit,
    Manage,
}

fn within(path: &str, folder: &str) -> bool {
    path.len() >= folder.len()
        && path[..folder.len()].eq_ignore_ascii_case(folder)
        && (path.len() == folder.len() || path.as_bytes()[folder.len()] == b'/')
}

/// The caller's access to `path` (normalised, without `/Workspace`).
pub(crate) fn access(caller: &Caller, path: &str) -> Access {
    if caller.is_admin {
        return Access::Manage;
    }
    let mine = ["/Shared".to_owned(), format!("/Users/{}", caller.user_name), format!("/Repos/{}", caller.user_name)];
    if mine.iter().any(|folder| within(path, folder)) {
        Access::Manage
    } else if matches!(path, "/" | "/Users" | "/Repos") {
        Access::List
    } else {
        Access::None
    }
}

/// `Ok` if the caller may do what `need` says on `path`; otherwise the service's 403.
pub(crate) fn check(caller: &Caller, path: &str, need: Need) -> Result<(), ApiError> {
    let held = access(caller, path);
    let enough = match need {
        Need::Read => held >= Access::List,
        Need::Edit | Need::Manage => held == Access::Manage,
    };
    if enough {
        return Ok(());
    }
    let verb = match need {
        Need::Read => "Read",
        Need::Edit => "Edit",
        Need::Manage => "Manage",
    };
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "PERMISSION_DENIED",
        format!(
            "{} does not have {verb} permissions on {path}. Please contact the owner or an administrator for access.",
            caller.user_name
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, admin: bool) -> Caller {
        Caller {
            id: "1".into(),
            user_name: name.into(),
            display_name: name.into(),
            is_admin: admin,
            is_service_principal: false,
            groups: Vec::new(),
        }
    }

    #[test]
    fn users_manage_their_folders_and_shared_only() {
        let alice = user("alice@example.com", false);
        assert_eq!(access(&alice, "/Users/alice@example.com/nb"), Access::Manage);
        assert_eq!(access(&alice, "/Repos/alice@example.com/tools/x"), Access::Manage);
        assert_eq!(access(&alice, "/Shared/reports"), Access::Manage);
        assert_eq!(access(&alice, "/Users"), Access::List);
        assert_eq!(access(&alice, "/Users/alice@example.comx"), Access::None);
        assert_eq!(access(&alice, "/Users/bob@example.com/nb"), Access::None);
        assert_eq!(access(&alice, "/Sharedx"), Access::None);
        assert!(check(&alice, "/Users", Need::Read).is_ok());
        let denied = check(&alice, "/Users", Need::Edit).expect_err("cannot create top-level user folders");
        assert_eq!((denied.status, denied.code), (StatusCode::FORBIDDEN, "PERMISSION_DENIED"));
        assert_eq!(access(&user("admin@example.com", true), "/Users/bob@example.com"), Access::Manage);
    }
}
