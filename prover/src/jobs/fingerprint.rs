//! The idempotency fingerprint of a claim request, and job ids.

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use credence_circuits::ClaimInput;
use zeroize::Zeroizing;

/// Domain separation of request fingerprints (v2: the tenant is part of the request).
const FINGERPRINT_DOMAIN: &[u8] = b"credence-claim-request/v2\0";

/// The idempotency fingerprint of a claim request by `tenant`.
///
/// A keyed blake3 (key: 32 random bytes in `<data_dir>/idempotency.key`, mode 0600) over a
/// canonical, fixed-width encoding of the tenant and the *resolved* request: snapshot (epoch, root, total,
/// revenue), range, secret, and per contribution leaf index, digest, blinding, weight and path.
/// Resolved, so that raw data and its digest, or a path looked up and the same path supplied,
/// are the same request. The circuit shape is left out, so a configuration change does not
/// turn a resubmission into a new job. The tenant is in, so that one tenant's request never
/// finds, restarts or reveals another tenant's job: identical requests of two tenants are two
/// jobs.
///
/// Why keyed: the request holds secrets, and parts of it (weights, indices, a digest of known
/// data) can be guessed. A plain hash stored in the jobs table would let anyone holding a copy
/// of the database confirm a guessed request offline; with the key kept outside the database,
/// the fingerprint says nothing without it. The encoding buffer is zeroized after hashing.
pub fn request_fingerprint(key: &[u8; 32], tenant: &str, input: &ClaimInput) -> [u8; 32] {
    let mut buf = Zeroizing::new(Vec::with_capacity(256 + input.contributions.len() * 2048));
    let fr = |buf: &mut Vec<u8>, x: &Fr| buf.extend_from_slice(&x.into_bigint().to_bytes_le());
    buf.extend_from_slice(FINGERPRINT_DOMAIN);
    buf.extend_from_slice(&(tenant.len() as u64).to_le_bytes());
    buf.extend_from_slice(tenant.as_bytes());
    buf.extend_from_slice(&input.epoch.to_le_bytes());
    fr(&mut buf, &input.root);
    buf.extend_from_slice(&input.total_weight.to_le_bytes());
    buf.extend_from_slice(&input.revenue.to_le_bytes());
    buf.extend_from_slice(&input.range_start.to_le_bytes());
    buf.extend_from_slice(&input.range_end.to_le_bytes());
    fr(&mut buf, &input.secret);
    buf.extend_from_slice(&(input.contributions.len() as u64).to_le_bytes());
    for c in &input.contributions {
        buf.extend_from_slice(&c.leaf_index.to_le_bytes());
        fr(&mut buf, &c.digest);
        fr(&mut buf, &c.blinding);
        buf.extend_from_slice(&c.weight.to_le_bytes());
        buf.extend_from_slice(&(c.path.siblings.len() as u64).to_le_bytes());
        for s in &c.path.siblings {
            fr(&mut buf, &s.hash);
            buf.extend_from_slice(&s.sum.to_le_bytes());
        }
    }
    *blake3::keyed_hash(key, &buf).as_bytes()
}

/// A fresh job id: 16 bytes of OS randomness, hex.
pub fn new_job_id() -> String {
    use ark_std::rand::RngCore;
    let mut b = [0u8; 16];
    credence_circuits::prover::os_rng().fill_bytes(&mut b);
    hex::encode(b)
}
