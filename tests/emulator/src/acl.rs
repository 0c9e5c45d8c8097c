//! Object permissions (the Permissions API's access control lists), for any family's objects.
//!
//! A family describes its object type once as an [`ObjectKind`] (levels weakest first), and then:
//! - checks a caller with [`Acls::check`] (403 `PERMISSION_DENIED`) or [`Acls::allows`] (filtering a list);
//! - passes the object's owner, who always holds the strongest level;
//! - forgets an object's grants with [`Acls::forget`] when the object is deleted.
//!
//! Admins hold every level on every object (inherited from the `admins` group). Levels are
//! cumulative: `CAN_MANAGE` implies `CAN_RESTART` implies `CAN_ATTACH_TO`.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::{
    error::ApiError,
    identity::{Caller, Directory},
};

/// An object type: its name in `/api/2.0/permissions/{api_name}/{id}` and its levels.
#[derive(Debug)]
pub(crate) struct ObjectKind {
    /// The path segment of the Permissions API (`clusters`).
    pub api_name: &'static str,
    /// The `object_type` in responses and the noun in messages (`cluster`).
    pub object_type: &'static str,
    /// `(level, description, verb for denials)`, weakest first.
    pub levels: &'static [(&'static str, &'static str, &'static str)],
}

impl ObjectKind {
    /// The rank of a level name, or `None` if the type has no such level.
    pub fn rank(&self, level: &str) -> Option<usize> {
        self.levels.iter().position(|(name, _, _)| *name == level)
    }

    fn strongest(&self) -> &'static str {
        self.levels.last().map_or("CAN_MANAGE", |l| l.0)
    }

    /// `{"permission_levels": [{permission_level, description}]}`.
    pub fn levels_json(&self) -> Value {
        let levels: Vec<Value> =
            self.levels.iter().map(|(l, d, _)| json!({"permission_level": l, "description": d})).collect();
        json!({ "permission_levels": levels })
    }
}

/// Clusters: attach, restart, manage.
pub(crate) const CLUSTER: ObjectKind = ObjectKind {
    api_name: "clusters",
    object_type: "cluster",
    levels: &[
        ("CAN_ATTACH_TO", "Can attach to the cluster", "Attach"),
        ("CAN_RESTART", "Can restart the cluster", "Restart"),
        ("CAN_MANAGE", "Can manage the cluster", "Manage"),
    ],
};

/// Who a grant is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Grantee {
    User(String),
    Group(String),
    /// By application id.
    ServicePrincipal(String),
}

impl Grantee {
    fn matches(&self, caller: &Caller) -> bool {
        match self {
            Grantee::User(name) => !caller.is_service_principal && name.eq_ignore_ascii_case(&caller.user_name),
            Grantee::ServicePrincipal(app_id) => caller.is_service_principal && *app_id == caller.user_name,
            Grantee::Group(group) => caller.groups.iter().any(|g| g == group),
        }
    }

    /// The principal behind a user name as the directory knows it (users and service principals
    /// share `creator_user_name`).
    pub fn for_user_name(directory: &Directory, user_name: &str) -> Grantee {
        match directory.by_user_name(user_name) {
            Some(p) if directory.caller(p).is_service_principal => Grantee::ServicePrincipal(p.user_name.clone()),
            _ => Grantee::User(user_name.to_owned()),
        }
    }

    /// The identifying field of an access-control entry.
    fn json(&self, directory: &Directory) -> Value {
        match self {
            Grantee::User(name) => {
                let mut out = json!({ "user_name": name });
                if let Some(p) = directory.by_user_name(name) {
                    out["display_name"] = json!(p.display_name);
                }
                out
            }
            Grantee::Group(name) => json!({ "group_name": name }),
            Grantee::ServicePrincipal(app_id) => {
                let mut out = json!({ "service_principal_name": app_id });
                if let Some(p) = directory.by_user_name(app_id) {
                    out["display_name"] = json!(p.display_name);
                }
                out
            }
        }
    }
}

/// SQL warehouses: view, use (run statements, start), monitor, manage (edit, stop, delete).
pub(crate) const WAREHOUSE: ObjectKind = ObjectKind {
    api_name: "warehouses",
    object_type: "warehouse",
    levels: &[
        ("CAN_VIEW", "Can view the warehouse", "View"),
        ("CAN_USE", "Can use the warehouse", "Use"),
        ("CAN_MONITOR", "Can monitor the warehouse", "Monitor"),
        ("CAN_MANAGE", "Can manage the warehouse", "Manage"),
        ("IS_OWNER", "Is the owner of the warehouse", "Own"),
    ],
};

/// Notebooks in the workspace tree, by object id: read, run, edit, manage.
pub(crate) const NOTEBOOK: ObjectKind = ObjectKind {
    api_name: "notebooks",
    object_type: "notebook",
    levels: &[
        ("CAN_READ", "Can read the notebook", "Read"),
        ("CAN_RUN", "Can run the notebook", "Run"),
        ("CAN_EDIT", "Can edit the notebook", "Edit"),
        ("CAN_MANAGE", "Can manage the notebook", "Manage"),
    ],
};

