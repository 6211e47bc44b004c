//! `credence`: the server and the command line (see [`credence_server::cli`]).

use std::io::IsTerminal as _;

use clap::Parser as _;
use credence_server::cli::Command;

/// arkworks instruments every gadget call with `tracing` spans (target `gr1cs` and module
/// paths). With a subscriber enabled at their level, synthesizing a circuit records millions of
/// spans: a depth-4 key setup went from milliseconds to minutes and gigabytes. They are turned
/// off whatever `RUST_LOG` says.
const QUIET_ARKWORKS: [&str; 6] = [
    "gr1cs=off",
    "r1cs=off",
    "ark_relations=off",
    "ark_r1cs_std=off",
    "ark_groth16=off",
    "ark_crypto_primitives=off",
];

fn main() {
    let cli = credence_server::cli::Cli::parse();
    // Logs go to stderr; `RUST_LOG` selects. The default is `info`, except for the demo and
    // the benchmark: they run a server in this process, whose INFO lines (one per
    // registration) would drown their own report. Nothing secret is ever logged.
    let default = match cli.command {
        Command::Demo(_) | Command::Bench(_) => "warn",
        _ => "info",
    };
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    for d in QUIET_ARKWORKS {
        filter = filter.add_directive(d.parse().expect("a valid directive"));
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, not in files or CI logs.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("credence: cannot start the runtime: {e}");
            std::process::exit(2);
        }
    };
    let code = runtime.block_on(async {
        match credence_server::cli::run(cli).await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("credence: {e:#}");
                2
            }
        }
    });
    std::process::exit(code);
}
