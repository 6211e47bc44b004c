//! `credence load-test` at a small shape and for a few seconds: both runs (clean, and SIGKILL of
//! the server with a restart mid-run) answer every kind of call, and every check holds:
//! nothing accepted is lost, no job is proven twice, the log audits clean, SIGTERM drains.
//!
//! The figures the README gives come from the full command (60 s, 16 clients, N = 2, D = 20);
//! this only shows the tool and the server's promises work together.

use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_credence");

#[test]
fn both_runs_pass_their_checks() {
    let scratch = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "load-test",
            "--seconds",
            "4",
            "--clients",
            "3",
            "--shape",
            "2,8",
            "--runs",
            "both",
            "--json",
            "--scratch",
        ])
        .arg(scratch.path())
        .output()
        .expect("run credence load-test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "credence load-test failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).expect("one JSON report");
    let runs = report["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["run"], "clean");
    assert_eq!(runs[1]["run"], "kill");
    assert!(runs[0]["killed_at_s"].is_null());
    assert!(
        runs[1]["killed_at_s"].as_f64().unwrap() > 0.0,
        "the kill run killed"
    );
    assert!(runs[1]["restart_s"].as_f64().unwrap() > 0.0);
    for run in runs {
        for rpc in ["Register", "SubmitClaim", "GetCheckpoint"] {
            assert!(
                run["rpcs"][rpc]["ok"].as_u64().unwrap_or(0) > 0,
                "{} run: no {rpc} answered: {run}",
                run["run"]
            );
        }
        let c = &run["checks"];
        assert!(c["registrations_accepted"].as_u64().unwrap() > 0);
        assert_eq!(c["registrations_kept"], c["registrations_accepted"]);
        assert_eq!(c["registrations_lost"], 0);
        assert_eq!(c["leaf_collisions"], 0);
        assert!(c["jobs_accepted"].as_u64().unwrap() > 0);
        assert_eq!(c["jobs_done"], c["jobs_accepted"]);
        assert_eq!(c["claims_duplicated"], 0);
        assert_eq!(c["claims_missing"], 0);
        assert_eq!(c["claims_unknown"], 0);
        assert_eq!(c["audit"], "ok");
        assert_eq!(c["exit"], "exit status: 0");
    }
}
