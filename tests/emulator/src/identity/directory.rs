//! The workspace's principals (users and service principals), groups, and the tokens that
//! authenticate as them: personal access tokens fixed at seed time and OAuth tokens issued by
//! `/oidc/v1/token`.

use std::collections::BTreeMap;

use rand::Rng as _;

use super::Caller;

/// Whether a principal is a person or a service principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    User,
    ServicePrincipal,
}

/// A user or service principal.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    /// The SCIM id.
    pub id: String,
    pub kind: Kind,
    /// The e-mail address of a user; the application id of a service principal (as the service
    /// shows it in `creator_user_name` and `/Me`).
    pub user_name: String,
    pub display_name: String,
    pub entitlements: Vec<&'static str>,
}

/// A workspace-local group.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub id: String,
    pub name: String,
    /// SCIM ids of the members.
    pub members: Vec<String>,
}

/// The group whose members are workspace admins.
pub(crate) const ADMINS: &str = "admins";

/// An OAuth access token handed out by the token endpoint.
#[derive(Debug, Clone)]
struct Issued {
    principal_id: String,
    expires_at_ms: u64,
}

/// Why a token did not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenError {
    Unknown,
    Expired,
}

/// Every principal and group, and the tokens that map to them.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    pub principals: Vec<Principal>,
    pub groups: Vec<Group>,
    /// Personal access token → principal SCIM id.
    pats: BTreeMap<String, String>,
    /// OAuth client id (application id) → (client secret, principal SCIM id).
    clients: BTreeMap<String, (String, String)>,
    issued: BTreeMap<String, Issued>,
    /// How long issued OAuth tokens live; 0 means the default hour.
    pub token_ttl_ms: u64,
    /// Sign-ins in progress and refresh tokens of OAuth U2M (`oauth`).
    pub u2m: super::oauth::U2m,
}

/// The lifetime the service gives workspace OAuth tokens.
pub(crate) const DEFAULT_TOKEN_TTL_MS: u64 = 3_600_000;

impl Directory {
    pub fn add_principal(&mut self, principal: Principal) {
        self.principals.push(principal);
    }

    pub fn add_group(&mut self, id: &str, name: &str, members: &[&str]) {
        let members = members.iter().filter_map(|m| self.by_user_name(m)).map(|p| p.id.clone()).collect();
        self.groups.push(Group { id: id.to_owned(), name: name.to_owned(), members });
    }

    pub fn add_pat(&mut self, token: &str, user_name: &str) {
        if let Some(p) = self.by_user_name(user_name) {
            let id = p.id.clone();
            self.pats.insert(token.to_owned(), id);
        }
    }

    pub fn add_oauth_client(&mut self, client_id: &str, secret: &str) {
        if let Some(p) = self.by_user_name(client_id) {
            let id = p.id.clone();
            self.clients.insert(client_id.to_owned(), (secret.to_owned(), id));
        }
    }

    pub fn by_id(&self, id: &str) -> Option<&Principal> {
        self.principals.iter().find(|p| p.id == id)
    }

    /// A user by e-mail, or a service principal by application id.
    pub fn by_user_name(&self, user_name: &str) -> Option<&Principal> {
        self.principals.iter().find(|p| p.user_name.eq_ignore_ascii_case(user_name))
    }

    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The groups a principal belongs to.
    pub fn groups_of(&self, principal_id: &str) -> Vec<&Group> {
        self.groups.iter().filter(|g| g.members.iter().any(|m| m == principal_id)).collect()
    }

    /// The request identity of a principal.
    pub fn caller(&self, principal: &Principal) -> Caller {
        let groups: Vec<String> = self.groups_of(&principal.id).iter().map(|g| g.name.clone()).collect();
        Caller {
            id: principal.id.clone(),
            user_name: principal.user_name.clone(),
            display_name: principal.display_name.clone(),
            is_admin: groups.iter().any(|g| g == ADMINS),
            is_service_principal: principal.kind == Kind::ServicePrincipal,
            groups,
        }
    }

    /// The principal a bearer token (PAT or issued OAuth token) authenticates as.
    pub fn resolve(&self, token: &str, now_ms: u64) -> Result<Caller, TokenError> {
        let id = match (self.pats.get(token), self.issued.get(token)) {
            (Some(id), _) => id,
            (None, Some(issued)) if issued.expires_at_ms <= now_ms => return Err(TokenError::Expired),
            (None, Some(issued)) => &issued.principal_id,
            (None, None) => return Err(TokenError::Unknown),
        };
        self.by_id(id).map(|p| self.caller(p)).ok_or(TokenError::Unknown)
    }

    /// Checks an OAuth client's credentials and issues a token; returns the token and its lifetime
    /// in seconds, or `None` for unknown clients and wrong secrets.
    pub fn issue(&mut self, client_id: &str, secret: &str, now_ms: u64) -> Option<(String, u64)> {
        let (expected, principal_id) = self.clients.get(client_id)?;
        if expected != secret {
            return None;
        }
        let principal_id = principal_id.clone();
        Some(self.issue_to(principal_id, now_ms))
    }

    /// Issues a token for a principal that has proved who it is (OAuth U2M); returns the token
    /// and its lifetime in seconds.
    pub fn issue_to(&mut self, principal_id: String, now_ms: u64) -> (String, u64) {
        let ttl_ms = if self.token_ttl_ms == 0 { DEFAULT_TOKEN_TTL_MS } else { self.token_ttl_ms };
        // Expired tokens are forgotten here, so a long-running emulator does not accumulate them.
        self.issued.retain(|_, t| t.expires_at_ms > now_ms);
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut rng = rand::rng();
        let token: String =
            "dose".chars().chain((0..60).map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))).collect();
        self.issued.insert(token.clone(), Issued { principal_id, expires_at_ms: now_ms + ttl_ms });
        // Round up, so a sub-second test lifetime is not reported as 0 (which clients read as "expired").
        (token, ttl_ms.div_ceil(1000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> Directory {
        let mut d = Directory::default();
        for (id, kind, name) in [("1", Kind::User, "a@example.com"), ("2", Kind::ServicePrincipal, "app-1")] {
            d.add_principal(Principal {
                id: id.into(),
                kind,
                user_name: name.into(),
                display_name: name.into(),
                entitlements: vec![],
            });
        }
        d.add_group("10", ADMINS, &["a@example.com"]);
        d.add_pat("pat-a", "a@example.com");
        d.add_oauth_client("app-1", "secret");
        d
    }

    #[test]
    fn pats_resolve_to_their_user_with_groups() {
        let caller = directory().resolve("pat-a", 0).expect("known token");
        assert_eq!((caller.user_name.as_str(), caller.is_admin), ("a@example.com", true));
        assert_eq!(directory().resolve("nope", 0).expect_err("unknown"), TokenError::Unknown);
    }

    #[test]
    fn issued_tokens_authenticate_until_they_expire() {
        let mut d = directory();
        assert!(d.issue("app-1", "wrong", 0).is_none());
        d.token_ttl_ms = 500;
        let (token, secs) = d.issue("app-1", "secret", 1_000).expect("right secret");
        assert_eq!(secs, 1);
        let caller = d.resolve(&token, 1_499).expect("still valid");
        assert!(caller.is_service_principal && !caller.is_admin);
        assert_eq!(d.resolve(&token, 1_500).expect_err("expired"), TokenError::Expired);
    }
}
