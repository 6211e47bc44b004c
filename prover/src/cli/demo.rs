//! `credence demo`: a realistic end-to-end run, on the same code paths as `serve` and the CLI.
//!
//! Three hospitals and one enterprise write about 200 synthetic contribution files, commit to
//! them (`credence commit`'s code), and register the commitments with a datanet served on
//! loopback by the real server (`App::open` + `App::serve`, keys cached in `DIR/keys`). The
//! operator assigns attribution weights and publishes an epoch snapshot with its revenue;
//! each contributor proves its claim through the `Prover` service (`credence claim`'s code,
//! with progress); the bundles are verified with the verifier crate alone, against the `.vk`
//! files, and settled. Every artifact a person would hand on is written under `DIR/out/`.
//!
//! Nothing is faked: no step skips the server, the proofs or the checks. A run starts from an
//! empty server (only the keys are kept), so it can be repeated.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use credence_proto::v1 as pb;
use credence_verifier::{
    CircuitId, ClaimBundle, KeyRing, TrustedKey,
    encoding::fr_to_decimal,
    leaves::LeafCheck,
    log::{LogEvent, LogExport, LogVerifier, check_bundle_inclusion},
    settlement::Settlement,
    verify_bundles,
};

use super::claim::ClaimArgs;
use super::client::{ServerArg, channel, status};
use super::commit::CommitArgs;
use super::files;
use super::register::RegisterArgs;
use crate::config::Config;
use crate::store::Store as _;

/// `credence demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the server's data, the contributors' files and the artifacts go.
    #[arg(long, default_value = "./credence-demo")]
    pub data_dir: PathBuf,
    /// Snapshot depth (the protocol's default is 20; smaller is quicker).
    #[arg(long, default_value_t = credence_circuits::claim::DEFAULT_DEPTH)]
    pub depth: u32,
}

/// The demo's contributors: name, number of contributions, what they contributed.
const CONTRIBUTORS: [(&str, usize, &str); 4] = [
    ("hospital-a", 62, "oncology notes, de-identified"),
    ("hospital-b", 64, "radiology report corrections"),
    ("hospital-c", 60, "cardiology ECG annotations"),
    ("enterprise-d", 14, "claims adjudication labels"),
];

const EPOCH: u64 = 1;
/// The epoch's revenue, in integer units (cents: 1,000,000.00).
const REVENUE: u64 = 100_000_000;

fn fresh_dir(path: &Path) -> Result<()> {
    if path.exists() {
        std::fs::remove_dir_all(path).with_context(|| format!("clearing {}", path.display()))?;
    }
    std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))
}

/// An attribution weight, standing in for what an attribution method computed elsewhere:
/// derived from the commitment, so it is the operator's to know and stable across runs.
fn attribution_weight(commitment: &str) -> u64 {
    let h = blake3::hash(commitment.as_bytes());
    let x = u64::from_le_bytes(h.as_bytes()[..8].try_into().expect("8 bytes"));
    100 + x % 9_901
}

