//! Who may call what: bearer tokens, roles, tenants, and the hook every handler asks.
//!
//! Authentication happens once per request, in [`AuthLayer`] (a tower layer in front of every
//! service): it reads `authorization: Bearer <token>`, finds the token's [`Caller`] (tenant and
//! [`Role`]) and puts it into the request's extensions, or answers UNAUTHENTICATED itself.
//! Health and reflection ([`is_public_path`]) pass without a token; every other path needs
//! one, so a service added later is protected without doing anything (fail closed). When the
//! request carries a [`TenantSlot`] (the request log's, outside this layer), the layer writes
//! the authenticated tenant into it, so the log line names who called even after the request
//! itself is gone; never the token.
//!
//! Authorization happens in each handler: it builds an [`Action`] describing what the call
//! would do, takes the [`Caller`] ([`Caller::of`]) and asks the configured [`AccessPolicy`]
//! before doing anything. [`RolePolicy`] is the policy of a configuration with tokens (see
//! [`allowed`] for the table); [`AllowAll`] is the development configuration's, on loopback.
//!
//! Invariants:
//! - every RPC of every Credence service calls [`AccessPolicy::authorize`] before any side
//!   effect (and before any work that depends on the caller's secrets), with the most specific
//!   action it knows (the contributor id a claim is made for, the tenant that owns a job);
//! - tokens are never kept in memory in the clear: only their blake3 hashes, compared in
//!   constant time against every entry (no early exit), so response timing says nothing about
//!   how much of a guessed token was right;
//! - a caller without a role (no token layer in front) is refused by [`RolePolicy`].

use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use ark_bn254::Fr;

use crate::error::{LayerFuture, ServiceError, status_response};

/// The authenticated caller of an RPC, as [`AuthLayer`] established it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The tenant the caller acts for; jobs are owned by tenants.
    pub tenant: String,
    /// The caller's role; `None` when no token identified it (development configuration).
    pub role: Option<Role>,
}

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Runs the datanet: registers contributions, publishes snapshots.
    Operator,
    /// A contributor (a hospital): registers, reads its own leaves, claims, reads its jobs.
    Contributor {
        /// `H(secret)`: the only contributor id this token may act for.
        contributor_id: Fr,
    },
    /// Verifies bundles.
    Verifier,
    /// Reads the compliance log (and verifies bundles).
    Auditor,
}

impl Role {
    /// The role's name in the configuration.
    pub fn name(&self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Contributor { .. } => "contributor",
            Role::Verifier => "verifier",
            Role::Auditor => "auditor",
        }
    }
}

impl Caller {
    /// The caller when no token identified one (development configuration).
    pub fn local() -> Self {
        Caller {
            tenant: "local".into(),
            role: None,
        }
    }

    /// The caller of `request`.
    pub fn of<T>(request: &tonic::Request<T>) -> Self {
        request
            .extensions()
            .get::<Caller>()
            .cloned()
            .unwrap_or_else(Caller::local)
    }
}

/// What an RPC is about to do.
#[derive(Clone, Copy, Debug)]
pub enum Action<'a> {
    /// Register a contribution for this contributor.
    Register {
        /// The contributor.
        contributor_id: &'a Fr,
    },
    /// Publish a snapshot (operator).
    PublishSnapshot,
    /// Read a snapshot's public header.
    ReadSnapshot,
    /// Read a contributor's leaves and paths (that contributor only).
    ReadLeaves {
        /// The contributor.
        contributor_id: &'a Fr,
    },
    /// Submit a claim for this contributor.
    SubmitClaim {
        /// `H(secret)` of the claim.
        contributor_id: &'a Fr,
    },
    /// Read a job or its bundle.
    ReadJob {
        /// The tenant that owns the job.
        owner: &'a str,
    },
    /// Cancel a job.
    CancelJob {
        /// The tenant that owns the job.
        owner: &'a str,
    },
    /// Verify bundles.
    Verify,
    /// Read verifying keys.
    ReadKeys,
    /// Read the compliance log: checkpoints, entries, proofs, its key (the auditor role).
    ReadLog,
}

/// Decides whether a caller may perform an action.
pub trait AccessPolicy: Send + Sync + 'static {
    /// `Ok` to proceed; otherwise UNAUTHENTICATED or PERMISSION_DENIED.
    fn authorize(&self, caller: &Caller, action: &Action<'_>) -> Result<(), ServiceError>;
}

