//! A false claim fails fast with FAILED_PRECONDITION naming the condition, never a value, and
//! leaves no job and no bundle behind.

use credence_tests::{TestServer, standard_setup};
use credence_verifier::encoding::fr_to_decimal;
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn false_claims_are_refused_before_any_job() {
    let (server, _dir) = TestServer::fresh().await;
    let (a, b) = standard_setup(&server).await;
    let mut prover = server.prover().await;

    // A wrong blinding: the commitment is not the registered one.
    let mut req = a.claim(1, &[0]);
    let wrong = ark_bn254::Fr::from(424242u64);
    req.contributions[0].blinding = fr_to_decimal(&wrong);
    let status = prover.submit_claim(req).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().contains("not in the snapshot"),
        "{}",
        status.message()
    );

    // B claims A's leaf with B's secret.
    let mut req = a.claim(1, &[0]);
    req.secret = fr_to_decimal(&b.secret);
    let status = prover.submit_claim(req).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("slot 0"), "{}", status.message());

    // Leaves out of order.
    let status = prover.submit_claim(a.claim(1, &[1, 0])).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains("strictly increase"),
        "{}",
        status.message()
    );

    // A range that excludes the leaf.
    let mut req = a.claim(1, &[1]);
    req.range_end = Some(2);
    let status = prover.submit_claim(req).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains("range_end"),
        "{}",
        status.message()
    );

    // No message carries a secret, digest or blinding.
    for v in [
        a.secret,
        b.secret,
        a.contributions[0].digest,
        a.contributions[0].blinding,
        wrong,
    ] {
        assert!(!status.message().contains(&fr_to_decimal(&v)));
    }

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_on_an_unknown_epoch_is_not_found() {
    let (server, _dir) = TestServer::fresh().await;
    let (a, _b) = standard_setup(&server).await;
    let status = server
        .prover()
        .await
        .submit_claim(a.claim(7, &[0]))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    server.stop().await;
}
