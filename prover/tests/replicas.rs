//! Replicas on one PostgreSQL: three `credence serve` processes share a database (each with a
//! data directory of its own holding copies of the same key files), as "Running several
//! replicas" in the README sets them up.
//!
//! Claims submitted round-robin all finish. Then the replica proving a claim is killed with
//! SIGKILL in the middle of its proof: the claim's resubmission to another replica follows the
//! job until its lease expires, the job is marked interrupted, `credence claim` resubmits it,
//! and the other replica proves it. The job ends done in its second attempt, with one bundle;
//! the log holds one claim entry per job, and its export audits clean with
//! `credence-verify audit`.
//!
//! Each replica waits `added_latency_ms` in the proving stage (a drill setting), so the kill
//! lands mid-proof whatever the machine's speed. Skips when no PostgreSQL answers, except under
//! `CI`, where it fails.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use credence_proto::v1 as pb;
use credence_server::store::postgres::ScratchSchema;
use credence_verifier::log::{LogEntry, LogEvent, LogExport};

mod common;
use common::{BIN, free_port, ok};

/// A job is its replica's for this long without a renewal.
const LEASE_SECS: u64 = 2;
/// Every proof takes at least this long (the drill setting).
const LATENCY_MS: u64 = 2_000;

struct Replica {
    child: Child,
    url: String,
    data: PathBuf,
}