/// The access table of a configuration with tokens: may `role` do `action` (as `tenant`)?
///
/// | action                 | operator | contributor          | verifier | auditor |
/// |------------------------|----------|----------------------|----------|---------|
/// | Register               | yes      | its own id only      |          |         |
/// | PublishSnapshot        | yes      |                      |          |         |
/// | ReadSnapshot, ReadKeys | yes      | yes                  | yes      | yes     |
/// | ReadLeaves             |          | its own id only      |          |         |
/// | SubmitClaim            |          | its own id only      |          |         |
/// | ReadJob, CancelJob     |          | its own tenant's     |          |         |
/// | Verify                 |          |                      | yes      | yes     |
/// | ReadLog                |          |                      |          | yes     |
pub fn allowed(role: &Role, tenant: &str, action: &Action<'_>) -> Result<(), ServiceError> {
    let deny = |why: &str| {
        Err(ServiceError::PermissionDenied(format!(
            "the {} role may not {why}",
            role.name()
        )))
    };
    match (action, role) {
        (Action::ReadSnapshot | Action::ReadKeys, _) => Ok(()),
        (Action::Register { .. }, Role::Operator) => Ok(()),
        (
            Action::Register { contributor_id }
            | Action::ReadLeaves { contributor_id }
            | Action::SubmitClaim { contributor_id },
            Role::Contributor {
                contributor_id: own,
            },
        ) => {
            if *contributor_id == own {
                Ok(())
            } else {
                // Never echo either id: the message says which rule, not which values.
                Err(ServiceError::PermissionDenied(
                    "this token acts for another contributor id".into(),
                ))
            }
        }
        (Action::Register { .. }, _) => deny("register contributions"),
        (Action::ReadLeaves { .. }, _) => deny("read a contributor's leaves"),
        (Action::SubmitClaim { .. }, _) => deny("submit claims"),
        (Action::PublishSnapshot, Role::Operator) => Ok(()),
        (Action::PublishSnapshot, _) => deny("publish snapshots"),
        (Action::ReadJob { owner } | Action::CancelJob { owner }, Role::Contributor { .. }) => {
            if *owner == tenant {
                Ok(())
            } else {
                Err(ServiceError::PermissionDenied(
                    "the job belongs to another tenant".into(),
                ))
            }
        }
        (Action::ReadJob { .. } | Action::CancelJob { .. }, _) => deny("read or cancel jobs"),
        (Action::Verify, Role::Verifier | Role::Auditor) => Ok(()),
        (Action::Verify, _) => deny("verify bundles"),
        (Action::ReadLog, Role::Auditor) => Ok(()),
        (Action::ReadLog, _) => deny("read the compliance log"),
    }
}

/// The policy of a configuration with tokens: [`allowed`], and nothing without a role.
#[derive(Clone, Copy, Debug, Default)]
pub struct RolePolicy;

impl AccessPolicy for RolePolicy {
    fn authorize(&self, caller: &Caller, action: &Action<'_>) -> Result<(), ServiceError> {
        match &caller.role {
            Some(role) => allowed(role, &caller.tenant, action),
            None => Err(ServiceError::Unauthenticated(
                "a bearer token is required".into(),
            )),
        }
    }
}

/// Both policies must allow (the configured roles, then an embedder's own hook).
pub struct Both(pub Arc<dyn AccessPolicy>, pub Arc<dyn AccessPolicy>);

impl AccessPolicy for Both {
    fn authorize(&self, caller: &Caller, action: &Action<'_>) -> Result<(), ServiceError> {
        self.0.authorize(caller, action)?;
        self.1.authorize(caller, action)
    }
}

/// Allows everything (the development configuration, loopback only).
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

impl AccessPolicy for AllowAll {
    fn authorize(&self, _: &Caller, _: &Action<'_>) -> Result<(), ServiceError> {
        Ok(())
    }
}

/// The blake3 hash under which a token is kept.
fn token_hash(token: &[u8]) -> blake3::Hash {
    blake3::keyed_hash(TOKEN_HASH_KEY, token)
}

/// Domain separation of token hashes (not a secret).
const TOKEN_HASH_KEY: &[u8; 32] = b"credence bearer token hash v1 ::";

/// The configured tokens, by hash.
#[derive(Clone, Default)]
pub struct TokenTable {
    entries: Vec<(blake3::Hash, Caller)>,
}

impl std::fmt::Debug for TokenTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Hashes are not secrets, but there is no reason to print them either.
        f.debug_struct("TokenTable")
            .field("tokens", &self.entries.len())
            .finish()
    }
}

impl TokenTable {
    /// Adds a token for `tenant` with `role`; the token itself is not kept.
    pub fn insert(&mut self, token: &str, tenant: String, role: Role) {
        self.entries.push((
            token_hash(token.as_bytes()),
            Caller {
                tenant,
                role: Some(role),
            },
        ));
    }

    /// How many tokens are configured.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No token configured.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The caller a presented token stands for. Every entry is compared (constant time per
    /// comparison: `blake3::Hash`'s equality), whatever matched.
    pub fn lookup(&self, token: &[u8]) -> Option<Caller> {
        let presented = token_hash(token);
        let mut found = None;
        for (hash, caller) in &self.entries {
            if *hash == presented && found.is_none() {
                found = Some(caller);
            }
        }
        found.cloned()
    }

