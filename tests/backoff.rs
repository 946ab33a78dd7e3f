//! After a failure, calls back off instead of hitting AWS again, until the user changes
//! something that could fix it (a login, the config, the exported keys).

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
