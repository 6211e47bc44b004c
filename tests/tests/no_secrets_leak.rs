//! P2: during a full flow (register, publish, claims, a false claim, watch, bundle, verify,
//! shutdown), the server's log output at TRACE and every file of its data directory contain
//! none of the secrets, digests or blindings the test fed in, as decimal, as hex, or as raw
//! 32-byte encodings.
//!
//! Every value searched for is a full-width field element (a canary of 109 bits at least), so
//! a hit is never chance: with five-digit blindings the scan once failed 6 runs in 40 on h2's
//! microsecond timestamps (fixed in the fixtures, `credence_tests::Contributor::new`). A hit
//! reports where it is and the bytes around it.

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use credence_proto::v1 as pb;
use credence_tests::{CapturedLog, TestServer, standard_setup, watch};
use credence_verifier::encoding::fr_to_decimal;

/// Every spelling of `x` a leak could take, with its name.
fn spellings(x: &Fr) -> Vec<(&'static str, Vec<u8>)> {
    let le = x.into_bigint().to_bytes_le();
    let mut be = le.clone();
    be.reverse();
    vec![
        ("decimal", fr_to_decimal(x).into_bytes()),
        ("hex, little-endian", hex::encode(&le).into_bytes()),
        ("hex, big-endian", hex::encode(&be).into_bytes()),
        ("HEX, big-endian", hex::encode_upper(&be).into_bytes()),
        ("32 bytes, little-endian", le),
        ("32 bytes, big-endian", be),
    ]
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Where a hit is and what surrounds it (escaped), so that a failure names its source.
fn context(haystack: &[u8], at: usize, len: usize) -> String {
    let from = at.saturating_sub(96);
    let to = (at + len + 96).min(haystack.len());
    let around: String = haystack[from..to]
        .iter()
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect();
    format!("at byte {at} of {}: ...{around}...", haystack.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_logs_or_database() {
    let captured = CapturedLog::default();
    // Everything at TRACE (arkworks' own spans are off, as in the binary: they make proving
    // minutes slower).
    captured.subscriber("trace").init();

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(credence_tests::config(dir.path())).await;
    let (a, b) = standard_setup(&server).await;
    let mut prover = server.prover().await;
    let mut bundles = vec![];
    for req in [a.claim(1, &[0, 1]), b.claim(1, &[0])] {
        let job = prover.submit_claim(req).await.unwrap().into_inner();
        let (_, last) = watch(&server, &job.job_id).await;
        assert_eq!(last.state, pb::JobState::Done as i32, "{last:?}");
        bundles.push(
            prover
                .get_bundle(pb::JobRequest { job_id: job.job_id })
                .await
                .unwrap()
                .into_inner()
                .bundle_json,
        );
    }
    // A false claim (a wrong blinding, itself a canary) and a malformed one.
    let canary = Fr::from(0x5ec2e7_c0ffee_u64) * Fr::from(0x1234_5678_9abc_def1_u64);
    let mut false_claim = a.claim(1, &[0]);
    false_claim.contributions[0].blinding = fr_to_decimal(&canary);
    let s = prover.submit_claim(false_claim).await.unwrap_err();
    assert_eq!(s.code(), tonic::Code::FailedPrecondition);
    let mut bad = a.claim(1, &[0]);
    bad.contributions[0].digest_mut_for_test();
    let _ = prover.submit_claim(bad).await.unwrap_err();
    let verdicts = server
        .verifier()
        .await
        .verify_batch(pb::VerifyBatchRequest {
            bundle_json: bundles,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(verdicts.verdicts.iter().all(|v| v.valid));
    server.stop().await;

    let mut secrets: Vec<(String, Fr)> = vec![("canary blinding".into(), canary)];
    for (name, c) in [("A", &a), ("B", &b)] {
        secrets.push((format!("{name} secret"), c.secret));
        for (i, k) in c.contributions.iter().enumerate() {
            secrets.push((format!("{name} digest {i}"), k.digest));
            secrets.push((format!("{name} blinding {i}"), k.blinding));
        }
    }
    let log = captured.bytes();
    assert!(log.len() > 1000, "the capture saw almost nothing");
    assert!(
        find(&log, b"job done").is_some(),
        "the capture missed the server's own events"
    );
    let mut files = vec![("log output".to_string(), log)];
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            files.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    assert!(files.iter().any(|(n, _)| n.ends_with("credence.db")));
    // The scan can fail: a public value the compliance log holds (A's contributor id, in each
    // of A's claim entries) is found the same way a leaked secret would be.
    let public = fr_to_decimal(&a.id);
    assert!(
        files
            .iter()
            .any(|(n, b)| n.contains("credence.db") && find(b, public.as_bytes()).is_some()),
        "the scan does not see the contributor id the log holds"
    );
    let mut leaks = vec![];
    for (what, x) in &secrets {
        for (spelling, s) in spellings(x) {
            for (name, bytes) in &files {
                if let Some(at) = find(bytes, &s) {
                    leaks.push(format!(
                        "{what} ({spelling}) found in {name} {}",
                        context(bytes, at, s.len())
                    ));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

/// Makes a contribution's digest malformed (not a field element).
trait Malform {
    fn digest_mut_for_test(&mut self);
}

impl Malform for pb::ClaimContribution {
    fn digest_mut_for_test(&mut self) {
        self.data = Some(pb::claim_contribution::Data::Digest(format!(
            "{}9",
            "9".repeat(80)
        )));
    }
}
