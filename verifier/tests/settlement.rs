//! Settlement over real (test-circuit) proofs: snapshot binding, ranges, overlap, sums.

mod common;

use ark_bn254::Fr;
use ark_ff::One;
use common::{bundle, fixture, statement};
use credence_verifier::settlement::{Refusal, Settlement, Snapshot};
use credence_verifier::{
    ClaimBundle, ClaimStatement, Invalid, KeyRing, VerifiedClaim, verify_bundle,
};

fn ring() -> KeyRing {
    let mut r = KeyRing::new();
    r.insert(fixture().key.clone()).unwrap();
    r
}

fn snapshot() -> Snapshot {
    let s = statement(0);
    Snapshot::new(s.epoch, 4, s.root, s.total_weight, s.revenue).unwrap()
}

/// Proves `s` and verifies it: the only way to a `VerifiedClaim`.
fn verified(s: &ClaimStatement) -> VerifiedClaim {
    verify_bundle(&ring(), &bundle(s)).unwrap()
}

/// A statement for the fixture snapshot with the payout recomputed.
fn claim(contributor: u64, weight: u64, start: u64, end: u64) -> ClaimStatement {
    let mut s = statement(0);
    s.contributor_id = Fr::from(contributor);
    s.claimed_weight = weight;
    s.payout = (u128::from(s.revenue) * u128::from(weight) / u128::from(s.total_weight)) as u64;
    s.range_start = start;
    s.range_end = end;
    s
}

#[test]
fn admits_disjoint_claims_and_reports_remainder() {
    let mut st = Settlement::new(snapshot());
    let claims: Vec<_> = (0..4).map(statement).collect();
    for s in &claims {
        st.admit(&verified(s)).unwrap();
    }
    // One more claim of contributor 0 on a disjoint range.
    let extra = ClaimStatement {
        range_start: 10,
        range_end: 16,
        ..claims[0].clone()
    };
    st.admit(&verified(&extra)).unwrap();
    let report = st.report();
    assert_eq!(report.payouts.len(), 4);
    let paid: u128 =
        claims.iter().map(|s| u128::from(s.payout)).sum::<u128>() + u128::from(extra.payout);
    assert_eq!(report.paid, paid.to_string());
    let rev = u128::from(claims[0].revenue);
    assert_eq!(report.undistributed, (rev - paid).to_string());
    let line0 = report
        .payouts
        .iter()
        .find(|l| {
            l.contributor_id
                == credence_verifier::encoding::fr_to_decimal(&claims[0].contributor_id)
        })
        .unwrap();
    assert_eq!(line0.claims, 2);
    assert_eq!(line0.payout, (2 * u128::from(claims[0].payout)).to_string());
}

#[test]
fn refuses_overlaps_of_one_contributor_only() {
    let mut st = Settlement::new(snapshot());
    st.admit(&verified(&claim(1, 10, 0, 4))).unwrap();
    // Same statement again (a fresh proof: different bytes, same statement) is an overlap.
    let again = claim(1, 10, 0, 4);
    let other_bytes = ClaimBundle::new(
        &fixture().key,
        again.clone(),
        common::prove_with(fixture(), &again, 12345),
    );
    assert_ne!(other_bytes.proof, bundle(&again).proof);
    let v = verify_bundle(&ring(), &other_bytes).unwrap();
    assert!(matches!(st.admit(&v), Err(Refusal::Overlap { .. })));
    // Partial overlaps on either side, and containment.
    for (a, b) in [(3, 5), (0, 1), (1, 3), (0, 8)] {
        assert!(
            matches!(
                st.admit(&verified(&claim(1, 10, a, b))),
                Err(Refusal::Overlap {
                    other_start: 0,
                    other_end: 4,
                    ..
                })
            ),
            "[{a},{b})"
        );
    }
    // Adjacent ranges are fine; another contributor may use the same range.
    st.admit(&verified(&claim(1, 10, 4, 6))).unwrap();
    st.admit(&verified(&claim(2, 10, 0, 4))).unwrap();
    // Now an overlap with the later range [4,6) is found too.
    assert!(matches!(
        st.admit(&verified(&claim(1, 10, 5, 9))),
        Err(Refusal::Overlap {
            other_start: 4,
            other_end: 6,
            ..
        })
    ));
    assert_eq!(st.records().len(), 2);
}

