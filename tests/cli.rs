//! Every command's contract, with the real binary, a private HOME and static environment
//! credentials (minting needs no network). Shell output is run through the real shells.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use bedrock_env::token;
use serde_json::Value;
use support::{ACCESS_KEY_ID, Sandbox, require_tool, run, run_with_stdin};

const TOKEN_VAR: &str = "AWS_BEARER_TOKEN_BEDROCK";
const EXPIRATION_VAR: &str = "AWS_BEARER_TOKEN_BEDROCK_EXPIRATION";

/// Runs and asserts success; returns stdout.
fn ok(cmd: &mut Command) -> String {
    let (output, stdout, stderr) = run(cmd);
    assert!(
        output.status.success(),
        "{cmd:?} failed ({:?}): {stderr}",
        output.status
    );
    stdout
}

/// The error contract: non-zero, nothing on stdout, exactly one `bedrock-env:` line on stderr.
fn fails_with_one_line(cmd: &mut Command) -> String {
    let (output, stdout, stderr) = run(cmd);
    assert!(!output.status.success(), "{cmd:?} succeeded: {stdout}");
    assert_eq!(stdout, "", "{cmd:?}: stdout must be empty on error");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{cmd:?}: want one stderr line, got {stderr:?}"
    );
    assert!(lines[0].starts_with("bedrock-env: "), "{stderr:?}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    lines[0].to_owned()
}

fn mint(sandbox: &Sandbox) -> String {
    let stdout = ok(sandbox.env_creds_cmd().arg("token"));
    stdout.trim_end().to_owned()
}

fn parse_rfc3339_utc(text: &str) -> SystemTime {
    assert!(
        text.len() == 20 && text.ends_with('Z'),
        "not RFC 3339 UTC: {text:?}"
    );
    bedrock_env::clock::parse_rfc3339(text).unwrap_or_else(|| panic!("bad time {text:?}"))
}

fn assert_plausible_expiration(expiration: &str, token: &str) {
    let at = parse_rfc3339_utc(expiration);
    let info = token::decode(token).expect("decode token");
    assert_eq!(at, info.expires(), "expiration must be the token's own");
    assert!(at > SystemTime::now() + Duration::from_secs(11 * 3600));
}

#[test]
fn export_posix_formats_evaluate_in_real_shells() {
    let sandbox = Sandbox::new();
    for (format, shell) in [("sh", "sh"), ("bash", "bash"), ("zsh", "zsh")] {
        let shell = require_tool(shell);
        let script = ok(sandbox.env_creds_cmd().args(["export", "--format", format]));
        let output = Command::new(&shell)
            .arg("-c")
            .arg(format!(
                "eval \"$(cat)\"; printf '%s\\n%s' \"${TOKEN_VAR}\" \"${EXPIRATION_VAR}\""
            ))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(script.as_bytes())?;
                child.wait_with_output()
            })
            .expect("run shell");
        assert!(output.status.success(), "{format}: {script}");
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let (token, expiration) = text.split_once('\n').expect("two values");
        assert!(token.starts_with("bedrock-api-key-"), "{format}: {text}");
        assert_eq!(token, mint(&sandbox), "{format}: the cached token");
        assert_plausible_expiration(expiration, token);
    }
}

#[test]
fn export_sh_through_command_substitution() {
    // Exactly the documented usage: eval "$(bedrock-env export)".
    let sandbox = Sandbox::new();
    let sh = require_tool("sh");
    let mut shell = Command::new(sh);
    shell
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", sandbox.home())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", support::SECRET_ACCESS_KEY)
        .env("AWS_REGION", "us-west-2")
        .env("BIN", support::BIN)
        .args([
            "-c",
            "eval \"$(\"$BIN\" export)\"; printf %s \"$AWS_BEARER_TOKEN_BEDROCK\"",
        ]);
    let token = ok(&mut shell);
    assert_eq!(
        token::decode(&token).expect("decode").region,
        "us-west-2",
        "{token}"
    );
}

