//! The deployment the README describes: the operator's server holds the datanet and the
//! snapshot; a hospital proves on its own server, which has never seen either. Driven through
//! the `credence` command line (`credence_server::cli::run`, what the binary's `main` calls)
//! with a bearer token for each server: `commit`, `register` and `snapshot publish` against the
//! operator, then `claim --server <own prover> --datanet <operator>`. The bundle must verify
//! with the verifier crate alone against the operator's snapshot.

use std::path::{Path, PathBuf};

use credence_circuits::Shape;
use credence_proto::v1 as pb;
use credence_server::cli::files::Openings;
use credence_server::config::{RoleName, TokenConfig, fresh_token};
use credence_tests::{TestServer, config, credence_cli, vk_bytes};
use credence_verifier::{CircuitId, ClaimBundle, TrustedKey, encoding::fr_to_decimal, verify};

fn token_entry(token: &str, tenant: &str, role: RoleName, id: Option<&str>) -> TokenConfig {
    TokenConfig {
        token: token.to_owned(),
        tenant: tenant.to_owned(),
        role,
        contributor_id: id.map(str::to_owned),
    }
}

fn write_token(dir: &Path, name: &str, token: &str) -> String {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join(name);
    // 0600: the CLI refuses a token file other users can read.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .unwrap()
        .write_all(token.as_bytes())
        .unwrap();
    path.display().to_string()
}

struct Site {
    _dirs: Vec<tempfile::TempDir>,
    operator: TestServer,
    hospital: TestServer,
    home: PathBuf,
    /// The hospital's token at the operator (contributor role) and at its own prover.
    operator_token: String,
    contributor_at_operator: String,
    contributor_at_prover: String,
}

impl Site {
    fn path(&self, name: &str) -> String {
        self.home.join(name).display().to_string()
    }
}

