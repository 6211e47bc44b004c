//! A deployment's first day: the mistakes a new operator or hospital makes, and the errors that
//! must point at the cause. Each check runs the `credence` binary as a person would.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};

mod common;
use common::{BIN, credence, free_port, ok};

/// The command fails with exit 2, and its error output, for the checks.
fn fails<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(dir: &Path, args: &[S]) -> String {
    let o = credence(dir, args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(
        o.status.code(),
        Some(2),
        "credence {args:?} should fail: {err}"
    );
    err
}

fn openssl(dir: &Path, args: &[&str]) {
    let s = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stderr(Stdio::null())
        .status()
        .expect("openssl is installed (the trial certificates need it)");
    assert!(s.success(), "openssl {args:?}");
}

/// A trial CA and a `localhost` certificate signed by it, in `dir`.
fn certificates(dir: &Path) {
    openssl(
        dir,
        &args(
            "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=trial-ca -keyout ca.key -out ca.pem",
        ),
    );
    openssl(
        dir,
        &args(
            "req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout server.key -out server.csr",
        ),
    );
    openssl(
        dir,
        &args(
            "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -copy_extensions copy -out server.pem",
        ),
    );
    chmod(&dir.join("server.key"), 0o600);
}

/// A command line's words (none of them holds a space).
fn args(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A server started from a configuration, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An operator with TLS and tokens (every service), keys for N = 2, D = 4, and a hospital
/// with its secret, openings and its datanet token. Returns the server and its port.
fn operator(root: &Path) -> (Server, u16) {
    certificates(root);
    ok(root, &args("setup --shape 2,4 --data-dir ceremony"));
    std::fs::create_dir_all(root.join("hospital/data")).unwrap();
    std::fs::write(root.join("hospital/data/a.jsonl"), "{\"r\": 1}\n").unwrap();
    let id = ok(&root.join("hospital"), &["contributor-id", "--create"]);
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    std::fs::create_dir_all(root.join("op")).unwrap();
    ok(
        root,
        &[
            "config",
            "init",
            "--out",
            "op/op.toml",
            "--listen",
            &listen,
            "--tls-cert",
            "server.pem",
            "--tls-key",
            "server.key",
            "--keys-dir",
            "ceremony/keys",
            "--shape",
            "2,4",
        ],
    );
    ok(
        root,
        &[
            "config",
            "add-party",
            "--config",
            "op/op.toml",
            "--role",
            "contributor",
            "--tenant",
            "hospital",
            "--contributor-id",
            id.trim(),
        ],
    );
    std::fs::copy(
        root.join("op/hospital.token"),
        root.join("hospital/datanet.token"),
    )
    .unwrap();
    ok(&root.join("hospital"), &["commit", "data/a.jsonl"]);
    // Started from another directory than the configuration's: its paths follow the file.
    let child = Command::new(BIN)
        .args(["serve", "--config", "op/op.toml"])
        .current_dir(root)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let url = format!("https://localhost:{port}");
    ok(
        root,
        &[
            "health", "--server", &url, "--ca", "ca.pem", "--wait", "60", "--quiet",
        ],
    );
    assert!(
        root.join("op/credence-data/log.key").exists(),
        "the data directory is the file's"
    );
    assert!(
        !root.join("credence-data").exists(),
        "nothing beside the working directory"
    );
    (server, port)
}

#[test]
fn mistakes_against_a_tls_server_with_tokens_get_errors_that_name_their_cause() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let (_server, port) = operator(root);
    let hospital = root.join("hospital");
    let https = format!("https://localhost:{port}");
    let http = format!("http://localhost:{port}");
    let register = |server: &str, extra: &[&str]| {
        let mut args = vec![
            "register",
            "--server",
            server,
            "--token-file",
            "datanet.token",
        ];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };

    // No --ca: the server's issuer is unknown; the hint names the flag.
    let e = fails(&hospital, &register(&https, &[]));
    assert!(e.contains("hint") && e.contains("--ca"), "{e}");
    assert_eq!(e.matches("UnknownIssuer").count(), 1, "said once: {e}");
    // Plain text to a TLS server: the hint says https://.
    let e = fails(&hospital, &register(&http, &[]));
    assert!(e.contains("speaks TLS") && e.contains("https://"), "{e}");
    // A --ca file with no certificate in it is refused, naming the file.
    std::fs::write(hospital.join("empty.pem"), "not a certificate\n").unwrap();
    let e = fails(&hospital, &register(&https, &["--ca", "empty.pem"]));
    assert!(
        e.contains("empty.pem") && e.contains("no certificate"),
        "{e}"
    );
    // A token file others can read is refused before anything is sent.
    chmod(&hospital.join("datanet.token"), 0o644);
    let e = fails(&hospital, &register(&https, &["--ca", "../ca.pem"]));
    assert!(
        e.contains("datanet.token") && e.contains("chmod 600"),
        "{e}"
    );
    chmod(&hospital.join("datanet.token"), 0o600);

    // Registering says what it did, and again, that there was nothing to do.
    let out = ok(&hospital, &register(&https, &["--ca", "../ca.pem"]));
    assert!(
        out.contains("registered 1 of 1: 1 new") && out.contains("openings.json"),
        "{out}"
    );
    let out = ok(&hospital, &register(&https, &["--ca", "../ca.pem"]));
    assert!(out.contains("nothing to register"), "{out}");

    // Another hospital's token: the refusal names the server and the call.
    let other = root.join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("x.jsonl"), "{}\n").unwrap();
    ok(&other, &["commit", "x.jsonl"]);
    std::fs::copy(hospital.join("datanet.token"), other.join("datanet.token")).unwrap();
    let e = fails(&other, &register(&https, &["--ca", "../ca.pem"]));
    assert!(
        e.contains(&format!("{https} (--server) refused Register"))
            && e.contains("PermissionDenied"),
        "{e}"
    );

    // One hospital's openings with another's secret: both files are named, no server asked.
    let e = fails(
        &hospital,
        &[
            "claim",
            "--server",
            &https,
            "--ca",
            "../ca.pem",
            "--token-file",
            "datanet.token",
            "--secret",
            "../other/secret.key",
            "--epoch",
            "1",
        ],
    );
    assert!(
        e.contains("secret.key") && e.contains("openings.json") && e.contains("one contributor"),
        "{e}"
    );
}

