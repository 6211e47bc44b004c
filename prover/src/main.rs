//! `credence`: the server and the command line (see [`credence_prover::cli`]).

use clap::Parser as _;

fn main() {
    // Logs go to stderr; `RUST_LOG` selects (default `info`). Nothing secret is ever logged.
    // arkworks instruments every gadget call with an INFO span (targets `gr1cs` and `r1cs`)
    // whose fields are the call's arguments, witness values included. Enabled, they would put
    // secrets into span records and make proving orders of magnitude slower, so they are off
    // whatever RUST_LOG says.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
        .add_directive("gr1cs=off".parse().expect("a valid directive"))
        .add_directive("r1cs=off".parse().expect("a valid directive"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
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