    /// The caller of a request with these headers, or why not.
    pub fn authenticate(&self, headers: &http::HeaderMap) -> Result<Caller, ServiceError> {
        let unauthenticated = |why: &str| ServiceError::Unauthenticated(why.into());
        let value = headers
            .get(http::header::AUTHORIZATION)
            .ok_or_else(|| unauthenticated("a bearer token is required"))?;
        let token = value
            .as_bytes()
            .strip_prefix(b"Bearer ")
            .ok_or_else(|| unauthenticated("the authorization header is not `Bearer <token>`"))?;
        self.lookup(token)
            .ok_or_else(|| unauthenticated("unknown token"))
    }
}

/// Where [`AuthLayer`] leaves the tenant of a token it accepted, for a layer outside it (the
/// request log) that no longer sees the request once the response comes back. A layer that
/// wants the tenant puts a fresh slot into the request's extensions; it stays empty when no
/// token identified the caller (refused, public path, development configuration). Clones
/// share one slot.
#[derive(Clone, Debug, Default)]
pub struct TenantSlot(Arc<OnceLock<String>>);

impl TenantSlot {
    /// The tenant of the token the request carried, once [`AuthLayer`] accepted it.
    pub fn get(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }

    fn set(&self, tenant: &str) {
        // Set once per request, by the one authentication layer: a second set cannot happen,
        // and would keep the first tenant.
        let _ = self.0.set(tenant.to_owned());
    }
}

/// Whether a request path is served without a token: health and reflection only.
pub fn is_public_path(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/")
        || path.starts_with("/grpc.reflection.v1.ServerReflection/")
        || path.starts_with("/grpc.reflection.v1alpha.ServerReflection/")
}

/// The tower layer that authenticates every request (see the module docs).
#[derive(Clone, Debug)]
pub struct AuthLayer {
    /// `None`: the development configuration (every caller is [`Caller::local`]).
    tokens: Option<Arc<TokenTable>>,
}

impl AuthLayer {
    /// Requires one of `tokens` on every non-public path.
    pub fn tokens(tokens: TokenTable) -> Self {
        AuthLayer {
            tokens: Some(Arc::new(tokens)),
        }
    }

    /// The development configuration: no tokens, everyone is [`Caller::local`].
    pub fn open() -> Self {
        AuthLayer { tokens: None }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Auth<S> {
        Auth {
            inner,
            tokens: self.tokens.clone(),
        }
    }
}

/// The service [`AuthLayer`] wraps around the router.
#[derive(Clone, Debug)]
pub struct Auth<S> {
    inner: S,
    tokens: Option<Arc<TokenTable>>,
}

impl<S, B, R> tower::Service<http::Request<B>> for Auth<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Default + Send + 'static,
{
    type Response = http::Response<R>;
    type Error = S::Error;
    type Future = LayerFuture<R, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // Whatever a client sent, the caller is established here and only here.
        request.extensions_mut().remove::<Caller>();
        let caller = match &self.tokens {
            None => Caller::local(),
            Some(_) if is_public_path(request.uri().path()) => Caller::local(),
            Some(tokens) => match tokens.authenticate(request.headers()) {
                Ok(caller) => caller,
                Err(refused) => {
                    // Logged by the request log outside this layer (UNAUTHENTICATED, no tenant).
                    return status_response(refused.into());
                }
            },
        };
        if caller.role.is_some()
            && let Some(slot) = request.extensions().get::<TenantSlot>()
        {
            slot.set(&caller.tenant);
        }
        request.extensions_mut().insert(caller);
        Box::pin(self.inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_by_hash_only() {
        let mut t = TokenTable::default();
        t.insert("alpha", "a".into(), Role::Operator);
        t.insert("beta", "b".into(), Role::Verifier);
        assert_eq!(t.lookup(b"beta").unwrap().role, Some(Role::Verifier));
        assert!(t.lookup(b"alph").is_none());
        assert!(t.lookup(b"").is_none());
        assert!(!format!("{t:?}").contains("alpha"));
    }

    #[test]
    fn the_table() {
        let me = Fr::from(7u64);
        let other = Fr::from(8u64);
        let c = Role::Contributor { contributor_id: me };
        assert!(
            allowed(
                &c,
                "t",
                &Action::SubmitClaim {
                    contributor_id: &me
                }
            )
            .is_ok()
        );
        assert!(
            allowed(
                &c,
                "t",
                &Action::SubmitClaim {
                    contributor_id: &other
                }
            )
            .is_err()
        );
        assert!(
            allowed(
                &c,
                "t",
                &Action::ReadLeaves {
                    contributor_id: &other
                }
            )
            .is_err()
        );
        assert!(allowed(&c, "t", &Action::ReadJob { owner: "t" }).is_ok());
        assert!(allowed(&c, "t", &Action::ReadJob { owner: "u" }).is_err());
        assert!(allowed(&c, "t", &Action::PublishSnapshot).is_err());
        assert!(allowed(&Role::Operator, "t", &Action::PublishSnapshot).is_ok());
        assert!(allowed(&Role::Verifier, "t", &Action::ReadLog).is_err());
        assert!(allowed(&Role::Auditor, "t", &Action::ReadLog).is_ok());
        assert!(
            RolePolicy
                .authorize(&Caller::local(), &Action::ReadKeys)
                .is_err()
        );
    }
}
