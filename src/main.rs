//! `cgdiff`: differential fuzzing and replay of the cgroup migration rewrite.
//! The binary is the CLI edge: argument parsing, I/O and exit codes; the work is in the crates.

mod campaign;
mod cmd;
mod explain;

use clap::Parser;

/// The campaign and the minimiser allocate small vectors on every worker; mimalloc keeps that
/// cheap and free of contention between threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`cgdiff cases list | head`) like other Unix tools, instead
    // of panicking on the next print.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match cmd::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // --help and --version are not errors.
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(cmd::EXIT_BAD_INPUT),
            };
        }
    };
    match cmd::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cgdiff: error: {e:#}");
            ExitCode::from(cmd::EXIT_BAD_INPUT)
        }
    }
}