#[test]
fn export_fish_parses_and_sets_in_real_fish() {
    let sandbox = Sandbox::new();
    let fish = require_tool("fish");
    let script = ok(sandbox.env_creds_cmd().args(["export", "--format", "fish"]));
    let (output, text, stderr) = run_with_stdin(
        Command::new(fish).env("HOME", sandbox.home()).args([
            "--no-config",
            "-c",
            "cat | source; printf '%s\\n%s' $AWS_BEARER_TOKEN_BEDROCK $AWS_BEARER_TOKEN_BEDROCK_EXPIRATION",
        ]),
        &script,
    );
    assert!(output.status.success(), "{script}: {stderr}");
    let (token, expiration) = text.split_once('\n').expect("two values");
    assert_eq!(token, mint(&sandbox));
    assert_plausible_expiration(expiration, token);
}

#[test]
fn export_json_and_dotenv() {
    let sandbox = Sandbox::new();
    let json = ok(sandbox.env_creds_cmd().args(["export", "--format", "json"]));
    let value: Value = serde_json::from_str(&json).expect("json");
    let token = value["token"].as_str().expect("token");
    assert_eq!(token, mint(&sandbox));
    assert_plausible_expiration(value["expiration"].as_str().expect("expiration"), token);
    assert_eq!(value["region"], "us-east-1");
    assert!(value.get("profile").is_some(), "profile key: {json}");
    assert_eq!(value["profile"], Value::Null, "env credentials: no profile");

    let dotenv = ok(sandbox
        .env_creds_cmd()
        .args(["export", "--format", "dotenv"]));
    let pairs: Vec<(&str, &str)> = dotenv
        .lines()
        .map(|l| l.split_once('=').expect("NAME=value"))
        .collect();
    assert_eq!(pairs.len(), 2, "{dotenv}");
    assert_eq!(pairs[0], (TOKEN_VAR, token));
    assert_eq!(pairs[1].0, EXPIRATION_VAR);
    assert_plausible_expiration(pairs[1].1, token);
}

#[test]
fn token_prints_only_the_token_and_reuses_the_cache() {
    let sandbox = Sandbox::new();
    let (output, first, stderr) = run(sandbox.env_creds_cmd().arg("token"));
    assert!(output.status.success(), "{stderr}");
    assert!(
        first.ends_with('\n') && first.lines().count() == 1,
        "{first:?}"
    );
    let first = first.trim_end();
    assert!(first.starts_with("bedrock-api-key-"));
    assert!(!first.contains(char::is_whitespace));
    let issued = token::decode(first).expect("decode").issued;

    // Tokens are signed to the second: make sure a re-mint would differ.
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(mint(&sandbox), first, "second call must reuse the cache");

    let forced = ok(sandbox.env_creds_cmd().args(["token", "--force"]));
    let forced = forced.trim_end();
    assert_ne!(forced, first, "--force must mint a new token");
    assert!(token::decode(forced).expect("decode").issued > issued);
    assert_eq!(
        mint(&sandbox),
        forced,
        "the forced token replaces the cached one"
    );
}

#[test]
fn status_shows_everything_but_the_token() {
    let sandbox = Sandbox::new();
    let text = ok(sandbox.env_creds_cmd().arg("status"));
    assert!(text.contains("no cached tokens"), "{text}");

    let token = mint(&sandbox);
    let text = ok(sandbox.env_creds_cmd().arg("status"));
    assert!(!text.contains(&token), "status must never print the token");
    assert!(!text.contains("bedrock-api-key-"), "{text}");
    for want in [
        "env credentials",
        "us-east-1",
        ACCESS_KEY_ID,
        "issued",
        "expires",
        "minutes",
        "capped by the requested duration",
    ] {
        assert!(text.contains(want), "status lacks {want:?}: {text}");
    }

    let json = ok(sandbox.env_creds_cmd().args(["status", "--json"]));
    assert!(!json.contains(&token) && !json.contains("bedrock-api-key-"));
    let value: Value = serde_json::from_str(&json).expect("json");
    let records = value["records"].as_array().expect("records");
    assert_eq!(records.len(), 1, "{json}");
    let record = &records[0];
    assert_eq!(record["region"], "us-east-1");
    assert_eq!(record["profile"], Value::Null);
    assert_eq!(record["access_key_id"], ACCESS_KEY_ID);
    assert_eq!(record["capped_by"], "duration");
    let info = token::decode(&token).expect("decode");
    assert_eq!(
        parse_rfc3339_utc(record["issued"].as_str().expect("issued")),
        info.issued
    );
    assert_eq!(
        parse_rfc3339_utc(record["expires"].as_str().expect("expires")),
        info.expires()
    );
    let minutes = record["minutes_left"].as_u64().expect("minutes_left");
    assert!((718..=720).contains(&minutes), "{minutes}");
}

