//! Every generated script (`hook bash|zsh|fish`, `direnv`) passes the shells' own checks and
//! shellcheck, sources silently under strict options, installs once, and its pieces behave:
//! the hook function under `set -u`, and `bedrock_env_prompt` against `bedrock-env prompt`.

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::{Sandbox, require_tool, run};

/// `bedrock-env ARGS` output, saved in the sandbox.
fn generate(sandbox: &Sandbox, args: &[&str], file: &str) -> PathBuf {
    let (output, stdout, stderr) = run(sandbox.cmd().args(args));
    assert!(output.status.success(), "{args:?}: {stderr}");
    assert!(stderr.is_empty(), "{args:?} wrote to stderr: {stderr}");
    assert!(!stdout.is_empty(), "{args:?} printed nothing");
    let path = sandbox.home().join(file);
    std::fs::write(&path, stdout).expect("write script");
    path
}

/// Runs a tool and asserts it succeeds and prints nothing at all.
fn silent(what: &str, cmd: &mut Command) {
    let output = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.is_empty() && stderr.is_empty(),
        "{what}: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
}

/// A shell with the sandbox environment, env credentials, and the binary's directory on PATH.
fn shell(sandbox: &Sandbox, program: &str) -> Command {
    let mut cmd = Command::new(require_tool(program));
    let bin_dir = PathBuf::from(support::BIN)
        .parent()
        .expect("bin dir")
        .to_owned();
    cmd.env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("HOME", sandbox.home())
        .env("XDG_CONFIG_HOME", sandbox.home().join(".config"))
        .env("XDG_DATA_HOME", sandbox.home().join(".local/share"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", support::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", support::SECRET_ACCESS_KEY)
        .env("AWS_REGION", "us-east-1")
        .current_dir(sandbox.home());
    cmd
}

/// Runs `script` in `program` and returns stdout; fails on a non-zero exit or any stderr.
fn clean_output(cmd: &mut Command) -> String {
    let output = cmd.output().expect("run shell");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.is_empty(),
        "{}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    stdout
}

#[test]
fn bash_hook_passes_shellcheck_and_bash_n() {
    let sandbox = Sandbox::new();
    let hook = generate(&sandbox, &["hook", "bash"], "hook.bash");
    silent(
        "shellcheck",
        Command::new(require_tool("shellcheck"))
            .args(["--enable=all", "--shell=bash"])
            .arg(&hook),
    );
    silent(
        "bash -n",
        Command::new(require_tool("bash")).arg("-n").arg(&hook),
    );
}

#[test]
fn direnv_library_passes_shellcheck_and_bash_n() {
    let sandbox = Sandbox::new();
    let lib = generate(&sandbox, &["direnv"], "bedrock.sh");
    silent(
        "shellcheck",
        Command::new(require_tool("shellcheck"))
            .args(["--enable=all", "--shell=bash"])
            .arg(&lib),
    );
    silent(
        "bash -n",
        Command::new(require_tool("bash")).arg("-n").arg(&lib),
    );
    // Sourcing only defines functions: nothing printed, nothing failing under strict options.
    let text = format!(
        "set -euo pipefail\nsource {}\ndeclare -F use_bedrock >/dev/null\n",
        lib.display()
    );
    silent(
        "bash -euo pipefail",
        shell(&sandbox, "bash").arg("-c").arg(text),
    );
}

#[test]
fn zsh_hook_passes_zsh_n() {
    let sandbox = Sandbox::new();
    let hook = generate(&sandbox, &["hook", "zsh"], "hook.zsh");
    silent(
        "zsh -n",
        Command::new(require_tool("zsh")).arg("-n").arg(&hook),
    );
}

#[test]
fn fish_hook_passes_no_execute_and_fish_indent() {
    let sandbox = Sandbox::new();
    let hook = generate(&sandbox, &["hook", "fish"], "hook.fish");
    silent(
        "fish --no-execute",
        Command::new(require_tool("fish"))
            .arg("--no-execute")
            .arg(&hook),
    );
    // Formatted as fish_indent formats it.
    let output = Command::new(require_tool("fish_indent"))
        .stdin(std::fs::File::open(&hook).expect("open hook"))
        .output()
        .expect("fish_indent");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        std::fs::read_to_string(&hook).expect("read hook"),
        "fish_indent would reformat the fish hook"
    );
}

