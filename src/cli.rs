//! Every command, flag, environment variable, default and help text, in one place.

use std::ffi::OsString;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  eval \"$(bedrock-env hook zsh)\"            # in ~/.zshrc: a fresh token at every prompt
  bedrock-env hook fish | source            # in ~/.config/fish/config.fish
  eval \"$(bedrock-env export)\"              # one-off: export a token into this shell
  bedrock-env exec --profile dev -- claude  # run a tool with a fresh token
  bedrock-env status                        # cached tokens and minutes left (never the token)
  bedrock-env direnv > ~/.config/direnv/lib/bedrock.sh   # then `use bedrock` in .envrc";

#[derive(Debug, Parser)]
#[command(
    name = "bedrock-env",
    version,
    about = "Keeps a fresh Amazon Bedrock API key (AWS_BEARER_TOKEN_BEDROCK) in every shell",
    long_about = "Mints Amazon Bedrock short-term API keys from any AWS credential source, keeps \
them in a private file-locked cache shared by all shells, and re-mints only when the cached one \
is within a threshold of expiry.",
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Which token is wanted. Flags beat `BEDROCK_ENV_*`, which beat the AWS variables.
#[derive(Debug, Clone, Default, Args)]
pub struct TargetArgs {
    /// AWS profile to sign with [default: AWS_PROFILE, else the default credential chain]
    #[arg(long, env = "BEDROCK_ENV_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// Region the token is for [default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region]
    #[arg(long, env = "BEDROCK_ENV_REGION", value_name = "REGION")]
    pub region: Option<String>,
    /// Token lifetime, 1s to 12h (e.g. 90s, 15m, 1h30m) [default: 12h]
    #[arg(long, env = "BEDROCK_ENV_DURATION", value_name = "DURATION")]
    pub duration: Option<String>,
    /// Re-mint when less than this is left [default: 15m]
    #[arg(long, env = "BEDROCK_ENV_THRESHOLD", value_name = "DURATION")]
    pub threshold: Option<String>,
}

impl TargetArgs {
    /// What clap reads when no target flag is given: the `BEDROCK_ENV_*` variables, with empty
    /// values treated as unset (as clap treats them).
    pub fn from_env() -> TargetArgs {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        TargetArgs {
            profile: var("BEDROCK_ENV_PROFILE"),
            region: var("BEDROCK_ENV_REGION"),
            duration: var("BEDROCK_ENV_DURATION"),
            threshold: var("BEDROCK_ENV_THRESHOLD"),
        }
    }
}

#[derive(Debug, Clone, Default, Args)]
pub struct MintArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Mint a new token even if the cached one is fresh
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Sh,
    Bash,
    Zsh,
    Fish,
    Json,
    Dotenv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HookShell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PromptFormat {
    /// `42m`, `1h05m`, `45s`
    Compact,
    /// Whole minutes left, e.g. `42`
    Minutes,
    /// Seconds left, e.g. `2520`
    Seconds,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print shell code that exports AWS_BEARER_TOKEN_BEDROCK and its expiry
    #[command(
        after_help = "Examples:\n  eval \"$(bedrock-env export)\"\n  bedrock-env export --format fish | source\n  bedrock-env export --format json --region us-west-2"
    )]
    Export {
        #[command(flatten)]
        mint: MintArgs,
        /// Output format
        #[arg(long, short, value_enum, default_value = "sh")]
        format: ExportFormat,
    },
    /// Print only the token and a newline (for tools that run a command to get a key)
    Token {
        #[command(flatten)]
        mint: MintArgs,
    },
    /// Run a command with a fresh token in its environment; its exit status is passed through
    #[command(after_help = "Example:\n  bedrock-env exec --region us-west-2 -- claude")]
    Exec {
        #[command(flatten)]
        mint: MintArgs,
        /// The command and its arguments
        #[arg(
            required = true,
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "CMD"
        )]
        command: Vec<OsString>,
    },
    /// Show cached tokens: profile, region, key id, issued, expires, minutes left (never a token)
    Status {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Decode the token in $AWS_BEARER_TOKEN_BEDROCK or on stdin (never taken from arguments)
    Inspect {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Remove the cached token for the target, or all of them
    Clear {
        #[command(flatten)]
        target: TargetArgs,
        /// Remove every cached token
        #[arg(long)]
        all: bool,
    },
    /// Print the prompt hook for a shell: eval "$(bedrock-env hook zsh)"
    Hook {
        #[arg(value_enum)]
        shell: HookShell,
    },
    /// Print a direnv library defining `use bedrock` (save it in ~/.config/direnv/lib/)
    Direnv,
    /// Print the time left on the token this shell holds (from the environment; never mints)
    Prompt {
        #[arg(long, short, value_enum, default_value = "compact")]
        format: PromptFormat,
        /// What to print once the token has expired
        #[arg(long, default_value = "expired", value_name = "TEXT")]
        expired: String,
    },
    /// Check the setup and name the fix for each problem: hook, region, credentials, cache,
    /// clock, the token in this shell; with --live, one real Bedrock call
    #[command(
        after_help = "Examples:\n  bedrock-env doctor\n  bedrock-env doctor --profile dev\n  bedrock-env doctor --live --model us.anthropic.claude-3-5-haiku-20241022-v1:0\n\nExit status: 0 when no check fails (warnings allowed), 1 otherwise."
    )]
    Doctor {
        #[command(flatten)]
        target: TargetArgs,
        /// Also call Bedrock (Converse, "Say hi") with the token and compare clocks
        #[arg(long)]
        live: bool,
        /// Model for --live (endpoint override: AWS_ENDPOINT_URL_BEDROCK_RUNTIME)
        #[arg(
            long,
            value_name = "MODEL_ID",
            default_value = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
        )]
        model: String,
    },
    /// Print shell completions
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): bedrock-env man > ~/.local/share/man/man1/bedrock-env.1
    Man,
    /// Print the cache record path for the target (direnv watches it)
    #[command(hide = true)]
    CachePath {
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Used by the prompt hooks: shell code for this prompt, from the cache when fresh
    #[command(hide = true)]
    HookEnv {
        #[arg(value_enum)]
        shell: HookShell,
    },
    /// Used by the prompt hooks: refresh in the background if nobody else is
    #[command(hide = true)]
    BackgroundRefresh {
        #[command(flatten)]
        target: TargetArgs,
    },
}