/// Folders in the workspace tree, by object id; the levels apply to everything inside.
pub(crate) const DIRECTORY: ObjectKind = ObjectKind {
    api_name: "directories",
    object_type: "directory",
    levels: &[
        ("CAN_READ", "Can read the objects in the folder", "Read"),
        ("CAN_RUN", "Can run the objects in the folder", "Run"),
        ("CAN_EDIT", "Can edit the objects in the folder", "Edit"),
        ("CAN_MANAGE", "Can manage the folder", "Manage"),
    ],
};

/// Model serving endpoints, by endpoint id: view, query, manage.
pub(crate) const SERVING_ENDPOINT: ObjectKind = ObjectKind {
    api_name: "serving-endpoints",
    object_type: "serving-endpoint",
    levels: &[
        ("CAN_VIEW", "Can view the serving endpoint", "View"),
        ("CAN_QUERY", "Can query the serving endpoint", "Query"),
        ("CAN_MANAGE", "Can manage the serving endpoint", "Manage"),
    ],
};

/// Object kinds whose families register their objects here ([`Acls::register`]) instead of the
/// Permissions API looking them up in the family's own store.
pub(crate) const REGISTERED_KINDS: &[&ObjectKind] = &[&SERVING_ENDPOINT];

/// Direct grants of every object, by `(object type, object id)`.
#[derive(Debug, Default)]
pub(crate) struct Acls {
    grants: BTreeMap<(&'static str, String), BTreeMap<Grantee, &'static str>>,
    /// Owners of registered objects, by `(object type, object id)`.
    owners: BTreeMap<(&'static str, String), String>,
}

impl Acls {
    /// Makes an object of a [`REGISTERED_KINDS`] kind known to the Permissions API, owned by
    /// `owner` (a user name or application id). A family calls this when it creates the object and
    /// [`Acls::forget`] when it deletes it.
    #[allow(
        dead_code,
        reason = "called by the families of registered kinds (serving endpoints) as they create objects"
    )]
    pub fn register(&mut self, kind: &ObjectKind, id: &str, owner: &str) {
        self.owners.insert((kind.api_name, id.to_owned()), owner.to_owned());
    }

    /// The owner of a registered object, or `None` if no family registered it.
    pub fn registered_owner(&self, kind: &ObjectKind, id: &str) -> Option<&str> {
        self.owners.get(&(kind.api_name, id.to_owned())).map(String::as_str)
    }

    /// Grants `level` (which must be one of the kind's levels) directly.
    pub fn grant(&mut self, kind: &ObjectKind, id: &str, who: Grantee, level: &str) {
        if let Some(rank) = kind.rank(level) {
            self.grants.entry((kind.api_name, id.to_owned())).or_default().insert(who, kind.levels[rank].0);
        }
    }