/// A hospital that committed to three files, an operator server with its leaves and another
/// contributor's, and the hospital's own prover server; both servers require tokens.
async fn site() -> Site {
    let home = tempfile::tempdir().unwrap();
    let h = home.path().to_owned();
    let h = h.as_path();
    let mut files = vec![];
    for i in 0..3 {
        let f = h.join(format!("scan-{i}.dcm"));
        std::fs::write(&f, format!("hospital scan {i}: {}", fresh_token())).unwrap();
        files.push(f.display().to_string());
    }
    let (secret, openings) = (h.join("secret.key"), h.join("openings.json"));
    let mut args = vec!["commit", "--quiet", "--secret"];
    let (s, o) = (secret.display().to_string(), openings.display().to_string());
    args.extend([s.as_str(), "--openings", o.as_str()]);
    args.extend(files.iter().map(String::as_str));
    assert_eq!(credence_cli(&args).await, Ok(0));
    let id = Openings::load(&openings).unwrap().contributor_id.clone();

    let (operator_token, contributor_at_operator, contributor_at_prover) =
        (fresh_token(), fresh_token(), fresh_token());
    let operator_dir = tempfile::tempdir().unwrap();
    let mut operator_config = config(operator_dir.path());
    operator_config.tokens = vec![
        token_entry(&operator_token, "operator", RoleName::Operator, None),
        token_entry(
            &contributor_at_operator,
            "hospital-a",
            RoleName::Contributor,
            Some(&id),
        ),
    ];
    let hospital_dir = tempfile::tempdir().unwrap();
    let mut hospital_config = config(hospital_dir.path());
    hospital_config.tokens = vec![token_entry(
        &contributor_at_prover,
        "hospital-a",
        RoleName::Contributor,
        Some(&id),
    )];
    let operator = TestServer::start(operator_config).await;
    let hospital = TestServer::start(hospital_config).await;
    let site = Site {
        operator_token: write_token(h, "operator.token", &operator_token),
        contributor_at_operator: write_token(h, "datanet.token", &contributor_at_operator),
        contributor_at_prover: write_token(h, "prover.token", &contributor_at_prover),
        _dirs: vec![home, operator_dir, hospital_dir],
        operator,
        hospital,
        home: h.to_owned(),
    };
    let op_url = format!("http://{}", site.operator.addr);

    // Another contributor's leaf first, so the hospital's leaves are 1, 2 and 3.
    let other = credence_tests::Contributor::new(9, 1);
    site.operator
        .datanet_as(Some(&operator_token))
        .await
        .register(pb::RegisterRequest {
            contributor_id: fr_to_decimal(&other.id),
            commitment: fr_to_decimal(&other.contributions[0].commitment),
        })
        .await
        .unwrap();
    let register = [
        "register",
        "--quiet",
        "--server",
        &op_url,
        "--token-file",
        &site.contributor_at_operator,
        "--openings",
        &o,
    ];
    assert_eq!(credence_cli(&register).await, Ok(0));
    let publish = [
        "snapshot",
        "publish",
        "--server",
        &op_url,
        "--token-file",
        &site.operator_token,
        "--epoch",
        "1",
        "--revenue",
        "1000003",
        "--weight",
        "0=40",
        "--weight",
        "1=25",
        "--weight",
        "3=35",
    ];
    assert_eq!(credence_cli(&publish).await, Ok(0));
    site
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hospital_proves_on_its_own_server_against_the_operators_datanet() {
    let site = site().await;
    let (op_url, own_url) = (
        format!("http://{}", site.operator.addr),
        format!("http://{}", site.hospital.addr),
    );
    let (secret, openings, out) = (
        site.path("secret.key"),
        site.path("openings.json"),
        site.path("bundle.json"),
    );
    let claim = |datanet: bool| {
        let mut args = vec![
            "claim".to_owned(),
            "--server".into(),
            own_url.clone(),
            "--token-file".into(),
            site.contributor_at_prover.clone(),
            "--epoch".into(),
            "1".into(),
            "--secret".into(),
            secret.clone(),
            "--openings".into(),
            openings.clone(),
            "--out".into(),
            out.clone(),
        ];
        if datanet {
            args.extend([
                "--datanet".into(),
                op_url.clone(),
                "--datanet-token-file".into(),
                site.contributor_at_operator.clone(),
            ]);
        }
        args
    };
    let run = |args: Vec<String>| async move {
        credence_cli(&args.iter().map(String::as_str).collect::<Vec<_>>()).await
    };

    // The hospital's own server holds no snapshot: without --datanet there is nothing to prove
    // against.
    let e = run(claim(false)).await.unwrap_err();
    assert!(e.contains("no snapshot for epoch 1"), "{e}");
    assert!(!Path::new(&out).exists());

    assert_eq!(run(claim(true)).await, Ok(0));
    let bundle = ClaimBundle::from_json(&std::fs::read_to_string(&out).unwrap()).unwrap();
    // Leaves 1 (25) and 3 (35) carry weight; leaf 2 has none in this snapshot.
    assert_eq!(bundle.statement.claimed_weight, 60);
    assert_eq!(bundle.statement.total_weight, 100);
    assert_eq!(bundle.statement.payout, 1000003 * 60 / 100);
    assert_eq!(bundle.circuit_id.to_string(), "claim-v1-n2-d4");

    // A settlement verifier checks it with the verifier crate alone: the operator's published
    // snapshot and the verifying key it was handed.
    let published = site
        .operator
        .datanet_as(Some(
            &std::fs::read_to_string(&site.operator_token).unwrap(),
        ))
        .await
        .get_snapshot(pb::GetSnapshotRequest { epoch: Some(1) })
        .await
        .unwrap()
        .into_inner();
    let snapshot = credence_server::cli::snapshot::from_pb(&published).unwrap();
    snapshot.check_statement(&bundle.statement).unwrap();
    let key = TrustedKey::from_bytes(
        CircuitId::new("claim-v1-n2-d4").unwrap(),
        &vk_bytes(Shape::new(2, 4).unwrap()),
    )
    .unwrap();
    verify(&key, &bundle.statement, &bundle.proof).unwrap();

    site.hospital.stop().await;
    site.operator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openings_file_that_disagrees_with_the_datanet_is_refused_before_proving() {
    let site = site().await;
    // Swap two registered openings' leaf indices: each now names a leaf holding the other's
    // commitment.
    let path = site.home.join("openings.json");
    let mut openings = Openings::load(&path).unwrap();
    let (a, b) = (
        openings.openings[0].leaf_index,
        openings.openings[2].leaf_index,
    );
    openings.openings[0].leaf_index = b;
    openings.openings[2].leaf_index = a;
    openings.save(&path).unwrap();

    let args = [
        "claim".to_owned(),
        "--server".into(),
        format!("http://{}", site.hospital.addr),
        "--token-file".into(),
        site.contributor_at_prover.clone(),
        "--datanet".into(),
        format!("http://{}", site.operator.addr),
        "--datanet-token-file".into(),
        site.contributor_at_operator.clone(),
        "--epoch".into(),
        "1".into(),
        "--secret".into(),
        site.path("secret.key"),
        "--openings".into(),
        site.path("openings.json"),
        "--out".into(),
        site.path("bundle.json"),
    ];
    let e = credence_cli(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .await
        .unwrap_err();
    assert!(e.contains("leaf 1 of epoch 1 holds commitment"), "{e}");
    // Nothing reached the hospital's prover: its compliance log, which records every claim it
    // proves, holds only the keys it introduced at start.
    let log = site.hospital.app.log();
    let kinds: Vec<_> = log
        .entries(0..log.size().unwrap())
        .unwrap()
        .iter()
        .map(|b| {
            credence_verifier::log::LogEntry::from_bytes(b)
                .unwrap()
                .kind()
        })
        .collect();
    assert!(
        kinds
            .iter()
            .all(|k| *k == credence_verifier::log::EntryKind::Key),
        "{kinds:?}"
    );
    site.hospital.stop().await;
    site.operator.stop().await;
}

#[tokio::test]
async fn datanet_client_flags_need_a_datanet() {
    for args in [
        &["claim", "--epoch", "1", "--datanet-ca", "ca.pem"][..],
        &["claim", "--epoch", "1", "--datanet-token-file", "t"][..],
        &[
            "claim",
            "--epoch",
            "1",
            "--datanet",
            "http://x",
            "--datanet-cert",
            "c.pem",
        ][..],
    ] {
        let e = credence_cli(args).await.unwrap_err();
        assert!(e.contains("required"), "{args:?}: {e}");
    }
}

#[test]
fn a_server_that_only_verifies_never_makes_its_own_keys() {
    let data = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let mut c = config(data.path());
    c.keys_dir = Some(empty.path().to_owned());
    c.services.prover = false;
    let open = |c: credence_server::Config| {
        credence_server::App::open(c, credence_server::Hooks::default(), |_| {})
    };
    let Err(e) = open(c.clone()) else {
        panic!("a server that only verifies started without keys");
    };
    let e = e.to_string();
    assert!(e.contains("never generates keys"), "{e}");
    assert!(e.contains("claim-v1-n1-d4"), "{e}");
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);
    // Handed the keys directory, it starts.
    c.keys_dir = Some(credence_tests::keys_dir().to_owned());
    assert!(open(c).is_ok());
}