fn write_json(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// The demo's steps: each prints its numbered header, and what each took is reported at the
/// end (so a reader sees where the minutes go: key setup and proving).
struct Steps {
    current: Option<(&'static str, Instant)>,
    done: Vec<(&'static str, Duration)>,
}

impl Steps {
    const TOTAL: usize = 7;

    fn new() -> Self {
        Steps {
            current: None,
            done: Vec::new(),
        }
    }

    /// Ends the running step and starts the next; `name` is its name in the final report.
    fn begin(&mut self, name: &'static str, header: std::fmt::Arguments<'_>) {
        self.end();
        eprintln!("[{}/{}] {header}", self.done.len() + 1, Self::TOTAL);
        self.current = Some((name, Instant::now()));
    }

    fn end(&mut self) {
        if let Some((name, started)) = self.current.take() {
            self.done.push((name, started.elapsed()));
        }
    }

    /// `name 1.2 s, ...; total 3.4 s`.
    fn report(&mut self) -> String {
        self.end();
        let total: Duration = self.done.iter().map(|(_, d)| *d).sum();
        let parts: Vec<String> = self
            .done
            .iter()
            .map(|(name, d)| format!("{name} {:.1} s", d.as_secs_f64()))
            .collect();
        format!("{}; total {:.1} s", parts.join(", "), total.as_secs_f64())
    }
}

/// Runs the demo.
pub async fn run(a: DemoArgs) -> Result<()> {
    let root = a.data_dir.clone();
    let (server_dir, keys_dir) = (root.join("server"), root.join("keys"));
    let (people_dir, out) = (root.join("contributors"), root.join("out"));
    for d in [&server_dir, &people_dir, &out] {
        fresh_dir(d)?;
    }
    std::fs::create_dir_all(&keys_dir)?;

    // 1. Contributors write their data and commit to it. The data never leaves their folder.
    let mut steps = Steps::new();
    steps.begin("commit", format_args!("contributors commit to their data"));
    let mut rng_bytes = [0u8; 48];
    for (name, count, what) in CONTRIBUTORS {
        let dir = people_dir.join(name);
        let data = dir.join("data");
        std::fs::create_dir_all(&data)?;
        let mut paths = Vec::with_capacity(count);
        for i in 1..=count {
            ark_std::rand::RngCore::fill_bytes(
                &mut credence_circuits::prover::os_rng(),
                &mut rng_bytes,
            );
            let path = data.join(format!("batch-{i:04}.txt"));
            let body = format!(
                "{name}: {what}, batch {i}\nsynthetic payload {}\n",
                hex::encode(rng_bytes)
            );
            std::fs::write(&path, body)?;
            paths.push(path);
        }
        super::commit::commit(CommitArgs {
            files: paths,
            secret: dir.join("secret.key"),
            openings: dir.join("openings.json"),
            quiet: true,
        })?;
        eprintln!("      {name}: {count} files committed ({what})");
    }

    // 2. The operator's datanet server, on loopback.
    steps.begin(
        "server and keys",
        format_args!(
            "starting the server on loopback (keys cached in {})",
            keys_dir.display()
        ),
    );
    let depth = a.depth;
    let config = Config {
        listen: "127.0.0.1:0".parse().expect("a valid literal"),
        data_dir: server_dir.clone(),
        keys_dir: Some(keys_dir.clone()),
        shapes: vec![format!("16,{depth}"), format!("64,{depth}")],
        datanet: crate::config::DatanetConfig { depth },
        ..Config::default()
    };
    // The setup warning once per key, printed for the person reading the demo; the server's log
    // line saying the same is turned off (the demo's log level shows warnings).
    let hooks = crate::server::Hooks {
        log_setup_warning: false,
        ..crate::server::Hooks::default()
    };
    let mut spinners = super::progress::key_progress(" (once; cached for the next run)");
    let progress = move |p| match p {
        crate::server::KeyProgress::SingleParty(shape) => {
            eprintln!(
                "      {}: {}",
                shape.circuit_id(),
                crate::keys::SETUP_WARNING
            );
        }
        p => spinners(p),
    };
    let app =
        tokio::task::spawn_blocking(move || crate::server::App::open(config, hooks, progress))
            .await??;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async {
        let _ = stop_rx.await;
    }));
    let server_arg = || ServerArg::new(url.clone());
    eprintln!("      serving on {url}");

    let result = run_flow(
        &a,
        &mut steps,
        &server_dir,
        &people_dir,
        &out,
        &keys_dir,
        server_arg,
    )
    .await;
    let _ = stop_tx.send(());
    server.await??;
    result
}

async fn run_flow(
    a: &DemoArgs,
    steps: &mut Steps,
    server_dir: &Path,
    people_dir: &Path,
    out: &Path,
    keys_dir: &Path,
    server_arg: impl Fn() -> ServerArg,
) -> Result<()> {
    // 3. Registration: each contributor registers its commitments (ids and commitments only).
    steps.begin(
        "register",
        format_args!("contributors register their commitments with the datanet"),
    );
    for (name, _, _) in CONTRIBUTORS {
        super::register::register(RegisterArgs {
            server: server_arg(),
            openings: people_dir.join(name).join("openings.json"),
            quiet: true,
        })
        .await?;
    }

    // 4. The operator weighs every registered leaf (read from its own database: it never sees
    //    the contributors' files) and publishes the epoch's snapshot; then it exports the
    //    public snapshot and its leaf table for auditors (`credence snapshot export`'s code).
    steps.begin(
        "snapshot",
        format_args!("the operator publishes epoch {EPOCH}'s snapshot (revenue {REVENUE})"),
    );
    let mut names = BTreeMap::new();
    for (name, _, _) in CONTRIBUTORS {
        let openings = files::Openings::load(&people_dir.join(name).join("openings.json"))?;
        names.insert(openings.contributor_id.clone(), name);
    }
    let registered: u64 = CONTRIBUTORS.iter().map(|(_, n, _)| *n as u64).sum();
    let registrations = crate::store::SqliteStore::open_read_only(server_dir)?
        .contributions(&(0..registered).collect::<Vec<_>>())?;
    let mut datanet = pb::datanet_client::DatanetClient::new(channel(&server_arg()).await?);
    let published = datanet
        .publish_snapshot(pb::PublishSnapshotRequest {
            leaf_count: 0,
            epoch: EPOCH,
            depth: a.depth,
            revenue: REVENUE,
            weights: registrations
                .iter()
                .map(|r| pb::LeafWeight {
                    leaf_index: r.leaf_index,
                    weight: attribution_weight(&fr_to_decimal(&r.commitment)),
                })
                .collect(),
        })
        .await
        .map_err(status)?
        .into_inner();
    let (snapshot, table) = super::snapshot::read_published(server_dir, Some(EPOCH))?;
    if super::snapshot::from_pb(&published)? != snapshot {
        bail!("the published snapshot differs from the one stored");
    }
    super::snapshot::write_snapshot(&out.join("snapshot.json"), &snapshot)?;
    std::fs::create_dir_all(out.join("operator"))?;
    super::snapshot::write_leaves(&out.join("operator").join("leaves.json"), &table)?;
    eprintln!(
        "      {} leaves, total weight {}, root {}…",
        table.leaves.len(),
        published.total_weight,
        &published.root[..16.min(published.root.len())]
    );

    // 5. Each contributor proves its claim through the Prover service.
    steps.begin(
        "proofs",
        format_args!("each contributor proves its claim (Groth16, on the server's prover)"),
    );
    let bundles_dir = out.join("bundles");
    std::fs::create_dir_all(&bundles_dir)?;
    for (name, count, _) in CONTRIBUTORS {
        eprintln!("      {name}: claiming its {count} contributions");
        let dir = people_dir.join(name);
        super::claim::claim(ClaimArgs {
            server: server_arg(),
            datanet: Default::default(),
            epoch: EPOCH,
            secret: dir.join("secret.key"),
            openings: dir.join("openings.json"),
            range: None,
            out: bundles_dir.join(format!("{name}.bundle.json")),
        })
        .await?;
    }

    // 6. A settlement verifier checks every bundle with the verifier crate and the .vk files
    //    only, and settles the epoch.
    steps.begin(
        "verify and settle",
        format_args!("verifying the bundles (verifier crate only) and settling"),
    );
    let vk_dir = out.join("keys");
    std::fs::create_dir_all(&vk_dir)?;
    let mut ring = KeyRing::new();
    for entry in std::fs::read_dir(keys_dir)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("vk") {
            continue;
        }
        let name = path.file_name().context("a file name")?.to_owned();
        std::fs::copy(&path, vk_dir.join(&name))?;
        let id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .context("a circuit id")?;
        ring.insert(TrustedKey::from_bytes(
            CircuitId::new(id)?,
            &std::fs::read(&path)?,
        )?)?;
    }
    let mut bundles = Vec::new();
    for (name, _, _) in CONTRIBUTORS {
        let text = std::fs::read_to_string(bundles_dir.join(format!("{name}.bundle.json")))?;
        bundles.push(ClaimBundle::from_json(&text)?);
    }
    let verified = verify_bundles(&ring, &bundles, &mut credence_circuits::prover::os_rng());
    let mut settlement = Settlement::new(snapshot);
    for ((name, _, _), v) in CONTRIBUTORS.iter().zip(verified) {
        let claim = v.with_context(|| format!("{name}'s bundle does not verify"))?;
        settlement
            .admit(&claim)
            .map_err(|e| anyhow::anyhow!("{name}'s claim was refused: {e}"))?;
    }
    let report = settlement.report();
    write_json(
        &out.join("settlement.json"),
        &serde_json::to_string_pretty(&report)?,
    )?;

    // 7. A compliance team exports the signed log and audits it offline: every signature and
    //    the recomputed root, every claim proof re-verified, the operator's leaf table against
    //    the logged snapshot and registrations, and each bundle's own inclusion proof.
    steps.begin("audit", format_args!("auditing the compliance log offline"));
    let export_path = out.join("log-export.json");
    crate::log::export_db(&server_dir.join(crate::log::LOG_DB_FILE), &export_path)?;
    std::fs::copy(
        server_dir.join(crate::log::LOG_PUB_FILE),
        out.join("log.pub"),
    )?;
    let log_key = LogVerifier::parse(std::fs::read_to_string(out.join("log.pub"))?.trim_end())?;
    let export = LogExport::from_json(&std::fs::read(&export_path)?)?;
    let mut leaf_check = LeafCheck::new(&table)?;
    let mut proofs = 0u64;
    let audit = export.audit(&log_key, None, |index, entry, _| {
        leaf_check
            .observe(index, entry)
            .map_err(|e| e.to_string())?;
        if matches!(entry.event, LogEvent::Claim { .. }) {
            entry
                .verify_claim(&ring)
                .map_err(|e| format!("claim proof: {e}"))?;
            proofs += 1;
        }
        Ok(())
    })?;
    if let Some(problem) = &audit.problem {
        bail!("the log audit failed: {problem:?}");
    }
    let leaves_summary = leaf_check
        .finish()
        .map_err(|e| anyhow::anyhow!("leaf table: {e}"))?;
    for (bundle, (name, _, _)) in bundles.iter().zip(CONTRIBUTORS) {
        check_bundle_inclusion(bundle, &log_key)
            .map_err(|e| anyhow::anyhow!("{name}'s bundle inclusion: {e}"))?;
    }
    let by_kind: Vec<String> = audit
        .by_kind
        .iter()
        .map(|(k, n)| format!("{n} {k:?}"))
        .collect();
    eprintln!(
        "      {} entries ({}), {proofs} claim proofs valid, {} signed checkpoints; leaf table: {} leaves registered before the snapshot; every bundle's inclusion proof holds",
        audit.entries_read,
        by_kind.join(", ").to_lowercase(),
        audit.checkpoints_verified,
        leaves_summary.leaves
    );

    println!();
    println!(
        "settlement of epoch {EPOCH} (revenue {REVENUE}, total weight {})",
        report.snapshot.total_weight
    );
    println!(
        "{:<14} {:>7} {:>14} {:>14} {:>8}",
        "contributor", "claims", "weight", "payout", "share"
    );
    let paid: u128 = report.paid.parse()?;
    // In the order the contributors were introduced, not by contributor id.
    let mut lines: Vec<_> = report.payouts.iter().collect();
    lines.sort_by_key(|l| {
        names
            .get(&l.contributor_id)
            .and_then(|n| CONTRIBUTORS.iter().position(|(c, _, _)| c == n))
    });
    for line in lines {
        let payout: u128 = line.payout.parse()?;
        println!(
            "{:<14} {:>7} {:>14} {:>14} {:>7.2}%",
            names.get(&line.contributor_id).copied().unwrap_or("?"),
            line.claims,
            line.claimed_weight,
            line.payout,
            100.0 * payout as f64 / REVENUE as f64
        );
    }
    println!(
        "{:<14} {:>7} {:>14} {:>14}",
        "paid", "", report.claimed_weight, report.paid
    );
    println!(
        "{:<14} {:>7} {:>14} {:>14}",
        "undistributed", "", "", report.undistributed
    );
    if paid > REVENUE as u128 {
        bail!("payouts exceed the revenue");
    }
    println!();
    println!("time: {}", steps.report());
    println!();
    println!("artifacts:");
    for (what, path) in [
        ("snapshot", out.join("snapshot.json")),
        (
            "operator leaf table",
            out.join("operator").join("leaves.json"),
        ),
        ("claim bundles", out.join("bundles")),
        ("verifying keys", out.join("keys")),
        ("settlement", out.join("settlement.json")),
        ("compliance log key", out.join("log.pub")),
        ("compliance log export", out.join("log-export.json")),
        ("contributors' private files", people_dir.to_path_buf()),
    ] {
        println!("  {what:<28} {}", path.display());
    }
    println!("check a bundle yourself:");
    println!(
        "  credence-verify proof {}/bundles/hospital-a.bundle.json --vk {}/keys/claim-v1-n64-d{}.vk --snapshot {}/snapshot.json",
        out.display(),
        out.display(),
        a.depth,
        out.display()
    );
    println!("audit the compliance log yourself:");
    println!(
        "  credence-verify audit --export {o}/log-export.json --log-key {o}/log.pub --leaves {o}/operator/leaves.json --vk {o}/keys/claim-v1-n16-d{d}.vk --vk {o}/keys/claim-v1-n64-d{d}.vk",
        o = out.display(),
        d = a.depth
    );
    Ok(())
}
