//! The prompt hooks in real interactive bash, zsh and fish, driven through a pseudo-terminal
//! (tmux). Each test has its own HOME, rc files, cache and tmux server; the binary is the real
//! one, minting from fake static credentials (presigning needs no network).

#[path = "support/shells.rs"]
mod shells;
mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bedrock_env::target::Request;
use bedrock_env::token::{self};
use shells::{PATIENCE, Shell, Term, base_env, hook_env_calls, install_binary, write_rc};
use support::Sandbox;

/// One test per shell for each scenario.
macro_rules! in_each_shell {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[test]
            fn bash() {
                super::$scenario(super::Shell::Bash)
            }
            #[test]
            fn zsh() {
                super::$scenario(super::Shell::Zsh)
            }
            #[test]
            fn fish() {
                super::$scenario(super::Shell::Fish)
            }
        }
    )*};
}

in_each_shell!(
    basics,
    failure_is_reported_once,
    expired_token_is_replaced,
    refresh_happens_in_the_background,
    missing_binary_is_quiet,
);

fn region(token: &str) -> String {
    token::decode(token)
        .unwrap_or_else(|e| panic!("not a token ({e}): {token:?}"))
        .region
}

fn issued(token: &str) -> u64 {
    token::decode(token)
        .expect("a token")
        .issued
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

struct Setup {
    sandbox: Sandbox,
    env: Vec<(String, String)>,
}

impl Setup {
    fn new(extra: &[(&str, &str)]) -> Setup {
        let sandbox = Sandbox::new();
        install_binary(sandbox.home());
        let mut env = base_env(&sandbox);
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        Setup { sandbox, env }
    }

    fn start(&self, shell: Shell, before: &str) -> Term {
        let argv = write_rc(self.sandbox.home(), shell, before, "");
        Term::start(self.sandbox.home(), shell, &argv, &self.env)
    }

    fn getenv(&self) -> impl Fn(&str) -> Option<String> + '_ {
        |name| {
            self.env
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }
}

/// Fails with the screen if the hook said anything at all.
fn assert_quiet(term: &Term) {
    let screen = term.screen();
    for noise in ["bedrock-env:", "not found", "No such file", "rror"] {
        assert!(
            !screen.contains(noise),
            "{} printed {noise:?}:\n{screen}",
            term.shell.name()
        );
    }
}

/// A token after the first prompt; `$?` kept for the user and for hooks that run after ours;
/// no process per prompt while fresh (bash, zsh); target switches take effect at the next
/// prompt; the in-shell prompt function agrees with `bedrock-env prompt`.
fn basics(shell: Shell) {
    let setup = Setup::new(&[]);
    // Installed before ours, so it runs after ours: it must still see the user's `$?`.
    let later_hook = match shell {
        Shell::Bash => "PROMPT_COMMAND='__test_saved=$?'",
        Shell::Zsh => "__test_save() { __test_saved=$? }; precmd_functions+=(__test_save)",
        Shell::Fish => "",
    };
    let term = setup.start(shell, later_hook);
    let home = setup.sandbox.home();

    let first = term.token();
    assert_eq!(region(&first), "us-east-1");
    assert_eq!(
        term.run("printenv BEDROCK_ENV_HOOK").trim(),
        shell.name(),
        "BEDROCK_ENV_HOOK"
    );

    term.send("false");
    let status = match shell {
        Shell::Fish => term.run("echo \"R:$status\""),
        _ => term.run("echo \"R:$? S:$__test_saved\""),
    };
    let expected = match shell {
        Shell::Fish => "R:1",
        _ => "R:1 S:1",
    };
    assert_eq!(status.trim(), expected, "exit status after the hook");

    let calls = hook_env_calls(home);
    term.prompts(5);
    let after = hook_env_calls(home);
    match shell {
        // Fresh token, same target: decided from shell variables, no process at all.
        Shell::Bash | Shell::Zsh => assert_eq!(after, calls, "hook-env ran while fresh"),
        // fish has no clock without a process: the binary runs at each prompt.
        Shell::Fish => assert!(after >= calls + 5, "{calls} -> {after}"),
    }

    term.run(&shell.export("AWS_REGION", "eu-west-1"));
    let switched = term.token();
    assert_eq!(region(&switched), "eu-west-1", "after changing AWS_REGION");
    term.run(&shell.export("BEDROCK_ENV_REGION", "ap-south-1"));
    assert_eq!(
        region(&term.token()),
        "ap-south-1",
        "after BEDROCK_ENV_REGION"
    );
    // Back to the first target: the cached token, not a new one.
    term.run(match shell {
        Shell::Fish => "set -e BEDROCK_ENV_REGION; set -gx AWS_REGION us-east-1",
        _ => "unset BEDROCK_ENV_REGION; export AWS_REGION=us-east-1",
    });
    assert_eq!(
        term.token(),
        first,
        "switching back reuses the cached token"
    );

    // The shell function and the binary print the same (retried across a minute boundary).
    let agree = (0..3).any(|_| {
        let function = term.run("bedrock_env_prompt");
        let binary = term.run("bedrock-env prompt");
        assert!(
            function.ends_with("m\n") || function.ends_with("h\n"),
            "compact: {function:?}"
        );
        let minutes = term.run("bedrock_env_prompt --format minutes");
        let binary_minutes = term.run("bedrock-env prompt --format minutes");
        assert!(minutes.trim().parse::<u32>().is_ok(), "{minutes:?}");
        function == binary && minutes == binary_minutes
    });
    assert!(agree, "bedrock_env_prompt and bedrock-env prompt disagree");
    assert_quiet(&term);
}

fn count(term: &Term, text: &str) -> usize {
    term.screen().matches(text).count()
}

/// A failing target prints its error once, not at every prompt, and again only when it is a
/// different error after a success.
fn failure_is_reported_once(shell: Shell) {
    let setup = Setup::new(&[("BEDROCK_ENV_DURATION", "13h")]);
    let term = setup.start(shell, "");
    let error = "out of range";
    term.wait_for("the error", |screen| screen.contains(error));
    term.prompts(3);
    assert_eq!(count(&term, error), 1, "{}", term.screen());
    // Another target with the same error: still said once.
    term.run(&shell.export("BEDROCK_ENV_THRESHOLD", "5m"));
    term.prompts(2);
    assert_eq!(count(&term, error), 1, "{}", term.screen());
    assert_eq!(term.token(), "", "no token while failing");

    term.run(&shell.export("BEDROCK_ENV_DURATION", "1h"));
    assert_eq!(region(&term.token()), "us-east-1", "fixed");
    term.run(&shell.export("BEDROCK_ENV_DURATION", "13h"));
    term.prompts(1);
    assert_eq!(count(&term, error), 2, "{}", term.screen());
    assert_eq!(term.token(), "", "the token is unset on failure");
}

/// A short-lived token is replaced in real time once it is inside the expiry margin.
fn expired_token_is_replaced(shell: Shell) {
    // Policy: a token with 10 s or less left counts as expired; so this one is replaced after
    // about 10 s, in the foreground (the background refresh waits 60 s between mints).
    let setup = Setup::new(&[
        ("BEDROCK_ENV_DURATION", "20s"),
        ("BEDROCK_ENV_THRESHOLD", "5s"),
    ]);
    let term = setup.start(shell, "");
    let first = term.token();
    let first_issued = issued(&first);
    let deadline = std::time::Instant::now() + PATIENCE;
    let second = loop {
        std::thread::sleep(Duration::from_secs(1));
        let token = term.token();
        assert!(!token.is_empty(), "the token vanished");
        if token != first {
            break token;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never replaced:\n{}",
            term.screen()
        );
    };
    assert!(issued(&second) > first_issued);
    assert_eq!(region(&second), "us-east-1");
    assert_quiet(&term);
}

/// A token inside the refresh threshold is handed out at once while a detached
/// `background-refresh` mints the next one; a later prompt picks that up from the cache.
fn refresh_happens_in_the_background(shell: Shell) {
    let setup = Setup::new(&[
        ("BEDROCK_ENV_DURATION", "150s"),
        ("BEDROCK_ENV_THRESHOLD", "60s"),
    ]);
    // Seed the cache with a token minted 2 minutes ago: 30 s left, inside the 60 s threshold,
    // and the last mint long enough ago for a refresh to be allowed.
    let getenv = setup.getenv();
    let request = Request {
        duration: Some("150s".into()),
        threshold: Some("60s".into()),
        ..Request::default()
    };
    let issued_at = now() - 120;
    let seeded = support::plant_record(&getenv, &request, issued_at, 150);

    let term = setup.start(shell, "");
    // The first prompt did not wait for a mint: it has the seeded token.
    assert_eq!(
        term.token(),
        seeded,
        "the current token is handed out at once"
    );
    let deadline = std::time::Instant::now() + PATIENCE;
    let fresh = loop {
        std::thread::sleep(Duration::from_secs(1));
        let token = term.token();
        if token != seeded {
            break token;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never refreshed:\n{}",
            term.screen()
        );
    };
    assert!(issued(&fresh) > issued_at);
    assert_eq!(region(&fresh), "us-east-1");
    assert_quiet(&term);
}

/// The binary disappears from PATH: the hook says nothing, keeps the token while it is valid
/// and unsets it once it is known to have expired.
fn missing_binary_is_quiet(shell: Shell) {
    let setup = Setup::new(&[
        ("BEDROCK_ENV_DURATION", "20s"),
        ("BEDROCK_ENV_THRESHOLD", "5s"),
    ]);
    let term = setup.start(shell, "");
    assert_eq!(region(&term.token()), "us-east-1");
    term.run("rm ~/bin/bedrock-env");
    let deadline = std::time::Instant::now() + PATIENCE;
    while !term.token().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the expired token was kept:\n{}",
            term.screen()
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    assert_eq!(
        term.run("printenv AWS_BEARER_TOKEN_BEDROCK_EXPIRATION")
            .trim(),
        ""
    );
    term.prompts(3);
    assert_quiet(&term);
}