/// Sourced twice under `set -euo pipefail`, then the hook and the prompt function are called:
/// nothing is printed but what is asked for, the hook is installed once, prepended, and a token
/// is set.
#[test]
fn bash_hook_is_strict_mode_safe_and_installs_once() {
    let sandbox = Sandbox::new();
    let hook = generate(&sandbox, &["hook", "bash"], "hook.bash");
    let script = format!(
        r#"set -euo pipefail
PROMPT_COMMAND=(user_hook)
source {hook}
source {hook}
declare -p PROMPT_COMMAND
unset PROMPT_COMMAND
PROMPT_COMMAND='user_string_hook'
source {hook}
declare -p PROMPT_COMMAND
false || __bedrock_env_hook || echo "status kept: $?"
echo "hook=$BEDROCK_ENV_HOOK token=${{AWS_BEARER_TOKEN_BEDROCK:0:16}}"
"#,
        hook = hook.display()
    );
    let out = clean_output(shell(&sandbox, "bash").arg("-c").arg(script));
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            r#"declare -a PROMPT_COMMAND=([0]="__bedrock_env_hook" [1]="user_hook")"#,
            r#"declare -- PROMPT_COMMAND="__bedrock_env_hook;user_string_hook""#,
            "status kept: 1",
            "hook=bash token=bedrock-api-key-",
        ],
        "{out}"
    );
}

#[test]
fn zsh_hook_is_strict_mode_safe_and_installs_once() {
    let sandbox = Sandbox::new();
    let hook = generate(&sandbox, &["hook", "zsh"], "hook.zsh");
    let script = format!(
        r#"set -eu
precmd_functions=(user_hook)
source {hook}
source {hook}
print -r -- "precmd: $precmd_functions"
false || __bedrock_env_hook || echo "status kept: $?"
echo "hook=$BEDROCK_ENV_HOOK token=${{AWS_BEARER_TOKEN_BEDROCK:0:16}}"
"#,
        hook = hook.display()
    );
    let out = clean_output(shell(&sandbox, "zsh").args(["-f", "-c"]).arg(script));
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "precmd: __bedrock_env_hook user_hook",
            "status kept: 1",
            "hook=zsh token=bedrock-api-key-",
        ],
        "{out}"
    );
}

#[test]
fn fish_hook_sources_silently_and_keeps_status() {
    let sandbox = Sandbox::new();
    let hook = generate(&sandbox, &["hook", "fish"], "hook.fish");
    let script = format!(
        r#"source {hook}
source {hook}
false; or __bedrock_env_hook; or echo "status kept: $status"
echo "hook=$BEDROCK_ENV_HOOK token="(string sub -l 16 -- $AWS_BEARER_TOKEN_BEDROCK)
echo "handlers="(count (functions --handlers-type generic | string match 'fish_prompt __bedrock_env_hook'))
"#,
        hook = hook.display()
    );
    let out = clean_output(
        shell(&sandbox, "fish")
            .args(["--no-config", "-c"])
            .arg(script),
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "status kept: 1",
            "hook=fish token=bedrock-api-key-",
            "handlers=1"
        ],
        "{out}"
    );
}