/// The few argument lists a prompt, direnv or a key command runs thousands of times a day,
/// recognised without building clap's whole command tree (a fifth of a cached `export`).
/// Anything else, including every flag not listed here, goes through clap.
pub fn parse_hot_path(args: &[String]) -> Option<Command> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let mint = || MintArgs {
        target: TargetArgs::from_env(),
        force: false,
    };
    let export_format = |name: &str| ExportFormat::from_str(name, false).ok();
    let prompt = |format: PromptFormat| Command::Prompt {
        format,
        expired: "expired".to_owned(),
    };
    match words.as_slice() {
        ["export"] => Some(Command::Export {
            mint: mint(),
            format: ExportFormat::Sh,
        }),
        ["export", "--format" | "-f", format] => Some(Command::Export {
            mint: mint(),
            format: export_format(format)?,
        }),
        ["token"] => Some(Command::Token { mint: mint() }),
        ["hook-env", shell] => Some(Command::HookEnv {
            shell: HookShell::from_str(shell, false).ok()?,
        }),
        ["prompt"] => Some(prompt(PromptFormat::Compact)),
        ["prompt", "--format" | "-f", format] => {
            Some(prompt(PromptFormat::from_str(format, false).ok()?))
        }
        _ => None,
    }
}

/// A token typed as an argument must not be echoed into a terminal log or CI output.
pub fn redact_tokens(text: &str) -> String {
    const PREFIX: &str = crate::token::TOKEN_PREFIX;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn hot_path_matches_clap() {
        for line in [
            "export",
            "export --format fish",
            "export -f json",
            "token",
            "hook-env zsh",
            "prompt",
            "prompt --format minutes",
        ] {
            let fast = parse_hot_path(&words(line)).expect(line);
            let mut argv = vec!["bedrock-env".to_owned()];
            argv.extend(words(line));
            let slow = Cli::try_parse_from(argv).expect(line).command;
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{line}");
        }
    }

    #[test]
    fn hot_path_leaves_everything_else_to_clap() {
        for line in [
            "",
            "export --force",
            "export --format xml",
            "export --region us-east-1",
            "token --profile dev",
            "hook-env tcsh",
            "prompt --expired gone",
            "status",
        ] {
            assert!(parse_hot_path(&words(line)).is_none(), "{line}");
        }
    }

    #[test]
    fn tokens_are_redacted() {
        assert_eq!(
            redact_tokens("unexpected argument 'bedrock-api-key-YWJj+/=' found"),
            "unexpected argument '<token>' found"
        );
        assert_eq!(redact_tokens("nothing secret"), "nothing secret");
    }
}
