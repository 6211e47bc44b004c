//! Who may call what: the hook that access control (tokens, roles, tenants) plugs into.
//!
//! Every handler builds an [`Action`] describing what the call would do, takes the [`Caller`]
//! that an interceptor put into the request's extensions (or [`Caller::local`] when none did),
//! and asks the configured [`AccessPolicy`] before doing anything. The default policy,
//! [`AllowAll`], is for the development configuration on loopback.
//!
//! Invariant: every RPC of every Credence service calls [`AccessPolicy::authorize`] exactly once,
//! before any side effect, with the most specific action it knows (for example the contributor
//! id a claim is made for, or the tenant that owns a job).

use ark_bn254::Fr;

use crate::error::ServiceError;

/// The authenticated caller of an RPC, as an interceptor established it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The tenant the caller acts for; jobs are owned by tenants.
    pub tenant: String,
}

impl Caller {
    /// The caller when no interceptor identified one (development configuration).
    pub fn local() -> Self {
        Caller {
            tenant: "local".into(),
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

/// Allows everything (the development configuration, loopback only).
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

impl AccessPolicy for AllowAll {
    fn authorize(&self, _: &Caller, _: &Action<'_>) -> Result<(), ServiceError> {
        Ok(())
    }
}
