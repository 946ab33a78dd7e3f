//! The refresh policy, seen through the real binary: after a failure, calls back off instead
//! of hitting AWS again until the user changes something that could fix it (a login, the
//! config, the exported keys); credentials that expire within the threshold are re-minted at
//! most once a minute, and the user is told once.

mod support;

use support::{Sandbox, run};

fn credential_process_profile(sandbox: &Sandbox, script_body: &str) -> std::path::PathBuf {
    let script = sandbox.home().join("creds.sh");
    std::fs::write(&script, script_body).expect("write script");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    sandbox.aws_config(&format!(
        "[profile cp]\nregion = us-east-1\ncredential_process = {}\n",
        script.display()
    ));
    script
}

fn calls(sandbox: &Sandbox) -> usize {
    std::fs::read_to_string(sandbox.home().join("calls"))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

const FAILING: &str = "#!/bin/sh\necho x >> \"$HOME/calls\"\necho 'login required' >&2\nexit 1\n";
const WORKING: &str = "#!/bin/sh\necho x >> \"$HOME/calls\"\nprintf '{\"Version\":1,\"AccessKeyId\":\"AKIAIOSFODNN7EXAMPLE\",\"SecretAccessKey\":\"s\"}\\n'\n";

#[test]
fn a_failure_is_not_retried_at_once_when_nothing_changed() {
    let sandbox = Sandbox::new();
    credential_process_profile(&sandbox, FAILING);
    let (first, stdout, _) = run(sandbox.cmd().args(["token", "--profile", "cp"]));
    assert!(!first.status.success());
    assert!(stdout.is_empty());
    assert_eq!(calls(&sandbox), 1);

    let (second, stdout, stderr) = run(sandbox.cmd().args(["token", "--profile", "cp"]));
    assert!(!second.status.success());
    assert!(stdout.is_empty());
    assert!(stderr.contains("next attempt in"), "{stderr}");
    assert_eq!(
        calls(&sandbox),
        1,
        "the credential source was called again while backing off"
    );

    // --force is the user saying "try now".
    let _ = run(sandbox.cmd().args(["token", "--profile", "cp", "--force"]));
    assert_eq!(calls(&sandbox), 2);
}

#[test]
fn fixing_the_credentials_lifts_the_backoff() {
    let sandbox = Sandbox::new();
    let script = credential_process_profile(&sandbox, FAILING);
    let (first, _, _) = run(sandbox.cmd().args(["token", "--profile", "cp"]));
    assert!(!first.status.success());

    // The fix: the config now points at a working credential source.
    std::fs::write(&script, WORKING).expect("rewrite script");
    let fixed = sandbox.home().join("creds-ok.sh");
    std::fs::rename(&script, &fixed).expect("rename");
    sandbox.aws_config(&format!(
        "[profile cp]\nregion = us-east-1\ncredential_process = {}\n",
        fixed.display()
    ));
    let (second, stdout, stderr) = run(sandbox.cmd().args(["token", "--profile", "cp"]));
    assert!(second.status.success(), "{stderr}");
    assert!(stdout.starts_with("bedrock-api-key-"), "{stdout}");
    assert_eq!(calls(&sandbox), 2);
}

#[test]
fn exporting_other_keys_lifts_the_backoff() {
    let sandbox = Sandbox::new();
    let env = |cmd: &mut std::process::Command, secret: Option<&str>| {
        cmd.env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_REGION", "us-east-1")
            .args(["token"]);
        if let Some(secret) = secret {
            cmd.env("AWS_SECRET_ACCESS_KEY", secret);
        }
    };
    let mut broken = sandbox.cmd();
    env(&mut broken, None);
    let (first, _, stderr) = run(&mut broken);
    assert!(!first.status.success());
    assert!(stderr.contains("AWS_SECRET_ACCESS_KEY"), "{stderr}");

    let mut fixed = sandbox.cmd();
    env(&mut fixed, Some("secret"));
    let (second, stdout, stderr) = run(&mut fixed);
    assert!(second.status.success(), "{stderr}");
    assert!(stdout.starts_with("bedrock-api-key-"));
}

/// A credential_process whose credentials expire in five minutes: below the 15-minute threshold.
const SHORT_LIVED: &str = "#!/bin/sh\necho x >> \"$HOME/calls\"\nprintf '{\"Version\":1,\"AccessKeyId\":\"ASIAIOSFODNN7EXAMPLE\",\"SecretAccessKey\":\"s\",\"SessionToken\":\"t\",\"Expiration\":\"%s\"}\\n' \"$(date -u -d '+5 minutes' +%Y-%m-%dT%H:%M:%SZ)\"\n";

#[test]
fn short_credentials_are_reminted_at_most_once_a_minute_and_said_once() {
    let sandbox = Sandbox::new();
    credential_process_profile(&sandbox, SHORT_LIVED);
    let token = |sandbox: &Sandbox| {
        let (output, stdout, stderr) = run(sandbox.cmd().args(["token", "--profile", "cp"]));
        assert!(output.status.success(), "{stderr}");
        (stdout, stderr)
    };

    let (first, stderr) = token(&sandbox);
    assert!(first.starts_with("bedrock-api-key-"));
    assert_eq!(stderr.lines().count(), 1, "one warning: {stderr}");
    assert!(stderr.contains("cannot outlive"), "{stderr}");
    assert_eq!(calls(&sandbox), 1);

    // Within the threshold from the start, yet not re-minted on every call, and not re-said.
    for _ in 0..3 {
        let (again, stderr) = token(&sandbox);
        assert_eq!(again, first);
        assert!(stderr.is_empty(), "said again: {stderr}");
    }
    assert_eq!(calls(&sandbox), 1);

    // A minute later (the record's last attempt moved back), one re-mint, still not re-said.
    let record_path = std::fs::read_dir(sandbox.cache_dir())
        .expect("cache dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("a record");
    let mut record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record_path).expect("read")).expect("json");
    let last = record["last_attempt_at"].as_u64().expect("last_attempt_at");
    record["last_attempt_at"] = serde_json::json!(last - 61);
    std::fs::write(&record_path, serde_json::to_vec(&record).expect("json")).expect("write");

    let (_, stderr) = token(&sandbox);
    assert!(stderr.is_empty(), "said again: {stderr}");
    assert_eq!(calls(&sandbox), 2, "one re-mint after a minute");
}

#[test]
fn a_shell_asking_during_the_backoff_is_not_told_again() {
    let sandbox = Sandbox::new();
    credential_process_profile(&sandbox, FAILING);
    let hook_env = |last_error: &str| {
        run(sandbox
            .cmd()
            .env("BEDROCK_ENV_PROFILE", "cp")
            .env("BEDROCK_ENV_LAST_ERROR", last_error)
            .args(["hook-env", "bash"]))
    };
    let (first, stdout, stderr) = hook_env("");
    assert!(first.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let fingerprint = stdout
        .lines()
        .find_map(|l| l.strip_prefix("__BEDROCK_ENV_ERROR="))
        .expect("the error fingerprint")
        .trim_end_matches(';')
        .to_owned();

    // Backing off now: the same error, repeated from the record, is not said again...
    let (_, _, stderr) = hook_env(&fingerprint);
    assert_eq!(stderr, "", "said again while backing off");
    assert_eq!(calls(&sandbox), 1);
    // ...but a shell that has not heard it yet is told, with the next attempt's time.
    let (_, _, stderr) = hook_env("");
    assert!(stderr.contains("next attempt in"), "{stderr}");
}
