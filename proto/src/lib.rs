//! Credence gRPC wire types, generated from `proto/credence/v1/*.proto` (package `credence.v1`).
//!
//! The `.proto` files are the API documentation: encodings (decimal field elements, canonical
//! compressed proofs and keys) and status codes are described there.
//!
//! Invariant: messages that carry a contributor's secrets ([`v1::SubmitClaimRequest`],
//! [`v1::ClaimContribution`]) are generated without `Debug` (`skip_debug`) and get the
//! redacting implementations below, so printing a request never prints a secret, a digest or a
//! blinding.

#![forbid(unsafe_code)]

/// Package `credence.v1`: messages, clients (`*_client`) and servers (`*_server`).
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("credence.v1");
}

/// The encoded `FileDescriptorSet` of every Credence `.proto`, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("credence_descriptor");

impl std::fmt::Debug for v1::SubmitClaimRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubmitClaimRequest")
            .field("secret", &"<redacted>")
            .field("epoch", &self.epoch)
            .field("contributions", &self.contributions.len())
            .field("range_start", &self.range_start)
            .field("range_end", &self.range_end)
            .field("snapshot", &self.snapshot)
            .finish()
    }
}

impl std::fmt::Debug for v1::ClaimContribution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimContribution")
            .field("data", &"<redacted>")
            .field("blinding", &"<redacted>")
            .field("leaf_index", &self.leaf_index)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    #[test]
    fn file_descriptor_set_decodes_and_names_the_services() {
        let fds = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).unwrap();
        let services: Vec<String> = fds
            .file
            .iter()
            .flat_map(|f| f.service.iter().map(|s| s.name().to_owned()))
            .collect();
        for s in ["Datanet", "Prover", "Verifier", "AuditLog"] {
            assert!(services.iter().any(|x| x == s), "{s} missing: {services:?}");
        }
    }

    #[test]
    fn debug_never_prints_secrets() {
        let req = v1::SubmitClaimRequest {
            secret: "123456789123456789".into(),
            epoch: 3,
            contributions: vec![v1::ClaimContribution {
                data: Some(v1::claim_contribution::Data::Digest(
                    "987654321987654321".into(),
                )),
                blinding: "555555555555555555".into(),
                leaf_index: 2,
                leaf: None,
            }],
            ..Default::default()
        };
        let text = format!("{req:?} {:?}", req.contributions[0]);
        for secret in [
            "123456789123456789",
            "987654321987654321",
            "555555555555555555",
        ] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("epoch: 3"), "{text}");
    }
}
