//! `captain completions <shell>` and `captain man`: what a shell and `man` know of captain,
//! made from the same clap definitions that parse the command line, so they never drift
//! from it.

use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory;
use color_eyre::eyre::{Result, WrapErr};

use crate::cli::Cli;

pub fn completions(shell: clap_complete::Shell) -> Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "captain", &mut script);
    write_stdout(&script)
}

/// captain.1 on stdout; with `out`, captain.1 and a page per subcommand
/// (`captain-canary-status.1`) written there.
pub fn man(out: Option<&Path>) -> Result<ExitCode> {
    let Some(dir) = out else {
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut page)
            .wrap_err("rendering the man page")?;
        return write_stdout(&page);
    };
    std::fs::create_dir_all(dir).wrap_err_with(|| format!("creating {}", dir.display()))?;
    clap_mangen::generate_to(Cli::command(), dir)
        .wrap_err_with(|| format!("writing the man pages into {}", dir.display()))?;
    say!("wrote the man pages into {}", dir.display());
    Ok(ExitCode::SUCCESS)
}

/// The whole text at once; a reader that stops reading is not an error (see `out`).
fn write_stdout(bytes: &[u8]) -> Result<ExitCode> {
    let text = String::from_utf8_lossy(bytes);
    say!("{}", text.trim_end_matches('\n'));
    Ok(ExitCode::SUCCESS)
}
