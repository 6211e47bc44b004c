//! Wire to domain and back: every proto field decoded with the verifier crate's strict decoders,
//! every failure an INVALID_ARGUMENT that names the field's path in the request.
//!
//! Invariant: nothing here echoes a value back in an error (a secret field's content must not
//! reach a status message or a log).

use ark_bn254::Fr;
use credence_circuits::{MerkleSumPath, SumNode};
use credence_proto::v1 as pb;
use credence_verifier::encoding::{fr_from_decimal, fr_to_decimal};

use crate::error::ServiceError;
use crate::store::{JobRecord, JobState, SnapshotRecord};

/// Decodes a decimal field element from `field`.
pub fn fr(field: &str, s: &str) -> Result<Fr, ServiceError> {
    fr_from_decimal(field, s).map_err(|e| match e {
        credence_verifier::Malformed::FieldElement { reason, .. } => ServiceError::invalid(
            field,
            format!("not a canonical decimal field element ({reason})"),
        ),
        other => ServiceError::invalid(field, other),
    })
}

/// Decodes a Merkle-sum path of exactly `depth` siblings from `field`.
pub fn path(
    field: &str,
    p: Option<&pb::MerklePath>,
    depth: u32,
) -> Result<MerkleSumPath, ServiceError> {
    let p = p.ok_or_else(|| ServiceError::invalid(field, "missing"))?;
    if p.siblings.len() != depth as usize {
        return Err(ServiceError::invalid(
            format!("{field}.siblings"),
            format!(
                "has {} entries, the tree has depth {depth}",
                p.siblings.len()
            ),
        ));
    }
    let siblings = p
        .siblings
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Ok(SumNode {
                hash: fr(&format!("{field}.siblings[{i}].hash"), &s.hash)?,
                sum: s.sum,
            })
        })
        .collect::<Result<_, ServiceError>>()?;
    Ok(MerkleSumPath { siblings })
}

/// Encodes a path.
pub fn path_to_pb(p: &MerkleSumPath) -> pb::MerklePath {
    pb::MerklePath {
        siblings: p
            .siblings
            .iter()
            .map(|s| pb::SumNode {
                hash: fr_to_decimal(&s.hash),
                sum: s.sum,
            })
            .collect(),
    }
}

/// Encodes a snapshot header.
pub fn snapshot_to_pb(s: &SnapshotRecord) -> pb::Snapshot {
    pb::Snapshot {
        epoch: s.epoch,
        depth: s.depth,
        root: fr_to_decimal(&s.root),
        total_weight: s.total_weight,
        revenue: s.revenue,
        leaf_count: s.leaf_count,
    }
}

/// The wire state of a job state.
pub fn state_to_pb(s: JobState) -> pb::JobState {
    match s {
        JobState::Queued => pb::JobState::Queued,
        JobState::Witness => pb::JobState::Witness,
        JobState::Proving => pb::JobState::Proving,
        JobState::Verifying => pb::JobState::Verifying,
        JobState::Logged => pb::JobState::Logged,
        JobState::Done => pb::JobState::Done,
        JobState::Failed => pb::JobState::Failed,
        JobState::Cancelled => pb::JobState::Cancelled,
    }
}

/// Encodes a job.
pub fn job_to_pb(j: &JobRecord) -> pb::Job {
    pb::Job {
        job_id: j.id.clone(),
        state: state_to_pb(j.state) as i32,
        failure: j.failure.clone().unwrap_or_default(),
        circuit_id: j.circuit_id.clone(),
        epoch: j.epoch,
        created_at: j.created_at,
        updated_at: j.updated_at,
    }
}

/// Checks a job id's spelling (32 lowercase hex digits) before it reaches the database.
pub fn job_id(field: &str, s: &str) -> Result<String, ServiceError> {
    if s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(s.to_owned())
    } else {
        Err(ServiceError::invalid(
            field,
            "not a job id (32 lowercase hex digits)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field_not_the_value() {
        let e = fr("contributions[3].blinding", "12x45")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("contributions[3].blinding") && !e.contains("12x45"),
            "{e}"
        );
        let p = pb::MerklePath {
            siblings: vec![pb::SumNode {
                hash: "1".into(),
                sum: 0,
            }],
        };
        let e = path("leaf.path", Some(&p), 4).unwrap_err().to_string();
        assert!(e.contains("leaf.path.siblings"), "{e}");
        assert!(job_id("job_id", "ABC").is_err());
        assert!(job_id("job_id", &"a".repeat(32)).is_ok());
    }
}