impl Replica {
    /// Starts `credence serve` for replica `name` under `root` (keys in `root/keys`, shared),
    /// on `database`, and waits until it serves.
    fn start(root: &Path, name: &str, database: &str) -> Replica {
        let dir = root.join(name);
        let data = dir.join("data");
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let config = dir.join("credence.toml");
        std::fs::write(
            &config,
            format!(
                r#"listen = "127.0.0.1:{port}"
data_dir = "{data}"
keys_dir = "{keys}"
database = "{database}"
shapes = ["1,4"]

[datanet]
depth = 4

[prover]
lease_secs = {LEASE_SECS}
added_latency_ms = {LATENCY_MS}
"#,
                data = data.display(),
                keys = root.join("keys").display(),
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.join("serve.log")).unwrap();
        let child = Command::new(BIN)
            .args(["serve", "--config"])
            .arg(&config)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn credence serve");
        let url = format!("http://127.0.0.1:{port}");
        ok(root, &["health", "--server", &url, "--wait", "120"]);
        Replica { child, url, data }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `credence claim` of the leaves in `range` on `server`, as a child process.
fn claim(hospital: &Path, server: &str, range: &str, out: &str) -> Child {
    Command::new(BIN)
        .args([
            "claim", "--server", server, "--epoch", "1", "--range", range,
        ])
        .args(["--out", out])
        .current_dir(hospital)
        .env_remove("CREDENCE_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn credence claim")
}

fn finished(child: Child, what: &str) -> String {
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{what}: {err}");
    err
}

fn job_state(rt: &tokio::runtime::Runtime, server: &str, job_id: &str) -> i32 {
    rt.block_on(async {
        pb::prover_client::ProverClient::connect(server.to_owned())
            .await
            .unwrap()
            .get_job(pb::JobRequest {
                job_id: job_id.to_owned(),
            })
            .await
            .unwrap()
            .into_inner()
            .state
    })
}

// Synchronous: the postgres client (the scratch schema, the checks) blocks, and the replicas
// and clients are processes; a runtime only for the GetJob polls.
#[test]
fn replicas_share_the_queue_and_a_killed_replicas_job_is_finished_by_another() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(schema) = ScratchSchema::for_test("replicas") else {
        return;
    };
    let root_dir = tempfile::tempdir().unwrap();
    let root = root_dir.path();

    // The first replica makes the keys (the log's, the idempotency key, the circuit's); the
    // others get copies, as the README says.
    let a = Replica::start(root, "a", schema.url());
    for name in ["b", "c"] {
        let data = root.join(name).join("data");
        std::fs::create_dir_all(&data).unwrap();
        for file in ["log.key", "log.pub", "idempotency.key"] {
            std::fs::copy(a.data.join(file), data.join(file)).unwrap();
        }
    }
    let mut a = Some(a);
    let b = Replica::start(root, "b", schema.url());
    let c = Replica::start(root, "c", schema.url());
    let a_url = a.as_ref().unwrap().url.clone();

    // A hospital with four contributions, registered on one replica and published on another.
    let hospital = root.join("hospital");
    std::fs::create_dir_all(hospital.join("data")).unwrap();
    let mut files = Vec::new();
    for i in 0..4 {
        let f = format!("data/part-{i}.jsonl");
        std::fs::write(hospital.join(&f), format!("{{\"record\": {i}}}\n")).unwrap();
        files.push(f);
    }
    ok(&hospital, &["contributor-id", "--create"]);
    let mut commit = vec!["commit", "--quiet"];
    commit.extend(files.iter().map(String::as_str));
    ok(&hospital, &commit);
    ok(&hospital, &["register", "--server", &c.url]);
    ok(
        &hospital,
        &[
            "snapshot",
            "publish",
            "--server",
            &b.url,
            "--epoch",
            "1",
            "--revenue",
            "1000",
            "--weight",
            "0=10",
            "--weight",
            "1=20",
            "--weight",
            "2=30",
            "--weight",
            "3=40",
        ],
    );

    // Round-robin: one claim on each replica, at once; all finish.
    let servers = [a_url.clone(), b.url.clone(), c.url.clone()];
    let children: Vec<Child> = (0..3)
        .map(|i| {
            claim(
                &hospital,
                &servers[i],
                &format!("{i}..{}", i + 1),
                &format!("bundle-{i}.json"),
            )
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        finished(child, &format!("the claim on replica {i}"));
    }

    // A claim on replica a; a is killed while the job is in its proving stage.
    let mut doomed = claim(&hospital, &a_url, "3..4", "bundle-3.json");
    let mut stderr = BufReader::new(doomed.stderr.take().unwrap());
    let mut line = String::new();
    let job_id = loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "claim ended early"
        );
        if let Some(rest) = line.strip_prefix("job ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while job_state(&rt, &c.url, &job_id) != pb::JobState::Proving as i32 {
        assert!(Instant::now() < deadline, "the job never reached its proof");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(a.take()); // SIGKILL, mid-proof
    assert!(
        !doomed.wait().unwrap().success(),
        "the claim on the killed replica cannot finish there"
    );

    // Resubmitted to another replica: followed until the lease expires, interrupted, resubmitted
    // by `credence claim`, and proven there.
    let started = Instant::now();
    let err = finished(
        claim(&hospital, &b.url, "3..4", "bundle-3.json"),
        "the resubmitted claim",
    );
    assert!(err.contains(&job_id), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(
        started.elapsed() >= Duration::from_millis(LATENCY_MS),
        "proven again after the takeover"
    );

    // One job, done in its second attempt by replica b; one bundle per job.
    let mut db = postgres::Client::connect(schema.url(), postgres::NoTls).unwrap();
    let row = db
        .query_one("SELECT state, attempt FROM jobs WHERE id = $1", &[&job_id])
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0).as_str(), row.get::<_, i32>(1)),
        ("done", 2)
    );
    let jobs: i64 = db
        .query_one("SELECT COUNT(*) FROM jobs", &[])
        .unwrap()
        .get(0);
    let bundles: i64 = db
        .query_one("SELECT COUNT(*) FROM bundles", &[])
        .unwrap()
        .get(0);
    assert_eq!((jobs, bundles), (4, 4));

    // One claim entry per job in the shared log, which audits clean.
    ok(
        root,
        &[
            "log",
            "export",
            "--database",
            schema.url(),
            "--out",
            "log.json",
        ],
    );
    let export: LogExport =
        serde_json::from_slice(&std::fs::read(root.join("log.json")).unwrap()).unwrap();
    let mut claimed: Vec<u64> = export
        .entries
        .iter()
        .map(|e| {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD.decode(e).unwrap();
            LogEntry::from_bytes(&bytes).unwrap()
        })
        .filter_map(|e| match e.event {
            LogEvent::Claim { statement, .. } => Some(statement.range_start.parse().unwrap()),
            _ => None,
        })
        .collect();
    claimed.sort_unstable();
    assert_eq!(claimed, [0, 1, 2, 3]);
    let verify = Path::new(BIN).with_file_name("credence-verify");
    let audit = Command::new(&verify)
        .args(["audit", "--export", "log.json", "--log-key"])
        .arg(b.data.join("log.pub"))
        .arg("--vk")
        .arg(root.join("keys").join("claim-v1-n1-d4.vk"))
        .current_dir(root)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (build the workspace)", verify.display()));
    assert!(
        audit.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&audit.stdout),
        String::from_utf8_lossy(&audit.stderr)
    );
}
