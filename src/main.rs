use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the system allocator: a big policy makes millions of small
/// allocations (findings, patterns, ACL nodes), and glibc's malloc and free took a fifth of
/// `check`'s time and left more memory unused. Built without transparent huge pages
/// (`no_thp`): on machines where THP is `madvise`, asking for them made the kernel compact
/// memory on page faults and a run's system time vary from 0.1 to 0.7 s.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
