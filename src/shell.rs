//! Per-shell rendering: assignments, quoting, and the embedded hook and direnv scripts.

use crate::cli::{ExportFormat, HookShell};

pub const TOKEN_VAR: &str = "AWS_BEARER_TOKEN_BEDROCK";
pub const EXPIRATION_VAR: &str = "AWS_BEARER_TOKEN_BEDROCK_EXPIRATION";
/// Shell-local state the hooks keep between prompts (never exported).
pub const EXPIRES_VAR: &str = "__BEDROCK_ENV_EXPIRES";
pub const CHECK_AT_VAR: &str = "__BEDROCK_ENV_CHECK_AT";
pub const ERROR_VAR: &str = "__BEDROCK_ENV_ERROR";

pub const HOOK_BASH: &str = include_str!("../shell/hook.bash");
pub const HOOK_ZSH: &str = include_str!("../shell/hook.zsh");
pub const HOOK_FISH: &str = include_str!("../shell/hook.fish");
pub const DIRENV_LIB: &str = include_str!("../shell/direnv.sh");

pub fn hook_script(shell: HookShell) -> &'static str {
    match shell {
        HookShell::Bash => HOOK_BASH,
        HookShell::Zsh => HOOK_ZSH,
        HookShell::Fish => HOOK_FISH,
    }
}

/// One line of shell code at a time, in the dialect of `shell`.
pub struct Script {
    fish: bool,
    out: String,
}

impl Script {
    pub fn new(fish: bool) -> Script {
        Script {
            fish,
            out: String::new(),
        }
    }

    pub fn for_hook(shell: HookShell) -> Script {
        Script::new(shell == HookShell::Fish)
    }

    pub fn export(&mut self, name: &str, value: &str) -> &mut Self {
        if self.fish {
            self.line(&format!("set -gx {name} {}", quote_fish(value)))
        } else {
            self.line(&format!("export {name}={}", quote_posix(value)))
        }
    }

    /// A global, unexported shell variable.
    pub fn set_global(&mut self, name: &str, value: &str) -> &mut Self {
        if self.fish {
            self.line(&format!("set -g {name} {}", quote_fish(value)))
        } else {
            self.line(&format!("{name}={}", quote_posix(value)))
        }
    }

    pub fn unset(&mut self, names: &[&str]) -> &mut Self {
        let names = names.join(" ");
        if self.fish {
            self.line(&format!("set -e {names}"))
        } else {
            self.line(&format!("unset {names}"))
        }
    }

    fn line(&mut self, line: &str) -> &mut Self {
        self.out.push_str(line);
        self.out.push_str(";\n");
        self
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// What an `export` prints, in any format.
pub struct Exported<'a> {
    pub token: &'a str,
    pub expiration: &'a str,
    pub expires_at: u64,
    pub region: &'a str,
    pub profile: Option<&'a str>,
    pub access_key_id: &'a str,
}

pub fn render_export(format: ExportFormat, exported: &Exported<'_>) -> String {
    match format {
        ExportFormat::Sh | ExportFormat::Bash | ExportFormat::Zsh | ExportFormat::Fish => {
            let mut script = Script::new(format == ExportFormat::Fish);
            script
                .export(TOKEN_VAR, exported.token)
                .export(EXPIRATION_VAR, exported.expiration);
            script.finish()
        }
        ExportFormat::Dotenv => format!(
            "{TOKEN_VAR}={}\n{EXPIRATION_VAR}={}\n",
            exported.token, exported.expiration
        ),
        ExportFormat::Json => {
            let value = serde_json::json!({
                "token": exported.token,
                "expiration": exported.expiration,
                "expires_at": exported.expires_at,
                "region": exported.region,
                "profile": exported.profile,
                "access_key_id": exported.access_key_id,
            });
            format!("{value}\n")
        }
    }
}

/// POSIX single quotes: everything literal, `'` written as `'\''`.
pub fn quote_posix(value: &str) -> String {
    if !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=@%,".contains(&b))
    {
        return value.to_owned();
    }
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// fish single quotes: only `\` and `'` are special inside.
pub fn quote_fish(value: &str) -> String {
    format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posix_quoting() {
        assert_eq!(quote_posix("abc+/="), "abc+/=");
        assert_eq!(quote_posix(""), "''");
        assert_eq!(quote_posix("it's $HOME"), r"'it'\''s $HOME'");
    }

    #[test]
    fn fish_quoting() {
        assert_eq!(quote_fish(r"a\b'c $x"), r"'a\\b\'c $x'");
    }
}
