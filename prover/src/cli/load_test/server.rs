//! The server under load: a `credence serve` child process on a fixed loopback port, so that
//! it can be killed with SIGKILL (no chance to drain, as a crash or the OOM killer would) and
//! restarted on the same data directory and address while clients keep calling.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// How to start the server: this executable, `serve --config FILE`.
pub(crate) struct ServerSpec {
    pub(crate) config: PathBuf,
    /// Where the server's stdout and stderr go (appended across restarts).
    pub(crate) log: PathBuf,
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
}

/// A running server process.
pub(crate) struct ServerProcess {
    child: Child,
}

/// The first start may generate the shape's keys (seconds at small shapes).
const START_TIMEOUT: Duration = Duration::from_secs(600);

impl ServerSpec {
    /// Starts the server and waits until its health service says SERVING. An exit before
    /// that is an error quoting the end of the server's log.
    pub(crate) async fn start(&self) -> Result<(ServerProcess, Duration)> {
        let started = Instant::now();
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("opening {}", self.log.display()))?;
        let exe = std::env::current_exe().context("finding the credence executable")?;
        let child = Command::new(exe)
            .arg("serve")
            .arg("--config")
            .arg(&self.config)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting `credence serve`")?;
        let mut server = ServerProcess { child };
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "the server exited ({status}) before serving; its log ends with:\n{}",
                    tail(&self.log)
                );
            }
            if serving(&self.url).await {
                return Ok((server, started.elapsed()));
            }
            if started.elapsed() > START_TIMEOUT {
                server.kill()?;
                bail!("the server was not serving after {START_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// True when the health service answers SERVING for the whole server.
async fn serving(url: &str) -> bool {
    let Ok(endpoint) = tonic::transport::Endpoint::from_shared(url.to_owned()) else {
        return false;
    };
    let Ok(channel) = endpoint
        .connect_timeout(Duration::from_secs(1))
        .connect()
        .await
    else {
        return false;
    };
    let mut health = HealthClient::new(channel);
    matches!(
        health.check(HealthCheckRequest { service: String::new() }).await,
        Ok(r) if r.get_ref().status == ServingStatus::Serving as i32
    )
}

impl ServerProcess {
    /// The process's peak resident memory so far, MiB (Linux; `None` elsewhere).
    pub(crate) fn peak_rss_mib(&self) -> Option<f64> {
        crate::cli::bench::peak_rss_mib_of(&self.child.id().to_string())
    }

    /// SIGKILL, and reap it.
    pub(super) fn kill(&mut self) -> Result<()> {
        self.child.kill().context("killing the server")?;
        self.child.wait().context("reaping the server")?;
        Ok(())
    }

    /// SIGTERM (what systemd and container runtimes send) and wait for the drained exit.
    pub(crate) async fn terminate(mut self, within: Duration) -> Result<(ExitStatus, Duration)> {
        let started = Instant::now();
        sigterm(&self.child)?;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok((status, started.elapsed()));
            }
            if started.elapsed() > within {
                self.kill()?;
                bail!("the server did not exit within {within:?} of SIGTERM (killed)");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Never leave a server behind (an error path, Ctrl-C of the load test).
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(target_os = "linux")]
fn sigterm(child: &Child) -> Result<()> {
    use rustix::process::{Pid, Signal, kill_process};
    let pid = i32::try_from(child.id())
        .ok()
        .and_then(Pid::from_raw)
        .context("the server's process id")?;
    kill_process(pid, Signal::TERM).context("sending SIGTERM to the server")
}

#[cfg(not(target_os = "linux"))]
fn sigterm(_: &Child) -> Result<()> {
    bail!("the load test sends SIGTERM on Linux only")
}

/// The last lines of the server's log, for an error message.
pub(super) fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