#[test]
fn status_shows_the_credentials_cap() {
    let sandbox = Sandbox::new();
    // Session credentials that end in about an hour cap the token at that time.
    let expiry = SystemTime::now() + Duration::from_secs(3600);
    let expiry = time::OffsetDateTime::from(expiry)
        .replace_nanosecond(0)
        .expect("whole seconds")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let json = ok(sandbox
        .env_creds_cmd()
        .env("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLE")
        .env("AWS_CREDENTIAL_EXPIRATION", &expiry)
        .args(["export", "--format", "json"]));
    let value: Value = serde_json::from_str(&json).expect("json");
    let info = token::decode(value["token"].as_str().expect("token")).expect("decode");
    assert!(info.has_session_token);
    // The token is only as good as the credentials that signed it.
    assert_eq!(
        value["expiration"].as_str(),
        Some(expiry.as_str()),
        "{json}"
    );
    let json = ok(sandbox.env_creds_cmd().args(["status", "--json"]));
    assert!(
        !json.contains("FwoGZXIvYXdzEXAMPLE"),
        "no session token in status"
    );
    let value: Value = serde_json::from_str(&json).expect("json");
    assert_eq!(value["records"][0]["capped_by"], "credentials", "{json}");
}

#[test]
fn inspect_reads_stdin_and_the_environment() {
    let sandbox = Sandbox::new();
    let token = mint(&sandbox);
    let (output, stdout, stderr) = run_with_stdin(
        sandbox.cmd().args(["inspect", "--json"]),
        &format!("{token}\n"),
    );
    assert!(output.status.success(), "{stderr}");
    assert!(!stdout.contains(&token), "inspect must not echo the token");
    let value: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(value["region"], "us-east-1");
    assert_eq!(value["access_key_id"], ACCESS_KEY_ID);
    assert_eq!(value["duration_seconds"], 43200);
    assert_eq!(value["expired"], false);
    assert_eq!(value["session_token"], false);

    let text = ok(sandbox
        .cmd()
        .env(TOKEN_VAR, &token)
        .arg("inspect")
        .stdin(Stdio::null()));
    assert!(
        text.contains("us-east-1") && text.contains(ACCESS_KEY_ID),
        "{text}"
    );
    assert!(!text.contains(&token));
}

#[test]
fn inspect_rejects_malformed_tokens_and_arguments() {
    let sandbox = Sandbox::new();
    for bad in [
        "garbage",
        "bedrock-api-key-!!!notbase64",
        "bedrock-api-key-aGVsbG8=",
    ] {
        let (output, stdout, stderr) = run_with_stdin(sandbox.cmd().arg("inspect"), bad);
        assert!(!output.status.success(), "{bad}");
        assert_eq!(stdout, "", "{bad}");
        assert_eq!(stderr.lines().count(), 1, "{bad}: {stderr}");
        assert!(stderr.starts_with("bedrock-env: "), "{stderr}");
    }
    fails_with_one_line(sandbox.cmd().env(TOKEN_VAR, "not-a-token").arg("inspect"));
    // Nothing at all: says where a token may come from.
    let line = fails_with_one_line(sandbox.cmd().arg("inspect").stdin(Stdio::null()));
    assert!(line.contains(TOKEN_VAR), "{line}");

    // Tokens never come from argv (they would end up in shell history and `ps`).
    // The usage error is one line and does not echo the secret back.
    let token = mint(&sandbox);
    let line = fails_with_one_line(sandbox.cmd().args(["inspect", &token]).stdin(Stdio::null()));
    assert!(!line.contains(&token[20..]), "the token was echoed: {line}");
    assert!(line.contains("<token>"), "{line}");
}

