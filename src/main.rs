//! Dispatch only. The per-prompt path (a fresh cached token) skips clap's command tree and
//! returns before any async runtime or aws-config set-up: those live behind
//! `credentials::load`, reached only to mint.

#![no_main]

use std::process::ExitCode;

use bedrock_env::{cli, commands, refresh};
use clap::Parser;
use clap::error::ErrorKind;

/// The C entry point, instead of std's: std's start-up reads /proc/self/maps to place a
/// stack guard (a sixth of a cached `export`'s instructions) and ignores SIGPIPE. We need
/// neither: a closed pipe should end us as it ends `cat`. Arguments still reach
/// `std::env::args` (glibc hands them to std at load time).
#[unsafe(no_mangle)]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    // Non-UTF-8 arguments are left to clap, which reports them without panicking.
    let args: Option<Vec<String>> = std::env::args_os()
        .skip(1)
        .map(|arg| arg.into_string().ok())
        .collect();
    let command = match args.as_deref().and_then(cli::parse_hot_path) {
        Some(command) => command,
        None => match cli::Cli::try_parse() {
            Ok(cli) => cli.command,
            Err(error) => return usage_error(error),
        },
    };
    match commands::run(command) {
        Ok(code) if code == ExitCode::SUCCESS => 0,
        Ok(_) => 1,
        Err(message) => {
            refresh::warn(&message);
            1
        }
    }
}

/// Help and version go to stdout as clap prints them; a usage mistake is one line on stderr,
/// like every other error, so nothing a shell might `eval` ever reaches stdout.
fn usage_error(error: clap::Error) -> std::ffi::c_int {
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => error.exit(),
        _ => {
            let text = error.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            refresh::warn(&format!("{} (see --help)", cli::redact_tokens(first)));
            2
        }
    }
}
