use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // A panic is a bug in capable: report it as an internal error (exit 3), never as findings.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error in capable: {info}");
        eprintln!("  help: this is a bug; please report it with the input that caused it");
    }));
    let cli = capable::cli::Cli::parse();
    match std::panic::catch_unwind(|| capable::cli::run(cli)) {
        Ok(exit) => exit.into(),
        Err(_) => capable::cli::Exit::Internal.into(),
    }
}
