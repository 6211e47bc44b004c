//! `credence health`: is a server up, and which services does it serve? The standard
//! `grpc.health.v1` check (no token needed), for scripts, probes and people.
//!
//! Exit codes: 0 serving, 1 reachable but not serving (draining, or starting), 2 unreachable
//! or another error (after `--wait` seconds of retrying, if given).

use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use super::client::{ServerArg, channel};

/// `credence health`.
#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Server.
    #[command(flatten)]
    pub server: ServerArg,
    /// Retry for up to this many seconds until the server serves (a server just started).
    #[arg(long, default_value_t = 0)]
    pub wait: u64,
    /// Print nothing; the exit code says.
    #[arg(long)]
    pub quiet: bool,
}

/// The services a Credence server may serve, as health names them.
const SERVICES: [&str; 4] = [
    "credence.v1.Datanet",
    "credence.v1.Prover",
    "credence.v1.Verifier",
    "credence.v1.AuditLog",
];

/// Checks `server`; the process exit code.
pub(crate) async fn health(a: HealthArgs) -> Result<i32> {
    let deadline = Instant::now() + Duration::from_secs(a.wait);
    loop {
        match check(&a).await {
            Ok(code) if code == 0 || Instant::now() >= deadline => return Ok(code),
            Err(e) if Instant::now() >= deadline => return Err(e),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

async fn check(a: &HealthArgs) -> Result<i32> {
    let mut client = HealthClient::new(channel(&a.server).await?);
    let overall = status_of(&mut client, "").await?;
    if !a.quiet {
        println!("{:<22} {}", a.server.server, name(overall));
    }
    for service in SERVICES {
        let s = status_of(&mut client, service).await?;
        if !a.quiet {
            println!("  {service:<20} {}", name(s));
        }
    }
    Ok(if overall == Some(ServingStatus::Serving) {
        0
    } else {
        1
    })
}

/// A service's status; `None` for a service the server does not know (switched off).
async fn status_of(
    client: &mut HealthClient<super::AuthChannel>,
    service: &str,
) -> Result<Option<ServingStatus>> {
    match client
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
    {
        Ok(r) => Ok(ServingStatus::try_from(r.into_inner().status).ok()),
        Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
        Err(s) => Err(super::client::status(s)),
    }
}

fn name(s: Option<ServingStatus>) -> &'static str {
    match s {
        Some(ServingStatus::Serving) => "SERVING",
        Some(ServingStatus::NotServing) => "NOT_SERVING",
        Some(ServingStatus::ServiceUnknown) | None => "off",
        Some(ServingStatus::Unknown) => "UNKNOWN",
    }
}
