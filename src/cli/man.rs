//! `capable man [SUBCOMMAND]`: prints the roff man page (clap_mangen) of capable or of one
//! subcommand, generated from the command line definition.
//!
//! Install, e.g.: `capable man > ~/.local/share/man/man1/capable.1` and
//! `capable man check > ~/.local/share/man/man1/capable-check.1`.

use std::io::Write;

use clap::CommandFactory;

use super::{Cli, CliError, CliResult, Exit};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The subcommand whose page to print [default: capable's own page]
    pub subcommand: Option<String>,
}

pub fn run(args: Args) -> CliResult {
    let mut command = Cli::command();
    // Building names each subcommand `capable SUB` for its synopsis.
    command.build();
    let (page, title) = match &args.subcommand {
        None => (command, "capable".to_string()),
        Some(name) => {
            let names: Vec<String> = command
                .get_subcommands()
                .map(|sub| sub.get_name().to_string())
                .collect();
            let Some(sub) = command.find_subcommand(name).cloned() else {
                let mut error = CliError::usage(format!("unknown subcommand `{name}`"));
                let close = crate::suggest::closest(
                    names.iter().map(String::as_str),
                    |candidate| crate::suggest::edit_distance_with_transpositions(name, candidate),
                    |candidate| (candidate.len() / 3).max(1),
                );
                error = match close {
                    Some(close) => error.with_help(format!("did you mean `{close}`?")),
                    None => error.with_help(format!("subcommands: {}", names.join(", "))),
                };
                return Err(error);
            };
            // The page is titled `capable-SUB`, as `man capable-check` expects.
            let title = format!("capable-{}", sub.get_name());
            (sub, title)
        }
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page)
        .title(title)
        .render(&mut roff)
        .map_err(|error| CliError::usage(format!("cannot render the man page: {error}")))?;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(&roff);
    let _ = stdout.flush();
    Ok(Exit::Clean)
}
