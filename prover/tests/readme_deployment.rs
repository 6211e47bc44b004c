//! The README's "Running a deployment", run as written: every `sh` block of that section, in
//! order, in one `bash -euo pipefail`, with the built `credence` and `credence-verify` first on
//! the `PATH`. An operator with TLS and a token per party, two hospitals each on its own prover,
//! settlement and audit (from exports and over gRPC with an auditor token).
//!
//! Only two things are changed in the text, so that the test can run beside others and quickly:
//! the ports (7117, 7118, 7119 become free ones) and the circuit shape (N = 16, D = 20 becomes
//! N = 2, D = 4). Any other drift between the README and the commands fails here.
//!
//! `credence-verify` is found beside `credence` (a workspace build, as `.ci/run` runs, builds
//! both; `audit --server` needs its `grpc` feature, which the workspace turns on).

use std::io::Read as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::free_port;

/// The section's `sh` blocks, in order.
fn walkthrough() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    let start = readme
        .find("## Running a deployment")
        .expect("the README has a \"Running a deployment\" section");
    let rest = &readme[start..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    let section = &rest[..end];
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "```sh" {
            let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            blocks.push(block.join("\n"));
        }
    }
    assert!(blocks.len() >= 9, "the walk-through has its nine steps");
    blocks.join("\n")
}

fn tool_dir() -> PathBuf {
    common::credence_verify_bin()
        .parent()
        .expect("the binary's directory")
        .to_owned()
}

#[test]
fn the_readme_deployment_runs_as_written() {
    assert!(
        Command::new("openssl")
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "the walk-through makes its trial certificates with openssl, which is not installed"
    );
    let mut script = walkthrough();
    for (from, to) in [
        ("7117", free_port().to_string()),
        ("7118", free_port().to_string()),
        ("7119", free_port().to_string()),
        ("16,20", "2,4".to_owned()),
        ("n16-d20", "n2-d4".to_owned()),
    ] {
        assert!(script.contains(from), "the walk-through names {from}");
        script = script.replace(from, &to);
    }
    let work = tempfile::tempdir().unwrap();
    let path = format!(
        "{}:{}",
        tool_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(work.path())
        .env("PATH", path)
        .env_remove("CREDENCE_TOKEN")
        .env_remove("CREDENCE_DATANET_TOKEN")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: the servers it starts in the background are stopped with it
        // whatever happens.
        .process_group(0)
        .spawn()
        .expect("bash");
    let group = child.id() as i32;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Whatever is left of the group (servers a failed step left running) goes.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .stderr(Stdio::null())
        .status();
    let _ = child.wait();
    let stdout = reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    let tail = |s: &str| {
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    };
    assert!(
        status.is_some_and(|s| s.success()),
        "the walk-through failed ({status:?})\n--- stdout (tail)\n{}\n--- stderr (tail)\n{}",
        tail(&stdout),
        tail(&stderr)
    );
    // What each step promised.
    assert!(stdout.contains("valid: 2 admitted, 0 refused"), "{stdout}");
    assert_eq!(
        stdout.matches("audit: ok").count(),
        3,
        "two exports and one audit over gRPC\n{stdout}"
    );
    assert!(
        stdout.contains("registered 2 of 2: 2 new") && stdout.contains("registered 1 of 1: 1 new"),
        "{stdout}"
    );
    for who in ["hospital-a", "hospital-b"] {
        let bundle = work
            .path()
            .join("settlement")
            .join(format!("{who}-epoch-7.bundle.json"));
        assert!(bundle.exists(), "{}", bundle.display());
    }
    // Every token file was made by the commands, owner-only.
    use std::os::unix::fs::PermissionsExt as _;
    for token in [
        "operator/operator.token",
        "operator/hospital-a.token",
        "hospital-a/datanet.token",
        "hospital-b/tokens/hospital-b.token",
        "audit/operator-auditor.token",
    ] {
        let mode = std::fs::metadata(work.path().join(token))
            .unwrap_or_else(|e| panic!("{token}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{token} is mode {:o}", mode & 0o777);
    }
    // The log has the deployment's own name.
    let checkpoint_origin = std::fs::read_to_string(work.path().join("audit/operator-log.pub"))
        .expect("operator-log.pub");
    assert!(
        checkpoint_origin.starts_with("datanet.example/credence/log+"),
        "{checkpoint_origin}"
    );
}
