//! `credence-verify audit --server` against a server set up as a deployment runs it: TLS with a
//! private CA, bearer tokens, and mutual TLS. The built `credence-verify` binary is run, with the
//! CA (`--ca`), the auditor's token from `--token-file` or `CREDENCE_TOKEN`, and the client's
//! certificate (`--cert`/`--key`); each missing piece fails with exit 2 and a hint that names the
//! flag to pass.
//!
//! Cargo hands a binary's path (`CARGO_BIN_EXE_*`) only to its own package's tests, and a test
//! cannot run a nested `cargo build` (the outer cargo holds the build directory's lock while the
//! tests run). So the binary is taken from the target directory this test was built into, where
//! `cargo test --workspace --release` builds it (with `grpc`: the workspace build unifies
//! features, and this crate asks for `grpc`); `CREDENCE_VERIFY_BIN` overrides the path. A binary
//! without `audit --ca` (built without `grpc`, or stale) fails the test with the command that
//! builds the right one.

use std::path::{Path, PathBuf};
use std::process::Command;

use credence_server::config::TlsConfig;
use credence_tests::{Contributor, TestPki, TestServer, config_with_tokens};

const BUILD: &str =
    "cargo build --release -p credence-verifier --features grpc --bin credence-verify";

/// The `credence-verify` binary, checked to have `audit --server` with the TLS flags.
fn credence_verify() -> PathBuf {
    let bin = match std::env::var_os("CREDENCE_VERIFY_BIN") {
        Some(p) => PathBuf::from(p),
        None => {
            // target/<profile>/deps/audit_remote-HASH -> target/<profile>/credence-verify
            let exe = std::env::current_exe().expect("test executable path");
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("test executable under target/<profile>/deps");
            profile_dir.join(format!("credence-verify{}", std::env::consts::EXE_SUFFIX))
        }
    };
    assert!(
        bin.is_file(),
        "{} is missing: build it with `{BUILD}` (`cargo test --workspace --release` does)",
        bin.display()
    );
    let help = Command::new(&bin)
        .args(["audit", "--help"])
        .output()
        .expect("run credence-verify");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--server") && help.contains("--ca") && help.contains("--token-file"),
        "{} has no `audit --server --ca --token-file` (built without `grpc`, or stale): \
         rebuild it with `{BUILD}`",
        bin.display()
    );
    bin
}

/// Runs `credence-verify ARGS` with `CREDENCE_TOKEN` set to `token` (or unset) and checks it
/// exits with `code`: its standard output followed by its standard error (clap's usage errors).
async fn run(code: i32, args: Vec<String>, token: Option<&str>) -> String {
    let token = token.map(str::to_owned);
    let (exit, text) = tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(credence_verify());
        cmd.args(&args).env_remove("CREDENCE_TOKEN");
        if let Some(t) = token {
            cmd.env("CREDENCE_TOKEN", t);
        }
        let out = cmd.output().expect("run credence-verify");
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        eprintln!("credence-verify {}\n{text}", args.join(" "));
        (out.status.code().expect("exited normally"), text)
    })
    .await
    .expect("join");
    assert_eq!(exit, code, "{text}");
    text
}

