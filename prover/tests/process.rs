//! The serving process: it keeps secrets out of core files (core-file limit zero), and drains on
//! SIGTERM, what systemd, Kubernetes and container runtimes send, as it does on Ctrl-C: it stops
//! serving, finishes, and exits with status 0 and its drain message.
//!
//! (In the prover crate: only here does Cargo hand a test the `credence` binary.)

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use credence_proto::v1 as pb;

mod common;
use common::free_port;

const BIN: &str = env!("CARGO_BIN_EXE_credence");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_core_dumps_and_sigterm_drains() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // Started with the largest core-file limit the shell allows, so that the zero limit seen
    // below is the server's own doing.
    let mut child = Command::new("sh")
        .args([
            "-c",
            "ulimit -c \"$(ulimit -Hc)\" && exec \"$0\" \"$@\"",
            BIN,
        ])
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .args(["--listen", &format!("127.0.0.1:{port}"), "--shape", "1,4"])
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn credence serve");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "credence serve exited early"
        );
        if let Ok(mut c) = pb::audit_log_client::AuditLogClient::connect(url.clone()).await
            && c.get_checkpoint(pb::GetCheckpointRequest { tree_size: 0 })
                .await
                .is_ok()
        {
            break;
        }
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // No core file, whatever the shell's limit was.
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{core}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {:?} after SIGTERM (killed instead of drained?)\n{stderr}",
        output.status
    );
    assert!(stderr.contains("SIGTERM"), "{stderr}");
    assert!(stderr.contains("draining"), "{stderr}");
}