/// `bedrock_env_prompt` in each shell prints what `bedrock-env prompt` prints, for the same
/// expiry, in each format, at each size of duration, and for expired and absent tokens.
#[test]
fn prompt_function_matches_the_binary_in_every_shell() {
    let sandbox = Sandbox::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    // Offsets chosen away from unit boundaries, so a second passing changes nothing.
    let cases: [(i64, &[&str], &str); 8] = [
        (3 * 3600 + 5 * 60 + 30, &[], "3h05m"),
        (2 * 3600 + 30, &[], "2h"),
        (42 * 60 + 30, &[], "42m"),
        (42 * 60 + 30, &["--format", "minutes"], "42"),
        (-100, &[], "expired"),
        (-100, &["--expired", "gone!"], "gone!"),
        (3 * 3600 + 5 * 60 + 30, &["--format", "minutes"], "185"),
        (5 * 60 + 30, &["-f", "compact"], "5m"),
    ];
    let hooks = [
        ("bash", generate(&sandbox, &["hook", "bash"], "hook.bash")),
        ("zsh", generate(&sandbox, &["hook", "zsh"], "hook.zsh")),
        ("fish", generate(&sandbox, &["hook", "fish"], "hook.fish")),
    ];
    for (offset, args, expected) in cases {
        let expires = now.saturating_add_signed(offset);
        let rfc3339 = time::OffsetDateTime::from_unix_timestamp(expires as i64)
            .expect("time")
            .format(&time::format_description::well_known::Rfc3339)
            .expect("format");
        let (output, binary, stderr) = run(sandbox
            .cmd()
            .arg("prompt")
            .args(args)
            .env("AWS_BEARER_TOKEN_BEDROCK", "x")
            .env("AWS_BEARER_TOKEN_BEDROCK_EXPIRATION", &rfc3339));
        assert!(output.status.success(), "{stderr}");
        assert_eq!(
            binary,
            format!("{expected}\n"),
            "bedrock-env prompt {args:?}"
        );
        for (name, hook) in &hooks {
            let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
            let script = match *name {
                "fish" => format!(
                    "source {}; set -g __BEDROCK_ENV_EXPIRES {expires}; bedrock_env_prompt {}",
                    hook.display(),
                    quoted.join(" ")
                ),
                _ => format!(
                    "set -eu; source {}; __BEDROCK_ENV_EXPIRES={expires}; bedrock_env_prompt {}",
                    hook.display(),
                    quoted.join(" ")
                ),
            };
            let mut cmd = shell(&sandbox, name);
            if *name != "bash" {
                cmd.arg(if *name == "zsh" { "-f" } else { "--no-config" });
            }
            let out = clean_output(
                cmd.arg("-c")
                    .arg(script)
                    .env("AWS_BEARER_TOKEN_BEDROCK", "x")
                    .env("AWS_BEARER_TOKEN_BEDROCK_EXPIRATION", &rfc3339),
            );
            assert_eq!(out, binary, "{name}: bedrock_env_prompt {args:?}");
        }
    }
    // No token: nothing, from both.
    for (name, hook) in &hooks {
        let script = format!("source {}; bedrock_env_prompt", hook.display());
        let mut cmd = shell(&sandbox, name);
        if *name == "zsh" {
            cmd.arg("-f");
        }
        assert_eq!(clean_output(cmd.arg("-c").arg(script)), "", "{name}");
    }
    let (_, binary, _) = run(sandbox.cmd().arg("prompt"));
    assert_eq!(binary, "");
}

/// The protocol the hooks rely on: assignments only, exit 0 even on failure, the error said
/// once per fingerprint.
#[test]
fn hook_env_reports_a_failure_once_per_fingerprint() {
    let sandbox = Sandbox::new();
    for shell in ["bash", "zsh", "fish"] {
        let (output, stdout, stderr) = run(sandbox
            .env_creds_cmd()
            .args(["hook-env", shell])
            .env("BEDROCK_ENV_DURATION", "13h"));
        assert!(output.status.success(), "hook-env must always exit 0");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(stderr.starts_with("bedrock-env: "), "{stderr}");
        let fingerprint = stdout
            .lines()
            .find_map(|l| {
                l.trim_end_matches(';')
                    .strip_prefix("__BEDROCK_ENV_ERROR=")
                    .or_else(|| {
                        l.trim_end_matches(';')
                            .strip_prefix("set -g __BEDROCK_ENV_ERROR ")
                    })
            })
            .unwrap_or_else(|| panic!("no fingerprint in {stdout}"))
            .trim_matches('\'')
            .to_owned();
        assert!(!stdout.contains("AWS_BEARER_TOKEN_BEDROCK="), "{stdout}");
        let (output, again, stderr) = run(sandbox
            .env_creds_cmd()
            .args(["hook-env", shell])
            .env("BEDROCK_ENV_DURATION", "13h")
            .env("BEDROCK_ENV_LAST_ERROR", &fingerprint));
        assert!(output.status.success());
        assert_eq!(stderr, "", "said twice");
        assert_eq!(again, stdout);
    }
}

/// `hook-env` reads BEDROCK_ENV_* (the hooks pass no flags).
#[test]
fn hook_env_honours_bedrock_env_variables() {
    let sandbox = Sandbox::new();
    let (output, stdout, stderr) = run(sandbox
        .env_creds_cmd()
        .args(["hook-env", "bash"])
        .env("BEDROCK_ENV_REGION", "eu-central-1")
        .env("BEDROCK_ENV_DURATION", "30m"));
    assert!(output.status.success() && stderr.is_empty(), "{stderr}");
    let token = stdout
        .lines()
        .find_map(|l| l.strip_prefix("export AWS_BEARER_TOKEN_BEDROCK="))
        .expect("a token")
        .trim_end_matches(';');
    let info = bedrock_env::token::decode(token).expect("decodes");
    assert_eq!(info.region, "eu-central-1");
    assert_eq!(info.expires_in.as_secs(), 30 * 60);
}

#[test]
fn unknown_shell_is_one_clear_error() {
    let sandbox = Sandbox::new();
    let (output, stdout, stderr) = run(sandbox.cmd().args(["hook", "tcsh"]));
    assert!(!output.status.success());
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("tcsh"), "{stderr}");
}