    /// Replaces every direct grant of an object.
    pub fn replace(&mut self, kind: &ObjectKind, id: &str, grants: Vec<(Grantee, &'static str)>) {
        self.grants.insert((kind.api_name, id.to_owned()), grants.into_iter().collect());
    }

    /// Drops an object's grants (the object is gone).
    pub fn forget(&mut self, kind: &ObjectKind, id: &str) {
        self.grants.remove(&(kind.api_name, id.to_owned()));
        self.owners.remove(&(kind.api_name, id.to_owned()));
    }

    /// The strongest level the caller holds, as a rank of `kind.levels`.
    pub fn effective(&self, kind: &ObjectKind, id: &str, caller: &Caller, owner: Option<&str>) -> Option<usize> {
        let strongest = kind.levels.len().checked_sub(1)?;
        if caller.is_admin || owner.is_some_and(|o| o.eq_ignore_ascii_case(&caller.user_name)) {
            return Some(strongest);
        }
        self.grants
            .get(&(kind.api_name, id.to_owned()))?
            .iter()
            .filter(|(who, _)| who.matches(caller))
            .filter_map(|(_, level)| kind.rank(level))
            .max()
    }

    /// Whether the caller holds at least `level`.
    pub fn allows(&self, kind: &ObjectKind, id: &str, caller: &Caller, owner: Option<&str>, level: &str) -> bool {
        let needed = kind.rank(level).unwrap_or(usize::MAX);
        self.effective(kind, id, caller, owner).is_some_and(|held| held >= needed)
    }

    /// `Ok` if the caller holds at least `level`; otherwise the service's 403.
    pub fn check(
        &self,
        kind: &ObjectKind,
        id: &str,
        caller: &Caller,
        owner: Option<&str>,
        level: &str,
    ) -> Result<(), ApiError> {
        if self.allows(kind, id, caller, owner, level) {
            return Ok(());
        }
        let verb = kind.rank(level).map_or("Manage", |r| kind.levels[r].2);
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            format!("User {} does not have {verb} permissions on {} {id}", caller.user_name, kind.object_type),
        ))
    }

    /// The Permissions API's `ObjectPermissions` of one object: the owner and direct grants, then
    /// the `admins` group's inherited `CAN_MANAGE`.
    pub fn render(&self, kind: &ObjectKind, id: &str, owner: Option<&str>, directory: &Directory) -> Value {
        let mut entries: BTreeMap<Grantee, Vec<&'static str>> = BTreeMap::new();
        if let Some(owner) = owner {
            entries.entry(Grantee::for_user_name(directory, owner)).or_default().push(kind.strongest());
        }
        for (who, level) in self.grants.get(&(kind.api_name, id.to_owned())).into_iter().flatten() {
            let levels = entries.entry(who.clone()).or_default();
            if !levels.contains(level) {
                levels.push(level);
            }
        }
        let mut acl: Vec<Value> = entries
            .into_iter()
            .map(|(who, levels)| {
                let mut entry = who.json(directory);
                entry["all_permissions"] = levels
                    .into_iter()
                    .map(|l| json!({ "permission_level": l, "inherited": false }))
                    .collect::<Vec<_>>()
                    .into();
                entry
            })
            .collect();
        acl.push(json!({
            "group_name": crate::identity::ADMINS_GROUP,
            "all_permissions": [{
                "permission_level": kind.strongest(),
                "inherited": true,
                "inherited_from_object": [format!("/{}/", kind.api_name)],
            }],
        }));
        json!({
            "object_id": format!("/{}/{id}", kind.api_name),
            "object_type": kind.object_type,
            "access_control_list": acl,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(user_name: &str, groups: &[&str], is_admin: bool) -> Caller {
        Caller {
            id: "1".into(),
            user_name: user_name.into(),
            display_name: user_name.into(),
            is_admin,
            is_service_principal: false,
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        }
    }

    #[test]
    fn levels_are_cumulative_and_come_from_users_and_groups() {
        let mut acls = Acls::default();
        acls.grant(&CLUSTER, "c1", Grantee::Group("eng".into()), "CAN_RESTART");
        let alice = caller("alice@example.com", &["eng"], false);
        assert!(acls.allows(&CLUSTER, "c1", &alice, None, "CAN_ATTACH_TO"));
        assert!(acls.allows(&CLUSTER, "c1", &alice, None, "CAN_RESTART"));
        assert!(!acls.allows(&CLUSTER, "c1", &alice, None, "CAN_MANAGE"));
        acls.grant(&CLUSTER, "c1", Grantee::User("alice@example.com".into()), "CAN_MANAGE");
        assert!(acls.allows(&CLUSTER, "c1", &alice, None, "CAN_MANAGE"));
    }

    #[test]
    fn owners_and_admins_manage_everything() {
        let acls = Acls::default();
        let bob = caller("bob@example.com", &[], false);
        assert!(acls.allows(&CLUSTER, "c1", &bob, Some("bob@example.com"), "CAN_MANAGE"));
        assert!(acls.allows(&CLUSTER, "c1", &caller("root@example.com", &["admins"], true), None, "CAN_MANAGE"));
        let err = acls.check(&CLUSTER, "c1", &bob, Some("x@example.com"), "CAN_RESTART").expect_err("no grant");
        assert_eq!(err.message, "User bob@example.com does not have Restart permissions on cluster c1");
        assert_eq!(err.status, StatusCode::FORBIDDEN);
    }

    #[test]
    fn registered_objects_have_owners_until_forgotten() {
        let mut acls = Acls::default();
        assert_eq!(acls.registered_owner(&SERVING_ENDPOINT, "ep1"), None);
        acls.register(&SERVING_ENDPOINT, "ep1", "bob@example.com");
        acls.grant(&SERVING_ENDPOINT, "ep1", Grantee::User("a".into()), "CAN_QUERY");
        assert_eq!(acls.registered_owner(&SERVING_ENDPOINT, "ep1"), Some("bob@example.com"));
        assert!(acls.allows(
            &SERVING_ENDPOINT,
            "ep1",
            &caller("bob@example.com", &[], false),
            Some("bob@example.com"),
            "CAN_MANAGE"
        ));
        acls.forget(&SERVING_ENDPOINT, "ep1");
        assert_eq!(acls.registered_owner(&SERVING_ENDPOINT, "ep1"), None);
        assert_eq!(acls.effective(&SERVING_ENDPOINT, "ep1", &caller("a", &[], false), None), None);
    }

    #[test]
    fn unknown_levels_are_not_granted() {
        let mut acls = Acls::default();
        acls.grant(&CLUSTER, "c1", Grantee::User("a".into()), "CAN_FLY");
        assert_eq!(acls.effective(&CLUSTER, "c1", &caller("a", &[], false), None), None);
    }
}