#[test]
fn config_commands_write_token_files_and_refuse_what_cannot_work() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    ok(
        root,
        &args(
            "config init --out a.toml --services prover --shape 2,4 --contributor-id 42 --tenant hospital-b --token-dir tokens",
        ),
    );
    let config = std::fs::read_to_string(root.join("a.toml")).unwrap();
    for token in ["tokens/hospital-b.token", "tokens/auditor.token"] {
        let text = std::fs::read_to_string(root.join(token)).unwrap();
        assert!(
            config.contains(text.trim()),
            "{token}'s token is in the configuration"
        );
        let mode = std::fs::metadata(root.join(token))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{token}");
    }
    assert!(
        config.contains("tenant = \"hospital-b\"") && config.contains("origin = "),
        "{config}"
    );
    assert!(
        !root.join("tokens/operator.token").exists(),
        "a prover alone has no operator"
    );
    // Nothing is overwritten.
    let e = fails(
        root,
        &args(
            "config init --out b.toml --services prover --shape 2,4 --contributor-id 42 --tenant hospital-b --token-dir tokens",
        ),
    );
    assert!(
        e.contains("hospital-b.token") && e.contains("exists"),
        "{e}"
    );
    assert!(!root.join("b.toml").exists());
    ok(
        root,
        &args("config add-party --config a.toml --role verifier --tenant bank"),
    );
    assert!(root.join("bank.token").exists());
    let e = fails(
        root,
        &args("config add-party --config a.toml --role verifier --tenant bank"),
    );
    assert!(e.contains("bank.token") && e.contains("exists"), "{e}");
    let e = fails(
        root,
        &args("config add-party --config a.toml --role contributor --tenant c"),
    );
    assert!(e.contains("--contributor-id"), "{e}");
    // Off loopback without TLS: the flags to pass are named, and nothing is written.
    let e = fails(
        root,
        &args("config init --out d.toml --listen 0.0.0.0:7117"),
    );
    assert!(
        e.contains("--tls-cert") && !root.join("d.toml").exists(),
        "{e}"
    );
    // A datanet depth no shape can prove is refused when the file is made.
    let e = fails(
        root,
        &args("config init --out c.toml --shape 2,4 --depth 20"),
    );
    assert!(e.contains("datanet.depth"), "{e}");
}

#[test]
fn a_verify_only_server_without_keys_creates_nothing() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    std::fs::create_dir_all(root.join("op")).unwrap();
    ok(
        root,
        &args("config init --out op/v.toml --services verifier --shape 2,4"),
    );
    let e = fails(root, &["serve", "--config", "op/v.toml"]);
    assert!(e.contains("no keys for claim-v1-n2-d4"), "{e}");
    assert!(!root.join("credence-data").exists());
    assert!(
        !root.join("op/credence-data").exists(),
        "no data directory, no log key"
    );
}