#[test]
fn refuses_statements_naming_another_snapshot() {
    let snap = snapshot();
    let base = claim(1, 10, 0, 2);
    let mut cases: Vec<(&str, ClaimStatement)> = Vec::new();
    let mut s = base.clone();
    s.epoch += 1;
    cases.push(("epoch", s));
    let mut s = base.clone();
    s.root += Fr::one();
    cases.push(("root", s));
    let mut s = base.clone();
    s.total_weight += 1;
    cases.push(("total_weight", s));
    let mut s = base.clone();
    s.revenue += 1;
    cases.push(("revenue", s));
    for (field, s) in cases {
        let mut st = Settlement::new(snap.clone());
        match st.admit(&verified(&s)) {
            Err(Refusal::Snapshot(Invalid::SnapshotMismatch { field: f, .. })) => {
                assert_eq!(f, field)
            }
            other => panic!("{field}: {other:?}"),
        }
        assert!(st.records().is_empty());
    }
    // And the depth: a range past 2^4 = 16 leaves, or an empty/reversed range.
    let mut st = Settlement::new(snap.clone());
    for (a, b) in [(0, 17), (3, 3), (5, 4), (16, 17)] {
        assert!(
            matches!(
                st.admit(&verified(&claim(1, 10, a, b))),
                Err(Refusal::Snapshot(Invalid::RangeOutsideTree { .. }))
            ),
            "[{a},{b})"
        );
    }
    st.admit(&verified(&claim(1, 10, 15, 16))).unwrap();
}

#[test]
fn depth_is_the_protocols_and_the_range_bound_is_exact_at_the_deepest_tree() {
    let s0 = statement(0);
    let snap = Snapshot::new(s0.epoch, 32, s0.root, s0.total_weight, s0.revenue).unwrap();
    let mut st = Settlement::new(snap);
    st.admit(&verified(&claim(1, 10, (1 << 32) - 1, 1 << 32)))
        .unwrap();
    assert!(
        st.admit(&verified(&claim(2, 10, (1 << 32) - 1, (1 << 32) + 1)))
            .is_err()
    );
    // The protocol's depths are 4..=32 (`credence_circuits::merkle_sum`), nothing else.
    assert!(Snapshot::new(1, 33, s0.root, 1, 1).is_err());
    assert!(Snapshot::new(1, 3, s0.root, 1, 1).is_err());
    assert!(Snapshot::new(1, 0, s0.root, 1, 1).is_err());
}

#[test]
fn refuses_over_weight_and_over_revenue() {
    let s0 = statement(0);
    // total weight 1000, revenue 1000: payout = weight.
    let snap = Snapshot::new(s0.epoch, 4, s0.root, 1000, 1000).unwrap();
    let mk = |c: u64, w: u64, payout: u64, a: u64, b: u64| {
        let mut s = claim(c, w, a, b);
        s.total_weight = 1000;
        s.revenue = 1000;
        s.payout = payout;
        s
    };
    let mut st = Settlement::new(snap);
    st.admit(&verified(&mk(1, 600, 600, 0, 2))).unwrap();
    match st.admit(&verified(&mk(2, 401, 401, 2, 4))) {
        Err(Refusal::OverWeight {
            would_be,
            total_weight,
        }) => {
            assert_eq!((would_be, total_weight), (1001, 1000))
        }
        other => panic!("{other:?}"),
    }
    // An inflated payout that would exceed the revenue (a claim the real circuit cannot prove;
    // the settlement refuses it on its own anyway).
    match st.admit(&verified(&mk(2, 10, 401, 2, 4))) {
        Err(Refusal::OverRevenue { would_be, revenue }) => {
            assert_eq!((would_be, revenue), (1001, 1000))
        }
        other => panic!("{other:?}"),
    }
    // A payout off by one below the revenue bound is still refused.
    assert!(matches!(
        st.admit(&verified(&mk(2, 10, 11, 2, 4))),
        Err(Refusal::WrongPayout { .. })
    ));
    // Refusals changed nothing: exactly the remaining 400 can still be claimed.
    st.admit(&verified(&mk(2, 400, 400, 2, 4))).unwrap();
    assert_eq!(st.report().undistributed, "0");
    assert_eq!(st.report().claimed_weight, "1000");
}

#[test]
fn bundle_with_bad_proof_never_becomes_verified() {
    let s = claim(1, 10, 0, 2);
    let mut b = bundle(&s);
    b.statement.payout += 1;
    assert!(verify_bundle(&ring(), &b).unwrap_err().is_invalid());
}

#[test]
fn snapshot_json_round_trip_and_strictness() {
    let snap = snapshot();
    let text = snap.to_json();
    assert_eq!(Snapshot::from_json(&text).unwrap(), snap);
    let j: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(j["epoch"].is_string() && j["depth"].is_number() && j["root"].is_string());
    let mut bad = j.clone();
    bad["revenue"] = serde_json::json!(5000003);
    assert!(Snapshot::from_json(&bad.to_string()).is_err());
    let mut bad = j.clone();
    bad["extra"] = serde_json::json!("1");
    assert!(Snapshot::from_json(&bad.to_string()).is_err());
    let mut bad = j;
    bad["total_weight"] = serde_json::json!("01000000");
    assert!(Snapshot::from_json(&bad.to_string()).is_err());
}
