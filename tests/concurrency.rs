//! Many processes wanting a token at once (tmux panes, a burst of new shells) mint exactly
//! once: the cache lock is taken, the record re-read inside it, and everyone else waits and
//! then reads what the first one wrote. The credential source is a real credential_process
//! that counts its calls and sleeps to widen the race.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Stdio};
use std::time::Instant;

use support::{Sandbox, run};

const PROCESSES: usize = 16;

/// A `cp` profile whose credential_process appends a line to `counter` per call, sleeps half
/// a second, and returns a session token numbered by the call, so each mint signs differently.
fn counting_profile(sandbox: &Sandbox) -> std::path::PathBuf {
    let counter = sandbox.home().join("calls");
    let script = sandbox.home().join("creds.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             echo call >> '{counter}'\n\
             n=$(wc -l < '{counter}' | tr -d ' ')\n\
             sleep 0.5\n\
             printf '{{\"Version\": 1, \"AccessKeyId\": \"ASIACONCURRENT000001\", \
             \"SecretAccessKey\": \"secret\", \"SessionToken\": \"session-%s\"}}\\n' \"$n\"\n",
            counter = counter.display()
        ),
    )
    .expect("write script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    sandbox.aws_config(&format!(
        "[profile cp]\nregion = us-east-1\ncredential_process = {}\n",
        script.display()
    ));
    counter
}

fn calls(counter: &std::path::Path) -> usize {
    std::fs::read_to_string(counter)
        .map(|text| text.lines().count())
        .unwrap_or(0)
}

/// Starts all the processes before waiting for any; returns each one's token.
fn burst(sandbox: &Sandbox) -> Vec<String> {
    let started = Instant::now();
    let children: Vec<Child> = (0..PROCESSES)
        .map(|_| {
            sandbox
                .cmd()
                .args(["token", "--profile", "cp"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn bedrock-env")
        })
        .collect();
    let tokens: Vec<String> = children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().expect("wait");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "a process failed: {stderr}");
            assert!(stderr.is_empty(), "no warnings expected: {stderr}");
            let stdout = String::from_utf8(output.stdout).expect("utf8");
            let token = stdout.trim_end().to_owned();
            assert!(token.starts_with("bedrock-api-key-"), "{stdout}");
            token
        })
        .collect();
    println!(
        "{PROCESSES} concurrent `token` processes finished in {:?}",
        started.elapsed()
    );
    tokens
}

fn assert_all_same(tokens: &[String]) {
    assert_eq!(tokens.len(), PROCESSES);
    assert!(
        tokens.iter().all(|t| *t == tokens[0]),
        "every process printed the same token"
    );
}

#[test]
fn a_burst_of_processes_mints_once_and_again_after_clear() {
    let sandbox = Sandbox::new();
    let counter = counting_profile(&sandbox);

    let first = burst(&sandbox);
    assert_all_same(&first);
    assert_eq!(calls(&counter), 1, "exactly one credential_process call");

    // Served from the cache: no further call.
    let again = burst(&sandbox);
    assert_eq!(again, first);
    assert_eq!(
        calls(&counter),
        1,
        "a fresh cached token needs no credentials"
    );

    let (output, _, stderr) = run(sandbox.cmd().args(["clear", "--profile", "cp"]));
    assert!(output.status.success(), "clear failed: {stderr}");

    let second = burst(&sandbox);
    assert_all_same(&second);
    assert_eq!(calls(&counter), 2, "one more call after clear");
    assert_ne!(
        second[0], first[0],
        "a new token, signed with the new session"
    );
}
