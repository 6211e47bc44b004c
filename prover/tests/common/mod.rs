//! What the `credence` binary's process tests share.

/// A loopback port nothing listens on now (for a `credence serve --listen` child; another
/// process could take it before the child binds, which the tests accept as the rare retry).
#[allow(dead_code)] // not every test binary runs a server
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The `credence` binary under test.
#[allow(dead_code)] // not every test binary runs commands
pub const BIN: &str = env!("CARGO_BIN_EXE_credence");

/// Runs `credence ARGS` in `dir`, with no token or database from the environment.
#[allow(dead_code)]
pub fn credence<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(
    dir: &std::path::Path,
    args: &[S],
) -> std::process::Output {
    std::process::Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("CREDENCE_TOKEN")
        .env_remove("CREDENCE_DATABASE")
        .env("RUST_LOG", "warn")
        .output()
        .expect("credence runs")
}

/// [`credence`], which must succeed; its standard output.
#[allow(dead_code)]
pub fn ok<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(
    dir: &std::path::Path,
    args: &[S],
) -> String {
    let o = credence(dir, args);
    assert!(
        o.status.success(),
        "credence {args:?}: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// `credence-verify`, built beside `credence` by a workspace build (as `.ci/run` runs it; a
/// build of this package alone does not make it).
#[allow(dead_code)]
pub fn credence_verify_bin() -> std::path::PathBuf {
    let bin = std::path::Path::new(BIN).with_file_name("credence-verify");
    assert!(
        bin.exists(),
        "{} does not exist: build the workspace (`cargo test --workspace --release`, as .ci/run \
         does), not this package alone",
        bin.display()
    );
    bin
}
