//! `credence`: the server and the command line (see [`credence_prover::cli`]).

use clap::Parser as _;

fn main() {
    // Logs go to stderr; `RUST_LOG` selects (default `info`). Nothing secret is ever logged.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = credence_prover::cli::Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("credence: cannot start the runtime: {e}");
            std::process::exit(2);
        }
    };
    let code = runtime.block_on(async {
        match credence_prover::cli::run(cli).await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("credence: {e:#}");
                2
            }
        }
    });
    std::process::exit(code);
}