#[test]
fn usage_errors_are_one_line() {
    let sandbox = Sandbox::new();
    for args in [
        &["export", "--format", "xml"][..],
        &["frobnicate"][..],
        &["hook", "tcsh"][..],
        &["token", "--no-such-flag"][..],
    ] {
        let line = fails_with_one_line(sandbox.cmd().args(args));
        assert!(line.ends_with("(see --help)"), "{args:?}: {line}");
    }
}

#[test]
fn clear_one_and_all() {
    let sandbox = Sandbox::new();
    mint(&sandbox);
    ok(sandbox
        .env_creds_cmd()
        .args(["token", "--region", "eu-west-1"]));
    let records = |sandbox: &Sandbox| {
        std::fs::read_dir(sandbox.cache_dir())
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                    .count()
            })
            .unwrap_or(0)
    };
    assert_eq!(records(&sandbox), 2);

    let (output, stdout, stderr) = run(sandbox.env_creds_cmd().arg("clear"));
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("removed"), "{stderr}");
    assert_eq!(records(&sandbox), 1, "only the us-east-1 record goes");
    let json = ok(sandbox.env_creds_cmd().args(["status", "--json"]));
    let value: Value = serde_json::from_str(&json).expect("json");
    assert_eq!(value["records"][0]["region"], "eu-west-1", "{json}");

    let (_, _, stderr) = run(sandbox.env_creds_cmd().arg("clear"));
    assert!(stderr.contains("no cached token"), "{stderr}");

    ok(sandbox.env_creds_cmd().arg("token"));
    let (output, _, stderr) = run(sandbox.cmd().args(["clear", "--all"]));
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("removed 2"), "{stderr}");
    assert_eq!(records(&sandbox), 0);
    assert!(ok(sandbox.cmd().arg("status")).contains("no cached tokens"));
}

#[test]
fn exec_passes_the_exit_status_and_the_token() {
    let sandbox = Sandbox::new();
    let (output, stdout, stderr) = run(sandbox.env_creds_cmd().args([
        "exec",
        "--",
        "sh",
        "-c",
        "printf '%s\\n%s' \"$AWS_BEARER_TOKEN_BEDROCK\" \"$AWS_BEARER_TOKEN_BEDROCK_EXPIRATION\"; exit 7",
    ]));
    assert_eq!(output.status.code(), Some(7), "{stderr}");
    let (token, expiration) = stdout.split_once('\n').expect("two values");
    assert_eq!(token, mint(&sandbox));
    assert_plausible_expiration(expiration, token);

    // Flags after `--` belong to the command, not to us.
    let stdout = ok(sandbox.env_creds_cmd().args([
        "exec",
        "--",
        "sh",
        "-c",
        "echo \"$1\"",
        "sh",
        "--force",
    ]));
    assert_eq!(stdout, "--force\n");

    let line = fails_with_one_line(sandbox.env_creds_cmd().args([
        "exec",
        "--",
        "/nonexistent/bedrock-env-test-command",
    ]));
    assert!(line.contains("could not run"), "{line}");
}

