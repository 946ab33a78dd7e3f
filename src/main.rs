//! Dispatch only. The per-prompt path (a fresh cached token) returns before any async runtime
//! or aws-config set-up: those live behind `credentials::load`, reached only to mint.

use std::process::ExitCode;

use bedrock_env::{cli, commands, refresh};
use clap::Parser;
use clap::error::ErrorKind;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(message) => {
            refresh::warn(&message);
            ExitCode::FAILURE
        }
    }
}

/// Help and version go to stdout as clap prints them; a usage mistake is one line on stderr,
/// like every other error, so nothing a shell might `eval` ever reaches stdout.
fn usage_error(error: clap::Error) -> ExitCode {
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => error.exit(),
        _ => {
            let text = error.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            refresh::warn(&format!("{} (see --help)", redact_tokens(first)));
            ExitCode::from(2)
        }
    }
}

/// A token typed as an argument must not be echoed into a terminal log or CI output.
fn redact_tokens(text: &str) -> String {
    const PREFIX: &str = bedrock_env::token::TOKEN_PREFIX;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(PREFIX) {
        out.push_str(&rest[..at]);
        out.push_str("<token>");
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || "-+/=".contains(c)))
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}
