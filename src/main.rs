//! Dispatch only. The per-prompt path (a fresh cached token) returns before any async runtime
//! or aws-config set-up: those live behind `credentials::load`, reached only to mint.

use std::process::ExitCode;

use bedrock_env::{cli, commands, refresh};
use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(message) => {
            refresh::warn(&message);
            ExitCode::FAILURE
        }
    }
}