#[test]
fn completions_parse_in_each_shell() {
    let sandbox = Sandbox::new();
    for (shell, check) in [
        ("bash", vec!["-n"]),
        ("zsh", vec!["-n"]),
        ("fish", vec!["--no-execute"]),
    ] {
        let tool = require_tool(shell);
        let script = ok(sandbox.cmd().args(["completions", shell]));
        assert!(script.contains("bedrock-env"), "{shell}");
        assert!(
            script.contains("export") && script.contains("doctor"),
            "{shell}"
        );
        let path = sandbox.home().join(format!("completion.{shell}"));
        std::fs::write(&path, &script).expect("write");
        let output = Command::new(tool)
            .args(&check)
            .arg(&path)
            .output()
            .expect("shell");
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "{shell}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn help_and_man() {
    let sandbox = Sandbox::new();
    let help = ok(sandbox.cmd().arg("--help"));
    assert!(help.contains("Examples:"), "{help}");
    assert!(help.contains("eval \"$(bedrock-env hook zsh)\""), "{help}");
    for command in [
        "export", "token", "exec", "status", "inspect", "clear", "hook", "doctor",
    ] {
        assert!(help.contains(command), "--help lacks {command}");
    }
    let export_help = ok(sandbox.cmd().args(["export", "--help"]));
    assert!(export_help.contains("Examples:"), "{export_help}");

    let man = ok(sandbox.cmd().arg("man"));
    assert!(man.contains(".TH bedrock-env 1"), "{man}");
    assert!(
        man.contains(".SH NAME") && man.contains(".SH SYNOPSIS"),
        "{man}"
    );
}

#[test]
fn errors_are_one_line_with_empty_stdout() {
    let sandbox = Sandbox::new();

    // No credentials anywhere (the default chain finds nothing; IMDS is disabled).
    let line = fails_with_one_line(sandbox.cmd().env("AWS_REGION", "us-east-1").arg("token"));
    assert!(line.contains("credentials"), "{line}");
    // An access key without its secret.
    let line = fails_with_one_line(
        sandbox
            .cmd()
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .arg("export"),
    );
    assert!(line.contains("AWS_SECRET_ACCESS_KEY"), "{line}");

    // No region.
    let line = fails_with_one_line(
        sandbox
            .env_creds_cmd()
            .env_remove("AWS_REGION")
            .arg("export"),
    );
    assert!(line.contains("region"), "{line}");

    for bad in ["13h", "0s", "abc", "12h1s", "-5m", ""] {
        let line = fails_with_one_line(
            sandbox
                .env_creds_cmd()
                .args(["token", &format!("--duration={bad}")]),
        );
        assert!(line.contains("duration"), "{bad:?}: {line}");
        // Through the environment as well as the flag.
        if !bad.is_empty() {
            fails_with_one_line(
                sandbox
                    .env_creds_cmd()
                    .env("BEDROCK_ENV_DURATION", bad)
                    .arg("export"),
            );
        }
    }
    for bad in ["13h", "abc", "1x"] {
        let line =
            fails_with_one_line(sandbox.env_creds_cmd().args(["export", "--threshold", bad]));
        assert!(line.contains("threshold"), "{bad:?}: {line}");
    }
    for bad in ["US_EAST_1", "us east 1", "../etc", "us-east-1;rm"] {
        let line = fails_with_one_line(sandbox.env_creds_cmd().args(["token", "--region", bad]));
        assert!(line.contains("region"), "{bad:?}: {line}");
    }
    // None of these left a record behind.
    let json = ok(sandbox.cmd().args(["status", "--json"]));
    let value: Value = serde_json::from_str(&json).expect("json");
    assert!(
        value["records"]
            .as_array()
            .expect("records")
            .iter()
            .all(|r| r["region"] == "us-east-1"),
        "{json}"
    );
}

#[test]
fn accepted_durations_set_x_amz_expires() {
    let sandbox = Sandbox::new();
    for (text, secs) in [
        ("90s", 90),
        ("3600s", 3600),
        ("15m", 900),
        ("1h", 3600),
        ("1h30m", 5400),
        ("12h", 43200),
    ] {
        let token =
            ok(sandbox
                .env_creds_cmd()
                .args(["token", "--duration", text, "--threshold", "0s"]));
        let (output, stdout, stderr) =
            run_with_stdin(sandbox.cmd().args(["inspect", "--json"]), &token);
        assert!(output.status.success(), "{text}: {stderr}");
        let value: Value = serde_json::from_str(&stdout).expect("json");
        assert_eq!(value["duration_seconds"], secs, "{text}");
    }
}

/// Region for `export --format json` with the given flag and environment.
fn exported_region(sandbox: &Sandbox, flag: Option<&str>, env: &[(&str, &str)]) -> String {
    let mut cmd = sandbox.env_creds_cmd();
    cmd.env_remove("AWS_REGION");
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.args(["export", "--format", "json"]);
    if let Some(region) = flag {
        cmd.args(["--region", region]);
    }
    let value: Value = serde_json::from_str(&ok(&mut cmd)).expect("json");
    let region = value["region"].as_str().expect("region").to_owned();
    let token = value["token"].as_str().expect("token");
    assert_eq!(
        token::decode(token).expect("decode").region,
        region,
        "the token is signed for the region it reports"
    );
    region
}

#[test]
fn region_precedence() {
    let sandbox = Sandbox::new();
    sandbox.aws_config("[default]\nregion = ap-south-1\n");
    let all = [
        ("BEDROCK_ENV_REGION", "eu-west-2"),
        ("AWS_REGION", "eu-west-3"),
        ("AWS_DEFAULT_REGION", "eu-north-1"),
    ];
    assert_eq!(
        exported_region(&sandbox, Some("eu-west-1"), &all),
        "eu-west-1"
    );
    assert_eq!(exported_region(&sandbox, None, &all), "eu-west-2");
    assert_eq!(exported_region(&sandbox, None, &all[1..]), "eu-west-3");
    assert_eq!(exported_region(&sandbox, None, &all[2..]), "eu-north-1");
    assert_eq!(exported_region(&sandbox, None, &[]), "ap-south-1");
    // Empty values count as unset.
    assert_eq!(
        exported_region(
            &sandbox,
            None,
            &[("AWS_REGION", ""), ("AWS_DEFAULT_REGION", "")]
        ),
        "ap-south-1"
    );
}

#[test]
fn profile_precedence_and_profile_region() {
    let sandbox = Sandbox::new();
    sandbox.aws_config(
        "[profile flag]\nregion = eu-west-1\n\
         [profile fromenv]\nregion = eu-west-2\n\
         [profile aws]\nregion = eu-west-3\n",
    );
    let credentials = sandbox.home().join(".aws").join("credentials");
    let mut text = String::new();
    for (name, id) in [
        ("flag", "AKIAFLAGEXAMPLE00001"),
        ("fromenv", "AKIAENVEXAMPLE000002"),
        ("aws", "AKIAAWSEXAMPLE000003"),
    ] {
        text.push_str(&format!(
            "[{name}]\naws_access_key_id = {id}\naws_secret_access_key = secret{name}\n"
        ));
    }
    std::fs::write(&credentials, text).expect("credentials");
    let export = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = sandbox.cmd();
        for (name, value) in env {
            cmd.env(name, value);
        }
        let value: Value =
            serde_json::from_str(&ok(cmd.args(["export", "--format", "json"]).args(args)))
                .expect("json");
        (
            value["profile"].as_str().unwrap_or_default().to_owned(),
            value["region"].as_str().unwrap_or_default().to_owned(),
            value["access_key_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    };
    let env = [("BEDROCK_ENV_PROFILE", "fromenv"), ("AWS_PROFILE", "aws")];
    assert_eq!(
        export(&["--profile", "flag"], &env),
        (
            "flag".into(),
            "eu-west-1".into(),
            "AKIAFLAGEXAMPLE00001".into()
        )
    );
    assert_eq!(
        export(&[], &env),
        (
            "fromenv".into(),
            "eu-west-2".into(),
            "AKIAENVEXAMPLE000002".into()
        )
    );
    assert_eq!(
        export(&[], &env[1..]),
        (
            "aws".into(),
            "eu-west-3".into(),
            "AKIAAWSEXAMPLE000003".into()
        )
    );
    // A region in the environment beats the profile's.
    assert_eq!(
        export(&[], &[("AWS_PROFILE", "aws"), ("AWS_REGION", "us-west-2")]).1,
        "us-west-2"
    );
}
