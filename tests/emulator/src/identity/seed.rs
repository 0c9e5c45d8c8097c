//! The principals, groups and tokens every seed starts with (`Empty` included: a workspace
//! always has its users). SCIM ids are fixed:
//!
//! | SCIM id | principal | groups | token |
//! |---|---|---|---|
//! | `1000000000000001` | `demo.user@example.com` | admins, users | `DEMO_TOKEN` |
//! | `1000000000000002` | `alice.nguyen@example.com` | users, data-engineers | `ALICE_TOKEN` |
//! | `1000000000000003`..`07` | bob.smith, carol.diaz, dave.okafor, erin.park, frank.mueller (`@example.com`) | users (bob also data-engineers) | none |
//! | `2000000000000001` | service principal `etl-service-principal`, application id [`SP_CLIENT_ID`] | users, data-engineers | `SP_TOKEN`; OAuth secret `SP_CLIENT_SECRET` |
//!
//! Groups: `admins` = `3000000000000001`, `users` = `3000000000000002`, `data-engineers` =
//! `3000000000000003`.

use super::directory::{ADMINS, Directory, Kind, Principal};
use crate::{ALICE_TOKEN, DEMO_TOKEN, SP_CLIENT_ID, SP_CLIENT_SECRET, SP_TOKEN, workspace::DEFAULT_USER};

/// The demo user's SCIM id.
pub(crate) const DEMO_USER_ID: &str = "1000000000000001";

const ADMIN_ENTITLEMENTS: &[&str] =
    &["workspace-access", "databricks-sql-access", "allow-cluster-create", "allow-instance-pool-create"];
const USER_ENTITLEMENTS: &[&str] = &["workspace-access", "databricks-sql-access"];

const USERS: &[(&str, &str, &str)] = &[
    (DEMO_USER_ID, DEFAULT_USER, "Demo User"),
    ("1000000000000002", "alice.nguyen@example.com", "Alice Nguyen"),
    ("1000000000000003", "bob.smith@example.com", "Bob Smith"),
    ("1000000000000004", "carol.diaz@example.com", "Carol Diaz"),
    ("1000000000000005", "dave.okafor@example.com", "Dave Okafor"),
    ("1000000000000006", "erin.park@example.com", "Erin Park"),
    ("1000000000000007", "frank.mueller@example.com", "Frank Mueller"),
];

/// The directory every emulator starts with.
pub(crate) fn directory() -> Directory {
    let mut d = Directory::default();
    for &(id, user_name, display_name) in USERS {
        let entitlements = if user_name == DEFAULT_USER { ADMIN_ENTITLEMENTS } else { USER_ENTITLEMENTS };
        d.add_principal(Principal {
            id: id.to_owned(),
            kind: Kind::User,
            user_name: user_name.to_owned(),
            display_name: display_name.to_owned(),
            entitlements: entitlements.to_vec(),
        });
    }
    d.add_principal(Principal {
        id: "2000000000000001".to_owned(),
        kind: Kind::ServicePrincipal,
        user_name: SP_CLIENT_ID.to_owned(),
        display_name: "etl-service-principal".to_owned(),
        entitlements: vec!["workspace-access", "allow-cluster-create"],
    });
    let everyone: Vec<&str> = USERS.iter().map(|u| u.1).chain([SP_CLIENT_ID]).collect();
    d.add_group("3000000000000001", ADMINS, &[DEFAULT_USER]);
    d.add_group("3000000000000002", "users", &everyone);
    d.add_group(
        "3000000000000003",
        "data-engineers",
        &["alice.nguyen@example.com", "bob.smith@example.com", SP_CLIENT_ID],
    );
    d.add_pat(DEMO_TOKEN, DEFAULT_USER);
    d.add_pat(ALICE_TOKEN, "alice.nguyen@example.com");
    d.add_pat(SP_TOKEN, SP_CLIENT_ID);
    d.add_oauth_client(SP_CLIENT_ID, SP_CLIENT_SECRET);
    d
}