/// Writes `text` to `dir/name` with permission bits `mode`.
fn write(dir: &Path, name: &str, text: &str, mode: u32) -> String {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p.display().to_string()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// `audit --server URL --log-key LOG_PUB` followed by `extra`.
fn audit_args(url: &str, log_pub: &str, extra: &[&str]) -> Vec<String> {
    let mut args = strings(&["audit", "--server", url, "--log-key", log_pub]);
    args.extend(strings(extra));
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_server_over_tls_with_tokens_and_mutual_tls() {
    // Fail early, before any server starts, if the binary is not there.
    tokio::task::spawn_blocking(credence_verify).await.unwrap();

    let pki = TestPki::new("auditor");
    let files = tempfile::tempdir().unwrap();
    let f = files.path();
    let ca_file = write(f, "ca.pem", &pki.ca.cert, 0o644);
    let tls = TlsConfig {
        cert: write(f, "server.pem", &pki.server.cert, 0o644).into(),
        key: write(f, "server.key", &pki.server.key, 0o600).into(),
        client_ca: None,
    };

    let a = Contributor::new(1, 1);
    let b = Contributor::new(2, 1);
    let data = tempfile::tempdir().unwrap();
    let (mut c, tokens) = config_with_tokens(data.path(), &a, &b);
    c.tls = Some(tls.clone());
    let server = TestServer::start(c).await;
    let log_pub = data.path().join("log.pub").display().to_string();
    let url = format!("https://localhost:{}", server.addr.port());
    let token_file = write(f, "auditor.token", &format!("{}\n", tokens.auditor), 0o600);
    let state = f.join("audit.state").display().to_string();
    let audit = |extra: &[&str]| audit_args(&url, &log_pub, extra);
    let auditor = Some(tokens.auditor.as_str());

    // The CA and the auditor's token from a file: the log (the keys the server logged at
    // start) audits, and the state is saved.
    let out = run(
        0,
        audit(&[
            "--ca",
            &ca_file,
            "--token-file",
            &token_file,
            "--state",
            &state,
        ]),
        None,
    )
    .await;
    assert!(out.trim_end().ends_with("audit: ok"), "{out}");
    assert!(out.contains("state: saved size"), "{out}");

    // The token from CREDENCE_TOKEN, continuing from the saved state.
    let out = run(0, audit(&["--ca", &ca_file, "--state", &state]), auditor).await;
    assert!(out.contains("state: previous run verified size"), "{out}");

    // Without --ca the server's certificate is not trusted: the cause and the flag to pass.
    let out = run(2, audit(&["--token-file", &token_file]), None).await;
    assert!(out.contains("UnknownIssuer"), "{out}");
    assert!(
        out.contains(
            "hint: the server's certificate is signed by a CA not trusted here: pass --ca"
        ),
        "{out}"
    );

    // The server flags are for --server only: with --export they are a usage error.
    for flag in ["--ca", "--cert", "--key", "--token-file"] {
        let args = strings(&[
            "audit",
            "--export",
            "x.json",
            "--log-key",
            &log_pub,
            flag,
            &ca_file,
        ]);
        let out = run(2, args, None).await;
        assert!(out.contains("cannot be used with"), "{out}");
    }

    // A CA file with no certificate in it (the server's key by mistake) is refused as such.
    let key_as_ca = tls.key.display().to_string();
    let out = run(
        2,
        audit(&["--ca", &key_as_ca, "--token-file", &token_file]),
        None,
    )
    .await;
    assert!(out.contains("no certificate in it"), "{out}");

    // No token: the server's refusal and where the token goes.
    let out = run(2, audit(&["--ca", &ca_file]), None).await;
    assert!(out.contains("a bearer token is required"), "{out}");
    assert!(out.contains("--token-file"), "{out}");
    // Another role's token is refused for the log.
    let out = run(2, audit(&["--ca", &ca_file]), Some(&tokens.verifier)).await;
    assert!(out.contains("use an auditor token"), "{out}");

    // A token file others may read is refused before connecting, naming the fix.
    let open_token = write(f, "open.token", &tokens.auditor, 0o644);
    let out = run(
        2,
        audit(&["--ca", &ca_file, "--token-file", &open_token]),
        None,
    )
    .await;
    assert!(out.contains(&format!("chmod 600 {open_token}")), "{out}");
    assert!(
        !out.contains(&tokens.auditor),
        "the token was printed: {out}"
    );

    // Plain HTTP/2 to the TLS server: the hint says to use https://.
    let http = format!("http://localhost:{}", server.addr.port());
    let out = run(2, audit_args(&http, &log_pub, &[]), auditor).await;
    assert!(
        out.contains("the server probably speaks TLS: use an https:// URL, with --ca"),
        "{out}"
    );
    server.stop().await;

    // TLS to a plain HTTP/2 server: the hint says to use http://.
    let (plain, plain_dir) = TestServer::fresh().await;
    let plain_pub = plain_dir.path().join("log.pub").display().to_string();
    let https = format!("https://localhost:{}", plain.addr.port());
    let out = run(2, audit_args(&https, &plain_pub, &["--ca", &ca_file]), None).await;
    assert!(
        out.contains("the server probably speaks plain HTTP/2, not TLS: use an http:// URL"),
        "{out}"
    );
    plain.stop().await;

    // Mutual TLS: the client's certificate and key get through; without them, the hint.
    let data = tempfile::tempdir().unwrap();
    let (mut c, tokens) = config_with_tokens(data.path(), &a, &b);
    c.tls = Some(TlsConfig {
        client_ca: Some(ca_file.clone().into()),
        ..tls
    });
    let server = TestServer::start(c).await;
    let log_pub = data.path().join("log.pub").display().to_string();
    let url = format!("https://localhost:{}", server.addr.port());
    let cert = write(f, "client.pem", &pki.client.cert, 0o644);
    let key = write(f, "client.key", &pki.client.key, 0o600);
    let audit = |extra: &[&str]| audit_args(&url, &log_pub, extra);
    let auditor = Some(tokens.auditor.as_str());
    let client = ["--ca", &ca_file, "--cert", &cert, "--key", &key];
    run(0, audit(&client), auditor).await;
    let out = run(2, audit(&["--ca", &ca_file]), auditor).await;
    assert!(out.contains("pass --cert and --key"), "{out}");
    server.stop().await;
}
