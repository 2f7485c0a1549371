//! Where the subcommands' lines go. A reader that stops reading (`captain previews list |
//! head -1`) closes the pipe: the rest of the output is dropped quietly and the command
//! goes on to the status it would have had, as `ls | head` does, instead of the panic
//! `println!` raises on a broken pipe. A mutating command is never cut short by it.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once stdout's reader has gone: nothing more is written to it.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);

/// One line on stdout (`say!`).
pub fn stdout_line(args: fmt::Arguments<'_>) {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        STDOUT_GONE.store(true, Ordering::Relaxed);
        if e.kind() != io::ErrorKind::BrokenPipe {
            stderr_line(format_args!("captain: writing to stdout: {e}"));
        }
    }
}

/// One line on stderr (`say_err!`). If stderr itself cannot be written to there is
/// nowhere left to say so: the line is dropped.
pub fn stderr_line(args: fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.write_all(b"\n"));
}
